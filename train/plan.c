#include "plan.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "flops.h"
#include "fsdp.h"

s1c_status s1c_plan_compute(const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_hw *hw,
                            const uint32_t *lengths, size_t n_samples, s1c_plan_result *r) {
    memset(r, 0, sizeof *r);
    const int W = hw->gpus;
    if (W < 1) return s1c_err("--plan: --gpus must be >= 1");
    if (!(hw->mfu > 0 && hw->mfu <= 1)) return s1c_err("--plan: MFU must be in (0, 1], got %g", hw->mfu);
    if (!(hw->gpu_tflops > 0 && hw->gpu_mem_gb > 0 && hw->link_gbps > 0))
        return s1c_err("--plan: --gpu-tflops, --gpu-mem-gb and --link-gbps must be positive");
    if (tc->global_batch_size % (W * tc->micro_batch_size) != 0)
        return s1c_err("--plan: train.global_batch_size %d is not divisible by %d GPUs x micro-batch %d",
                       tc->global_batch_size, W, tc->micro_batch_size);
    // ---- memory --------------------------------------------------------------------------------
    // The sharded state, working set and activation lines come from the code that lays out the
    // trainer's allocations (s1c_fsdp_mem_plan, s1c_qwen2_acts_bytes): the plan cannot drift.
    const int bf16 = strcmp(tc->precision, "bf16") == 0;
    const s1c_dtype dt = bf16 ? S1C_BF16 : S1C_F32;
    const double asz = (double)s1c_dtype_size(dt);
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(mc);
    if (!lay) return s1c_err_prefix("--plan: model layout");
    const double P = (double)lay->numel;
    s1c_qwen2_layout_free(lay);
    // the largest micro-batch: block-size sequences, or the longest sample when the data is at hand
    double longest = tc->block_size;
    if (lengths) {
        longest = 1;
        for (size_t i = 0; i < n_samples; i++)
            if (lengths[i] > longest) longest = lengths[i];
        if (longest > tc->block_size) longest = tc->block_size;
    }
    const double T = (double)tc->micro_batch_size * longest;
    if (T > INT_MAX) return s1c_err("--plan: a micro-batch of %.0f tokens exceeds %d", T, INT_MAX);
    s1c_fsdp_mem m;
    S1C_TRY(s1c_fsdp_mem_plan(mc, W, dt, (int)T, tc->recompute, &m));
    r->master = (double)m.master;
    r->act_copy = (double)m.act_copy;
    r->grads = (double)m.grad;
    r->adam = (double)m.adam;
    r->gathered = (double)m.gathered;
    r->grad_buffers = (double)m.grad_buffers;
    r->scalars = (double)m.scalars;
    r->micro_tokens = T;
    r->acts_recompute = (double)s1c_qwen2_acts_bytes(mc, dt, (int)T, 1, S1C_QWEN2_MLP_CHUNK);
    r->acts_full = (double)s1c_qwen2_acts_bytes(mc, dt, (int)T, 0, S1C_QWEN2_MLP_CHUNK);
    r->logits = 2.0 * 1024 * mc->vocab_size * 4;
    r->reserve = hw->reserve_gb * 1e9;
    const double acts = tc->recompute ? r->acts_recompute : r->acts_full;
    const double rest = r->master + r->act_copy + r->grads + r->adam + r->gathered + r->grad_buffers + r->scalars +
                        r->logits + r->reserve;
    r->total = rest + acts;
    r->fits = r->total <= hw->gpu_mem_gb * 1e9;
    // the largest micro-batch whose activations still fit (they grow with tokens, the MLP chunk
    // buffers only up to the chunk): bisection over the same sizing function
    const double room = hw->gpu_mem_gb * 1e9 - rest;
    long lo = 0, hi = INT_MAX;
    while (lo < hi) {
        const long mid = lo + (hi - lo + 1) / 2;
        const size_t b = s1c_qwen2_acts_bytes(mc, dt, (int)mid, tc->recompute, S1C_QWEN2_MLP_CHUNK);
        if (b != SIZE_MAX && (double)b <= room) lo = mid;
        else hi = mid - 1;
    }
    r->max_fit_tokens = (double)lo;
    // ---- time ----------------------------------------------------------------------------------
    double tokens = 0, attn = 0;
    size_t n = n_samples;
    if (lengths) {
        for (size_t i = 0; i < n; i++) {
            double len = lengths[i] > (uint32_t)tc->block_size ? (double)tc->block_size : (double)lengths[i];
            tokens += len;
            attn += len * (len + 1);
        }
    } else {
        n = (size_t)tc->plan_samples;
        double avg = tc->plan_avg_tokens > tc->block_size ? tc->block_size : tc->plan_avg_tokens;
        tokens = avg * (double)n;
        attn = (double)n * avg * (avg + 1);
    }
    if (n == 0 || tokens <= 0)
        return s1c_err("--plan: no dataset statistics: data.path does not exist and plan.samples / plan.avg_tokens "
                       "are not set");
    const long spe = (long)((n + (size_t)tc->global_batch_size - 1) / (size_t)tc->global_batch_size);
    r->steps = spe * tc->epochs;
    const double frac = (double)tc->global_batch_size / (double)n;  // share of an epoch per full step
    r->step_tokens = tokens * frac;
    r->step_flops = s1c_train_flops(mc, r->step_tokens, attn * frac);
    r->compute_s = r->step_flops / (W * hw->gpu_tflops * 1e12 * hw->mfu);
    // per micro-batch: gather in forward and in backward (act dtype), reduce-scatter of fp32
    // gradients; a ring moves (W-1)/W of the buffer through each rank's link
    const double micro = (double)tc->global_batch_size / (W * tc->micro_batch_size);
    r->comm_bytes = W > 1 ? micro * P * (2 * asz + 4) * (W - 1) / W : 0;
    r->comm_s = r->comm_bytes / (hw->link_gbps * 1e9 / 8);
    r->step_s = r->compute_s > r->comm_s ? r->compute_s : r->comm_s;  // prefetch overlaps the two
    r->run_s = r->step_s * (double)r->steps;
    return S1C_OK;
}

static void gb(FILE *fp, const char *what, double bytes) { fprintf(fp, "  %-44s %9.2f GB\n", what, bytes / 1e9); }

void s1c_plan_print(FILE *fp, const s1c_train_config *tc, const s1c_qwen2_config *mc, const s1c_plan_hw *hw,
                    const s1c_plan_result *r, const char *data_source) {
    double P = s1c_matmul_params(mc);
    fprintf(fp, "plan: %d GPUs x %.0f TFLOP/s, %.0f GB, link %.0f Gbit/s, MFU %.0f%%\n", hw->gpus, hw->gpu_tflops,
            hw->gpu_mem_gb, hw->link_gbps, hw->mfu * 100);
    fprintf(fp, "model: %d layers, hidden %d, %d heads (%d KV), vocab %d, tied %s; %.2fB matmul params\n",
            mc->num_hidden_layers, mc->hidden_size, mc->num_attention_heads, mc->num_key_value_heads, mc->vocab_size,
            mc->tie_word_embeddings ? "yes" : "no", P / 1e9);
    fprintf(fp, "memory per rank (%s, largest micro-batch %.0f tokens: %d x min(block %d, longest sample)):\n",
            tc->precision, r->micro_tokens, tc->micro_batch_size, tc->block_size);
    gb(fp, "fp32 master weights (slice)", r->master);
    if (r->act_copy > 0) gb(fp, "bf16 weight copy (slice, gathered from)", r->act_copy);
    gb(fp, "fp32 gradients (slice)", r->grads);
    gb(fp, "AdamW m + v (slice)", r->adam);
    gb(fp, "gathered units (1 large + 2 block slots)", r->gathered);
    gb(fp, "full-unit gradient buffers (fp32)", r->grad_buffers);
    gb(fp, "activations with recompute", r->acts_recompute);
    gb(fp, "activations without recompute", r->acts_full);
    gb(fp, "LM-head logits chunk (+ grad)", r->logits);
    gb(fp, "runtime reserve", r->reserve);
    fprintf(fp, "  %-44s %9.2f GB of %.0f GB: %s\n", tc->recompute ? "total (recompute on)" : "total (recompute off)",
            r->total / 1e9, hw->gpu_mem_gb, r->fits ? "FITS" : "DOES NOT FIT");
    fprintf(fp, "  longest micro-batch that fits: %.0f tokens (activations grow linearly with tokens beyond the MLP chunk buffers)\n",
            r->max_fit_tokens);
    fprintf(fp, "time (%s):\n", data_source);
    fprintf(fp, "  steps %ld (%d epochs), %.0f tokens/step, %.3g FLOP/step\n", r->steps, tc->epochs, r->step_tokens,
            r->step_flops);
    fprintf(fp, "  compute %.2f s/step at %.0f%% MFU; collectives %.1f GB/rank/step = %.2f s/step\n", r->compute_s,
            hw->mfu * 100, r->comm_bytes / 1e9, r->comm_s);
    fprintf(fp, "  predicted %.2f s/step (%s-bound, prefetch overlaps the two), run %.1f min (%.2f h)\n", r->step_s,
            r->compute_s >= r->comm_s ? "compute" : "communication", r->run_s / 60, r->run_s / 3600);
}
