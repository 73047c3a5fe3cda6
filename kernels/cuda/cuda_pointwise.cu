// cuda_pointwise.cu — the memory-bound ops: casts, add, embedding, RMSNorm, RoPE, SwiGLU, AdamW,
// sum of squares. bf16 in and out, fp32 arithmetic, one rounding per stored value.
// The bandwidth-heavy ones (add, casts, SwiGLU, RMSNorm rows, embedding rows) move 16 bytes per
// thread and access (8 bf16) with 32-bit index math when every pointer is 16-byte aligned and the
// sizes are multiples of 8 (all Qwen2 widths are); otherwise the scalar kernels run. Rows are
// walked over gridDim.y (strided, so any T works) instead of dividing a flat index per element.
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
// Rows of the same id add up through fp32 atomics (tokens repeat; order does not matter to fp32
// within the stated tolerance).
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

// Each block owns RMS_ROWS rows: per row it writes dinp, and it accumulates dw for its rows in
// shared memory so that dw receives one atomic per column per block instead of one per row.
#define RMS_ROWS 16
__global__ void k_rmsnorm_bwd(bf16 *dinp, float *dw, const bf16 *dout, const bf16 *inp, const bf16 *w,
                              const float *rstd, int T, int C) {
    extern __shared__ float dw_acc[];  // [C]
    __shared__ float sh[32];
    for (int c = threadIdx.x; c < C; c += blockDim.x) dw_acc[c] = 0.0f;
    int t0 = blockIdx.x * RMS_ROWS;
    int t1 = min(t0 + RMS_ROWS, T);
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
    for (int c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(dw + c, dw_acc[c]);
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
    size_t shmem = (size_t)C * sizeof(float);
    // 48 KiB is the launch limit for static + dynamic shared memory without an opt-in; the kernel's
    // static part is block_sum's 32 floats. C <= 12256: every Qwen2 width.
    S1C_ASSERT(shmem + 32 * sizeof(float) <= 48 * 1024);
    unsigned blocks = (unsigned)((T + RMS_ROWS - 1) / RMS_ROWS);
    k_rmsnorm_bwd<<<blocks, 256, shmem, cuda_impl_of(be)->stream>>>((bf16 *)dinp, dw, (const bf16 *)dout,
                                                                     (const bf16 *)inp, (const bf16 *)w, rstd, T, C);
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- RoPE ---------------------------------------------------------------------------------------
// One thread per (token, q-or-k head, pair i < hd/2). sign = +1 forward, -1 for the inverse
// rotation (the transpose) in backward. sincosf (not the fast intrinsic): positions reach 32K and
// the fast path loses accuracy at large arguments.
__global__ void k_rope(bf16 *qkv, const int32_t *pos, const float *inv_freq, int T, int n_rot_heads, int row_stride,
                       int half_hd, float sign) {
    size_t n = (size_t)T * n_rot_heads * half_hd;
    GRID_STRIDE(idx, n) {
        int i = (int)(idx % half_hd);
        size_t th = idx / half_hd;
        int h = (int)(th % n_rot_heads);
        int t = (int)(th / n_rot_heads);
        float ang = (float)pos[t] * inv_freq[i];
        float s, c;
        sincosf(ang, &s, &c);
        s *= sign;
        bf16 *x = qkv + (size_t)t * row_stride + (size_t)h * 2 * half_hd;
        float lo = __bfloat162float(x[i]), hi = __bfloat162float(x[i + half_hd]);
        x[i] = __float2bfloat16_rn(lo * c - hi * s);
        x[i + half_hd] = __float2bfloat16_rn(hi * c + lo * s);
    }
}
static void rope_launch(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int nh, int nkv,
                        int hd, float sign) {
    if (T <= 0) return;
    int half_hd = hd / 2;
    size_t n = (size_t)T * (nh + nkv) * half_hd;
    // q heads then k heads are contiguous at the start of each row, so they rotate as one range.
    k_rope<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>((bf16 *)qkv, pos, inv_freq, T, nh + nkv,
                                                                       (nh + 2 * nkv) * hd, half_hd, sign);
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
__global__ void k_adamw(float *param, bf16 *param_act, const float *grad, float *m, float *v, size_t n, float lr,
                        float b1, float b2, float eps, float wd, float grad_scale, float bc1, float bc2) {
    GRID_STRIDE(i, n) {
        float g = grad[i] * grad_scale;
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        float p = param[i];
        p -= lr * ((mi / bc1) / (sqrtf(vi / bc2) + eps) + wd * p);
        param[i] = p;
        if (param_act) param_act[i] = __float2bfloat16_rn(p);
    }
}
static void cu_adamw(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
                     float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step) {
    if (!n) return;
    // Bias corrections in double on the host, as the CPU reference does them once per call.
    float bc1 = (float)(1.0 - pow((double)beta1, (double)step));
    float bc2 = (float)(1.0 - pow((double)beta2, (double)step));
    k_adamw<<<cuda_blocks(n, 256), 256, 0, cuda_impl_of(be)->stream>>>(param, (bf16 *)param_act, grad, m, v, n, lr,
                                                                        beta1, beta2, eps, wd, grad_scale, bc1, bc2);
    S1C_CUDA_LAUNCH_CHECK();
}

// ---- sum of squares -----------------------------------------------------------------------------
__global__ void k_sumsq(float *out, const float *x, size_t n) {
    __shared__ float sh[32];
    float s = 0.0f;
    GRID_STRIDE(i, n) s += x[i] * x[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) atomicAdd(out, s);
}
static void cu_sumsq_accumulate(s1c_backend *be, float *out, const float *x, size_t n) {
    if (!n) return;
    cuda_impl *ci = cuda_impl_of(be);
    unsigned blocks = cuda_blocks(n, 256, (unsigned)ci->sm_count * 8u);
    k_sumsq<<<blocks, 256, 0, ci->stream>>>(out, x, n);
    S1C_CUDA_LAUNCH_CHECK();
}

void cuda_install_pointwise_ops(s1c_backend *be) {
    be->f32_to_act = cu_f32_to_act;
    be->act_to_f32 = cu_act_to_f32;
    be->add_inplace = cu_add_inplace;
    be->embedding_fwd = cu_embedding_fwd;
    be->embedding_bwd = cu_embedding_bwd;
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
