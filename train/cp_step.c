// cp_step.c — a step's micro-batches in tokens mode: the cut of each group of sequences, this
// rank's parts of them as batches with whole-sequence weights and the exchange hook.
#include <stdlib.h>
#include <string.h>

#include "cp.h"

s1c_status s1c_cp_step_cut(s1c_sampler *s, long step, int W, int micro_batch, int m, s1c_cp_cut *c,
                           const size_t **ids) {
    memset(c, 0, sizeof *c);
    *ids = NULL;
    const size_t *all = NULL;
    int g = 0;
    S1C_TRY(s1c_sampler_batch(s, step, &all, &g));
    const int per = W * micro_batch, lo = m * per;
    const int n = g - lo < 0 ? 0 : (g - lo < per ? g - lo : per);
    int *len = s1c_xmalloc(sizeof(int) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) len[i] = (int)s->lengths[all[lo + i]];
    s1c_status st = s1c_cp_cut_make(len, n, W, c);
    free(len);
    *ids = all + lo;
    return st;
}

s1c_status s1c_cp_run_sizes(s1c_sampler *s, int W, int micro_batch, s1c_cp_sizes *sz) {
    memset(sz, 0, sizeof *sz);
    const int n_micro = s->global_batch / (W * micro_batch);
    for (long k = 0; k < s->total_steps; k++)
        for (int m = 0; m < n_micro; m++) {
            s1c_cp_cut c;
            const size_t *ids;
            S1C_TRY(s1c_cp_step_cut(s, k, W, micro_batch, m, &c, &ids));
            s1c_cp_sizes_add(sz, &c);
            s1c_cp_cut_free(&c);
        }
    if (sz->max_T < 1) sz->max_T = 1;
    return S1C_OK;
}

typedef struct {
    int32_t *ids;
    uint8_t *mask;
    long targets;  // of the whole (block-cut) sequence
} seq_data;

static s1c_status read_seq(s1c_packed *pk, size_t sample, int len, seq_data *q) {
    const uint32_t full = s1c_packed_length(pk, sample);
    q->ids = s1c_xmalloc((size_t)full * sizeof(int32_t) + 4);
    q->mask = s1c_xmalloc((size_t)full + 1);
    q->targets = 0;
    S1C_TRY(s1c_packed_read(pk, sample, q->ids, q->mask));
    for (int t = 1; t < len; t++) q->targets += q->mask[t] != 0;
    return S1C_OK;
}

// Micro-batch m: the rank's pieces, read and weighed; *out NULL for an empty share.
static s1c_status build_one(const s1c_cp_batcher *cb, const s1c_cp_cut *c, const size_t *ids, int m, int step_samples,
                            long step_targets, s1c_batch **out) {
    *out = NULL;
    const int a = c->first[cb->rank], n = c->first[cb->rank + 1] - a;
    if (n == 0) return S1C_OK;
    seq_data *q = s1c_xcalloc((size_t)n, sizeof *q);
    s1c_batch_part *parts = s1c_xcalloc((size_t)n, sizeof *parts);
    s1c_status st = S1C_OK;
    for (int i = 0; i < n && st == S1C_OK; i++) {
        const s1c_cp_piece *p = &c->piece[a + i];
        const int len = c->len[p->seq];
        st = read_seq(cb->pk, ids[p->seq], len, &q[i]);
        parts[i] = (s1c_batch_part){.ids = q[i].ids, .mask = q[i].mask, .len = len, .begin = p->begin, .end = p->end,
                                    .target_weight = s1c_cp_part_weight(cb->token_mean, cb->W, q[i].targets,
                                                                        step_samples, step_targets)};
    }
    if (st == S1C_OK) {
        s1c_cp_links l;
        s1c_cp_links_of(c, cb->rank, &l);
        const s1c_kv_exchange *hook = s1c_cp_exchange_set(cb->x, m, &l);
        s1c_cp_links_free(&l);
        *out = s1c_xcalloc(1, sizeof(s1c_batch));
        st = s1c_batch_create_parts_in(cb->be, *out, cb->slots ? &cb->slots[m] : NULL, n, parts, hook);
        if (st != S1C_OK) {
            free(*out);
            *out = NULL;
        }
    }
    for (int i = 0; i < n; i++) {
        free(q[i].ids);
        free(q[i].mask);
    }
    free(q);
    free(parts);
    return st;
}

// token_mean: the step's target tokens, each sequence counted by the rank holding its start.
// Every rank reaches the all-reduce, also after a failed read (the caller agrees on failures).
static s1c_status step_targets(const s1c_cp_batcher *cb, long step, int n_micro, int64_t *total) {
    *total = 0;
    s1c_status st = S1C_OK;
    for (int m = 0; m < n_micro && st == S1C_OK; m++) {
        s1c_cp_cut c;
        const size_t *ids;
        st = s1c_cp_step_cut(cb->smp, step, cb->W, cb->micro_batch, m, &c, &ids);
        for (int i = c.first ? c.first[cb->rank] : 0; st == S1C_OK && i < c.first[cb->rank + 1]; i++) {
            if (c.piece[i].begin != 0) continue;
            seq_data q;
            st = read_seq(cb->pk, ids[c.piece[i].seq], c.len[c.piece[i].seq], &q);
            *total += q.targets;
            free(q.ids);
            free(q.mask);
        }
        s1c_cp_cut_free(&c);
    }
    s1c_status rs = cb->comm->all_reduce(cb->comm, total, 1, S1C_COMM_I64, S1C_RED_SUM);
    return st != S1C_OK ? st : rs;
}

s1c_status s1c_cp_build_batches(const s1c_cp_batcher *cb, long step, s1c_batch **out, int n_micro) {
    for (int m = 0; m < n_micro; m++) out[m] = NULL;
    const size_t *all;
    int g = 0;
    S1C_TRY(s1c_sampler_batch(cb->smp, step, &all, &g));
    int64_t targets = 0;
    if (cb->token_mean) S1C_TRY(step_targets(cb, step, n_micro, &targets));
    s1c_status st = S1C_OK;
    for (int m = 0; m < n_micro && st == S1C_OK; m++) {
        s1c_cp_cut c;
        const size_t *ids;
        st = s1c_cp_step_cut(cb->smp, step, cb->W, cb->micro_batch, m, &c, &ids);
        if (st == S1C_OK) st = build_one(cb, &c, ids, m, g, (long)targets, &out[m]);
        s1c_cp_cut_free(&c);
    }
    return st;
}
