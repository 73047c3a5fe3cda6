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

// Exit statuses of s1c-train (README "Exit statuses"); 0 is a finished run.
enum {
    S1C_TRAIN_EXIT_ERROR = 1,        // an error, named in the message (bad input, I/O, a dead rank)
    S1C_TRAIN_EXIT_USAGE = 2,        // bad command line or recipe, found before any work
    S1C_TRAIN_EXIT_FAULT = 3,        // injected fault (tests: S1C_FAULT_RANK / S1C_FAULT_STEP)
    S1C_TRAIN_EXIT_NONFINITE = 4,    // non-finite loss or gradient norm (train.nonfinite stop); nothing saved
    S1C_TRAIN_EXIT_TIMEOUT = S1C_COMM_TIMEOUT_EXIT,     // a collective exceeded train.collective_timeout_s; the job is aborted
    S1C_TRAIN_EXIT_PREEMPTED = 75,   // SIGTERM / SIGUSR1: the step finished and a checkpoint was written (requeue)
    S1C_TRAIN_EXIT_INTERRUPTED = 130,  // SIGINT: stopped at once (128 + 2); the last complete checkpoint stands
};

// Collective over the job. Returns S1C_OK when the run (or its stop_after part) finished;
// *exit_code receives the process's exit status (0, or one of the above).
s1c_status s1c_train_run(const s1c_train_config *tc, const s1c_dist *d, const s1c_train_opts *o, int *exit_code);

// Collective: `s1c-train export`: the complete checkpoint ckpt_dir to a Hugging Face directory
// out_dir (dtype "bf16" | "f32"), on the CPU with any number of ranks; the model's config.json
// and tokenizer files come from tc->model_path (the run's recipe).
s1c_status s1c_train_export(const s1c_train_config *tc, const s1c_dist *d, const char *ckpt_dir, const char *out_dir,
                            const char *dtype);

// Fault injection for tests: S1C_FAULT_RANK=r S1C_FAULT_STEP=k make rank r exit with status 3
// when it is about to run step k (1-based), as if it had crashed.
void s1c_train_fault_check(int rank, long step_1based);

#endif
