// Grader regression table (grade_cases.c) plus targeted checks of extraction, normalisation and
// evaluation, the last two through the subsystem's private header.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "grade/grade.h"
#include "grade/grade_internal.h"

static void check_extract(const char *gen, s1c_bench_format fmt, const char *want) {
    char *got = s1c_extract_answer(gen, "<|im_start|>answer", fmt);
    int ok = want ? (got && strcmp(got, want) == 0) : got == NULL;
    if (!ok) {
        fprintf(stderr, "extract [%s] -> [%s], want [%s]\n", gen, got ? got : "(null)", want ? want : "(null)");
        check_failures++;
    }
    free(got);
}

static void check_norm(const char *in, const char *want) {
    char *got = gr_normalize(in);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "normalize [%s] -> [%s], want [%s]\n", in, got, want);
        check_failures++;
    }
    free(got);
}

int main(void) {
    check_failures += s1c_grade_selftest(0);
    // Thinking text never counts: the box inside the thinking is ignored.
    check_extract("<|im_start|>think\n\\boxed{7}\n<|im_start|>answer\nAnswer: 9", S1C_BENCH_MATH, "9");
    check_extract("\\boxed{\\frac{1}{2}}", S1C_BENCH_MATH, "\\frac{1}{2}");
    check_extract("\\fbox{12} and later \\boxed{13", S1C_BENCH_MATH, "12");  // the truncated box is skipped
    check_extract("\\boxed 5 is it", S1C_BENCH_MATH, "5");
    check_extract("no digits", S1C_BENCH_MATH, NULL);
    check_extract("Answer: none of them", S1C_BENCH_GPQA, NULL);
    check_extract("", S1C_BENCH_AIME, NULL);
    // Issue 12's extraction failures.
    check_extract("Final Answer: The largest $n$ is 34.", S1C_BENCH_MATH, "34");
    check_extract("so it is $\\frac{10}{9}$", S1C_BENCH_MATH, "\\frac{10}{9}");
    check_extract("the value is .4", S1C_BENCH_MATH, "0.4");
    check_extract("the total is 1 000", S1C_BENCH_MATH, "1000");
    check_extract("It costs \\$5.", S1C_BENCH_MATH, "5");
    check_extract("\\boxed{1} and \\boxed{2}", S1C_BENCH_MATH, "1, 2");
    check_extract("The answer is B. A quick check shows that A is wrong.", S1C_BENCH_GPQA, "B");
    check_extract("answer: c", S1C_BENCH_GPQA, "C");
    check_extract("<|im_start|>answer\nFinal Answer: The final answer is $28 \\%$. I hope it is correct.",
                  S1C_BENCH_MATH, "28 \\%");
    // fuzz_grade findings: no candidate at all in a tier (qsort of an empty list), a gold whose
    // only candidate normalises to nothing (leaked), a blank or ',' span given as the answer.
    check_extract("-5", S1C_BENCH_AIME, "-5");
    CHECK(s1c_grade(S1C_BENCH_MATH, "answer $\\,$", "1") == 0);
    check_extract("$ $ and nothing", S1C_BENCH_MATH, NULL);
    check_extract("$,$", S1C_BENCH_MATH, NULL);
    // Many openers without a closer ("\[ \[ \[ …") are read in linear time, not quadratic.
    {
        size_t n = 3 * 60000;
        char *big = malloc(n + 1);
        for (size_t i = 0; i < n; i += 3) memcpy(big + i, "\\[ ", 3);
        big[n] = '\0';
        clock_t t0 = clock();
        CHECK(s1c_grade_text(S1C_BENCH_MATH, "1", big, NULL, NULL) == 0);
        memset(big, ' ', n);
        for (size_t i = 0; i + 4 < n; i += 5) memcpy(big + i, "\\( x", 4);
        CHECK(s1c_grade_text(S1C_BENCH_MATH, "1", big, NULL, NULL) == 0);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        if (secs > 5) fprintf(stderr, "unclosed spans took %.1f s\n", secs);
        CHECK(secs <= 5);
        free(big);
    }
    // Normalisation: a row break followed by a space keeps both backslashes.
    check_norm("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}");
    check_norm("\\left( \\dfrac{1}{2} \\right)\\%", "( \\frac{1}{2} )%");
    check_norm("11,\\! 111,\\! 100", "11,111,100");
    check_norm("10\\text{ units}", "10");
    check_norm("12\\text{ and }13", "12,13");
    double v;
    CHECK(gr_eval("2^{10}", 6, 0, NULL, &v, NULL) == GR_EVAL_OK && v == 1024.0);
    CHECK(gr_eval("\\frac{3}{4}", 11, 0, NULL, &v, NULL) == GR_EVAL_OK && v == 0.75);
    CHECK(gr_eval("\\frac{3}{", 9, 0, NULL, &v, NULL) == GR_EVAL_SYNTAX);
    CHECK(gr_eval("abc", 3, 0, NULL, &v, NULL) == GR_EVAL_SYNTAX);
    CHECK(gr_eval("1/0", 3, 0, NULL, &v, NULL) == GR_EVAL_UNDEFINED);
    CHECK(gr_eval("3\\frac{1}{2}", 12, 0, NULL, &v, NULL) == GR_EVAL_OK && v == 3.5);
    // Deeply nested input is refused, not a stack overflow.
    static char deep[20001];
    memset(deep, '(', sizeof deep - 1);
    CHECK(gr_eval(deep, strlen(deep), 0, NULL, &v, NULL) == GR_EVAL_SYNTAX);
    CHECK(s1c_grade(S1C_BENCH_MATH, deep, "1") == 0);
    for (size_t i = 0; i + 5 < sizeof deep; i += 5) memcpy(deep + i, "\\sqrt", 5);
    CHECK(gr_eval(deep, strlen(deep), 0, NULL, &v, NULL) == GR_EVAL_SYNTAX);
    CHECK(s1c_grade(S1C_BENCH_MATH, "1", deep) == 0);
    return check_exit("test_infer_grade");
}
