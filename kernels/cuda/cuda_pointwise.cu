// cuda_pointwise.cu — the memory-bound ops: casts, add, embedding, RMSNorm, RoPE, SwiGLU, AdamW,
// sum of squares. bf16 in and out, fp32 arithmetic, one rounding per stored value.
// The bandwidth-heavy ones (add, casts, SwiGLU, RMSNorm rows fwd and bwd, RoPE pairs, embedding
// rows) move 16 bytes per thread and access (8 bf16; AdamW: 4 fp32 plus a scalar tail) with 32-bit
// index math when every pointer is 16-byte aligned and the sizes are multiples of 8 (all Qwen2
// widths are); otherwise the scalar kernels run. Rows are walked over gridDim.y (strided, so any T
// works) instead of dividing a flat index per element.
#include <math.h>
#include <stdint.h>

#include "cuda_common.cuh"
#include "cuda_plan.h"

#define GRID_STRIDE(i, n) for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                               i += (size_t)gridDim.x * blockDim.x)
// 32-bit grid-stride loop (n < 2^31 checked by the launcher).
#define GRID_STRIDE32(i, n) for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < (unsigned)(n); \
                                 i += gridDim.x * blockDim.x)

// ---- 16-byte vectors of 8 bf16 ------------------------------------------------------------------
static inline bool al16(const void *p) { return ((uintptr_t)p & 15u) == 0; }
__device__ __forceinline__ void ld8(float (&f)[8], const bf16 *p) {
    uint4 u = *(const uint4 *)p;
    const __nv_bfloat162 *h = (const __nv_bfloat162 *)&u;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        float2 v = __bfloat1622float2(h[k]);
        f[2 * k] = v.x, f[2 * k + 1] = v.y;
    }
}
__device__ __forceinline__ void st8(bf16 *p, const float (&f)[8]) {
    uint4 u;
    __nv_bfloat162 *h = (__nv_bfloat162 *)&u;
#pragma unroll
    for (int k = 0; k < 4; k++) h[k] = __floats2bfloat162_rn(f[2 * k], f[2 * k + 1]);
    *(uint4 *)p = u;
}
// Rows along gridDim.y, strided: gridDim.y is capped at 65535.
static inline unsigned rows_grid(int T) { return (unsigned)(T < S1C_CUDA_GRID_YZ_MAX ? T : S1C_CUDA_GRID_YZ_MAX); }

// ---- casts and add ------------------------------------------------------------------------------
__global__ void k_f32_to_bf16(bf16 *out, const float *in, size_t n) {
    GRID_STRIDE(i, n) out[i] = __float2bfloat16_rn(in[i]);
}
__global__ void k_bf16_to_f32(float *out, const bf16 *in, size_t n) {
    GRID_STRIDE(i, n) out[i] = __bfloat162float(in[i]);
}
__global__ void k_add_inplace(bf16 *x, const bf16 *y, size_t n) {
    GRID_STRIDE(i, n) x[i] = __float2bfloat16_rn(__bfloat162float(x[i]) + __bfloat162float(y[i]));
}
// n8 vectors of 8 elements.
__global__ void k_add_inplace_v8(bf16 *x, const bf16 *y, unsigned n8) {
    GRID_STRIDE32(i, n8) {
        float a[8], b[8];
        ld8(a, x + 8 * i);
        ld8(b, y + 8 * i);
#pragma unroll
        for (int k = 0; k < 8; k++) a[k] += b[k];
        st8(x + 8 * i, a);
    }
}
__global__ void k_f32_to_bf16_v8(bf16 *out, const float *in, unsigned n8) {
    GRID_STRIDE32(i, n8) {
        float4 a = ((const float4 *)in)[2 * i], b = ((const float4 *)in)[2 * i + 1];
        float f[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
        st8(out + 8 * i, f);
    }
}
__global__ void k_bf16_to_f32_v8(float *out, const bf16 *in, unsigned n8) {
    GRID_STRIDE32(i, n8) {
        float f[8];
        ld8(f, in + 8 * i);
        ((float4 *)out)[2 * i] = make_float4(f[0], f[1], f[2], f[3]);
        ((float4 *)out)[2 * i + 1] = make_float4(f[4], f[5], f[6], f[7]);
    }
}
// The vector path applies: 16-byte aligned pointers, n a multiple of 8, n / 8 < 2^31.
static inline bool v8_ok(size_t n, const void *a, const void *b) {
    return n % 8 == 0 && n / 8 < ((size_t)1 << 31) && al16(a) && al16(b);
}

static void cu_f32_to_act(s1c_backend *be, void *act, const float *f32, size_t n) {
    if (!n) return;
    if (v8_ok(n, act, f32)) {
        k_f32_to_bf16_v8<<<cuda_blocks(n / 8, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)act, f32,
                                                                                         (unsigned)(n / 8));
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_f32_to_bf16<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)act, f32, n);
    S1C_CUDA_LAUNCH_CHECK();
}
static void cu_act_to_f32(s1c_backend *be, float *f32, const void *act, size_t n) {
    if (!n) return;
    if (v8_ok(n, act, f32)) {
        k_bf16_to_f32_v8<<<cuda_blocks(n / 8, 256), 256, 0, cuda_impl_of(be)->stream>>>(f32, (const bf16 *)act,
                                                                                         (unsigned)(n / 8));
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_bf16_to_f32<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>(f32, (const bf16 *)act, n);
    S1C_CUDA_LAUNCH_CHECK();
}
static void cu_add_inplace(s1c_backend *be, void *x, const void *y, size_t n) {
    if (!n) return;
    if (v8_ok(n, x, y)) {
        k_add_inplace_v8<<<cuda_blocks(n / 8, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)x, (const bf16 *)y,
                                                                                         (unsigned)(n / 8));
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_add_inplace<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)x, (const bf16 *)y, n);
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- embedding ----------------------------------------------------------------------------------
// One block per token row.
__global__ void k_embedding_fwd(bf16 *out, const int32_t *ids, const bf16 *wte, int C) {
    int t = blockIdx.x;
    const bf16 *src = wte + (size_t)ids[t] * C;
    bf16 *dst = out + (size_t)t * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = src[c];
}
// Rows of the same id add up through fp32 atomics: the order, and so the last bits, change from
// run to run. The training step uses embedding_bwd_sorted below; this one stays for callers
// without the batch's sorted index.
__global__ void k_embedding_bwd(float *dwte, const bf16 *dout, const int32_t *ids, int C) {
    int t = blockIdx.x;
    float *dst = dwte + (size_t)ids[t] * C;
    const bf16 *src = dout + (size_t)t * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(dst + c, __bfloat162float(src[c]));
}
__global__ void k_embedding_fwd_v8(bf16 *out, const int32_t *ids, const bf16 *wte, int C) {
    const uint4 *src = (const uint4 *)(wte + (size_t)ids[blockIdx.x] * C);
    uint4 *dst = (uint4 *)(out + (size_t)blockIdx.x * C);
    for (int c = threadIdx.x; c < C / 8; c += blockDim.x) dst[c] = src[c];
}
static void cu_embedding_fwd(s1c_backend *be, void *out, const int32_t *ids, const void *wte, int T, int C) {
    if (T <= 0) return;
    if (C % 8 == 0 && al16(out) && al16(wte)) {
        k_embedding_fwd_v8<<<T, 128, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, ids, (const bf16 *)wte, C);
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_embedding_fwd<<<T, 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, ids, (const bf16 *)wte, C);
    S1C_CUDA_LAUNCH_CHECK();
}
static void cu_embedding_bwd(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids, int T, int C) {
    if (T <= 0) return;
    k_embedding_bwd<<<T, 256, 0, cuda_impl_of(be)->stream>>>(dwte, (const bf16 *)dout, ids, C);
    S1C_CUDA_LAUNCH_CHECK();
}
// Deterministic form: one block per distinct id s (its positions order[seg[s]] .. order[seg[s+1]-1],
// ascending): each thread owns columns of dwte[id], loads them once, adds the id's dout rows in
// position order and stores once. The same additions in the same order as the CPU loop (dwte +=
// row, t ascending), so the result is bitwise the CPU op's on the same bf16 rows. Work per
// element is the same read of dout plus one broadcast index load per row; dwte is read and
// written once per distinct id instead of one atomic per row. A block's latency grows with its
// id's count (a token repeated r times: r dependent adds per column, the loads unrolled 4 deep).
__global__ void k_embedding_bwd_sorted(float *dwte, const bf16 *dout, const int32_t *ids, const int32_t *order,
                                       const int32_t *seg, int C) {
    const int j0 = seg[blockIdx.x], j1 = seg[blockIdx.x + 1];
    float *dst = dwte + (size_t)ids[order[j0]] * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = dst[c];
#pragma unroll 4
        for (int j = j0; j < j1; j++) acc += __bfloat162float(dout[(size_t)order[j] * C + c]);
        dst[c] = acc;
    }
}
// Vector form (C % 8 == 0, dout and dwte 16-byte aligned): 8 columns per thread.
__global__ void k_embedding_bwd_sorted_v8(float *dwte, const bf16 *dout, const int32_t *ids, const int32_t *order,
                                          const int32_t *seg, int C) {
    const int j0 = seg[blockIdx.x], j1 = seg[blockIdx.x + 1];
    float *dst = dwte + (size_t)ids[order[j0]] * C;
    for (int c8 = threadIdx.x; c8 < C / 8; c8 += blockDim.x) {
        float4 lo = ((const float4 *)dst)[2 * c8], hi = ((const float4 *)dst)[2 * c8 + 1];
        float acc[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
#pragma unroll 4
        for (int j = j0; j < j1; j++) {
            float v[8];
            ld8(v, dout + (size_t)order[j] * C + 8 * c8);
#pragma unroll
            for (int k = 0; k < 8; k++) acc[k] += v[k];
        }
        ((float4 *)dst)[2 * c8] = make_float4(acc[0], acc[1], acc[2], acc[3]);
        ((float4 *)dst)[2 * c8 + 1] = make_float4(acc[4], acc[5], acc[6], acc[7]);
    }
}
static void cu_embedding_bwd_sorted(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids,
                                    const int32_t *order, const int32_t *seg, int n_seg, int T, int C) {
    if (T <= 0 || n_seg <= 0) return;
    cudaStream_t st = cuda_impl_of(be)->stream;
    if (C % 8 == 0 && al16(dout) && al16(dwte)) {
        k_embedding_bwd_sorted_v8<<<(unsigned)n_seg, 128, 0, st>>>(dwte, (const bf16 *)dout, ids, order, seg, C);
    } else {
        k_embedding_bwd_sorted<<<(unsigned)n_seg, 256, 0, st>>>(dwte, (const bf16 *)dout, ids, order, seg, C);
    }
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- RMSNorm ------------------------------------------------------------------------------------
// One block per row; the row is read twice (second read hits L1/L2).
__global__ void k_rmsnorm_fwd(bf16 *out, float *rstd, const bf16 *inp, const bf16 *w, int C, float eps) {
    __shared__ float sh[32];
    int t = blockIdx.x;
    const bf16 *x = inp + (size_t)t * C;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float v = __bfloat162float(x[c]);
        ss += v * v;
    }
    ss = block_sum(ss, sh);
    float r = rsqrtf(ss / (float)C + eps);
    if (threadIdx.x == 0) rstd[t] = r;
    bf16 *y = out + (size_t)t * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        y[c] = __float2bfloat16_rn(__bfloat162float(x[c]) * r * __bfloat162float(w[c]));
}

// Vector form (C % 8 == 0, rows 16-byte aligned). res != NULL: the residual add is fused in,
// x = bf16(x + res) is stored back into inp first and the norm reads the rounded sum, so the
// result is the one add_inplace + rmsnorm_fwd give (the fp32 reduction order aside).
__global__ void k_rmsnorm_fwd_v8(bf16 *out, float *rstd, bf16 *inp, const bf16 *res, const bf16 *w, int C, float eps) {
    __shared__ float sh[32];
    const int t = blockIdx.x, n8 = C / 8;
    bf16 *x = inp + (size_t)t * C;
    const bf16 *y = res ? res + (size_t)t * C : NULL;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < n8; c += blockDim.x) {
        float v[8];
        ld8(v, x + 8 * c);
        if (y) {
            float r[8];
            ld8(r, y + 8 * c);
#pragma unroll
            for (int k = 0; k < 8; k++) v[k] = __bfloat162float(__float2bfloat16_rn(v[k] + r[k]));
            st8(x + 8 * c, v);  // the same thread re-reads it below
        }
#pragma unroll
        for (int k = 0; k < 8; k++) ss += v[k] * v[k];
    }
    ss = block_sum(ss, sh);
    float r = rsqrtf(ss / (float)C + eps);
    if (threadIdx.x == 0) rstd[t] = r;
    bf16 *o = out + (size_t)t * C;
    for (int c = threadIdx.x; c < n8; c += blockDim.x) {
        float v[8], g[8];
        ld8(v, x + 8 * c);
        ld8(g, w + 8 * c);
#pragma unroll
        for (int k = 0; k < 8; k++) v[k] = v[k] * r * g[k];
        st8(o + 8 * c, v);
    }
}

// Each block owns `rows` consecutive rows (s1c_cuda_rmsnorm_bwd_plan): per row it writes dinp, and
// it accumulates dw for its rows in shared memory, in row order, then writes that row of partials
// to part[blockIdx.x][C] (the reduction scratch); cuda_colsum_bands adds the blocks' rows to dw in
// block order. No atomics: the same inputs give the same dw bits on every run.
__global__ void k_rmsnorm_bwd(bf16 *dinp, float *part, const bf16 *dout, const bf16 *inp, const bf16 *w,
                              const float *rstd, int T, int C, int rows) {
    extern __shared__ float dw_acc[];  // [C]
    __shared__ float sh[32];
    for (int c = threadIdx.x; c < C; c += blockDim.x) dw_acc[c] = 0.0f;
    int t0 = blockIdx.x * rows;
    int t1 = min(t0 + rows, T);
    for (int t = t0; t < t1; t++) {
        const bf16 *x = inp + (size_t)t * C;
        const bf16 *dy = dout + (size_t)t * C;
        float r = rstd[t];
        // xhat = x r; dxhat = dy w; dx = r (dxhat - xhat mean(dxhat xhat))
        float dot = 0.0f;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            float xh = __bfloat162float(x[c]) * r;
            float g = __bfloat162float(dy[c]);
            dot += g * __bfloat162float(w[c]) * xh;
            dw_acc[c] += g * xh;
        }
        dot = block_sum(dot, sh) / (float)C;
        bf16 *dx = dinp + (size_t)t * C;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            float xh = __bfloat162float(x[c]) * r;
            float g = __bfloat162float(dy[c]) * __bfloat162float(w[c]);
            float v = r * (g - xh * dot);
            dx[c] = __float2bfloat16_rn(__bfloat162float(dx[c]) + v);
        }
    }
    __syncthreads();
    float *dst = part + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = dw_acc[c];
}

// Vector form (C % 8 == 0, 16-byte aligned rows): 8 columns per thread and load. The shared dw
// partials are laid out [8][C / 8] (lane k of column group c8 at k * n8 + c8) so that a warp's
// 32 consecutive groups hit 32 banks; the owner of a group changes between the zeroing, the
// accumulation and the partials' store, hence the barriers.
__global__ void k_rmsnorm_bwd_v8(bf16 *dinp, float *part, const bf16 *dout, const bf16 *inp, const bf16 *w,
                                 const float *rstd, int T, int C, int rows) {
    extern __shared__ float dw_acc[];  // [8][C / 8]
    __shared__ float sh[32];
    const int n8 = C / 8;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dw_acc[c] = 0.0f;
    __syncthreads();
    const int t0 = blockIdx.x * rows, t1 = min(t0 + rows, T);
    for (int t = t0; t < t1; t++) {
        const size_t row = (size_t)t * C;
        const float r = rstd[t];
        float dot = 0.0f;
        for (int c8 = threadIdx.x; c8 < n8; c8 += blockDim.x) {
            float x[8], g[8], wv[8];
            ld8(x, inp + row + 8 * c8);
            ld8(g, dout + row + 8 * c8);
            ld8(wv, w + 8 * c8);
#pragma unroll
            for (int k = 0; k < 8; k++) {
                float xh = x[k] * r;
                dot += g[k] * wv[k] * xh;
                dw_acc[k * n8 + c8] += g[k] * xh;
            }
        }
        dot = block_sum(dot, sh) / (float)C;
        for (int c8 = threadIdx.x; c8 < n8; c8 += blockDim.x) {
            float x[8], g[8], wv[8], d[8];
            ld8(x, inp + row + 8 * c8);
            ld8(g, dout + row + 8 * c8);
            ld8(wv, w + 8 * c8);
            ld8(d, dinp + row + 8 * c8);
#pragma unroll
            for (int k = 0; k < 8; k++) d[k] += r * (g[k] * wv[k] - x[k] * r * dot);
            st8(dinp + row + 8 * c8, d);
        }
    }
    __syncthreads();
    float *dst = part + (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = dw_acc[(c & 7) * n8 + (c >> 3)];
}

static void cu_rmsnorm_fwd(s1c_backend *be, void *out, float *rstd, const void *inp, const void *w, int T, int C,
                           float eps) {
    if (T <= 0) return;
    if (C % 8 == 0 && al16(out) && al16(inp) && al16(w)) {
        k_rmsnorm_fwd_v8<<<T, 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, rstd, (bf16 *)inp, NULL,
                                                                   (const bf16 *)w, C, eps);
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_rmsnorm_fwd<<<T, 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, rstd, (const bf16 *)inp, (const bf16 *)w,
                                                            C, eps);
    S1C_CUDA_LAUNCH_CHECK();
}
static void cu_rmsnorm_residual_fwd(s1c_backend *be, void *out, float *rstd, void *x, const void *res, const void *w,
                                    int T, int C, float eps) {
    if (T <= 0) return;
    if (C % 8 == 0 && al16(out) && al16(x) && al16(res) && al16(w)) {
        k_rmsnorm_fwd_v8<<<T, 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, rstd, (bf16 *)x, (const bf16 *)res,
                                                                   (const bf16 *)w, C, eps);
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    cu_add_inplace(be, x, res, (size_t)T * C);
    cu_rmsnorm_fwd(be, out, rstd, x, w, T, C, eps);
}
static void cu_rmsnorm_bwd(s1c_backend *be, void *dinp, float *dw, const void *dout, const void *inp, const void *w,
                           const float *rstd, int T, int C) {
    if (T <= 0) return;
    s1c_cuda_rmsnorm_bwd_geom g = s1c_cuda_rmsnorm_bwd_plan(T, C, al16(dinp) && al16(dout) && al16(inp) && al16(w));
    // 48 KiB is the launch limit for static + dynamic shared memory without an opt-in; the kernel's
    // static part is block_sum's 32 floats. C <= 12256: every Qwen2 width.
    S1C_ASSERT(g.ok);
    cuda_impl *ci = cuda_impl_of(be);
    if (g.vec == 8)
        k_rmsnorm_bwd_v8<<<g.blocks, g.threads, g.shmem, ci->stream>>>(
            (bf16 *)dinp, ci->red, (const bf16 *)dout, (const bf16 *)inp, (const bf16 *)w, rstd, T, C, g.rows);
    else
        k_rmsnorm_bwd<<<g.blocks, g.threads, g.shmem, ci->stream>>>(
            (bf16 *)dinp, ci->red, (const bf16 *)dout, (const bf16 *)inp, (const bf16 *)w, rstd, T, C, g.rows);
    S1C_CUDA_LAUNCH_CHECK();
    cuda_colsum_bands(ci, dw, ci->red, (int)g.blocks, C);
}

// ---- RoPE ---------------------------------------------------------------------------------------
// One thread per (row, q-or-k head, group of pairs i < hd/2), rows over gridDim.y (strided), the
// geometry from s1c_cuda_rope_plan; 32-bit index math within a row. sign = +1 forward, -1 for the
// inverse rotation (the transpose) in backward. sincosf (not the fast intrinsic): positions reach
// 32K and the fast path loses accuracy at large arguments. The angle is float(pos) * inv_freq in
// fp32, as the CPU reference (and Hugging Face) compute it.
__global__ void k_rope(bf16 *qkv, const int32_t *pos, const float *inv_freq, int T, int row_stride, int half_hd,
                       unsigned units_per_row, float sign) {
    const unsigned j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= units_per_row) return;
    const unsigned h = j / (unsigned)half_hd, i = j - h * (unsigned)half_hd;
    const float f = inv_freq[i];
    for (int t = blockIdx.y; t < T; t += gridDim.y) {
        bf16 *x = qkv + (size_t)t * row_stride + h * 2u * (unsigned)half_hd;
        float s, c;
        sincosf((float)pos[t] * f, &s, &c);
        s *= sign;
        float lo = __bfloat162float(x[i]), hi = __bfloat162float(x[i + half_hd]);
        x[i] = __float2bfloat16_rn(lo * c - hi * s);
        x[i + half_hd] = __float2bfloat16_rn(hi * c + lo * s);
    }
}
// Vector form (half_hd % 8 == 0, qkv 16-byte aligned; rows and heads then start 16-byte aligned
// too since row_stride and hd are multiples of 8): pairs i0..i0+7, one 16-byte load and store of
// each half.
__global__ void k_rope_v8(bf16 *qkv, const int32_t *pos, const float *inv_freq, int T, int row_stride, int half_hd,
                          unsigned units_per_row, float sign) {
    const unsigned j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= units_per_row) return;
    const unsigned per_head = (unsigned)half_hd / 8u;
    const unsigned h = j / per_head, i0 = (j - h * per_head) * 8u;
    float f[8];
#pragma unroll
    for (int k = 0; k < 8; k++) f[k] = inv_freq[i0 + k];
    for (int t = blockIdx.y; t < T; t += gridDim.y) {
        bf16 *x = qkv + (size_t)t * row_stride + h * 2u * (unsigned)half_hd + i0;
        const float p = (float)pos[t];
        float lo[8], hi[8], a[8], b[8];
        ld8(lo, x);
        ld8(hi, x + half_hd);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            float s, c;
            sincosf(p * f[k], &s, &c);
            s *= sign;
            a[k] = lo[k] * c - hi[k] * s;
            b[k] = hi[k] * c + lo[k] * s;
        }
        st8(x, a);
        st8(x + half_hd, b);
    }
}
static void rope_launch(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int nh, int nkv,
                        int hd, float sign) {
    if (T <= 0) return;
    int half_hd = hd / 2;
    // q heads then k heads are contiguous at the start of each row, so they rotate as one range.
    s1c_cuda_rope_geom g = s1c_cuda_rope_plan(T, nh + nkv, half_hd, al16(qkv));
    if (!g.units_per_row) return;
    dim3 grid(g.grid_x, g.grid_y);
    int row_stride = (nh + 2 * nkv) * hd;
    if (g.vec == 8)
        k_rope_v8<<<grid, g.threads, 0, cuda_impl_of(be)->stream>>>((bf16 *)qkv, pos, inv_freq, T, row_stride, half_hd,
                                                                     g.units_per_row, sign);
    else
        k_rope<<<grid, g.threads, 0, cuda_impl_of(be)->stream>>>((bf16 *)qkv, pos, inv_freq, T, row_stride, half_hd,
                                                                  g.units_per_row, sign);
    S1C_CUDA_LAUNCH_CHECK();
}
static void cu_rope_fwd(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int nh, int nkv,
                        int hd) {
    rope_launch(be, qkv, pos, inv_freq, T, nh, nkv, hd, 1.0f);
}
static void cu_rope_bwd(s1c_backend *be, void *dqkv, const int32_t *pos, const float *inv_freq, int T, int nh, int nkv,
                        int hd) {
    rope_launch(be, dqkv, pos, inv_freq, T, nh, nkv, hd, -1.0f);
}

// ---- SwiGLU -------------------------------------------------------------------------------------
__global__ void k_swiglu_fwd(bf16 *out, const bf16 *gu, int T, int I) {
    size_t n = (size_t)T * I;
    GRID_STRIDE(idx, n) {
        size_t t = idx / I, i = idx % I;
        float g = __bfloat162float(gu[t * 2 * I + i]);
        float u = __bfloat162float(gu[t * 2 * I + I + i]);
        float sg = 1.0f / (1.0f + expf(-g));
        out[idx] = __float2bfloat16_rn(g * sg * u);
    }
}
__global__ void k_swiglu_bwd(bf16 *dgu, const bf16 *dout, const bf16 *gu, int T, int I) {
    size_t n = (size_t)T * I;
    GRID_STRIDE(idx, n) {
        size_t t = idx / I, i = idx % I;
        float g = __bfloat162float(gu[t * 2 * I + i]);
        float u = __bfloat162float(gu[t * 2 * I + I + i]);
        float d = __bfloat162float(dout[idx]);
        float sg = 1.0f / (1.0f + expf(-g));
        float silu = g * sg;
        dgu[t * 2 * I + i] = __float2bfloat16_rn(d * u * sg * (1.0f + g * (1.0f - sg)));
        dgu[t * 2 * I + I + i] = __float2bfloat16_rn(d * silu);
    }
}
// Vector forms: I % 8 == 0, 16-byte aligned; row t over gridDim.y, 8 columns per thread.
__global__ void k_swiglu_fwd_v8(bf16 *out, const bf16 *gu, int T, int I) {
    const int i8 = blockIdx.x * blockDim.x + threadIdx.x;
    if (i8 >= I / 8) return;
    for (int t = blockIdx.y; t < T; t += gridDim.y) {
        const bf16 *row = gu + (size_t)t * 2 * I;
        float g[8], u[8];
        ld8(g, row + 8 * i8);
        ld8(u, row + I + 8 * i8);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            float sg = 1.0f / (1.0f + expf(-g[k]));
            g[k] = g[k] * sg * u[k];
        }
        st8(out + (size_t)t * I + 8 * i8, g);
    }
}
__global__ void k_swiglu_bwd_v8(bf16 *dgu, const bf16 *dout, const bf16 *gu, int T, int I) {
    const int i8 = blockIdx.x * blockDim.x + threadIdx.x;
    if (i8 >= I / 8) return;
    for (int t = blockIdx.y; t < T; t += gridDim.y) {
        const bf16 *row = gu + (size_t)t * 2 * I;
        float g[8], u[8], d[8], dg[8], du[8];
        ld8(g, row + 8 * i8);
        ld8(u, row + I + 8 * i8);
        ld8(d, dout + (size_t)t * I + 8 * i8);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            float sg = 1.0f / (1.0f + expf(-g[k]));
            dg[k] = d[k] * u[k] * sg * (1.0f + g[k] * (1.0f - sg));
            du[k] = d[k] * g[k] * sg;
        }
        st8(dgu + (size_t)t * 2 * I + 8 * i8, dg);
        st8(dgu + (size_t)t * 2 * I + I + 8 * i8, du);
    }
}
static inline bool swiglu_v8(int I, const void *a, const void *b, const void *c) {
    return I % 8 == 0 && al16(a) && al16(b) && (c == NULL || al16(c));
}
static void cu_swiglu_fwd(s1c_backend *be, void *out, const void *gu, int T, int I) {
    size_t n = (size_t)T * I;
    if (!n) return;
    if (swiglu_v8(I, out, gu, NULL)) {
        dim3 grid((unsigned)((I / 8 + 127) / 128), rows_grid(T));
        k_swiglu_fwd_v8<<<grid, 128, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, (const bf16 *)gu, T, I);
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_swiglu_fwd<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)out, (const bf16 *)gu, T, I);
    S1C_CUDA_LAUNCH_CHECK();
}
static void cu_swiglu_bwd(s1c_backend *be, void *dgu, const void *dout, const void *gu, int T, int I) {
    size_t n = (size_t)T * I;
    if (!n) return;
    if (swiglu_v8(I, dgu, dout, gu)) {
        dim3 grid((unsigned)((I / 8 + 127) / 128), rows_grid(T));
        k_swiglu_bwd_v8<<<grid, 128, 0, cuda_impl_of(be)->stream>>>((bf16 *)dgu, (const bf16 *)dout,
                                                                     (const bf16 *)gu, T, I);
        S1C_CUDA_LAUNCH_CHECK();
        return;
    }
    k_swiglu_bwd<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)dgu, (const bf16 *)dout,
                                                                              (const bf16 *)gu, T, I);
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- AdamW --------------------------------------------------------------------------------------
typedef struct {
    float lr, b1, b2, eps, wd, grad_scale, bc1, bc2;
} adamw_args;
// One element; the scalar kernel, the vector body and its tail all use it, so they agree bit for bit.
__device__ __forceinline__ void adamw_one(float &p, float &m, float &v, float g, const adamw_args &a) {
    g *= a.grad_scale;
    m = a.b1 * m + (1.0f - a.b1) * g;
    v = a.b2 * v + (1.0f - a.b2) * g * g;
    p -= a.lr * ((m / a.bc1) / (sqrtf(v / a.bc2) + a.eps) + a.wd * p);
}
__global__ void k_adamw(float *param, bf16 *param_act, const float *grad, float *m, float *v, size_t n, adamw_args a) {
    GRID_STRIDE(i, n) {
        float p = param[i], mi = m[i], vi = v[i];
        adamw_one(p, mi, vi, grad[i], a);
        m[i] = mi;
        v[i] = vi;
        param[i] = p;
        if (param_act) param_act[i] = __float2bfloat16_rn(p);
    }
}
// Vector form: n4 float4 vectors (param, grad, m, v 16-byte aligned; the bf16 copy 8-byte
// aligned: 4 bf16 per store), then `tail` (< 4) scalar elements by the first threads.
__global__ void k_adamw_v4(float *param, bf16 *param_act, const float *grad, float *m, float *v, unsigned n4,
                           unsigned tail, adamw_args a) {
    GRID_STRIDE32(i, n4) {
        float4 p = ((float4 *)param)[i], mm = ((float4 *)m)[i], vv = ((float4 *)v)[i];
        const float4 g = ((const float4 *)grad)[i];
        adamw_one(p.x, mm.x, vv.x, g.x, a);
        adamw_one(p.y, mm.y, vv.y, g.y, a);
        adamw_one(p.z, mm.z, vv.z, g.z, a);
        adamw_one(p.w, mm.w, vv.w, g.w, a);
        ((float4 *)param)[i] = p;
        ((float4 *)m)[i] = mm;
        ((float4 *)v)[i] = vv;
        if (param_act) {
            uint2 u;
            __nv_bfloat162 *h = (__nv_bfloat162 *)&u;
            h[0] = __floats2bfloat162_rn(p.x, p.y);
            h[1] = __floats2bfloat162_rn(p.z, p.w);
            ((uint2 *)param_act)[i] = u;
        }
    }
    const unsigned gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid < tail) {
        const unsigned j = 4u * n4 + gid;
        float p = param[j], mi = m[j], vi = v[j];
        adamw_one(p, mi, vi, grad[j], a);
        m[j] = mi;
        v[j] = vi;
        param[j] = p;
        if (param_act) param_act[j] = __float2bfloat16_rn(p);
    }
}
static void cu_adamw(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
                     float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step) {
    if (!n) return;
    // Bias corrections in double on the host, as the CPU reference does them once per call.
    adamw_args a = {lr, beta1, beta2, eps, wd, grad_scale, (float)(1.0 - pow((double)beta1, (double)step)),
                    (float)(1.0 - pow((double)beta2, (double)step))};
    cudaStream_t st = cuda_impl_of(be)->stream;
    bf16 *pa = (bf16 *)param_act;
    if (al16(param) && al16(grad) && al16(m) && al16(v) && (!pa || ((uintptr_t)pa & 7u) == 0)) {
        // Chunks of S1C_CUDA_VEC_CHUNK elements (a multiple of 4: the next chunk stays aligned).
        for (size_t off = 0; off < n; off += S1C_CUDA_VEC_CHUNK) {
            size_t len = n - off < S1C_CUDA_VEC_CHUNK ? n - off : S1C_CUDA_VEC_CHUNK;
            s1c_cuda_vec_grid g = s1c_cuda_vec_grid_plan(len, 4, 256, 65535u * 8u);
            k_adamw_v4<<<g.blocks, 256, 0, st>>>(param + off, pa ? pa + off : NULL, grad + off, m + off, v + off,
                                                 g.n_vec, g.tail, a);
            S1C_CUDA_LAUNCH_CHECK();
        }
        return;
    }
    k_adamw<<<cuda_blocks(n, 256), 256, 0, st>>>(param, pa, grad, m, v, n, a);
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- deterministic reductions -------------------------------------------------------------------
// Fixed order: thread i sums part[i], part[i + 1024], ... then block_sum's fixed shuffle tree.
__global__ void __launch_bounds__(1024) k_sum_parts(float *out, const float *part, int n) {
    __shared__ float sh[32];
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += part[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) *out += s;
}
void cuda_sum_parts(cuda_impl *ci, float *out, const float *part, int n) {
    if (n <= 0) return;
    k_sum_parts<<<1, 1024, 0, ci->stream>>>(out, part, n);
    S1C_CUDA_LAUNCH_CHECK();
}
__global__ void k_colsum_bands(float *dst, const float *part, int bands, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int b = 0; b < bands; b++) s += part[(size_t)b * C + c];
    dst[c] += s;
}
void cuda_colsum_bands(cuda_impl *ci, float *dst, const float *part, int bands, int C) {
    if (bands <= 0 || C <= 0) return;
    k_colsum_bands<<<(unsigned)((C + 255) / 256), 256, 0, ci->stream>>>(dst, part, bands, C);
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- sum of squares -----------------------------------------------------------------------------
// One partial per block into the reduction scratch, then cuda_sum_parts: the gradient norm (and so
// the clipping factor) has the same bits on every run.
__global__ void k_sumsq(float *part, const float *x, size_t n) {
    __shared__ float sh[32];
    float s = 0.0f;
    GRID_STRIDE(i, n) s += x[i] * x[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}
static void cu_sumsq_accumulate(s1c_backend *be, float *out, const float *x, size_t n) {
    if (!n) return;
    cuda_impl *ci = cuda_impl_of(be);
    unsigned blocks = cuda_blocks(n, 256, (unsigned)ci->sm_count * 8u);  // << S1C_CUDA_RED_FLOATS
    k_sumsq<<<blocks, 256, 0, ci->stream>>>(ci->red, x, n);
    S1C_CUDA_LAUNCH_CHECK();
    cuda_sum_parts(ci, out, ci->red, (int)blocks);
}

void cuda_install_pointwise_ops(s1c_backend *be) {
    be->f32_to_act = cu_f32_to_act;
    be->act_to_f32 = cu_act_to_f32;
    be->add_inplace = cu_add_inplace;
    be->embedding_fwd = cu_embedding_fwd;
    be->embedding_bwd = cu_embedding_bwd;
    be->embedding_bwd_sorted = cu_embedding_bwd_sorted;
    be->rmsnorm_fwd = cu_rmsnorm_fwd;
    be->rmsnorm_residual_fwd = cu_rmsnorm_residual_fwd;
    be->rmsnorm_bwd = cu_rmsnorm_bwd;
    be->rope_fwd = cu_rope_fwd;
    be->rope_bwd = cu_rope_bwd;
    be->swiglu_fwd = cu_swiglu_fwd;
    be->swiglu_bwd = cu_swiglu_bwd;
    be->adamw = cu_adamw;
    be->sumsq_accumulate = cu_sumsq_accumulate;
}
