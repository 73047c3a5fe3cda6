// cpu_decode_split.c — split-KV decode attention, CPU reference (see cpu_decode_split.h).
#include "cpu_decode_split.h"

#include <math.h>
#include <string.h>

void s1c_cpu_attention_decode_split(float *out, const float *qkv, const float *k_cache, const float *v_cache,
                                    const s1c_paged_shape *s, int n_splits, int split_len, float *ws) {
    const int T = s->T, nh = s->n_head, nkv = s->n_kv_head, hd = s->head_dim, bs = s->block_size;
    const int group = nh / nkv;
    const size_t row = (size_t)(nh + 2 * nkv) * hd, kvrow = (size_t)nkv * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    float *part_acc = ws;                                        // [T, nh, n_splits, hd]
    float *part_ml = ws + (size_t)T * nh * n_splits * hd;        // [T, nh, n_splits, 2]
    // pass 1: one (row, KV head, split) item at a time, the group's q heads together
    for (int t = 0; t < T; t++) {
        const int32_t *table = s->block_tables + (size_t)s->row_seq[t] * s->max_blocks;
        const int last = s->pos[t];
        for (int g = 0; g < nkv; g++)
            for (int sp = 0; sp < n_splits; sp++) {
                const int j0 = sp * split_len, j1 = j0 + split_len - 1 < last ? j0 + split_len - 1 : last;
                for (int jh = 0; jh < group; jh++) {
                    const int h = g * group + jh;
                    const size_t ix = ((size_t)t * nh + h) * n_splits + sp;
                    float *acc = part_acc + ix * hd;
                    const float *q = qkv + (size_t)t * row + (size_t)h * hd;
                    float m = -INFINITY, l = 0.0f;
                    memset(acc, 0, (size_t)hd * sizeof(float));
                    for (int j = j0; j <= j1; j++) {
                        const size_t slot = (size_t)table[j / bs] * bs + (size_t)(j % bs);
                        const float *k = k_cache + slot * kvrow + (size_t)g * hd;
                        const float *v = v_cache + slot * kvrow + (size_t)g * hd;
                        float d = 0.0f;
                        for (int e = 0; e < hd; e++) d += q[e] * k[e];
                        d *= scale;
                        const float mn = d > m ? d : m;
                        const float corr = expf(m - mn), p = expf(d - mn);  // corr 0 at the first key
                        l = l * corr + p;
                        for (int e = 0; e < hd; e++) acc[e] = acc[e] * corr + p * v[e];
                        m = mn;
                    }
                    part_ml[2 * ix] = m;
                    part_ml[2 * ix + 1] = l;
                }
            }
    }
    // pass 2: combine the splits of every (row, q head)
    for (int t = 0; t < T; t++)
        for (int h = 0; h < nh; h++) {
            const size_t ix0 = ((size_t)t * nh + h) * n_splits;
            float M = -INFINITY;
            for (int sp = 0; sp < n_splits; sp++)
                if (part_ml[2 * (ix0 + sp) + 1] > 0.0f && part_ml[2 * (ix0 + sp)] > M) M = part_ml[2 * (ix0 + sp)];
            float *o = out + (size_t)t * nh * hd + (size_t)h * hd;
            memset(o, 0, (size_t)hd * sizeof(float));
            float L = 0.0f;
            for (int sp = 0; sp < n_splits; sp++) {
                const float l = part_ml[2 * (ix0 + sp) + 1];
                if (l <= 0.0f) continue;  // empty split (beyond the row's position)
                const float w = expf(part_ml[2 * (ix0 + sp)] - M);
                const float *acc = part_acc + (ix0 + sp) * hd;
                L += w * l;
                for (int e = 0; e < hd; e++) o[e] += w * acc[e];
            }
            const float inv = 1.0f / L;  // split 0 always holds position 0: L > 0
            for (int e = 0; e < hd; e++) o[e] *= inv;
        }
}
