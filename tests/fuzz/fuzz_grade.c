// fuzz_grade — answer extraction and grading on arbitrary model output (this runs on every
// generated sample). Input: format byte, then "gold\0generation". Extraction, normalisation,
// evaluation and grading must never crash; grading a prediction against itself must succeed
// whenever the prediction normalises to something non-empty.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "grade/grade.h"

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
    char *boxed = s1c_last_boxed(gen);
    int g = s1c_grade(fmt, gold, pred);
    FUZZ_CHECK(g == 0 || g == 1);
    if (pred && fmt == S1C_BENCH_GPQA) FUZZ_CHECK(strlen(pred) == 1 && pred[0] >= 'A' && pred[0] <= 'D');
    if (pred && fmt == S1C_BENCH_GPQA) FUZZ_CHECK(s1c_grade(fmt, pred, pred) == 1);
    (void)s1c_math_equiv(gold, gen);
    int percent = 0;
    char *norm = s1c_math_normalize(gen, &percent);
    FUZZ_CHECK(norm != NULL);
    for (int k = 0; k < 3; k++) {
        double v;
        int has_vars;
        (void)s1c_math_eval(norm, k, &v, &has_vars);
    }
    free(norm);
    free(boxed);
    free(pred);
    free(gen);
    free(gold);
    return 0;
}
