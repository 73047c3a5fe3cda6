// trainer.h — the training run of s1c-train: data, FSDP engine, schedule, clipping, AdamW,
// checkpoints, export and logging, on every rank of the job.
//
// Loss normalisation (train.loss_norm):
//   seq_mean (default, s1's effective objective): each sequence's mean token loss over its
//     assistant-turn targets, averaged over the sequences of the global batch. This is what the
//     Hugging Face Trainer computes for s1 (micro-batch 1 per GPU, token mean inside the one
//     sequence, gradients averaged over the 16 GPUs).
//   token_mean: the sum of all target-token losses of the global batch over their number.
// Either way the per-token weights are chosen so that the gradient, averaged over ranks by the
// reduce-scatter and summed over micro-batches, is the gradient of that global objective,
// whatever the number of ranks and micro-batches.
#ifndef S1C_TRAINER_H
#define S1C_TRAINER_H

#include "config.h"
#include "s1c_mpi.h"

typedef struct {
    int resume;              // continue from the newest complete checkpoint under output.dir
    const char *resume_dir;  // or from this checkpoint directory
    int overwrite;           // a fresh run may replace the checkpoints of an earlier run in output.dir
} s1c_train_opts;

// Collective over the job. Returns S1C_OK when the run (or its max_steps part) finished.
s1c_status s1c_train_run(const s1c_train_config *tc, const s1c_dist *d, const s1c_train_opts *o);

// Fault injection for tests: S1C_FAULT_RANK=r S1C_FAULT_STEP=k make rank r exit with status 3
// when it is about to run step k (1-based), as if it had crashed.
void s1c_train_fault_check(int rank, long step_1based);

#endif
