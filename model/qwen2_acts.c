// qwen2_acts.c — activation and backward scratch storage for a Qwen2 forward/backward of max_T
// tokens, carved from one backend allocation (kernels/arena.h): one size known before anything
// is allocated, one out-of-memory message naming it, no fragmentation of device memory.
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2_internal.h"

// mlp_T: rows of gu / sw (T when every block keeps its own, the chunk with recompute); TA: rows
// of the attention buffers (T plus the context rows).
static void block_carve(s1c_arena *ar, s1c_block_acts *k, const s1c_qwen2_config *c, size_t T, size_t TA,
                        size_t mlp_T, size_t asz) {
    const size_t C = (size_t)c->hidden_size, I = (size_t)c->intermediate_size;
    const size_t Q = (size_t)c->num_attention_heads * (size_t)c->head_dim;
    const size_t QKV = Q + 2 * (size_t)c->num_key_value_heads * (size_t)c->head_dim;
    k->ln1 = s1c_arena_take(ar, T * C * asz);
    k->rstd1 = s1c_arena_take(ar, T * sizeof(float));
    k->qkv = s1c_arena_take(ar, TA * QKV * asz);
    k->att = s1c_arena_take(ar, TA * Q * asz);
    k->lse = s1c_arena_take(ar, (size_t)c->num_attention_heads * TA * sizeof(float));
    k->xmid = s1c_arena_take(ar, T * C * asz);
    k->ln2 = s1c_arena_take(ar, T * C * asz);
    k->rstd2 = s1c_arena_take(ar, T * sizeof(float));
    k->gu = s1c_arena_take(ar, mlp_T * 2 * I * asz);
    k->sw = s1c_arena_take(ar, mlp_T * I * asz);
}

// Lays out every buffer of a (a->max_T, recompute, mlp_chunk, asz, L set; xs and blk allocated):
// the measuring and the carving pass both run this, so the size cannot drift from the layout.
static void acts_carve(s1c_arena *ar, s1c_qwen2_acts *a, const s1c_qwen2_config *cfg) {
    const size_t T = (size_t)a->max_T, C = (size_t)cfg->hidden_size, I = (size_t)cfg->intermediate_size;
    const size_t Q = (size_t)cfg->num_attention_heads * (size_t)cfg->head_dim;
    const size_t QKV = Q + 2 * (size_t)cfg->num_key_value_heads * (size_t)cfg->head_dim;
    const size_t CH = (size_t)a->mlp_chunk, asz = a->asz, TA = T + (size_t)a->max_ctx;
    for (int l = 0; l <= a->L; l++) a->xs[l] = s1c_arena_take(ar, T * C * asz);
    if (a->recompute) {
        block_carve(ar, &a->shared, cfg, T, TA, CH, asz);
        for (int l = 0; l < a->L; l++) a->blk[l] = a->shared;
    } else {
        for (int l = 0; l < a->L; l++) block_carve(ar, &a->blk[l], cfg, T, TA, T, asz);
    }
    a->hN = s1c_arena_take(ar, T * C * asz);
    a->rstdN = s1c_arena_take(ar, T * sizeof(float));
    a->inv_freq = s1c_arena_take(ar, (size_t)cfg->head_dim / 2 * sizeof(float));
    a->loss = s1c_arena_take(ar, sizeof(float));
    a->dx = s1c_arena_take(ar, T * C * asz);
    a->dln = s1c_arena_take(ar, T * C * asz);
    a->dqkv = s1c_arena_take(ar, TA * QKV * asz);
    a->datt = s1c_arena_take(ar, TA * Q * asz);
    a->dgu = s1c_arena_take(ar, CH * 2 * I * asz);
    a->dsw = s1c_arena_take(ar, CH * I * asz);
}

// The host part of an acts object (no backend memory yet); NULL + message on bad arguments.
static s1c_qwen2_acts *acts_new(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, int max_T, int max_ctx,
                                int recompute, int mlp_chunk) {
    if (max_T <= 0) {
        s1c_err("activations: max_T = %d must be positive", max_T);
        return NULL;
    }
    if (max_ctx < 0 || max_ctx > INT_MAX - max_T) {
        s1c_err("activations: %d context rows (with %d tokens) out of range", max_ctx, max_T);
        return NULL;
    }
    if (mlp_chunk <= 0) {
        s1c_err("activations: MLP chunk = %d tokens must be positive", mlp_chunk);
        return NULL;
    }
    s1c_qwen2_acts *a = s1c_xcalloc(1, sizeof(*a));
    a->max_T = max_T;
    a->max_ctx = max_ctx;
    a->recompute = recompute != 0;
    a->L = cfg->num_hidden_layers;
    a->mlp_chunk = mlp_chunk < max_T ? mlp_chunk : max_T;
    a->asz = s1c_dtype_size(act_dtype);
    a->xs = s1c_xcalloc((size_t)a->L + 1, sizeof(void *));
    a->blk = s1c_xcalloc((size_t)(a->L > 0 ? a->L : 1), sizeof(s1c_block_acts));
    return a;
}

size_t s1c_qwen2_acts_bytes(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, int max_T, int recompute,
                            int mlp_chunk) {
    return s1c_qwen2_acts_bytes_ctx(cfg, act_dtype, max_T, 0, recompute, mlp_chunk);
}

size_t s1c_qwen2_acts_bytes_ctx(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, int max_T, int max_ctx,
                                int recompute, int mlp_chunk) {
    s1c_qwen2_acts *a = acts_new(cfg, act_dtype, max_T, max_ctx, recompute, mlp_chunk);
    if (!a) return 0;
    s1c_arena ar;
    s1c_arena_init(&ar, NULL, "activations");
    acts_carve(&ar, a, cfg);
    s1c_qwen2_acts_free(NULL, a);
    return ar.overflow ? SIZE_MAX : ar.payload;
}

s1c_qwen2_acts *s1c_qwen2_acts_create(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int recompute) {
    return s1c_qwen2_acts_create_chunked(be, cfg, max_T, recompute, S1C_QWEN2_MLP_CHUNK);
}

s1c_qwen2_acts *s1c_qwen2_acts_create_chunked(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int recompute,
                                              int mlp_chunk) {
    return s1c_qwen2_acts_create_ctx(be, cfg, max_T, 0, recompute, mlp_chunk);
}

s1c_qwen2_acts *s1c_qwen2_acts_create_ctx(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int max_ctx,
                                          int recompute, int mlp_chunk) {
    s1c_qwen2_acts *a = acts_new(cfg, be->act_dtype, max_T, max_ctx, recompute, mlp_chunk);
    if (!a) return NULL;
    s1c_arena_init(&a->mem, be, "activations");
    acts_carve(&a->mem, a, cfg);  // measure
    if (s1c_arena_alloc(&a->mem) != S1C_OK) {
        s1c_err_prefix("activations for %d tokens + %d context rows (recompute %d)", max_T, max_ctx, a->recompute);
        s1c_qwen2_acts_free(be, a);
        return NULL;
    }
    acts_carve(&a->mem, a, cfg);  // carve
    float *inv = s1c_xmalloc((size_t)cfg->head_dim / 2 * sizeof(float) + sizeof(float));
    s1c_rope_inv_freq(inv, cfg->head_dim, cfg->rope_theta);
    be->copy_h2d(be, a->inv_freq, inv, (size_t)cfg->head_dim / 2 * sizeof(float));
    free(inv);
    // Start-up, before any step: let the backend build its plans and workspace for max_T now
    // rather than inside the first step (CUDA: cuDNN plans, the op arena).
    if (be->prepare)
        be->prepare(be, max_T + max_ctx, cfg->num_attention_heads, cfg->num_key_value_heads, cfg->head_dim,
                    cfg->vocab_size);
    return a;
}

size_t s1c_qwen2_acts_size(const s1c_qwen2_acts *a) { return a->mem.payload; }

void s1c_qwen2_acts_free(s1c_backend *be, s1c_qwen2_acts *a) {
    (void)be;  // the arena remembers its backend
    if (!a) return;
    s1c_arena_free(&a->mem);
    free(a->xs);
    free(a->blk);
    free(a);
}
