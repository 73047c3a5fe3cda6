// cpu_internal.h — private to the CPU backend: the op implementations behind the table in
// cpu_backend.c, the GEMM threading policy and a vectorisable exp.
#ifndef S1C_CPU_INTERNAL_H
#define S1C_CPU_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops.h"

// ---- GEMM (cpu_blas.c) ----------------------------------------------------------------------
// Row-major C[M, N] = alpha * op(A) op(B) + beta * C through OpenBLAS with its own threads.
// Called only outside OpenMP parallel regions (OpenBLAS's threads and OpenMP's would otherwise
// compete for the same cores).
void cpu_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
// The same GEMM on the calling thread only, for use inside an OpenMP region that owns the
// parallelism (attention tiles). Must be bracketed by cpu_gemm_serial_begin/end outside the region.
void cpu_gemm_serial(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);
// Makes OpenBLAS single-threaded for the duration of one OpenMP region, so each OpenMP thread
// runs its own small GEMMs without spawning OpenBLAS workers; _end restores the previous count.
int cpu_gemm_serial_begin(void);
void cpu_gemm_serial_end(int saved);
// Aligns OpenBLAS's thread count with OpenMP's (both default to the core count, but
// OMP_NUM_THREADS alone must not leave OpenBLAS oversubscribing).
void cpu_threads_init(void);

// ---- ops (one file per concern) ----------------------------------------------------------------
void cpu_embedding_fwd(s1c_backend *be, void *out, const int32_t *ids, const void *wte, int T, int C);
void cpu_embedding_bwd(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids, int T, int C);
void cpu_rmsnorm_fwd(s1c_backend *be, void *out, float *rstd, const void *inp, const void *w, int T, int C,
                     float eps);
void cpu_rmsnorm_bwd(s1c_backend *be, void *dinp_accumulate, float *dw, const void *dout, const void *inp,
                     const void *w, const float *rstd, int T, int C);
void cpu_rope_fwd(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                  int n_kv_head, int head_dim);
void cpu_rope_bwd(s1c_backend *be, void *dqkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                  int n_kv_head, int head_dim);
void cpu_attention_fwd(s1c_backend *be, void *out, float *lse, const void *qkv, const s1c_attn_shape *s);
void cpu_attention_bwd(s1c_backend *be, void *dqkv, const void *dout, const void *qkv, const void *out,
                       const float *lse, const s1c_attn_shape *s);
void cpu_matmul_fwd(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                    int OC);
void cpu_matmul_bwd(s1c_backend *be, void *dinp, float *dw, float *dbias, const void *dout, const void *inp,
                    const void *w, int T, int IC, int OC, int accumulate_dinp);
void cpu_swiglu_fwd(s1c_backend *be, void *out, const void *gu, int T, int I);
void cpu_swiglu_bwd(s1c_backend *be, void *dgu, const void *dout, const void *gu, int T, int I);
void cpu_lmhead_ce(s1c_backend *be, float *loss_out, void *dh, float *dw_lm, const void *h, const void *w_lm,
                   const int32_t *targets, const float *weight, int T, int C, int V);
void cpu_adamw(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
               float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step);
void cpu_sumsq_accumulate(s1c_backend *be, float *out, const float *x, size_t n);
// Paged KV cache and decode (cpu_attention_decode.c), fp32 gradient add (cpu_add_f32.c).
void s1c_cpu_kv_cache_write(s1c_backend *be, void *k_cache, void *v_cache, const void *qkv, const int32_t *slot,
                            int T, int n_head, int n_kv_head, int head_dim);
void s1c_cpu_attention_decode(s1c_backend *be, void *out, const void *qkv, const void *k_cache, const void *v_cache,
                              const s1c_paged_shape *s);
void s1c_cpu_matmul_decode(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                           int OC);
void s1c_cpu_add_f32(s1c_backend *be, float *x, const float *y, size_t n);
// The k and v heads of each qkv row into its cache slot, elements of esz bytes (fp32 and bf16 caches).
void s1c_cpu_kv_rows_copy(void *k_cache, void *v_cache, const void *qkv, const int32_t *slot, int T, int n_head,
                          int n_kv_head, int head_dim, size_t esz);
// bf16 matrix weights (cpu_wbf16_matmul.c): the ops.h matmul_wbf16 / embedding_wbf16, the
// widening (dst[n] <- src[n] exactly) and the name of the instruction path CPUID chose.
void s1c_cpu_matmul_wbf16(s1c_backend *be, void *out, const void *inp, const uint16_t *w, const float *bias, int T,
                          int IC, int OC);
void s1c_cpu_embedding_wbf16(s1c_backend *be, void *out, const int32_t *ids, const uint16_t *wte, int T, int C);
void s1c_cpu_widen_bf16(float *dst, const uint16_t *src, size_t n);
const char *s1c_cpu_wbf16_isa(void);
// The path of a matmul_wbf16 of more than 8 rows on this backend: the ISA's name, "avx512" in place
// of "avx512bf16" when be->wbf16_exact is set (be may be NULL: the default).
const char *s1c_cpu_wbf16_gemm_path(const s1c_backend *be);
void s1c_cpu_argmax_rows(s1c_backend *be, int32_t *ids, float *x, int rows, int n, int ld, const int32_t *banned,
                         int max_banned);

// ---- exp that the compiler can vectorise ------------------------------------------------------
// libm's expf is a call the vectoriser cannot inline without -ffast-math, and the softmaxes of
// attention and the LM head evaluate hundreds of millions of them per step. Range reduction
// x = n ln2 + r (|r| <= ln2/2, ln2 split in two parts so n*ln2 is exact), exp(r) by its Taylor
// series to degree 7 (truncation < 6e-9 relative, below fp32's half-ulp 6e-8), 2^n by building
// the exponent bits. Returns 0 below -87.3 (where expf would go subnormal; a softmax weight that
// small is 0 to fp32 anyway) and saturates above 88.3 (keeps 2^n finite; unreachable for max-subtracted inputs).
// NaN gives NaN: the clamp is written so that NaN (every comparison false) reduces to `lo`, so the
// float-to-int conversion and the exponent shift below only ever see n in [-126, 128] (converting
// NaN to int and shifting a negative value were undefined behaviour), and the NaN is put back at the end.
static inline float cpu_expf(float x) {
    const float lo = -87.3f, hi = 88.3f;
    float xc = x > lo ? (x < hi ? x : hi) : lo;
    // n = round(x / ln2) by the 1.5 * 2^23 trick (floorf does not vectorise without -ffast-math).
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = fmaf(n, -0.693145751953125f, xc);   // ln2 high part: 0x3f317200, exact products for |n| < 2^11
    r = fmaf(n, -1.4286068202862268e-06f, r);    // ln2 - high part
    float p = 1.0f / 5040.0f;
    p = fmaf(p, r, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    // A union, not memcpy: GCC vectorises the union's reinterpretation but not a memcpy's.
    union {
        int32_t i;
        float f;
    } scale = {.i = (int32_t)((uint32_t)((int32_t)n + 127) << 23)};
    float y = p * scale.f;
    return x < lo ? 0.0f : (x == x ? y : x);
}

// Work-splitting helper: [*lo, *hi) is thread `tid`'s share of n items among `nt` threads.
static inline void cpu_split(long n, int tid, int nt, long *lo, long *hi) {
    long q = n / nt, r = n % nt;
    *lo = tid * q + (tid < r ? tid : r);
    *hi = *lo + q + (tid < r ? 1 : 0);
}

#endif
