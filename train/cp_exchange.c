// cp_exchange.c — the K/V exchange of attention across cuts (cp.h), behind the model's
// s1c_kv_exchange hook: packs the K/V columns of qkv rows (copy_2d), moves them with one grouped
// point-to-point call per block and direction, and sums the dK/dV that come back.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cp.h"

typedef struct {
    s1c_cp_exchange *x;
    s1c_cp_links l;
    s1c_kv_exchange hook;
} cp_micro;

struct s1c_cp_exchange {
    s1c_backend *be;
    s1c_comm *comm;
    s1c_cp_sizes sz;
    int n_micro;
    cp_micro *micro;         // [n_micro]
    size_t asz;              // bytes per act element
    int Q, KV, QKV;          // columns: q heads, k|v heads, the whole qkv row
    s1c_comm_dtype dt;
    void *ctx_buf;   // [max_ctx, KV] act: the context's K/V as received; in backward its dK/dV
    void *tail_buf;  // [max_tail, KV] act: the tail's K/V sent; in backward the summed dK/dV
    void *back_buf;  // [max_back, KV] act: dK/dV of the tail from each later rank
    s1c_comm_msg *sends, *recvs;  // [W] each
    s1c_status st;   // first failure since the last s1c_cp_exchange_status
    char msg[512];
    s1c_arena mem;
};

static void carve(s1c_cp_exchange *x, s1c_arena *a) {
    const size_t row = (size_t)x->KV * x->asz;
    x->ctx_buf = s1c_arena_take(a, (size_t)x->sz.max_ctx * row);
    x->tail_buf = s1c_arena_take(a, (size_t)x->sz.max_tail * row);
    x->back_buf = s1c_arena_take(a, (size_t)x->sz.max_back * row);
}

static void geometry(s1c_cp_exchange *x, const s1c_qwen2_config *cfg, s1c_dtype act_dtype, const s1c_cp_sizes *sz) {
    x->sz = *sz;
    x->asz = s1c_dtype_size(act_dtype);
    x->Q = cfg->num_attention_heads * cfg->head_dim;
    x->KV = 2 * cfg->num_key_value_heads * cfg->head_dim;
    x->QKV = x->Q + x->KV;
    x->dt = act_dtype == S1C_F32 ? S1C_COMM_F32 : S1C_COMM_BF16;
}

size_t s1c_cp_exchange_bytes(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, const s1c_cp_sizes *sz) {
    s1c_cp_exchange x;
    memset(&x, 0, sizeof x);
    geometry(&x, cfg, act_dtype, sz);
    s1c_arena a;
    s1c_arena_init(&a, NULL, "context-parallel exchange");
    carve(&x, &a);
    return a.payload;
}

// Records the first failure of a step (the hooks cannot return one; the trainer asks after the
// step) and skips the transfers after it: the job is about to stop anyway.
static void fail(s1c_cp_exchange *x, const char *what, int layer) {
    if (x->st != S1C_OK) return;
    x->st = S1C_ERR;
    snprintf(x->msg, sizeof x->msg, "context-parallel exchange (%s, layer %d): %s", what, layer, s1c_err_msg());
}

// rows x K|V columns of qkv-shaped rows (row pitch QKV) <-> packed [rows, KV]
static void *kv_cols(const s1c_cp_exchange *x, void *qkv, int row) {
    return (char *)qkv + ((size_t)row * x->QKV + x->Q) * x->asz;
}

static void pack(s1c_cp_exchange *x, void *dst, void *qkv, int row, int rows) {
    const size_t w = (size_t)x->KV * x->asz;
    x->be->copy_2d(x->be, dst, w, kv_cols(x, qkv, row), (size_t)x->QKV * x->asz, w, (size_t)rows);
}

static void unpack(s1c_cp_exchange *x, void *qkv, int row, const void *src, int rows) {
    const size_t w = (size_t)x->KV * x->asz;
    x->be->copy_2d(x->be, kv_cols(x, qkv, row), (size_t)x->QKV * x->asz, src, w, w, (size_t)rows);
}

static void *kv_row(const s1c_cp_exchange *x, void *buf, int row) { return (char *)buf + (size_t)row * x->KV * x->asz; }

// Forward of block `layer` after RoPE: tail K/V out to every later rank of its sequence, the
// context's K/V in from every earlier one, into the context rows.
static void cp_forward(void *ctx, int layer, void *qkv) {
    cp_micro *m = ctx;
    s1c_cp_exchange *x = m->x;
    const s1c_cp_links *l = &m->l;
    if (x->st != S1C_OK) return;
    if (l->tail) pack(x, x->tail_buf, qkv, l->n_ctx + l->T - l->tail, l->tail);
    for (int i = 0; i < l->n_to; i++)
        x->sends[i] = (s1c_comm_msg){l->to[i].peer, x->tail_buf, (size_t)l->tail * x->KV};
    for (int i = 0; i < l->n_from; i++)
        x->recvs[i] = (s1c_comm_msg){l->from[i].peer, kv_row(x, x->ctx_buf, l->from[i].ctx_row),
                                     (size_t)l->from[i].rows * x->KV};
    if (x->comm->sendrecv(x->comm, x->sends, l->n_to, x->recvs, l->n_from, x->dt) != S1C_OK) {
        fail(x, "forward", layer);
        return;
    }
    if (l->n_ctx) unpack(x, qkv, 0, x->ctx_buf, l->n_ctx);
}

// Backward of block `layer` after attention's backward: the context's dK/dV back to their
// owners; the later ranks' dK/dV of the tail added to this rank's own, nearest rank first (a
// fixed order: the sums are the same on every run).
static void cp_backward(void *ctx, int layer, void *dqkv) {
    cp_micro *m = ctx;
    s1c_cp_exchange *x = m->x;
    const s1c_cp_links *l = &m->l;
    if (x->st != S1C_OK) return;
    if (l->n_ctx) pack(x, x->ctx_buf, dqkv, 0, l->n_ctx);
    for (int i = 0; i < l->n_from; i++)
        x->sends[i] = (s1c_comm_msg){l->from[i].peer, kv_row(x, x->ctx_buf, l->from[i].ctx_row),
                                     (size_t)l->from[i].rows * x->KV};
    for (int i = 0; i < l->n_to; i++)
        x->recvs[i] = (s1c_comm_msg){l->to[i].peer, kv_row(x, x->back_buf, i * l->tail), (size_t)l->tail * x->KV};
    if (x->comm->sendrecv(x->comm, x->sends, l->n_from, x->recvs, l->n_to, x->dt) != S1C_OK) {
        fail(x, "backward", layer);
        return;
    }
    if (!l->n_to) return;
    const int row = l->n_ctx + l->T - l->tail;
    pack(x, x->tail_buf, dqkv, row, l->tail);
    for (int i = 0; i < l->n_to; i++)
        x->be->add_inplace(x->be, x->tail_buf, kv_row(x, x->back_buf, i * l->tail), (size_t)l->tail * x->KV);
    unpack(x, dqkv, row, x->tail_buf, l->tail);
}

s1c_cp_exchange *s1c_cp_exchange_create(s1c_backend *be, s1c_comm *comm, const s1c_qwen2_config *cfg,
                                        const s1c_cp_sizes *sz, int n_micro) {
    if (be->device_memory != comm->device_buffers) {
        s1c_err("cp: compute backend \"%s\" and collective backend \"%s\" disagree on where buffers live", be->name,
                comm->backend);
        return NULL;
    }
    if (!comm->sendrecv || !be->copy_2d) {
        s1c_err("cp: the \"%s\" communicator or the \"%s\" backend lacks point-to-point transfers", comm->backend,
                be->name);
        return NULL;
    }
    if (comm->device_buffers && comm->set_stream && be->stream && comm->set_stream(comm, be->stream(be)) != S1C_OK) {
        s1c_err_prefix("cp: attaching the compute stream to the exchange's communicator");
        return NULL;
    }
    s1c_cp_exchange *x = s1c_xcalloc(1, sizeof *x);
    x->be = be;
    x->comm = comm;
    x->n_micro = n_micro;
    geometry(x, cfg, be->act_dtype, sz);
    x->micro = s1c_xcalloc((size_t)(n_micro ? n_micro : 1), sizeof(cp_micro));
    for (int i = 0; i < n_micro; i++) {
        x->micro[i].x = x;
        x->micro[i].hook = (s1c_kv_exchange){.ctx = &x->micro[i], .forward = cp_forward, .backward = cp_backward};
    }
    x->sends = s1c_xcalloc((size_t)comm->size, sizeof(s1c_comm_msg));
    x->recvs = s1c_xcalloc((size_t)comm->size, sizeof(s1c_comm_msg));
    s1c_arena_init(&x->mem, be, "context-parallel exchange");
    carve(x, &x->mem);
    if (s1c_arena_alloc(&x->mem) != S1C_OK) {
        s1c_err_prefix("cp: K/V buffers for %d context and %d tail rows", sz->max_ctx, sz->max_tail);
        s1c_cp_exchange_free(x);
        return NULL;
    }
    carve(x, &x->mem);
    return x;
}

void s1c_cp_exchange_free(s1c_cp_exchange *x) {
    if (!x) return;
    for (int i = 0; i < x->n_micro; i++) s1c_cp_links_free(&x->micro[i].l);
    s1c_arena_free(&x->mem);
    free(x->micro);
    free(x->sends);
    free(x->recvs);
    free(x);
}

const s1c_kv_exchange *s1c_cp_exchange_set(s1c_cp_exchange *x, int micro, const s1c_cp_links *l) {
    S1C_ASSERT(micro >= 0 && micro < x->n_micro);
    S1C_ASSERT(l->n_ctx <= x->sz.max_ctx && l->tail <= x->sz.max_tail && l->tail * l->n_to <= x->sz.max_back);
    cp_micro *m = &x->micro[micro];
    s1c_cp_links_free(&m->l);
    m->l = *l;
    m->l.to = s1c_xmalloc(sizeof(s1c_cp_link) * (size_t)(l->n_to ? l->n_to : 1));
    m->l.from = s1c_xmalloc(sizeof(s1c_cp_link) * (size_t)(l->n_from ? l->n_from : 1));
    memcpy(m->l.to, l->to, sizeof(s1c_cp_link) * (size_t)l->n_to);
    memcpy(m->l.from, l->from, sizeof(s1c_cp_link) * (size_t)l->n_from);
    return &m->hook;
}

s1c_status s1c_cp_exchange_status(s1c_cp_exchange *x) {
    if (x->st == S1C_OK) return S1C_OK;
    x->st = S1C_OK;
    return s1c_err("%s", x->msg);
}
