// cp.h — context parallelism: token-balanced steps (train.balance: tokens).
//
// A micro-batch group of the step (its sequences in the sampler's order) is laid end to end as
// one token stream and cut into W equal-token shares, share r = stream tokens
// [floor(r N / W), floor((r + 1) N / W)) on rank r, so every rank computes the same number of
// tokens whatever the lengths; a sequence may span two or more ranks. Only a share's first piece
// can begin inside a sequence (its context: the tokens before it, on earlier ranks) and only its
// last can go on (its tail: the next ranks' context).
//
// Attention across a cut (cp_exchange.c): in each block's forward, after RoPE, every rank sends
// the K and V of its tail rows point to point to each later rank of that sequence and receives
// its context's K/V from the earlier ones; in backward, the context's dK/dV go back to their
// owners and are added there before RoPE's backward. Point to point and not one all-gather over
// all ranks (Llama 3's form): a rank receives only its own context, at most one sequence, instead
// of the whole group's K/V; docs/planner.md compares the two volumes for s1K and s1K-1.1.
//
// The objective is unchanged: the per-token weights come from whole sequences
// (s1c_cp_part_weight), positions are global, and FSDP's gathers, reduce-scatters, clipping and
// AdamW do not know about the cut.
#ifndef S1C_TRAIN_CP_H
#define S1C_TRAIN_CP_H

#include <stddef.h>

#include "packed.h"
#include "qwen2.h"
#include "s1c_mpi.h"
#include "sampler.h"

// ---- the cut (cp_cut.c) -----------------------------------------------------------------------
typedef struct {
    int seq;         // index of the sequence in the group
    int begin, end;  // its tokens [begin, end) on this rank
} s1c_cp_piece;

typedef struct {
    int W, n_seq;
    long total;             // tokens of the group
    long *start;            // [W + 1] share r = stream tokens [start[r], start[r + 1])
    int *len;               // [n_seq] (copy)
    int *first;             // [W + 1] rank r holds pieces [first[r], first[r + 1])
    s1c_cp_piece *piece;
} s1c_cp_cut;

// len[n_seq] (>= 1 each) over W ranks. A share may be empty when the group has fewer tokens
// than ranks.
s1c_status s1c_cp_cut_make(const int *len, int n_seq, int W, s1c_cp_cut *c);
// The same with given shares, start[W + 1] (0 = start[0] <= ... <= start[W] = the group's tokens):
// tests put cuts where they are awkward; the exchange works for any cut.
s1c_status s1c_cp_cut_make_at(const int *len, int n_seq, int W, const long *start, s1c_cp_cut *c);
void s1c_cp_cut_free(s1c_cp_cut *c);

// What rank r exchanges under a cut: its tail rows go to the ranks in `to` (ctx_row: where they
// land in the peer's context), its context rows come from the ranks in `from` (rows at ctx_row
// of this rank's context, in rank order).
typedef struct {
    int peer, rows, ctx_row;
} s1c_cp_link;

typedef struct {
    int T;          // tokens of the share
    int n_ctx;      // context rows (the first piece's begin)
    int tail;       // rows at the end of the share that later ranks read (0: none)
    int n_to, n_from;
    s1c_cp_link *to, *from;  // [n_to], [n_from]
} s1c_cp_links;

void s1c_cp_links_of(const s1c_cp_cut *c, int rank, s1c_cp_links *out);
void s1c_cp_links_free(s1c_cp_links *l);
// Causal attention pairs (query, key) of rank r's pieces: sum over pieces of
// (end (end + 1) - begin (begin + 1)) / 2. What the rank's attention costs.
double s1c_cp_attn_pairs(const s1c_cp_cut *c, int rank);

// Largest buffers any rank needs over a run (sizes the activations and the exchange).
typedef struct {
    int max_T;     // tokens of a share
    int max_ctx;   // context rows
    int max_tail;  // tail rows sent
    int max_back;  // rows of dK/dV received in backward (tail x later ranks)
} s1c_cp_sizes;

void s1c_cp_sizes_add(s1c_cp_sizes *s, const s1c_cp_cut *c);

// ---- the exchange (cp_exchange.c) -------------------------------------------------------------
typedef struct s1c_cp_exchange s1c_cp_exchange;

// Buffers for the sizes (backend memory, one allocation) and n_micro hooks. comm moves buffers
// of be's kind (mpi for host memory, nccl for device memory); a communicator of its own, so the
// exchange does not queue behind FSDP's prefetched gathers on one stream.
s1c_cp_exchange *s1c_cp_exchange_create(s1c_backend *be, s1c_comm *comm, const s1c_qwen2_config *cfg,
                                        const s1c_cp_sizes *sz, int n_micro);
void s1c_cp_exchange_free(s1c_cp_exchange *x);
// Bytes s1c_cp_exchange_create allocates (the --plan line).
size_t s1c_cp_exchange_bytes(const s1c_qwen2_config *cfg, s1c_dtype act_dtype, const s1c_cp_sizes *sz);
// Installs micro-batch m's links (copied) and returns the hook its batch carries.
const s1c_kv_exchange *s1c_cp_exchange_set(s1c_cp_exchange *x, int micro, const s1c_cp_links *l);
// S1C_OK, or the first failed transfer since the last call (with its message); resets.
s1c_status s1c_cp_exchange_status(s1c_cp_exchange *x);

// ---- steps (cp_step.c) ------------------------------------------------------------------------
// Micro-batch m of a step holds the step's samples [m W mb, (m + 1) W mb) in the sampler's order
// (mb = train.micro_batch_size; as many micro-batches as with balance: sequences), cut over the
// W ranks; a short last batch leaves later groups smaller or empty.
// The cut of micro-batch m of `step` (lengths from the sampler, already cut to the block size);
// *ids receives the group's sample ids (c->n_seq of them, pointing into the sampler).
s1c_status s1c_cp_step_cut(s1c_sampler *s, long step, int W, int micro_batch, int m, s1c_cp_cut *c,
                           const size_t **ids);
// The largest shares, contexts and tails over every step of the run (what to allocate).
s1c_status s1c_cp_run_sizes(s1c_sampler *s, int W, int micro_batch, s1c_cp_sizes *sz);

typedef struct {
    s1c_backend *be;
    s1c_comm *comm;  // host collectives (token_mean's target count)
    s1c_packed *pk;
    s1c_sampler *smp;
    s1c_cp_exchange *x;
    int W, rank, micro_batch, block_size, token_mean;
    s1c_batch_slot *slots;  // [n_micro] buffers micro-batch m is carved from (NULL: allocate each)
} s1c_cp_batcher;
// This rank's n_micro batches of `step` (NULL where its share is empty), each carrying its
// micro-batch's exchange hook. Collective (token_mean counts the step's targets over ranks).
s1c_status s1c_cp_build_batches(const s1c_cp_batcher *cb, long step, s1c_batch **out, int n_micro);

// ---- weights -------------------------------------------------------------------------------
// Loss weight of each target token of a piece of a sequence with `seq_targets` targets: what
// s1c_batch_create gives the whole sequence. seq_mean: W / (seq_targets x step_samples);
// token_mean: W / step_targets (W: the rank average of the reduce-scatter is undone).
double s1c_cp_part_weight(int token_mean, int W, long seq_targets, int step_samples, long step_targets);

#endif
