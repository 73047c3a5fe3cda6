// cuda_lmhead.cu — fused LM head + softmax cross-entropy, chunked over tokens.
//
// Per chunk of tc tokens: logits[tc, V] (bf16, fp32 accumulation: what Hugging Face's bf16
// lm_head produces before its fp32 loss) = h w_lm^T (cuBLASLt), one kernel computes in fp32 the
// log-sum-exp, the weighted loss and dlogits = weight (softmax - onehot), written in bf16 over the
// logits in place, then two GEMMs give dh (overwritten) and dw_lm (+=). [T, V] never exists; the
// chunk lives in the workspace arena, s1c_cuda_ce_chunk_bytes <= S1C_CE_CHUNK_BYTES (2176 tokens
// at V = 152064, so the fp32 dw_lm is read and written once per 2176 tokens, not per 192).
// The loss is deterministic: each row's weighted loss goes to the reduction scratch and one block
// adds a chunk's rows in a fixed order (cuda_sum_parts), so a run's losses repeat bit for bit.
#include <math.h>

#include "cuda_common.cuh"
#include "cuda_plan.h"

#define CE_THREADS 1024

__global__ void __launch_bounds__(CE_THREADS)
k_ce_rows(float *row_loss, bf16 *logits, const int32_t *targets, const float *weight, int V, int want_grad) {
    __shared__ float sh[32];
    int r = blockIdx.x;
    const bf16 *x = logits + (size_t)r * V;
    float w = weight[r];
    bf16 *g = want_grad ? logits + (size_t)r * V : NULL;  // dlogits overwrite the row in place
    if (w == 0.0f) {  // masked token: no loss, zero gradient row
        if (threadIdx.x == 0) row_loss[r] = 0.0f;
        if (g)
            for (int v = threadIdx.x; v < V; v += blockDim.x) g[v] = __float2bfloat16_rn(0.0f);
        return;
    }
    // One pass with a per-thread online max/sum, then a block combine.
    float m = -INFINITY, s = 0.0f;
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        float xv = __bfloat162float(x[v]);
        if (xv > m) {
            s = s * expf(m - xv) + 1.0f;
            m = xv;
        } else {
            s += expf(xv - m);
        }
    }
    int tgt = targets[r];
    // Every read of the row happens before the block reductions' barriers: after them the
    // gradient loop overwrites the row (x[tgt] included).
    float xt = tgt >= 0 && tgt < V ? __bfloat162float(x[tgt]) : 0.0f;
    float M = block_max(m, sh);
    s = m == -INFINITY ? 0.0f : s * expf(m - M);
    float S = block_sum(s, sh);
    if (tgt < 0 || tgt >= V) {  // a bad target poisons the loss visibly instead of reading out of bounds
        if (threadIdx.x == 0) row_loss[r] = NAN;
        // and the gradient row too: left unwritten it would hold the previous chunk's values
        if (g)
            for (int v = threadIdx.x; v < V; v += blockDim.x) g[v] = __float2bfloat16_rn(NAN);
        return;
    }
    float lse = M + logf(S);
    if (threadIdx.x == 0) row_loss[r] = w * (lse - xt);
    if (g) {
        float invS = 1.0f / S;
        for (int v = threadIdx.x; v < V; v += blockDim.x) {
            float p = expf(__bfloat162float(x[v]) - M) * invS;
            g[v] = __float2bfloat16_rn(w * (p - (v == tgt ? 1.0f : 0.0f)));
        }
    }
}

static void cu_lmhead_ce(s1c_backend *be, float *loss_out, void *dh, float *dw_lm, const void *h, const void *w_lm,
                         const int32_t *targets, const float *weight, int T, int C, int V) {
    if (T <= 0) return;
    cuda_impl *ci = cuda_impl_of(be);
    int want_grad = dh != NULL || dw_lm != NULL;
    int tc = s1c_cuda_ce_chunk(T, V, want_grad, S1C_CE_CHUNK_BYTES);
    bf16 *logits = (bf16 *)cuda_ws_get(ci, s1c_cuda_ce_chunk_bytes(tc, V));  // [tc, V], then dlogits
    bf16 *dlogits = logits;
    const bf16 *hb = (const bf16 *)h, *wb = (const bf16 *)w_lm;
    for (int t0 = 0; t0 < T; t0 += tc) {
        int n = T - t0 < tc ? T - t0 : tc;
        cuda_gemm(ci, 1, 0, V, n, C, wb, C, hb + (size_t)t0 * C, C, logits, V, 0, NULL, 0.0f);
        // rows in pieces of at most S1C_CUDA_RED_FLOATS (4M: one piece for any real chunk)
        for (int r0 = 0; r0 < n; r0 += (int)S1C_CUDA_RED_FLOATS) {
            const int m = n - r0 < (int)S1C_CUDA_RED_FLOATS ? n - r0 : (int)S1C_CUDA_RED_FLOATS;
            k_ce_rows<<<m, CE_THREADS, 0, ci->stream>>>(ci->red, logits + (size_t)r0 * V, targets + t0 + r0,
                                                       weight + t0 + r0, V, want_grad);
            S1C_CUDA_LAUNCH_CHECK();
            cuda_sum_parts(ci, loss_out, ci->red, m);
        }
        if (dh) cuda_gemm(ci, 0, 0, C, n, V, wb, C, dlogits, V, (bf16 *)dh + (size_t)t0 * C, C, 0, NULL, 0.0f);
        if (dw_lm) cuda_gemm(ci, 0, 1, C, V, n, hb + (size_t)t0 * C, C, dlogits, V, dw_lm, C, 1, NULL, 1.0f);
    }
}

void cuda_install_lmhead_ops(s1c_backend *be) { be->lmhead_ce = cu_lmhead_ce; }
