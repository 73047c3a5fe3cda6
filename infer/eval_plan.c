// eval_plan.c — `s1c-infer plan` (eval_plan.h).
#include "eval_plan.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

s1c_status s1c_eval_plan(const s1c_qwen2_config *mc, const s1c_eval_plan_in *in, s1c_eval_plan_out *o) {
    memset(o, 0, sizeof *o);
    const int T = in->tp, H = mc->num_attention_heads, KVH = mc->num_key_value_heads;
    if (T < 1 || in->gpus < 1 || in->gpus % T != 0)
        return s1c_err("--tp %d: must be >= 1 and divide --gpus %d", T, in->gpus);
    if (H % T != 0) return s1c_err("--tp %d: does not divide the model's %d attention heads", T, H);
    if (KVH % T != 0 && T % KVH != 0)
        return s1c_err("--tp %d: the model's %d KV heads neither split evenly over %d ranks nor replicate evenly",
                       T, KVH, T);
    if (!(in->gpu_mem_gb > 0 && in->hbm_tbs > 0 && in->nvlink_gbs > 0) || in->samples < 1 || in->problems < 1 ||
        in->thinking < 0 || in->prompt_tokens < 0 || in->answer_tokens < 0)
        return s1c_err("plan: memory, bandwidths, samples and problems must be > 0, token counts >= 0");
    const double C = mc->hidden_size, I = mc->intermediate_size, D = mc->head_dim, V = mc->vocab_size;
    const double L = mc->num_hidden_layers;
    o->kv_heads_rank = KVH >= T ? KVH / T : 1;  // vLLM: each rank keeps one (replicated) KV head
    // per rank: q and o_proj split by heads, k|v by its KV heads (with biases), MLP split by I,
    // embedding and LM head by vocabulary; the norms are replicated
    const double qkv = C * (H / T * D) + (H / T * D) + 2 * (C * o->kv_heads_rank * D + o->kv_heads_rank * D);
    const double block = qkv + (H / T * D) * C + 3 * C * (I / T) + 2 * C;
    const double vocab = (mc->tie_word_embeddings ? 1 : 2) * ceil(V / T) * C;
    o->weights_gpu = 2 * (L * block + vocab + C);
    o->kv_token_gpu = 2 * L * o->kv_heads_rank * D * 2;
    const double free_b = (in->gpu_mem_gb - in->reserve_gb) * 1e9 - o->weights_gpu;
    if (free_b <= 0)
        return s1c_err("plan: %.2f GB of weights per GPU leave no KV cache in %.0f GB (reserve %.0f GB)",
                       o->weights_gpu / 1e9, in->gpu_mem_gb, in->reserve_gb);
    o->kv_tokens_gpu = floor(free_b / o->kv_token_gpu);
    o->seq_tokens = in->prompt_tokens + in->thinking + in->answer_tokens;
    o->groups = in->gpus / T;
    const long seqs = (long)in->problems * in->samples, per_group = (seqs + o->groups - 1) / o->groups;
    const double fit = floor(o->kv_tokens_gpu / (o->seq_tokens > 0 ? o->seq_tokens : 1));
    if (fit < 1) return s1c_err("plan: one %d-token sequence needs more KV cache than a GPU has", o->seq_tokens);
    o->batch = (int)fmin(fit, (double)per_group);
    // one step: weights + the batch's live K/V (on average half of the generated part is there)
    const double live = in->prompt_tokens + (in->thinking + in->answer_tokens) / 2.0;
    const double bytes = o->weights_gpu + o->batch * live * o->kv_token_gpu;
    o->step_s = bytes / (in->hbm_tbs * 1e12);
    if (T > 1)  // two ring all-reduces per layer of batch x C bf16, 2 (T-1)/T of it through each rank
        o->step_s += 2 * L * (in->allreduce_us * 1e-6 + 2.0 * (T - 1) / T * o->batch * C * 2 / (in->nvlink_gbs * 1e9));
    o->tokens_s = o->groups * o->batch / o->step_s;
    o->wall_s = ceil((double)per_group / o->batch) * (in->thinking + in->answer_tokens) * o->step_s;
    return S1C_OK;
}

static void print_row(FILE *fp, const s1c_eval_plan_in *in, const s1c_eval_plan_out *o) {
    fprintf(fp, "%3d %8d %9.2f %10.0f %12.0f %7d %6d %9.2f %11.0f %9.1f\n", in->tp, in->thinking,
            o->weights_gpu / 1e9, o->kv_token_gpu, o->kv_tokens_gpu, o->groups, o->batch, o->step_s * 1e3,
            o->tokens_s, o->wall_s / 60);
}

int s1c_eval_plan_main(int argc, char **argv) {
    s1c_eval_plan_in in = {.gpus = 8, .tp = 1, .gpu_mem_gb = 80, .reserve_gb = 4, .hbm_tbs = 3.35,
                           .nvlink_gbs = 450 * 0.9, .allreduce_us = 10, .prompt_tokens = 256, .thinking = 8192,
                           .answer_tokens = 256, .samples = 1, .problems = 30};
    const char *cfg = NULL;
    int table = 0;
    static const struct option opts[] = {
        {"model-config", required_argument, 0, 'm'}, {"gpus", required_argument, 0, 'g'},
        {"tp", required_argument, 0, 't'}, {"gpu-mem-gb", required_argument, 0, 'M'},
        {"hbm-tbs", required_argument, 0, 'B'}, {"nvlink-gbs", required_argument, 0, 'N'},
        {"thinking", required_argument, 0, 'k'}, {"samples", required_argument, 0, 's'},
        {"problems", required_argument, 0, 'p'}, {"prompt-tokens", required_argument, 0, 'P'},
        {"answer-tokens", required_argument, 0, 'A'}, {"reserve-gb", required_argument, 0, 'R'},
        {"allreduce-us", required_argument, 0, 'u'}, {"table", no_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end = NULL;
        const int numeric = optarg && c != 'm';
        const double v = numeric ? strtod(optarg, &end) : 0;
        if (numeric && (end == optarg || *end)) {
            fprintf(stderr, "s1c-infer plan: %s: expected a number, got \"%s\"\n", argv[optind - 1], optarg);
            return 2;
        }
        switch (c) {
            case 'm': cfg = optarg; break;
            case 'g': in.gpus = (int)v; break;
            case 't': in.tp = (int)v; break;
            case 'M': in.gpu_mem_gb = v; break;
            case 'B': in.hbm_tbs = v; break;
            case 'N': in.nvlink_gbs = v; break;
            case 'k': in.thinking = (int)v; break;
            case 's': in.samples = (int)v; break;
            case 'p': in.problems = (int)v; break;
            case 'P': in.prompt_tokens = (int)v; break;
            case 'A': in.answer_tokens = (int)v; break;
            case 'R': in.reserve_gb = v; break;
            case 'u': in.allreduce_us = v; break;
            case 'T': table = 1; break;
            case 'h':
                printf("usage: s1c-infer plan --model-config config.json [--gpus 8] [--tp 1] [--gpu-mem-gb 80]\n"
                       "  [--hbm-tbs 3.35] [--nvlink-gbs 405] [--allreduce-us 10] [--thinking 8192] [--samples 1]\n"
                       "  [--problems 30] [--prompt-tokens 256] [--answer-tokens 256] [--reserve-gb 4]\n"
                       "  [--table: TP 1, 2, 4, 8 x thinking 512..8192]\n");
                return 0;
            default: return 2;
        }
    }
    if (!cfg) {
        fprintf(stderr, "s1c-infer plan: --model-config FILE (a Hugging Face config.json) is required\n");
        return 2;
    }
    s1c_qwen2_config mc;
    if (s1c_qwen2_config_load(cfg, &mc) != S1C_OK) {
        fprintf(stderr, "s1c-infer plan: %s\n", s1c_err_msg());
        return 2;
    }
    // every row first, so a refused shape prints only its error
    static const int TPS[] = {1, 2, 4, 8}, BUDGETS[] = {512, 1024, 2048, 4096, 8192};
    const int nt = table ? 4 : 1, nb = table ? 5 : 1;
    s1c_eval_plan_in xs[20];
    s1c_eval_plan_out os[20];
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < nb; j++) {
            s1c_eval_plan_in *x = &xs[i * nb + j];
            *x = in;
            if (table) {
                x->tp = TPS[i];
                x->thinking = BUDGETS[j];
            }
            if (s1c_eval_plan(&mc, x, &os[i * nb + j]) != S1C_OK) {
                fprintf(stderr, "s1c-infer plan: %s\n", s1c_err_msg());
                return 2;
            }
        }
    printf("model %s: %d layers, %d heads (%d KV) x %d, hidden %d; %d GPUs x %.0f GB, HBM %.2f TB/s, "
           "all-reduce %.0f GB/s + %.0f us; %d problems x %d samples, prompt %d + answer %d tokens\n",
           cfg, mc.num_hidden_layers, mc.num_attention_heads, mc.num_key_value_heads, mc.head_dim, mc.hidden_size,
           in.gpus, in.gpu_mem_gb, in.hbm_tbs, in.nvlink_gbs, in.allreduce_us, in.problems, in.samples,
           in.prompt_tokens, in.answer_tokens);
    printf(" tp thinking weights/GPU KV B/token KV tokens/GPU  groups  batch  step ms  tokens/s  wall min\n");
    for (int k = 0; k < nt * nb; k++) print_row(stdout, &xs[k], &os[k]);
    return 0;
}
