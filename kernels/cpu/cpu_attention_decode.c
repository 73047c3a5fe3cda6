// cpu_attention_decode.c — paged KV-cache ops of the CPU backend (fp32): cache write and
// attention of query rows over their sequence's cached positions.
//
// Work item = (row, KV head, split): the q heads sharing a KV head are processed together so
// every cached k/v row is loaded once per group. Scores are computed one cache block at a time and
// folded into an online softmax (running max m, normaliser l, accumulator acc). With fewer
// (row, KV head) pairs than twice the threads — batch 1 has as many as the model has KV heads,
// 2 for Qwen2.5-0.5B, so a 16-core machine would run 2 threads — and long contexts, each row's
// positions are split into ranges of whole cache blocks (split-KV, flash-decoding): every range
// yields its (m, l, unnormalised acc) and a combine pass rescales them by exp(m_s - max m) and
// divides by the rescaled sum of l (the algorithm of cpu_decode_split.c, the CUDA kernel's
// reference), so all threads work on one long sequence.
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

void s1c_cpu_kv_rows_copy(void *k_cache, void *v_cache, const void *qkv, const int32_t *slot, int T, int n_head,
                          int n_kv_head, int head_dim, size_t esz) {
    const size_t kv = (size_t)n_kv_head * head_dim * esz, row = (size_t)(n_head + 2 * n_kv_head) * head_dim * esz;
    const char *src = qkv;                 // [T, (nh + 2 nkv) hd] elements of esz bytes
    char *kc = k_cache, *vc = v_cache;     // [n_blocks * block_size, nkv, hd]
    for (int t = 0; t < T; t++) {
        const char *r = src + (size_t)t * row + (size_t)n_head * head_dim * esz;
        memcpy(kc + (size_t)slot[t] * kv, r, kv);
        memcpy(vc + (size_t)slot[t] * kv, r + kv, kv);
    }
}

void s1c_cpu_kv_cache_write(s1c_backend *be, void *k_cache, void *v_cache, const void *qkv, const int32_t *slot,
                            int T, int n_head, int n_kv_head, int head_dim) {
    (void)be;
    s1c_cpu_kv_rows_copy(k_cache, v_cache, qkv, slot, T, n_head, n_kv_head, head_dim, sizeof(float));
}

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "cpu_internal.h"

// A split covers at least this many positions: shorter ranges cost more in the combine pass and
// the per-item setup than the parallelism gains.
#define DECODE_SPLIT_MIN_POS 256

#if defined(__AVX512F__)
// 16 accumulators -> one vector, lane 4k+j = lane sum of c[4j+k] (as in cpu_decode_matmul.c).
static inline __m512 att_reduce16(const __m512 c[16]) {
    __m512 s[8], u[4], w[2];
    for (int j = 0; j < 8; j++)
        s[j] = _mm512_add_ps(_mm512_shuffle_f32x4(c[2 * j], c[2 * j + 1], 0x44),
                             _mm512_shuffle_f32x4(c[2 * j], c[2 * j + 1], 0xEE));
    for (int j = 0; j < 4; j++)
        u[j] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * j], s[2 * j + 1], 0x88),
                             _mm512_shuffle_f32x4(s[2 * j], s[2 * j + 1], 0xDD));
    for (int j = 0; j < 2; j++)
        w[j] = _mm512_add_ps(_mm512_unpacklo_ps(u[2 * j], u[2 * j + 1]), _mm512_unpackhi_ps(u[2 * j], u[2 * j + 1]));
    return _mm512_add_ps(_mm512_shuffle_ps(w[0], w[1], 0x44), _mm512_shuffle_ps(w[0], w[1], 0xEE));
}

// One (row, KV head) item over positions [p_lo, p_hi) (p_lo a multiple of bs), head_dim a
// multiple of 16: 16 cached positions at a time, their 16 dot products per q head summed into one
// score vector by a transposing tree (instead of 16 serial lane sums), one max / exp / rescale per
// chunk, then the V rows accumulated. acc [group, hd], m, l [group] as the online softmax leaves them.
static void att_range16(float *acc, float *m, float *l, const float *q0, const float *kc, const float *vc,
                        const int32_t *table, int p_lo, int p_hi, int bs, int group, int hd, size_t kvrow, int g,
                        float scale, float *p) {
    const int nv = hd / 16;
    for (int j = 0; j < group; j++) m[j] = -INFINITY, l[j] = 0.0f;
    memset(acc, 0, (size_t)group * hd * sizeof(float));
    for (int p0 = p_lo; p0 < p_hi; p0 += bs) {
        const int n = p_hi - p0 < bs ? p_hi - p0 : bs;
        const size_t base = (size_t)table[p0 / bs] * bs;
        for (int i0 = 0; i0 < n; i0 += 16) {
            const int nn = n - i0 < 16 ? n - i0 : 16;
            const __mmask16 valid = (__mmask16)(nn == 16 ? 0xFFFFu : (1u << nn) - 1u);
            const float *kb = kc + (base + i0) * kvrow + (size_t)g * hd;  // nn rows, stride kvrow
            const float *vb = vc + (base + i0) * kvrow + (size_t)g * hd;
            for (int j = 0; j < group; j++) {
                const float *q = q0 + (size_t)j * hd;
                __m512 c[16];
                for (int ii = 0; ii < 16; ii++) {  // position ii lands in lane ii of the tree's output
                    __m512 d = _mm512_setzero_ps();
                    if (ii < nn)
                        for (int v = 0; v < nv; v++)
                            d = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * v), _mm512_loadu_ps(kb + ii * kvrow + 16 * v), d);
                    c[4 * (ii % 4) + ii / 4] = d;
                }
                const __m512 sv = _mm512_mul_ps(att_reduce16(c), _mm512_set1_ps(scale));
                const float cmax = _mm512_mask_reduce_max_ps(valid, sv);
                const float mx = cmax > m[j] ? cmax : m[j];
                const float corr = cpu_expf(m[j] - mx);  // 0 on the first chunk (m = -inf)
                float sc[16];
                _mm512_storeu_ps(sc, sv);
                float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                for (int ii = 0; ii < 16; ii++) {
                    p[ii] = ii < nn ? cpu_expf(sc[ii] - mx) : 0.0f;
                    sum += p[ii];
                }
                l[j] = l[j] * corr + sum;
                float *a = acc + (size_t)j * hd;
                for (int v = 0; v < nv; v++) {
                    __m512 av = _mm512_mul_ps(_mm512_loadu_ps(a + 16 * v), _mm512_set1_ps(corr));
                    for (int ii = 0; ii < nn; ii++)
                        av = _mm512_fmadd_ps(_mm512_set1_ps(p[ii]), _mm512_loadu_ps(vb + ii * kvrow + 16 * v), av);
                    _mm512_storeu_ps(a + 16 * v, av);
                }
                m[j] = mx;
            }
        }
    }
}
#endif

// The same for any head_dim: one cache block at a time. sc: [group, bs] scores.
static void att_range(float *acc, float *m, float *l, const float *q0, const float *kc, const float *vc,
                      const int32_t *table, int p_lo, int p_hi, int bs, int group, int hd, size_t kvrow, int g,
                      float scale, float *sc) {
    for (int j = 0; j < group; j++) m[j] = -INFINITY, l[j] = 0.0f;
    memset(acc, 0, (size_t)group * hd * sizeof(float));
    for (int p0 = p_lo; p0 < p_hi; p0 += bs) {
        const int n = p_hi - p0 < bs ? p_hi - p0 : bs;
        const size_t base = (size_t)table[p0 / bs] * bs;
        for (int j = 0; j < group; j++) {
            const float *q = q0 + (size_t)j * hd;
            float mx = m[j];
            for (int i = 0; i < n; i++) {
                const float *k = kc + (base + i) * kvrow + (size_t)g * hd;
                float d = 0.0f;
#pragma omp simd reduction(+ : d)
                for (int e = 0; e < hd; e++) d += q[e] * k[e];
                d *= scale;
                sc[j * bs + i] = d;
                if (d > mx) mx = d;
            }
            const float corr = expf(m[j] - mx);  // 0 on the first block (m = -inf)
            l[j] *= corr;
            float *a = acc + (size_t)j * hd;
            for (int e = 0; e < hd; e++) a[e] *= corr;
            for (int i = 0; i < n; i++) {
                const float w = expf(sc[j * bs + i] - mx);
                const float *v = vc + (base + i) * kvrow + (size_t)g * hd;
                l[j] += w;
#pragma omp simd
                for (int e = 0; e < hd; e++) a[e] += w * v[e];
            }
            m[j] = mx;
        }
    }
}

int s1c_cpu_decode_n_splits(const s1c_paged_shape *s, int n_threads) {
    const int pairs = s->T * s->n_kv_head;
    if (pairs >= 2 * n_threads) return 1;
    int max_pos = 0;
    for (int t = 0; t < s->T; t++)
        if (s->pos[t] + 1 > max_pos) max_pos = s->pos[t] + 1;
    int n = (2 * n_threads + pairs - 1) / pairs;  // enough items for every thread, twice over (balance)
    const int cap = max_pos / DECODE_SPLIT_MIN_POS;
    if (n > cap) n = cap;
    return n < 1 ? 1 : n;
}

void s1c_cpu_attention_decode_splits(const s1c_paged_shape *s, float *out, const float *qkv, const float *kc,
                                     const float *vc, int n_splits) {
    const int T = s->T, nh = s->n_head, nkv = s->n_kv_head, hd = s->head_dim, bs = s->block_size;
    const int group = nh / nkv;
    const size_t row = (size_t)(nh + 2 * nkv) * hd, kvrow = (size_t)nkv * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    int max_pos = 0;
    for (int t = 0; t < T; t++)
        if (s->pos[t] + 1 > max_pos) max_pos = s->pos[t] + 1;
    if (n_splits < 1) n_splits = 1;
    // Ranges of whole blocks (a block's positions share one table lookup); the last may be short.
    const int blocks = (max_pos + bs - 1) / bs, per = (blocks + n_splits - 1) / n_splits, split_len = per * bs;
    n_splits = (blocks + per - 1) / per;
    // Per thread: scratch (scores); per item: acc [group, hd] and (m, l) [group] of its range.
    const size_t scratch = (size_t)group * (bs > 16 ? bs : 16) + 16;
    const size_t item_floats = (size_t)group * (hd + 2);
    const long n_items = (long)T * nkv * n_splits;
    const int nthreads = omp_get_max_threads();
    float *ws = malloc(((size_t)nthreads * scratch + (n_splits > 1 ? (size_t)n_items * item_floats : 0) +
                        (size_t)nthreads * item_floats) * sizeof(float));
    S1C_ASSERT(ws != NULL);
    float *parts = ws + (size_t)nthreads * scratch, *own = parts + (n_splits > 1 ? (size_t)n_items * item_floats : 0);
    // Fork only when the rows attend to enough cached positions to pay for waking a thread.
    long work = 0;
    for (int t = 0; t < T; t++) work += (long)s->pos[t] + 1;
    work *= (long)nh * hd;
#pragma omp parallel for schedule(dynamic, 1) if (n_items > 1 && work >= (1L << 17))
    for (long item = 0; item < n_items; item++) {
        const int t = (int)(item / ((long)nkv * n_splits)), g = (int)(item / n_splits % nkv), sp = (int)(item % n_splits);
        const int tid = omp_get_thread_num();
        const int n_pos = s->pos[t] + 1, p_lo = sp * split_len;
        const int p_hi = p_lo + split_len < n_pos ? p_lo + split_len : n_pos;
        float *it = n_splits > 1 ? parts + (size_t)item * item_floats : own + (size_t)tid * item_floats;
        float *acc = it, *m = acc + (size_t)group * hd, *l = m + group;
        if (p_lo >= p_hi) {  // beyond this row's position: an empty range (l = 0)
            for (int j = 0; j < group; j++) m[j] = -INFINITY, l[j] = 0.0f;
            continue;
        }
        const int32_t *table = s->block_tables + (size_t)s->row_seq[t] * s->max_blocks;
        const float *q0 = qkv + (size_t)t * row + (size_t)g * group * hd;  // the group's q heads, contiguous
        float *sc = ws + (size_t)tid * scratch;
#if defined(__AVX512F__)
        if (hd % 16 == 0) att_range16(acc, m, l, q0, kc, vc, table, p_lo, p_hi, bs, group, hd, kvrow, g, scale, sc);
        else
#endif
            att_range(acc, m, l, q0, kc, vc, table, p_lo, p_hi, bs, group, hd, kvrow, g, scale, sc);
        if (n_splits == 1)
            for (int j = 0; j < group; j++) {
                float *o = out + (size_t)t * nh * hd + (size_t)(g * group + j) * hd;
                const float inv = 1.0f / l[j];
                for (int e = 0; e < hd; e++) o[e] = acc[(size_t)j * hd + e] * inv;
            }
    }
    if (n_splits > 1) {
        // Combine: out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s, M the largest m_s of a
        // non-empty range (range 0 always holds position 0).
#pragma omp parallel for schedule(static) if ((long)T * nh * n_splits * hd >= (1L << 15))
        for (long th = 0; th < (long)T * nh; th++) {
            const int t = (int)(th / nh), h = (int)(th % nh), g = h / group, j = h % group;
            const float *base = parts + ((size_t)t * nkv + g) * n_splits * item_floats;
            float M = -INFINITY;
            for (int sp = 0; sp < n_splits; sp++) {
                const float *it = base + (size_t)sp * item_floats, *m = it + (size_t)group * hd, *l = m + group;
                if (l[j] > 0.0f && m[j] > M) M = m[j];
            }
            float *o = out + (size_t)t * nh * hd + (size_t)h * hd;
            memset(o, 0, (size_t)hd * sizeof(float));
            float L = 0.0f;
            for (int sp = 0; sp < n_splits; sp++) {
                const float *it = base + (size_t)sp * item_floats, *m = it + (size_t)group * hd, *l = m + group;
                if (l[j] <= 0.0f) continue;
                const float w = expf(m[j] - M);
                const float *acc = it + (size_t)j * hd;
                L += w * l[j];
                for (int e = 0; e < hd; e++) o[e] += w * acc[e];
            }
            const float inv = 1.0f / L;
            for (int e = 0; e < hd; e++) o[e] *= inv;
        }
    }
    free(ws);
}

void s1c_cpu_attention_decode(s1c_backend *be, void *out, const void *qkv, const void *k_cache, const void *v_cache,
                              const s1c_paged_shape *s) {
    (void)be;
    s1c_cpu_attention_decode_splits(s, out, qkv, k_cache, v_cache, s1c_cpu_decode_n_splits(s, omp_get_max_threads()));
}
