// bench_train_step — times full training steps (forward + backward + AdamW) of a Qwen2 shape on
// one process (one CPU or one GPU) and reports the model FLOP rate two ways: against the bare
// GEMM rate of the same hardware measured in the same run (OpenBLAS sgemm 2048^3 on the CPU,
// cuBLASLt's best bf16 plan at 8192^3 on the GPU), and as MFU against a stated peak.
// A benchmark (prints figures), not a test.
//
//   bench_train_step [--shape 55m|0.5b|1.5b] [--tokens N[,N...]] [--seqlen N] [--seqs N]
//                    [--steps N] [--warmup N] [--recompute] [--device cpu|cuda] [--peak-tflops X]
//
// Shapes: 55m (the CPU shape: hidden 512, 8 layers, 8 / 2 heads, intermediate 1408, vocab
// 32000, untied), 0.5b and 1.5b (Qwen2.5-0.5B / -1.5B configs, tied). --tokens is the packed batch
// size (a list runs each in turn on the same weights), split into sequences of --seqlen tokens
// (default 4096, or the whole batch when smaller), or into --seqs sequences. Without --tokens:
// --seqs x --seqlen (default 4 x 512, the figures docs/benchmarks.md quotes).
//
// Model FLOPs per step, the MFU convention (recompute not counted): train/flops.h's
// s1c_train_flops, 6 · matmul params · tokens + the causal attention term. The CPU lines that
// docs quote also give 6 · all params · tokens. MFU = model FLOPs / step time / --peak-tflops
// (default 989.4: H100 SXM dense bf16); printed on the CPU only when --peak-tflops is given.
// --device cuda without a GPU prints a SKIP line and exits 77.
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_gemm_peak.h"
#include "flops.h"
#include "qwen2.h"
#include "s1c_rng.h"

#define DEFAULT_PEAK_TFLOPS 989.4
enum { MAX_RUNS = 8 };

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// One splitmix64 stream from this seed for weights and tokens: the 55M default run draws the
// same values it always did, so its loss line stays comparable across versions.
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) { return s1c_splitmix64(&rng_state); }
static float rng_uniform(void) { return (float)((rng_next() >> 40) * (1.0 / 16777216.0)); }

static int shape_config(const char *name, s1c_qwen2_config *c, const char **desc) {
    if (!strcmp(name, "55m")) {
        *c = (s1c_qwen2_config){.hidden_size = 512, .intermediate_size = 1408, .num_hidden_layers = 8,
                                .num_attention_heads = 8, .num_key_value_heads = 2, .head_dim = 64,
                                .vocab_size = 32000, .max_position_embeddings = 4096, .rope_theta = 1e6f,
                                .tie_word_embeddings = 0};
        *desc = "hidden 512, 8 layers, 8 heads / 2 KV, intermediate 1408, vocab 32000, untied";
    } else if (!strcmp(name, "0.5b")) {
        *c = (s1c_qwen2_config){.hidden_size = 896, .intermediate_size = 4864, .num_hidden_layers = 24,
                                .num_attention_heads = 14, .num_key_value_heads = 2, .head_dim = 64,
                                .vocab_size = 151936, .max_position_embeddings = 32768, .rope_theta = 1e6f,
                                .tie_word_embeddings = 1};
        *desc = "Qwen2.5-0.5B: hidden 896, 24 layers, 14 heads / 2 KV, head 64, intermediate 4864, vocab 151936, tied";
    } else if (!strcmp(name, "1.5b")) {
        *c = (s1c_qwen2_config){.hidden_size = 1536, .intermediate_size = 8960, .num_hidden_layers = 28,
                                .num_attention_heads = 12, .num_key_value_heads = 2, .head_dim = 128,
                                .vocab_size = 151936, .max_position_embeddings = 32768, .rope_theta = 1e6f,
                                .tie_word_embeddings = 1};
        *desc = "Qwen2.5-1.5B: hidden 1536, 28 layers, 12 heads / 2 KV, head 128, intermediate 8960, vocab 151936, tied";
    } else {
        return 0;
    }
    c->rms_norm_eps = 1e-6f;
    c->bos_token_id = c->eos_token_id = -1;
    snprintf(c->torch_dtype, sizeof c->torch_dtype, "%s", "float32");
    return 1;
}

// The reference rate in GFLOP/s: sgemm 2048^3 on the CPU, cuBLASLt best bf16 8192^3 on the GPU.
static double ref_gflops(int cuda) {
    if (!cuda) return s1c_bench_sgemm_gflops(2048, 3);
#ifdef S1C_HAVE_CUDA
    int n_algos = 0;
    double tf = s1c_bench_cublaslt_best_tflops(8192, 8192, 8192, 10, &n_algos);
    return tf > 0 ? tf * 1e3 : -1;
#else
    return -1;
#endif
}

typedef struct {
    int tokens, n_seq, seq_len, ok;
    double step, fb, opt, loss;
} run_result;

static void die(const char *what) {
    fprintf(stderr, "bench_train_step: %s: %s\n", what, s1c_err_msg());
    exit(1);
}

// Warm-up + timed steps on one packed batch of n_seq x seq_len tokens; 0 when a buffer could not
// be allocated (the message is printed; other token counts of the list still run).
static int run_steps(s1c_qwen2_model *m, float **master, float **adam_m, float **adam_v, int n_seq, int seq_len,
                     int recompute, int warmup, int steps, run_result *r) {
    s1c_backend *be = m->be;
    const int U = m->layout->n_units;
    const size_t asz = s1c_dtype_size(be->act_dtype);
    // Random tokens; the loss covers the second half of each sequence (an SFT-like mask).
    int32_t **ids = calloc((size_t)n_seq, sizeof(int32_t *));
    uint8_t **mask = calloc((size_t)n_seq, sizeof(uint8_t *));
    int *lens = calloc((size_t)n_seq, sizeof(int));
    if (!ids || !mask || !lens) die("host token buffers");
    for (int s = 0; s < n_seq; s++) {
        ids[s] = malloc(sizeof(int32_t) * (size_t)seq_len);
        mask[s] = malloc((size_t)seq_len);
        if (!ids[s] || !mask[s]) die("host token buffers");
        lens[s] = seq_len;
        for (int t = 0; t < seq_len; t++) {
            ids[s][t] = (int32_t)(rng_next() % (uint64_t)m->cfg.vocab_size);
            mask[s][t] = t >= seq_len / 2;
        }
    }
    s1c_batch b;
    s1c_qwen2_acts *a = NULL;
    int ok = s1c_batch_create(be, &b, n_seq, (const int32_t *const *)ids, (const uint8_t *const *)mask, lens,
                              S1C_LOSS_SEQ_MEAN, 1.0) == S1C_OK;
    if (ok) a = s1c_qwen2_acts_create(be, &m->cfg, b.T, recompute);
    if (!a) {
        printf("  %d x %d tokens: not run: %s\n", n_seq, seq_len, s1c_err_msg());
        if (ok) s1c_batch_free(be, &b);
        ok = 0;
    }
    double t_fb = 0, t_opt = 0, t_total = 0;
    float loss = 0;
    for (int step = 1; ok && step <= warmup + steps; step++) {
        double t0 = now_s();
        s1c_qwen2_model_zero_grads(m);
        loss = s1c_qwen2_forward_backward(m, a, &b, 1);  // syncs (loss to host)
        double t1 = now_s();
        for (int u = 0; u < U; u++) {
            const s1c_unit_desc *ud = &m->layout->units[u];
            void *pact = be->act_dtype == S1C_F32 ? NULL : m->params[u];
            // AdamW per tensor: weight decay on matrices only, as Hugging Face does.
            for (int p = 0; p < ud->n_params; p++) {
                const s1c_param_desc *pd = &ud->params[p];
                be->adamw(be, master[u] + pd->offset, pact ? (char *)pact + pd->offset * asz : NULL,
                          m->grads[u] + pd->offset, adam_m[u] + pd->offset, adam_v[u] + pd->offset, pd->numel, 1e-4f,
                          0.9f, 0.95f, 1e-8f, pd->decay ? 0.1f : 0.0f, 1.0f, step);
            }
        }
        be->synchronize(be);
        double t2 = now_s();
        if (step > warmup) {
            t_fb += t1 - t0;
            t_opt += t2 - t1;
            t_total += t2 - t0;
        }
        printf("  step %d%s: %.3f s (fwd+bwd %.3f, adamw %.3f), loss %.4f\n", step, step <= warmup ? " (warm-up)" : "",
               t2 - t0, t1 - t0, t2 - t1, loss);
        fflush(stdout);
    }
    if (ok) {
        s1c_qwen2_acts_free(be, a);
        s1c_batch_free(be, &b);
    }
    for (int s = 0; s < n_seq; s++) {
        free(ids[s]);
        free(mask[s]);
    }
    free(ids);
    free(mask);
    free(lens);
    *r = (run_result){.tokens = n_seq * seq_len, .n_seq = n_seq, .seq_len = seq_len, .ok = ok,
                      .step = t_total / steps, .fb = t_fb / steps, .opt = t_opt / steps, .loss = loss};
    return ok;
}

typedef struct {
    const s1c_qwen2_config *cfg;
    const s1c_qwen2_layout *layout;
    const char *shape, *device;
    int cuda, recompute, steps, multi, peak_given;
    double peak_tflops, ref;  // ref: the reference GEMM rate, GFLOP/s
} report;

// The figures of one token count, and one grep-able "summary:" line (scripts/gpu_check.sh builds
// its table from those).
static void print_report(const report *p, const run_result *r) {
    const char *ref_name = p->cuda ? "cuBLASLt best bf16 8192^3" : "OpenBLAS sgemm 2048^3";
    const char *unit = p->cuda ? "TFLOP/s" : "GFLOP/s";
    const double scale = p->cuda ? 1e3 : 1.0;  // GFLOP/s per printed unit
    const char *when = p->cuda ? "before the steps" : "best of before/after the steps";
    if (!r->ok) {
        printf("summary: shape %s device %s tokens %d (%d x %d) recompute %d: NOT RUN\n", p->shape, p->device,
               r->tokens, r->n_seq, r->seq_len, p->recompute);
        fflush(stdout);
        return;
    }
    const double tokens = r->tokens, per_step = r->step, params = (double)p->layout->numel;
    const double mm_params = s1c_matmul_params(p->cfg);
    // Σ n(n+1) over the packed sequences: the causal attention term of train/flops.h.
    const double flops = s1c_train_flops(p->cfg, tokens, (double)r->n_seq * r->seq_len * (r->seq_len + 1.0));
    const double gf = flops / per_step / 1e9;
    if (p->multi) printf("tokens %d (%d x %d), mean of %d steps:\n", r->tokens, r->n_seq, r->seq_len, p->steps);
    printf("step time %.3f s (fwd+bwd %.3f, adamw %.3f), mean of %d steps\n", per_step, r->fb, r->opt, p->steps);
    printf("tokens/s %.0f\n", tokens / per_step);
    if (!p->cuda) {  // the lines docs/benchmarks.md quotes for the CPU
        const double gflops = 6.0 * params * tokens / per_step / 1e9;
        printf("model GFLOP/s %.1f (6 * %.1fM params * %.0f tokens / step time)\n", gflops, params / 1e6, tokens);
        if (!p->cfg->tie_word_embeddings) {
            // The embedding lookup does no multiply-adds; this figure counts only the GEMM parameters.
            const double gemm_params = params - (double)p->layout->units[0].numel;
            printf("  (counting non-embedding params only: %.1f GFLOP/s)\n", 6.0 * gemm_params * tokens / per_step / 1e9);
        }
        printf("OpenBLAS sgemm 2048^3 GFLOP/s %.1f (best of before/after the steps)\n", p->ref);
        printf("model / sgemm %.1f%% (target >= 60%%)\n", 100.0 * gflops / p->ref);
    }
    printf("model FLOPs %.4g per step (train/flops.h: 6 * %.1fM matmul params * %.0f tokens + causal attention "
           "%.1f%%)\n",
           flops, mm_params / 1e6, tokens, 100.0 * (flops - 6.0 * mm_params * tokens) / flops);
    printf("model %s %.2f (train/flops.h) = %.1f%% of %s (%.2f %s, %s)\n", unit, gf / scale, 100.0 * gf / p->ref,
           ref_name, p->ref / scale, unit, when);
    if (p->cuda || p->peak_given)
        printf("MFU %.1f%% of peak %.1f TFLOP/s (--peak-tflops; default %.1f = H100 SXM dense bf16)\n",
               100.0 * gf / 1e3 / p->peak_tflops, p->peak_tflops, DEFAULT_PEAK_TFLOPS);
    printf("summary: shape %s device %s tokens %d (%d x %d) recompute %d: step %.4f s, %.0f tokens/s, %.2f %s, ",
           p->shape, p->device, r->tokens, r->n_seq, r->seq_len, p->recompute, per_step, tokens / per_step, gf / scale,
           unit);
    if (p->cuda || p->peak_given) printf("MFU %.1f%% of %.1f, ", 100.0 * gf / 1e3 / p->peak_tflops, p->peak_tflops);
    printf("%.1f%% of GEMM %.2f %s\n", 100.0 * gf / p->ref, p->ref / scale, unit);
    fflush(stdout);
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--shape 55m|0.5b|1.5b] [--tokens N[,N...]] [--seqlen N] [--seqs N] [--steps N] [--warmup N]\n"
            "          [--recompute] [--device cpu|cuda] [--peak-tflops X]\n",
            argv0);
}

int main(int argc, char **argv) {
    int steps = 5, warmup = 1, recompute = 0, n_seq_opt = 0, seq_len_opt = 0, peak_given = 0;
    double peak_tflops = DEFAULT_PEAK_TFLOPS;
    const char *device = "cpu", *shape = "55m", *tokens_opt = NULL;
    static const struct option opts[] = {
        {"steps", required_argument, 0, 's'},  {"warmup", required_argument, 0, 'w'},
        {"recompute", no_argument, 0, 'r'},     {"seqs", required_argument, 0, 'n'},
        {"seqlen", required_argument, 0, 'l'},  {"device", required_argument, 0, 'd'},
        {"shape", required_argument, 0, 'S'},   {"tokens", required_argument, 0, 't'},
        {"peak-tflops", required_argument, 0, 'P'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 's': steps = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'r': recompute = 1; break;
        case 'n': n_seq_opt = atoi(optarg); break;
        case 'l': seq_len_opt = atoi(optarg); break;
        case 'd': device = optarg; break;
        case 'S': shape = optarg; break;
        case 't': tokens_opt = optarg; break;
        case 'P': peak_tflops = atof(optarg), peak_given = 1; break;
        default: usage(argv[0]); return 2;
        }
    }
    s1c_qwen2_model m;
    memset(&m, 0, sizeof(m));
    const char *shape_desc = NULL;
    if (!shape_config(shape, &m.cfg, &shape_desc)) {
        fprintf(stderr, "bench_train_step: --shape %s: expected 55m, 0.5b or 1.5b\n", shape);
        return 2;
    }
    if (steps < 1 || warmup < 0 || n_seq_opt < 0 || seq_len_opt < 0 || !(peak_tflops > 0) ||
        (strcmp(device, "cpu") && strcmp(device, "cuda"))) {
        fprintf(stderr, "bench_train_step: steps >= 1, warmup >= 0, seqs / seqlen >= 1, peak-tflops > 0, "
                        "device cpu or cuda\n");
        return 2;
    }
    // The runs: (sequences, length) per token count.
    int run_seqs[MAX_RUNS], run_len[MAX_RUNS], n_runs = 0;
    if (!tokens_opt) {
        run_seqs[0] = n_seq_opt ? n_seq_opt : 4;
        run_len[0] = seq_len_opt ? seq_len_opt : 512;
        n_runs = 1;
    } else {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", tokens_opt);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            char *end;
            long n = strtol(t, &end, 10);
            int len = seq_len_opt ? seq_len_opt : n_seq_opt ? (int)(n / n_seq_opt) : (int)(n < 4096 ? n : 4096);
            if (*end || n < 2 || n > (1L << 24) || n_runs == MAX_RUNS || len < 2 || n % len) {
                fprintf(stderr,
                        "bench_train_step: --tokens %s: each count in 2..16M (at most %d counts) and a multiple "
                        "of the sequence length (%d)\n",
                        tokens_opt, MAX_RUNS, len);
                return 2;
            }
            run_seqs[n_runs] = (int)(n / len);
            run_len[n_runs++] = len;
        }
    }
    int max_len = 0;
    for (int i = 0; i < n_runs; i++) {
        if (run_seqs[i] < 1 || run_len[i] < 2) {
            fprintf(stderr, "bench_train_step: seqs >= 1, seqlen >= 2\n");
            return 2;
        }
        if (run_len[i] > max_len) max_len = run_len[i];
    }
    if (!strcmp(shape, "55m") && max_len > m.cfg.max_position_embeddings) m.cfg.max_position_embeddings = max_len;
    if (max_len > m.cfg.max_position_embeddings) {
        fprintf(stderr, "bench_train_step: sequences of %d tokens exceed the %s shape's %d positions\n", max_len,
                shape, m.cfg.max_position_embeddings);
        return 2;
    }

    const int cuda = !strcmp(device, "cuda");
    s1c_backend *be = s1c_backend_create(device, 0);
    if (!be) {
        if (cuda) {
            printf("SKIP: bench_train_step --device cuda: no CUDA device (%s); nothing measured\n", s1c_err_msg());
            return 77;
        }
        die("backend");
    }
    m.be = be;
    m.layout = s1c_qwen2_layout_create(&m.cfg);
    if (!m.layout) die("layout");
    const int U = m.layout->n_units;
    const size_t asz = s1c_dtype_size(be->act_dtype);
    float **master = calloc((size_t)U, sizeof(float *)), **adam_m = calloc((size_t)U, sizeof(float *));
    float **adam_v = calloc((size_t)U, sizeof(float *));
    m.params = calloc((size_t)U, sizeof(void *));
    if (!master || !adam_m || !adam_v || !m.params) die("host unit tables");
    for (int u = 0; u < U; u++) {
        const s1c_unit_desc *ud = &m.layout->units[u];
        float *h = malloc(ud->numel * sizeof(float));
        if (!h) die("host weights");
        for (int p = 0; p < ud->n_params; p++) {
            const s1c_param_desc *pd = &ud->params[p];
            int is_norm = pd->ndim == 1 && strstr(pd->name, "norm") != NULL;
            for (size_t i = 0; i < pd->numel; i++)
                h[pd->offset + i] = is_norm ? 1.0f : 0.04f * (rng_uniform() - 0.5f);
        }
        master[u] = be->alloc(be, ud->numel * sizeof(float));
        adam_m[u] = be->alloc(be, ud->numel * sizeof(float));
        adam_v[u] = be->alloc(be, ud->numel * sizeof(float));
        // On an fp32-activation backend the master weights ARE the parameters the model reads.
        m.params[u] = be->act_dtype == S1C_F32 ? (void *)master[u] : be->alloc(be, ud->numel * asz);
        if (!master[u] || !adam_m[u] || !adam_v[u] || !m.params[u]) die("weights and optimizer state");
        be->copy_h2d(be, master[u], h, ud->numel * sizeof(float));
        if (be->act_dtype != S1C_F32) be->f32_to_act(be, m.params[u], master[u], ud->numel);
        be->memset_zero(be, adam_m[u], ud->numel * sizeof(float));
        be->memset_zero(be, adam_v[u], ud->numel * sizeof(float));
        be->synchronize(be);  // h is reused by the next unit's allocation
        free(h);
    }
    if (s1c_qwen2_model_alloc_grads(&m) != S1C_OK) die("gradients");

    const size_t params = m.layout->numel;
    if (n_runs == 1)
        printf("bench_train_step: Qwen2 %.1fM params (%s), %d x %d tokens, backend %s, recompute %d\n",
               (double)params / 1e6, shape_desc, run_seqs[0], run_len[0], be->name, recompute);
    else
        printf("bench_train_step: Qwen2 %.1fM params (%s), %d token count(s) from %s, backend %s, recompute %d\n",
               (double)params / 1e6, shape_desc, n_runs, tokens_opt, be->name, recompute);
    fflush(stdout);
    const double ref_before = ref_gflops(cuda);

    // On the GPU each token count is reported as soon as it is measured, against the reference
    // taken before the steps: an op that runs out of device memory ends the process (ops cannot
    // return errors), and the counts already measured must not be lost with it. On the CPU the
    // report waits for the second reference measurement (best of before/after, as docs quote it).
    report rep = {.cfg = &m.cfg, .layout = m.layout, .shape = shape, .device = device, .cuda = cuda,
                  .recompute = recompute, .steps = steps, .multi = n_runs > 1, .peak_given = peak_given,
                  .peak_tflops = peak_tflops, .ref = ref_before};
    run_result res[MAX_RUNS];
    int failed = 0;
    for (int i = 0; i < n_runs; i++) {
        if (n_runs > 1) printf("tokens %d (%d x %d):\n", run_seqs[i] * run_len[i], run_seqs[i], run_len[i]);
        if (!run_steps(&m, master, adam_m, adam_v, run_seqs[i], run_len[i], recompute, warmup, steps, &res[i]))
            failed = 1;
        else if (!isfinite(res[i].loss)) {
            fprintf(stderr, "bench_train_step: non-finite loss at %d tokens\n", res[i].tokens);
            failed = 1;
        }
        if (cuda) print_report(&rep, &res[i]);
    }
    // Measured after the steps and compared with the one before them: on a shared machine (or a
    // GPU whose clocks settle) the faster of the two is the better estimate of what it can do.
    const double ref_after = ref_gflops(cuda);
    if (!(fmax(ref_before, ref_after) > 0))
        fprintf(stderr, "bench_train_step: reference GEMM not measured: %s\n", s1c_err_msg());
    if (cuda) {
        printf("cuBLASLt best bf16 8192^3: %.2f TFLOP/s before the steps (used above), %.2f after\n",
               ref_before / 1e3, ref_after / 1e3);
    } else {
        rep.ref = fmax(ref_before, ref_after);
        for (int i = 0; i < n_runs; i++) print_report(&rep, &res[i]);
    }

    for (int u = 0; u < U; u++) {
        if (be->act_dtype != S1C_F32) be->free(be, m.params[u]);
        m.params[u] = NULL;
        be->free(be, master[u]);
        be->free(be, adam_m[u]);
        be->free(be, adam_v[u]);
    }
    free(master);
    free(adam_m);
    free(adam_v);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
    return failed;
}
