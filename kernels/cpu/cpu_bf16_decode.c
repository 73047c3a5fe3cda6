// cpu_bf16_decode.c — the paged KV-cache ops of the "cpu-bf16" backend: a bf16 cache written
// as 2-byte words (no arithmetic, no rounding), and decode attention through the fp32 CPU op.
#include <stdlib.h>

#include "cpu_bf16.h"
#include "cpu_internal.h"

void bf16_kv_cache_write(s1c_backend *be, void *k_cache, void *v_cache, const void *qkv, const int32_t *slot, int T,
                         int n_head, int n_kv_head, int head_dim) {
    (void)be;
    s1c_cpu_kv_rows_copy(k_cache, v_cache, qkv, slot, T, n_head, n_kv_head, head_dim, sizeof(uint16_t));
}

// The cache's size is not in the arguments, so the pools cannot be widened whole: the blocks the
// rows' tables reference (positions 0..pos of each row's sequence) are widened into a compact
// fp32 cache, renumbered 0..n_used-1 through a rewritten table, and the CPU op runs on that.
void bf16_attention_decode(s1c_backend *be, void *out, const void *qkv, const void *k_cache, const void *v_cache,
                           const s1c_paged_shape *s) {
    const int T = s->T, bs = s->block_size, mb = s->max_blocks;
    int n_seq = 0, max_id = -1;
    for (int t = 0; t < T; t++) {
        const int q = s->row_seq[t], nb = s->pos[t] / bs + 1;
        S1C_ASSERT(q >= 0 && s->pos[t] >= 0 && nb <= mb);
        if (q + 1 > n_seq) n_seq = q + 1;
        for (int j = 0; j < nb; j++) {
            const int32_t id = s->block_tables[(size_t)q * mb + j];
            S1C_ASSERT(id >= 0);
            if (id > max_id) max_id = id;
        }
    }
    int32_t *map = bf16_iscratch(be, 0, (size_t)max_id + 1);            // [max_id + 1] old id -> compact, -1
    int32_t *table = bf16_iscratch(be, 1, (size_t)(n_seq ? n_seq : 1) * mb);  // [n_seq, max_blocks]
    for (int i = 0; i <= max_id; i++) map[i] = -1;
    memset(table, 0, (size_t)n_seq * mb * sizeof(int32_t));  // entries no row reads stay 0 (valid)
    int n_used = 0;
    for (int t = 0; t < T; t++) {
        const int q = s->row_seq[t], nb = s->pos[t] / bs + 1;
        for (int j = 0; j < nb; j++) {
            const int32_t id = s->block_tables[(size_t)q * mb + j];
            if (map[id] < 0) map[id] = n_used++;
            table[(size_t)q * mb + j] = map[id];
        }
    }
    const size_t blk = (size_t)bs * s->n_kv_head * s->head_dim;  // elements per block
    const size_t nq = (size_t)T * (s->n_head + 2 * s->n_kv_head) * s->head_dim;
    const size_t no = (size_t)T * s->n_head * s->head_dim;
    float *kc = bf16_scratch(be, 0, (size_t)(n_used ? n_used : 1) * blk);  // [n_used, bs, nkv, hd]
    float *vc = bf16_scratch(be, 1, (size_t)(n_used ? n_used : 1) * blk);  // [n_used, bs, nkv, hd]
    for (int i = 0; i <= max_id; i++)
        if (map[i] >= 0) {
            bf16_widen(kc + (size_t)map[i] * blk, (const uint16_t *)k_cache + (size_t)i * blk, blk);
            bf16_widen(vc + (size_t)map[i] * blk, (const uint16_t *)v_cache + (size_t)i * blk, blk);
        }
    const float *x = bf16_in(be, 2, qkv, nq);  // [T, (nh + 2 nkv) hd]
    float *o = bf16_scratch(be, 3, no);        // [T, nh hd]
    s1c_paged_shape c = *s;
    c.block_tables = table;
    s1c_backend *f32 = bf16_st(be)->f32;
    f32->attention_decode(f32, o, x, kc, vc, &c);
    bf16_narrow(out, o, no);
}

void bf16_matmul_decode(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                        int OC) {
    const float *x = bf16_in(be, 0, inp, (size_t)T * IC);  // [T, IC]
    const float *wf = bf16_in(be, 1, w, (size_t)OC * IC);  // [OC, IC]
    const float *b = bf16_in(be, 2, bias, (size_t)OC);     // [OC] or NULL
    float *o = bf16_scratch(be, 3, (size_t)T * OC);        // [T, OC]
    s1c_backend *f32 = bf16_st(be)->f32;
    f32->matmul_decode(f32, o, x, wf, b, T, IC, OC);
    bf16_narrow(out, o, (size_t)T * OC);
}
