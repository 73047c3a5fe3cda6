// s1c_adamw.h — the one AdamW update (torch.optim.AdamW semantics), shared by the CPU backend's
// adamw op (kernels/cpu/cpu_adamw.c) and the host step of optimizer offload (train/host_adamw.c),
// so both give the same bits by construction rather than by two copies kept in step.
//   param *= 1 - lr*wd;  m.lerp_(g, 1-b1);  v = b2 v + (1-b2) g^2;
//   denom = sqrt(v) / sqrt(1 - b2^step) + eps;  param -= lr / (1 - b1^step) * m / denom
// Bias corrections are computed in double (torch does them on Python floats). Files that include
// this are built with -fno-math-errno: otherwise sqrtf's errno keeps the loop scalar (sqrt is
// correctly rounded either way, so the bits do not change).
#pragma once
#include <math.h>
#include <stddef.h>

typedef struct {
    float step_size, bc2_sqrt, decay, w1, w2, beta2, eps;
} s1c_adamw_coef;

static inline s1c_adamw_coef s1c_adamw_coef_of(float lr, float beta1, float beta2, float eps, float wd, int step) {
    const double bc1 = 1.0 - pow((double)beta1, (double)step);
    const double bc2 = 1.0 - pow((double)beta2, (double)step);
    s1c_adamw_coef c = {(float)((double)lr / bc1), (float)sqrt(bc2), (float)(1.0 - (double)lr * (double)wd),
                        1.0f - beta1, 1.0f - beta2, beta2, eps};
    return c;
}

// param, m, v [n] updated in place from grad [n] * grad_scale (OpenMP over n when large).
static inline void s1c_adamw_update(float *param, const float *grad, float *m, float *v, size_t n, float grad_scale,
                                    s1c_adamw_coef c) {
#pragma omp parallel for simd schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] * grad_scale;
        float p = param[i] * c.decay;
        float mi = m[i] + c.w1 * (g - m[i]);
        float vi = v[i] * c.beta2 + c.w2 * g * g;
        float denom = sqrtf(vi) / c.bc2_sqrt + c.eps;
        p = p - c.step_size * (mi / denom);
        m[i] = mi;
        v[i] = vi;
        param[i] = p;
    }
}
