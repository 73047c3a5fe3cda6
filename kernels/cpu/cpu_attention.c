// cpu_attention.c — causal grouped-query attention over packed variable-length sequences,
// flash-style: queries and keys are tiled, the softmax is computed online, and no score matrix
// larger than one [ATT_BQ, ATT_BK] tile exists. Tile products go through sgemm (one OpenBLAS
// thread per OpenMP thread); the parallelism is over (sequence, head, query block) forward and
// (sequence, head) backward.
#include <omp.h>
#include <stdlib.h>

#include "cpu_internal.h"

// Tile sizes. Forward: ATT_BQ queries against ATT_BK keys at a time; backward: one block of
// ATT_BWD_BK keys against up to ATT_BWD_BQ queries. Products of 64 x 64 x 64 leave OpenBLAS far
// from its peak (call and packing overhead), so one side of every tile is several times longer;
// the tiles ([64, 256] and [256, 64] floats, 64 KiB) still sit in L2, and the masked part of the
// diagonal tiles stays a small fraction of a causal sequence.
#ifndef ATT_BQ
#define ATT_BQ 64
#endif
#ifndef ATT_BK
#define ATT_BK 256
#endif
#ifndef ATT_BWD_BK
#define ATT_BWD_BK 64
#endif
#ifndef ATT_BWD_BQ
#define ATT_BWD_BQ 256
#endif

typedef struct {
    int s;   // sequence
    int q0;  // first query of the block, relative to the sequence
    int keys;  // keys this block attends to (its cost)
} att_block;

// First query row of sequence i: context rows (s1c_attn_shape.n_ctx) of sequence 0 are keys only.
static int first_query(const s1c_attn_shape *s, int i) { return i == 0 ? s->n_ctx : 0; }

static int cmp_block_desc(const void *a, const void *b) {
    const att_block *x = a, *y = b;
    return (y->keys > x->keys) - (y->keys < x->keys);
}

// Query blocks of every sequence, most expensive first (dynamic scheduling then balances well).
static att_block *att_blocks(const s1c_attn_shape *s, int *n_out) {
    int n = 0;
    for (int i = 0; i < s->n_seq; i++) {
        int len = s->cu_seqlens[i + 1] - s->cu_seqlens[i], q = first_query(s, i);
        S1C_ASSERT(len >= q && q >= 0);
        n += (len - q + ATT_BQ - 1) / ATT_BQ;
    }
    att_block *b = s1c_xmalloc((size_t)(n ? n : 1) * sizeof *b);
    int k = 0;
    for (int i = 0; i < s->n_seq; i++) {
        int len = s->cu_seqlens[i + 1] - s->cu_seqlens[i];
        for (int q0 = first_query(s, i); q0 < len; q0 += ATT_BQ) {
            int nq = len - q0 < ATT_BQ ? len - q0 : ATT_BQ;
            b[k++] = (att_block){.s = i, .q0 = q0, .keys = q0 + nq};
        }
    }
    qsort(b, (size_t)n, sizeof *b, cmp_block_desc);
    *n_out = n;
    return b;
}

void cpu_attention_fwd(s1c_backend *be, void *out_, float *lse, const void *qkv_, const s1c_attn_shape *s) {
    (void)be;
    float *out = out_;        // [T, nh * hd]
    const float *qkv = qkv_;  // [T, (nh + 2 nkv) * hd]
    const int nh = s->n_head, nkv = s->n_kv_head, hd = s->head_dim, T = s->T;
    S1C_ASSERT(nkv > 0 && nh % nkv == 0 && s->cu_seqlens[0] == 0 && s->cu_seqlens[s->n_seq] == T);
    const int group = nh / nkv;
    const int ld = (nh + 2 * nkv) * hd, ldo = nh * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    // context rows are no queries: their out and lse rows read zero
    S1C_ASSERT(s->n_ctx >= 0 && (s->n_ctx == 0 || (s->n_seq > 0 && s->n_ctx <= s->cu_seqlens[1])));
    if (s->n_ctx) {
        memset(out, 0, (size_t)s->n_ctx * ldo * sizeof(float));
        for (int h = 0; h < nh; h++) memset(lse + (size_t)h * T, 0, (size_t)s->n_ctx * sizeof(float));
    }
    int nblk;
    att_block *blk = att_blocks(s, &nblk);
    long n_items = (long)nblk * nh;
    int saved = cpu_gemm_serial_begin();
#pragma omp parallel if (n_items > 1)
    {
        float *sc = s1c_xmalloc((size_t)ATT_BQ * ATT_BK * sizeof(float));  // [BQ, BK] scores, then probabilities
        float *acc = s1c_xmalloc((size_t)ATT_BQ * hd * sizeof(float));     // [BQ, hd] unnormalised output
        float mrow[ATT_BQ], lrow[ATT_BQ];
#pragma omp for schedule(dynamic, 1)
        for (long it = 0; it < n_items; it++) {
            const att_block *b = &blk[it / nh];
            const int h = (int)(it % nh), g = h / group;
            const int base = s->cu_seqlens[b->s];
            const int q0 = b->q0;  // relative to the sequence
            const int nq = b->keys - q0;
            const float *Q = qkv + (size_t)(base + q0) * ld + (size_t)h * hd;          // [nq, hd] stride ld
            const float *K = qkv + (size_t)base * ld + (size_t)(nh + g) * hd;          // [len, hd] stride ld
            const float *V = qkv + (size_t)base * ld + (size_t)(nh + nkv + g) * hd;    // [len, hd] stride ld
            for (int i = 0; i < nq; i++) {
                mrow[i] = -INFINITY;
                lrow[i] = 0.0f;
            }
            memset(acc, 0, (size_t)nq * hd * sizeof(float));
            for (int k0 = 0; k0 < b->keys; k0 += ATT_BK) {
                const int nk = b->keys - k0 < ATT_BK ? b->keys - k0 : ATT_BK;
                cpu_gemm_serial(0, 1, nq, nk, hd, scale, Q, ld, K + (size_t)k0 * ld, ld, 0.0f, sc, ATT_BK);
                for (int i = 0; i < nq; i++) {
                    float *p = sc + (size_t)i * ATT_BK;
                    // keys k0 + j with k0 + j <= q0 + i are visible (causal)
                    int jmax = q0 + i - k0 + 1;
                    if (jmax > nk) jmax = nk;
                    if (jmax <= 0) {
                        memset(p, 0, (size_t)nk * sizeof(float));
                        continue;
                    }
                    float mx = mrow[i];
#pragma omp simd reduction(max : mx)
                    for (int j = 0; j < jmax; j++) mx = p[j] > mx ? p[j] : mx;
                    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
                    for (int j = 0; j < jmax; j++) {
                        float e = cpu_expf(p[j] - mx);
                        p[j] = e;
                        sum += e;
                    }
                    for (int j = jmax; j < nk; j++) p[j] = 0.0f;
                    float alpha = cpu_expf(mrow[i] - mx);  // 0 on the first visible block (-inf)
                    lrow[i] = lrow[i] * alpha + sum;
                    mrow[i] = mx;
                    if (alpha != 1.0f) {
                        float *a = acc + (size_t)i * hd;
#pragma omp simd
                        for (int d = 0; d < hd; d++) a[d] *= alpha;
                    }
                }
                cpu_gemm_serial(0, 0, nq, hd, nk, 1.0f, sc, ATT_BK, V + (size_t)k0 * ld, ld, 1.0f, acc, hd);
            }
            for (int i = 0; i < nq; i++) {
                float inv = 1.0f / lrow[i];
                float *o = out + (size_t)(base + q0 + i) * ldo + (size_t)h * hd;
                const float *a = acc + (size_t)i * hd;
#pragma omp simd
                for (int d = 0; d < hd; d++) o[d] = a[d] * inv;
                lse[(size_t)h * T + base + q0 + i] = mrow[i] + logf(lrow[i]);
            }
        }
        free(sc);
        free(acc);
    }
    cpu_gemm_serial_end(saved);
    free(blk);
}

// FlashAttention-2 backward, per (sequence, query head): probabilities are recomputed from lse,
// D = rowsum(dout * out), dS = P (dP - D) with dP = dout V^T; dQ = scale dS K, dK = scale dS^T Q,
// dV = P^T dout. With GQA several query heads feed one KV head: their dK/dV go to per-query-head
// scratch rows and are summed afterwards, so no two threads ever write the same element.
void cpu_attention_bwd(s1c_backend *be, void *dqkv_, const void *dout_, const void *qkv_, const void *out_,
                       const float *lse, const s1c_attn_shape *s) {
    (void)be;
    float *dqkv = dqkv_;        // [T, (nh + 2 nkv) * hd], overwritten
    const float *dout = dout_;  // [T, nh * hd]
    const float *qkv = qkv_;    // [T, (nh + 2 nkv) * hd]
    const float *out = out_;    // [T, nh * hd]
    const int nh = s->n_head, nkv = s->n_kv_head, hd = s->head_dim, T = s->T, n_seq = s->n_seq;
    S1C_ASSERT(nkv > 0 && nh % nkv == 0 && s->cu_seqlens[0] == 0 && s->cu_seqlens[n_seq] == T);
    const int group = nh / nkv;
    const int ld = (nh + 2 * nkv) * hd, ldo = nh * hd;
    const float scale = 1.0f / sqrtf((float)hd);

    memset(dqkv, 0, (size_t)T * ld * sizeof(float));
    // dK, dV per query head when heads share a KV head: [nh, T, hd] each.
    float *skv = group > 1 ? s1c_xcalloc((size_t)2 * nh * T * hd, sizeof(float)) : NULL;

    // Sequences by length, longest first (cost ~ len^2).
    att_block *ord = s1c_xmalloc((size_t)(n_seq ? n_seq : 1) * sizeof *ord);
    int maxlen = 0;
    for (int i = 0; i < n_seq; i++) {
        int len = s->cu_seqlens[i + 1] - s->cu_seqlens[i];
        ord[i] = (att_block){.s = i, .q0 = 0, .keys = len};
        if (len > maxlen) maxlen = len;
    }
    qsort(ord, (size_t)n_seq, sizeof *ord, cmp_block_desc);
    long n_items = (long)n_seq * nh;

    int saved = cpu_gemm_serial_begin();
#pragma omp parallel if (n_items > 1)
    {
        float *P = s1c_xmalloc((size_t)ATT_BWD_BQ * ATT_BWD_BK * sizeof(float));   // [BQ, BK]
        float *dS = s1c_xmalloc((size_t)ATT_BWD_BQ * ATT_BWD_BK * sizeof(float));  // [BQ, BK]
        float *D = s1c_xmalloc((size_t)(maxlen ? maxlen : 1) * sizeof(float));    // [len]
#pragma omp for schedule(dynamic, 1)
        for (long it = 0; it < n_items; it++) {
            const int sq = ord[it / nh].s, len = ord[it / nh].keys;
            const int h = (int)(it % nh), g = h / group;
            const int base = s->cu_seqlens[sq];
            const size_t row0 = (size_t)base * ld;
            const float *Q = qkv + row0 + (size_t)h * hd;
            const float *K = qkv + row0 + (size_t)(nh + g) * hd;
            const float *V = qkv + row0 + (size_t)(nh + nkv + g) * hd;
            const float *dO = dout + (size_t)base * ldo + (size_t)h * hd;  // [len, hd] stride ldo
            const float *O = out + (size_t)base * ldo + (size_t)h * hd;
            const float *L = lse + (size_t)h * T + base;  // [len]
            const int qs = first_query(s, sq);            // rows before it are keys only
            float *dQ = dqkv + row0 + (size_t)h * hd;
            float *dK, *dV;
            int ldkv;
            if (skv) {
                dK = skv + ((size_t)h * T + base) * hd;
                dV = skv + ((size_t)(nh + h) * T + base) * hd;
                ldkv = hd;
            } else {
                dK = dqkv + row0 + (size_t)(nh + g) * hd;
                dV = dqkv + row0 + (size_t)(nh + nkv + g) * hd;
                ldkv = ld;
            }
            for (int i = qs; i < len; i++) {
                const float *a = dO + (size_t)i * ldo, *b = O + (size_t)i * ldo;
                float d = 0.0f;
#pragma omp simd reduction(+ : d)
                for (int c = 0; c < hd; c++) d += a[c] * b[c];
                D[i] = d;
            }
            for (int k0 = 0; k0 < len; k0 += ATT_BWD_BK) {
                const int nk = len - k0 < ATT_BWD_BK ? len - k0 : ATT_BWD_BK;
                const float *Kb = K + (size_t)k0 * ld, *Vb = V + (size_t)k0 * ld;
                float *dKb = dK + (size_t)k0 * ldkv, *dVb = dV + (size_t)k0 * ldkv;
                // Queries from the block's first key on (earlier ones cannot see these keys).
                for (int q0 = k0 > qs ? k0 : qs; q0 < len; q0 += ATT_BWD_BQ) {
                    const int nq = len - q0 < ATT_BWD_BQ ? len - q0 : ATT_BWD_BQ;
                    const float *Qb = Q + (size_t)q0 * ld, *dOb = dO + (size_t)q0 * ldo;
                    cpu_gemm_serial(0, 1, nq, nk, hd, scale, Qb, ld, Kb, ld, 0.0f, P, ATT_BWD_BK);
                    cpu_gemm_serial(0, 1, nq, nk, hd, 1.0f, dOb, ldo, Vb, ld, 0.0f, dS, ATT_BWD_BK);
                    for (int i = 0; i < nq; i++) {
                        float *p = P + (size_t)i * ATT_BWD_BK, *ds = dS + (size_t)i * ATT_BWD_BK;
                        int jmax = q0 + i - k0 + 1;  // keys k0 + j <= q0 + i are visible
                        if (jmax > nk) jmax = nk;
                        if (jmax < 0) jmax = 0;
                        const float l = L[q0 + i], dd = D[q0 + i];
#pragma omp simd
                        for (int j = 0; j < jmax; j++) {
                            float e = cpu_expf(p[j] - l);
                            p[j] = e;
                            ds[j] = e * (ds[j] - dd);
                        }
                        for (int j = jmax; j < nk; j++) p[j] = ds[j] = 0.0f;
                    }
                    cpu_gemm_serial(1, 0, nk, hd, nq, 1.0f, P, ATT_BWD_BK, dOb, ldo, 1.0f, dVb, ldkv);
                    cpu_gemm_serial(1, 0, nk, hd, nq, scale, dS, ATT_BWD_BK, Qb, ld, 1.0f, dKb, ldkv);
                    cpu_gemm_serial(0, 0, nq, hd, nk, scale, dS, ATT_BWD_BK, Kb, ld, 1.0f, dQ + (size_t)q0 * ld, ld);
                }
            }
        }
        free(P);
        free(dS);
        free(D);
    }
    cpu_gemm_serial_end(saved);

    if (skv) {
        // dK[t, g] = sum over the group's query heads; same for dV.
#pragma omp parallel for schedule(static) if (T >= 16)
        for (int t = 0; t < T; t++) {
            float *row = dqkv + (size_t)t * ld;
            for (int g = 0; g < nkv; g++) {
                float *dk = row + (size_t)(nh + g) * hd, *dv = row + (size_t)(nh + nkv + g) * hd;
                for (int j = 0; j < group; j++) {
                    const int h = g * group + j;
                    const float *sk = skv + ((size_t)h * T + t) * hd, *sv = skv + ((size_t)(nh + h) * T + t) * hd;
#pragma omp simd
                    for (int d = 0; d < hd; d++) {
                        dk[d] += sk[d];
                        dv[d] += sv[d];
                    }
                }
            }
        }
        free(skv);
    }
    free(ord);
}
