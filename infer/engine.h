// engine.h — batched generation over a paged KV cache with continuous batching.
//
// Requests wait in order; one is admitted as soon as its worst-case KV blocks can be reserved
// and its samples fit in the batch, so new prompts join while others decode. A step packs at most
// step_tokens rows: the decode rows of the running sequences and prompt tokens, a long prompt
// in chunks over several steps (chunked prefill); once a prompt is cached its n samples fork from it, sharing the prompt's blocks by reference count,
// and the partially filled last block is copied on the first write (copy-on-write). Each sample
// draws from its own generator seeded with seed + sample index, and runs its own budget-forcing
// state machine (budget.h).
#ifndef S1C_INFER_ENGINE_H
#define S1C_INFER_ENGINE_H

#include <stdint.h>

#include "budget.h"
#include "qwen2.h"
#include "sampler.h"

typedef struct {
    int block_size;   // positions per KV block (default 16)
    int max_batch;    // sequences decoding together (default 32)
    int kv_blocks;    // blocks in the pool (0: enough for max_batch full contexts, or 90 % of the
                      // free memory the backend reports (mem_info) when that is less)
    int max_context;  // 0: the model's max_position_embeddings
    int vocab_limit;  // sample only ids below this (the tokenizer's size: checkpoints pad their
                      // vocab past it, and those ids have no text); 0: the model's vocab_size
    int step_tokens;    // rows per forward step; longer prompts are prefilled in chunks
                        // (0: 2048 + max_batch)
    int host_sampling;  // 1: every step copies the logits to the host, greedy steps too (the
                        // reference path the backend's argmax_rows is tested against)
    int prefix_share;   // 1: a new prompt references the full KV blocks a running sequence has
                        // cached for the same leading tokens instead of recomputing them (the server)
} s1c_engine_opts;

typedef struct {
    const int32_t *prompt;
    int n_prompt;
    int n_samples;      // >= 1
    uint64_t seed;      // sample j draws from seed + j
    s1c_sampling sampling;
    const s1c_bf_config *bf;
    int prompt_ends_nl;
    int max_new_tokens;  // generated tokens (forced ones included) before LENGTH
    const char *const *stop_strings;  // end the answer (finish STOP_STRING); may be NULL
    int n_stop_strings;
    int logprobs;  // 1: record each sampled token's log-probability (forces host logits)
} s1c_gen_request;

typedef struct {
    int request, sample;
    const int32_t *ids;  // generated ids (everything after the prompt); valid during the callback
    int n_ids;
    s1c_bf_state bf;     // thinking / answer tokens, how thinking ended, extensions
    s1c_finish finish;
    const char *error;   // non-NULL when the request was refused or cancelled (then ids is empty)
    // With request.logprobs: [n_ids] log-probability of each id under the model's distribution
    // (temperature 1, before top-k/top-p); NaN for ids budget forcing appended. Else NULL.
    const float *logprobs;
} s1c_gen_result;

typedef void (*s1c_gen_done_fn)(void *ctx, const s1c_gen_result *res);


typedef struct {
    long prefill_tokens, decode_tokens, steps;
    long cow_copies;  // shared blocks copied before a write (n samples of a partly filled block)
    long prefix_hit_tokens;  // prompt positions taken from another sequence's blocks (prefix_share)
    double forward_s, wall_s;
} s1c_engine_stats;

typedef struct s1c_engine s1c_engine;
s1c_engine *s1c_engine_create(s1c_qwen2_model *m, const s1c_engine_opts *o, s1c_token_bytes_fn bytes,
                              void *bytes_ctx);
void s1c_engine_free(s1c_engine *e);
// Runs every request to completion; done() is called once per sample when it finishes (in
// completion order). Requests that cannot run (empty prompt, prompt not shorter than the
// context, more samples than fit) are reported through done() with an error, not a failure.
s1c_status s1c_engine_run(s1c_engine *e, const s1c_gen_request *reqs, int n_reqs, s1c_gen_done_fn done, void *ctx);
// Online mode (a server): requests arrive while others run. Requests are numbered 0, 1, ... in
// the order next() hands them out; the engine holds the pointer until every sample of it is done.
typedef struct {
    // The next request to admit, or NULL when none is waiting. wait = 1 when nothing is running:
    // block until a request arrives; NULL then ends s1c_engine_serve.
    const s1c_gen_request *(*next)(void *ctx, int wait);
    // 1 when request's client has gone: its samples are dropped, their KV blocks freed, and
    // done() reports them with error "cancelled". May be NULL.
    int (*cancelled)(void *ctx, int request);
    // After each step, for each running sample that got tokens: the ids so far (budget forcing
    // may still roll back up to S1C_BF_HIST of them while in the thinking phase). May be NULL.
    void (*progress)(void *ctx, const s1c_gen_result *partial);
    void *ctx;
} s1c_gen_feed;
s1c_status s1c_engine_serve(s1c_engine *e, const s1c_gen_feed *feed, s1c_gen_done_fn done, void *ctx);

const s1c_engine_stats *s1c_engine_stats_get(const s1c_engine *e);
// Why a request can never be admitted (msg[n] holds the text when needed), or NULL.
const char *s1c_engine_refusal(const s1c_engine *e, const s1c_gen_request *r, char *msg, size_t n);
int s1c_engine_max_context(const s1c_engine *e);
// KV blocks admission reserves for r (its worst case); more than the pool holds is refused.
int s1c_engine_request_blocks(const s1c_engine *e, const s1c_gen_request *r);
// Free KV blocks now (all of them once a run is over: tests check nothing leaks).
int s1c_engine_kv_free_blocks(const s1c_engine *e);
int s1c_engine_kv_total_blocks(const s1c_engine *e);

// One line naming the engine's memory: weights (and their dtype), KV pool (blocks x tokens),
// step workspace, and their total, in GiB (s1c-infer prints it at start).
void s1c_engine_memory_plan(const s1c_engine *e, char *buf, size_t n);

#endif
