// qwen2_decode.h — the KV-cache forward of Qwen2 for inference: new tokens of many sequences in
// one packed batch, attending to their sequences' earlier tokens through a paged KV cache.
//
// The cache is a pool of fixed-size blocks per layer; which blocks a sequence owns (its block
// table) and where each new token's K/V goes (its slot) is the caller's business (infer/ keeps
// the free list, refcounts and copy-on-write). One call serves prefill (all prompt tokens of a
// sequence as rows), decode (one row per sequence) and mixtures of both.
#ifndef S1C_QWEN2_DECODE_H
#define S1C_QWEN2_DECODE_H

#include <stdint.h>

#include "qwen2.h"

typedef struct {
    int n_layers, n_blocks, block_size, n_kv_head, head_dim;
    void **k, **v;  // [L] each [n_blocks, block_size, n_kv_head, head_dim] act, backend memory
} s1c_kv_pool;

// cfg: the model's shard (m->shard), whose KV heads are this rank's.
s1c_status s1c_kv_pool_create(s1c_backend *be, const s1c_qwen2_config *cfg, int n_blocks, int block_size,
                              s1c_kv_pool *kv);
void s1c_kv_pool_free(s1c_backend *be, s1c_kv_pool *kv);
// Copies the K/V of block src into block dst in every layer (copy-on-write of a shared block).
void s1c_kv_pool_copy_block(s1c_backend *be, s1c_kv_pool *kv, int dst, int src);

// One packed step, all arrays on the host:
typedef struct {
    int T;                        // rows (new tokens)
    int n_seq;                    // sequences in this step
    const int32_t *ids;           // [T]
    const int32_t *pos;           // [T] absolute position of each row
    const int32_t *row_seq;       // [T] index (0..n_seq-1) of the row's sequence
    const int32_t *slot;          // [T] cache slot for the row's K/V (block * block_size + offset)
    const int32_t *block_tables;  // [n_seq, max_blocks]
    int max_blocks;
    int n_out;                    // rows whose logits are wanted (0: the step only fills the cache)
    const int32_t *out_rows;      // [n_out]
} s1c_decode_batch;

typedef struct s1c_decode_ws s1c_decode_ws;
// Scratch for up to max_T rows, max_seq sequences with tables of max_blocks, and max_out logits rows.
s1c_decode_ws *s1c_decode_ws_create(s1c_backend *be, const s1c_qwen2_config *cfg, int max_T, int max_seq,
                                    int max_blocks, int max_out);
// The workspace of a model's own shard (qwen2.h s1c_qwen2_model_load_tp: this rank's dims and
// the buffers of the group's logits); equal to the above without TP.
s1c_decode_ws *s1c_decode_ws_create_model(const s1c_qwen2_model *m, int max_T, int max_seq, int max_blocks,
                                          int max_out);
void s1c_decode_ws_free(s1c_backend *be, s1c_decode_ws *ws);
// Bytes the workspace's buffers hold (the memory plan's "workspace").
size_t s1c_decode_ws_bytes(const s1c_decode_ws *ws);

// Runs the step; logits_host[n_out, V] receives fp32 logits of the requested rows (the whole
// rows also on a tensor-parallel shard: the group's slices gathered). Refuses
// (with a message) ids outside the vocabulary, positions beyond max_position_embeddings, or a
// batch larger than the workspace.
s1c_status s1c_qwen2_decode(const s1c_qwen2_model *m, s1c_kv_pool *kv, s1c_decode_ws *ws, const s1c_decode_batch *b,
                            float *logits_host);

// The greedy variant of a step: ids_host[n_out] receive each requested row's argmax over ids
// below vocab_limit, never one of banned_host[o * max_banned + j] (entries < 0 unused) — the
// choice of infer/sampler.c's greedy path — computed on the backend (ops.h argmax_rows), so only
// n_out ints reach the host instead of n_out x V floats (39 MB a step at batch 64, V 151936).
#define S1C_DECODE_MAX_BANNED 66
s1c_status s1c_qwen2_decode_argmax(const s1c_qwen2_model *m, s1c_kv_pool *kv, s1c_decode_ws *ws,
                                   const s1c_decode_batch *b, int vocab_limit, const int32_t *banned_host,
                                   int max_banned, int32_t *ids_host);

// An error naming the backend when it lacks the paged KV-cache ops.
s1c_status s1c_decode_ops_check(const s1c_backend *be);

#endif
