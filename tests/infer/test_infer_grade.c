// Grader self-test table plus targeted checks of extraction and normalisation.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "grade/grade.h"

static void check_extract(const char *gen, s1c_bench_format fmt, const char *want) {
    char *got = s1c_extract_answer(gen, "<|im_start|>answer", fmt);
    int ok = want ? (got && strcmp(got, want) == 0) : got == NULL;
    if (!ok) {
        fprintf(stderr, "extract [%s] -> [%s], want [%s]\n", gen, got ? got : "(null)", want ? want : "(null)");
        check_failures++;
    }
    free(got);
}

int main(void) {
    check_failures += s1c_grade_selftest(0);
    // Thinking text never counts: the number inside the thinking is ignored.
    check_extract("<|im_start|>think\n\\boxed{7}\n<|im_start|>answer\nAnswer: 9", S1C_BENCH_MATH, "9");
    check_extract("\\boxed{\\frac{1}{2}}", S1C_BENCH_MATH, "\\frac{1}{2}");
    check_extract("\\fbox{12} and later \\boxed{13", S1C_BENCH_MATH, "12");  // unbalanced last one skipped
    check_extract("\\boxed 5 is it", S1C_BENCH_MATH, "5");
    check_extract("no digits", S1C_BENCH_MATH, NULL);
    check_extract("Answer: none of them", S1C_BENCH_GPQA, NULL);
    check_extract("", S1C_BENCH_AIME, NULL);
    int pct = 0;
    char *n = s1c_math_normalize("\\left( \\dfrac{1}{2} \\right)\\%", &pct);
    CHECK(strcmp(n, "(\\frac{1}{2})") == 0 && pct == 1);
    free(n);
    double v;
    CHECK(s1c_math_eval("2^{10}", 0, &v, NULL) && v == 1024.0);
    CHECK(s1c_math_eval("\\frac{3}{4}", 0, &v, NULL) && v == 0.75);
    CHECK(!s1c_math_eval("\\frac{3}{", 0, &v, NULL));
    CHECK(!s1c_math_eval("abc", 0, &v, NULL));
    // Deeply nested input is refused, not a stack overflow.
    char deep[5000];
    memset(deep, '(', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    CHECK(!s1c_math_eval(deep, 0, &v, NULL));
    CHECK(s1c_math_equiv(deep, "1") == 0);
    return check_exit("test_infer_grade");
}
