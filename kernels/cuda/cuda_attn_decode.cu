// cuda_attn_decode.cu — paged KV cache ops for inference: cache write and attention of query rows
// over their sequence's cached positions (prefill, decode or a mix), bf16 cache, fp32 softmax.
// One warp per (row, q head) walks the row's positions 32 at a time through the block table with
// an online softmax (warp_attend in cuda_attn_warp.cuh, shared with the own training kernels).
// When the rows alone cannot fill the GPU (batch 1-8 at long context: s1's budget-forced
// evaluation), split-KV (flash-decoding): s1c_decode_split_plan cuts each row's positions into
// splits, one CTA per (split, KV head, row) with one warp per q head of the group (the group's
// warps read the same K/V rows, so they come from L1/L2 once per CTA), partial max / sum /
// unnormalised accumulator to the workspace, then a combine kernel. The CPU reference of exactly
// this algorithm is kernels/cpu/cpu_decode_split.c (tests/cuda/test_cuda_decode_split.c).
#include <limits.h>
#include <math.h>

#include "cuda_attn_warp.cuh"
#include "cuda_common.cuh"
#include "cuda_plan.h"

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

// Pass 1: grid (n_splits, nkv, T), block group * 32: warp jh = q head g * group + jh.
// part_acc [T, nh, n_splits, hd] (unnormalised), part_ml [T, nh, n_splits, 2] (max, sum; an empty
// split writes -inf, 0 and leaves its accumulator unwritten: the combine skips it).
__global__ void k_attn_decode_split(float *part_acc, float *part_ml, const bf16 *qkv, const bf16 *kc, const bf16 *vc,
                                    int nh, int nkv, int hd, int bs, int max_blocks, const int32_t *block_tables,
                                    const int32_t *row_seq, const int32_t *pos, float scale, int n_splits,
                                    int split_len) {
    extern __shared__ float qsh[];  // [group, hd]
    const int sp = blockIdx.x, g = blockIdx.y, t = blockIdx.z;
    const int group = nh / nkv, jh = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int h = g * group + jh;
    const int j_first = sp * split_len, last = pos[t];
    const int j_last = min(j_first + split_len - 1, last);
    const size_t ix = ((size_t)t * nh + h) * n_splits + sp;
    if (j_first > last) {  // the whole CTA takes this branch (t, sp are per block)
        if (lane == 0) part_ml[2 * ix] = -INFINITY, part_ml[2 * ix + 1] = 0.0f;
        return;
    }
    float *qs = qsh + (size_t)jh * hd;
    const bf16 *q = qkv + (size_t)t * (nh + 2 * nkv) * hd + (size_t)h * hd;
    for (int d = lane; d < hd; d += 32) qs[d] = __bfloat162float(q[d]) * scale;
    __syncwarp();
    const int32_t *bt = block_tables + (size_t)row_seq[t] * max_blocks;
    const size_t kvrow = (size_t)nkv * hd;
    auto slot_row = [=](int j) { return ((size_t)bt[j / bs] * bs + (size_t)(j % bs)) * kvrow + (size_t)g * hd; };
    auto key_at = [=](int j) { return kc + slot_row(j); };
    auto val_at = [=](int j) { return vc + slot_row(j); };
    float acc[DEC_R], m, l;
    warp_attend<DEC_R>(qs, hd, j_first, j_last, key_at, val_at, acc, m, l);
    float *a = part_acc + ix * hd;
#pragma unroll
    for (int r = 0; r < DEC_R; r++) {
        int d = lane + 32 * r;
        if (d < hd) a[d] = acc[r];
    }
    if (lane == 0) part_ml[2 * ix] = m, part_ml[2 * ix + 1] = l;
}

// Pass 2: one warp per (row, q head): M = max m_s over non-empty splits, out = Σ e^(m_s - M) acc_s
// / Σ e^(m_s - M) l_s (bf16).
__global__ void k_attn_decode_combine(bf16 *out, const float *part_acc, const float *part_ml, int T, int nh, int hd,
                                      int n_splits) {
    const int w = (int)((blockIdx.x * blockDim.x + threadIdx.x) >> 5), lane = threadIdx.x & 31;
    if (w >= T * nh) return;
    const size_t ix0 = (size_t)w * n_splits;
    float M = -INFINITY;
    for (int sp = lane; sp < n_splits; sp += 32)
        if (part_ml[2 * (ix0 + sp) + 1] > 0.0f) M = fmaxf(M, part_ml[2 * (ix0 + sp)]);
    M = warp_max(M);
    float acc[DEC_R];
#pragma unroll
    for (int r = 0; r < DEC_R; r++) acc[r] = 0.0f;
    float L = 0.0f;
    for (int sp = 0; sp < n_splits; sp++) {
        const float l = part_ml[2 * (ix0 + sp) + 1];
        if (l <= 0.0f) continue;  // uniform across the warp
        const float wt = expf(part_ml[2 * (ix0 + sp)] - M);
        L += wt * l;
        const float *a = part_acc + (ix0 + sp) * hd;
#pragma unroll
        for (int r = 0; r < DEC_R; r++) {
            int d = lane + 32 * r;
            if (d < hd) acc[r] += wt * a[d];
        }
    }
    warp_store_row<DEC_R>(out + (size_t)w * hd, acc, 1.0f / L, hd);  // row w = t * nh + h
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
    cuda_impl *ci = cuda_impl_of(be);
    const int group = s->n_head / s->n_kv_head;
    const float scale = 1.0f / sqrtf((float)s->head_dim);
    // The table's capacity bounds every row's context (the positions are in device memory).
    const int max_ctx = (int)((int64_t)s->max_blocks * s->block_size < INT_MAX ? (int64_t)s->max_blocks * s->block_size
                                                                              : INT_MAX);
    s1c_decode_split d = s1c_decode_split_plan(s->T, s->n_kv_head, max_ctx, ci->sm_count, ci->decode_force_splits);
    if (ci->decode_force_splits < 0) d.n_splits = 1;
    if (d.n_splits > 1 && group <= 32) {
        size_t nf = s1c_decode_split_ws_floats(s->T, s->n_head, s->head_dim, d.n_splits);
        // be->prepare reserved the partials of every planned call of this model (any batch, any
        // context: s1c_decode_split_ws_reserve, checked on the CPU by test_cuda_plan); a caller
        // that never prepared gets the same reservation on its first split call, so the arena
        // grows at most once and never in a later step. Forced splits (tests) size for themselves.
        size_t want = nf * sizeof(float);
        if (ci->decode_force_splits == 0) {
            size_t r = s1c_decode_split_ws_reserve(s->n_head, s->n_kv_head, s->head_dim, ci->sm_count);
            if (r > want) want = r;
        }
        float *part_acc = (float *)cuda_ws_get(ci, want);
        float *part_ml = part_acc + (size_t)s->T * s->n_head * d.n_splits * s->head_dim;
        S1C_ASSERT(s->T <= S1C_CUDA_GRID_YZ_MAX);
        dim3 grid1((unsigned)d.n_splits, (unsigned)s->n_kv_head, (unsigned)s->T);
        size_t shmem = (size_t)group * s->head_dim * sizeof(float);
        k_attn_decode_split<<<grid1, group * 32, shmem, ci->stream>>>(
            part_acc, part_ml, (const bf16 *)qkv, (const bf16 *)k_cache, (const bf16 *)v_cache, s->n_head,
            s->n_kv_head, s->head_dim, s->block_size, s->max_blocks, s->block_tables, s->row_seq, s->pos, scale,
            d.n_splits, d.split_len);
        S1C_CUDA_LAUNCH_CHECK();
        size_t warps = (size_t)s->T * s->n_head;
        k_attn_decode_combine<<<cuda_blocks(warps * 32, 128), 128, 0, ci->stream>>>(
            (bf16 *)out, part_acc, part_ml, s->T, s->n_head, s->head_dim, d.n_splits);
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    dim3 grid((unsigned)((s->T + DEC_WARPS - 1) / DEC_WARPS), (unsigned)s->n_head);
    k_attn_decode<<<grid, DEC_WARPS * 32, 0, ci->stream>>>(
        (bf16 *)out, (const bf16 *)qkv, (const bf16 *)k_cache, (const bf16 *)v_cache, s->T, s->n_head, s->n_kv_head,
        s->head_dim, s->block_size, s->max_blocks, s->block_tables, s->row_seq, s->pos, scale);
    S1C_CUDA_LAUNCH_CHECK();
}

void cuda_install_decode_ops(s1c_backend *be) {
    be->kv_cache_write = cu_kv_cache_write;
    be->attention_decode = cu_attention_decode;
}
