// The record formats pack reads (data/pack_formats.h, issue 13 §7): for each, the training text
// rendered and the exact text in the loss, decoded from the masked tokens of the byte-level
// tokenizer fixture. Expected texts follow TRL's formats and the Qwen2.5 chat template.
//   usage: test_pack_formats FIXTURES_DIR
#include <stdlib.h>
#include <string.h>

#include "dp_test.h"
#include "pack_formats.h"
#include "s1_format.h"
#include "tokenizer.h"

static const s1c_tokenizer *tok;

// Tokenizes `json` (one record) with o; checks the format used, the whole text and the loss text
// (loss tokens decoded end to end); want_err: the error expected instead (NULL: success).
static void expect(const s1c_format_opts *o, const char *json, s1c_record_format want_fmt, const char *want_text,
                   const char *want_loss, const char *want_err) {
    cJSON *rec = cJSON_Parse(json);
    CHECK(rec != NULL, "bad test JSON %s", json);
    if (!rec) return;
    s1c_ids ids = {0};
    unsigned char *mask = NULL;
    s1c_record_format used = S1C_FMT_AUTO;
    s1c_status st = s1c_format_tokenize(o, tok, rec, &ids, &mask, &used);
    cJSON_Delete(rec);
    if (want_err) {
        CHECK(st != S1C_OK, "%s: accepted", json);
        if (st != S1C_OK) CHECK_ERR_HAS(want_err);
        s1c_ids_free(&ids);
        free(mask);
        return;
    }
    CHECK(st == S1C_OK, "%s: %s", json, s1c_err_msg());
    if (st != S1C_OK) return;
    CHECK(used == want_fmt, "%s: read as format %d, want %d", json, (int)used, (int)want_fmt);
    char *text = NULL, *loss = NULL;
    size_t n = 0;
    int32_t *lid = malloc((ids.n + 1) * sizeof *lid);
    size_t nl = 0;
    for (size_t i = 0; i < ids.n; i++)
        if (mask[i]) lid[nl++] = ids.ids[i];
    CHECK(s1c_tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &n) == S1C_OK);
    CHECK(s1c_tokenizer_decode(tok, lid, nl, 0, &loss, &n) == S1C_OK);
    if (text && want_text) CHECK(!strcmp(text, want_text), "%s:\n text %s\n want %s", json, text, want_text);
    if (loss) CHECK(!strcmp(loss, want_loss), "%s:\n loss %s\n want %s", json, loss, want_loss);
    free(text);
    free(loss);
    free(lid);
    free(mask);
    s1c_ids_free(&ids);
}

#define SYS "<|im_start|>system\n" S1C_DEFAULT_SYSTEM "<|im_end|>\n"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_pack_formats FIXTURES_DIR\n");
        return 2;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/byte_tokenizer", argv[1]);
    s1c_tokenizer *t = s1c_tokenizer_load(dir);
    CHECK(t != NULL, "%s", s1c_err_msg());
    if (!t) return check_exit("test_pack_formats");
    tok = t;
    s1c_format_opts o = {0};
    s1c_fields_default(&o.fields);

    // messages: Qwen2.5 template with its default system turn; loss on every assistant turn
    // (content and <|im_end|>\n), not on the user's
    expect(&o,
           "{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}, {\"role\": \"assistant\", \"content\": \"4\"},"
           " {\"role\": \"user\", \"content\": \"3+3?\"}, {\"role\": \"assistant\", \"content\": \"6\"}]}",
           S1C_FMT_MESSAGES,
           SYS "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\n3+3?<|im_end|>\n"
               "<|im_start|>assistant\n6<|im_end|>\n",
           "4<|im_end|>\n6<|im_end|>\n", NULL);
    // the list's own system turn wins over --system; --system replaces the default otherwise
    o.system = "Be brief.";
    expect(&o, "{\"messages\": [{\"role\": \"system\", \"content\": \"Own.\"}, {\"role\": \"user\", \"content\": \"q\"},"
               " {\"role\": \"assistant\", \"content\": \"a\"}]}",
           S1C_FMT_MESSAGES, "<|im_start|>system\nOwn.<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\na<|im_end|>\n",
           "a<|im_end|>\n", NULL);
    expect(&o, "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}",
           S1C_FMT_MESSAGES,
           "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\na<|im_end|>\n",
           "a<|im_end|>\n", NULL);
    o.system = NULL;
    expect(&o, "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}", S1C_FMT_MESSAGES, NULL, "",
           "no assistant turn");
    expect(&o, "{\"messages\": [{\"role\": \"user\", \"content\": 3}]}", S1C_FMT_MESSAGES, NULL, "",
           "field 'messages[0].content': expected a string, got a number");

    // prompt/completion, plain strings: no template, loss on the completion only
    expect(&o, "{\"prompt\": \"Q: 2+2=\", \"completion\": \" 4\"}", S1C_FMT_PROMPT_COMPLETION, "Q: 2+2= 4", " 4", NULL);
    // conversational: the template; loss on the completion's turns
    expect(&o, "{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}], \"completion\": [{\"role\": \"assistant\", "
               "\"content\": \"hello\"}]}",
           S1C_FMT_PROMPT_COMPLETION, SYS "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n",
           "hello<|im_end|>\n", NULL);
    expect(&o, "{\"prompt\": \"x\", \"completion\": [1]}", S1C_FMT_PROMPT_COMPLETION, NULL, "",
           "expected two strings or two lists of messages");

    // text: loss after each response template up to the next instruction template
    expect(&o,
           "{\"text\": \"<|im_start|>system\\nS<|im_end|>\\n<|im_start|>user\\nq<|im_end|>\\n<|im_start|>assistant\\nans"
           "<|im_end|>\\n<|im_start|>user\\nq2<|im_end|>\\n<|im_start|>assistant\\nans2<|im_end|>\\n\"}",
           S1C_FMT_TEXT, NULL, "ans<|im_end|>\nans2<|im_end|>\n", NULL);
    expect(&o, "{\"text\": \"no template here\"}", S1C_FMT_TEXT, NULL, "", "response template");
    o.response_template = "### Answer:";
    expect(&o, "{\"text\": \"### Question: q ### Answer: a\"}", S1C_FMT_TEXT, NULL, " a", NULL);
    o.response_template = NULL;

    // s1K-1.1 recognised by its fields: the deepseek trace (as s1.1), else gemini; the s1 schema
    // otherwise, and field names given turn the recognition off
    const char *s11 = "{\"question\": \"q\", \"deepseek_thinking_trajectory\": \"dt\", \"deepseek_attempt\": \"da\", "
                      "\"gemini_thinking_trajectory\": \"gt\", \"gemini_attempt\": \"ga\"}";
    size_t ls;
    const char *dt[] = {"dt"};
    char *want = s1c_s1_training_text("q", dt, 1, "da", &ls);
    expect(&o, s11, S1C_FMT_S1_DEEPSEEK, want, want + ls, NULL);
    free(want);
    const char *gt[] = {"gt"};
    want = s1c_s1_training_text("q", gt, 1, "ga", &ls);
    expect(&o, "{\"question\": \"q\", \"gemini_thinking_trajectory\": \"gt\", \"gemini_attempt\": \"ga\"}",
           S1C_FMT_S1_GEMINI, want, want + ls, NULL);
    free(want);
    const char *tt[] = {"t1", "t2"};
    want = s1c_s1_training_text("q", tt, 2, "a", &ls);
    expect(&o, "{\"question\": \"q\", \"thinking_trajectories\": [\"t1\", \"t2\"], \"attempt\": \"a\"}", S1C_FMT_S1, want,
           want + ls, NULL);
    free(want);
    o.fields_given = 1;
    expect(&o, s11, S1C_FMT_S1, NULL, "", "missing or null field 'attempt'");
    o.fields_given = 0;
    // --system in the s1 schema
    o.system = "Sys.";
    want = s1c_s1_training_text_system("Sys.", "q", tt, 2, "a", &ls);
    CHECK(strstr(want, "<|im_start|>system\nSys.<|im_end|>\n") == want, "system turn: %s", want);
    expect(&o, "{\"question\": \"q\", \"thinking_trajectories\": [\"t1\", \"t2\"], \"attempt\": \"a\"}", S1C_FMT_S1, want,
           want + ls, NULL);
    free(want);
    o.system = NULL;
    // --format forces a reading
    o.forced = S1C_FMT_TEXT;
    expect(&o, "{\"messages\": [], \"text\": \"<|im_start|>assistant\\nx\"}", S1C_FMT_TEXT, NULL, "x", NULL);
    s1c_tokenizer_free(t);
    return check_exit("test_pack_formats");
}
