// plan.c — the --plan calculator (plan.h): per-step work of both balance modes from the data in
// the sampler's order, the step simulation (plan_sim.c), memory from the trainer's own sizing.
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cp.h"
#include "cuda_plan.h"
#include "flops.h"
#include "sampler.h"

int s1c_plan_lmhead_chunk(const s1c_qwen2_config *mc, int T, double *bytes) {
    const int tc = s1c_cuda_ce_chunk(T, mc->vocab_size, 1, S1C_CE_CHUNK_BYTES);
    // exactly the workspace cuda_lmhead.cu requests: bf16 logits, dlogits in place
    *bytes = (double)s1c_cuda_ce_chunk_bytes(tc, mc->vocab_size);
    return tc;
}

// Work of rank r in micro-batch m of a step, per balance mode.
typedef struct {
    s1c_plan_work *w;        // [n_micro * W]
    double tokens, n_np1;    // the step's tokens and sum n (n + 1) (model FLOPs)
    double p2p_max, ag_bytes;  // K/V bytes per block exchange: busiest rank point to point; all-gather form
} step_work;

static double pairs_of(double n) { return n * (n + 1) / 2; }

static s1c_status work_sequences(s1c_sampler *smp, long step, int W, int mb, int balance, step_work *sw) {
    for (int r = 0; r < W; r++) {
        s1c_step_plan p;
        S1C_TRY(s1c_sampler_step(smp, step, W, r, mb, balance, &p));
        for (int m = 0; m < p.n_micro; m++) {
            s1c_plan_work *wk = &sw->w[(size_t)m * W + r];
            memset(wk, 0, sizeof *wk);
            for (int j = 0; j < p.count[m]; j++) {
                const double n = smp->lengths[p.sample[(size_t)m * mb + j]];
                wk->tokens += n;
                wk->pairs += pairs_of(n);
            }
        }
        if (r == 0) {
            sw->tokens = (double)p.step_tokens;
            sw->n_np1 = p.step_attn;
        }
        s1c_step_plan_free(&p);
    }
    return S1C_OK;
}

// kv_row: bytes of one token's K and V (act dtype).
// ctx_queries: the backend also runs the context rows as queries and discards them (the CUDA
// attention today, kernels/ops.h s1c_attn_shape.n_ctx): their pairs are spent, not useful.
static s1c_status work_tokens(s1c_sampler *smp, long step, int W, int mb, int n_micro, const s1c_cluster *cl,
                              double kv_row, int ctx_queries, step_work *sw) {
    sw->tokens = sw->n_np1 = sw->p2p_max = sw->ag_bytes = 0;
    for (int m = 0; m < n_micro; m++) {
        s1c_cp_cut c;
        const size_t *ids;
        S1C_TRY(s1c_cp_step_cut(smp, step, W, mb, m, &c, &ids));
        for (int i = 0; i < c.n_seq; i++) {
            sw->tokens += c.len[i];
            sw->n_np1 += (double)c.len[i] * (c.len[i] + 1.0);
        }
        // the all-gather form moves every other rank's K/V of the group to each rank
        sw->ag_bytes += (double)c.total * (W - 1) / W * kv_row;
        for (int r = 0; r < W; r++) {
            s1c_cp_links l;
            s1c_cp_links_of(&c, r, &l);
            s1c_plan_work *wk = &sw->w[(size_t)m * W + r];
            wk->tokens = (double)l.T;
            wk->pairs = s1c_cp_attn_pairs(&c, r) + (ctx_queries ? pairs_of(l.n_ctx) : 0);
            // one exchange: the tail to each later rank of its sequence over that link, the
            // context from each earlier one; sends and receives proceed together
            double ts = 0, tr = 0, bytes = 0;
            for (int k = 0; k < l.n_to; k++) {
                ts += l.tail * kv_row / (s1c_cluster_p2p_gbs(cl, r, l.to[k].peer) * 1e9);
                bytes += l.tail * kv_row;
            }
            for (int k = 0; k < l.n_from; k++) {
                tr += l.from[k].rows * kv_row / (s1c_cluster_p2p_gbs(cl, l.from[k].peer, r) * 1e9);
                bytes += l.from[k].rows * kv_row;
            }
            wk->x_s = fmax(ts, tr);
            if (bytes > sw->p2p_max) sw->p2p_max = bytes;
            s1c_cp_links_free(&l);
        }
        s1c_cp_cut_free(&c);
    }
    return S1C_OK;
}

// Compute seconds of one rank's micro-batch, all units (for the imbalance figure).
static double rank_compute(const s1c_plan_sim *s, const s1c_plan_work *w) {
    const double rc = s->recompute ? 1 : 0;
    return s->L * ((6 + 2 * rc) * s->p_block * w->tokens / s->gemm_flops_s +
                   (14 + 4 * rc) * s->attn_unit * w->pairs / s->attn_flops_s + (2 + rc) * w->x_s) +
           6 * s->p_head * w->tokens / s->gemm_flops_s;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static s1c_status plan_mode(const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_result *r,
                            s1c_sampler *smp, const s1c_plan_sim *sim, int tokens, s1c_plan_mode *pm) {
    const int W = r->W, mb = tc->micro_batch_size, n_micro = sim->n_micro, L = mc->num_hidden_layers;
    const int bf16 = strcmp(tc->precision, "bf16") == 0, rc = tc->recompute;
    const double asz = bf16 ? 2 : 4, kv_row = 2.0 * mc->num_key_value_heads * mc->head_dim * asz;
    const double exchanges = L * (2.0 + (rc ? 1 : 0));  // per micro-batch: forward, backward, recompute
    pm->tokens = tokens;
    pm->step_s = s1c_xcalloc((size_t)r->steps, sizeof(double));
    step_work sw = {.w = s1c_xcalloc((size_t)n_micro * (size_t)W, sizeof(s1c_plan_work))};
    double imb = 0, compute = 0, p2p = 0, ag = 0, xs = 0;
    s1c_status st = S1C_OK;
    for (long k = 0; k < r->steps && st == S1C_OK; k++) {
        memset(sw.w, 0, sizeof(s1c_plan_work) * (size_t)n_micro * (size_t)W);
        st = tokens ? work_tokens(smp, k, W, mb, n_micro, &r->cl, kv_row, tc->plan_context_queries, &sw)
                    : work_sequences(smp, k, W, mb, tc->balance_tokens, &sw);
        if (st != S1C_OK) break;
        double cs = 0;
        pm->step_s[k] = s1c_plan_step_time(sim, sw.w, &cs);
        compute += cs;
        double slow = 0, mean = 0, xmax = 0;
        for (int m = 0; m < n_micro; m++) {
            double mx = 0, sum = 0, xm = 0;
            for (int q = 0; q < W; q++) {
                const double c = rank_compute(sim, &sw.w[(size_t)m * W + q]);
                mx = fmax(mx, c);
                sum += c;
                xm = fmax(xm, sw.w[(size_t)m * W + q].x_s);
            }
            slow += mx;
            mean += sum / W;
            xmax += xm;
        }
        imb += mean > 0 ? slow / mean : 1;
        p2p += sw.p2p_max * exchanges;
        ag += sw.ag_bytes * exchanges;
        xs += xmax * exchanges;
        pm->model_flops += s1c_train_flops(mc, sw.tokens, sw.n_np1);
        for (int m = 0; m < n_micro; m++)
            for (int q = 0; q < W; q++) {
                const s1c_plan_work *wk = &sw.w[(size_t)m * W + q];
                pm->hw_flops += L * ((6 + 2 * rc) * sim->p_block * wk->tokens +
                                     (14 + 4 * rc) * sim->attn_unit * wk->pairs) +
                                6 * sim->p_head * wk->tokens;
            }
    }
    free(sw.w);
    S1C_TRY(st);
    const double steps = (double)r->steps;
    double *sorted = s1c_xmalloc(sizeof(double) * (size_t)r->steps);
    memcpy(sorted, pm->step_s, sizeof(double) * (size_t)r->steps);
    qsort(sorted, (size_t)r->steps, sizeof(double), cmp_double);
    pm->step_min = sorted[0];
    pm->step_max = sorted[r->steps - 1];
    pm->step_p50 = sorted[(r->steps - 1) / 2];
    pm->step_p90 = sorted[(long)((double)(r->steps - 1) * 0.9)];
    for (long k = 0; k < r->steps; k++) pm->run_s += pm->step_s[k];
    free(sorted);
    pm->step_mean = pm->run_s / steps;
    pm->compute_mean = compute / steps;
    pm->imbalance = imb / steps;
    pm->cp_p2p_bytes = tokens ? p2p / steps : 0;
    pm->cp_allgather_bytes = tokens ? ag / steps : 0;
    pm->cp_exchange_s = tokens ? xs / steps : 0;
    const double peak = W * r->cl.peak_tflops * 1e12 * pm->run_s;
    pm->mfu_model = pm->model_flops / peak;
    pm->mfu_hw = pm->hw_flops / peak;
    // ---- memory: what the trainer allocates for this mode (train/trainer.c setup) ------------
    s1c_fsdp_opts fo = {.recompute = rc, .reduce_bf16 = strcmp(tc->reduce_dtype, "bf16") == 0};
    if (tokens) {
        s1c_cp_sizes cs;
        S1C_TRY(s1c_cp_run_sizes(smp, W, mb, &cs));
        fo.max_T = cs.max_T;
        fo.max_ctx = cs.max_ctx;
        pm->exchange = (double)s1c_cp_exchange_bytes(mc, bf16 ? S1C_BF16 : S1C_F32, &cs);
    } else {
        uint32_t longest = 1;
        for (size_t i = 0; i < smp->n; i++)
            if (smp->lengths[i] > longest) longest = smp->lengths[i];
        fo.max_T = mb * (int)longest;
    }
    pm->max_T = fo.max_T;
    pm->max_ctx = fo.max_ctx;
    S1C_TRY(s1c_fsdp_mem_plan_opts(mc, W, bf16 ? S1C_BF16 : S1C_F32, &fo, &pm->mem));
    pm->lmhead_tokens = s1c_plan_lmhead_chunk(mc, fo.max_T, &pm->lmhead);
    pm->reserve = r->cl.reserve_gb * 1e9;
    // one batch buffer per micro-batch, allocated before the first step (train/trainer.c)
    pm->batches = (double)n_micro * (double)s1c_batch_slot_bytes(fo.max_T);
    pm->total = (double)pm->mem.total + pm->exchange + pm->lmhead + pm->batches + pm->reserve;
    if (r->off.on)  // master and moments live on the host; the fp32 gradient slice stays (train/fsdp.c
        pm->total -= (double)(pm->mem.master + pm->mem.adam);  // accumulates it over micro-batches)
    pm->fits = pm->total <= r->cl.gpu_mem_gb * 1e9;
    return S1C_OK;
}

void s1c_plan_free(s1c_plan_result *r) {
    for (int i = 0; i < 2; i++) free(r->mode[i].step_s);
    memset(r, 0, sizeof *r);
}

s1c_status s1c_plan_compute(const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_cluster *cl,
                            const uint32_t *lengths, size_t n, s1c_plan_result *r) {
    memset(r, 0, sizeof *r);
    r->cl = *cl;
    const int W = s1c_cluster_gpus(cl);
    r->W = W;
    if (tc->global_batch_size % (W * tc->micro_batch_size) != 0)
        return s1c_err("--plan: train.global_batch_size %d is not divisible by %d GPUs x micro-batch %d",
                       tc->global_batch_size, W, tc->micro_batch_size);
    uint32_t *own = NULL;
    if (!lengths) {
        if (tc->plan_samples < 1 || !(tc->plan_avg_tokens >= 1))
            return s1c_err("--plan: no dataset: data.path (or --data) does not exist and plan.samples / "
                           "plan.avg_tokens are not set");
        n = (size_t)tc->plan_samples;
        own = s1c_xmalloc(sizeof(uint32_t) * n);
        for (size_t i = 0; i < n; i++) own[i] = (uint32_t)tc->plan_avg_tokens;
        lengths = own;
    }
    s1c_sampler smp;
    s1c_status st = s1c_sampler_init(&smp, lengths, n, tc->block_size, tc->global_batch_size, tc->epochs,
                                     (uint64_t)(int64_t)tc->seed);
    free(own);
    S1C_TRY(st);
    r->steps = smp.total_steps;
    r->samples = n;
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(mc);
    if (!lay) {
        s1c_sampler_free(&smp);
        return s1c_err_prefix("--plan: model layout");
    }
    const int bf16 = strcmp(tc->precision, "bf16") == 0, head = s1c_qwen2_unit_head(mc);
    const double asz = bf16 ? 2 : 4, rsz = strcmp(tc->reduce_dtype, "bf16") == 0 ? 2 : 4;
    r->bus_gbs = s1c_cluster_bus_gbs(cl);
    const double ring = W > 1 ? (double)(W - 1) / W / (r->bus_gbs * 1e9) : 0;  // seconds per buffer byte
    const double C = mc->hidden_size, I = mc->intermediate_size;
    const double Q = (double)mc->num_attention_heads * mc->head_dim, KV = 2.0 * mc->num_key_value_heads * mc->head_dim;
    s1c_plan_sim sim = {
        .W = W,
        .L = mc->num_hidden_layers,
        .n_micro = tc->global_batch_size / (W * tc->micro_batch_size),
        .recompute = tc->recompute,
        .tied = mc->tie_word_embeddings,
        .gemm_flops_s = cl->gemm_tflops * 1e12,
        .attn_flops_s = cl->attn_tflops * 1e12,
        .p_block = C * (Q + KV) + Q * C + 3 * C * I,
        .p_head = (double)mc->vocab_size * C,
        .attn_unit = Q,
    };
    const int kinds[3] = {0, mc->num_hidden_layers > 0 ? 1 : head, head};
    double shards = 0;
    for (int k = 0; k < 3; k++) {
        const s1c_shard_geom g = s1c_shard_geometry(lay->units[kinds[k]].numel, W);
        sim.gather_s[k] = (double)g.padded * asz * ring;
        sim.rs_s[k] = (double)g.padded * rsz * ring;
    }
    for (int u = 0; u < lay->n_units; u++) {
        const s1c_shard_geom g = s1c_shard_geometry(lay->units[u].numel, W);
        shards += (double)g.shard;
        // per micro-batch: gathered in forward and backward (the embedding once per step when
        // tied), reduce-scattered once
        const double gathers = u == 0 ? (mc->tie_word_embeddings ? 1.0 / sim.n_micro : 1) : u == head ? 1 : 2;
        r->fsdp_bytes += sim.n_micro * (double)g.padded * (W > 1 ? (double)(W - 1) / W : 0) * (gathers * asz + rsz);
    }
    // AdamW and the norm stream the slices: master, gradient, m, v read; master, m, v and the act
    // copy written; ~40 bytes per element with zeroing and the reduced slices' accumulation
    sim.adam_s = shards * 40 / (cl->hbm_tbs * 1e12);
    if (tc->offload_optimizer) {
        s1c_plan_offload *o = &r->off;
        o->on = 1;
        const int g = W < cl->gpus_per_node ? W : cl->gpus_per_node;  // ranks sharing a node's memory
        const double host_bw = cl->host_mem_gbs * 1e9 / g, pcie = cl->pcie_gbs * 1e9;
        // master, m, v (train/fsdp.c: one host allocation per rank) and the two staging pairs
        // (fp32 gradient + act-dtype weights of the largest shard, page-locked)
        double max_shard = 0;
        for (int u = 0; u < lay->n_units; u++)
            max_shard = fmax(max_shard, (double)s1c_shard_geometry(lay->units[u].numel, W).shard);
        o->host_rank = 12 * shards + 2 * (4 + asz) * max_shard;
        o->host_node = o->host_rank * g;
        o->host_fits = o->host_node <= cl->host_mem_gb * 1e9;
        o->d2h_bytes = 4 * shards;  // the accumulated gradient slice, once, at the step
        o->h2d_bytes = 2 * shards;
        o->d2h_s = o->d2h_bytes / pcie;
        // Host bytes per element: AdamW reads master, gradient, m, v (16) and writes master, m,
        // v (12) and the bf16 slice (2); the norm and the gradient's zeroing stay on the GPU. As
        // train/fsdp.c runs it (adamw_offload): after the norm, a pipeline over the units on the
        // backend's one stream: unit i+1's gradient slice comes to the host (D2H) and unit i-1's
        // new bf16 slice goes back (H2D) while the host updates unit i; simulated here with the
        // stream's and the host's clocks. (Copies during backward are not yet overlapped.)
        double a = 0, stream = 0, host = 0;
        const int nu = lay->n_units;
        // ready: when unit u's gradient slice has reached the host
        double ready = stream = (double)s1c_shard_geometry(lay->units[0].numel, W).shard * 4 / pcie;
        for (int u = 0; u < nu; u++) {
            const double sh = (double)s1c_shard_geometry(lay->units[u].numel, W).shard;
            double next_ready = 0;
            if (u + 1 < nu) {  // enqueued as unit u's step begins
                const double next = (double)s1c_shard_geometry(lay->units[u + 1].numel, W).shard;
                stream = fmax(stream, host) + next * 4 / pcie;
                next_ready = stream;
            }
            host = fmax(host, ready) + sh * 30 / host_bw;
            ready = next_ready;
            a += sh * 30 / host_bw;
            stream = fmax(stream, host) + sh * 2 / pcie;  // the new slice, after its update
            const double gathers = u == 0 ? (mc->tie_word_embeddings ? 1.0 : sim.n_micro)
                                          : u == head ? sim.n_micro : 2.0 * sim.n_micro;
            o->streamed_h2d_bytes += gathers * 2 * sh;
        }
        const double h = fmax(stream, host);
        o->host_adam_s = a;
        o->tail_s = h;
        sim.adam_s = h;  // replaces the GPU's AdamW at the end of the step
    }
    s1c_qwen2_layout_free(lay);
    r->tokens_per_step = 0;
    for (int i = 0; i < 2 && st == S1C_OK; i++) st = plan_mode(tc, mc, r, &smp, &sim, i, &r->mode[i]);
    for (long k = 0; k < smp.total_steps; k++) {
        const size_t *ids;
        int g = 0;
        if (s1c_sampler_batch(&smp, k, &ids, &g) != S1C_OK) break;
        for (int j = 0; j < g; j++) r->tokens_per_step += smp.lengths[ids[j]];
    }
    r->tokens_per_step /= (double)smp.total_steps;
    s1c_sampler_free(&smp);
    if (st != S1C_OK) s1c_plan_free(r);
    return st;
}

static void gb(FILE *fp, const char *what, double a, double b) {
    fprintf(fp, "  %-46s %9.2f GB %9.2f GB\n", what, a / 1e9, b / 1e9);
}

static const char *hms(char *buf, size_t n, double s) {
    if (s >= 3600) snprintf(buf, n, "%.2f h", s / 3600);
    else snprintf(buf, n, "%.1f min", s / 60);
    return buf;
}

void s1c_plan_print(FILE *fp, const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_result *r,
                    const char *data_source) {
    const s1c_cluster *c = &r->cl;
    const s1c_plan_mode *s = &r->mode[0], *t = &r->mode[1];
    fprintf(fp, "cluster: %d node%s x %d %s (%.0f GB; peak %.0f, sustained GEMM %.0f / attention %.0f TFLOP/s), "
                "NVLink %.0f GB/s, %d x %.0f Gbit/s NICs per node\n",
            c->nodes, c->nodes > 1 ? "s" : "", c->gpus_per_node, c->gpu, c->gpu_mem_gb, c->peak_tflops,
            c->gemm_tflops, c->attn_tflops, c->nvlink_gbs, c->nics_per_node, c->nic_gbps);
    fprintf(fp, "  ring bus bandwidth %.0f GB/s (efficiency %.2f)\n", r->bus_gbs, c->bus_efficiency);
    fprintf(fp, "model: %d layers, hidden %d, %d heads (%d KV), vocab %d, tied %s; %.2fB matmul params\n",
            mc->num_hidden_layers, mc->hidden_size, mc->num_attention_heads, mc->num_key_value_heads, mc->vocab_size,
            mc->tie_word_embeddings ? "yes" : "no", s1c_matmul_params(mc) / 1e9);
    fprintf(fp, "data: %s; %ld steps (%d epochs x batch %d, micro-batch %d), %.0f tokens/step on average\n",
            data_source, r->steps, tc->epochs, tc->global_batch_size, tc->micro_batch_size, r->tokens_per_step);
    fprintf(fp, "FSDP collectives: %.1f GB/rank/step (%s gathers, %s reduce-scatters)\n", r->fsdp_bytes / 1e9,
            tc->precision, tc->reduce_dtype);
    fprintf(fp, "%-48s %12s %12s\n", "balance:", "sequences", "tokens");
    char a[32], b[32];
    fprintf(fp, "time per step (s):\n");
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "min", s->step_min, t->step_min);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "median", s->step_p50, t->step_p50);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "90th percentile", s->step_p90, t->step_p90);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "max", s->step_max, t->step_max);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "mean", s->step_mean, t->step_mean);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "  of which slowest-rank compute", s->compute_mean, t->compute_mean);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "  of which K/V exchange", 0.0, t->cp_exchange_s);
    fprintf(fp, "  %-46s %12.2f %12.2f\n", "rank imbalance (slowest / mean compute)", s->imbalance, t->imbalance);
    fprintf(fp, "  %-46s %12s %12s\n", "run", hms(a, sizeof a, s->run_s), hms(b, sizeof b, t->run_s));
    fprintf(fp, "  %-46s %11.1f%% %11.1f%%\n", "MFU (model FLOPs, 6PT + attention)", 100 * s->mfu_model,
            100 * t->mfu_model);
    fprintf(fp, "  %-46s %11.1f%% %11.1f%%\n", "hardware FLOPs utilisation (recompute incl.)", 100 * s->mfu_hw,
            100 * t->mfu_hw);
    fprintf(fp, "  %-46s %12s %9.2f GB\n", "K/V exchange, busiest rank, per step", "-", t->cp_p2p_bytes / 1e9);
    fprintf(fp, "  %-46s %12s %9.2f GB\n", "  (the all-gather form would move)", "-", t->cp_allgather_bytes / 1e9);
    fprintf(fp, "memory per rank (largest micro-batch %d / share %d tokens + %d context):\n", s->max_T, t->max_T,
            t->max_ctx);
    gb(fp, "fp32 master weights (slice)", (double)s->mem.master, (double)t->mem.master);
    if (s->mem.act_copy) gb(fp, "bf16 weight copy (slice, gathered from)", (double)s->mem.act_copy, (double)t->mem.act_copy);
    gb(fp, "fp32 gradients (slice)", (double)s->mem.grad, (double)t->mem.grad);
    gb(fp, "AdamW m + v (slice)", (double)s->mem.adam, (double)t->mem.adam);
    gb(fp, "gathered units (1 large + 2 block slots)", (double)s->mem.gathered, (double)t->mem.gathered);
    gb(fp, "full-unit gradient buffers", (double)s->mem.grad_buffers, (double)t->mem.grad_buffers);
    gb(fp, tc->recompute ? "activations (recompute on)" : "activations (recompute off)", (double)s->mem.acts,
       (double)t->mem.acts);
    gb(fp, "K/V exchange buffers", s->exchange, t->exchange);
    char lm[80];
    snprintf(lm, sizeof lm, "LM-head chunk (%d / %d tokens, logits + grad)", s->lmhead_tokens, t->lmhead_tokens);
    gb(fp, lm, s->lmhead, t->lmhead);
    gb(fp, "batch buffers (one per micro-batch)", s->batches, t->batches);
    gb(fp, "runtime reserve", s->reserve, t->reserve);
    if (r->off.on) {
        gb(fp, "  offloaded to the host: master, m, v", -(double)(s->mem.master + s->mem.adam),
           -(double)(t->mem.master + t->mem.adam));
        fprintf(fp, "    (the fp32 gradient slice stays on the GPU: the engine accumulates micro-batches there)\n");
    }
    gb(fp, "total", s->total, t->total);
    fprintf(fp, "  %-46s %12s %12s  (of %.0f GB)\n", "", s->fits ? "FITS" : "DOES NOT FIT", t->fits ? "FITS" : "DOES NOT FIT",
            c->gpu_mem_gb);
    fprintf(fp, "  %-46s %9.2f GB %9.2f GB\n", "margin", c->gpu_mem_gb - s->total / 1e9, c->gpu_mem_gb - t->total / 1e9);
    if (r->off.on) {
        const s1c_plan_offload *o = &r->off;
        const double ms = c->gpu_mem_gb - (s->total - (double)s->mem.act_copy) / 1e9,
                     mt = c->gpu_mem_gb - (t->total - (double)t->mem.act_copy) / 1e9;
        fprintf(fp, "optimizer offload (train.offload_optimizer; PCIe %.0f GB/s per GPU, host memory %.0f GB/s and "
                    "%.0f GB per node):\n", c->pcie_gbs, c->host_mem_gbs, c->host_mem_gb);
        fprintf(fp, "  %-46s %9.2f GB per rank, %.1f GB per node: %s\n", "host memory (master, m, v; staging)",
                o->host_rank / 1e9, o->host_node / 1e9, o->host_fits ? "FITS" : "DOES NOT FIT");
        fprintf(fp, "  %-46s %9.2f GB, %.2f s (at the step: in the tail below)\n", "D2H gradient slice per step",
                o->d2h_bytes / 1e9, o->d2h_s);
        fprintf(fp, "  %-46s %9.2f GB, %.2f s\n", "H2D bf16 weight slice per step", o->h2d_bytes / 1e9,
                o->h2d_bytes / (c->pcie_gbs * 1e9));
        fprintf(fp, "  %-46s %9.2f s; pipelined with the D2H + H2D: %.2f s exposed per step\n", "host AdamW",
                o->host_adam_s, o->tail_s);
        fprintf(fp, "  %-46s %9.2f GB per step (%.2f s), margin %.2f / %.2f GB\n",
                "no GPU bf16 slice instead: H2D per gather", o->streamed_h2d_bytes / 1e9,
                o->streamed_h2d_bytes / (c->pcie_gbs * 1e9), ms, mt);
    }
}
