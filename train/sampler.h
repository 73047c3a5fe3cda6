// sampler.h — which samples each rank trains on at each step.
//
// Epoch e visits the samples in a seeded permutation (seed, e); step k of the run is batch
// j = k mod steps_per_epoch of epoch k / steps_per_epoch: permuted samples [j*G, min((j+1)*G, n)).
// The last batch of an epoch may be short (like a DataLoader without drop_last), which is why
// s1's 1000 samples at batch 16 give 63 steps per epoch and 315 steps in 5 epochs.
//
// A step's samples are split over ranks × micro-batches: every rank runs the same number of
// micro-batches (G / (ranks × micro)), so collectives line up; a micro-batch of a short batch
// may hold fewer sequences, or none. With balance on, samples go longest first to the rank with
// the fewest tokens so far (ties: lowest rank), so one long sample does not leave ranks idle.
// The set of samples in a step never depends on the number of ranks, only their placement.
#ifndef S1C_SAMPLER_H
#define S1C_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "s1c_err.h"

typedef struct {
    size_t n;             // samples
    uint32_t *lengths;    // [n] tokens per sample, already cut to the block size
    int global_batch, epochs;
    uint64_t seed;
    long steps_per_epoch, total_steps;
    int cached_epoch;     // epoch whose permutation is in perm (-1 none)
    size_t *perm;         // [n]
} s1c_sampler;

s1c_status s1c_sampler_init(s1c_sampler *s, const uint32_t *lengths, size_t n, int block_size, int global_batch,
                            int epochs, uint64_t seed);
void s1c_sampler_free(s1c_sampler *s);
// The permutation of epoch `epoch` (deterministic in seed and epoch), written to perm[n].
void s1c_sampler_permutation(uint64_t seed, int epoch, size_t n, size_t *perm);

typedef struct {
    int n_micro, micro_batch;  // micro-batches per rank per step, sequences per full micro-batch
    int step_samples;          // sequences in the whole step (all ranks), G or fewer at an epoch's end
    int epoch;
    long step_tokens;          // tokens in the whole step (all ranks)
    double step_attn;          // Σ n(n+1) over the step's sequences (attention FLOPs, flops.h)
    // this rank: micro-batch i holds count[i] samples: sample[i * micro_batch + j], j < count[i]
    int *count;      // [n_micro]
    size_t *sample;  // [n_micro * micro_batch]
} s1c_step_plan;

// Fills the plan of `step` for `rank` of `world`. G must divide by world × micro_batch.
s1c_status s1c_sampler_step(s1c_sampler *s, long step, int world, int rank, int micro_batch, int balance,
                            s1c_step_plan *out);
void s1c_step_plan_free(s1c_step_plan *p);
// The step's samples in the sampler's order (the whole step, all ranks): ids[*n] points into the
// sampler's cached permutation (valid until a step of another epoch is asked for).
s1c_status s1c_sampler_batch(s1c_sampler *s, long step, const size_t **ids, int *n);

#endif
