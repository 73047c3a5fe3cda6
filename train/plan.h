// plan.h — the --plan calculator: what a recipe costs on a cluster, per rank and per step,
// for both balance modes (docs/planner.md explains the model and its inputs).
//
// Cluster (plan_sim.c): nodes x GPUs per node, in-node NVLink and per-node NICs. FSDP's ring
// all-gathers and reduce-scatters run at the ring's bus bandwidth, min(NVLink per GPU, NICs per
// node x NIC bandwidth) x bus efficiency (one node: NVLink x efficiency); a ring moves
// (W - 1) / W of the buffer through every rank. Context parallelism's point-to-point transfers
// run at NVLink inside a node and at the GPU's share of the node's NICs across nodes.
//
// Compute: every step of every epoch in the sampler's real order, from the actual packed lengths;
// per rank and micro-batch its tokens and causal attention pairs (balance sequences: the
// sampler's placement of whole sequences; tokens: the cut of train/cp.h), GEMM FLOPs at the
// GPU's sustained GEMM rate and attention FLOPs at its sustained attention rate, recompute
// included. The step is simulated unit by unit as the engine runs it: unit i + 1's gather
// overlaps unit i's compute, each unit's reduce-scatter the next unit's backward, every
// collective starts when the slowest rank reaches it (so the step takes the max over ranks,
// unit by unit), then AdamW at HBM speed. plan.context_queries (default true): the GPU's
// attention also runs a share's context rows as queries and discards them, as kernels/cuda does
// until its cuDNN graph takes a query offset; false plans the kernel that skips them (the CPU's).
#ifndef S1C_PLAN_H
#define S1C_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "fsdp.h"
#include "qwen2.h"

// ---- the cluster (plan_sim.c) -----------------------------------------------------------------
typedef struct {
    char gpu[16];  // preset the zero figures came from
    int nodes, gpus_per_node, nics_per_node;
    double nvlink_gbs;      // per GPU and direction, GB/s
    double nic_gbps;        // per NIC, Gbit/s
    double bus_efficiency;  // of the link bandwidth, reached by ring collectives and transfers
    double gpu_mem_gb, peak_tflops, gemm_tflops, attn_tflops, hbm_tbs, reserve_gb;
    double pcie_gbs, host_mem_gbs, host_mem_gb;  // per GPU and direction; per node; per node
} s1c_cluster;

// The recipe's cluster: block with the cluster.gpu preset's figures where a key is 0. Refuses
// several nodes without NICs.
s1c_status s1c_cluster_of(const s1c_train_config *tc, s1c_cluster *c);
int s1c_cluster_gpus(const s1c_cluster *c);
// GB/s of a ring collective over all GPUs, and of a transfer between ranks a and b.
double s1c_cluster_bus_gbs(const s1c_cluster *c);
double s1c_cluster_p2p_gbs(const s1c_cluster *c, int a, int b);

// ---- one step, unit by unit (plan_sim.c) ------------------------------------------------------
typedef struct {
    int W, L, n_micro, recompute, tied;
    double gemm_flops_s, attn_flops_s;   // sustained rates, FLOP/s
    double p_block, p_head;              // matmul parameters of a block; LM head (V x C)
    double attn_unit;                    // n_head x head_dim
    double gather_s[3], rs_s[3];         // per unit kind: 0 embedding, 1 block, 2 head
    double adam_s;                       // optimizer + norm after the last reduce-scatter
} s1c_plan_sim;

// A rank's share of one micro-batch.
typedef struct {
    double tokens, pairs;  // tokens; causal (query, key) pairs of its attention
    double x_s;            // seconds of one K/V exchange (one block, one direction): 0 without one
} s1c_plan_work;

// Seconds of one step: w[m * W + r] is rank r's work in micro-batch m. *compute_s (optional):
// the sum over units of the slowest rank's compute, what the step would take with free and
// perfectly hidden communication.
double s1c_plan_step_time(const s1c_plan_sim *s, const s1c_plan_work *w, double *compute_s);

// ---- the plan ------------------------------------------------------------------------------
typedef struct {
    int tokens;             // 0: balance sequences, 1: tokens
    double *step_s;         // [steps]
    double step_min, step_p50, step_p90, step_max, step_mean, run_s;
    double compute_mean;    // per step: the slowest rank's compute, unit by unit
    double imbalance;       // per step, averaged: slowest rank's compute / the mean rank's
    double model_flops, hw_flops;  // over the run
    double mfu_model, mfu_hw;      // over the run, against W x peak
    double cp_p2p_bytes, cp_allgather_bytes;  // per step: the busiest rank's K/V volume, point to point
                                              // and as one all-gather of every token's K/V (mean over steps)
    double cp_exchange_s;   // per step, mean: K/V exchange time on the critical path (all blocks)
    // memory per rank: the largest micro-batch (sequences) or share (tokens) of the run
    int max_T, max_ctx;
    s1c_fsdp_mem mem;        // sharded state, working set, activations as the trainer allocates them
    double exchange;         // the K/V exchange's buffers (tokens)
    int lmhead_tokens;       // LM-head chunk
    double lmhead, reserve;  // its buffers; the runtime reserve
    double batches;          // the trainer's batch buffers: n_micro slots of s1c_batch_slot_bytes(max_T)
    double total;
    int fits;
} s1c_plan_mode;

// train.offload_optimizer, as train/fsdp.c runs it: each rank's fp32 master and AdamW m, v slices
// in host memory (12 B/element, plain; two page-locked staging pairs of [max shard] for the
// copies). The fp32 gradient slice stays on the GPU through backward; after the norm (GPU), a
// pipeline over the units: unit i+1's slice comes to the host (D2H) and unit i-1's new bf16 slice
// goes back (H2D) while the host updates unit i. Planned layout: the bf16 weight slice stays on
// the GPU (gathered from); the alternative without it streams each slice H2D before every gather
// (its memory and traffic are printed too).
typedef struct {
    int on;
    double host_rank, host_node;  // host bytes: one rank's master, m, v slices (12 B/element); a node's ranks
    int host_fits;                // host_node <= cluster.host_mem_gb
    double d2h_bytes, h2d_bytes;  // per rank and step: n_micro gradient slices; one bf16 slice
    double d2h_s;                 // seconds of the D2H per step (spread over backward)
    double host_adam_s;           // norm + AdamW over the rank's slices at its 1/g share of the node's bandwidth
    double tail_s;                // after the norm: D2H, host AdamW and H2D pipelined over the units (fsdp.c)
    double streamed_h2d_bytes;    // without the GPU bf16 slice: every gather's slice H2D, per step
} s1c_plan_offload;

typedef struct {
    s1c_cluster cl;
    int W;
    s1c_plan_offload off;
    double bus_gbs;
    long steps;
    size_t samples;
    double tokens_per_step, fsdp_bytes;  // mean tokens; per rank per step, gathers + reduce-scatters
    s1c_plan_mode mode[2];   // [0] sequences, [1] tokens
} s1c_plan_result;

// lengths may be NULL: n samples of plan.avg_tokens each (no length variation: both modes
// coincide; give the packed file for a real prediction).
s1c_status s1c_plan_compute(const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_cluster *cl,
                            const uint32_t *lengths, size_t n, s1c_plan_result *r);
void s1c_plan_free(s1c_plan_result *r);
void s1c_plan_print(FILE *fp, const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_result *r,
                    const char *data_source);

// The LM head's chunk as the CUDA backend allocates it for micro-batches of T tokens (tokens per
// chunk, kernels/cuda/cuda_plan.h s1c_cuda_ce_chunk with the backend's S1C_CE_CHUNK_BYTES) and the
// bytes of its buffers (fp32 logits and bf16 dlogits of one chunk): the one place the plan's
// reservation comes from, so it follows the kernel's rule.
int s1c_plan_lmhead_chunk(const s1c_qwen2_config *mc, int T, double *bytes);

#endif
