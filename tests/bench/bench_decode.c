// bench_decode — inference throughput of the KV-cache decode path on random weights: prefill
// tokens/s (one prompt in one forward) and greedy decode tokens/s at each batch size of
// --batches, for the 55M shape (hidden 512, 8 layers, 8 heads / 2 KV heads, intermediate 1408,
// vocab 32000) or Qwen2.5-0.5B's shape (hidden 896, 24 layers, 14 / 2 heads, intermediate 4864,
// vocab 151936, tied). Decode steps include the LM head and the greedy choice on the backend with
// only the chosen ids reaching the host (s1c_qwen2_decode_argmax), as s1c-infer's engine does for
// greedy sampling (model/qwen2_decode.h).
// --device cuda: weights (bf16), KV cache, workspace and activations in device memory; without a
// GPU it prints a SKIP line and exits 77. With --peer (CPU only) it then runs
// tests/bench/bench_decode_peer.py (plain PyTorch + transformers, KV cache, same shape and
// lengths) so both figures come from the same run.
// --weights-dtype bf16|fp32 (CPU; default bf16, as checkpoints are stored): bf16 keeps the matrix
// weights in bf16 (s1c_qwen2_model_load_weights' layout; activations fp32). Before decoding, the
// machine's read bandwidth is measured in the same run (a STREAM-like sum over a buffer far larger
// than the caches, all threads); each decode line then gives the weight bytes a step reads over
// the step time next to it. The CUDA backend's weights are bf16 either way.
//
//   bench_decode [--shape 55m|0.5b] [--device cpu|cuda] [--weights-dtype bf16|fp32] [--prompt 128]
//                [--gen 32] [--prefill 512] [--batches 1,32] [--bw-mib 512] [--model DIR] [--peer]
//                [--matmul-precision bf16|exact]
// --matmul-precision: as s1c-infer's (ops.h wbf16_exact): bf16 (default) lets steps of more than
// 8 rows round the activations to bf16 where the CPU has AVX512-BF16; the header names the path.
// --model DIR: a checkpoint instead of random weights of --shape (tests/bench/bench_llamacpp.sh
// runs both sides on one random checkpoint); the summary lines then name DIR as the shape.
#include <omp.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_bw.h"
#include "cpu_internal.h"
#include "qwen2.h"
#include "qwen2_decode.h"
#include "s1c_bf16.h"
#include "s1c_rng.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnext(void) { return s1c_splitmix64(&rs); }
static float runif(void) { return (float)((rnext() >> 40) * (1.0 / 16777216.0)); }

int main(int argc, char **argv) {
    const char *shape = "55m", *device = "cpu", *wdt = "bf16", *model_dir = NULL, *precision = "bf16";
    int prompt = 128, gen = 32, prefill = 512, peer = 0, bw_mib = 512;
    char batches_s[64] = "1,32";
    static const struct option opts[] = {{"shape", required_argument, 0, 's'}, {"prompt", required_argument, 0, 'p'},
                                         {"gen", required_argument, 0, 'g'},   {"prefill", required_argument, 0, 'f'},
                                         {"batches", required_argument, 0, 'b'}, {"peer", no_argument, 0, 'P'},
                                         {"device", required_argument, 0, 'd'},
                                         {"weights-dtype", required_argument, 0, 'w'},
                                         {"bw-mib", required_argument, 0, 'm'},
                                         {"model", required_argument, 0, 'M'},
                                         {"matmul-precision", required_argument, 0, 'X'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 's') shape = optarg;
        else if (c == 'p') prompt = atoi(optarg);
        else if (c == 'g') gen = atoi(optarg);
        else if (c == 'f') prefill = atoi(optarg);
        else if (c == 'b') {
            if (strlen(optarg) >= sizeof batches_s) {
                fprintf(stderr, "--batches: at most %zu characters\n", sizeof batches_s - 1);
                return 2;
            }
            snprintf(batches_s, sizeof batches_s, "%s", optarg);
        } else if (c == 'P') peer = 1;
        else if (c == 'd') device = optarg;
        else if (c == 'w') wdt = optarg;
        else if (c == 'm') bw_mib = atoi(optarg);
        else if (c == 'M') model_dir = optarg;
        else if (c == 'X') precision = optarg;
        else return 2;
    }
    if (strcmp(device, "cpu") && strcmp(device, "cuda")) {
        fprintf(stderr, "--device: cpu or cuda\n");
        return 2;
    }
    if (strcmp(wdt, "bf16") && strcmp(wdt, "fp32")) {
        fprintf(stderr, "--weights-dtype: bf16 or fp32\n");
        return 2;
    }
    if (peer && model_dir) {
        fprintf(stderr, "--peer: with --shape only (the PyTorch peer builds its own weights)\n");
        return 2;
    }
    if (peer && strcmp(device, "cpu")) {
        fprintf(stderr, "--peer: the PyTorch peer runs on the CPU only (use --device cpu)\n");
        return 2;
    }
    if (prompt < 1 || gen < 1 || prefill < 1 || bw_mib < 1 || bw_mib > 65536) {
        fprintf(stderr, "--prompt, --gen and --prefill: >= 1; --bw-mib: 1..65536\n");
        return 2;
    }
    const int BS = 16;
    int batches[8], nb = 0;
    char blist[64];
    memcpy(blist, batches_s, sizeof blist);  // strtok writes into its input; the peer needs the list
    for (char *save = NULL, *t = strtok_r(blist, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || v < 1 || v > 4096 || nb == 8) {
            fprintf(stderr, "--batches %s: up to 8 comma-separated sizes in 1..4096\n", batches_s);
            return 2;
        }
        batches[nb++] = (int)v;
    }
    s1c_qwen2_model m;
    memset(&m, 0, sizeof m);
    s1c_qwen2_config *cfg = &m.cfg;
    if (!strcmp(shape, "55m")) {
        *cfg = (s1c_qwen2_config){.hidden_size = 512, .intermediate_size = 1408, .num_hidden_layers = 8,
                                  .num_attention_heads = 8, .num_key_value_heads = 2, .head_dim = 64, .vocab_size = 32000,
                                  .max_position_embeddings = 4096, .rope_theta = 10000.0f, .rms_norm_eps = 1e-6f};
    } else if (!strcmp(shape, "0.5b")) {
        *cfg = (s1c_qwen2_config){.hidden_size = 896, .intermediate_size = 4864, .num_hidden_layers = 24,
                                  .num_attention_heads = 14, .num_key_value_heads = 2, .head_dim = 64,
                                  .vocab_size = 151936, .max_position_embeddings = 32768, .rope_theta = 1000000.0f,
                                  .rms_norm_eps = 1e-6f, .tie_word_embeddings = 1};
    } else {
        fprintf(stderr, "--shape: 55m or 0.5b\n");
        return 2;
    }
    cfg->bos_token_id = cfg->eos_token_id = -1;
    s1c_backend *be = s1c_backend_create(device, 0);
    if (!be) {
        if (!strcmp(device, "cuda")) {
            printf("SKIP: bench_decode --device cuda: no CUDA device (%s); nothing measured\n", s1c_err_msg());
            return 77;
        }
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    if (s1c_backend_set_matmul_precision(be, precision) != S1C_OK || s1c_decode_ops_check(be) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    if (model_dir) {  // a checkpoint (e.g. the one the llama.cpp peer converts) instead of random weights
        if (s1c_qwen2_model_load_weights(be, model_dir, wdt, &m) != S1C_OK) {
            fprintf(stderr, "%s\n", s1c_err_msg());
            return 1;
        }
        shape = model_dir;
    }
    m.be = be;
    if (!model_dir) {  // the whole model on this process: its shard is itself
        m.shard = *cfg;
        m.tp.size = 1;
        m.layout = s1c_qwen2_layout_create(cfg);
    }
    const int U = m.layout->n_units, V = cfg->vocab_size;
    if (!model_dir) m.params = calloc((size_t)U, sizeof(void *));
    // bf16 weights on an fp32-act backend: the inference layout of qwen2.h (weight_dtype, vecs).
    const int wbf = !strcmp(wdt, "bf16") && be->act_dtype == S1C_F32;
    if (wbf && !be->matmul_wbf16) {
        fprintf(stderr, "--weights-dtype bf16: backend %s has no bf16-weight matmul\n", be->name);
        return 1;
    }
    if (wbf && !model_dir) {
        m.weight_dtype = S1C_BF16;
        m.vecs = calloc((size_t)U, sizeof(float *));
    }
    size_t max_unit = 0;
    for (int u = 0; u < U; u++)
        if (m.layout->units[u].numel > max_unit) max_unit = m.layout->units[u].numel;
    // Random fp32 weights made on the host, uploaded unit by unit; a backend with bf16 activations
    // converts them on the device through one fp32 staging buffer.
    const size_t asz = s1c_dtype_size(be->act_dtype);
    float *h = malloc(max_unit * sizeof(float));
    float *stage = be->act_dtype == S1C_F32 ? NULL : be->alloc(be, max_unit * sizeof(float));
    if (!h || (be->act_dtype != S1C_F32 && !stage)) {
        fprintf(stderr, "weights staging: %s\n", h ? s1c_err_msg() : "out of host memory");
        return 1;
    }
    for (int u = 0; u < U && !model_dir; u++) {
        const s1c_unit_desc *ud = &m.layout->units[u];
        for (int k = 0; k < ud->n_params; k++) {
            const s1c_param_desc *pd = &ud->params[k];
            int norm = pd->ndim == 1 && strstr(pd->name, "norm");
            for (size_t i = 0; i < pd->numel; i++) h[pd->offset + i] = norm ? 1.0f : 0.04f * (runif() - 0.5f);
        }
        if (wbf) {  // the layout of s1c_qwen2_model_load_weights "bf16": bf16 unit + packed fp32 vectors
            uint16_t *wb = be->alloc(be, ud->numel * sizeof(uint16_t) + 2);
            size_t nv = 0;
            for (int k = 0; k < ud->n_params; k++) nv += ud->params[k].ndim == 1 ? ud->params[k].numel : 0;
            float *vec = nv ? be->alloc(be, nv * sizeof(float)) : NULL;
            if (!wb || (nv && !vec)) {
                fprintf(stderr, "weights: %s\n", s1c_err_msg());
                return 1;
            }
            for (size_t i = 0; i < ud->numel; i++) wb[i] = s1c_bf16_from_f32(h[i]);
            for (int k = 0, at = 0; k < ud->n_params; k++)
                if (ud->params[k].ndim == 1) {
                    memcpy(vec + at, h + ud->params[k].offset, ud->params[k].numel * sizeof(float));
                    at += (int)ud->params[k].numel;
                }
            m.params[u] = wb;
            m.vecs[u] = vec;
            continue;
        }
        if (!(m.params[u] = be->alloc(be, ud->numel * asz))) {
            fprintf(stderr, "weights: %s\n", s1c_err_msg());
            return 1;
        }
        if (stage) {
            be->copy_h2d(be, stage, h, ud->numel * sizeof(float));
            be->f32_to_act(be, m.params[u], stage, ud->numel);
        } else {
            be->copy_h2d(be, m.params[u], h, ud->numel * sizeof(float));
        }
        be->synchronize(be);  // h is refilled for the next unit
    }
    free(h);
    if (stage) be->free(be, stage);
    printf("bench_decode: shape %s, %.1fM params, prompt %d, gen %d, prefill %d (backend %s, acts %s, weights %s%s%s)\n",
           shape, (double)m.layout->numel / 1e6, prompt, gen, prefill, be->name,
           be->act_dtype == S1C_F32 ? "fp32" : "bf16", wbf || be->act_dtype != S1C_F32 ? "bf16" : "fp32",
           wbf ? ", widened as read; steps over 8 rows: " : "", wbf ? s1c_cpu_wbf16_gemm_path(be) : "");
    // Bytes of weights one decode step streams: every matrix once (the LM head included; tied:
    // the embedding matrix), the vectors, and embedding rows (negligible). The KV cache read at
    // these lengths is < 1% of it and not counted.
    size_t step_bytes = 0;
    {
        const size_t wsz = wbf ? 2 : asz;
        for (int u = 1; u < U; u++) {
            const s1c_unit_desc *ud = &m.layout->units[u];
            for (int k = 0; k < ud->n_params; k++)
                step_bytes += ud->params[k].numel * (ud->params[k].ndim == 2 ? wsz : (wbf ? sizeof(float) : asz));
        }
        if (cfg->tie_word_embeddings) step_bytes += (size_t)V * cfg->hidden_size * wsz;
    }
    const double bw = strcmp(device, "cpu") ? 0.0 : bench_read_bandwidth(bw_mib);
    int maxB = 1;
    for (int i = 0; i < nb; i++)
        if (batches[i] > maxB) maxB = batches[i];
    int max_len = (prompt + gen > prefill ? prompt + gen : prefill) + 1;
    int max_blocks = (max_len + BS - 1) / BS;
    s1c_kv_pool kv;
    if (s1c_kv_pool_create(be, cfg, maxB * max_blocks, BS, &kv) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    int max_T = maxB * prompt > prefill ? maxB * prompt : prefill;
    s1c_decode_ws *ws = s1c_decode_ws_create(be, cfg, max_T, maxB, max_blocks, maxB);
    if (!ws) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)max_T), *pos = malloc(sizeof(int32_t) * (size_t)max_T);
    int32_t *rsq = malloc(sizeof(int32_t) * (size_t)max_T), *slot = malloc(sizeof(int32_t) * (size_t)max_T);
    int32_t *tables = malloc(sizeof(int32_t) * (size_t)maxB * max_blocks), *outr = malloc(sizeof(int32_t) * (size_t)maxB);
    int32_t *last = malloc(sizeof(int32_t) * (size_t)maxB);
    float *logits = malloc(sizeof(float) * (size_t)V);  // [1, V]: the single prompt's last row
    if (!ids || !pos || !rsq || !slot || !tables || !outr || !last || !logits) {
        fprintf(stderr, "bench_decode: out of host memory for batch %d\n", maxB);
        return 1;
    }
    for (int b = 0; b < maxB; b++)
        for (int i = 0; i < max_blocks; i++) tables[b * max_blocks + i] = b * max_blocks + i;
    // Prefill: one prompt of `prefill` tokens in one forward (best of 3 after a warm-up).
    double best = 1e30;
    for (int rep = 0; rep < 4; rep++) {
        for (int t = 0; t < prefill; t++) {
            ids[t] = (int32_t)(rnext() % (uint64_t)V);
            pos[t] = t;
            rsq[t] = 0;
            slot[t] = tables[t / BS] * BS + t % BS;
        }
        outr[0] = prefill - 1;
        s1c_decode_batch b = {prefill, 1, ids, pos, rsq, slot, tables, max_blocks, 1, outr};
        double t0 = now_s();
        if (s1c_qwen2_decode(&m, &kv, ws, &b, logits) != S1C_OK) {
            fprintf(stderr, "prefill: %s\n", s1c_err_msg());
            return 1;
        }
        double t = now_s() - t0;
        if (rep && t < best) best = t;
    }
    printf("  prefill  %5d tokens            %9.1f tokens/s  (%.3f s)\n", prefill, prefill / best, best);
    printf("summary: decode shape %s device %s prefill %d: %.1f tokens/s weights %s\n", shape, device, prefill,
           prefill / best, wbf || be->act_dtype != S1C_F32 ? "bf16" : "fp32");
    fflush(stdout);
    for (int bi = 0; bi < nb; bi++) {
        const int B = batches[bi];
        // Prefill the B prompts (one packed forward), then `gen` greedy decode steps.
        int T = 0;
        for (int s = 0; s < B; s++) {
            for (int t = 0; t < prompt; t++, T++) {
                ids[T] = (int32_t)(rnext() % (uint64_t)V);
                pos[T] = t;
                rsq[T] = s;
                slot[T] = tables[s * max_blocks + t / BS] * BS + t % BS;
            }
            outr[s] = T - 1;
        }
        s1c_decode_batch b = {T, B, ids, pos, rsq, slot, tables, max_blocks, B, outr};
        if (s1c_qwen2_decode_argmax(&m, &kv, ws, &b, V, NULL, 0, last) != S1C_OK) {
            fprintf(stderr, "batch %d prompts: %s\n", B, s1c_err_msg());
            return 1;
        }
        double t0 = now_s();
        for (int g = 0; g < gen; g++) {
            for (int s = 0; s < B; s++) {
                int p = prompt + g;
                ids[s] = last[s];
                pos[s] = p;
                rsq[s] = s;
                slot[s] = tables[s * max_blocks + p / BS] * BS + p % BS;
                outr[s] = s;
            }
            s1c_decode_batch d = {B, B, ids, pos, rsq, slot, tables, max_blocks, B, outr};
            if (s1c_qwen2_decode_argmax(&m, &kv, ws, &d, V, NULL, 0, last) != S1C_OK) {
                fprintf(stderr, "batch %d step %d: %s\n", B, g, s1c_err_msg());
                return 1;
            }
        }
        double t = now_s() - t0;
        printf("  decode   batch %2d x %3d steps   %9.1f tokens/s  (%.3f s/step)\n", B, gen, B * gen / t, t / gen);
        const double step_bw = (double)step_bytes / (t / gen);
        if (bw > 0)
            printf("           weights %.0f MB/step read at %.1f GB/s = %.0f%% of the measured %.1f GB/s\n",
                   step_bytes / 1e6, step_bw / 1e9, 100.0 * step_bw / bw, bw / 1e9);
        printf("summary: decode shape %s device %s batch %d: %.1f tokens/s (%.2f ms/step) weights %s", shape, device, B,
               B * gen / t, 1e3 * t / gen, wbf || be->act_dtype != S1C_F32 ? "bf16" : "fp32");
        if (bw > 0) printf(" %.1f GB/s of %.1f GB/s read (%.0f%%)", step_bw / 1e9, bw / 1e9, 100.0 * step_bw / bw);
        printf("\n");
        fflush(stdout);
    }
    fflush(stdout);
    s1c_decode_ws_free(be, ws);
    s1c_kv_pool_free(be, &kv);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
    if (peer) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "python3 %s/tests/bench/bench_decode_peer.py --shape %s --prompt %d --gen %d --prefill %d --batches %s",
                 S1C_SOURCE_DIR, shape, prompt, gen, prefill, batches_s);
        printf("peer: %s\n", cmd);
        fflush(stdout);
        if (system(cmd) != 0) fprintf(stderr, "bench_decode: the PyTorch peer failed\n");
    }
    free(ids);
    free(pos);
    free(rsq);
    free(slot);
    free(tables);
    free(outr);
    free(last);
    free(logits);
    return 0;
}
