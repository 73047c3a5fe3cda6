// cpu_wbf16.h — private to the bf16-weight linear layers: the AVX-512 kernels
// (cpu_wbf16_avx512.c) that cpu_wbf16_matmul.c dispatches to when CPUID reports AVX-512F and
// AVX-512BW. The first two compute out[T, OC] = inp[T, IC] @ w[OC, IC]^T (+ bias) in fp32 over the exactly
// widened bf16 weights, and open their own OpenMP region (called outside one).
#ifndef S1C_CPU_WBF16_H
#define S1C_CPU_WBF16_H

#include <stdint.h>

// dst[k][j] = inp[t0 + j][k] for j < RB, k < IC (zeros for rows at or past T): one block of RB
// input rows transposed for the GEMMs' outer products (rows read in order, columns written strided).
void s1c_wbf16_pack_rows(float *dst, const float *inp, int T, int IC, int t0, int RB);

#if defined(__x86_64__) || defined(__i386__)
#define WBF16_X86 1
// Weight streaming for few rows: each weight read once from memory, 4 rows x up to 4 inputs per tile.
void s1c_wbf16_gemv_avx512(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC);
// Register-blocked GEMM for many rows: weights widened into per-thread L2 panels, inputs packed once.
void s1c_wbf16_gemm_avx512(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC);
// The same product with the inputs rounded to bf16 (round to nearest even) and vdpbf16ps (AVX-512
// BF16): twice the multiply-adds per instruction. Error model: a bf16 has 8 significant bits, so
// rounding an input x gives x(1 + d) with |d| <= u = 2^-8 (mean |d| 1.4e-3, rms 1.7e-3 over
// random mantissas) where fp32 has 2^-24; the products of two bf16 are exact in fp32 and the
// sums are fp32, so a dot product over K terms errs by sum_k w_k x_k d_k: at most u sum|w_k x_k|,
// and for independent d_k about 1.7e-3 sqrt(sum (w_k x_k)^2), i.e. ~1.7e-3 relative to a sum
// without heavy cancellation, not growing with K. The default where the CPU has AVX-512 BF16
// (T > 8 rows), unless the backend's wbf16_exact is set (cpu_wbf16_matmul.c).
void s1c_wbf16_gemm_avx512bf16(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC,
                               int OC);
// The GEMM for AVX2 + FMA machines (cpu_wbf16_avx2_gemm.c): 16 rows x 6 features per tile.
void s1c_wbf16_gemm_avx2(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC);
#endif

#endif
