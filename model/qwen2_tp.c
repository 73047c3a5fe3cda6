// qwen2_tp.c — tensor-parallel shards of a Qwen2 checkpoint (see qwen2.h): the plan of one rank's
// heads, MLP columns and vocabulary rows, and the reads of its slices of each tensor.
#include <string.h>

#include "qwen2_internal.h"

s1c_status s1c_qwen2_tp_plan(const s1c_qwen2_config *cfg, int rank, int size, s1c_qwen2_tp *tp,
                             s1c_qwen2_config *local) {
    memset(tp, 0, sizeof *tp);
    *local = *cfg;
    if (size < 1 || rank < 0 || rank >= size) return s1c_err("tensor parallel: rank %d of %d", rank, size);
    const int nh = cfg->num_attention_heads, nkv = cfg->num_key_value_heads, I = cfg->intermediate_size;
    const int V = cfg->vocab_size;
    if (nh % size)
        return s1c_err("--tp %d: num_attention_heads %d is not a multiple of the tensor-parallel degree", size, nh);
    if (I % size)
        return s1c_err("--tp %d: intermediate_size %d is not a multiple of the tensor-parallel degree", size, I);
    if (nkv % size && size % nkv)
        return s1c_err("--tp %d: num_key_value_heads %d neither divides among the ranks nor replicates over them "
                       "(the degree must divide it or be a multiple of it)", size, nkv);
    tp->rank = rank;
    tp->size = size;
    local->num_attention_heads = nh / size;
    local->num_key_value_heads = nkv >= size ? nkv / size : 1;
    local->intermediate_size = I / size;
    tp->q_head0 = rank * (nh / size);
    // Fewer KV heads than ranks: a rank's query heads all belong to one KV group (size/nkv ranks
    // per group), whose head it holds.
    tp->kv_head0 = nkv >= size ? rank * (nkv / size) : rank * nkv / size;
    tp->inter0 = rank * (I / size);
    const int Vp = (V + size - 1) / size;
    local->vocab_size = Vp;
    tp->vocab0 = rank * Vp;
    tp->vocab_n = V - tp->vocab0 < Vp ? (V - tp->vocab0 > 0 ? V - tp->vocab0 : 0) : Vp;
    return S1C_OK;
}

// Rows [row0, row0 + rows) and columns [col0, col0 + cols) of a [R, src_cols] tensor (1-D: one column).
typedef struct {
    size_t row0, rows, col0, cols, src_cols;
} slice;

// Where local tensor p of unit u comes from in the whole tensor (same unit, same index: the
// shard's layout lists the same tensors in the same order).
static slice param_slice(const s1c_qwen2_config *g, const s1c_qwen2_tp *tp, int u, int p, const s1c_param_desc *gp) {
    const size_t hd = (size_t)g->head_dim, C = (size_t)g->hidden_size;
    const size_t nh_l = (size_t)(g->num_attention_heads / tp->size), I_l = (size_t)(g->intermediate_size / tp->size);
    const size_t nkv_l = g->num_key_value_heads >= tp->size ? (size_t)(g->num_key_value_heads / tp->size) : 1;
    const size_t R = (size_t)gp->shape[0], cols = gp->ndim == 2 ? (size_t)gp->shape[1] : 1;
    slice s = {0, R, 0, cols, cols};
    const int head = s1c_qwen2_unit_head(g);
    if (u == 0 || (u == head && p == 1)) {  // embedding, lm_head: vocabulary rows
        s.row0 = (size_t)tp->vocab0;
        s.rows = (size_t)tp->vocab_n;
        return s;
    }
    if (u == head) return s;  // final norm
    switch (p) {
        case 1: case 4: s.row0 = (size_t)tp->q_head0 * hd; s.rows = nh_l * hd; break;    // q_proj weight, bias
        case 2: case 3: case 5: case 6:                                                   // k/v_proj weight, bias
            s.row0 = (size_t)tp->kv_head0 * hd;
            s.rows = nkv_l * hd;
            break;
        case 7: s.col0 = (size_t)tp->q_head0 * hd; s.cols = nh_l * hd; break;             // o_proj [C, Q]
        case 9: case 10: s.row0 = (size_t)tp->inter0; s.rows = I_l; break;                // gate, up [I, C]
        case 11: s.col0 = (size_t)tp->inter0; s.cols = I_l; break;                        // down [C, I]
        default: break;                                                                   // norms: whole
    }
    (void)C;
    return s;
}

s1c_status s1c_qwen2_tp_read_param(const s1c_qwen2_ckpt *ck, const s1c_qwen2_config *g, const s1c_qwen2_layout *glay,
                                   const s1c_qwen2_tp *tp, int u, int p, const s1c_param_desc *lp, void *dst, int bf16) {
    const s1c_param_desc *gp = &glay->units[u].params[p];
    const slice s = param_slice(g, tp, u, p, gp);
    const size_t esz = bf16 ? sizeof(uint16_t) : sizeof(float);
    const size_t lrows = (size_t)lp->shape[0];
    if (s.cols * lrows != lp->numel || s.rows > lrows)
        return s1c_err("%s: shard of rank %d/%d does not match its layout", gp->name, tp->rank, tp->size);
#define READ(begin, count, out)                                                                         \
    (bf16 ? s1c_qwen2_ckpt_read_bf16(ck, u, gp->offset + (begin), (count), (uint16_t *)(out))           \
          : s1c_qwen2_ckpt_read(ck, u, gp->offset + (begin), (count), (float *)(out)))
    if (s.cols == s.src_cols) {  // whole rows: one contiguous range of the mapping
        if (s.rows) S1C_TRY(READ(s.row0 * s.src_cols, s.rows * s.cols, dst));
    } else {
        for (size_t r = 0; r < s.rows; r++)
            S1C_TRY(READ((s.row0 + r) * s.src_cols + s.col0, s.cols, (char *)dst + r * s.cols * esz));
    }
#undef READ
    // Vocabulary rows past the model's (the last rank's padding): zero, never chosen.
    memset((char *)dst + s.rows * s.cols * esz, 0, (lrows - s.rows) * s.cols * esz);
    return S1C_OK;
}
