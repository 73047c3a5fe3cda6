// qwen2_forward.c — Qwen2 forward per unit: embedding, decoder block, final norm + LM head / loss.
//
// Block: x → rmsnorm → fused q|k|v matmul (+bias) → RoPE → causal GQA attention → o_proj → + x
//          → rmsnorm → fused gate|up matmul → SwiGLU → down_proj → + residual.
#include "qwen2_internal.h"

// Byte address of element `off` in an act-dtype buffer.
static inline void *act_at(const void *p, size_t off, size_t asz) { return (char *)p + off * asz; }

void s1c_qwen2_embed_fwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, const void *embed,
                         const s1c_batch *b) {
    S1C_ASSERT(b->T > 0 && b->T <= a->max_T);
    S1C_ASSERT(b->n_ctx >= 0 && b->n_ctx <= a->max_ctx && (b->n_ctx == 0 || b->kvx));
    S1C_ASSERT(b->max_id < cfg->vocab_size);  // an id past the embedding would read out of bounds
    be->embedding_fwd(be, a->xs[0], b->ids, embed, b->T, cfg->hidden_size);
    a->fwd_T = b->T;
}

// full = 0 stops after the second norm: the recompute before a block's backward needs every
// saved activation up to ln2; the backward recomputes the MLP chunk by chunk and never reads
// the block output.
static void block_run(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer, const void *block,
                      const s1c_batch *b, int full) {
    S1C_ASSERT(layer >= 0 && layer < a->L && b->T == a->fwd_T);
    const int T = b->T, C = cfg->hidden_size, I = cfg->intermediate_size;
    const int nh = cfg->num_attention_heads, nkv = cfg->num_key_value_heads, hd = cfg->head_dim;
    const int Q = nh * hd, QKV = (nh + 2 * nkv) * hd, nc = b->n_ctx;
    const size_t asz = a->asz;
    const s1c_block_offsets o = s1c_qwen2_block_offsets(cfg);
    s1c_block_acts *k = &a->blk[layer];
    const void *x = a->xs[layer];  // [T, C]
    // the batch's own rows follow the context rows in the attention buffers
    void *qkv = act_at(k->qkv, (size_t)nc * QKV, asz);  // [T, QKV]
    const void *att = act_at(k->att, (size_t)nc * Q, asz);  // [T, Q]

    be->rmsnorm_fwd(be, k->ln1, k->rstd1, x, act_at(block, o.ln1, asz), T, C, cfg->rms_norm_eps);
    be->matmul_fwd(be, qkv, k->ln1, act_at(block, o.qkv_w, asz), act_at(block, o.qkv_b, asz), T, C, QKV);
    be->rope_fwd(be, qkv, b->pos, a->inv_freq, T, nh, nkv, hd);
    if (b->kvx) b->kvx->forward(b->kvx->ctx, layer, k->qkv);  // context K/V in, own K/V out
    const s1c_attn_shape s = s1c_batch_attn_shape(cfg, b);  // the shape s1c_batch_prepare prepared
    be->attention_fwd(be, k->att, k->lse, k->qkv, &s);
    be->matmul_fwd(be, k->xmid, att, act_at(block, o.o_w, asz), NULL, T, Q, C);
    if (be->rmsnorm_residual_fwd) {  // xmid += x, then ln2 = rmsnorm(xmid): one pass on the GPU
        be->rmsnorm_residual_fwd(be, k->ln2, k->rstd2, k->xmid, x, act_at(block, o.ln2, asz), T, C, cfg->rms_norm_eps);
    } else {
        be->add_inplace(be, k->xmid, x, (size_t)T * C);
        be->rmsnorm_fwd(be, k->ln2, k->rstd2, k->xmid, act_at(block, o.ln2, asz), T, C, cfg->rms_norm_eps);
    }
    if (!full) return;
    void *y = a->xs[layer + 1];  // [T, C]
    for (int t0 = 0; t0 < T; t0 += a->mlp_chunk) {
        const int n = T - t0 < a->mlp_chunk ? T - t0 : a->mlp_chunk;
        void *gu = s1c_qwen2_mlp_gu(a, k, t0, (size_t)I), *sw = s1c_qwen2_mlp_sw(a, k, t0, (size_t)I);  // [n, 2I], [n, I]
        be->matmul_fwd(be, gu, act_at(k->ln2, (size_t)t0 * C, asz), act_at(block, o.gu_w, asz), NULL, n, C, 2 * I);
        be->swiglu_fwd(be, sw, gu, n, I);
        be->matmul_fwd(be, act_at(y, (size_t)t0 * C, asz), sw, act_at(block, o.down_w, asz), NULL, n, I, C);
    }
    be->add_inplace(be, y, k->xmid, (size_t)T * C);
}

void s1c_qwen2_block_compute(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer,
                             const void *block, const s1c_batch *b) {
    block_run(be, cfg, a, layer, block, b, 0);
}

void s1c_qwen2_block_fwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer,
                         const void *block, const s1c_batch *b) {
    block_run(be, cfg, a, layer, block, b, 1);
}

void s1c_qwen2_head_fwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, const void *head,
                        const void *lm_w, const s1c_batch *b, float *loss, float *head_grad, float *lm_grad) {
    S1C_ASSERT(b->T == a->fwd_T);
    const int T = b->T, C = cfg->hidden_size, V = cfg->vocab_size, L = a->L;
    // head unit: model.norm.weight [C] first (then lm_head.weight when untied, passed as lm_w).
    be->rmsnorm_fwd(be, a->hN, a->rstdN, a->xs[L], head, T, C, cfg->rms_norm_eps);
    if (!head_grad) {
        be->lmhead_ce(be, loss, NULL, NULL, a->hN, lm_w, b->targets, b->weight, T, C, V);
        return;
    }
    be->lmhead_ce(be, loss, a->dln, lm_grad, a->hN, lm_w, b->targets, b->weight, T, C, V);
    // dx is the residual-stream gradient every block backward accumulates into; it starts here.
    be->memset_zero(be, a->dx, (size_t)T * C * a->asz);
    be->rmsnorm_bwd(be, a->dx, head_grad, a->dln, a->xs[L], head, a->rstdN, T, C);
}

void s1c_qwen2_logits(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, const void *head,
                      const void *lm_w, int T, void *logits) {
    S1C_ASSERT(T > 0 && T == a->fwd_T);
    const int C = cfg->hidden_size;
    be->rmsnorm_fwd(be, a->hN, a->rstdN, a->xs[a->L], head, T, C, cfg->rms_norm_eps);
    be->matmul_fwd(be, logits, a->hN, lm_w, NULL, T, C, cfg->vocab_size);
}
