// cpu_wbf16_avx2_gemm.c — the many-row GEMM over bf16 weights for AVX2 + FMA machines (see
// cpu_wbf16.h): the structure of the AVX-512 one (cpu_wbf16_avx512.c) in 16 ymm registers. A
// thread widens 6 weight rows into an fp32 panel [6, IC] (exact), the inputs are packed once per
// call, transposed in blocks of 16 rows ([IC][16]), and step k of a tile is 2 vector loads of
// inputs and 6 broadcasts of panel weights into 12 accumulators (16 rows x 6 features).
// It replaces widened panels handed to sgemm, which re-packed the whole input for every panel.
#include <omp.h>
#include <stdlib.h>

#include "cpu_internal.h"
#include "cpu_wbf16.h"

#ifdef WBF16_X86
#include <immintrin.h>

#define A2 __attribute__((target("avx2,fma")))
#define RB2 16  // rows per tile (2 vectors of 8)
#define MO2 6   // features per tile

A2 static void widen_rows2(float *dst, const uint16_t *src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(
                                      _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i))), 16)));
    for (; i < n; i++) {
        const uint32_t u = (uint32_t)src[i] << 16;
        memcpy(dst + i, &u, sizeof u);
    }
}

// out[t0 + j, o0 + a] for j < nt, a < na; xt: [IC][16] packed rows, wp: [6][IC] widened weights.
A2 static void tile2(float *out, const float *xt, const float *wp, const float *bias, int IC, int OC, int t0, int nt,
                     int o0, int na) {
    const float *w0 = wp, *w1 = wp + IC, *w2 = wp + 2 * (size_t)IC, *w3 = wp + 3 * (size_t)IC;
    const float *w4 = wp + 4 * (size_t)IC, *w5 = wp + 5 * (size_t)IC;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < IC; k++) {
        const __m256 x0 = _mm256_loadu_ps(xt + (size_t)k * RB2), x1 = _mm256_loadu_ps(xt + (size_t)k * RB2 + 8);
        __m256 b = _mm256_broadcast_ss(w0 + k);
        c00 = _mm256_fmadd_ps(b, x0, c00), c01 = _mm256_fmadd_ps(b, x1, c01);
        b = _mm256_broadcast_ss(w1 + k);
        c10 = _mm256_fmadd_ps(b, x0, c10), c11 = _mm256_fmadd_ps(b, x1, c11);
        b = _mm256_broadcast_ss(w2 + k);
        c20 = _mm256_fmadd_ps(b, x0, c20), c21 = _mm256_fmadd_ps(b, x1, c21);
        b = _mm256_broadcast_ss(w3 + k);
        c30 = _mm256_fmadd_ps(b, x0, c30), c31 = _mm256_fmadd_ps(b, x1, c31);
        b = _mm256_broadcast_ss(w4 + k);
        c40 = _mm256_fmadd_ps(b, x0, c40), c41 = _mm256_fmadd_ps(b, x1, c41);
        b = _mm256_broadcast_ss(w5 + k);
        c50 = _mm256_fmadd_ps(b, x0, c50), c51 = _mm256_fmadd_ps(b, x1, c51);
    }
    float r[MO2][RB2];  // [feature][row], transposed on the way out
    _mm256_storeu_ps(r[0], c00), _mm256_storeu_ps(r[0] + 8, c01);
    _mm256_storeu_ps(r[1], c10), _mm256_storeu_ps(r[1] + 8, c11);
    _mm256_storeu_ps(r[2], c20), _mm256_storeu_ps(r[2] + 8, c21);
    _mm256_storeu_ps(r[3], c30), _mm256_storeu_ps(r[3] + 8, c31);
    _mm256_storeu_ps(r[4], c40), _mm256_storeu_ps(r[4] + 8, c41);
    _mm256_storeu_ps(r[5], c50), _mm256_storeu_ps(r[5] + 8, c51);
    for (int j = 0; j < nt; j++)
        for (int a = 0; a < na; a++) out[(size_t)(t0 + j) * OC + o0 + a] = r[a][j] + (bias ? bias[o0 + a] : 0.0f);
}

void s1c_wbf16_gemm_avx2(float *out, const float *inp, const uint16_t *w, const float *bias, int T, int IC, int OC) {
    const int n_rb = (T + RB2 - 1) / RB2, nt = omp_get_max_threads();
    const size_t xt_n = (size_t)n_rb * RB2 * IC, wp_n = (size_t)MO2 * IC;
    float *buf = malloc((xt_n + (size_t)nt * wp_n) * sizeof(float));
    S1C_ASSERT(buf != NULL);  // T x IC inputs and one 6 x IC panel per thread
    float *xt = buf;
    const int groups = (OC + MO2 - 1) / MO2;
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static)
        for (int rb = 0; rb < n_rb; rb++) s1c_wbf16_pack_rows(xt + (size_t)rb * IC * RB2, inp, T, IC, rb * RB2, RB2);
        long g0, g1;  // implicit barrier above: xt is complete
        cpu_split(groups, omp_get_thread_num(), omp_get_num_threads(), &g0, &g1);
        const int lo = (int)g0 * MO2, hi = (int)g1 * MO2 < OC ? (int)g1 * MO2 : OC;
        float *wp = buf + xt_n + (size_t)omp_get_thread_num() * wp_n;
        for (int o0 = lo; o0 < hi; o0 += MO2) {
            const int na = hi - o0 < MO2 ? hi - o0 : MO2;
            widen_rows2(wp, w + (size_t)o0 * IC, (size_t)na * IC);
            for (int a = na; a < MO2; a++) memcpy(wp + (size_t)a * IC, wp + (size_t)(na - 1) * IC, (size_t)IC * sizeof(float));
            for (int rb = 0; rb < n_rb; rb++) {
                const int t0 = rb * RB2;
                tile2(out, xt + (size_t)rb * IC * RB2, wp, bias, IC, OC, t0, T - t0 < RB2 ? T - t0 : RB2, o0, na);
            }
        }
    }
    free(buf);
}
#endif
