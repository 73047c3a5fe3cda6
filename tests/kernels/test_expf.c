// test_expf.c — the CPU backend's vectorisable exp (used by every softmax and SwiGLU) against
// libm's double exp over the whole range a max-subtracted softmax or a sigmoid can feed it.
#include "../../kernels/cpu/cpu_internal.h"
#include "kt.h"

#include <float.h>

int main(void) {
    double worst = 0, worst_x = 0;
    // about every 1/1024 from -87 to 88.3, plus random points
    kt_rng r = {5};
    for (int k = 0; k < 400000; k++) {
        float x = k < 180000 ? (float)(-87.0 + 175.3 * k / 180000.0) : (float)(87.0 * kt_uniform(&r));
        double want = exp((double)x), got = cpu_expf(x);
        double rel = fabs(got - want) / want;
        if (rel > worst || rel != rel) worst = rel != rel ? INFINITY : rel, worst_x = x;
    }
    printf("worst at x = %.6f\n", worst_x);
    // Range reduction and the degree-7 series give ~1-2 ulp (2^-24 = 6e-8 per ulp): 3e-7 allows
    // 5 ulp, far below anything that would show in the op tolerances yet catching a wrong constant.
    kt_check("cpu_expf relative error on [-87, 88.3]", worst, 3e-7);
    kt_check_true("cpu_expf(0) == 1 exactly", cpu_expf(0.0f) == 1.0f);
    kt_check_true("cpu_expf(-inf) == 0 and cpu_expf(-100) == 0 (masked softmax entries)",
                  cpu_expf(-INFINITY) == 0.0f && cpu_expf(-100.0f) == 0.0f);
    kt_check_true("cpu_expf is monotone across a range-reduction boundary",
                  cpu_expf(0.34657f) <= cpu_expf(0.34658f) && cpu_expf(-0.34658f) <= cpu_expf(-0.34657f));
    // A diverging run feeds NaN and +inf to the softmaxes: NaN must come out as NaN (not a number
    // built from an undefined float-to-int conversion, which UBSan reports) and +inf saturates.
    kt_check_true("cpu_expf(NaN) is NaN", cpu_expf(NAN) != cpu_expf(NAN));
    kt_check_true("cpu_expf(+inf) and cpu_expf(1000) are finite and large",
                  cpu_expf(INFINITY) > 1e38f && cpu_expf(1000.0f) > 1e38f && cpu_expf(INFINITY) <= FLT_MAX);
    return check_exit("test_expf");
}
