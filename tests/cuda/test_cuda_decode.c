// The inference path on the GPU: the paged-KV decode step (model/qwen2_decode.h, as s1c-infer's
// engine drives it) on the CUDA backend against the CPU backend, for the fixture checkpoints.
// Two sequences batched together through scattered block tables with small blocks: a prefill,
// then one token per step; both backends are fed the CPU's greedy token (teacher forcing), so a
// near-tie cannot make the paths diverge and every step is compared:
// - logits, r = max |cuda - cpu| / max |cpu| per step and sequence: r <= 6e-2 each, mean r <=
//   2.5e-2 (bf16 activations, KV cache and weight copies, fp32 accumulation). Measured scale:
//   Hugging Face's own bf16 forward against its fp32 one on these fixtures gives r median 0.9%,
//   max 2.1% (a, bf16 weights) and median 1.5%, max 3.6% (b: fp32 weights, which round too) over
//   124 positions; the cpu-bf16 emulation lands on the same figures (docs/cuda.md). A wrong
//   cache slot, position or head mapping gives r of order 1;
// - greedy: the CUDA argmax equals the CPU's wherever the CPU's top-2 margin exceeds twice the
//   step's observed logit difference (a real tie may go either way; anything else must agree).
// Exits 77 (ctest: skipped) with a SKIP line when no GPU is present.
// The device backend is S1C_TEST_DEVICE (default "cuda"); "cpu-bf16" runs the same checks on the
// host with the GPU's bf16 storage (bf16 KV cache and activations, weights' act copies), no GPU.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qwen2.h"
#include "qwen2_decode.h"

static const char *DEV = "cuda";  // the device backend under test (S1C_TEST_DEVICE)

static int argmax(const float *x, int n, float *margin) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    float second = -INFINITY;
    for (int i = 0; i < n; i++)
        if (i != best && x[i] > second) second = x[i];
    *margin = x[best] - second;
    return best;
}

typedef struct {
    s1c_backend *be;
    s1c_qwen2_model m;
    s1c_kv_pool kv;
    s1c_decode_ws *ws;
} side;

enum { BS = 4, NB = 40, MAXB = 16, STEPS = 20, MAXT = 64 };

static int side_open(side *s, s1c_backend *be, const char *dir) {
    memset(s, 0, sizeof *s);
    s->be = be;
    if (s1c_qwen2_model_load(be, dir, &s->m) != S1C_OK || s1c_decode_ops_check(be) != S1C_OK ||
        s1c_kv_pool_create(be, &s->m.cfg, NB, BS, &s->kv) != S1C_OK ||
        !(s->ws = s1c_decode_ws_create(be, &s->m.cfg, MAXT, 2, MAXB, 2))) {
        fprintf(stderr, "%s on %s: %s\n", dir, be->name, s1c_err_msg());
        check_failures++;
        return 0;
    }
    return 1;
}

static void side_close(side *s) {
    if (s->ws) s1c_decode_ws_free(s->be, s->ws);
    if (s->kv.k) s1c_kv_pool_free(s->be, &s->kv);
    if (s->m.be) s1c_qwen2_model_free(&s->m);
}

static void run(s1c_backend *cpu, s1c_backend *gpu, const char *dir) {
    side c, g;
    if (!side_open(&c, cpu, dir) || !side_open(&g, gpu, dir)) {
        side_close(&c);
        side_close(&g);
        return;
    }
    const int V = c.m.cfg.vocab_size;
    int32_t tables[2 * MAXB];
    for (int i = 0; i < MAXB; i++) {  // interleaved, out of order
        tables[i] = (int32_t)(NB - 1 - 2 * i);
        tables[MAXB + i] = (int32_t)(2 * i);
    }
    int32_t seq[2][MAXT];
    int len[2] = {11, 6}, fed[2] = {0, 0};
    uint64_t st = 0x243F6A8885A308D3ull;
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < len[s]; t++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            seq[s][t] = (int32_t)((st >> 33) % (uint64_t)V);
        }
    float *lc = malloc(2 * (size_t)V * sizeof(float)), *lg = malloc(2 * (size_t)V * sizeof(float));
    double worst = 0, sum_r = 0;
    int n_r = 0;
    int agree = 0, compared = 0;
    for (int step = 0; step < STEPS; step++) {
        int32_t ids[MAXT], pos[MAXT], rs[MAXT], slot[MAXT], outr[2];
        int T = 0;
        for (int s = 0; s < 2; s++) {
            for (int t = fed[s]; t < len[s]; t++) {
                ids[T] = seq[s][t];
                pos[T] = t;
                rs[T] = s;
                slot[T] = tables[s * MAXB + t / BS] * BS + t % BS;
                T++;
            }
            outr[s] = T - 1;
            fed[s] = len[s];
        }
        s1c_decode_batch b = {T, 2, ids, pos, rs, slot, tables, MAXB, 2, outr};
        if (s1c_qwen2_decode(&c.m, &c.kv, c.ws, &b, lc) != S1C_OK || s1c_qwen2_decode(&g.m, &g.kv, g.ws, &b, lg) != S1C_OK) {
            fprintf(stderr, "%s: decode step %d: %s\n", dir, step, s1c_err_msg());
            check_failures++;
            break;
        }
        for (int s = 0; s < 2; s++) {
            const float *x = lc + (size_t)s * V, *y = lg + (size_t)s * V;
            double md = 0, mr = 0;
            for (int v = 0; v < V; v++) {
                md = fmax(md, fabs((double)y[v] - x[v]));
                mr = fmax(mr, fabs((double)x[v]));
            }
            if (!(md <= 6e-2 * mr)) {
                fprintf(stderr, "%s: step %d seq %d: max |%s - cpu| %.3g > 6e-2 * %.3g\n", dir, step, s, DEV, md, mr);
                check_failures++;
            }
            worst = fmax(worst, md / (mr + 1e-30));
            sum_r += md / (mr + 1e-30);
            n_r++;
            float mc, mg;
            const int ac = argmax(x, V, &mc), ag = argmax(y, V, &mg);
            if (mc > 2 * md) {
                compared++;
                agree += ac == ag;
                if (ac != ag) {
                    fprintf(stderr, "%s: step %d seq %d: greedy token %s %d cpu %d (cpu margin %.3g, diff %.3g)\n",
                            dir, step, s, DEV, ag, ac, mc, md);
                    check_failures++;
                }
            }
            if (len[s] < MAXT) seq[s][len[s]++] = ac;  // both sides continue with the CPU's token
        }
    }
    const double mean_r = n_r ? sum_r / n_r : INFINITY;
    printf("%s: %d steps, max|%s - cpu| / max|cpu| worst %.3g mean %.3g, greedy agreement %d/%d (clear margins)\n",
           dir, STEPS, DEV, worst, mean_r, agree, compared);
    if (!(mean_r <= 2.5e-2)) {
        fprintf(stderr, "%s: mean max|%s - cpu| / max|cpu| %.3g > 2.5e-2\n", dir, DEV, mean_r);
        check_failures++;
    }
    if (compared < STEPS / 2) {  // most steps have a clear winner; otherwise the check proved nothing
        fprintf(stderr, "%s: only %d of %d greedy choices had a clear margin\n", dir, compared, 2 * STEPS);
        check_failures++;
    }
    free(lc);
    free(lg);
    side_close(&c);
    side_close(&g);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR...\n", argv[0]);
        return 2;
    }
    if (getenv("S1C_TEST_DEVICE") && *getenv("S1C_TEST_DEVICE")) DEV = getenv("S1C_TEST_DEVICE");
    s1c_backend *gpu = s1c_backend_create(DEV, 0);
    if (!gpu && strcmp(DEV, "cuda") == 0) {
        printf("SKIP: no CUDA device: %s\n", s1c_err_msg());
        return 77;
    }
    if (!gpu) {  // a CPU-hosted backend always exists: failing to create it is an error
        fprintf(stderr, "backend %s: %s\n", DEV, s1c_err_msg());
        return 1;
    }
    s1c_backend *cpu = s1c_backend_create("cpu", 0);
    for (int i = 1; i < argc; i++) run(cpu, gpu, argv[i]);
    s1c_backend_destroy(cpu);
    s1c_backend_destroy(gpu);
    return check_exit("test_cuda_decode");
}
