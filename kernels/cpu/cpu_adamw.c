// cpu_adamw.c — AdamW step (torch.optim.AdamW semantics) and the sum of squares for grad norms.
#include "cpu_internal.h"
#include "s1c_adamw.h"

// torch.optim.AdamW (single-tensor path), operation for operation: common/s1c_adamw.h.
void cpu_adamw(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
               float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step) {
    (void)be;
    S1C_ASSERT(step >= 1);
    float *pa = param_act;  // [n] fp32 on CPU, or NULL
    s1c_adamw_update(param, grad, m, v, n, grad_scale, s1c_adamw_coef_of(lr, beta1, beta2, eps, wd, step));
    if (pa && pa != param) memcpy(pa, param, n * sizeof(float));
}

void cpu_sumsq_accumulate(s1c_backend *be, float *out, const float *x, size_t n) {
    (void)be;
    // Double accumulation: a 32B-parameter model's gradient has ~1e10 terms; fp32 partial sums
    // would lose the small ones entirely.
    double s = 0.0;
#pragma omp parallel for simd reduction(+ : s) schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    *out += (float)s;
}
