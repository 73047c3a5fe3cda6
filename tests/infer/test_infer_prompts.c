// The prompts-file parser of `s1c-infer generate --prompts` (infer/prompts.h). Cases come from
// fuzzing it (tests/fuzz/fuzz_prompts): line numbers that skipped blank lines, JSON lines with
// trailing garbage, NUL bytes that silently cut the file, and text that is not UTF-8.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "eval.h"
#include "prompts.h"
#include "s1_format.h"

// The eval prompt (issue 12 §4): with the defaults it is the s1 format byte for byte; --system,
// --template and the s1 newline placement change exactly their part.
static void eval_prompts(void) {
    s1c_eval_opts o;
    s1c_eval_opts_default(&o);
    char *a = s1c_eval_prompt(&o, NULL, "What is 1+1?", NULL), *b = s1c_s1_prompt("What is 1+1?", NULL);
    // Default (s1): the prompt stops at "<|im_start|>think", the model writes the newline.
    size_t nb = strlen(b);
    CHECK(strlen(a) + 1 == nb && !strncmp(a, b, nb - 1) && b[nb - 1] == '\n', "%s", a);
    free(a);
    o.model_writes_newline = 0;  // --think-newline prompt: the s1c training format's prompt
    a = s1c_eval_prompt(&o, NULL, "What is 1+1?", NULL);
    CHECK(!strcmp(a, b), "%s", a);
    free(a);
    free(b);
    a = s1c_eval_prompt(&o, s1c_eval_default_template(S1C_BENCH_MATH), "Q", "Think for up to 8 tokens.");
    b = s1c_s1_prompt("Q", "Think for up to 8 tokens.");
    CHECK(!strcmp(a, b), "%s", a);
    free(a);
    free(b);
    o.system = "";
    o.model_writes_newline = 1;
    a = s1c_eval_prompt(&o, "Solve: {question} ({question})", "Q", NULL);
    CHECK(!strcmp(a, "<|im_start|>user\nSolve: Q (Q)<|im_end|>\n<|im_start|>assistant\n<|im_start|>think"), "%s", a);
    free(a);
    o.system = "Be brief.";
    a = s1c_eval_prompt(&o, s1c_eval_default_template(S1C_BENCH_GPQA), "Q\n\n(A) x", NULL);
    CHECK(!strncmp(a, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nAnswer this multiple-choice", 75), "%s", a);
    CHECK(strstr(a, "'Answer: X'") && strstr(a, "\n\nQ\n\n(A) x<|im_end|>"), "%s", a);
    free(a);
}

// Parses a copy of text[len] (the parser writes into its buffer) and compares with want[n_want],
// or, when needle is set, expects failure with needle in the message.
static void expect(const char *what, const char *text, size_t len, const char *const *want, int n_want,
                   const char *needle) {
    char *buf = malloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    const char **p = NULL;
    int n = -1;
    s1c_status st = s1c_prompts_parse("p.txt", buf, len, &p, &n);
    if (needle) {
        CHECK(st != S1C_OK && strstr(s1c_err_msg(), needle) && p == NULL && n == 0, "%s: expected \"%s\", got %s",
              what, needle, st ? s1c_err_msg() : "success");
    } else {
        CHECK(st == S1C_OK && n == n_want, "%s: %d prompts (%s)", what, n, st ? s1c_err_msg() : "ok");
        for (int i = 0; st == S1C_OK && i < n && i < n_want; i++)
            CHECK(strcmp(p[i], want[i]) == 0, "%s: prompt %d is \"%s\", expected \"%s\"", what, i, p[i], want[i]);
    }
    free(p);
    free(buf);
}
#define EXPECT_OK(what, lit, ...)                                                              \
    do {                                                                                       \
        static const char *const w_[] = {__VA_ARGS__};                                          \
        expect(what, lit, sizeof(lit) - 1, w_, (int)(sizeof w_ / sizeof w_[0]), NULL);          \
    } while (0)
#define EXPECT_ERR(what, lit, needle) expect(what, lit, sizeof(lit) - 1, NULL, 0, needle)

int main(void) {
    eval_prompts();
    EXPECT_OK("mixed", "What is 2+2?\n\n{\"prompt\": \"Solve \\u00e9 x^2=4\\n\"}\r\n{\"question\": \"q\", \"prompt\": 3}\n"
              "   \nplain line",
              "What is 2+2?", "Solve \xc3\xa9 x^2=4\n", "q", "plain line");
    EXPECT_OK("crlf", "a\r\nb\r\n", "a", "b");
    EXPECT_OK("problem key", "{\"Problem\": \"P\"}\n", "P");
    // Line numbers count every line: the bad JSON is on line 4 (blank lines were not counted before).
    EXPECT_ERR("line number", "a\n\n\n{\"text\": \"x\"}\n", "p.txt:4: a JSON line needs a \"prompt\" string");
    EXPECT_ERR("trailing garbage", "{\"prompt\": \"x\"} and more\n", "p.txt:1: a line starting with '{' must be one JSON");
    EXPECT_ERR("NUL byte", "a\nb\0c\nd\n", "p.txt:2: NUL byte");
    EXPECT_ERR("not UTF-8", "ok\nfine\nbad \xc3\x28 text\n", "p.txt:3: not valid UTF-8 at byte 4");
    EXPECT_ERR("empty prompt", "{\"prompt\": \"\"}\n", "p.txt:1: the \"prompt\" string is empty");
    EXPECT_ERR("blank file", "\n  \n\t\n", "p.txt: no prompts");
    EXPECT_ERR("empty file", "", "p.txt: no prompts");
    return check_exit("test_infer_prompts");
}
