// qwen2.h — the Qwen2 architecture (Qwen2 / Qwen2.5) composed from the kernel ops.
//
// Parameters are grouped in UNITS, each one flat buffer, because a unit is what FSDP gathers:
//   unit 0          the embedding: model.embed_tokens.weight [V, C]
//   unit 1 + l      transformer block l (l = 0 .. L-1), tensors in this order, contiguous:
//                   input_layernorm.weight [C]
//                   self_attn.q_proj.weight [nh*hd, C], k_proj.weight [nkv*hd, C], v_proj.weight [nkv*hd, C]
//                   self_attn.q_proj.bias [nh*hd], k_proj.bias [nkv*hd], v_proj.bias [nkv*hd]
//                   self_attn.o_proj.weight [C, nh*hd]
//                   post_attention_layernorm.weight [C]
//                   mlp.gate_proj.weight [I, C], mlp.up_proj.weight [I, C]
//                   mlp.down_proj.weight [C, I]
//   unit L + 1      the head: model.norm.weight [C], then lm_head.weight [V, C] unless tied
// so q|k|v weights form one [(nh+2nkv)*hd, C] matrix (one GEMM), their biases one vector, and
// gate|up one [2I, C] matrix. With tied embeddings the head reads unit 0's matrix and its
// gradient is added into unit 0's gradient.
//
// The model code knows nothing of parallelism: callers hand it the (gathered) parameters of a
// unit and a gradient buffer for that unit; train/ decides where they come from.
#ifndef S1C_QWEN2_H
#define S1C_QWEN2_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"
#include "s1c_err.h"

typedef struct {
    int hidden_size;        // C
    int intermediate_size;  // I
    int num_hidden_layers;  // L
    int num_attention_heads;
    int num_key_value_heads;
    int head_dim;  // hidden_size / num_attention_heads
    int vocab_size;
    int max_position_embeddings;
    float rope_theta;
    float rms_norm_eps;
    int tie_word_embeddings;
    int bos_token_id, eos_token_id;  // -1 when absent
    char torch_dtype[16];            // as written in config.json ("bfloat16", "float32", ...)
} s1c_qwen2_config;

// Parses a Hugging Face config.json. Refuses model_type other than "qwen2", sliding window on,
// rope_scaling, and missing or mistyped fields, naming the file and field.
s1c_status s1c_qwen2_config_load(const char *path, s1c_qwen2_config *cfg);
// Writes a config.json that transformers loads as Qwen2ForCausalLM (atomically).
s1c_status s1c_qwen2_config_save(const char *path, const s1c_qwen2_config *cfg);

// ---- parameter layout -----------------------------------------------------------------------
typedef struct {
    char name[96];          // Hugging Face tensor name
    size_t offset, numel;   // element offset within the unit's flat buffer, element count
    int ndim;
    int64_t shape[2];
    int decay;              // 1: weight decay applies (matrices); 0: biases and norm weights
} s1c_param_desc;

typedef struct {
    int n_params;
    s1c_param_desc *params;
    size_t numel;
} s1c_unit_desc;

typedef struct {
    int n_units;  // L + 2
    s1c_unit_desc *units;
    size_t numel;  // all units
} s1c_qwen2_layout;

s1c_qwen2_layout *s1c_qwen2_layout_create(const s1c_qwen2_config *cfg);
void s1c_qwen2_layout_free(s1c_qwen2_layout *lay);
static inline int s1c_qwen2_unit_block(int layer) { return 1 + layer; }
static inline int s1c_qwen2_unit_head(const s1c_qwen2_config *c) { return c->num_hidden_layers + 1; }

// ---- weights on the host (fp32, one buffer per unit) -----------------------------------------
// Loads DIR/model.safetensors or DIR/model.safetensors.index.json shards (BF16/F16/F32 → fp32),
// checking every tensor's presence and shape against the layout. units_f32[u] receives a
// malloc'ed buffer of layout->units[u].numel floats.
s1c_status s1c_qwen2_weights_load(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                                  float **units_f32);
// An opened, validated checkpoint for loading unit by unit, or a slice of a unit (FSDP ranks):
// open checks every tensor's presence and shape (and refuses tensors the config does not
// describe) up front; reads then convert only the requested elements from the mapping.
typedef struct s1c_qwen2_ckpt s1c_qwen2_ckpt;
s1c_status s1c_qwen2_ckpt_open(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                               s1c_qwen2_ckpt **out);
// dst[count] (fp32 host) <- elements [begin, begin + count) of unit `unit`'s flat buffer.
s1c_status s1c_qwen2_ckpt_read(const s1c_qwen2_ckpt *c, int unit, size_t begin, size_t count, float *dst);
void s1c_qwen2_ckpt_close(s1c_qwen2_ckpt *c);
// 1 when every matrix (2-D tensor) of the checkpoint is stored as BF16.
int s1c_qwen2_ckpt_matrices_bf16(const s1c_qwen2_ckpt *c);
// dst[count] (bf16 bit patterns, host) <- elements [begin, begin + count) of unit `unit`: a BF16
// tensor's bytes as stored; other dtypes rounded to nearest even.
s1c_status s1c_qwen2_ckpt_read_bf16(const s1c_qwen2_ckpt *c, int unit, size_t begin, size_t count, uint16_t *dst);
// Writes DIR/config.json and the weights as safetensors in `dtype` ("bf16" or "f32"), sharded
// with model.safetensors.index.json when larger than max_shard_bytes (0 = never shard).
s1c_status s1c_qwen2_weights_save(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                                  float *const *units_f32, const char *dtype, size_t max_shard_bytes);
// The same output for a model that is never whole in one host's memory (FSDP export): begin
// checks dtype and plans every file and header from the layout's shapes alone; the units then
// arrive in order 0 .. n_units-1 and each is converted and written as it comes (the caller may
// free it right after); finish puts the files into place (index last, as the writer's
// temporaries are renamed), writes config.json and frees the saver. The bytes equal
// s1c_qwen2_weights_save's, which is this fed from an array. After a failure: s1c_qwen2_save_abort
// (removes the temporaries, frees; NULL ignored).
typedef struct s1c_qwen2_saver s1c_qwen2_saver;
s1c_status s1c_qwen2_save_begin(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                                const char *dtype, size_t max_shard_bytes, s1c_qwen2_saver **out);
s1c_status s1c_qwen2_save_unit(s1c_qwen2_saver *s, int unit, const float *unit_f32);  // [numel of unit]
s1c_status s1c_qwen2_save_finish(s1c_qwen2_saver *s);
void s1c_qwen2_save_abort(s1c_qwen2_saver *s);

// ---- attention across cuts (context parallelism) ---------------------------------------------
// A batch may hold PARTS of sequences (train/cp_*.c cuts a step's token stream into equal
// shares): its first sequence may have begun n_ctx tokens earlier, in a batch computed
// elsewhere, and its last may go on in another. Attention then needs the K and V of those
// earlier tokens, and the later tokens' queries put gradients on this batch's K and V. The
// model asks an exchange for both, per block, and never learns where they live:
typedef struct s1c_kv_exchange {
    void *ctx;
    // Block `layer`'s forward, after RoPE. qkv [n_ctx + T, QKV] (act): the exchange fills the K
    // and V columns of rows [0, n_ctx) (the context, already rotated at its global positions; Q
    // columns are never read) and may read the K/V columns of rows [n_ctx, n_ctx + T), which
    // other batches need as their context. Called with the same layer on every batch of a cut.
    void (*forward)(void *ctx, int layer, void *qkv);
    // Block `layer`'s backward, after attention's backward. dqkv [n_ctx + T, QKV] (act): rows
    // [0, n_ctx) hold the gradient of the context's K/V (owed to the batches that own them); the
    // exchange adds into the K/V columns of rows [n_ctx, n_ctx + T) the gradient that other
    // batches' queries put on this batch's K/V, before RoPE's backward reads them.
    void (*backward)(void *ctx, int layer, void *dqkv);
} s1c_kv_exchange;

// ---- a packed batch (backend memory) ----------------------------------------------------------
typedef struct {
    int T, n_seq;
    int32_t *ids;         // [T] input token ids
    int32_t *targets;     // [T] next-token ids (ignored where weight == 0)
    float *weight;        // [T] loss weight per token (mask × normalisation)
    int32_t *pos;         // [T] positions within each sequence (global: a part starts where it begins)
    int32_t *cu_seqlens;  // [n_seq + 1] attention rows: sequence 0 counts the n_ctx context rows
    int32_t *emb_order;   // [T] positions sorted by (ids[t], t) (s1c_embed_order): the embedding
    int32_t *emb_seg;     // [n_emb_seg + 1] backward sums each id's rows in a fixed order
    int n_emb_seg;        // distinct ids in ids (host value)
    int32_t max_id;       // largest token id in ids/targets (host value), checked against vocab_size
    int max_seqlen;       // longest sequence in attention rows (host value; 0 = unknown), passed to attention
    int n_ctx;            // tokens of sequence 0 before this batch (their K/V come through kvx); 0: none
    const s1c_kv_exchange *kvx;  // NULL: whole sequences, nothing crosses the batch
    void *block;          // the one backend block ids .. cu_seqlens are carved from (s1c_batch_free)
    int borrowed;         // block belongs to an s1c_batch_slot (s1c_batch_free leaves it)
} s1c_batch;

typedef enum {
    S1C_LOSS_SEQ_MEAN = 0,  // each sequence's mean token loss, averaged over the sequences (s1's default)
    S1C_LOSS_TOKEN_MEAN = 1 // sum over masked tokens / number of masked tokens
} s1c_loss_norm;

// Builds a batch from n_seq host sequences (ids + loss mask, 1 where the token is a target).
// The target of position t is ids[t+1] (last token of a sequence has none), weighted by
// mask[t+1] and the normalisation; `denominator_scale` divides every weight (e.g. the number of
// micro-batches × ranks, so gradients sum to the global mean).
s1c_status s1c_batch_create(s1c_backend *be, s1c_batch *b, int n_seq, const int32_t *const *seq_ids,
                            const uint8_t *const *seq_mask, const int *seq_len, s1c_loss_norm norm,
                            double denominator_scale);
// One part of a host sequence for s1c_batch_create_parts: tokens [begin, end) of ids[len].
typedef struct {
    const int32_t *ids;     // [len] the whole sequence
    const uint8_t *mask;    // [len] 1 where the token is a target (NULL: all)
    int len;
    int begin, end;         // 0 <= begin < end <= len
    double target_weight;   // loss weight of each target token of the part (the caller's normalisation)
} s1c_batch_part;
// A batch of parts of sequences laid end to end (context parallelism): the target of the part's
// last token is ids[end] when the sequence goes on, positions are begin, begin + 1, ...; only
// parts[0] may begin after its sequence's start (n_ctx = parts[0].begin rows of context, their
// K/V coming through kvx, which must then be given). kvx may be given without context: the
// batch's tokens are then others' context. The caller normalises (target_weight).
s1c_status s1c_batch_create_parts(s1c_backend *be, s1c_batch *b, int n_parts, const s1c_batch_part *parts,
                                  const s1c_kv_exchange *kvx);
void s1c_batch_free(s1c_backend *be, s1c_batch *b);

// Bytes of a batch's backend block for T tokens in n_seq parts (seven arrays at 256-byte offsets:
// ids, targets, weight, pos, cu_seqlens, emb_order, emb_seg).
size_t s1c_batch_block_bytes(int T, int n_seq);
// The deterministic embedding backward's index (embedding_bwd_sorted, kernels/ops.h): order[T] =
// the positions 0..T-1 sorted by (ids[t], t), seg[n + 1] = where each distinct id's run starts in
// order (seg[0] = 0, seg[n] = T); returns n, the number of distinct ids. Built on the host from the
// ids the batch is made of (T log T), so no device sort is needed.
int s1c_embed_order(const int32_t *ids, int T, int32_t *order, int32_t *seg);
// A backend buffer batches are carved from instead of one be->alloc / be->free per batch (on the
// GPU each cudaMalloc / cudaFree pair synchronises the device): allocated once at start-up for
// micro-batches of at most max_T tokens, s1c_batch_block_bytes(max_T, max_T) (every part has a
// token, so n_seq <= T).
typedef struct {
    void *block;
    size_t bytes;
    int max_T;
} s1c_batch_slot;
s1c_status s1c_batch_slot_alloc(s1c_backend *be, s1c_batch_slot *slot, int max_T);
// The bytes s1c_batch_slot_alloc allocates for max_T tokens (the --plan calculator counts them).
size_t s1c_batch_slot_bytes(int max_T);
void s1c_batch_slot_free(s1c_backend *be, s1c_batch_slot *slot);
// s1c_batch_create / s1c_batch_create_parts carved from `slot` (NULL: their own allocation). A
// batch larger than the slot is refused (naming both sizes). The batch must be freed
// (s1c_batch_free, which then frees nothing) before its slot is reused or freed.
s1c_status s1c_batch_create_in(s1c_backend *be, s1c_batch *b, s1c_batch_slot *slot, int n_seq,
                               const int32_t *const *seq_ids, const uint8_t *const *seq_mask, const int *seq_len,
                               s1c_loss_norm norm, double denominator_scale);
// The attention shape the training forward and backward pass for batch b (every layer).
s1c_attn_shape s1c_batch_attn_shape(const s1c_qwen2_config *cfg, const s1c_batch *b);
// Lets the backend prepare that shape now (s1c_backend.prepare_attn: CUDA builds the cuDNN plans of
// its bucket and grows the op workspace), called when the batch is built, before the step's
// collectives, so no attention call of the step builds a plan or allocates. No-op without the op.
void s1c_batch_prepare(s1c_backend *be, const s1c_qwen2_config *cfg, const s1c_batch *b);
s1c_status s1c_batch_create_parts_in(s1c_backend *be, s1c_batch *b, s1c_batch_slot *slot, int n_parts,
                                     const s1c_batch_part *parts, const s1c_kv_exchange *kvx);

// ---- activations and per-unit compute ---------------------------------------------------------
typedef struct s1c_qwen2_acts s1c_qwen2_acts;
// Activation storage for up to max_T tokens. recompute = 1 keeps only each block's input and
// recomputes the block in backward (same gradients, far less memory).
s1c_qwen2_acts *s1c_qwen2_acts_create(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int recompute);
void s1c_qwen2_acts_free(s1c_backend *be, s1c_qwen2_acts *a);
// Tokens per MLP chunk of s1c_qwen2_acts_create: a block's gate|up, SwiGLU, down and their
// backward run over this many tokens at a time (the MLP is per token; only the parameter
// gradients accumulate across chunks), so with recompute the [T, 2I] / [T, I] buffers shrink to
// [chunk, 2I] / [chunk, I]. Gradients equal the unchunked ones up to float round-off.
#define S1C_QWEN2_MLP_CHUNK 4096
// As s1c_qwen2_acts_create with an explicit chunk (tokens >= 1; >= max_T: one chunk).
s1c_qwen2_acts *s1c_qwen2_acts_create_chunked(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int recompute,
                                              int mlp_chunk);
// With room for up to max_ctx context rows (s1c_batch.n_ctx) in the attention buffers (qkv,
// attention output, lse and their gradients): a batch cut from a longer stream.
s1c_qwen2_acts *s1c_qwen2_acts_create_ctx(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int max_ctx,
                                          int recompute, int mlp_chunk);

// Unit parameters below are in act dtype (backend memory); gradients fp32, accumulated (+=).
void s1c_qwen2_embed_fwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, const void *embed,
                         const s1c_batch *b);
void s1c_qwen2_block_fwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer,
                         const void *block, const s1c_batch *b);
// Final norm + LM head + loss. *loss (backend fp32 scalar) += weighted loss. When head_grad
// != NULL also runs the head backward: head_grad (unit L+1 grads) and lm_grad (the gradient of
// the LM matrix: the head unit's lm_head part, or unit 0's buffer when tied) accumulate, and the
// gradient of the last block's output is left in the acts for s1c_qwen2_block_bwd.
void s1c_qwen2_head_fwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, const void *head,
                        const void *lm_w, const s1c_batch *b, float *loss, float *head_grad, float *lm_grad);
void s1c_qwen2_block_bwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, int layer,
                         const void *block, float *block_grad, const s1c_batch *b);
void s1c_qwen2_embed_bwd(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, float *embed_grad,
                         const s1c_batch *b);
// Full logits [T, V] (act dtype) after the head, for tests and prefill. logits must hold T*V.
void s1c_qwen2_logits(s1c_backend *be, const s1c_qwen2_config *cfg, s1c_qwen2_acts *a, const void *head,
                      const void *lm_w, int T, void *logits);

// ---- tensor parallelism for inference (Megatron-style; infer/ decides the groups) -------------
// A rank of a group of `size` holds: its query heads [q_head0, +nh/size) and the KV heads they
// read (nkv/size of them from kv_head0; when nkv < size, the one head its query heads use, held
// by size/nkv ranks alike, as vLLM does), columns [inter0, +I/size) of gate|up and the same rows
// of down, and vocabulary rows [vocab0, +vocab_n) of the embedding and the LM head (every rank
// holds ceil(V/size) rows; the last rank's rows past V are zero and never chosen). q|k|v and
// gate|up are column-parallel, o_proj and down row-parallel: the model sums their outputs, and
// the embedding's, over the group through the hooks below (it never sees MPI or NCCL).
typedef struct {
    int rank, size;
    int q_head0, kv_head0, inter0;
    int vocab0, vocab_n;
} s1c_qwen2_tp;

typedef struct {
    void *ctx;
    int rank, size;
    // buf[count] (act dtype, backend memory) <- its sum over the group, in place.
    s1c_status (*all_reduce_sum)(void *ctx, void *buf, size_t count);
    // recv[size * count] <- every rank's send[count] in rank order (fp32, backend memory).
    s1c_status (*all_gather_f32)(void *ctx, float *recv, const float *send, size_t count);
    // v[n] (host ints) <- their minimum over the group: for the decisions every rank must share
    // (the KV pool size when it is sized from each device's free memory).
    s1c_status (*min_i64)(void *ctx, int64_t *v, int n);
} s1c_tp_group;

// This rank's shard of `cfg` (rank of size) and the config of the model it holds (*local: heads,
// KV heads, intermediate and vocab sizes per rank). Refuses, naming the config field, a degree
// that does not divide the attention heads or the intermediate size, or KV heads that neither
// divide among nor replicate over the ranks.
s1c_status s1c_qwen2_tp_plan(const s1c_qwen2_config *cfg, int rank, int size, s1c_qwen2_tp *tp,
                             s1c_qwen2_config *local);

// ---- the whole model in one process (tests, inference, single-rank training) -----------------
typedef struct {
    s1c_qwen2_config cfg;
    s1c_qwen2_layout *layout;
    s1c_backend *be;
    void **params;  // [n_units] act dtype, backend memory
    float **grads;  // [n_units] fp32, backend memory (NULL until s1c_qwen2_model_alloc_grads)
    // Inference with bf16 weights on an fp32-act backend (s1c_qwen2_model_load_weights): S1C_BF16,
    // params[u] then hold the unit's tensors as bf16 bit patterns (uint16_t, the layout's element
    // order: exactly the file's values for a bf16 checkpoint) and vecs[u] its 1-D tensors (norm
    // weights, biases) widened to fp32, packed in layout order (s1c_qwen2_vec_offsets). Only the
    // KV-cache decode path (qwen2_decode.h) runs such a model; training never sees one (fp32
    // masters). S1C_F32 otherwise: params in act dtype, vecs NULL.
    s1c_dtype weight_dtype;
    float **vecs;  // [n_units] fp32 backend memory, or NULL
    // Tensor parallelism (s1c_qwen2_model_load_tp): cfg stays the whole model's; shard holds this
    // rank's dims and is what layout, params, the KV pool and the decode workspace are built
    // from (equal to cfg without TP: tp.size 1, group NULL).
    s1c_qwen2_config shard;
    s1c_qwen2_tp tp;
    const s1c_tp_group *group;
} s1c_qwen2_model;

// Loads config.json + safetensors from dir onto the backend.
s1c_status s1c_qwen2_model_load(s1c_backend *be, const char *dir, s1c_qwen2_model *m);
// The same with a choice of weight storage for inference: "fp32" (s1c_qwen2_model_load: acts'
// dtype), "bf16" (bf16 matrix weights; on a backend whose acts are bf16 that is the ordinary
// load; on an fp32 one it needs the backend's matmul_wbf16 / embedding_wbf16), or "auto": bf16
// when every matrix in the checkpoint is BF16 and the backend can, fp32 otherwise.
s1c_status s1c_qwen2_model_load_weights(s1c_backend *be, const char *dir, const char *weights_dtype,
                                        s1c_qwen2_model *m);
// The same for one rank of a tensor-parallel group (group->size ranks, group->rank this one):
// each rank reads only its slices of the checkpoint (mapped, converted slice by slice) and keeps
// `group` (owned by the caller, alive as long as the model) for the decode step's collectives.
// group NULL or of size 1: s1c_qwen2_model_load_weights. Decode only (no training on a shard).
s1c_status s1c_qwen2_model_load_tp(s1c_backend *be, const char *dir, const char *weights_dtype,
                                   const s1c_tp_group *group, s1c_qwen2_model *m);
// Bytes the model's parameters hold on the backend (weights, plus vecs when bf16).
size_t s1c_qwen2_model_weight_bytes(const s1c_qwen2_model *m);
// The packed fp32 vectors of a bf16-weight model's unit: a block's input norm, q|k|v bias and
// post-attention norm, the head's final norm (element offsets into vecs[u]).
typedef struct {
    size_t ln1, qkv_b, ln2, numel;
} s1c_qwen2_vec_offsets;
s1c_qwen2_vec_offsets s1c_qwen2_block_vec_offsets(const s1c_qwen2_config *cfg);
s1c_status s1c_qwen2_model_alloc_grads(s1c_qwen2_model *m);
void s1c_qwen2_model_zero_grads(s1c_qwen2_model *m);
void s1c_qwen2_model_free(s1c_qwen2_model *m);
// Pointer to the LM matrix (unit 0 when tied, else inside the head unit), and its gradient.
const void *s1c_qwen2_lm_weight(const s1c_qwen2_model *m);
float *s1c_qwen2_lm_grad(const s1c_qwen2_model *m);
// Forward (+ backward when m->grads != NULL and backward != 0) of a whole batch; returns the loss.
float s1c_qwen2_forward_backward(s1c_qwen2_model *m, s1c_qwen2_acts *a, const s1c_batch *b, int backward);

// ---- activation memory, sized up front (one backend allocation per s1c_qwen2_acts) ----------
// Bytes s1c_qwen2_acts_create_chunked allocates for these arguments, computed without allocating
// by the same layout code (sub-buffers rounded up to S1C_ARENA_ALIGN, kernels/arena.h; sanitizer
// redzones not counted). 0 on invalid arguments; SIZE_MAX when the size overflows.
size_t s1c_qwen2_acts_bytes(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, int max_T, int recompute,
                            int mlp_chunk);
// The same for s1c_qwen2_acts_create_ctx.
size_t s1c_qwen2_acts_bytes_ctx(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, int max_T, int max_ctx,
                                int recompute, int mlp_chunk);
// Bytes an acts object holds (its one allocation, as s1c_qwen2_acts_bytes counts them).
size_t s1c_qwen2_acts_size(const s1c_qwen2_acts *a);

#endif
