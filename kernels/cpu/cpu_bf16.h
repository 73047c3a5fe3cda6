// cpu_bf16.h — private to the "cpu-bf16" backend (cpu_bf16_*.c): bf16 <-> fp32 conversion with
// the CUDA backend's rounding, and the growing fp32 scratch the wrapped ops widen into.
//
// The backend exists for tests: it gives the code above the kernels (model/, train/, infer/) the
// GPU's storage numerics (act buffers of 2-byte bf16 elements, one round-to-nearest-even per op
// output) and its memory split (separate act copies of weights) on a CPU. It is not fast.
#ifndef S1C_CPU_BF16_H
#define S1C_CPU_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ops.h"
#include "s1c_bf16.h"

// fp32 -> bf16 bits, round to nearest even (what __float2bfloat16_rn does; a NaN stays a quiet
// NaN of the same sign) and back: common/s1c_bf16.h, shared with mpi/'s host bf16 reductions.
static inline uint16_t bf16_from_f32(float x) { return s1c_bf16_from_f32(x); }
static inline float bf16_to_f32(uint16_t h) { return s1c_bf16_to_f32(h); }

// dst[n] (fp32) <- src[n] (bf16) and dst[n] (bf16) <- src[n] (fp32, rounded).
void bf16_widen(float *dst, const void *src, size_t n);
void bf16_narrow(void *dst, const float *src, size_t n);

// Scratch slots: each grows to the largest request seen and is then reused, so a steady state
// (the same shapes every step) allocates nothing. An op uses distinct slots for its operands.
enum { BF16_SLOTS = 6, BF16_ISLOTS = 2 };

typedef struct {
    s1c_backend *f32;  // the fp32 CPU backend whose ops do the arithmetic
    float *buf[BF16_SLOTS];
    size_t cap[BF16_SLOTS];     // elements
    int32_t *ibuf[BF16_ISLOTS];
    size_t icap[BF16_ISLOTS];   // elements
} bf16_state;

static inline bf16_state *bf16_st(s1c_backend *be) { return (bf16_state *)be->impl; }

// Slot k with room for n floats (contents undefined). Aborts on out of memory: ops cannot fail
// (ops.h), and this backend is a test instrument.
float *bf16_scratch(s1c_backend *be, int k, size_t n);
int32_t *bf16_iscratch(s1c_backend *be, int k, size_t n);
// Slot k holding src[n] widened; NULL when src is NULL.
const float *bf16_in(s1c_backend *be, int k, const void *src, size_t n);

// Op implementations (cpu_bf16_ops.c, cpu_bf16_decode.c) behind the table in cpu_bf16_backend.c.
void bf16_add_inplace(s1c_backend *be, void *x, const void *y, size_t n);
void bf16_embedding_fwd(s1c_backend *be, void *out, const int32_t *ids, const void *wte, int T, int C);
void bf16_embedding_bwd(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids, int T, int C);
void bf16_rmsnorm_fwd(s1c_backend *be, void *out, float *rstd, const void *inp, const void *w, int T, int C,
                      float eps);
void bf16_rmsnorm_bwd(s1c_backend *be, void *dinp_accumulate, float *dw, const void *dout, const void *inp,
                      const void *w, const float *rstd, int T, int C);
void bf16_rope_fwd(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                   int n_kv_head, int head_dim);
void bf16_rope_bwd(s1c_backend *be, void *dqkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                   int n_kv_head, int head_dim);
void bf16_attention_fwd(s1c_backend *be, void *out, float *lse, const void *qkv, const s1c_attn_shape *s);
void bf16_attention_bwd(s1c_backend *be, void *dqkv, const void *dout, const void *qkv, const void *out,
                        const float *lse, const s1c_attn_shape *s);
void bf16_matmul_fwd(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                     int OC);
void bf16_matmul_bwd(s1c_backend *be, void *dinp, float *dw, float *dbias, const void *dout, const void *inp,
                     const void *w, int T, int IC, int OC, int accumulate_dinp);
void bf16_swiglu_fwd(s1c_backend *be, void *out, const void *gu, int T, int I);
void bf16_swiglu_bwd(s1c_backend *be, void *dgu, const void *dout, const void *gu, int T, int I);
void bf16_lmhead_ce(s1c_backend *be, float *loss_out, void *dh, float *dw_lm, const void *h, const void *w_lm,
                    const int32_t *targets, const float *weight, int T, int C, int V);
void bf16_adamw(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
                float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step);
void bf16_kv_cache_write(s1c_backend *be, void *k_cache, void *v_cache, const void *qkv, const int32_t *slot, int T,
                         int n_head, int n_kv_head, int head_dim);
void bf16_attention_decode(s1c_backend *be, void *out, const void *qkv, const void *k_cache, const void *v_cache,
                           const s1c_paged_shape *s);
void bf16_matmul_decode(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                        int OC);

#endif
