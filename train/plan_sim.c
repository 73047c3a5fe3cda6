// plan_sim.c — the planner's cluster (presets, bus and point-to-point bandwidths) and the step
// simulated unit by unit as train/fsdp.c runs it (plan.h).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

// GPU presets: peak dense bf16 (the MFU denominator, vendor figure), sustained rates the planner
// divides FLOPs by, HBM bandwidth for the optimizer. The sustained rates are ASSUMPTIONS to be
// replaced by measured ones (bench_cuda_gemm, bench_cuda_attn on the target GPU): about 2/3 of
// peak for the large bf16 GEMMs of a 32B model and ~45% for fused causal attention forward +
// backward at head_dim 128 (FlashAttention-3 / cuDNN SDPA class kernels); docs/planner.md.
typedef struct {
    const char *name;
    double gpu_mem_gb, peak_tflops, gemm_tflops, attn_tflops, hbm_tbs, reserve_gb;
} gpu_preset;

static const gpu_preset PRESETS[] = {
    {"h100", 80.0, 989.0, 660.0, 440.0, 3.35, 3.0},   // H100 SXM5 80 GB
    {"h200", 141.0, 989.0, 690.0, 460.0, 4.8, 3.0},   // H200 SXM 141 GB: same SMs, more and faster HBM
};

s1c_status s1c_cluster_of(const s1c_train_config *tc, s1c_cluster *c) {
    memset(c, 0, sizeof *c);
    const gpu_preset *p = NULL;
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (!strcmp(PRESETS[i].name, tc->cluster_gpu)) p = &PRESETS[i];
    if (!p) return s1c_err("cluster.gpu: unknown GPU \"%s\" (h100 or h200)", tc->cluster_gpu);
    snprintf(c->gpu, sizeof c->gpu, "%s", p->name);
    c->nodes = tc->cluster_nodes;
    c->gpus_per_node = tc->cluster_gpus_per_node;
    c->nics_per_node = tc->cluster_nics_per_node;
    c->nvlink_gbs = tc->cluster_nvlink_gbs;
    c->nic_gbps = tc->cluster_nic_gbps;
    c->bus_efficiency = tc->cluster_bus_efficiency;
#define PICK(field, key) c->field = tc->key > 0 ? tc->key : p->field
    PICK(gpu_mem_gb, cluster_gpu_mem_gb);
    PICK(peak_tflops, cluster_peak_tflops);
    PICK(gemm_tflops, cluster_gemm_tflops);
    PICK(attn_tflops, cluster_attn_tflops);
    PICK(reserve_gb, cluster_reserve_gb);
#undef PICK
    c->hbm_tbs = p->hbm_tbs;
    c->pcie_gbs = tc->cluster_pcie_gbs;
    c->host_mem_gbs = tc->cluster_host_mem_gbs;
    c->host_mem_gb = tc->cluster_host_mem_gb;
    if (c->nodes < 1 || c->gpus_per_node < 1) return s1c_err("cluster: %d nodes x %d GPUs", c->nodes, c->gpus_per_node);
    if (c->nodes > 1 && (c->nics_per_node < 1 || !(c->nic_gbps > 0)))
        return s1c_err("cluster: %d nodes need NICs (cluster.nics_per_node %d, cluster.nic_gbps %g)", c->nodes,
                       c->nics_per_node, c->nic_gbps);
    if (!(c->nvlink_gbs > 0 && c->bus_efficiency > 0 && c->bus_efficiency <= 1))
        return s1c_err("cluster: nvlink_gbs %g and bus_efficiency %g", c->nvlink_gbs, c->bus_efficiency);
    return S1C_OK;
}

int s1c_cluster_gpus(const s1c_cluster *c) { return c->nodes * c->gpus_per_node; }

// A ring over several nodes runs one channel per NIC: every GPU's traffic crosses NVLink inside
// its node and, at the node boundaries, the node's NICs together carry the whole ring volume.
double s1c_cluster_bus_gbs(const s1c_cluster *c) {
    double bw = c->nvlink_gbs;
    if (c->nodes > 1) {
        const double nics = c->nics_per_node * c->nic_gbps / 8.0;  // GB/s out of a node
        if (nics < bw) bw = nics;
    }
    return bw * c->bus_efficiency;
}

// Inside a node NVLink; across nodes the GPU's share of its node's NICs.
double s1c_cluster_p2p_gbs(const s1c_cluster *c, int a, int b) {
    if (a / c->gpus_per_node == b / c->gpus_per_node) return c->nvlink_gbs * c->bus_efficiency;
    return c->nics_per_node * c->nic_gbps / 8.0 / c->gpus_per_node * c->bus_efficiency;
}

// ---- the step --------------------------------------------------------------------------------
enum { EMB_FWD, BLK_FWD, HEAD, BLK_BWD, EMB_BWD };

// Seconds rank work w spends in an op (GEMMs and attention at their sustained rates; the
// embedding lookups and elementwise ops are folded into those rates).
static double op_compute(const s1c_plan_sim *s, int kind, const s1c_plan_work *w) {
    const double g = s->gemm_flops_s, a = s->attn_flops_s, rc = s->recompute ? 1 : 0;
    switch (kind) {
        case BLK_FWD: return 2 * s->p_block * w->tokens / g + 4 * s->attn_unit * w->pairs / a + w->x_s;
        case HEAD: return 6 * s->p_head * w->tokens / g;  // logits, dh, dW of the LM head
        case BLK_BWD:
            return (4 + 2 * rc) * s->p_block * w->tokens / g + (10 + 4 * rc) * s->attn_unit * w->pairs / a +
                   (1 + rc) * w->x_s;
        default: return 0;
    }
}

static int op_kind(int j, int L) {
    return j == 0 ? EMB_FWD : j <= L ? BLK_FWD : j == L + 1 ? HEAD : j <= 2 * L + 1 ? BLK_BWD : EMB_BWD;
}

// The unit kind an op gathers (0 embedding, 1 block, 2 head), or -1. With tied embeddings the
// embedding stays in the large slot from the first forward to the end of the step (the head
// then needs only its norm, a small unit), so it is gathered once per step; untied, the LM head
// takes the large slot and the embedding is gathered again in every micro-batch.
static int gather_kind(const s1c_plan_sim *s, int kind, int *emb_resident) {
    switch (kind) {
        case EMB_FWD: {
            const int k = s->tied && *emb_resident ? -1 : 0;
            if (s->tied) *emb_resident = 1;
            return k;
        }
        case BLK_FWD:
        case BLK_BWD: return 1;
        case HEAD: return 2;
        default: return -1;
    }
}

double s1c_plan_step_time(const s1c_plan_sim *s, const s1c_plan_work *w, double *compute_s) {
    const int W = s->W, L = s->L, per = 2 * L + 3, n_ops = s->n_micro * per;
    double *cend = calloc((size_t)W, sizeof(double));  // each rank's compute stream
    double comm = 0;             // the one stream of the FSDP collectives
    double rs_end[2] = {0, 0};   // last reduce-scatter of each rotating gradient buffer
    double prev_max = 0;         // every rank's compute up to the previous op
    double compute_sum = 0, gather_end = 0;
    int rot = 0, resident = 0;
    int gk = gather_kind(s, op_kind(0, L), &resident);
    if (gk >= 0) gather_end = comm = s->gather_s[gk];  // the first op's units: nothing was prefetched
    for (int i = 0; i < n_ops; i++) {
        const int kind = op_kind(i % per, L);
        const s1c_plan_work *wm = &w[(size_t)(i / per) * (size_t)W];
        // prefetch of the next op's units, issued before this op computes: the communication
        // stream waits for the compute every rank has enqueued so far (up to the previous op)
        double next_end = 0;
        if (i + 1 < n_ops && (gk = gather_kind(s, op_kind((i + 1) % per, L), &resident)) >= 0)
            next_end = comm = fmax(comm, prev_max) + s->gather_s[gk];
        // compute: after the rank's previous op and this op's gather; a backward op also after the
        // reduce-scatter that last used the rotating gradient buffer it takes (tied: the
        // embedding's gradient has a buffer of its own)
        const int grads = kind == HEAD || kind == BLK_BWD || kind == EMB_BWD;
        const int rotating = grads && !(kind == EMB_BWD && s->tied);
        const double ready = fmax(gather_end, rotating ? rs_end[rot] : 0);
        double mx = 0, cmax = 0;
        for (int r = 0; r < W; r++) {
            const double c = op_compute(s, kind, &wm[r]);
            cend[r] = fmax(cend[r], ready) + c;
            mx = fmax(mx, cend[r]);
            cmax = fmax(cmax, c);
        }
        compute_sum += cmax;
        prev_max = mx;
        if (grads) {  // the unit's reduce-scatter starts when the slowest rank has its gradient
            comm = fmax(comm, mx) + s->rs_s[kind == HEAD ? 2 : kind == BLK_BWD ? 1 : 0];
            if (rotating) {
                rs_end[rot] = comm;
                rot ^= 1;
            }
        }
        gather_end = next_end;
    }
    double end = comm;
    for (int r = 0; r < W; r++) end = fmax(end, cend[r]);
    free(cend);
    if (compute_s) *compute_s = compute_sum;
    return end + s->adam_s;
}
