// cuda_attn_own.cu — causal GQA attention over packed variable-length sequences, own kernels.
//
// The fallback for shapes cuDNN's fused SDPA refuses (and the reference the cuDNN path is checked
// against on a GPU). Flash-style: one warp per (query row, head) walks its keys 32 at a time with
// an online softmax, so no [T, T] matrix exists; no tensor cores, so it is several times slower
// than cuDNN at long sequences. Backward is deterministic (no atomics): a query-major kernel
// computes dQ, a key-major kernel computes dK and dV (summing the query heads of a GQA group).
// head_dim must be even and <= 256.
#include <math.h>

#include "cuda_attn_warp.cuh"
#include "cuda_common.cuh"

#define ATT_WARPS 4
#define ATT_MAX_HD 256
#define ATT_R (ATT_MAX_HD / 32)

__global__ void __launch_bounds__(ATT_WARPS * 32)
k_attn_fwd(bf16 *out, float *lse, const bf16 *qkv, const int32_t *cu, int T, int n_seq, int nh, int nkv, int hd,
           float scale) {
    __shared__ float qs[ATT_WARPS][ATT_MAX_HD];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int t = blockIdx.x * ATT_WARPS + warp;
    int h = blockIdx.y;
    if (t >= T) return;  // whole warp leaves together; no block-level barriers below
    int rs = (nh + 2 * nkv) * hd;
    int kvh = h / (nh / nkv);
    int s = seq_of_token(cu, n_seq, t);
    int j_start = cu[s];
    const bf16 *q = qkv + (size_t)t * rs + (size_t)h * hd;
    for (int d = lane; d < hd; d += 32) qs[warp][d] = __bfloat162float(q[d]) * scale;
    __syncwarp();
    const bf16 *kbase = qkv + (size_t)(nh + kvh) * hd;
    const bf16 *vbase = qkv + (size_t)(nh + nkv + kvh) * hd;
    // keys j_start..t of the packed rows (causal, same sequence)
    auto key_at = [=](int j) { return kbase + (size_t)j * rs; };
    auto val_at = [=](int j) { return vbase + (size_t)j * rs; };
    float acc[ATT_R], m, l;
    warp_attend<ATT_R>(qs[warp], hd, j_start, t, key_at, val_at, acc, m, l);
    warp_store_row<ATT_R>(out + (size_t)t * nh * hd + (size_t)h * hd, acc, 1.0f / l, hd);
    if (lane == 0) lse[(size_t)h * T + t] = m + logf(l);
}

// Dd[h, t] = sum_d dout[t, h, d] * out[t, h, d]
__global__ void k_attn_bwd_dot(float *Dd, const bf16 *dout, const bf16 *out, int T, int nh, int hd) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int t = blockIdx.x * ATT_WARPS + warp;
    int h = blockIdx.y;
    if (t >= T) return;
    const bf16 *a = dout + (size_t)t * nh * hd + (size_t)h * hd;
    const bf16 *b = out + (size_t)t * nh * hd + (size_t)h * hd;
    float s = 0.0f;
    for (int d = lane; d < hd; d += 32) s += __bfloat162float(a[d]) * __bfloat162float(b[d]);
    s = warp_sum(s);
    if (lane == 0) Dd[(size_t)h * T + t] = s;
}

// dQ: one warp per (query t, head h), keys walked 32 at a time.
__global__ void __launch_bounds__(ATT_WARPS * 32)
k_attn_bwd_dq(bf16 *dqkv, const bf16 *dout, const bf16 *qkv, const float *lse, const float *Dd, const int32_t *cu,
              int T, int n_seq, int nh, int nkv, int hd, float scale) {
    __shared__ float qs[ATT_WARPS][ATT_MAX_HD];
    __shared__ float gs[ATT_WARPS][ATT_MAX_HD];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int t = blockIdx.x * ATT_WARPS + warp;
    int h = blockIdx.y;
    if (t >= T) return;
    int rs = (nh + 2 * nkv) * hd;
    int kvh = h / (nh / nkv);
    int s = seq_of_token(cu, n_seq, t);
    int j_start = cu[s];
    const bf16 *q = qkv + (size_t)t * rs + (size_t)h * hd;
    const bf16 *g = dout + (size_t)t * nh * hd + (size_t)h * hd;
    for (int d = lane; d < hd; d += 32) {
        qs[warp][d] = __bfloat162float(q[d]) * scale;
        gs[warp][d] = __bfloat162float(g[d]);
    }
    __syncwarp();
    float L = lse[(size_t)h * T + t], D = Dd[(size_t)h * T + t];
    const bf16 *kbase = qkv + (size_t)(nh + kvh) * hd;
    const bf16 *vbase = qkv + (size_t)(nh + nkv + kvh) * hd;
    float dq[ATT_R];
#pragma unroll
    for (int r = 0; r < ATT_R; r++) dq[r] = 0.0f;
    for (int j0 = j_start; j0 <= t; j0 += 32) {
        int j = j0 + lane;
        float ds = 0.0f;
        if (j <= t) {
            float p = expf(dot_sh_bf16(qs[warp], kbase + (size_t)j * rs, hd) - L);
            float dp = dot_sh_bf16(gs[warp], vbase + (size_t)j * rs, hd);
            ds = p * (dp - D);
        }
        int nj = min(32, t - j0 + 1);
        for (int jj = 0; jj < nj; jj++) {
            float dsj = __shfl_sync(0xffffffffu, ds, jj);
            const bf16 *k = kbase + (size_t)(j0 + jj) * rs;
#pragma unroll
            for (int r = 0; r < ATT_R; r++) {
                int d = lane + 32 * r;
                if (d < hd) dq[r] += dsj * __bfloat162float(k[d]);
            }
        }
    }
    bf16 *o = dqkv + (size_t)t * rs + (size_t)h * hd;
#pragma unroll
    for (int r = 0; r < ATT_R; r++) {
        int d = lane + 32 * r;
        if (d < hd) o[d] = __float2bfloat16_rn(dq[r] * scale);
    }
}

// dK, dV: one warp per (key j, kv head), over the group's query heads and the queries i >= j of
// the same sequence, 32 queries at a time.
__global__ void __launch_bounds__(ATT_WARPS * 32)
k_attn_bwd_dkv(bf16 *dqkv, const bf16 *dout, const bf16 *qkv, const float *lse, const float *Dd, const int32_t *cu,
               int T, int n_seq, int nh, int nkv, int hd, float scale) {
    __shared__ float ks[ATT_WARPS][ATT_MAX_HD];
    __shared__ float vs[ATT_WARPS][ATT_MAX_HD];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int j = blockIdx.x * ATT_WARPS + warp;
    int kvh = blockIdx.y;
    if (j >= T) return;
    int rs = (nh + 2 * nkv) * hd;
    int G = nh / nkv;
    int s = seq_of_token(cu, n_seq, j);
    int i_end = cu[s + 1];  // exclusive
    const bf16 *k = qkv + (size_t)j * rs + (size_t)(nh + kvh) * hd;
    const bf16 *v = qkv + (size_t)j * rs + (size_t)(nh + nkv + kvh) * hd;
    for (int d = lane; d < hd; d += 32) {
        ks[warp][d] = __bfloat162float(k[d]) * scale;
        vs[warp][d] = __bfloat162float(v[d]);
    }
    __syncwarp();
    float dk[ATT_R], dv[ATT_R];
#pragma unroll
    for (int r = 0; r < ATT_R; r++) dk[r] = dv[r] = 0.0f;
    for (int h = kvh * G; h < (kvh + 1) * G; h++) {
        const bf16 *qbase = qkv + (size_t)h * hd;
        const bf16 *gbase = dout + (size_t)h * hd;
        for (int i0 = j; i0 < i_end; i0 += 32) {
            int i = i0 + lane;
            float p = 0.0f, ds = 0.0f;
            if (i < i_end) {
                p = expf(dot_sh_bf16(ks[warp], qbase + (size_t)i * rs, hd) - lse[(size_t)h * T + i]);
                float dp = dot_sh_bf16(vs[warp], gbase + (size_t)i * nh * hd, hd);
                ds = p * (dp - Dd[(size_t)h * T + i]);
            }
            int ni = min(32, i_end - i0);
            for (int ii = 0; ii < ni; ii++) {
                float pi = __shfl_sync(0xffffffffu, p, ii);
                float dsi = __shfl_sync(0xffffffffu, ds, ii);
                const bf16 *qi = qbase + (size_t)(i0 + ii) * rs;
                const bf16 *gi = gbase + (size_t)(i0 + ii) * nh * hd;
#pragma unroll
                for (int r = 0; r < ATT_R; r++) {
                    int d = lane + 32 * r;
                    if (d < hd) {
                        dv[r] += pi * __bfloat162float(gi[d]);
                        dk[r] += dsi * __bfloat162float(qi[d]);
                    }
                }
            }
        }
    }
    bf16 *ok = dqkv + (size_t)j * rs + (size_t)(nh + kvh) * hd;
    bf16 *ov = dqkv + (size_t)j * rs + (size_t)(nh + nkv + kvh) * hd;
#pragma unroll
    for (int r = 0; r < ATT_R; r++) {
        int d = lane + 32 * r;
        if (d < hd) {
            ok[d] = __float2bfloat16_rn(dk[r] * scale);
            ov[d] = __float2bfloat16_rn(dv[r]);
        }
    }
}

static void check_shape(const s1c_attn_shape *s) {
    S1C_ASSERT(s->head_dim % 2 == 0 && s->head_dim <= ATT_MAX_HD);
    S1C_ASSERT(s->n_kv_head > 0 && s->n_head % s->n_kv_head == 0);
}

void cuda_attn_own_fwd(cuda_impl *ci, bf16 *out, float *lse, const bf16 *qkv, const s1c_attn_shape *s) {
    if (s->T <= 0) return;
    check_shape(s);
    dim3 grid((unsigned)((s->T + ATT_WARPS - 1) / ATT_WARPS), (unsigned)s->n_head);
    float scale = 1.0f / sqrtf((float)s->head_dim);
    k_attn_fwd<<<grid, ATT_WARPS * 32, 0, ci->stream>>>(out, lse, qkv, s->cu_seqlens, s->T, s->n_seq, s->n_head,
                                                         s->n_kv_head, s->head_dim, scale);
    S1C_CUDA_LAUNCH_CHECK();
}

void cuda_attn_own_bwd(cuda_impl *ci, bf16 *dqkv, const bf16 *dout, const bf16 *qkv, const bf16 *out,
                       const float *lse, const s1c_attn_shape *s) {
    if (s->T <= 0) return;
    check_shape(s);
    float *Dd = (float *)cuda_ws_get(ci, (size_t)s->n_head * s->T * sizeof(float));  // [nh, T]
    float scale = 1.0f / sqrtf((float)s->head_dim);
    unsigned tb = (unsigned)((s->T + ATT_WARPS - 1) / ATT_WARPS);
    k_attn_bwd_dot<<<dim3(tb, (unsigned)s->n_head), ATT_WARPS * 32, 0, ci->stream>>>(Dd, dout, out, s->T, s->n_head,
                                                                                    s->head_dim);
    S1C_CUDA_LAUNCH_CHECK();
    k_attn_bwd_dq<<<dim3(tb, (unsigned)s->n_head), ATT_WARPS * 32, 0, ci->stream>>>(
        dqkv, dout, qkv, lse, Dd, s->cu_seqlens, s->T, s->n_seq, s->n_head, s->n_kv_head, s->head_dim, scale);
    S1C_CUDA_LAUNCH_CHECK();
    k_attn_bwd_dkv<<<dim3(tb, (unsigned)s->n_kv_head), ATT_WARPS * 32, 0, ci->stream>>>(
        dqkv, dout, qkv, lse, Dd, s->cu_seqlens, s->T, s->n_seq, s->n_head, s->n_kv_head, s->head_dim, scale);
    S1C_CUDA_LAUNCH_CHECK();
}
