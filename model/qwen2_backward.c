// qwen2_backward.c — Qwen2 backward per unit, the forward of qwen2_forward.c in reverse.
//
// On entry to a block's backward, a->dx holds dLoss/d(block output); on exit dLoss/d(block input).
// Parameter gradients accumulate (+=) into the unit's fp32 gradient buffer.
#include "qwen2_internal.h"

static inline void *act_at(const void *p, size_t off, size_t asz) { return (char *)p + off * asz; }

void s1c_qwen2_block_bwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer,
                         const void *block, float *block_grad, const s1c_batch *b) {
    S1C_ASSERT(layer >= 0 && layer < a->L && b->T == a->fwd_T);
    const int T = b->T, C = cfg->hidden_size, I = cfg->intermediate_size;
    const int nh = cfg->num_attention_heads, nkv = cfg->num_key_value_heads, hd = cfg->head_dim;
    const int Q = nh * hd, QKV = (nh + 2 * nkv) * hd, nc = b->n_ctx;
    const size_t asz = a->asz;
    const s1c_block_offsets o = s1c_qwen2_block_offsets(cfg);
    if (a->recompute) s1c_qwen2_block_compute(be, cfg, a, layer, block, b);
    s1c_block_acts *k = &a->blk[layer];
    const void *x = a->xs[layer];  // [T, C] block input
    float *g = block_grad;

    // MLP: y = xmid + down(swiglu(gate|up(rmsnorm(xmid)))), per token, so it runs chunk by chunk
    // (recomputing gate|up and SwiGLU first with recompute); dln collects dLoss/dln2 row by row.
    for (int t0 = 0; t0 < T; t0 += a->mlp_chunk) {
        const int n = T - t0 < a->mlp_chunk ? T - t0 : a->mlp_chunk;
        const void *ln2 = act_at(k->ln2, (size_t)t0 * C, asz);  // [n, C]
        void *gu = s1c_qwen2_mlp_gu(a, k, t0, (size_t)I), *sw = s1c_qwen2_mlp_sw(a, k, t0, (size_t)I);
        if (a->recompute) {
            be->matmul_fwd(be, gu, ln2, act_at(block, o.gu_w, asz), NULL, n, C, 2 * I);
            be->swiglu_fwd(be, sw, gu, n, I);
        }
        be->matmul_bwd(be, a->dsw, g + o.down_w, NULL, act_at(a->dx, (size_t)t0 * C, asz), sw,
                       act_at(block, o.down_w, asz), n, I, C, 0);
        be->swiglu_bwd(be, a->dgu, a->dsw, gu, n, I);
        be->matmul_bwd(be, act_at(a->dln, (size_t)t0 * C, asz), g + o.gu_w, NULL, a->dgu, ln2,
                       act_at(block, o.gu_w, asz), n, C, 2 * I, 0);
    }
    // dx passes through the residual unchanged and gains the norm path: now dLoss/dxmid.
    be->rmsnorm_bwd(be, a->dx, g + o.ln2, a->dln, k->xmid, act_at(block, o.ln2, asz), k->rstd2, T, C);

    // Attention: xmid = x + o_proj(attn(rope(qkv(rmsnorm(x)))))
    // The batch's own rows follow the n_ctx context rows in the attention buffers; the context
    // rows' output gradient is zero (they are not this batch's queries), as attention requires.
    void *datt = act_at(a->datt, (size_t)nc * Q, asz), *dqkv = act_at(a->dqkv, (size_t)nc * QKV, asz);
    be->matmul_bwd(be, datt, g + o.o_w, NULL, a->dx, act_at(k->att, (size_t)nc * Q, asz), act_at(block, o.o_w, asz),
                   T, Q, C, 0);
    if (nc) be->memset_zero(be, a->datt, (size_t)nc * Q * asz);
    const s1c_attn_shape s = s1c_batch_attn_shape(cfg, b);  // the shape s1c_batch_prepare prepared
    be->attention_bwd(be, a->dqkv, a->datt, k->qkv, k->att, k->lse, &s);
    // context dK/dV back to their owners; later batches' dK/dV of this batch's rows added in
    if (b->kvx) b->kvx->backward(b->kvx->ctx, layer, a->dqkv);
    be->rope_bwd(be, dqkv, b->pos, a->inv_freq, T, nh, nkv, hd);
    be->matmul_bwd(be, a->dln, g + o.qkv_w, g + o.qkv_b, dqkv, k->ln1, act_at(block, o.qkv_w, asz), T, C, QKV, 0);
    be->rmsnorm_bwd(be, a->dx, g + o.ln1, a->dln, x, act_at(block, o.ln1, asz), k->rstd1, T, C);
}

void s1c_qwen2_embed_bwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, float *embed_grad,
                         const s1c_batch *b) {
    S1C_ASSERT(b->T == a->fwd_T);
    if (be->embedding_bwd_sorted && b->emb_order)  // deterministic on backends with atomics (CUDA)
        be->embedding_bwd_sorted(be, embed_grad, a->dx, b->ids, b->emb_order, b->emb_seg, b->n_emb_seg, b->T,
                                 cfg->hidden_size);
    else
        be->embedding_bwd(be, embed_grad, a->dx, b->ids, b->T, cfg->hidden_size);
}
