// batch.c — a packed variable-length batch: ids, next-token targets, per-token loss weights that
// carry both the loss mask and the normalisation, positions and sequence offsets.
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2.h"

static int is_target(const uint8_t *const *seq_mask, int s, int t) {
    return !seq_mask || !seq_mask[s] || seq_mask[s][t] != 0;
}

s1c_status s1c_batch_create(s1c_backend *be, s1c_batch *b, int n_seq, const int32_t *const *seq_ids,
                            const uint8_t *const *seq_mask, const int *seq_len, s1c_loss_norm norm,
                            double denominator_scale) {
    return s1c_batch_create_in(be, b, NULL, n_seq, seq_ids, seq_mask, seq_len, norm, denominator_scale);
}

s1c_status s1c_batch_create_in(s1c_backend *be, s1c_batch *b, s1c_batch_slot *slot, int n_seq,
                               const int32_t *const *seq_ids, const uint8_t *const *seq_mask, const int *seq_len,
                               s1c_loss_norm norm, double denominator_scale) {
    memset(b, 0, sizeof(*b));
    if (n_seq < 1) return s1c_err("batch: %d sequences (need at least one)", n_seq);
    if (!(denominator_scale > 0.0)) return s1c_err("batch: denominator_scale %g must be positive", denominator_scale);
    if (norm != S1C_LOSS_SEQ_MEAN && norm != S1C_LOSS_TOKEN_MEAN) return s1c_err("batch: unknown loss normalisation %d", norm);
    long long n_targets = 0;
    for (int s = 0; s < n_seq; s++)
        for (int t = 1; t < seq_len[s]; t++) n_targets += is_target(seq_mask, s, t);
    s1c_batch_part *parts = s1c_xmalloc(sizeof(s1c_batch_part) * (size_t)n_seq);
    for (int s = 0; s < n_seq; s++) {
        long long cnt = 0;
        for (int t = 1; t < seq_len[s]; t++) cnt += is_target(seq_mask, s, t);
        // Sequence mean: each sequence's token losses average to its own mean, then the sequences
        // average (a sequence without targets contributes 0 but still counts in n_seq).
        double per = 0.0;
        if (norm == S1C_LOSS_SEQ_MEAN) per = cnt ? 1.0 / ((double)cnt * n_seq * denominator_scale) : 0.0;
        else per = n_targets ? 1.0 / ((double)n_targets * denominator_scale) : 0.0;
        parts[s] = (s1c_batch_part){.ids = seq_ids[s], .mask = seq_mask ? seq_mask[s] : NULL, .len = seq_len[s],
                                    .begin = 0, .end = seq_len[s], .target_weight = per};
    }
    s1c_status st = s1c_batch_create_parts_in(be, b, slot, n_seq, parts, NULL);
    free(parts);
    return st;
}

// The block's layout: ids, targets, weight, pos ([T] 4-byte values each), cu_seqlens [n_seq + 1],
// emb_order [T] and emb_seg [T + 1], each array at a 256-byte offset.
static size_t arr4(int T) { return ((sizeof(int32_t) * (size_t)(T > 0 ? T : 0) + 255) / 256) * 256; }
size_t s1c_batch_block_bytes(int T, int n_seq) { return 5 * arr4(T) + arr4(n_seq + 1) + arr4(T + 1); }

static int cmp_i64(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int s1c_embed_order(const int32_t *ids, int T, int32_t *order, int32_t *seg) {
    if (T <= 0) {
        seg[0] = 0;
        return 0;
    }
    // (id, position) keys are distinct, so any sort gives the one order; ids are >= 0 (checked by
    // the batch builder) and positions < 2^31.
    int64_t *key = s1c_xmalloc(sizeof(int64_t) * (size_t)T);
    for (int t = 0; t < T; t++) key[t] = ((int64_t)ids[t] << 32) | (int64_t)(uint32_t)t;
    qsort(key, (size_t)T, sizeof *key, cmp_i64);
    int n = 0;
    for (int j = 0; j < T; j++) {
        order[j] = (int32_t)(key[j] & 0xffffffff);
        if (j == 0 || (key[j] >> 32) != (key[j - 1] >> 32)) seg[n++] = j;
    }
    seg[n] = T;
    free(key);
    return n;
}

size_t s1c_batch_slot_bytes(int max_T) { return s1c_batch_block_bytes(max_T, max_T); }

s1c_status s1c_batch_slot_alloc(s1c_backend *be, s1c_batch_slot *slot, int max_T) {
    memset(slot, 0, sizeof(*slot));
    if (max_T < 1) return s1c_err("batch slot: max_T %d (need at least one token)", max_T);
    slot->bytes = s1c_batch_slot_bytes(max_T);
    slot->block = be->alloc(be, slot->bytes);
    if (!slot->block) {
        slot->bytes = 0;
        return s1c_err_prefix("batch slot for %d tokens", max_T);
    }
    slot->max_T = max_T;
    return S1C_OK;
}

void s1c_batch_slot_free(s1c_backend *be, s1c_batch_slot *slot) {
    if (slot->block) be->free(be, slot->block);
    memset(slot, 0, sizeof(*slot));
}

s1c_status s1c_batch_create_parts(s1c_backend *be, s1c_batch *b, int n_parts, const s1c_batch_part *parts,
                                  const s1c_kv_exchange *kvx) {
    return s1c_batch_create_parts_in(be, b, NULL, n_parts, parts, kvx);
}

s1c_status s1c_batch_create_parts_in(s1c_backend *be, s1c_batch *b, s1c_batch_slot *slot, int n_parts,
                                     const s1c_batch_part *parts, const s1c_kv_exchange *kvx) {
    memset(b, 0, sizeof(*b));
    if (n_parts < 1) return s1c_err("batch: %d sequences (need at least one)", n_parts);
    long long T = 0;
    int32_t max_id = 0;
    int max_len = 0;
    for (int s = 0; s < n_parts; s++) {
        const s1c_batch_part *p = &parts[s];
        if (p->len < 1) return s1c_err("batch: sequence %d has length %d (need at least one token)", s, p->len);
        if (p->begin < 0 || p->end <= p->begin || p->end > p->len)
            return s1c_err("batch: part %d: tokens [%d, %d) of a %d-token sequence", s, p->begin, p->end, p->len);
        if (s > 0 && p->begin > 0)
            return s1c_err("batch: part %d starts at token %d: only the first part may continue a sequence", s,
                           p->begin);
        if (p->begin > 0 && !kvx)
            return s1c_err("batch: part 0 starts at token %d but no K/V exchange provides its context", p->begin);
        if (!(p->target_weight >= 0.0) || !isfinite(p->target_weight))
            return s1c_err("batch: part %d: target weight %g", s, p->target_weight);
        T += p->end - p->begin;
        // attention rows: the first sequence's include its context
        const int rows = p->end - (s == 0 ? 0 : p->begin);
        if (rows > max_len) max_len = rows;
        if (T + parts[0].begin > INT_MAX / 4) return s1c_err("batch: %lld tokens is too many for one batch", T);
        // ids up to end (the last token's target) when the sequence goes on
        const int last = p->end < p->len ? p->end : p->len - 1;
        for (int t = p->begin; t <= last; t++) {
            if (p->ids[t] < 0) return s1c_err("batch: sequence %d token %d has negative id %d", s, t, p->ids[t]);
            if (p->ids[t] > max_id) max_id = p->ids[t];
        }
    }
    const int nT = (int)T, n_seq = n_parts;
    // One backend block and one copy for the seven arrays (each at a 256-byte offset), not five
    // allocations: on the GPU every cudaMalloc / cudaFree pair synchronises the device, and a batch
    // is made per micro-batch; with a slot (sized at start-up) there is no allocation at all. The
    // host staging buffer has the same layout.
    const size_t a4 = arr4(nT);
    const size_t block_bytes = s1c_batch_block_bytes(nT, n_seq);
    if (slot && block_bytes > slot->bytes)
        return s1c_err("batch: %d tokens in %d sequences need %zu bytes, more than the %zu-byte slot sized for %d "
                       "tokens", nT, n_seq, block_bytes, slot->bytes, slot->max_T);
    char *host = s1c_xmalloc(block_bytes);
    memset(host, 0, block_bytes);
    int32_t *ids = (int32_t *)host, *tg = (int32_t *)(host + a4);
    float *w = (float *)(host + 2 * a4);
    int32_t *pos = (int32_t *)(host + 3 * a4), *cu = (int32_t *)(host + 4 * a4);
    const size_t o_order = 4 * a4 + arr4(n_seq + 1), o_seg = o_order + a4;
    int at = 0;
    cu[0] = 0;
    for (int s = 0; s < n_seq; s++) {
        const s1c_batch_part *p = &parts[s];
        const float per = (float)p->target_weight;
        for (int t = p->begin; t < p->end; t++, at++) {
            ids[at] = p->ids[t];
            pos[at] = t;
            const int has = t + 1 < p->len && (!p->mask || p->mask[t + 1] != 0);
            tg[at] = t + 1 < p->len ? p->ids[t + 1] : 0;
            w[at] = has ? per : 0.0f;
        }
        cu[s + 1] = at + parts[0].begin;  // attention rows: the context rows come first
    }
    const int n_emb_seg = s1c_embed_order(ids, nT, (int32_t *)(host + o_order), (int32_t *)(host + o_seg));
    b->T = nT;
    b->n_seq = n_seq;
    b->max_id = max_id;
    b->max_seqlen = max_len;
    b->n_emb_seg = n_emb_seg;
    b->n_ctx = parts[0].begin;
    b->kvx = kvx;
    b->block = slot ? slot->block : be->alloc(be, block_bytes);
    b->borrowed = slot != NULL;
    s1c_status st = S1C_OK;
    if (!b->block) {
        st = s1c_err_prefix("batch of %d tokens", nT);
        s1c_batch_free(be, b);
    } else {
        char *d = b->block;
        b->ids = (int32_t *)d;
        b->targets = (int32_t *)(d + a4);
        b->weight = (float *)(d + 2 * a4);
        b->pos = (int32_t *)(d + 3 * a4);
        b->cu_seqlens = (int32_t *)(d + 4 * a4);
        b->emb_order = (int32_t *)(d + o_order);
        b->emb_seg = (int32_t *)(d + o_seg);
        be->copy_h2d(be, b->block, host, block_bytes);
    }
    free(host);
    return st;
}

void s1c_batch_free(s1c_backend *be, s1c_batch *b) {
    if (b->block && !b->borrowed) be->free(be, b->block);  // ids .. cu_seqlens live in it
    memset(b, 0, sizeof(*b));
}

s1c_attn_shape s1c_batch_attn_shape(const s1c_qwen2_config *cfg, const s1c_batch *b) {
    return (s1c_attn_shape){.T = b->n_ctx + b->T, .n_seq = b->n_seq, .cu_seqlens = b->cu_seqlens,
                            .n_head = cfg->num_attention_heads, .n_kv_head = cfg->num_key_value_heads,
                            .head_dim = cfg->head_dim, .max_seqlen = b->max_seqlen, .n_ctx = b->n_ctx};
}

void s1c_batch_prepare(s1c_backend *be, const s1c_qwen2_config *cfg, const s1c_batch *b) {
    if (!be->prepare_attn || !b) return;
    const s1c_attn_shape s = s1c_batch_attn_shape(cfg, b);
    be->prepare_attn(be, &s);
}
