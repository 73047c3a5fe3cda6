// cuda_common.cuh — private state and helpers shared by the CUDA backend's translation units.
//
// Every CUDA / cuBLASLt / cuDNN call goes through a CHECK macro that names the call and file:line.
// Ops cannot return errors (ops.h contract), so a failing call inside an op is fatal: it means a
// bug or a device fault, never bad user input. Allocation and backend creation report errors.
#ifndef S1C_CUDA_COMMON_CUH
#define S1C_CUDA_COMMON_CUH

#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "ops.h"
}

typedef __nv_bfloat16 bf16;

#define S1C_CUDA_CHECK(call)                                                                              \
    do {                                                                                                  \
        cudaError_t s1c_e_ = (call);                                                                      \
        if (s1c_e_ != cudaSuccess)                                                                        \
            s1c_fatal_at(__FILE__, __LINE__, "%s failed: %s (%s)", #call, cudaGetErrorString(s1c_e_),   \
                         cudaGetErrorName(s1c_e_));                                                       \
    } while (0)

#define S1C_CUBLAS_CHECK(call)                                                                            \
    do {                                                                                                  \
        cublasStatus_t s1c_s_ = (call);                                                                   \
        if (s1c_s_ != CUBLAS_STATUS_SUCCESS)                                                              \
            s1c_fatal_at(__FILE__, __LINE__, "%s failed: cuBLAS status %d", #call, (int)s1c_s_);        \
    } while (0)

#define S1C_CUDNN_CHECK(call)                                                                             \
    do {                                                                                                  \
        cudnnStatus_t s1c_s_ = (call);                                                                    \
        if (s1c_s_ != CUDNN_STATUS_SUCCESS)                                                               \
            s1c_fatal_at(__FILE__, __LINE__, "%s failed: %s", #call, cudnnGetErrorString(s1c_s_));      \
    } while (0)

// Launch-error check after every kernel launch (cheap: no synchronisation).
#define S1C_CUDA_LAUNCH_CHECK() S1C_CUDA_CHECK(cudaGetLastError())

struct cuda_mm_cache;     // cuBLASLt plans (cuda_matmul.cu)
struct cuda_attn_cache;   // cuDNN SDPA plans (cuda_attn_cudnn.cu)

// Attention path selection (env S1C_CUDA_ATTN=auto|cudnn|own): auto tries cuDNN and falls back to
// the own kernels for shapes cuDNN refuses; cudnn makes a refusal fatal; own never calls cuDNN.
enum { S1C_ATTN_AUTO = 0, S1C_ATTN_CUDNN = 1, S1C_ATTN_OWN = 2 };

typedef struct {
    int device;
    int sm_count;
    int cc_major, cc_minor;
    cudaStream_t stream;
    cudaEvent_t fence[S1C_BACKEND_FENCES];  // fence_record / fence_wait (no timing)
    cublasLtHandle_t lt;
    cudnnHandle_t dnn;  // NULL when cuDNN could not be initialised (own attention kernels only)
    // cuBLASLt workspace: allocated once at start-up.
    void *lt_ws;        // [lt_ws_bytes]
    size_t lt_ws_bytes;
    // Workspace arena for op temporaries (logits chunks, attention stats, offsets). It only grows,
    // and only when an op first needs more than it has: after the first step of a run no op
    // allocates. Growing frees the old arena, which synchronises the device (first step only).
    void *ws;           // [ws_bytes]
    size_t ws_bytes;
    size_t ws_peak;
    float *loss_scratch;  // [1] spare fp32 for ops that need a device scalar
    // Per-block partials of the deterministic reductions (cuda_plan.h, S1C_CUDA_RED_FLOATS floats,
    // start-up): written by one op's first kernel, summed in a fixed order by its second; no op
    // keeps anything there across ops (stream order serialises them).
    float *red;
    struct cuda_mm_cache *mm;
    struct cuda_attn_cache *attn;
    int attn_mode;
    int attn_det;             // S1C_CUDA_ATTN_DETERMINISTIC (default 1): the deterministic SDPA backward graph
    int attn_cudnn_refusals;  // shapes that fell back to the own kernels (reported in docs/bench)
    int attn_cudnn_off;       // cuDNN's run-time version cannot build the graphs (s1c_cuda_cudnn_refusal)
    long cudnn_version;       // cudnnGetVersion() at start-up
    unsigned long long attn_calls[4];  // cuDNN fwd, cuDNN bwd, own fwd, own bwd (fallbacks and mode own)
    unsigned long long attn_by_design[2];  // own fwd, bwd for shapes cuDNN cannot run (layout by_design)
    const char *attn_by_design_why;         // the last such shape's reason
    int decode_force_splits;  // S1C_CUDA_DECODE_SPLITS: 0 plan (default), N > 0 that many, -1 never split
} cuda_impl;

static inline cuda_impl *cuda_impl_of(s1c_backend *be) { return (cuda_impl *)be->impl; }

// Returns the arena, at least `bytes` large (256-byte aligned base).
void *cuda_ws_get(cuda_impl *ci, size_t bytes);

static inline unsigned cuda_blocks(size_t n, unsigned threads, unsigned cap = 65535u * 8u) {
    size_t b = (n + threads - 1) / threads;
    if (b == 0) b = 1;
    return (unsigned)(b < cap ? b : cap);
}

static inline size_t cuda_align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

// ---- matmul (cuda_matmul.cu) --------------------------------------------------------------------
// D[m, n] (column-major, ldd) = alpha * op(A) op(B) + beta * C, where C aliases D.
// Types: A, B bf16; D bf16 or fp32 (d_f32); bias (bf16, length m) fused as an epilogue when given.
void cuda_mm_init(cuda_impl *ci);
void cuda_mm_destroy(cuda_impl *ci);
void cuda_gemm(cuda_impl *ci, int trans_a, int trans_b, int m, int n, int k, const bf16 *A, int lda,
               const bf16 *B, int ldb, void *D, int ldd, int d_f32, const bf16 *bias, float beta);

// ---- deterministic reductions (cuda_pointwise.cu) ----------------------------------------------
// *out += part[0] + part[1] + ... + part[n-1], always in the same order (one block).
void cuda_sum_parts(cuda_impl *ci, float *out, const float *part, int n);
// dst[c] += sum over b of part[b * C + c], b ascending (one thread per column).
void cuda_colsum_bands(cuda_impl *ci, float *dst, const float *part, int bands, int C);

// ---- ops implemented across files --------------------------------------------------------------
void cuda_install_pointwise_ops(s1c_backend *be);
void cuda_install_matmul_ops(s1c_backend *be);
void cuda_install_attention_ops(s1c_backend *be);
void cuda_install_lmhead_ops(s1c_backend *be);
void cuda_install_decode_ops(s1c_backend *be);  // paged KV cache (cuda_attn_decode.cu)
void cuda_install_trainer_ops(s1c_backend *be);  // add_f32, stream (cuda_add_f32.cu)
void cuda_install_sampling_ops(s1c_backend *be);  // argmax_rows (cuda_argmax.cu)

// Own (non-cuDNN) attention kernels, used as the fallback path (cuda_attn_own.cu).
void cuda_attn_own_fwd(cuda_impl *ci, bf16 *out, float *lse, const bf16 *qkv, const s1c_attn_shape *s);
void cuda_attn_own_bwd(cuda_impl *ci, bf16 *dqkv, const bf16 *dout, const bf16 *qkv, const bf16 *out,
                       const float *lse, const s1c_attn_shape *s);

// cuDNN SDPA path (cuda_attn_cudnn.cu). Return 0 when they ran, CUDA_ATTN_BY_DESIGN when the shape
// is outside what cuDNN's fused SDPA can run at all (s1c_cuda_attn_layout.by_design), another
// nonzero value when cuDNN refused it, is off or was capped (the caller then uses the own kernels).
#define CUDA_ATTN_BY_DESIGN 2
void cuda_attn_cudnn_init(cuda_impl *ci);
void cuda_attn_cudnn_destroy(cuda_impl *ci);
int cuda_attn_cudnn_fwd(cuda_impl *ci, bf16 *out, float *lse, const bf16 *qkv, const s1c_attn_shape *s);
// plans of the shape's bucket (fwd, and bwd when with_bwd) built now; returns the arena bytes their
// calls need
size_t cuda_attn_cudnn_prepare(cuda_impl *ci, int T, int n_seq, int max_seqlen, int nh, int nkv, int hd,
                               int with_bwd);
int cuda_attn_cudnn_bwd(cuda_impl *ci, bf16 *dqkv, const bf16 *dout, const bf16 *qkv, const bf16 *out,
                        const float *lse, const s1c_attn_shape *s);

// ---- device helpers -----------------------------------------------------------------------------
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
// Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
// `sh` needs 32 floats of shared memory; the function may be called repeatedly with the same `sh`.
__device__ __forceinline__ float block_sum(float v, float *sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();  // protect sh from a previous call's readers
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : 0.0f;
    return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float *sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    v = lane < nw ? sh[lane] : -INFINITY;
    return warp_max(v);
}

// Index of the sequence holding token t: the largest i with cu[i] <= t (cu has n_seq+1 entries).
__device__ __forceinline__ int seq_of_token(const int32_t *cu, int n_seq, int t) {
    int lo = 0, hi = n_seq - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (cu[mid] <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
}

#endif
