// cuda_attn_decode.cu — paged KV cache ops for inference: cache write and attention of query rows
// over their sequence's cached positions (prefill, decode or a mix), bf16 cache, fp32 softmax.
// One warp per (row, q head) walks the row's positions 32 at a time through the block table with
// an online softmax (warp_attend in cuda_attn_warp.cuh, shared with the own training kernels).
#include <math.h>

#include "cuda_attn_warp.cuh"
#include "cuda_common.cuh"

#define DEC_WARPS 4
#define DEC_MAX_HD 256
#define DEC_R (DEC_MAX_HD / 32)

__global__ void k_kv_cache_write(bf16 *kc, bf16 *vc, const bf16 *qkv, const int32_t *slot, int T, int nh, int nkv,
                                 int hd) {
    size_t kv = (size_t)nkv * hd, n = (size_t)T * kv;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t t = i / kv, e = i % kv;
        const bf16 *row = qkv + t * (size_t)(nh + 2 * nkv) * hd + (size_t)nh * hd;
        size_t dst = (size_t)slot[t] * kv + e;
        kc[dst] = row[e];
        vc[dst] = row[kv + e];
    }
}

__global__ void __launch_bounds__(DEC_WARPS * 32)
k_attn_decode(bf16 *out, const bf16 *qkv, const bf16 *kc, const bf16 *vc, int T, int nh, int nkv, int hd, int bs,
              int max_blocks, const int32_t *block_tables, const int32_t *row_seq, const int32_t *pos, float scale) {
    __shared__ float qs[DEC_WARPS][DEC_MAX_HD];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int t = blockIdx.x * DEC_WARPS + warp;
    int h = blockIdx.y;
    if (t >= T) return;
    int kvh = h / (nh / nkv);
    const bf16 *q = qkv + (size_t)t * (nh + 2 * nkv) * hd + (size_t)h * hd;
    for (int d = lane; d < hd; d += 32) qs[warp][d] = __bfloat162float(q[d]) * scale;
    __syncwarp();
    const int32_t *bt = block_tables + (size_t)row_seq[t] * max_blocks;
    size_t kvrow = (size_t)nkv * hd;
    // cached positions 0..pos[t], position j in slot bt[j / bs] * bs + j % bs
    auto slot_row = [=](int j) { return ((size_t)bt[j / bs] * bs + (size_t)(j % bs)) * kvrow + (size_t)kvh * hd; };
    auto key_at = [=](int j) { return kc + slot_row(j); };
    auto val_at = [=](int j) { return vc + slot_row(j); };
    float acc[DEC_R], m, l;
    warp_attend<DEC_R>(qs[warp], hd, 0, pos[t], key_at, val_at, acc, m, l);
    warp_store_row<DEC_R>(out + (size_t)t * nh * hd + (size_t)h * hd, acc, 1.0f / l, hd);
}

static void cu_kv_cache_write(s1c_backend *be, void *k_cache, void *v_cache, const void *qkv, const int32_t *slot,
                              int T, int n_head, int n_kv_head, int head_dim) {
    size_t n = (size_t)T * n_kv_head * head_dim;
    if (!n) return;
    k_kv_cache_write<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>(
        (bf16 *)k_cache, (bf16 *)v_cache, (const bf16 *)qkv, slot, T, n_head, n_kv_head, head_dim);
    S1C_CUDA_LAUNCH_CHECK();
}

static void cu_attention_decode(s1c_backend *be, void *out, const void *qkv, const void *k_cache, const void *v_cache,
                                const s1c_paged_shape *s) {
    if (s->T <= 0) return;
    S1C_ASSERT(s->head_dim % 2 == 0 && s->head_dim <= DEC_MAX_HD && s->n_head % s->n_kv_head == 0);
    dim3 grid((unsigned)((s->T + DEC_WARPS - 1) / DEC_WARPS), (unsigned)s->n_head);
    k_attn_decode<<<grid, DEC_WARPS * 32, 0, cuda_impl_of(be)->stream>>>(
        (bf16 *)out, (const bf16 *)qkv, (const bf16 *)k_cache, (const bf16 *)v_cache, s->T, s->n_head, s->n_kv_head,
        s->head_dim, s->block_size, s->max_blocks, s->block_tables, s->row_seq, s->pos,
        1.0f / sqrtf((float)s->head_dim));
    S1C_CUDA_LAUNCH_CHECK();
}

void cuda_install_decode_ops(s1c_backend *be) {
    be->kv_cache_write = cu_kv_cache_write;
    be->attention_decode = cu_attention_decode;
}
