// host_adamw.h — AdamW on a host-resident optimizer shard (issue 17, optimizer offload).
#pragma once
#include <stddef.h>
#include <stdint.h>

// One AdamW step on host memory, with the same fp32 arithmetic in the same order as the
// backends' adamw op (kernels/cpu/cpu_adamw.c), so an offloaded shard ends bit-identical to a
// device-resident one.
//   param [n] fp32 master (updated), m, v [n] fp32 moments (updated), grad [n] fp32 (read).
//   out_bf16 [n] or NULL: the new weights rounded to bf16 (RNE, as the bf16 backends narrow).
//   out_f32  [n] or NULL: a copy of the new fp32 weights (the fp32 backends' act copy).
void s1c_host_adamw(float *param, uint16_t *out_bf16, float *out_f32, const float *grad, float *m, float *v,
                    size_t n, float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step);
