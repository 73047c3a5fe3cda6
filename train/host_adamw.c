// host_adamw.c — AdamW on a host-resident shard: OpenMP over cache-sized blocks, a vectorisable
// inner loop. Arithmetic mirrors kernels/cpu/cpu_adamw.c operation for operation (bit-identity).
#include "host_adamw.h"

#include <math.h>
#include <string.h>

#include "s1c_bf16.h"
#include "s1c_err.h"

void s1c_host_adamw(float *param, uint16_t *out_bf16, float *out_f32, const float *grad, float *m, float *v,
                    size_t n, float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step) {
    S1C_ASSERT(step >= 1);
    // Bias corrections in double, exactly as the backend op computes them.
    double bc1 = 1.0 - pow((double)beta1, (double)step);
    double bc2 = 1.0 - pow((double)beta2, (double)step);
    float step_size = (float)((double)lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = (float)(1.0 - (double)lr * (double)wd);
    float w1 = 1.0f - beta1, w2 = 1.0f - beta2;
#pragma omp parallel for simd schedule(static) if (n >= 65536)
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] * grad_scale;
        float p = param[i] * decay;
        float mi = m[i] + w1 * (g - m[i]);
        float vi = v[i] * beta2 + w2 * g * g;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p = p - step_size * (mi / denom);
        m[i] = mi;
        v[i] = vi;
        param[i] = p;
    }
    // The narrowing pass is separate so the update loop stays a pure fp32 stream; it re-reads
    // param from cache when the caller blocks the shard (the trainer passes unit-sized slices).
    if (out_bf16) {
#pragma omp parallel for simd schedule(static) if (n >= 65536)
        for (size_t i = 0; i < n; i++) out_bf16[i] = s1c_bf16_from_f32(param[i]);
    }
    if (out_f32 && out_f32 != param) memcpy(out_f32, param, n * sizeof(float));
}
