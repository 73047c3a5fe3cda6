// host_adamw.c — AdamW on a host-resident shard: the CPU backend's own update (common/s1c_adamw.h),
// so offloaded and device-resident steps give the same bits, plus the narrowing to the weight copy.
#include "host_adamw.h"

#include <string.h>

#include "s1c_adamw.h"
#include "s1c_bf16.h"
#include "s1c_err.h"

void s1c_host_adamw(float *param, uint16_t *out_bf16, float *out_f32, const float *grad, float *m, float *v,
                    size_t n, float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step) {
    S1C_ASSERT(step >= 1);
    s1c_adamw_update(param, grad, m, v, n, grad_scale, s1c_adamw_coef_of(lr, beta1, beta2, eps, wd, step));
    // The narrowing pass is separate so the update loop stays a pure fp32 stream; it re-reads
    // param from cache when the caller blocks the shard (the trainer passes unit-sized slices).
    if (out_bf16) {
#pragma omp parallel for simd schedule(static) if (n >= 65536)
        for (size_t i = 0; i < n; i++) out_bf16[i] = s1c_bf16_from_f32(param[i]);
    }
    if (out_f32 && out_f32 != param) memcpy(out_f32, param, n * sizeof(float));
}
