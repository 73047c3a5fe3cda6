// cpu_wbf16_matmul.c — linear layers and the embedding lookup over bf16 weights (CPU backend,
// inference): activations and accumulation stay fp32, each weight is widened (bf16 -> fp32 is a
// 16-bit shift, exact) as it is read, so the result is the fp32 computation over the file's bf16
// values, and a decode step streams half the bytes of fp32 weights.
//
// Paths, chosen at run time by CPUID (the build may target an older CPU than the one it runs on,
// and a binary built here must still run where AVX-512 is missing):
//   avx512      AVX-512F + BW: streaming GEMV for T <= WBF16_GEMV_MAX_T, register-blocked GEMM
//               beyond (cpu_wbf16_avx512.c)
//   avx2        8-lane widen-and-FMA (AVX2 + FMA), below, for few rows; a register-blocked GEMM
//               beyond (cpu_wbf16_avx2_gemm.c: one core, CPU time, 96 vs 74 GFLOP/s for the
//               panels + sgemm below at T 512, Zen 4 forced to AVX2, loaded machine)
//   scalar      plain loops (anything else), also the reference the tests compare against
//   avx512bf16  AVX-512 BF16 as well (the default where CPUID reports it): the avx512 path with
//               vdpbf16ps for the GEMM (T > WBF16_GEMV_MAX_T), inputs rounded to bf16 first, as
//               GPU bf16 inference and llama.cpp's BF16 path do: ~1.8x the GEMM rate, at a relative
//               error of up to 2^-8 per product (cpu_wbf16.h) instead of the fp32 computation over
//               the file's weights that transformers' fp32 reference defines. be->wbf16_exact
//               (s1c-infer --matmul-precision exact) or S1C_WBF16_ISA=avx512 keeps the exact GEMM;
//               few rows (decode, bound by the weight stream) always run the exact GEMV.
//
// Scalar (and AVX2 for few rows), few rows (decode, T <= WBF16_ROWS_MAX_T): each thread takes a range of output
// features and streams its weight rows once, 4 at a time, against 2 input rows at a time (the 4
// rows, at most 4 x IC x 2 bytes, stay in L1/L2 while the input pairs pass). Many rows (prefill,
// large batches): each thread widens a panel of weight rows into an L2-sized fp32 buffer and
// hands it to sgemm on its own core: the widening is paid once per panel and amortised over the
// T rows, and no fp32 copy of a whole matrix is ever made.
#include <omp.h>
#include <stdlib.h>

#include "cpu_internal.h"
#include "cpu_wbf16.h"

#ifdef WBF16_X86
#include <immintrin.h>
#endif

// Measured on the 2-core EPYC (0.5B shape): the streaming tiles beat the panel + sgemm path up to
// about this many rows; beyond it sgemm's register blocking wins.
#define WBF16_ROWS_MAX_T 8
// AVX-512: the streaming kernel up to this many rows, the register-blocked GEMM beyond.
#define WBF16_GEMV_MAX_T 8
// Bytes of one thread's widened fp32 panel: half a 512 KiB L2, so sgemm's own packing fits beside it.
#define WBF16_PANEL_BYTES (256 * 1024)
// Row groups (4 weight rows each) the streaming kernel prefetches ahead of the one it computes.
#define WBF16_PF_GROUPS 4

static inline float bf16_to_f32(uint16_t h) {
    union {
        uint32_t u;
        float f;
    } v = {.u = (uint32_t)h << 16};
    return v.f;
}

// ---- scalar ---------------------------------------------------------------------------------
static void rows_scalar(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC,
                        int o_lo, int o_hi) {
    for (int o = o_lo; o < o_hi; o++) {
        const uint16_t *wr = w + (size_t)o * IC;
        for (int t = 0; t < T; t++) {
            const float *x = inp + (size_t)t * IC;
            float s = 0.0f;
            for (int i = 0; i < IC; i++) s = fmaf(bf16_to_f32(wr[i]), x[i], s);
            out[(size_t)t * OC + o] = s + (bias ? bias[o] : 0.0f);
        }
    }
}

static void widen_scalar(float *dst, const uint16_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

#ifdef WBF16_X86
// ---- AVX2 + FMA -----------------------------------------------------------------------------
__attribute__((target("avx2,fma"))) static inline __m256 widen8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Widening 16 weights costs one load and two unpacks (each puts a bf16 in the high half of a
// 32-bit lane: exactly its fp32 value), but unpack works within 128-bit lanes, so the low vector
// holds weights 0-3, 8-11 and the high one 4-7, 12-15 of the block. The inputs are permuted the
// same way once per call (perm16), so the products pair up and no cross-lane shuffle is needed.
// (vpmovzxwd + shift, the obvious widening, takes three times the uops and made the single-row
// kernel compute-bound at half the memory bandwidth.)
static void perm16(float *xp, const float *x, int IC) {
    int i = 0;
    for (; i + 16 <= IC; i += 16) {
        memcpy(xp + i, x + i, 4 * sizeof(float));
        memcpy(xp + i + 4, x + i + 8, 4 * sizeof(float));
        memcpy(xp + i + 8, x + i + 4, 4 * sizeof(float));
        memcpy(xp + i + 12, x + i + 12, 4 * sizeof(float));
    }
    memcpy(xp + i, x + i, (size_t)(IC - i) * sizeof(float));  // the tail stays in order
}

#define W16(lo, hi, p)                                                          \
    do {                                                                        \
        const __m256i raw_ = _mm256_loadu_si256((const __m256i *)(p));          \
        lo = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, raw_));             \
        hi = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, raw_));             \
    } while (0)

// Output features [o_lo, o_hi) of all T rows: 4 weight rows x 2 input rows per tile, 8 accumulators
// (two FMA chains per weight and input row: lo and hi halves). xp: the inputs permuted (perm16).
__attribute__((target("avx2,fma"))) static void rows_avx2(float *out, const float *xp, const uint16_t *w,
                                                          const float *bias, int T, int IC, int OC, int o_lo,
                                                          int o_hi) {
    const __m256i zero = _mm256_setzero_si256();
    for (int o0 = o_lo; o0 < o_hi; o0 += 4) {
        const int na = o_hi - o0 < 4 ? o_hi - o0 : 4;
        const uint16_t *wr[4];
        for (int a = 0; a < 4; a++) wr[a] = w + (size_t)(o0 + (a < na ? a : na - 1)) * IC;
        // The 4 rows are one contiguous block of 8 x IC bytes; each iteration below consumes 128
        // of them, and prefetches the same share of the block WBF16_PF_GROUPS groups ahead: with
        // rows of ~2 KB (IC 896) the hardware prefetcher never ramps up on streams that short,
        // and the kernel ran at half the memory bandwidth. Into L2 (T1): into L1 the lines in
        // flight evicted each other (cpu_wbf16_avx512.c). Prefetches past the end are harmless.
        const char *pf = (const char *)(w + (size_t)(o0 + 4 * WBF16_PF_GROUPS) * IC);
        for (int t0 = 0; t0 < T; t0 += 2) {
            const int nb = T - t0 < 2 ? T - t0 : 2;
            const float *x0 = xp + (size_t)t0 * IC, *x1 = xp + (size_t)(t0 + nb - 1) * IC;
            __m256 c[4][2];
            for (int a = 0; a < 4; a++) c[a][0] = c[a][1] = _mm256_setzero_ps();
            int i = 0;
            if (nb == 1) {  // one input row: lo and hi halves are the two chains
                __m256 d[4];
                for (int a = 0; a < 4; a++) d[a] = _mm256_setzero_ps();
                for (; i + 16 <= IC; i += 16) {
                    _mm_prefetch(pf + 8 * (size_t)i, _MM_HINT_T1);
                    _mm_prefetch(pf + 8 * (size_t)i + 64, _MM_HINT_T1);
                    const __m256 xl = _mm256_loadu_ps(x0 + i), xh = _mm256_loadu_ps(x0 + i + 8);
                    __m256 l0, h0, l1, h1, l2, h2, l3, h3;
                    W16(l0, h0, wr[0] + i);
                    W16(l1, h1, wr[1] + i);
                    c[0][0] = _mm256_fmadd_ps(l0, xl, c[0][0]);
                    d[0] = _mm256_fmadd_ps(h0, xh, d[0]);
                    c[1][0] = _mm256_fmadd_ps(l1, xl, c[1][0]);
                    d[1] = _mm256_fmadd_ps(h1, xh, d[1]);
                    W16(l2, h2, wr[2] + i);
                    W16(l3, h3, wr[3] + i);
                    c[2][0] = _mm256_fmadd_ps(l2, xl, c[2][0]);
                    d[2] = _mm256_fmadd_ps(h2, xh, d[2]);
                    c[3][0] = _mm256_fmadd_ps(l3, xl, c[3][0]);
                    d[3] = _mm256_fmadd_ps(h3, xh, d[3]);
                }
                for (int a = 0; a < 4; a++) c[a][0] = _mm256_add_ps(c[a][0], d[a]);
            } else {
                for (; i + 16 <= IC; i += 16) {
                    if (t0 == 0) {
                        _mm_prefetch(pf + 8 * (size_t)i, _MM_HINT_T1);
                        _mm_prefetch(pf + 8 * (size_t)i + 64, _MM_HINT_T1);
                    }
                    const __m256 al = _mm256_loadu_ps(x0 + i), ah = _mm256_loadu_ps(x0 + i + 8);
                    const __m256 bl = _mm256_loadu_ps(x1 + i), bh = _mm256_loadu_ps(x1 + i + 8);
                    for (int a = 0; a < 4; a++) {
                        __m256 lo, hi;
                        W16(lo, hi, wr[a] + i);
                        c[a][0] = _mm256_fmadd_ps(hi, ah, _mm256_fmadd_ps(lo, al, c[a][0]));
                        c[a][1] = _mm256_fmadd_ps(hi, bh, _mm256_fmadd_ps(lo, bl, c[a][1]));
                    }
                }
            }
            float s[4][2];
            for (int a = 0; a < 4; a++) {
                s[a][0] = hsum8(c[a][0]);
                s[a][1] = nb == 2 ? hsum8(c[a][1]) : s[a][0];
            }
            for (; i < IC; i++)
                for (int a = 0; a < 4; a++) {
                    const float wv = bf16_to_f32(wr[a][i]);
                    s[a][0] = fmaf(wv, x0[i], s[a][0]);
                    if (nb == 2) s[a][1] = fmaf(wv, x1[i], s[a][1]);
                }
            for (int b = 0; b < nb; b++)
                for (int a = 0; a < na; a++)
                    out[(size_t)(t0 + b) * OC + o0 + a] = s[a][b] + (bias ? bias[o0 + a] : 0.0f);
        }
    }
}
#undef W16

__attribute__((target("avx2,fma"))) static void widen_avx2(float *dst, const uint16_t *src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, widen8(src + i));
    for (; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

#endif

void s1c_wbf16_pack_rows(float *dst, const float *inp, int T, int IC, int t0, int RB) {
    for (int j = 0; j < RB; j++) {
        const int t = t0 + j;
        if (t < T)
            for (int k = 0; k < IC; k++) dst[(size_t)k * RB + j] = inp[(size_t)t * IC + k];
        else
            for (int k = 0; k < IC; k++) dst[(size_t)k * RB + j] = 0.0f;
    }
}

// ---- dispatch ---------------------------------------------------------------------------------
typedef void (*rows_fn)(float *, const float *, const uint16_t *, const float *, int, int, int, int, int);

static const char *const isa_names[] = {"scalar", "avx2", "avx512", "avx512bf16"};

// S1C_WBF16_ISA=scalar|avx2|avx512|avx512bf16 caps the choice (tests run every path the CPU
// has); the CPU's best otherwise. A request the CPU cannot run falls back to the best it can.
// avx512bf16 (vdpbf16ps for T > WBF16_GEMV_MAX_T, inputs rounded to bf16: cpu_wbf16.h) is the
// best where AVX-512 BF16 exists; a backend with wbf16_exact set runs avx512 in its place.
static int isa_detect(void) {
    int best = 0;
#ifdef WBF16_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = 1;
    if (best == 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) best = 2;
    if (best == 2 && __builtin_cpu_supports("avx512bf16")) best = 3;
#endif
    const char *env = getenv("S1C_WBF16_ISA");
    if (env)
        for (int k = 0; k < 4; k++)
            if (!strcmp(env, isa_names[k]) && k < best) best = k;
    return best;
}

static int isa_level(void) {
    static int level = -1;  // benign race: every thread computes the same value
    if (level < 0) level = isa_detect();
    return level;
}

const char *s1c_cpu_wbf16_isa(void) { return isa_names[isa_level()]; }

const char *s1c_cpu_wbf16_gemm_path(const s1c_backend *be) {
    const int level = isa_level();
    return isa_names[level == 3 && be && be->wbf16_exact ? 2 : level];
}

void s1c_cpu_widen_bf16(float *dst, const uint16_t *src, size_t n) {
#ifdef WBF16_X86
    if (isa_level() >= 1) {
        widen_avx2(dst, src, n);
        return;
    }
#endif
    widen_scalar(dst, src, n);
}

// The AVX2 and scalar paths: streaming row tiles for few rows, widened panels + sgemm for many.
static void matmul_wbf16_ref(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC,
                             int OC) {
    if (T <= WBF16_ROWS_MAX_T) {
        rows_fn rows = rows_scalar;
        float xbuf[WBF16_ROWS_MAX_T * 1024];  // permuted inputs (AVX2 path), on the stack when small
        float *xp = NULL;
#ifdef WBF16_X86
        if (isa_level() == 1) {
            rows = rows_avx2;
            xp = (size_t)T * IC <= sizeof xbuf / sizeof xbuf[0] ? xbuf : malloc((size_t)T * IC * sizeof(float));
            S1C_ASSERT(xp != NULL);
            for (int t = 0; t < T; t++) perm16(xp + (size_t)t * IC, inp + (size_t)t * IC, IC);
            inp = xp;
        }
#endif
        const int groups = (OC + 3) / 4;
#pragma omp parallel if ((long)OC * IC >= 262144)
        {
            long g0, g1;
            cpu_split(groups, omp_get_thread_num(), omp_get_num_threads(), &g0, &g1);
            const int lo = (int)g0 * 4, hi = (int)g1 * 4 < OC ? (int)g1 * 4 : OC;
            if (lo < hi) rows(out, inp, w, bias, T, IC, OC, lo, hi);
        }
        if (xp && xp != xbuf) free(xp);
        return;
    }
    // Panels of nb weight rows (a multiple of 16, at least 16) widened per thread, then sgemm on
    // that thread: out[:, o0:o0+nb] = inp @ panel^T (+ bias seeded into the output, beta = 1).
    int nb = (int)(WBF16_PANEL_BYTES / sizeof(float) / (size_t)(IC > 0 ? IC : 1)) & ~15;
    if (nb < 16) nb = 16;
    const int n_panels = (OC + nb - 1) / nb;
    const int nt = omp_get_max_threads();
    float *panels = malloc((size_t)nt * nb * (size_t)IC * sizeof(float) + 64);
    S1C_ASSERT(panels != NULL);  // a few hundred KB per thread; the caller's arenas hold the rest
    const int saved = cpu_gemm_serial_begin();
#pragma omp parallel num_threads(nt)
    {
        float *panel = panels + (size_t)omp_get_thread_num() * nb * IC;
#pragma omp for schedule(dynamic, 1)
        for (int p = 0; p < n_panels; p++) {
            const int o0 = p * nb, n = OC - o0 < nb ? OC - o0 : nb;
            s1c_cpu_widen_bf16(panel, w + (size_t)o0 * IC, (size_t)n * IC);
            float beta = 0.0f;
            if (bias) {
                for (int t = 0; t < T; t++) memcpy(out + (size_t)t * OC + o0, bias + o0, (size_t)n * sizeof(float));
                beta = 1.0f;
            }
            cpu_gemm_serial(0, 1, T, n, IC, 1.0f, inp, IC, panel, IC, beta, out + o0, OC);
        }
    }
    cpu_gemm_serial_end(saved);
    free(panels);
}

void s1c_cpu_matmul_wbf16(s1c_backend *be, void *out_, const void *inp_, const uint16_t *w, const float *bias, int T,
                          int IC, int OC) {
    float *out = out_;        // [T, OC]
    const float *inp = inp_;  // [T, IC]
    if (T <= 0 || OC <= 0) return;
    const int level = isa_level();
#ifdef WBF16_X86
    if (level >= 2) {
        if (T <= WBF16_GEMV_MAX_T) s1c_wbf16_gemv_avx512(out, inp, w, bias, T, IC, OC);
        else if (level == 3 && !(be && be->wbf16_exact)) s1c_wbf16_gemm_avx512bf16(out, inp, w, bias, T, IC, OC);
        else s1c_wbf16_gemm_avx512(out, inp, w, bias, T, IC, OC);
        return;
    }
#endif
#ifdef WBF16_X86
    if (level == 1 && T > WBF16_ROWS_MAX_T) {  // the panels + sgemm path serves scalar only
        s1c_wbf16_gemm_avx2(out, inp, w, bias, T, IC, OC);
        return;
    }
#endif
    matmul_wbf16_ref(out, inp, w, bias, T, IC, OC);
}

void s1c_cpu_embedding_wbf16(s1c_backend *be, void *out_, const int32_t *ids, const uint16_t *wte, int T, int C) {
    (void)be;
    float *out = out_;  // [T, C]
#pragma omp parallel for schedule(static) if (T >= 64)
    for (int t = 0; t < T; t++) {
        S1C_ASSERT(ids[t] >= 0);
        s1c_cpu_widen_bf16(out + (size_t)t * C, wte + (size_t)ids[t] * C, (size_t)C);
    }
}
