// cuda_plan.h — host-side launch geometry and workspace layouts of the CUDA backend, in plain C
// with no CUDA headers, so that they are unit-tested on machines without a GPU
// (tests/cuda/test_cuda_plan.c). The .cu files call these instead of computing the numbers inline.
#ifndef S1C_CUDA_PLAN_H
#define S1C_CUDA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Largest gridDim.y / gridDim.z of a launch.
#define S1C_CUDA_GRID_YZ_MAX 65535

#define S1C_ATTN_BWD_DET 2
// Refuse cuDNN attention shapes whose padded per-batch buffers (stats, dO·O sums, fp32 dQ
// accumulator) would exceed this; the own kernels then run (they need only [nh, T] floats).
#define S1C_CUDA_ATTN_PAD_LIMIT ((size_t)4 << 30)

// Workspace of one cuDNN SDPA call. Byte offsets from the arena base (256-byte aligned); every
// sub-buffer starts 256-byte aligned, so the int32 tensors declared 16-byte aligned to cuDNN are.
//   aux: seq[b] at aux_seq, ragged offsets of the qkv rows [b+1] at aux_off_qkv and of the
//   output rows [b+1] at aux_off_o (int32 elements from the aux base, each a multiple of 64).
typedef struct {
    int ok;             // 0: cuDNN must not be used for this shape (reason in `why`)
    const char *why;
    int by_design;      // with ok = 0: a limit of cuDNN's fused SDPA itself (head_dim not a multiple of 8
                        // or above 256, int32 ragged offsets overflowing), not one of this layout's
                        // caps: the own kernels serve it by design and the dispatch counts it apart
                        // from fallbacks (never a real Qwen2 shape: head_dim 64 / 128)
    int b, s;           // bucketed batch (power of two >= n_seq) and sequence (power of two >= 64)
    size_t pad_rows;    // b * nh * s
    size_t aux_seq, aux_off_qkv, aux_off_o;  // int32 element offsets inside aux
    size_t aux_bytes;
    size_t stats, softmax_sum, dq_accum, cudnn_ws;  // byte offsets (softmax_sum, dq_accum: bwd only)
    size_t dq_accum_bytes;                           // bytes to zero before each backward
    size_t total;                                    // arena bytes needed
} s1c_cuda_attn_layout;

// max_seqlen <= 0: unknown, T is used. plan_ws: cuDNN's workspace for the plan (0 while only
// checking the shape). bwd: 0 forward; 1 backward with the fp32 dQ accumulator (the engine adds
// into it with atomics: fast, not bitwise reproducible); S1C_ATTN_BWD_DET (2) the deterministic
// backward (dQ written by the matmul itself, as cudnn-frontend builds it for
// set_deterministic_algorithm(true): no accumulator, dq_accum_bytes 0).
s1c_cuda_attn_layout s1c_cuda_attn_plan(int T, int n_seq, int max_seqlen, int n_head, int n_kv_head, int head_dim,
                                        int bwd, int64_t plan_ws);

// Budget of the fused LM head's chunk buffer (cuda_lmhead.cu); train/plan.c reserves exactly
// s1c_cuda_ce_chunk_bytes of the chunk the code uses. 640 MiB holds 2176 tokens at V = 152064:
// the dW_lm GEMM reads and writes the fp32 dW_lm once per chunk, so this is 11x less dW traffic
// than the former 192-token chunks (80 GB -> 7.5 GB per 1.5B step of 8192 tokens).
#define S1C_CE_CHUNK_BYTES ((size_t)640 << 20)

// Tokens per chunk of the fused LM head: logits [tc, V] in bf16 (the dlogits overwrite them in
// place) stay under chunk_bytes: T when all fit, else a multiple of 64 when at least 64; never
// below 1. want_grad no longer changes the size (kept for the callers).
int s1c_cuda_ce_chunk(int T, int V, int want_grad, size_t chunk_bytes);
// Workspace bytes the LM head requests for a chunk of tc tokens (256-byte rounded).
size_t s1c_cuda_ce_chunk_bytes(int tc, int V);

// Rows per block of the bias-gradient kernel: at least min_rows, a multiple of min_rows, and
// few enough blocks along y (ceil(T / rows) <= S1C_CUDA_GRID_YZ_MAX).
int s1c_cuda_bias_grad_rows(int T, int min_rows);

// ---- deterministic reductions (no fp32 atomics on the training path) --------------------------
// Reductions over many blocks write one partial per block (or per band of rows and column) into
// the backend's reduction scratch, allocated once at start-up, and a second kernel adds the
// partials in a fixed order: the same inputs give the same bits on every run. Covers the
// lmhead_ce loss (one partial per row), sumsq_accumulate (one per block), the RMSNorm-backward dw
// and the bias gradient (one row of C partials per band of rows).
#define S1C_CUDA_RED_SCRATCH_BYTES ((size_t)16 << 20)
#define S1C_CUDA_RED_FLOATS (S1C_CUDA_RED_SCRATCH_BYTES / sizeof(float))
// Column sums of a [T, C] matrix in bands of `rows` rows (a multiple of min_rows, at least
// min_rows): bands = ceil(T / rows) partial rows of C floats, bands * C <= max_floats and bands
// <= S1C_CUDA_GRID_YZ_MAX. ok = 0 when not even one band fits (C > max_floats), when a band would
// need more than INT32_MAX rows, or T, C <= 0.
typedef struct {
    int ok, rows, bands;
} s1c_cuda_bands;
s1c_cuda_bands s1c_cuda_col_bands(int T, int C, int min_rows, size_t max_floats);

// Split-KV (flash-decoding) plan of attention_decode: each (row, KV head) item's positions
// 0..max_ctx-1 are cut into n_splits ranges of split_len positions (a multiple of 32, the warp's
// key tile); pass 1 computes a partial online softmax per (row, q head, split), pass 2 combines
// them. Splitting is worth it only when the items alone cannot fill the GPU: with T * n_kv_head
// >= 2 * n_sm, or a context below two minimum splits, n_splits is 1 (the plain kernel runs).
// Otherwise enough splits for ~2 CTAs per SM, each at least S1C_DECODE_SPLIT_MIN positions, at
// most S1C_DECODE_MAX_SPLITS. force_splits > 0 asks for that many (tests), same rounding.
// max_ctx: the longest context a row may have (the block table's capacity on the GPU, where the
// positions live in device memory); a row shorter than that leaves its last splits empty.
#define S1C_DECODE_SPLIT_MIN 256
#define S1C_DECODE_MAX_SPLITS 64
typedef struct {
    int n_splits;   // >= 1
    int split_len;  // positions per split, a multiple of 32; n_splits * split_len >= max_ctx
} s1c_decode_split;
s1c_decode_split s1c_decode_split_plan(int T, int n_kv_head, int max_ctx, int n_sm, int force_splits);
// Floats of the partial results: [T, n_head, n_splits] x (head_dim accumulators + max + sum).
size_t s1c_decode_split_ws_floats(int T, int n_head, int head_dim, int n_splits);
// Arena bytes that cover the split-KV partials of every planned (not forced) decode call of a
// model, whatever its row count T and context: splits happen only while T * n_kv_head < 2 * n_sm,
// and then n_splits <= min(S1C_DECODE_MAX_SPLITS, ceil(2 n_sm / (T n_kv_head))). be->prepare
// reserves it at start-up (and the first split call, for callers that never prepared), so no
// decode step grows the arena (test_cuda_plan checks it covers every plan and is the largest of
// them). 0 when no plan can split.
size_t s1c_decode_split_ws_reserve(int n_head, int n_kv_head, int head_dim, int n_sm);

// cuDNN run-time version policy (cudnnGetVersion(): major*10000 + minor*100 + patch since 9.0).
// The SDPA graphs of cuda_attn_cudnn.cu follow what cudnn-frontend emits for cuDNN >= 9.10 (mask
// order: scale, subtract stats, padding, causal; no second padding mask; plain fp32 dQ
// accumulator), and GQA with ragged (THD) backward needs >= 9.6. Returns NULL when `runtime` may
// build them, else why not (static text). `compiled` is CUDNN_VERSION of the headers: a different
// major at run time is refused too (backend API attributes differ across majors).
#define S1C_CUDNN_MIN_VERSION 91000
const char *s1c_cuda_cudnn_refusal(long runtime, long compiled);

// ---- vectorised elementwise / row kernels (cuda_pointwise.cu) ---------------------------------
// A flat elementwise op over n elements in vectors of `width` (4 fp32 or 8 bf16 = 16 bytes): each
// launch covers at most S1C_CUDA_VEC_CHUNK elements (a multiple of every width, so later chunks
// keep the pointers' alignment) and indexes with 32-bit math; n_vec whole vectors, then `tail`
// (< width) scalar elements done by the first `tail` threads. blocks: enough for the vectors and
// the tail, at least 1, at most max_blocks (the kernels stride over the grid).
#define S1C_CUDA_VEC_CHUNK ((size_t)1 << 30)
typedef struct {
    unsigned n_vec, tail, blocks;
} s1c_cuda_vec_grid;
s1c_cuda_vec_grid s1c_cuda_vec_grid_plan(size_t n, int width, int threads, unsigned max_blocks);

// RoPE: one thread per (row, rotated head, group of `vec` pairs); vec is 8 (16-byte loads of the
// lo and hi halves) when half_hd % 8 == 0 and the buffer is 16-byte aligned, else 1 (scalar).
// Rows along grid_y (strided over rows beyond S1C_CUDA_GRID_YZ_MAX), the units of a row along x.
typedef struct {
    int vec;
    unsigned units_per_row;  // n_rot_heads * half_hd / vec
    unsigned threads, grid_x, grid_y;
} s1c_cuda_rope_geom;
s1c_cuda_rope_geom s1c_cuda_rope_plan(int T, int n_rot_heads, int half_hd, int aligned16);

// RMSNorm backward: `rows` rows per block (a multiple of S1C_CUDA_RMS_ROWS, more only when T is
// large: s1c_cuda_col_bands with the reduction scratch), dw partials [C] floats in shared memory,
// written to the scratch as one row per block and summed over the blocks in order by a second
// kernel; vec 8 when C % 8 == 0 and every bf16 pointer is 16-byte aligned. threads: a multiple of
// 32 covering the C / vec column groups, capped at 256. ok = 0 when the shared memory (shmem + the
// kernel's 128 static bytes) passes the 48 KiB launch limit (C > 12256).
#define S1C_CUDA_RMS_ROWS 16
typedef struct {
    int ok, vec;
    unsigned threads, blocks;
    size_t shmem;
    int rows;  // rows per block; blocks = ceil(T / rows), blocks * C <= S1C_CUDA_RED_FLOATS
} s1c_cuda_rmsnorm_bwd_geom;
s1c_cuda_rmsnorm_bwd_geom s1c_cuda_rmsnorm_bwd_plan(int T, int C, int aligned16);

#ifdef __cplusplus
}
#endif

#endif
