// cpu_wbf16_avx512.c — the AVX-512 (F + BW) kernels of the bf16-weight linear layers (see
// cpu_wbf16.h). Both keep the fp32 computation over the file's bf16 weights: every weight is
// widened exactly (its 16 bits become the top half of an fp32) and multiplied in fp32.
//
// Few rows (decode): each thread streams its own contiguous block of weight rows once, 4 rows at
// a time against up to 4 input rows. Widening 32 weights costs one 64-byte load and two unpacks
// against a zero register (each puts a bf16 in the high half of a 32-bit lane); unpack works
// within 128-bit lanes, so the low vector holds weights 0-3, 8-11, 16-19, 24-27 of the block and
// the high one the others. The inputs are permuted the same way once per call (perm32), so the
// products pair up with no cross-lane shuffle (vpmovzxwd + shift takes a shuffle and a shift per
// 16 weights, and with no prefetch the previous AVX-512F kernel ran at 28% of the read bandwidth).
// Rows of ~2 KB (IC 896) are too short for the hardware prefetcher to ramp up on, so each
// iteration prefetches its share of the row group WBF16_PF_GROUPS groups ahead, into L2: into L1
// (T0) the 28 KB in flight evict each other from its 32 KB, and the kernel ran at half the rate
// (measured, one core: 9 GB/s with T0, 21 GB/s with T1, the 4-stream read 24-27 GB/s).
//
// Many rows (batched decode, prefill): a register-blocked outer product. A thread widens MO weight
// rows into an fp32 panel [MO, IC] (L2-resident, widened once and reused by every input row), and
// the inputs are packed once per call, transposed in blocks of 16 x NV rows ([IC][16 NV], zero-padded),
// so the micro-kernel's step k is NV vector loads of inputs and MO broadcasts of panel weights into
// MO x NV accumulators: 24 FMAs per 2 + 12 loads (NV 2, MO 12), bound by the FMA units.
#include <omp.h>
#include <stdlib.h>

#include "cpu_internal.h"
#include "cpu_wbf16.h"
#include "s1c_bf16.h"

#ifdef WBF16_X86
#include <immintrin.h>

#define A512 __attribute__((target("avx512f,avx512bw")))
#define A512_INLINE __attribute__((target("avx512f,avx512bw"), always_inline)) static inline

// Row groups (4 weight rows each) the streaming kernel prefetches ahead of the one it computes.
#define WBF16_PF_GROUPS 4
// The streaming kernel's inputs live on the stack up to this many floats (permuted, padded).
#define WBF16_XBUF_FLOATS (8 * 5120)

static inline int pad32(int n) { return (n + 31) & ~31; }

// xp[0, pad32(IC)) <- x[0, IC) in the unpack order of each 32-block (see the top), zero-padded.
static void perm32(float *xp, const float *x, int IC) {
    const int ICp = pad32(IC);
    for (int b = 0; b < ICp; b += 32)
        for (int j = 0; j < 32; j++) {
            // output lane j of the block: lo half (j < 16) takes lane group j/4 words 0-3, hi half 4-7
            const int h = j >> 4, g = (j >> 2) & 3, e = b + 8 * g + 4 * h + (j & 3);
            xp[b + j] = e < IC ? x[e] : 0.0f;
        }
}

// out[t0 .. t0+NB, o0 .. o0+na) for 4 weight rows wr (clamped copies past na) and NB input rows of
// xp (permuted, stride ICp). pf: this group's prefetch target (the group WBF16_PF_GROUPS ahead) or NULL.
A512_INLINE void gemv_tile(float *out, const float *xp, const uint16_t *const wr[4], const float *bias, int IC,
                           int ICp, int OC, int o0, int na, int t0, const int NB, const char *pf) {
    const __m512i zero = _mm512_setzero_si512();
    __m512 c[4][4];
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) c[a][b] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 32 <= IC; i += 32) {
        if (pf) {  // 4 rows x 64 bytes consumed per iteration: the same 256 bytes of the group ahead
            _mm_prefetch(pf + 8 * (size_t)i, _MM_HINT_T1);
            _mm_prefetch(pf + 8 * (size_t)i + 64, _MM_HINT_T1);
            _mm_prefetch(pf + 8 * (size_t)i + 128, _MM_HINT_T1);
            _mm_prefetch(pf + 8 * (size_t)i + 192, _MM_HINT_T1);
        }
        __m512 xl[4], xh[4];
        for (int b = 0; b < NB; b++) {
            xl[b] = _mm512_loadu_ps(xp + (size_t)b * ICp + i);
            xh[b] = _mm512_loadu_ps(xp + (size_t)b * ICp + i + 16);
        }
        for (int a = 0; a < 4; a++) {
            const __m512i raw = _mm512_loadu_si512((const void *)(wr[a] + i));
            const __m512 lo = _mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, raw));
            const __m512 hi = _mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, raw));
            for (int b = 0; b < NB; b++) c[a][b] = _mm512_fmadd_ps(hi, xh[b], _mm512_fmadd_ps(lo, xl[b], c[a][b]));
        }
    }
    if (i < IC) {  // the last partial block: masked weight loads (nothing read past the row), padded inputs
        const __mmask32 m = (__mmask32)((1ull << (IC - i)) - 1ull);
        __m512 xl[4], xh[4];
        for (int b = 0; b < NB; b++) {
            xl[b] = _mm512_loadu_ps(xp + (size_t)b * ICp + i);
            xh[b] = _mm512_loadu_ps(xp + (size_t)b * ICp + i + 16);
        }
        for (int a = 0; a < 4; a++) {
            const __m512i raw = _mm512_maskz_loadu_epi16(m, (const void *)(wr[a] + i));
            const __m512 lo = _mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, raw));
            const __m512 hi = _mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, raw));
            for (int b = 0; b < NB; b++) c[a][b] = _mm512_fmadd_ps(hi, xh[b], _mm512_fmadd_ps(lo, xl[b], c[a][b]));
        }
    }
    for (int b = 0; b < NB; b++)
        for (int a = 0; a < na; a++)
            out[(size_t)(t0 + b) * OC + o0 + a] = _mm512_reduce_add_ps(c[a][b]) + (bias ? bias[o0 + a] : 0.0f);
}

A512 static void gemv_rows(float *out, const float *xp, const uint16_t *w, const float *bias, int T, int IC, int OC,
                           int o_lo, int o_hi) {
    const int ICp = pad32(IC);
    for (int o0 = o_lo; o0 < o_hi; o0 += 4) {
        const int na = o_hi - o0 < 4 ? o_hi - o0 : 4;
        const uint16_t *wr[4];
        for (int a = 0; a < 4; a++) wr[a] = w + (size_t)(o0 + (a < na ? a : na - 1)) * IC;
        // Prefetches past the matrix end are harmless (a hint never faults); the last groups of a
        // thread's range prefetch the next thread's first rows, which it has read already.
        const char *pf = (const char *)(w + (size_t)(o0 + 4 * WBF16_PF_GROUPS) * IC);
        for (int t0 = 0; t0 < T; t0 += 4) {
            const float *x = xp + (size_t)t0 * ICp;
            const char *p = t0 == 0 ? pf : NULL;  // later input blocks find the rows in L1/L2
            switch (T - t0 < 4 ? T - t0 : 4) {
            case 1: gemv_tile(out, x, wr, bias, IC, ICp, OC, o0, na, t0, 1, p); break;
            case 2: gemv_tile(out, x, wr, bias, IC, ICp, OC, o0, na, t0, 2, p); break;
            case 3: gemv_tile(out, x, wr, bias, IC, ICp, OC, o0, na, t0, 3, p); break;
            default: gemv_tile(out, x, wr, bias, IC, ICp, OC, o0, na, t0, 4, p); break;
            }
        }
    }
}

void s1c_wbf16_gemv_avx512(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC,
                           int round_inputs) {
    const int ICp = pad32(IC);
    float xbuf[WBF16_XBUF_FLOATS];
    float *xp = (size_t)T * ICp <= WBF16_XBUF_FLOATS ? xbuf : malloc((size_t)T * ICp * sizeof(float));
    S1C_ASSERT(xp != NULL);
    for (int t = 0; t < T; t++) perm32(xp + (size_t)t * ICp, inp + (size_t)t * IC, IC);
    if (round_inputs)  // the products of the vdpbf16ps GEMM: bf16 inputs times bf16 weights, exact in fp32
        for (size_t i = 0; i < (size_t)T * ICp; i++) xp[i] = s1c_bf16_to_f32(s1c_bf16_from_f32(xp[i]));
    const int groups = (OC + 3) / 4;
#pragma omp parallel if ((long)OC * IC >= 262144)
    {
        long g0, g1;  // contiguous row blocks: each thread streams its own part of the matrix
        cpu_split(groups, omp_get_thread_num(), omp_get_num_threads(), &g0, &g1);
        const int lo = (int)g0 * 4, hi = (int)g1 * 4 < OC ? (int)g1 * 4 : OC;
        if (lo < hi) gemv_rows(out, xp, w, bias, T, IC, OC, lo, hi);
    }
    if (xp != xbuf) free(xp);
}

// A tile's accumulators c[a][v] (feature a, rows 16v..16v+15) to out[t0 + j, o0 + a] for the valid
// rows j < nt and features a < na, plus the bias: stored [feature][row], transposed on the way
// out. Shared by the widening and the vdpbf16ps GEMM tiles.
A512_INLINE void store_tile(float *out, __m512 c[24][2], const float *bias, int OC, int t0, int nt, int o0, int na,
                            const int NV, const int MO) {
    float r[24][32];
#pragma GCC unroll 24
    for (int a = 0; a < MO; a++) {
        _mm512_storeu_ps(r[a], c[a][0]);
        if (NV == 2) _mm512_storeu_ps(r[a] + 16, c[a][1]);
    }
    for (int j = 0; j < nt; j++)
        for (int a = 0; a < na; a++) out[(size_t)(t0 + j) * OC + o0 + a] = r[a][j] + (bias ? bias[o0 + a] : 0.0f);
}

// ---- register-blocked GEMM ------------------------------------------------------------------------
// xt: NV*16 input rows transposed, [IC][16 NV] (rows past T are zeros); wp: MO widened weight rows
// [MO][IC]. out[t0 + j, o0 + a] for j < nt (valid rows), a < na (valid features).
A512_INLINE void gemm_tile(float *out, const float *xt, const float *wp, const float *bias, int IC, int OC, int t0,
                           int nt, int o0, int na, const int NV, const int MO) {
    __m512 c[24][2];
#pragma GCC unroll 24
    for (int a = 0; a < MO; a++) c[a][0] = c[a][1] = _mm512_setzero_ps();
    for (int k = 0; k < IC; k++) {
        const float *xk = xt + (size_t)k * 16 * NV;
        const __m512 x0 = _mm512_loadu_ps(xk), x1 = NV == 2 ? _mm512_loadu_ps(xk + 16) : x0;
#pragma GCC unroll 24
        for (int a = 0; a < MO; a++) {
            const __m512 wv = _mm512_set1_ps(wp[(size_t)a * IC + k]);
            c[a][0] = _mm512_fmadd_ps(wv, x0, c[a][0]);
            if (NV == 2) c[a][1] = _mm512_fmadd_ps(wv, x1, c[a][1]);
        }
    }
    store_tile(out, c, bias, OC, t0, nt, o0, na, NV, MO);
}

A512 static void widen_rows(float *dst, const uint16_t *src, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(
                                      _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(src + i))), 16)));
    for (; i < n; i++) {
        const uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, sizeof u);
    }
}

// One thread's features [o_lo, o_hi) for every row block, NV vectors of rows and MO features per tile.
A512_INLINE void gemm_range(float *out, const float *xt, float *wp, const uint16_t *w, const float *bias, int T,
                            int IC, int OC, int o_lo, int o_hi, const int NV, const int MO) {
    const int RB = 16 * NV, n_rb = (T + RB - 1) / RB;
    for (int o0 = o_lo; o0 < o_hi; o0 += MO) {
        const int na = o_hi - o0 < MO ? o_hi - o0 : MO;
        widen_rows(wp, w + (size_t)o0 * IC, (size_t)na * IC);
        for (int a = na; a < MO; a++) memcpy(wp + (size_t)a * IC, wp + (size_t)(na - 1) * IC, (size_t)IC * sizeof(float));
        for (int rb = 0; rb < n_rb; rb++) {
            const int t0 = rb * RB, nt = T - t0 < RB ? T - t0 : RB;
            gemm_tile(out, xt + (size_t)rb * IC * RB, wp, bias, IC, OC, t0, nt, o0, na, NV, MO);
        }
    }
}

A512 static void gemm_range_2x12(float *out, const float *xt, float *wp, const uint16_t *w, const float *bias, int T,
                                 int IC, int OC, int o_lo, int o_hi) {
    gemm_range(out, xt, wp, w, bias, T, IC, OC, o_lo, o_hi, 2, 12);
}

A512 static void gemm_range_1x24(float *out, const float *xt, float *wp, const uint16_t *w, const float *bias, int T,
                                 int IC, int OC, int o_lo, int o_hi) {
    gemm_range(out, xt, wp, w, bias, T, IC, OC, o_lo, o_hi, 1, 24);
}

void s1c_wbf16_gemm_avx512(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC) {
    // 16 rows or fewer: one vector of rows, 24 features per tile; more: two vectors, 12 features
    // (both 24 accumulators; the wider row block halves the panel loads per FMA).
    const int NV = T <= 16 ? 1 : 2, MO = NV == 1 ? 24 : 12, RB = 16 * NV;
    const int n_rb = (T + RB - 1) / RB, nt = omp_get_max_threads();
    const size_t xt_n = (size_t)n_rb * RB * IC, wp_n = (size_t)MO * IC;
    float *buf = malloc((xt_n + (size_t)nt * wp_n) * sizeof(float));
    S1C_ASSERT(buf != NULL);  // T x IC inputs and one MO x IC panel per thread
    float *xt = buf;
    const int groups = (OC + MO - 1) / MO;
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static)
        for (int rb = 0; rb < n_rb; rb++) s1c_wbf16_pack_rows(xt + (size_t)rb * IC * RB, inp, T, IC, rb * RB, RB);
        long g0, g1;  // implicit barrier above: xt is complete
        cpu_split(groups, omp_get_thread_num(), omp_get_num_threads(), &g0, &g1);
        const int lo = (int)g0 * MO, hi = (int)g1 * MO < OC ? (int)g1 * MO : OC;
        float *wp = buf + xt_n + (size_t)omp_get_thread_num() * wp_n;
        if (lo < hi) (NV == 1 ? gemm_range_1x24 : gemm_range_2x12)(out, xt, wp, w, bias, T, IC, OC, lo, hi);
    }
    free(buf);
}

// ---- AVX-512 BF16 (opt-in) -------------------------------------------------------------------------
// vdpbf16ps adds to each fp32 lane the two products of a pair of bf16 lanes: with the inputs
// rounded to bf16 (round to nearest even) and paired along k, a step takes a pair of weights
// straight from the matrix as one 32-bit broadcast (no widening, no panel) and does twice the
// multiply-adds of an fp32 FMA. The products of two bf16 are exact in fp32 and the sums are fp32,
// so the result is the fp32 computation over the file's weights and bf16-rounded inputs: a
// relative error up to 2^-9 per input element instead of fp32's 2^-24 (see cpu_wbf16.h).
#define B16 __attribute__((target("avx512f,avx512bw,avx512bf16")))
#define B16_INLINE __attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline)) static inline

// xt: [KP][16 NV] 32-bit pairs (x[t][2p] low, x[t][2p+1] high; zeros past IC and T) of one row block.
B16_INLINE void dp_tile(float *out, const uint32_t *xt, const uint16_t *w, const float *bias, int IC, int OC, int t0,
                        int nt, int o0, int na, const int NV, const int MO) {
    const uint16_t *wr[24];
    for (int a = 0; a < MO; a++) wr[a] = w + (size_t)(o0 + (a < na ? a : na - 1)) * IC;
    __m512 c[24][2];
#pragma GCC unroll 24
    for (int a = 0; a < MO; a++) c[a][0] = c[a][1] = _mm512_setzero_ps();
    const int kp_full = IC / 2;
    for (int p = 0; p <= kp_full; p++) {
        if (p == kp_full && !(IC & 1)) break;  // odd IC: the last pair is (w[IC-1], 0)
        const uint32_t *xk = xt + (size_t)p * 16 * NV;
        const __m512bh x0 = (__m512bh)_mm512_loadu_si512((const void *)xk);
        const __m512bh x1 = NV == 2 ? (__m512bh)_mm512_loadu_si512((const void *)(xk + 16)) : x0;
#pragma GCC unroll 24
        for (int a = 0; a < MO; a++) {
            uint32_t pair;
            if (p < kp_full) memcpy(&pair, wr[a] + 2 * p, sizeof pair);
            else pair = wr[a][IC - 1];
            const __m512bh wv = (__m512bh)_mm512_set1_epi32((int)pair);
            c[a][0] = _mm512_dpbf16_ps(c[a][0], wv, x0);
            if (NV == 2) c[a][1] = _mm512_dpbf16_ps(c[a][1], wv, x1);
        }
    }
    store_tile(out, c, bias, OC, t0, nt, o0, na, NV, MO);
}

B16_INLINE void dp_range(float *out, const uint32_t *xt, const uint16_t *w, const float *bias, int T, int IC, int OC,
                         int o_lo, int o_hi, const int NV, const int MO) {
    const int RB = 16 * NV, n_rb = (T + RB - 1) / RB, KP = (IC + 1) / 2;
    for (int o0 = o_lo; o0 < o_hi; o0 += MO) {  // the MO rows stay in L1/L2 across the row blocks
        const int na = o_hi - o0 < MO ? o_hi - o0 : MO;
        for (int rb = 0; rb < n_rb; rb++) {
            const int t0 = rb * RB, nt = T - t0 < RB ? T - t0 : RB;
            dp_tile(out, xt + (size_t)rb * KP * RB, w, bias, IC, OC, t0, nt, o0, na, NV, MO);
        }
    }
}

B16 static void dp_range_2x12(float *out, const uint32_t *xt, const uint16_t *w, const float *bias, int T, int IC,
                              int OC, int o_lo, int o_hi) {
    dp_range(out, xt, w, bias, T, IC, OC, o_lo, o_hi, 2, 12);
}

B16 static void dp_range_1x24(float *out, const uint32_t *xt, const uint16_t *w, const float *bias, int T, int IC,
                              int OC, int o_lo, int o_hi) {
    dp_range(out, xt, w, bias, T, IC, OC, o_lo, o_hi, 1, 24);
}

void s1c_wbf16_gemm_avx512bf16(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC,
                               int OC) {
    const int NV = T <= 16 ? 1 : 2, MO = NV == 1 ? 24 : 12, RB = 16 * NV;
    const int n_rb = (T + RB - 1) / RB, KP = (IC + 1) / 2;
    uint32_t *xt = malloc((size_t)n_rb * KP * RB * sizeof(uint32_t));
    S1C_ASSERT(xt != NULL);  // the inputs once, as bf16 pairs
    const int groups = (OC + MO - 1) / MO;
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int rb = 0; rb < n_rb; rb++) {
            uint32_t *dst = xt + (size_t)rb * KP * RB;
            for (int j = 0; j < RB; j++) {
                const int t = rb * RB + j;
                const float *x = inp + (size_t)t * IC;
                for (int p = 0; p < KP; p++) {
                    uint32_t lo = 0, hi = 0;
                    if (t < T) {
                        lo = s1c_bf16_from_f32(x[2 * p]);
                        hi = 2 * p + 1 < IC ? s1c_bf16_from_f32(x[2 * p + 1]) : 0u;
                    }
                    dst[(size_t)p * RB + j] = lo | hi << 16;
                }
            }
        }
        long g0, g1;  // implicit barrier above: xt is complete
        cpu_split(groups, omp_get_thread_num(), omp_get_num_threads(), &g0, &g1);
        const int lo = (int)g0 * MO, hi = (int)g1 * MO < OC ? (int)g1 * MO : OC;
        if (lo < hi) (NV == 1 ? dp_range_1x24 : dp_range_2x12)(out, xt, w, bias, T, IC, OC, lo, hi);
    }
    free(xt);
}
#endif
