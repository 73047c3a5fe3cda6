// The field's metrics (metrics.h): the unbiased pass@k against values worked out by hand from
// 1 - C(n-c,k)/C(n,k), maj@k with answers equal under the grader voting together, accuracy's
// standard error over problems, MATH-500 per subject / level.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

int main(void) {
    // pass@k: n = 4, c = 1: k=1 → 1/4, k=2 → 1 - C(3,2)/C(4,2) = 1 - 3/6, k=4 → 1.
    CHECK(NEAR(s1c_pass_at_k(4, 1, 1), 0.25));
    CHECK(NEAR(s1c_pass_at_k(4, 1, 2), 0.5));
    CHECK(NEAR(s1c_pass_at_k(4, 1, 4), 1.0));
    CHECK(NEAR(s1c_pass_at_k(4, 0, 4), 0.0));
    CHECK(NEAR(s1c_pass_at_k(4, 2, 2), 1.0 - 1.0 / 6.0));     // C(2,2)/C(4,2)
    CHECK(NEAR(s1c_pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0));  // C(7,5)/C(10,5)
    CHECK(NEAR(s1c_pass_at_k(200, 0, 100), 0.0) && s1c_pass_at_k(200, 1, 100) > 0.49);  // no overflow

    // Three problems, four samples each.
    //  p0: answers 1/2, 0.5, 3, 3 (gold 1/2): the two halves tie with the two 3s; the tie goes to
    //      the answer seen first (1/2) → maj correct. 2 of 4 correct.
    //  p1: 7, 7, 7, 8 (gold 8): 7 wins → maj wrong; 1 of 4.
    //  p2: unextractable x3, 5 (gold 5): unextractable answers do not vote → maj correct; 1 of 4.
    const s1c_sample_stat s[] = {
        {0, 1, "\\frac{1}{2}", "Algebra", 2}, {0, 1, "0.5", "Algebra", 2}, {0, 0, "3", "Algebra", 2},
        {0, 0, "3", "Algebra", 2},            {1, 0, "7", "Geometry", 5},  {1, 0, "7", "Geometry", 5},
        {1, 0, "7", "Geometry", 5},           {1, 1, "8", "Geometry", 5},  {2, 0, NULL, "Algebra", 1},
        {2, 0, NULL, "Algebra", 1},           {2, 0, NULL, "Algebra", 1},  {2, 1, "5", "Algebra", 1},
    };
    s1c_run_point pt = {0};
    cJSON *m = s1c_metrics_summary(S1C_BENCH_MATH, s, 12, &pt);
    CHECK(m != NULL);
    CHECK(num(m, "problems") == 3 && num(m, "samples_per_problem") == 4 && pt.n_per_problem == 4);
    // per-problem accuracies 0.5, 0.25, 0.25: mean 1/3, sample sd = sqrt(0.0625 * 2/3 / 2 ...)
    double mean = (0.5 + 0.25 + 0.25) / 3, var = (pow(0.5 - mean, 2) + 2 * pow(0.25 - mean, 2)) / 2;
    CHECK(NEAR(num(m, "accuracy"), mean));
    CHECK(NEAR(pt.accuracy_stderr, sqrt(var / 3)), "%g vs %g", pt.accuracy_stderr, sqrt(var / 3));
    CHECK(NEAR(pt.maj_at_n, 2.0 / 3.0), "maj %g", pt.maj_at_n);
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(m, "pass_at_k");
    double p1 = (0.5 + 0.25 + 0.25) / 3, p2 = ((1 - 1.0 / 6) + 0.5 + 0.5) / 3;
    CHECK(NEAR(num(pk, "1"), p1) && NEAR(num(pk, "2"), p2) && NEAR(num(pk, "4"), 1.0));
    CHECK(NEAR(pt.pass_at_n, 1.0));
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(m, "by_subject");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(subj, "Algebra");
    CHECK(num(alg, "problems") == 2 && NEAR(num(alg, "acc"), (0.5 + 0.25) / 2));
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(m, "by_level");
    CHECK(num(cJSON_GetObjectItemCaseSensitive(lv, "5"), "problems") == 1);
    cJSON_Delete(m);

    // One sample per problem: pass@1 = maj@1 = accuracy; one problem: stderr 0 (undefined, not NaN).
    const s1c_sample_stat one[] = {{0, 1, "4", NULL, 0}};
    m = s1c_metrics_summary(S1C_BENCH_AIME, one, 1, &pt);
    CHECK(NEAR(pt.pass_at_n, 1.0) && NEAR(pt.maj_at_n, 1.0) && pt.accuracy_stderr == 0.0);
    CHECK(!cJSON_GetObjectItemCaseSensitive(m, "by_subject"));
    cJSON_Delete(m);
    return check_exit("test_infer_metrics");
}
