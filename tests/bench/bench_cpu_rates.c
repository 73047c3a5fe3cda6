// bench_cpu_rates: this CPU's sustained rates in the planner's terms (train/plan.h), for a Qwen2
// shape given by its config.json: GEMM FLOP/s of a block's fused gate|up projection forward and
// backward over T tokens, and causal attention FLOP/s (forward + backward, 14 x heads x head_dim
// per query-key pair) over one sequence of T tokens, with the CPU backend and the threads
// OMP_NUM_THREADS gives. Prints "gemm_tflops=G attn_tflops=A" for --plan's --gemm-tflops and
// --attn-tflops (bench_train_balance.sh).
//   bench_cpu_rates CONFIG.json [T]
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qwen2.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *fill(s1c_backend *be, size_t n, float scale) {
    float *p = be->alloc(be, n * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_cpu_rates: %s\n", s1c_err_msg());
        exit(1);
    }
    uint64_t x = n;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = scale * ((float)(x >> 40) / 16777216.0f - 0.5f);
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_cpu_rates CONFIG.json [T]\n");
        return 2;
    }
    s1c_qwen2_config c;
    if (s1c_qwen2_config_load(argv[1], &c) != S1C_OK) {
        fprintf(stderr, "bench_cpu_rates: %s\n", s1c_err_msg());
        return 1;
    }
    const int T = argc > 2 ? atoi(argv[2]) : 512, C = c.hidden_size, I2 = 2 * c.intermediate_size;
    const int nh = c.num_attention_heads, nkv = c.num_key_value_heads, hd = c.head_dim, QKV = (nh + 2 * nkv) * hd;
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be || T < 16) return 1;
    float *x = fill(be, (size_t)T * C, 1), *w = fill(be, (size_t)I2 * C, 0.1f), *y = fill(be, (size_t)T * I2, 1);
    float *dx = fill(be, (size_t)T * C, 1), *dw = fill(be, (size_t)I2 * C, 0);
    double t0 = now_s();
    int reps = 0;
    do {  // forward + backward: 6 T C 2I FLOPs
        be->matmul_fwd(be, y, x, w, NULL, T, C, I2);
        be->matmul_bwd(be, dx, dw, NULL, y, x, w, T, C, I2, 0);
        reps++;
    } while (now_s() - t0 < 1.0);
    const double gemm = 6.0 * T * C * I2 * reps / (now_s() - t0);
    float *qkv = fill(be, (size_t)T * QKV, 1), *out = fill(be, (size_t)T * nh * hd, 0), *lse = fill(be, (size_t)nh * T, 0);
    float *dqkv = fill(be, (size_t)T * QKV, 0);
    int32_t cu[2] = {0, T};
    const s1c_attn_shape s = {.T = T, .n_seq = 1, .cu_seqlens = cu, .n_head = nh, .n_kv_head = nkv, .head_dim = hd,
                              .max_seqlen = T};
    t0 = now_s();
    reps = 0;
    do {
        be->attention_fwd(be, out, lse, qkv, &s);
        be->attention_bwd(be, dqkv, out, qkv, out, lse, &s);
        reps++;
    } while (now_s() - t0 < 1.0);
    const double attn = 14.0 * nh * hd * ((double)T * (T + 1) / 2) * reps / (now_s() - t0);
    printf("bench_cpu_rates: %s, T %d: GEMM %.1f GFLOP/s, attention %.1f GFLOP/s\n", argv[1], T, gemm / 1e9,
           attn / 1e9);
    printf("gemm_tflops=%.6f attn_tflops=%.6f\n", gemm / 1e12, attn / 1e12);
    void *bufs[] = {x, w, y, dx, dw, qkv, out, lse, dqkv};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(be, bufs[i]);
    s1c_backend_destroy(be);
    return 0;
}
