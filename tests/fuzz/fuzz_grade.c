// fuzz_grade — answer extraction and grading on arbitrary model output (this runs on every
// generated sample, and `s1c-infer grade` on every input line). Input: an options byte, then
// "gold\0generation". Extraction, normalisation, parsing, evaluation and grading must never
// crash; an extracted GPQA answer is one letter that grades against itself; an extracted
// MATH / AIME answer that is a bare answer (no math delimiters, box or "answer") equals itself.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_util.h"
#include "grade/grade.h"
#include "grade/grade_internal.h"

static int bare(const char *s) {
    if (strlen(s) > 300 || strpbrk(s, "$\n") || strstr(s, "\\(") || strstr(s, "\\[") || strstr(s, "boxed") ||
        strstr(s, "fbox"))
        return 0;
    for (const char *p = s; *p; p++)
        if (strncasecmp(p, "answer", 6) == 0) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    s1c_bench_format fmt = (s1c_bench_format)(data[0] % 3);
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    const uint8_t *sep = memchr(body, 0, n);
    size_t gold_len = sep ? (size_t)(sep - body) : 0;
    char *gold = fuzz_cstr(body, gold_len);
    char *gen = sep ? fuzz_cstr(sep + 1, n - gold_len - 1) : fuzz_cstr(body, n);

    char *pred = s1c_extract_answer(gen, (data[0] & 4) ? "</think>" : NULL, fmt);
    int g = s1c_grade(fmt, gold, pred);
    FUZZ_CHECK(g == 0 || g == 1);
    if (pred && fmt == S1C_BENCH_GPQA) FUZZ_CHECK(strlen(pred) == 1 && pred[0] >= 'A' && pred[0] <= 'D');
    if (pred && fmt == S1C_BENCH_GPQA) FUZZ_CHECK(s1c_grade(fmt, pred, pred) == 1);
    if (pred && fmt == S1C_BENCH_MATH && bare(pred)) FUZZ_CHECK(s1c_grade(fmt, pred, pred) == 1);

    s1c_grade_opts o;
    s1c_grade_opts_default(&o);
    o.targets = 1 + (data[0] >> 3) % 3;
    o.strict = !(data[0] & 32);
    o.set_relation = (data[0] & 64) != 0;
    o.float_digits = (data[0] >> 4) % 8;
    char *extracted = NULL;
    int t = s1c_grade_text(fmt, gold, gen, &o, &extracted);
    FUZZ_CHECK(t == 0 || t == 1);
    free(extracted);

    // The pieces on the raw text too.
    char *norm = gr_normalize(gen);
    FUZZ_CHECK(norm != NULL);
    gr_node *tree = gr_parse(norm);
    gr_node_free(tree);
    for (int k = 0; k < 3; k++) {
        double v;
        int has_vars;
        (void)gr_eval(norm, strlen(norm), k, NULL, &v, &has_vars);
    }
    free(norm);
    char *boxed = gr_boxed_last(gen, strlen(gen));
    free(boxed);
    free(pred);
    free(gen);
    free(gold);
    return 0;
}
