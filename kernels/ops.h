// ops.h — the one kernel interface of s1c.
//
// Model code calls ops through an s1c_backend (a table of function pointers plus a context), so
// the same model code runs on the CPU reference backend or the CUDA backend, chosen at run time.
// A third backend, "cpu-bf16", is the GPU's storage numerics on a CPU, for tests, not speed: host
// memory, bf16 act buffers, the CPU ops with act operands widened in and rounded (RNE) out.
//
// Conventions (every backend honours them; the tests check them):
// - Pointers are backend memory (host memory for CPU, device memory for CUDA), allocated with
//   be->alloc. "act" buffers (activations, gathered weights) hold be->act_dtype elements: fp32 on
//   CPU, bf16 on CUDA. Buffers typed `float *` are fp32 on every backend. Token ids and offsets are
//   int32.
// - Parameter gradients (dw, dbias, dwte, dnorm_w) are always fp32 and always ACCUMULATED (+=),
//   so micro-batches and tied weights just add up. Input gradients are OVERWRITTEN unless the
//   parameter name says `accumulate` (residual-stream gradients are accumulated by design).
// - Linear layers use the PyTorch layout: weight [OC, IC], out = inp @ weight^T + bias.
// - Packed variable-length batches: T tokens of n_seq sequences laid end to end; cu_seqlens[n_seq+1]
//   holds the start offset of each sequence (cu_seqlens[0] = 0, cu_seqlens[n_seq] = T). Attention
//   is causal within a sequence and never crosses sequences. Positions restart at 0 per sequence.
// - Ops are stream-ordered on CUDA: no host synchronisation unless the op's comment says so.
// - Ops do not fail on valid shapes; shapes are the caller's contract (checked by S1C_ASSERT in
//   debug-sensitive places). Only memory allocation and backend creation report errors.
#ifndef S1C_OPS_H
#define S1C_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "s1c_err.h"

typedef enum { S1C_F32 = 0, S1C_BF16 = 1 } s1c_dtype;
size_t s1c_dtype_size(s1c_dtype dt);

typedef struct s1c_backend s1c_backend;

// Attention geometry over a packed qkv buffer.
// qkv: [T, (n_head + 2*n_kv_head) * head_dim]; per row: q heads, then k heads, then v heads.
// Query head h reads KV head h / (n_head / n_kv_head) (grouped-query attention).
typedef struct {
    int T;           // tokens in the packed batch
    int n_seq;       // sequences
    const int32_t *cu_seqlens;  // [n_seq + 1], backend memory
    int n_head;
    int n_kv_head;
    int head_dim;
    // Optional: the longest sequence's length (0 = unknown; backends then assume T). The CUDA
    // backend sizes cuDNN's padded per-sequence buffers from it; the host knows it when it builds
    // the batch, the device would need a synchronising copy to find it.
    int max_seqlen;
    // Context rows (context parallelism, train/cp_*.c): the first n_ctx rows of the buffer are
    // earlier tokens of sequence 0 whose K and V came from another rank. They are keys and values
    // for sequence 0's later rows (causal by row order, as always) but not queries: their out
    // and lse rows are unspecified (CPU: zero), their dout rows must be zero (the caller writes
    // zeros), and attention_bwd gives them zero dQ and the dK/dV that the other rows' queries
    // put on them. A backend may compute them as ordinary queries (CUDA does, and discards the
    // work): zero dout makes that exact. cu_seqlens counts them in sequence 0. 0: none.
    int n_ctx;
} s1c_attn_shape;

// Geometry of a paged attention call (all arrays backend memory, int32).
typedef struct s1c_paged_shape {
    int T;                        // query rows
    int n_head, n_kv_head, head_dim;
    int block_size;               // positions per cache block
    int max_blocks;               // row stride of block_tables
    const int32_t *block_tables;  // [n_seq, max_blocks] block ids of each sequence
    const int32_t *row_seq;       // [T] sequence of each row
    const int32_t *pos;           // [T] position of each row (attends to 0..pos)
} s1c_paged_shape;

struct s1c_backend {
    const char *name;     // "cpu", "cpu-bf16" or "cuda"
    s1c_dtype act_dtype;  // dtype of activations and gathered weights
    // Buffers are not host-addressable (CUDA): callers decide "device or host" by this, never by
    // the name (cpu-bf16 has host memory and bf16 acts; device collectives need device buffers).
    int device_memory;
    void *impl;           // backend private state (threads, cuBLASLt handle, stream, workspaces)

    // ---- memory -------------------------------------------------------------------------------
    void *(*alloc)(s1c_backend *be, size_t bytes);  // NULL + s1c_err message on failure
    void (*free)(s1c_backend *be, void *p);
    void (*memset_zero)(s1c_backend *be, void *p, size_t bytes);
    void (*copy_d2d)(s1c_backend *be, void *dst, const void *src, size_t bytes);
    void (*copy_h2d)(s1c_backend *be, void *dst, const void *src_host, size_t bytes);
    void (*copy_d2h)(s1c_backend *be, void *dst_host, const void *src, size_t bytes);  // syncs
    // rows x width bytes from src (rows spitch bytes apart) to dst (dpitch apart), backend memory
    // on both sides (cudaMemcpy2D's contract): packs columns out of row-major buffers, e.g. the
    // K/V columns of qkv rows sent to another rank.
    void (*copy_2d)(s1c_backend *be, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                    size_t rows);
    void (*synchronize)(s1c_backend *be);
    // Optional overlap of host work with copies (NULL on host-memory backends, whose copies are
    // done when they return; callers use the s1c_backend_host_* helpers below, which fall back).
    // host_alloc: page-locked host memory (CUDA cudaHostAlloc), which copies can read and write
    // while the host computes; copy_d2h_async enqueues a copy into such memory and returns;
    // fence_record(k) marks the work enqueued so far on the backend's stream, fence_wait(k)
    // returns once it is done (k < S1C_BACKEND_FENCES).
    void *(*host_alloc)(s1c_backend *be, size_t bytes);  // NULL + s1c_err message on failure
    void (*host_free)(s1c_backend *be, void *p);
    void (*copy_d2h_async)(s1c_backend *be, void *dst_host, const void *src, size_t bytes);
    void (*fence_record)(s1c_backend *be, int k);
    void (*fence_wait)(s1c_backend *be, int k);

    // ---- dtype conversion ---------------------------------------------------------------------
    // act[n] <- f32[n] (round to nearest even for bf16); f32[n] <- act[n].
    void (*f32_to_act)(s1c_backend *be, void *act, const float *f32, size_t n);
    void (*act_to_f32)(s1c_backend *be, float *f32, const void *act, size_t n);

    // ---- elementwise --------------------------------------------------------------------------
    // x[n] += y[n] (act)
    void (*add_inplace)(s1c_backend *be, void *x, const void *y, size_t n);

    // ---- embedding ----------------------------------------------------------------------------
    // out[T, C] = wte[ids[t], :]; wte [V, C] act.
    void (*embedding_fwd)(s1c_backend *be, void *out, const int32_t *ids, const void *wte, int T, int C);
    // dwte[V, C] (f32) += scatter of dout[T, C] rows at ids.
    void (*embedding_bwd)(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids, int T, int C);
    // The same in a fixed order (optional; NULL: callers use embedding_bwd, deterministic on the
    // CPU): order[T] holds the positions sorted by (ids[t], t) and seg[n_seg + 1] where each
    // distinct id's run starts in order (s1c_embed_order, model/qwen2.h; backend memory). Each id's
    // rows are added to dwte in ascending position, as the CPU's sequential loop adds them, so the
    // fp32 sums are the same bits on every run (CUDA: one block per distinct id, no atomics).
    void (*embedding_bwd_sorted)(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids,
                                 const int32_t *order, const int32_t *seg, int n_seg, int T, int C);

    // ---- RMSNorm ------------------------------------------------------------------------------
    // out[T, C] = inp * rstd * w, rstd[T] = 1/sqrt(mean(inp^2) + eps) (fp32, saved for backward).
    void (*rmsnorm_fwd)(s1c_backend *be, void *out, float *rstd, const void *inp, const void *w, int T,
                        int C, float eps);
    // dinp_accumulate[T, C] += d/dinp; dw[C] (f32) += d/dw.
    void (*rmsnorm_bwd)(s1c_backend *be, void *dinp_accumulate, float *dw, const void *dout, const void *inp,
                        const void *w, const float *rstd, int T, int C);

    // ---- RoPE (Hugging Face rotate-half convention) --------------------------------------------
    // In place on the q and k heads of qkv [T, (nh + 2*nkv) * hd]. pos[T] are positions (int32).
    // inv_freq[hd/2] (f32) = 1 / theta^(2i/hd), computed once by the caller (s1c_rope_inv_freq).
    // x[i] for i < hd/2 pairs with x[i + hd/2]: out_lo = lo*cos - hi*sin, out_hi = hi*cos + lo*sin.
    void (*rope_fwd)(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                     int n_kv_head, int head_dim);
    // The inverse rotation applied in place to dqkv (the transpose of the forward rotation).
    void (*rope_bwd)(s1c_backend *be, void *dqkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                     int n_kv_head, int head_dim);

    // ---- causal GQA attention over packed variable-length sequences -------------------------
    // out[T, nh * hd] = softmax(q k^T / sqrt(hd), causal, same sequence) v.
    // lse[nh, T] (f32): log-sum-exp of each query row's scaled scores, saved for backward.
    // Never materialises a [T, T] matrix for a whole batch (flash-style tiling on every backend).
    void (*attention_fwd)(s1c_backend *be, void *out, float *lse, const void *qkv, const s1c_attn_shape *s);
    // dqkv[T, (nh + 2*nkv) * hd] is overwritten with the gradients of q, k and v.
    void (*attention_bwd)(s1c_backend *be, void *dqkv, const void *dout, const void *qkv, const void *out,
                          const float *lse, const s1c_attn_shape *s);

    // ---- matmul ---------------------------------------------------------------------------------
    // out[T, OC] = inp[T, IC] @ w[OC, IC]^T + bias[OC] (bias may be NULL).
    void (*matmul_fwd)(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T,
                       int IC, int OC);
    // dinp[T, IC] = dout @ w (overwritten, or added when accumulate_dinp != 0; dinp may be NULL);
    // dw[OC, IC] (f32) += dout^T @ inp; dbias[OC] (f32) += sum_t dout (dbias may be NULL).
    void (*matmul_bwd)(s1c_backend *be, void *dinp, float *dw, float *dbias, const void *dout, const void *inp,
                       const void *w, int T, int IC, int OC, int accumulate_dinp);

    // ---- SwiGLU -------------------------------------------------------------------------------
    // gu[T, 2*I] holds gate (first I columns) and up (last I columns) of one fused projection.
    // out[T, I] = silu(gate) * up.
    void (*swiglu_fwd)(s1c_backend *be, void *out, const void *gu, int T, int I);
    // dgu[T, 2*I] overwritten.
    void (*swiglu_bwd)(s1c_backend *be, void *dgu, const void *dout, const void *gu, int T, int I);

    // ---- fused LM head + softmax cross-entropy (token-chunked; never holds [T, V] at once) -----
    // For every token t with weight[t] != 0:
    //   logits = h[t] @ w_lm^T  (w_lm [V, C]),  loss_t = logsumexp(logits) - logits[target[t]].
    // *loss_out (f32 scalar, backend memory) += sum_t weight[t] * loss_t.
    // If dh != NULL: dh[T, C] is overwritten with d(sum weight*loss)/dh (zero rows where weight==0).
    // If dw_lm != NULL: dw_lm[V, C] (f32) += d/dw_lm.
    // The caller chooses weight[] to express the loss mask and the normalisation (e.g. 1/n_seq/len_s).
    void (*lmhead_ce)(s1c_backend *be, float *loss_out, void *dh, float *dw_lm, const void *h, const void *w_lm,
                      const int32_t *targets, const float *weight, int T, int C, int V);

    // ---- optimizer and norms (fp32 flat shards) ------------------------------------------------
    // AdamW with bias correction and decoupled weight decay, on n contiguous elements:
    //   g = grad * grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
    //   param -= lr * (m / (1-b1^step) / (sqrt(v / (1-b2^step)) + eps) + wd * param)
    // (the same update as torch.optim.AdamW). If param_act != NULL it receives param in act dtype.
    void (*adamw)(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
                  float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step);
    // *out (f32 scalar, backend memory) += sum(x[i]^2) over n elements.
    void (*sumsq_accumulate)(s1c_backend *be, float *out, const float *x, size_t n);

    void (*destroy)(s1c_backend *be);

    // ---- paged KV cache (inference) ---------------------------------------------------------
    // Used by the inference engine (model/qwen2_decode.c). A backend without them leaves them NULL
    // and cannot decode with a KV cache.
    // K and V pools of one layer: k_cache, v_cache [n_blocks, block_size, n_kv_head, head_dim] act.
    // A cache slot is block * block_size + offset. slot[T] (int32, backend memory).
    // Copies the k and v heads of each qkv row [T, (nh + 2*nkv) * hd] into its slot.
    void (*kv_cache_write)(s1c_backend *be, void *k_cache, void *v_cache, const void *qkv, const int32_t *slot,
                           int T, int n_head, int n_kv_head, int head_dim);
    // out[T, nh * hd] = softmax(q k^T / sqrt(hd)) v for the q heads of qkv row t over the cached
    // positions 0..pos[t] (inclusive) of sequence row_seq[t], read through its block table. The
    // row's own k/v must already be in the cache (kv_cache_write first). Serves prefill (many
    // rows of one sequence), decode (one row per sequence) and any mix of the two.
    void (*attention_decode)(s1c_backend *be, void *out, const void *qkv, const void *k_cache, const void *v_cache,
                             const s1c_paged_shape *s);
    // Same contract as matmul_fwd, for the few rows of a decode step (T up to a few dozen): a
    // backend may stream the weight once instead of packing it as a large GEMM does. NULL:
    // callers use matmul_fwd.
    void (*matmul_decode)(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                          int OC);

    // ---- added for the FSDP trainer on GPU ------------------------------------------------------
    // x[n] += y[n] in fp32 on every backend (gradient slices; add_inplace works in act dtype).
    void (*add_f32)(s1c_backend *be, float *x, const float *y, size_t n);
    // The stream the ops are ordered on (CUDA: the cudaStream_t), for a device collective backend
    // to order its own stream against (s1c_comm.set_stream); NULL (the pointer) on the CPU backend.
    void *(*stream)(s1c_backend *be);

    // ---- greedy decoding without copying logits to the host ------------------------------------
    // ids[r] (int32, backend memory) = the index i < n with the largest x[r * ld + i], for r < rows:
    // ties go to the lowest index, NaN never wins, and banned[r * max_banned + j] (backend memory;
    // entries < 0 unused; NULL when max_banned is 0) are excluded; a row without a candidate gives
    // 0 — the choice infer/sampler.c's greedy s1c_sample makes. x is scratch: a backend may
    // overwrite the banned positions. Only rows ints then cross to the host, not rows x V floats.
    void (*argmax_rows)(s1c_backend *be, int32_t *ids, float *x, int rows, int n, int ld, const int32_t *banned,
                        int max_banned);

    // ---- memory budget (optional) ---------------------------------------------------------------
    // Free and total bytes of the memory be->alloc draws from (CUDA: cudaMemGetInfo of the current
    // device; CPU: MemAvailable / MemTotal of the host). Callers that size large categories up
    // front (train/fsdp.c) compare against *free_bytes before allocating. NULL: the backend cannot
    // tell. Returns S1C_ERR with a message when the query fails.
    s1c_status (*mem_info)(s1c_backend *be, size_t *free_bytes, size_t *total_bytes);

    // ---- fused residual add + RMSNorm (optional) ------------------------------------------------
    // x[T, C] += res[T, C] (act dtype, one rounding, stored back), then out / rstd as rmsnorm_fwd
    // of the new x with w: the results of add_inplace(x, res) followed by rmsnorm_fwd, in one pass
    // over the row. NULL: callers make those two calls (the CPU backends).
    void (*rmsnorm_residual_fwd)(s1c_backend *be, void *out, float *rstd, void *x, const void *res, const void *w,
                                 int T, int C, float eps);

    // ---- start-up preparation (optional) --------------------------------------------------------
    // Called once before the first step with the largest micro-batch (max_T tokens, heads, vocab):
    // the backend builds what it would otherwise build on first use inside a step (CUDA: the cuDNN
    // attention plans of the one-sequence bucket of max_T, and the op workspace grown to their
    // layout and the LM-head chunk), so the first step neither allocates nor synchronises for
    // them. Other shape buckets: prepare_attn. vocab 0: inference (model/qwen2_decode.c's
    // workspace: max_T rows per step), no backward plans and no LM-head chunk; CUDA then also
    // reserves the split-KV decode partials, so no decode step grows the op workspace. NULL:
    // nothing to prepare.
    void (*prepare)(s1c_backend *be, int max_T, int n_head, int n_kv_head, int head_dim, int vocab);
    // The same for one attention shape (both directions), called per micro-batch when the batch is
    // built, before the step's collectives (model/batch.c s1c_batch_prepare): CUDA builds the
    // cuDNN plans of the shape's (b, s) bucket and grows the op workspace to its layout, so the
    // step's attention calls find both. NULL: nothing to prepare.
    void (*prepare_attn)(s1c_backend *be, const s1c_attn_shape *s);

    // ---- bf16 matrix weights for inference (optional; NULL where the act dtype is bf16 anyway) ---
    // Weights w / wte are bf16 bit patterns (uint16_t, backend memory), e.g. a checkpoint's bytes;
    // activations stay act dtype and accumulation fp32: the result is the fp32 computation over
    // the bf16 values (each weight widened exactly), so a decode step reads half the bytes.
    // out[T, OC] = inp[T, IC] @ w[OC, IC]^T + bias[OC] (bias fp32, may be NULL).
    void (*matmul_wbf16)(s1c_backend *be, void *out, const void *inp, const uint16_t *w, const float *bias, int T,
                         int IC, int OC);
    // out[T, C] = wte[ids[t], :] widened; wte [V, C] bf16.
    void (*embedding_wbf16)(s1c_backend *be, void *out, const int32_t *ids, const uint16_t *wte, int T, int C);
    // Precision of matmul_wbf16 (set by the caller after s1c_backend_create; s1c-infer
    // --matmul-precision). 0 (default): where the hardware multiplies bf16 pairs faster (CPU:
    // AVX512-BF16, vdpbf16ps) the activations are rounded to bf16 in every product, as GPU bf16
    // inference and llama.cpp's BF16 path do (relative error up to 2^-8 per product instead of
    // 2^-24; kernels/cpu/cpu_wbf16.h), in steps of any row count alike, so a sequence's result
    // does not depend on the batch it ran in. 1 ("exact"): activations stay fp32 in every product,
    // the fp32 computation over the bf16 weights that transformers' fp32 reference defines.
    int wbf16_exact;
    // The instruction path matmul_wbf16 takes on this backend under its wbf16_exact (CPU: "scalar",
    // "avx2", "avx512" with fp32 activations, "avx512bf16" with bf16-rounded ones), for the memory
    // plan line. NULL: no such choice.
    const char *(*wbf16_path)(const s1c_backend *be);
};

// Backend construction. "cpu" and "cpu-bf16" always exist; "cuda" exists when built with CUDA
// (device = GPU index; the CPU backends ignore it).
// Returns NULL with an s1c_err message when the backend is unavailable.
s1c_backend *s1c_backend_create(const char *name, int device);
void s1c_backend_destroy(s1c_backend *be);
// be->wbf16_exact from a user's name: "bf16" (0, the default) or "exact" (1); NULL keeps the
// default. Anything else is an error naming the option (--matmul-precision) and the choices.
s1c_status s1c_backend_set_matmul_precision(s1c_backend *be, const char *name);

// Host buffers for overlapped copies and their fences, on every backend: page-locked where the
// backend offers it (*pinned = 1), else (or when pinning fails: *pinned = 0, no message) plain
// aligned memory; a copy into plain memory is synchronous; a fence without fence ops waits for
// the whole stream (s1c_backend_host_fence_wait = synchronize).
#define S1C_BACKEND_FENCES 4
void *s1c_backend_host_alloc(s1c_backend *be, size_t bytes, int *pinned);
void s1c_backend_host_free(s1c_backend *be, void *p, int pinned);
void s1c_backend_host_copy_d2h_async(s1c_backend *be, void *dst_host, int pinned, const void *src, size_t bytes);
void s1c_backend_host_fence_record(s1c_backend *be, int k);
void s1c_backend_host_fence_wait(s1c_backend *be, int k);
int s1c_backend_has_cuda(void);  // compiled in (not whether a GPU is present)

// inv_freq[head_dim/2] on the host, Hugging Face's formula in fp32: 1 / theta^(arange(0, hd, 2) / hd).
void s1c_rope_inv_freq(float *inv_freq_host, int head_dim, float theta);

#endif
