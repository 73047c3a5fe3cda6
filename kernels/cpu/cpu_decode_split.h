// cpu_decode_split.h — CPU reference of split-KV (flash-decoding) decode attention: the algorithm
// the CUDA kernel runs (kernels/cuda/cuda_attn_decode.cu), in fp32, so the kernel can be tested
// against exactly what it computes and this against the plain decode attention (round-off only).
#ifndef S1C_CPU_DECODE_SPLIT_H
#define S1C_CPU_DECODE_SPLIT_H

#include "ops.h"

// out[T, nh * hd] (fp32) = attention of every row over positions 0..pos[t] of its sequence, the
// contract of s1c_backend.attention_decode, computed as: pass 1, for every (row t, KV head g,
// split s) and each q head of g, an online softmax over positions [s * split_len, (s + 1) *
// split_len) ∩ [0, pos[t]] giving max m, sum l and the unnormalised accumulator acc (empty range:
// m = -inf, l = 0, acc = 0); pass 2, per (row, q head): M = max_s m_s, w_s = exp(m_s - M),
// out = Σ w_s acc_s / Σ w_s l_s. qkv / k_cache / v_cache as attention_decode (fp32 host memory).
// ws: s1c_decode_split_ws_floats(T, nh, hd, n_splits) floats, laid out as the CUDA kernel's:
// acc at ((t * nh + h) * n_splits + s) * hd, then m and l at T*nh*n_splits*hd + 2 * that index.
void s1c_cpu_attention_decode_split(float *out, const float *qkv, const float *k_cache, const float *v_cache,
                                    const s1c_paged_shape *s, int n_splits, int split_len, float *ws);

#endif
