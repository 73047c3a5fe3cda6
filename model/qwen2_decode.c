// qwen2_decode.c — see qwen2_decode.h. The block is the same composition of ops as the training
// forward (qwen2_forward.c), with the K/V of the new rows written to the cache and attention
// reading the cache instead of the packed batch.
#include "qwen2_decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2_internal.h"

static inline void *act_at(const void *p, size_t off, size_t asz) { return (char *)p + off * asz; }

struct s1c_decode_ws {
    int max_T, max_seq, max_blocks, max_out;
    size_t total_bytes;                         // all buffers below (for the memory plan)
    void *x, *ln, *qkv, *att, *xmid, *gu, *sw;  // [T, C] [T, C] [T, QKV] [T, Q] [T, C] [T, 2I] [T, I] act
    float *rstd;                                // [T]
    void *hsel;                                 // [max_out, C] act: last rows gathered
    void *logits;                               // [max_out, V] act
    float *logits_f32;                          // [max_out, V]
    float *inv_freq;                            // [hd / 2]
    int32_t *ids, *pos, *row_seq, *slot;        // [T]
    int32_t *tables;                            // [max_seq, max_blocks]
    int32_t *cu;                                // [max_seq + 1] cu_seqlens of the fresh prompts
    float *lse;                                 // [nh, T] log-sum-exp of the packed attention
    int32_t *choice;                            // [max_out] greedy ids (argmax_rows)
    int32_t *out_rows;                          // [max_out] rows of x that go through the LM head
    int32_t *banned;                            // [max_out, S1C_DECODE_MAX_BANNED]
    // Tensor parallelism (tp > 1): the group's logits and greedy candidates.
    int tp;
    float *gather;        // [tp, max_out, Vl] backend: every rank's logits slice
    float *pair, *pairs;  // [max_out, 2], [tp, max_out, 2] backend: (value, global id) per rank
    float *host_f;        // [(tp + 1) * max_out * (Vl + 4)] host staging
    int32_t *host_ids;    // [max(max_T, max_out * MAX_BANNED)] host: ids remapped to this rank's rows
};

// Linear layer for the few rows of a decode step: the backend's weight-streaming variant when it
// has one, its ordinary GEMM otherwise.
static void mm(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC, int OC) {
    (be->matmul_decode ? be->matmul_decode : be->matmul_fwd)(be, out, inp, w, bias, T, IC, OC);
}

// A linear layer of the model: its weights in act dtype, or bf16 for a bf16-weight model (vecs).
static void linear(const s1c_qwen2_model *m, void *out, const void *inp, const void *w, const void *bias, int T,
                   int IC, int OC) {
    if (m->vecs) m->be->matmul_wbf16(m->be, out, inp, w, bias, T, IC, OC);
    else mm(m->be, out, inp, w, bias, T, IC, OC);
}

s1c_status s1c_decode_ops_check(const s1c_backend *be) {
    if (be->attention_decode && be->kv_cache_write) return S1C_OK;
    return s1c_err("backend '%s': no paged KV-cache attention (attention_decode) yet", be->name);
}

s1c_status s1c_kv_pool_create(s1c_backend *be, const s1c_qwen2_config *cfg, int n_blocks, int block_size,
                              s1c_kv_pool *kv) {
    memset(kv, 0, sizeof *kv);
    if (n_blocks <= 0 || block_size <= 0) return s1c_err("kv cache: %d blocks of %d tokens", n_blocks, block_size);
    kv->n_layers = cfg->num_hidden_layers;
    kv->n_blocks = n_blocks;
    kv->block_size = block_size;
    kv->n_kv_head = cfg->num_key_value_heads;
    kv->head_dim = cfg->head_dim;
    kv->k = s1c_xcalloc((size_t)kv->n_layers, sizeof(void *));
    kv->v = s1c_xcalloc((size_t)kv->n_layers, sizeof(void *));
    size_t bytes = (size_t)n_blocks * block_size * kv->n_kv_head * kv->head_dim * s1c_dtype_size(be->act_dtype);
    for (int l = 0; l < kv->n_layers; l++) {
        kv->k[l] = be->alloc(be, bytes);
        kv->v[l] = be->alloc(be, bytes);
        if (!kv->k[l] || !kv->v[l]) {
            s1c_kv_pool_free(be, kv);
            return s1c_err_prefix("kv cache: %d blocks x %d tokens x %d layers", n_blocks, block_size, cfg->num_hidden_layers);
        }
    }
    return S1C_OK;
}

void s1c_kv_pool_free(s1c_backend *be, s1c_kv_pool *kv) {
    for (int l = 0; l < kv->n_layers; l++) {
        if (kv->k && kv->k[l]) be->free(be, kv->k[l]);
        if (kv->v && kv->v[l]) be->free(be, kv->v[l]);
    }
    free(kv->k);
    free(kv->v);
    memset(kv, 0, sizeof *kv);
}

void s1c_kv_pool_copy_block(s1c_backend *be, s1c_kv_pool *kv, int dst, int src) {
    size_t blk = (size_t)kv->block_size * kv->n_kv_head * kv->head_dim * s1c_dtype_size(be->act_dtype);
    for (int l = 0; l < kv->n_layers; l++) {
        be->copy_d2d(be, (char *)kv->k[l] + (size_t)dst * blk, (char *)kv->k[l] + (size_t)src * blk, blk);
        be->copy_d2d(be, (char *)kv->v[l] + (size_t)dst * blk, (char *)kv->v[l] + (size_t)src * blk, blk);
    }
}

static s1c_decode_ws *ws_create(s1c_backend *be, const s1c_qwen2_config *cfg, int tp, int max_T, int max_seq,
                                int max_blocks, int max_out) {
    if (max_T <= 0 || max_seq <= 0 || max_blocks <= 0 || max_out <= 0) {
        s1c_err("decode workspace: sizes must be positive (T %d, seqs %d, blocks %d, out %d)", max_T, max_seq,
                max_blocks, max_out);
        return NULL;
    }
    s1c_decode_ws *ws = s1c_xcalloc(1, sizeof *ws);
    ws->max_T = max_T;
    ws->max_seq = max_seq;
    ws->max_blocks = max_blocks;
    ws->max_out = max_out;
    const size_t a = s1c_dtype_size(be->act_dtype), T = (size_t)max_T, C = (size_t)cfg->hidden_size;
    const size_t I = (size_t)cfg->intermediate_size, hd = (size_t)cfg->head_dim;
    const size_t Q = (size_t)cfg->num_attention_heads * hd;
    const size_t QKV = (size_t)(cfg->num_attention_heads + 2 * cfg->num_key_value_heads) * hd;
    const size_t V = (size_t)cfg->vocab_size;
    int ok = 1;
#define WS_ALLOC(field, bytes)                       \
    do {                                             \
        ws->field = be->alloc(be, (bytes));          \
        ws->total_bytes += (bytes);                  \
        if (!ws->field) ok = 0;                      \
    } while (0)
    WS_ALLOC(x, T * C * a);
    const size_t TO = T > (size_t)max_out ? T : (size_t)max_out;  // ln and rstd also serve the head rows
    WS_ALLOC(ln, TO * C * a);
    WS_ALLOC(qkv, T * QKV * a);
    WS_ALLOC(att, T * Q * a);
    WS_ALLOC(xmid, T * C * a);
    WS_ALLOC(gu, T * 2 * I * a);
    WS_ALLOC(sw, T * I * a);
    WS_ALLOC(rstd, TO * sizeof(float));
    WS_ALLOC(hsel, (size_t)max_out * C * a);
    WS_ALLOC(logits, (size_t)max_out * V * a);
    WS_ALLOC(logits_f32, (size_t)max_out * V * sizeof(float));
    WS_ALLOC(inv_freq, hd / 2 * sizeof(float) + 4);
    WS_ALLOC(ids, T * sizeof(int32_t));
    WS_ALLOC(pos, T * sizeof(int32_t));
    WS_ALLOC(row_seq, T * sizeof(int32_t));
    WS_ALLOC(slot, T * sizeof(int32_t));
    WS_ALLOC(tables, (size_t)max_seq * max_blocks * sizeof(int32_t));
    WS_ALLOC(cu, ((size_t)max_seq + 1) * sizeof(int32_t));
    WS_ALLOC(lse, (size_t)cfg->num_attention_heads * T * sizeof(float));
    WS_ALLOC(choice, (size_t)max_out * sizeof(int32_t));
    WS_ALLOC(out_rows, (size_t)max_out * sizeof(int32_t));
    WS_ALLOC(banned, (size_t)max_out * S1C_DECODE_MAX_BANNED * sizeof(int32_t));
    ws->tp = tp;
    if (tp > 1) {
        WS_ALLOC(gather, (size_t)tp * max_out * V * sizeof(float));
        WS_ALLOC(pair, (size_t)max_out * 2 * sizeof(float));
        WS_ALLOC(pairs, (size_t)tp * max_out * 2 * sizeof(float));
        ws->host_f = s1c_xmalloc(((size_t)tp + 1) * max_out * (V + 4) * sizeof(float));
        const size_t nb = (size_t)max_out * S1C_DECODE_MAX_BANNED;  // also the banned ids' local rows
        ws->host_ids = s1c_xmalloc((T > nb ? T : nb) * sizeof(int32_t));
    }
#undef WS_ALLOC
    if (!ok) {
        s1c_decode_ws_free(be, ws);
        s1c_err_prefix("decode workspace for %d tokens", max_T);
        return NULL;
    }
    // Start-up: the backend's plans and op workspace for a step of max_T rows now, not in the first
    // step (CUDA: the prefill's cuDNN forward plans, the split-KV partials). vocab 0: inference.
    if (be->prepare) be->prepare(be, (int)T, cfg->num_attention_heads, cfg->num_key_value_heads, (int)hd, 0);
    float *inv = s1c_xmalloc(hd / 2 * sizeof(float) + 4);
    s1c_rope_inv_freq(inv, (int)hd, cfg->rope_theta);
    be->copy_h2d(be, ws->inv_freq, inv, hd / 2 * sizeof(float));
    be->synchronize(be);
    free(inv);
    return ws;
}

s1c_decode_ws *s1c_decode_ws_create(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int max_seq,
                                    int max_blocks, int max_out) {
    return ws_create(be, cfg, 1, max_T, max_seq, max_blocks, max_out);
}

s1c_decode_ws *s1c_decode_ws_create_model(const s1c_qwen2_model *m, int max_T, int max_seq, int max_blocks,
                                          int max_out) {
    return ws_create(m->be, &m->shard, m->group ? m->tp.size : 1, max_T, max_seq, max_blocks, max_out);
}

size_t s1c_decode_ws_bytes(const s1c_decode_ws *ws) { return ws ? ws->total_bytes : 0; }

void s1c_decode_ws_free(s1c_backend *be, s1c_decode_ws *ws) {
    if (!ws) return;
    void *bufs[] = {ws->x,    ws->ln,     ws->qkv,      ws->att,      ws->xmid, ws->gu,  ws->sw,
                    ws->rstd, ws->hsel,   ws->logits,   ws->logits_f32, ws->inv_freq, ws->ids, ws->pos,
                    ws->row_seq, ws->slot, ws->tables, ws->cu, ws->lse, ws->choice, ws->banned, ws->out_rows,
                    ws->gather, ws->pair, ws->pairs};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) be->free(be, bufs[i]);
    free(ws->host_f);
    free(ws->host_ids);
    free(ws);
}

// The step up to fp32 logits of the requested rows in ws->logits_f32 [n_out, V] (backend memory).
// The group's sum of a row-parallel output (no-op without TP).
static s1c_status tp_sum(const s1c_qwen2_model *m, void *buf, size_t n) {
    if (!m->group) return S1C_OK;
    s1c_status st = m->group->all_reduce_sum(m->group->ctx, buf, n);
    return st == S1C_OK ? S1C_OK : s1c_err_prefix("tensor parallel: all-reduce of %zu values", n);
}

// The step up to fp32 logits of the requested rows in ws->logits_f32 [n_out, Vl] (backend
// memory; Vl = V without TP, this rank's vocabulary rows with it).
static s1c_status decode_logits(const s1c_qwen2_model *m, s1c_kv_pool *kv, s1c_decode_ws *ws, const s1c_decode_batch *b) {
    s1c_backend *be = m->be;
    const s1c_qwen2_config *cfg = &m->shard;  // this rank's heads, MLP columns, vocabulary rows
    const int T = b->T, C = cfg->hidden_size, I = cfg->intermediate_size, V = m->cfg.vocab_size;
    const int Vl = cfg->vocab_size;
    if (ws->tp != (m->group ? m->tp.size : 1))
        return s1c_err("decode step: workspace made for %d ranks, model shard of %d", ws->tp, m->tp.size);
    const int nh = cfg->num_attention_heads, nkv = cfg->num_key_value_heads, hd = cfg->head_dim;
    const int Q = nh * hd, QKV = (nh + 2 * nkv) * hd, L = cfg->num_hidden_layers;
    S1C_TRY(s1c_decode_ops_check(be));
    if (T <= 0 || T > ws->max_T || b->n_seq <= 0 || b->n_seq > ws->max_seq || b->max_blocks > ws->max_blocks ||
        b->n_out < 0 || b->n_out > ws->max_out)
        return s1c_err("decode step: %d rows / %d sequences / %d blocks / %d outputs exceed the workspace "
                       "(%d / %d / %d / %d)", T, b->n_seq, b->max_blocks, b->n_out, ws->max_T, ws->max_seq,
                       ws->max_blocks, ws->max_out);
    const long n_slots = (long)kv->n_blocks * kv->block_size;
    for (int t = 0; t < T; t++) {
        if (b->ids[t] < 0 || b->ids[t] >= V) return s1c_err("decode step: token id %d outside vocab [0, %d)", b->ids[t], V);
        if (b->pos[t] < 0 || b->pos[t] >= cfg->max_position_embeddings)
            return s1c_err("decode step: position %d outside the context of %d", b->pos[t], cfg->max_position_embeddings);
        if (b->row_seq[t] < 0 || b->row_seq[t] >= b->n_seq || b->slot[t] < 0 || b->slot[t] >= n_slots ||
            b->pos[t] / kv->block_size >= b->max_blocks)
            return s1c_err("decode step: row %d has a bad sequence, slot or position", t);
    }
    for (int o = 0; o < b->n_out; o++)
        if (b->out_rows[o] < 0 || b->out_rows[o] >= T) return s1c_err("decode step: output row %d outside [0, %d)", b->out_rows[o], T);

    if (m->group) {  // this rank's embedding rows; a token another rank holds reads the zero row Vl
        for (int t = 0; t < T; t++) {
            const int r = b->ids[t] - m->tp.vocab0;
            ws->host_ids[t] = r >= 0 && r < m->tp.vocab_n ? r : Vl;
        }
        be->copy_h2d(be, ws->ids, ws->host_ids, (size_t)T * sizeof(int32_t));
    } else {
        be->copy_h2d(be, ws->ids, b->ids, (size_t)T * sizeof(int32_t));
    }
    be->copy_h2d(be, ws->pos, b->pos, (size_t)T * sizeof(int32_t));
    be->copy_h2d(be, ws->row_seq, b->row_seq, (size_t)T * sizeof(int32_t));
    be->copy_h2d(be, ws->slot, b->slot, (size_t)T * sizeof(int32_t));
    be->copy_h2d(be, ws->tables, b->block_tables, (size_t)b->n_seq * b->max_blocks * sizeof(int32_t));
    // Leading rows that are whole fresh prompts (positions 0..n-1 of one sequence, nothing cached)
    // attend only among themselves: the packed flash attention of training serves them far
    // faster than the per-row paged loop; the remaining rows read the cache.
    int32_t cu_host[1025];
    int n_fresh = 0, T_fresh = 0, max_len = 0;
    cu_host[0] = 0;
    for (int r = 0; r < T && n_fresh < 1024 && n_fresh < ws->max_seq;) {
        int e = r;
        while (e < T && b->row_seq[e] == b->row_seq[r] && b->pos[e] == e - r) e++;
        if (b->pos[r] != 0 || (e < T && b->row_seq[e] == b->row_seq[r])) break;
        cu_host[++n_fresh] = e;
        if (e - r > max_len) max_len = e - r;
        T_fresh = e;
        r = e;
    }
    if (n_fresh) be->copy_h2d(be, ws->cu, cu_host, ((size_t)n_fresh + 1) * sizeof(int32_t));
    const s1c_attn_shape fs = {.T = T_fresh, .n_seq = n_fresh, .cu_seqlens = ws->cu, .n_head = nh, .n_kv_head = nkv,
                               .head_dim = hd, .max_seqlen = max_len};

    const size_t asz = s1c_dtype_size(be->act_dtype);
    const s1c_block_offsets o = s1c_qwen2_block_offsets(cfg);
    const s1c_paged_shape ps = {T - T_fresh, nh, nkv, hd, kv->block_size, b->max_blocks, ws->tables,
                                ws->row_seq + T_fresh, ws->pos + T_fresh};
    // bf16-weight model: matrices at the same element offsets in bf16, vectors packed in fp32.
    const int wbf = m->vecs != NULL;
    const size_t wsz = wbf ? sizeof(uint16_t) : asz;
    const s1c_qwen2_vec_offsets vo = s1c_qwen2_block_vec_offsets(cfg);
    if (wbf) be->embedding_wbf16(be, ws->x, ws->ids, m->params[0], T, C);
    else be->embedding_fwd(be, ws->x, ws->ids, m->params[0], T, C);
    S1C_TRY(tp_sum(m, ws->x, (size_t)T * C));
    for (int l = 0; l < L; l++) {
        const void *blk = m->params[s1c_qwen2_unit_block(l)];
        const float *vec = wbf ? m->vecs[s1c_qwen2_unit_block(l)] : NULL;
        const void *ln1 = wbf ? (const void *)(vec + vo.ln1) : act_at(blk, o.ln1, asz);
        const void *ln2 = wbf ? (const void *)(vec + vo.ln2) : act_at(blk, o.ln2, asz);
        const void *qkv_b = wbf ? (const void *)(vec + vo.qkv_b) : act_at(blk, o.qkv_b, asz);
        be->rmsnorm_fwd(be, ws->ln, ws->rstd, ws->x, ln1, T, C, cfg->rms_norm_eps);
        linear(m, ws->qkv, ws->ln, act_at(blk, o.qkv_w, wsz), qkv_b, T, C, QKV);
        be->rope_fwd(be, ws->qkv, ws->pos, ws->inv_freq, T, nh, nkv, hd);
        be->kv_cache_write(be, kv->k[l], kv->v[l], ws->qkv, ws->slot, T, nh, nkv, hd);
        if (T_fresh) be->attention_fwd(be, ws->att, ws->lse, ws->qkv, &fs);
        if (T > T_fresh)
            be->attention_decode(be, act_at(ws->att, (size_t)T_fresh * Q, asz), act_at(ws->qkv, (size_t)T_fresh * QKV, asz),
                                 kv->k[l], kv->v[l], &ps);
        linear(m, ws->xmid, ws->att, act_at(blk, o.o_w, wsz), NULL, T, Q, C);
        S1C_TRY(tp_sum(m, ws->xmid, (size_t)T * C));  // row-parallel o_proj (Qwen2 has no o_proj bias)
        if (be->rmsnorm_residual_fwd) {  // xmid += x, then ln = rmsnorm(xmid), one pass
            be->rmsnorm_residual_fwd(be, ws->ln, ws->rstd, ws->xmid, ws->x, ln2, T, C, cfg->rms_norm_eps);
        } else {
            be->add_inplace(be, ws->xmid, ws->x, (size_t)T * C);
            be->rmsnorm_fwd(be, ws->ln, ws->rstd, ws->xmid, ln2, T, C, cfg->rms_norm_eps);
        }
        linear(m, ws->gu, ws->ln, act_at(blk, o.gu_w, wsz), NULL, T, C, 2 * I);
        be->swiglu_fwd(be, ws->sw, ws->gu, T, I);
        linear(m, ws->x, ws->sw, act_at(blk, o.down_w, wsz), NULL, T, I, C);
        S1C_TRY(tp_sum(m, ws->x, (size_t)T * C));  // row-parallel down_proj
        be->add_inplace(be, ws->x, ws->xmid, (size_t)T * C);
    }
    // Only the rows whose next token is sampled go through the final norm and the LM head (none in
    // a step that only prefills part of a prompt). The embedding lookup is a row gather: one
    // launch instead of a copy per row.
    if (b->n_out == 0) return S1C_OK;
    be->copy_h2d(be, ws->out_rows, b->out_rows, (size_t)b->n_out * sizeof(int32_t));
    be->embedding_fwd(be, ws->hsel, ws->out_rows, ws->x, b->n_out, C);
    const int hu = s1c_qwen2_unit_head(cfg);
    const void *head = wbf ? (const void *)m->vecs[hu] : m->params[hu];  // model.norm.weight first
    be->rmsnorm_fwd(be, ws->ln, ws->rstd, ws->hsel, head, b->n_out, C, cfg->rms_norm_eps);
    linear(m, ws->logits, ws->ln, s1c_qwen2_lm_weight(m), NULL, b->n_out, C, Vl);
    be->act_to_f32(be, ws->logits_f32, ws->logits, (size_t)b->n_out * Vl);
    return S1C_OK;
}

s1c_status s1c_qwen2_decode(const s1c_qwen2_model *m, s1c_kv_pool *kv, s1c_decode_ws *ws, const s1c_decode_batch *b,
                            float *logits_host) {
    S1C_TRY(decode_logits(m, kv, ws, b));
    if (b->n_out == 0) return S1C_OK;
    if (!m->group) {
        m->be->copy_d2h(m->be, logits_host, ws->logits_f32, (size_t)b->n_out * m->cfg.vocab_size * sizeof(float));
        return S1C_OK;
    }
    // Sampling needs whole rows: every rank's slice, [tp, n_out, Vl] -> [n_out, V] on the host.
    const int tp = m->tp.size, Vl = m->shard.vocab_size, V = m->cfg.vocab_size, n = b->n_out;
    const size_t per = (size_t)n * Vl;
    if (m->group->all_gather_f32(m->group->ctx, ws->gather, ws->logits_f32, per) != S1C_OK)
        return s1c_err_prefix("tensor parallel: all-gather of %d logits rows", n);
    m->be->copy_d2h(m->be, ws->host_f, ws->gather, (size_t)tp * per * sizeof(float));
    for (int r = 0; r < tp; r++) {
        const int v0 = r * Vl, nv = V - v0 < Vl ? (V - v0 > 0 ? V - v0 : 0) : Vl;
        for (int o = 0; o < n && nv > 0; o++)
            memcpy(logits_host + (size_t)o * V + v0, ws->host_f + (size_t)r * per + (size_t)o * Vl, (size_t)nv * sizeof(float));
    }
    return S1C_OK;
}

// Greedy over a tensor-parallel group: this rank's best (value, global id) per row among its
// vocabulary rows below vocab_limit and not banned, then the group's best — the largest value,
// the lowest id on ties, as argmax_rows over the whole row picks (ranks hold ascending ranges).
static s1c_status tp_argmax(const s1c_qwen2_model *m, s1c_decode_ws *ws, int n, int vocab_limit,
                            const int32_t *banned_host, int max_banned, int32_t *ids_host) {
    s1c_backend *be = m->be;
    const int tp = m->tp.size, Vl = m->shard.vocab_size, v0 = m->tp.vocab0;
    int lim = vocab_limit - v0;
    if (lim > m->tp.vocab_n) lim = m->tp.vocab_n;
    float *pair = ws->host_f;  // [n, 2]
    for (int o = 0; o < 2 * n; o += 2) pair[o] = -INFINITY, pair[o + 1] = -1.0f;
    if (lim > 0) {
        int32_t *lban = ws->host_ids;  // [n, max_banned] this rank's row numbers of the banned ids
        for (int k = 0; k < n * max_banned; k++) {
            const int r = banned_host[k] - v0;
            lban[k] = banned_host[k] >= 0 && r >= 0 && r < lim ? r : -1;
        }
        if (max_banned) be->copy_h2d(be, ws->banned, lban, (size_t)n * (size_t)max_banned * sizeof(int32_t));
        be->argmax_rows(be, ws->choice, ws->logits_f32, n, lim, Vl, max_banned ? ws->banned : NULL, max_banned);
        be->copy_d2h(be, ids_host, ws->choice, (size_t)n * sizeof(int32_t));
        for (int o = 0; o < n; o++) {
            float v;
            be->copy_d2h(be, &v, ws->logits_f32 + (size_t)o * Vl + ids_host[o], sizeof v);
            int ban = isnan(v);  // argmax_rows gives 0 when every candidate is banned or NaN
            for (int j = 0; j < max_banned && !ban; j++) ban = lban[(size_t)o * max_banned + j] == ids_host[o];
            if (!ban) pair[2 * o] = v, pair[2 * o + 1] = (float)(v0 + ids_host[o]);  // ids < 2^24: exact
        }
    }
    be->copy_h2d(be, ws->pair, pair, (size_t)n * 2 * sizeof(float));
    if (m->group->all_gather_f32(m->group->ctx, ws->pairs, ws->pair, (size_t)n * 2) != S1C_OK)
        return s1c_err_prefix("tensor parallel: all-gather of %d greedy candidates", n);
    float *all = ws->host_f + 2 * (size_t)n;  // [tp, n, 2]
    be->copy_d2h(be, all, ws->pairs, (size_t)tp * n * 2 * sizeof(float));
    for (int o = 0; o < n; o++) {
        float best = -INFINITY;
        int id = -1;
        for (int r = 0; r < tp; r++) {
            const float *q = all + ((size_t)r * n + o) * 2;
            if (q[1] >= 0 && (id < 0 || q[0] > best)) best = q[0], id = (int)q[1];
        }
        ids_host[o] = id < 0 ? 0 : id;
    }
    return S1C_OK;
}

s1c_status s1c_qwen2_decode_argmax(const s1c_qwen2_model *m, s1c_kv_pool *kv, s1c_decode_ws *ws,
                                   const s1c_decode_batch *b, int vocab_limit, const int32_t *banned_host,
                                   int max_banned, int32_t *ids_host) {
    s1c_backend *be = m->be;
    const int V = m->cfg.vocab_size;
    if (!be->argmax_rows) return s1c_err("backend '%s': no argmax_rows (greedy decoding on the device)", be->name);
    if (vocab_limit <= 0 || vocab_limit > V) return s1c_err("decode step: vocab limit %d outside [1, %d]", vocab_limit, V);
    if (max_banned < 0 || max_banned > S1C_DECODE_MAX_BANNED || (max_banned && !banned_host))
        return s1c_err("decode step: %d banned ids per row (at most %d)", max_banned, S1C_DECODE_MAX_BANNED);
    S1C_TRY(decode_logits(m, kv, ws, b));
    if (b->n_out == 0) return S1C_OK;
    if (m->group) return tp_argmax(m, ws, b->n_out, vocab_limit, banned_host, max_banned, ids_host);
    if (max_banned)
        be->copy_h2d(be, ws->banned, banned_host, (size_t)b->n_out * (size_t)max_banned * sizeof(int32_t));
    be->argmax_rows(be, ws->choice, ws->logits_f32, b->n_out, vocab_limit, V, max_banned ? ws->banned : NULL,
                    max_banned);
    be->copy_d2h(be, ids_host, ws->choice, (size_t)b->n_out * sizeof(int32_t));
    return S1C_OK;
}
