// eval_plan.h — `s1c-infer plan`: what an evaluation costs with a tensor-parallel degree TP on G
// GPUs (docs/planner.md, "Evaluation"). Decode is bandwidth-bound: a step reads the rank's weight
// slice and its sequences' live K/V from HBM once, and TP > 1 adds two all-reduces of the batch's
// hidden rows per layer (after o_proj and down_proj) over NVLink.
#ifndef S1C_EVAL_PLAN_H
#define S1C_EVAL_PLAN_H

#include <stdio.h>

#include "qwen2.h"
#include "s1c_err.h"

typedef struct {
    int gpus, tp;
    double gpu_mem_gb, reserve_gb;  // per GPU; reserve: runtime, activations, CUDA context
    double hbm_tbs;                 // sustained HBM read bandwidth, TB/s
    double nvlink_gbs;              // all-reduce bus bandwidth per GPU, GB/s
    double allreduce_us;            // latency of one small all-reduce
    int prompt_tokens, thinking, answer_tokens, samples, problems;
} s1c_eval_plan_in;

typedef struct {
    int kv_heads_rank;       // KV heads per rank (1 replicated head when KV heads < TP)
    double weights_gpu;      // bytes of bf16 weights per GPU
    double kv_token_gpu;     // K/V bytes of one token per GPU, all layers
    double kv_tokens_gpu;    // tokens the free memory holds
    int seq_tokens;          // prompt + thinking + answer
    int groups;              // data-parallel copies: gpus / tp
    int batch;               // sequences decoding together per group
    double step_s;           // one decode step of a group
    double tokens_s;         // all groups together
    double wall_s;           // problems x samples sequences, decode only
} s1c_eval_plan_out;

// Checks the shapes (heads divisible by TP; KV heads divisible by TP or TP by them) and fills out.
s1c_status s1c_eval_plan(const s1c_qwen2_config *mc, const s1c_eval_plan_in *in, s1c_eval_plan_out *out);
// The command: s1c-infer plan --model-config FILE [--tp N ...]; returns the exit code.
int s1c_eval_plan_main(int argc, char **argv);

#endif
