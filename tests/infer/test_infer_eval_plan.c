// test_infer_eval_plan — s1c-infer plan (infer/eval_plan.h) against a hand count for Qwen2.5-32B at
// TP 4 on 8 H100, and its refusals (TP not dividing the heads, KV heads neither split nor
// replicated evenly, a missing config).
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "eval_plan.h"

int main(void) {
    s1c_qwen2_config mc;
    CHECK(s1c_qwen2_config_load(S1C_SOURCE_DIR "/configs/models/qwen2.5-32b-instruct/config.json", &mc) == S1C_OK,
          "%s", s1c_err_msg());
    s1c_eval_plan_in in = {.gpus = 8, .tp = 4, .gpu_mem_gb = 80, .reserve_gb = 4, .hbm_tbs = 3.35,
                           .nvlink_gbs = 405, .allreduce_us = 10, .prompt_tokens = 256, .thinking = 4096,
                           .answer_tokens = 256, .samples = 1, .problems = 30};
    s1c_eval_plan_out o;
    CHECK(s1c_eval_plan(&mc, &in, &o) == S1C_OK, "%s", s1c_err_msg());
    // by hand: 32,763,876,352 parameters; everything but the 64 x 2 + 1 norm vectors (5120 each)
    // splits 4 ways (8 KV heads: 2 per rank, V = 152064 = 4 x 38016), bf16
    const double P = 32763876352.0, norms = 129.0 * 5120;
    const double w = 2 * ((P - norms) / 4 + norms);
    CHECK(fabs(o.weights_gpu - w) < 1, "weights per GPU %.0f vs %.0f", o.weights_gpu, w);
    CHECK(o.kv_heads_rank == 2 && o.kv_token_gpu == 2.0 * 64 * 2 * 128 * 2, "KV bytes per token %.0f",
          o.kv_token_gpu);
    const double kvt = floor((76e9 - w) / 65536);
    CHECK(o.kv_tokens_gpu == kvt, "KV tokens %.0f vs %.0f", o.kv_tokens_gpu, kvt);
    // 2 groups of 4 GPUs, 15 of the 30 problems each; all fit (4608-token sequences)
    CHECK(o.groups == 2 && o.seq_tokens == 4608 && o.batch == 15, "groups %d, batch %d", o.groups, o.batch);
    const double step = (w + 15 * (256 + 4352 / 2.0) * 65536) / 3.35e12 +
                        128 * (10e-6 + 1.5 * 15 * 5120 * 2 / 405e9);
    CHECK(fabs(o.step_s - step) < 1e-12, "step %.9f vs %.9f s", o.step_s, step);
    CHECK(fabs(o.tokens_s - 30 / step) < 1e-6, "tokens/s %.3f", o.tokens_s);
    // TP 8 with 8 KV heads: one each; TP 1: whole model, no all-reduce
    in.tp = 8;
    CHECK(s1c_eval_plan(&mc, &in, &o) == S1C_OK && o.kv_heads_rank == 1 && o.groups == 1, "tp 8");
    in.tp = 1;
    CHECK(s1c_eval_plan(&mc, &in, &o) == S1C_OK && fabs(o.weights_gpu - 2 * P) < 1 &&
              fabs(o.step_s - (2 * P + o.batch * (256 + 2176.0) * 262144) / 3.35e12) < 1e-12,
          "tp 1");
    // refusals
    in.tp = 3;
    in.gpus = 6;
    CHECK(s1c_eval_plan(&mc, &in, &o) != S1C_OK && strstr(s1c_err_msg(), "40 attention heads"), "tp 3: %s",
          s1c_err_msg());
    in.tp = 4;
    in.gpus = 8;
    mc.num_attention_heads = 24;
    mc.num_key_value_heads = 6;
    CHECK(s1c_eval_plan(&mc, &in, &o) != S1C_OK && strstr(s1c_err_msg(), "6 KV heads"), "6 KV heads over 4: %s",
          s1c_err_msg());
    in.tp = 2;
    in.gpus = 3;
    CHECK(s1c_eval_plan(&mc, &in, &o) != S1C_OK && strstr(s1c_err_msg(), "divide --gpus"), "tp 2 on 3 GPUs");
    char *argv[] = {"plan", "--model-config", "/nonexistent/config.json", NULL};
    CHECK(s1c_eval_plan_main(3, argv) == 2, "missing config accepted");
    char *argv2[] = {"plan", NULL};
    CHECK(s1c_eval_plan_main(1, argv2) == 2, "no --model-config accepted");
    return check_exit("test_infer_eval_plan");
}
