// cpu_attention_decode.c — paged KV-cache ops of the CPU backend (fp32): cache write and
// attention of query rows over their sequence's cached positions.
//
// Work item = (row, KV head): the q heads sharing a KV head are processed together so every
// cached k/v row is loaded once per group. Scores are computed one cache block at a time and
// folded into an online softmax (running max m, normaliser l, accumulator acc).
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

#include "cpu_internal.h"

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

// One (row, KV head) item, head_dim a multiple of 16: 16 cached positions at a time, their 16
// dot products per q head summed into one score vector by a transposing tree (instead of 16
// serial lane sums), one max / exp / rescale per chunk, then the V rows accumulated.
static void att_item16(float *out, const float *q0, const float *kc, const float *vc, const int32_t *table, int n_pos,
                       int bs, int group, int hd, size_t kvrow, int g, float scale, float *ws) {
    const int nv = hd / 16;
    float *acc = ws;                          // [group, hd]
    float *m = acc + (size_t)group * hd;      // [group]
    float *l = m + group;                     // [group]
    float *p = l + group;                     // [16] weights of the chunk
    for (int j = 0; j < group; j++) m[j] = -INFINITY, l[j] = 0.0f;
    memset(acc, 0, (size_t)group * hd * sizeof(float));
    for (int p0 = 0; p0 < n_pos; p0 += bs) {
        const int n = n_pos - p0 < bs ? n_pos - p0 : bs;
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
    for (int j = 0; j < group; j++) {
        const float inv = 1.0f / l[j];
        for (int e = 0; e < hd; e++) out[(size_t)j * hd + e] = acc[(size_t)j * hd + e] * inv;
    }
}
#endif

void s1c_cpu_attention_decode(s1c_backend *be, void *out_, const void *qkv_, const void *k_cache, const void *v_cache,
                              const s1c_paged_shape *s) {
    (void)be;
    const int T = s->T, nh = s->n_head, nkv = s->n_kv_head, hd = s->head_dim, bs = s->block_size;
    const int group = nh / nkv;
    const size_t row = (size_t)(nh + 2 * nkv) * hd, kvrow = (size_t)nkv * hd;
    const float *qkv = qkv_;      // [T, row]
    const float *kc = k_cache;    // [slots, nkv, hd]
    const float *vc = v_cache;    // [slots, nkv, hd]
    float *out = out_;            // [T, nh * hd]
    const float scale = 1.0f / sqrtf((float)hd);
    const size_t ws_per = (size_t)group * (hd + 2) + (bs > 16 ? bs : 16) * (size_t)group;
    const int nthreads = omp_get_max_threads();
    float *ws_all = malloc((size_t)nthreads * ws_per * sizeof(float));
    S1C_ASSERT(ws_all != NULL);
    // Fork only when the rows attend to enough cached positions to pay for waking a thread.
    long work = 0;
    for (int t = 0; t < T; t++) work += (long)s->pos[t] + 1;
    work *= (long)s->n_head * hd;
#pragma omp parallel for schedule(dynamic, 1) if (T * nkv > 1 && work >= (1L << 17))
    for (int item = 0; item < T * nkv; item++) {
        const int t = item / nkv, g = item % nkv;
        float *ws = ws_all + (size_t)omp_get_thread_num() * ws_per;
        float *acc = ws;                                   // [group, hd]
        float *m = acc + (size_t)group * hd;               // [group]
        float *l = m + group;                              // [group]
        float *sc = l + group;                             // [group, bs]
        const int32_t *table = s->block_tables + (size_t)s->row_seq[t] * s->max_blocks;
        const int n_pos = s->pos[t] + 1;
        const float *q0 = qkv + (size_t)t * row + (size_t)g * group * hd;  // the group's q heads, contiguous
#if defined(__AVX512F__)
        if (hd % 16 == 0) {
            att_item16(out + (size_t)t * nh * hd + (size_t)g * group * hd, q0, kc, vc, table, n_pos, bs, group, hd, kvrow,
                       g, scale, ws);
            continue;
        }
#endif
        for (int j = 0; j < group; j++) {
            m[j] = -INFINITY;
            l[j] = 0.0f;
        }
        memset(acc, 0, (size_t)group * hd * sizeof(float));
        for (int p0 = 0; p0 < n_pos; p0 += bs) {
            const int n = n_pos - p0 < bs ? n_pos - p0 : bs;
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
        for (int j = 0; j < group; j++) {
            float *o = out + (size_t)t * nh * hd + (size_t)(g * group + j) * hd;
            const float inv = 1.0f / l[j];
            for (int e = 0; e < hd; e++) o[e] = acc[(size_t)j * hd + e] * inv;
        }
    }
    free(ws_all);
}
