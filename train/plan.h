// plan.h — the --plan calculator: per-rank memory and predicted step / run time of a recipe on
// N accelerators, from the model shape, the dataset's token counts, FLOPs and collective volume.
#ifndef S1C_PLAN_H
#define S1C_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "qwen2.h"

typedef struct {
    int gpus;
    double gpu_tflops;  // peak dense bf16 per GPU
    double gpu_mem_gb;  // GiB... in GB (1e9 bytes), as vendors state it
    double link_gbps;   // per-GPU bandwidth of the slowest link the collectives cross, Gbit/s
    double mfu;         // model FLOPs utilisation assumed for the time estimate
    double reserve_gb;  // runtime reserve (CUDA context, allocator slack, NCCL buffers)
} s1c_plan_hw;

typedef struct {
    // bytes per rank
    double master, act_copy, grads, adam, gathered, grad_buffers, acts_recompute, acts_full, logits, reserve;
    double total;  // with the configured recompute setting
    double micro_tokens;  // tokens of the largest micro-batch the memory is sized for
    int fits;
    double max_fit_tokens;  // most tokens one micro-batch may hold within the memory (activations scale with T)
    // time
    long steps;
    double step_tokens, step_flops, compute_s, comm_bytes, comm_s, step_s, run_s;
    double scalars;  // bytes of the working set's loss / norm scalars (in total, too small to print)
} s1c_plan_result;

// lengths may be NULL: then samples × avg_tokens from the config's plan section stand in.
s1c_status s1c_plan_compute(const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_hw *hw,
                            const uint32_t *lengths, size_t n_samples, s1c_plan_result *r);
void s1c_plan_print(FILE *fp, const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_hw *hw,
                    const s1c_plan_result *r, const char *data_source);

#endif
