// cpu_decode_matmul.c — the linear layers of a decode step (CPU backend, fp32).
//
// With a few dozen rows a GEMM spends much of its time packing the weight matrix (a read and a
// write of every weight per call) for little arithmetic, and decode is bound by streaming the
// weights. Here each thread takes a range of output features; for 4 weight rows at a time it
// forms the dot products with 4 input rows at a time in 16 vector accumulators, so each weight
// is read from memory once (later input blocks find it in L1/L2) and every load feeds 2 FMAs.
// One row (AVX-512): a streaming GEMV, below, in place of OpenBLAS's sgemv (no AVX-512: sgemv).
// Many rows: the regular GEMM, whose packing then pays off.
#include <omp.h>
#include <string.h>

#include "cpu_internal.h"
#include "ops.h"
// after ops.h: OpenBLAS's cblas.h pulls in <complex.h>, whose macro I would rename parameters there
#include <cblas.h>

#if defined(__AVX512F__)
#include <immintrin.h>

// Measured (55M and 0.5B shapes, 2 threads): the tiles beat the packed GEMM up to at least 64 rows.
#define DECODE_SMALL_MAX_T 64
#define PF_AHEAD 2  // weight groups prefetched ahead of the one being computed

// 16 accumulators c[a*4+b] (weight row a, input row b) -> one vector whose lane 4b+a is the lane
// sum of c[a*4+b]: a transposing tree of 15 adds, instead of 16 serial 16-lane sums (those cost
// nearly as much as the dot products themselves for IC = 512).
static inline __m512 reduce16(const __m512 c[16]) {
    __m512 s[8], u[4], w[2];
    for (int j = 0; j < 8; j++)  // 256-bit halves: s[j] = [c[2j] (8 partials) | c[2j+1] (8 partials)]
        s[j] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * j], c[2 * j + 1], 0x44),
                             _mm512_shuffle_f32x4(c[2 * j], c[2 * j + 1], 0xEE));
    for (int j = 0; j < 4; j++)  // 128-bit chunks: u[j] chunk k = c[4j+k] (4 partials)
        u[j] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * j], s[2 * j + 1], 0x88),
                             _mm512_shuffle_f32x4(s[2 * j], s[2 * j + 1], 0xDD));
    for (int j = 0; j < 2; j++)  // chunk k = [c[8j+k]a, c[8j+4+k]a, c[8j+k]b, c[8j+4+k]b]
        w[j] = _mm512_add_ps(_mm512_unpacklo_ps(u[2 * j], u[2 * j + 1]), _mm512_unpackhi_ps(u[2 * j], u[2 * j + 1]));
    // chunk k = [c[k], c[4+k], c[8+k], c[12+k]] summed: lane 4k+j holds c[4j+k]
    return _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], 0x44), _mm512_shuffle_ps(w[0], w[1], 0xEE));
}

#define FMA_ROW(a, wv)                                   \
    do {                                                 \
        c[(a) * 4 + 0] = _mm512_fmadd_ps(wv, x0, c[(a) * 4 + 0]); \
        c[(a) * 4 + 1] = _mm512_fmadd_ps(wv, x1, c[(a) * 4 + 1]); \
        c[(a) * 4 + 2] = _mm512_fmadd_ps(wv, x2, c[(a) * 4 + 2]); \
        c[(a) * 4 + 3] = _mm512_fmadd_ps(wv, x3, c[(a) * 4 + 3]); \
    } while (0)

// out[t0..t0+4, o0..o0+4]; rows past the end are clamped (recomputed) and not stored.
// [pf, pf + pf_n) is this tile's share of weights needed later: only the first input tile of a
// weight group reads from DRAM, so without the hint memory idles while the others compute.
static void tile4x4(float *out, const float *inp, const float *w, const float *bias, int T, int IC, int OC, int t0,
                    int o0, const float *pf, size_t pf_n) {
    for (size_t k = 0; k < pf_n; k += 16) _mm_prefetch((const char *)(pf + k), _MM_HINT_T0);
    const float *wr[4], *xr[4];
    for (int a = 0; a < 4; a++) wr[a] = w + (size_t)(o0 + a < OC ? o0 + a : OC - 1) * IC;
    for (int b = 0; b < 4; b++) xr[b] = inp + (size_t)(t0 + b < T ? t0 + b : T - 1) * IC;
    __m512 c[16];
    for (int k = 0; k < 16; k++) c[k] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 16 <= IC; i += 16) {
        __m512 x0 = _mm512_loadu_ps(xr[0] + i), x1 = _mm512_loadu_ps(xr[1] + i);
        __m512 x2 = _mm512_loadu_ps(xr[2] + i), x3 = _mm512_loadu_ps(xr[3] + i);
        // Pin the inputs in registers: GCC otherwise folds them into every FMA as a memory
        // operand, 4 reloads each, and the loop becomes bound by loads instead of FMAs.
        __m512 w0 = _mm512_loadu_ps(wr[0] + i), w1 = _mm512_loadu_ps(wr[1] + i);
        __m512 w2 = _mm512_loadu_ps(wr[2] + i), w3 = _mm512_loadu_ps(wr[3] + i);
        __asm__("" : "+v"(x0), "+v"(x1), "+v"(x2), "+v"(x3), "+v"(w0), "+v"(w1), "+v"(w2), "+v"(w3));
        FMA_ROW(0, w0);
        FMA_ROW(1, w1);
        FMA_ROW(2, w2);
        FMA_ROW(3, w3);
    }
    if (i < IC) {  // masked loads read nothing past the row end
        const __mmask16 m = (__mmask16)((1u << (IC - i)) - 1u);
        const __m512 x0 = _mm512_maskz_loadu_ps(m, xr[0] + i), x1 = _mm512_maskz_loadu_ps(m, xr[1] + i);
        const __m512 x2 = _mm512_maskz_loadu_ps(m, xr[2] + i), x3 = _mm512_maskz_loadu_ps(m, xr[3] + i);
        FMA_ROW(0, _mm512_maskz_loadu_ps(m, wr[0] + i));
        FMA_ROW(1, _mm512_maskz_loadu_ps(m, wr[1] + i));
        FMA_ROW(2, _mm512_maskz_loadu_ps(m, wr[2] + i));
        FMA_ROW(3, _mm512_maskz_loadu_ps(m, wr[3] + i));
    }
    float r[16];  // [4 input rows, 4 output features]
    _mm512_storeu_ps(r, reduce16(c));
    for (int b = 0; b < 4 && t0 + b < T; b++)
        for (int a = 0; a < 4 && o0 + a < OC; a++)
            out[(size_t)(t0 + b) * OC + o0 + a] = r[b * 4 + a] + (bias ? bias[o0 + a] : 0.0f);
}
#undef FMA_ROW

// Row groups (4 weight rows) the one-row GEMV prefetches ahead of the one it computes.
#define GEMV1_PF_GROUPS 4

// One input row: out[o] for o in [o_lo, o_hi), 4 weight rows at a time, 2 accumulators each (the
// halves of a 32-float step). Bound by the weight stream, so what matters is keeping memory busy:
// each thread reads its own contiguous block of rows, and each iteration prefetches its share of
// the group GEMV1_PF_GROUPS ahead into L2 (rows of a few KB are too short for the hardware
// prefetcher to ramp up on; into L1 the lines in flight evict each other, as measured for the
// bf16 kernel, cpu_wbf16_avx512.c).
static void gemv1_rows(float *out, const float *x, const float *w, const float *bias, int IC, int o_lo, int o_hi) {
    for (int o0 = o_lo; o0 < o_hi; o0 += 4) {
        const int na = o_hi - o0 < 4 ? o_hi - o0 : 4;
        const float *wr[4];
        for (int a = 0; a < 4; a++) wr[a] = w + (size_t)(o0 + (a < na ? a : na - 1)) * IC;
        // The group ahead is 4 contiguous rows (16 IC bytes); an iteration consumes 32 of each
        // row's IC floats, so the same 512-byte share of it. Prefetches past the end never fault.
        const char *pf = (const char *)(w + (size_t)(o0 + 4 * GEMV1_PF_GROUPS) * IC);
        __m512 c[4][2];
        for (int a = 0; a < 4; a++) c[a][0] = c[a][1] = _mm512_setzero_ps();
        int i = 0;
        for (; i + 32 <= IC; i += 32) {
            for (int k = 0; k < 8; k++) _mm_prefetch(pf + 16 * (size_t)i + 64 * k, _MM_HINT_T1);
            const __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
            for (int a = 0; a < 4; a++) {
                c[a][0] = _mm512_fmadd_ps(_mm512_loadu_ps(wr[a] + i), x0, c[a][0]);
                c[a][1] = _mm512_fmadd_ps(_mm512_loadu_ps(wr[a] + i + 16), x1, c[a][1]);
            }
        }
        for (; i < IC; i += 16) {  // masked: nothing read past the row end
            const __mmask16 m = (__mmask16)(IC - i >= 16 ? 0xFFFFu : (1u << (IC - i)) - 1u);
            const __m512 x0 = _mm512_maskz_loadu_ps(m, x + i);
            for (int a = 0; a < 4; a++) c[a][0] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, wr[a] + i), x0, c[a][0]);
        }
        for (int a = 0; a < na; a++)
            out[o0 + a] = _mm512_reduce_add_ps(_mm512_add_ps(c[a][0], c[a][1])) + (bias ? bias[o0 + a] : 0.0f);
    }
}

static void gemv1(float *out, const float *x, const float *w, const float *bias, int IC, int OC) {
    const int groups = (OC + 3) / 4;
#pragma omp parallel if ((long)OC * IC >= 262144)
    {
        long g0, g1;  // contiguous row blocks: each thread streams its own part of the matrix
        cpu_split(groups, omp_get_thread_num(), omp_get_num_threads(), &g0, &g1);
        const int lo = (int)g0 * 4, hi = (int)g1 * 4 < OC ? (int)g1 * 4 : OC;
        if (lo < hi) gemv1_rows(out, x, w, bias, IC, lo, hi);
    }
}

#else  // portable vector-extension fallback (no AVX-512): serial lane sums, so fewer rows pay

#define PF_AHEAD 2
#define DECODE_SMALL_MAX_T 16  // measured: beyond ~16 rows the packed GEMM wins

typedef float v16f __attribute__((vector_size(64)));

// Vectors cross no function boundary (by value that would tie the ABI to AVX-512 and warn in
// builds without -march=native): loads are memcpy into locals, sums read through a pointer.
#define LOAD16(dst, p) memcpy(&(dst), (p), sizeof(v16f))

static inline float hsum16(const v16f *v) {
    float s = 0.0f;
    for (int i = 0; i < 16; i++) s += (*v)[i];
    return s;
}

// The 16 accumulators are named variables so they stay in vector registers; ISO C mode would
// otherwise keep the multiply and the add apart (-ffp-contract=off), halving the arithmetic rate.
__attribute__((optimize("fp-contract=fast"))) static void tile4x4(float *out, const float *inp, const float *w,
                                                                  const float *bias, int T, int IC, int OC, int t0,
                                                                  int o0, const float *pf, size_t pf_n) {
    (void)pf, (void)pf_n;
    const float *wr[4], *xr[4];
    for (int a = 0; a < 4; a++) wr[a] = w + (size_t)(o0 + a < OC ? o0 + a : OC - 1) * IC;
    for (int b = 0; b < 4; b++) xr[b] = inp + (size_t)(t0 + b < T ? t0 + b : T - 1) * IC;
    const float *w0p = wr[0], *w1p = wr[1], *w2p = wr[2], *w3p = wr[3];
    const float *x0p = xr[0], *x1p = xr[1], *x2p = xr[2], *x3p = xr[3];
    v16f c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0}, c10 = {0}, c11 = {0}, c12 = {0}, c13 = {0};
    v16f c20 = {0}, c21 = {0}, c22 = {0}, c23 = {0}, c30 = {0}, c31 = {0}, c32 = {0}, c33 = {0};
    int i = 0;
    for (; i + 16 <= IC; i += 16) {
        v16f w0, w1, w2, w3, x;
        LOAD16(w0, w0p + i);
        LOAD16(w1, w1p + i);
        LOAD16(w2, w2p + i);
        LOAD16(w3, w3p + i);
        LOAD16(x, x0p + i);
        c00 += w0 * x, c10 += w1 * x, c20 += w2 * x, c30 += w3 * x;
        LOAD16(x, x1p + i);
        c01 += w0 * x, c11 += w1 * x, c21 += w2 * x, c31 += w3 * x;
        LOAD16(x, x2p + i);
        c02 += w0 * x, c12 += w1 * x, c22 += w2 * x, c32 += w3 * x;
        LOAD16(x, x3p + i);
        c03 += w0 * x, c13 += w1 * x, c23 += w2 * x, c33 += w3 * x;
    }
    const v16f acc[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}};
    for (int a = 0; a < 4; a++) {
        if (o0 + a >= OC) break;
        for (int b = 0; b < 4; b++) {
            if (t0 + b >= T) break;
            float sum = hsum16(&acc[a][b]);
            for (int k = i; k < IC; k++) sum += wr[a][k] * xr[b][k];
            out[(size_t)(t0 + b) * OC + o0 + a] = sum + (bias ? bias[o0 + a] : 0.0f);
        }
    }
}
#endif

void s1c_cpu_matmul_decode(s1c_backend *be, void *out_, const void *inp_, const void *w_, const void *bias_, int T,
                           int IC, int OC) {
    float *out = out_;          // [T, OC]
    const float *inp = inp_;    // [T, IC]
    const float *w = w_;        // [OC, IC]
    const float *bias = bias_;  // [OC] or NULL
    if (T > DECODE_SMALL_MAX_T) {
        be->matmul_fwd(be, out_, inp_, w_, bias_, T, IC, OC);
        return;
    }
    if (T == 1) {
#if defined(__AVX512F__)
        // One core, CPU time, 0.5B layer shapes (loaded machine, a guide only): 18.6 GB/s against
        // 12.9 for OpenBLAS's sgemv (OpenMP build) in the same run.
        gemv1(out, inp, w, bias, IC, OC);
        return;
#endif
        if (bias) memcpy(out, bias, (size_t)OC * sizeof(float));
        cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, IC, 1.0f, w, IC, inp, 1, bias ? 1.0f : 0.0f, out, 1);
        return;
    }
    const int n_tiles = (T + 3) / 4;
    const size_t group = (size_t)4 * IC;  // weights of one 4-row group, contiguous
#pragma omp parallel for schedule(static) if ((long)OC * IC >= 262144)
    for (int o0 = 0; o0 < OC; o0 += 4) {
        // The input tiles of this group share the prefetch of the group PF_AHEAD groups later.
        const size_t next = (size_t)(o0 + 4 * PF_AHEAD) * IC, end = (size_t)OC * IC;
        const size_t share = (group / n_tiles + 15) & ~(size_t)15;
        for (int j = 0; j < n_tiles; j++) {
            size_t a = next + (size_t)j * share, n = a < end ? (end - a < share ? end - a : share) : 0;
            if (a - next >= group) n = 0;
            else if (a - next + n > group) n = group - (a - next);
            tile4x4(out, inp, w, bias, T, IC, OC, 4 * j, o0, w + (n ? a : 0), n);
        }
    }
}
