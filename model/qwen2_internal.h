// qwen2_internal.h — private to model/: the activation store and the block parameter offsets.
#ifndef S1C_QWEN2_INTERNAL_H
#define S1C_QWEN2_INTERNAL_H

#include "arena.h"
#include "qwen2.h"

// Element offsets of a block unit's tensors (the order of qwen2.h / qwen2_layout.c).
typedef struct {
    size_t ln1, qkv_w, qkv_b, o_w, ln2, gu_w, down_w, numel;
} s1c_block_offsets;

static inline s1c_block_offsets s1c_qwen2_block_offsets(const s1c_qwen2_config *c) {
    const size_t C = (size_t)c->hidden_size, I = (size_t)c->intermediate_size;
    const size_t QKV = (size_t)(c->num_attention_heads + 2 * c->num_key_value_heads) * (size_t)c->head_dim;
    const size_t Q = (size_t)c->num_attention_heads * (size_t)c->head_dim;
    s1c_block_offsets o;
    o.ln1 = 0;
    o.qkv_w = o.ln1 + C;
    o.qkv_b = o.qkv_w + QKV * C;
    o.o_w = o.qkv_b + QKV;
    o.ln2 = o.o_w + C * Q;
    o.gu_w = o.ln2 + C;
    o.down_w = o.gu_w + 2 * I * C;
    o.numel = o.down_w + C * I;
    return o;
}

// Per-block activations. With recompute every block's pointers alias one shared set, refilled
// from the block input (xs[l]) just before that block's backward. The attention buffers have
// room for max_ctx context rows (s1c_batch.n_ctx) ahead of the batch's own T rows.
typedef struct {
    void *ln1;    // [T, C] act
    float *rstd1; // [T]
    void *qkv;    // [n_ctx + T, QKV] act, after RoPE (what attention and its backward read)
    void *att;    // [n_ctx + T, Q] act, attention output
    float *lse;   // [nh, n_ctx + T]
    void *xmid;   // [T, C] act, residual stream after attention
    void *ln2;    // [T, C] act
    float *rstd2; // [T]
    void *gu;     // [T, 2I] act, gate | up; [mlp_chunk, 2I] with recompute (one chunk at a time)
    void *sw;     // [T, I] act, silu(gate) * up; [mlp_chunk, I] with recompute
} s1c_block_acts;

struct s1c_qwen2_acts {
    int max_T, max_ctx, recompute, L;
    int mlp_chunk;         // tokens per MLP chunk, 1..max_T
    size_t asz;            // bytes per act element
    void **xs;             // [L + 1] each [T, C] act: the residual stream entering each block, xs[L] = last output
    s1c_block_acts *blk;   // [L]
    s1c_block_acts shared; // the one set used by every block when recompute = 1
    void *hN;              // [T, C] act, final norm output
    float *rstdN;          // [T]
    float *inv_freq;       // [hd / 2] RoPE frequencies
    float *loss;           // [1] scratch scalar for s1c_qwen2_forward_backward
    // backward scratch
    void *dx;    // [T, C] act, gradient of the residual stream (accumulated through the blocks)
    void *dln;   // [T, C] act, gradient of a norm output
    void *dqkv;  // [n_ctx + T, QKV] act
    void *datt;  // [n_ctx + T, Q] act
    void *dgu;   // [mlp_chunk, 2I] act
    void *dsw;   // [mlp_chunk, I] act
    int fwd_T;   // tokens of the last forward, checked by the backward
    s1c_arena mem;  // the one backend allocation every buffer above is carved from
};

// The gate|up [n, 2I] and SwiGLU [n, I] rows of the MLP chunk starting at token t0: the block's
// own rows without recompute, the one chunk-sized buffer with it.
static inline void *s1c_qwen2_mlp_gu(const s1c_qwen2_acts *a, const s1c_block_acts *k, int t0, size_t I) {
    return a->recompute ? k->gu : (char *)k->gu + (size_t)t0 * 2 * I * a->asz;
}
static inline void *s1c_qwen2_mlp_sw(const s1c_qwen2_acts *a, const s1c_block_acts *k, int t0, size_t I) {
    return a->recompute ? k->sw : (char *)k->sw + (size_t)t0 * I * a->asz;
}

// Runs a block's forward from xs[layer] into blk[layer] up to the second norm (ln2): what a
// recomputed backward needs before it recomputes the MLP chunk by chunk.
void s1c_qwen2_block_compute(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer,
                             const void *block, const s1c_batch *b);

// Local tensor p of unit u of a tensor-parallel shard (lp: its desc in the shard's layout) into
// dst (host; fp32, or bf16 bit patterns when bf16), read from the whole-model checkpoint (ck,
// opened with the whole model's layout glay): only the rank's rows / columns are converted.
s1c_status s1c_qwen2_tp_read_param(const s1c_qwen2_ckpt *ck, const s1c_qwen2_config *g, const s1c_qwen2_layout *glay,
                                   const s1c_qwen2_tp *tp, int u, int p, const s1c_param_desc *lp, void *dst, int bf16);

#endif
