// bench_cuda_gemm.c — GEMM TFLOP/s of the CUDA backend's matmul ops at the Qwen2.5 shapes,
// against cuBLAS's own default GEMM (cublasGemmEx, bf16 in/out, fp32 compute) on the same data
// and cuBLASLt's best plan for the forward layout (every heuristic candidate timed,
// bench_gemm_peak.h). The last line gives the backend's forward as a share of that best.
// Usage: bench_cuda_gemm [tokens=8192]. Exits 0 with a message when no GPU is present.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_gemm_peak.h"
#include "ops.h"

typedef struct { const char *name; int IC, OC; } shape;

static double time_ms(cudaStream_t st, cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    cudaEventSynchronize(b);
    cudaEventElapsedTime(&ms, a, b);
    (void)st;
    return ms;
}

int main(int argc, char **argv) {
    int T = argc > 1 ? atoi(argv[1]) : 8192;
    s1c_backend *be = s1c_backend_create("cuda", 0);
    if (!be) {
        printf("bench_cuda_gemm: no CUDA device (%s); nothing measured\n", s1c_err_msg());
        return 0;
    }
    const shape shapes[] = {
        {"0.5B qkv", 896, (14 + 4) * 64}, {"0.5B o", 896, 896}, {"0.5B gate_up", 896, 2 * 4864},
        {"0.5B down", 4864, 896}, {"1.5B qkv", 1536, (12 + 4) * 128}, {"1.5B o", 1536, 1536},
        {"1.5B gate_up", 1536, 2 * 8960}, {"1.5B down", 8960, 1536}, {"1.5B lm_head chunk", 1536, 151936},
    };
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) { printf("cublasCreate failed\n"); return 1; }
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    printf("%-22s %6s %6s %6s | %9s %9s %9s | %9s %9s\n", "shape", "T", "IC", "OC", "fwd TF/s", "dinp TF/s", "dW TF/s",
           "cuBLAS fwd", "Lt best");
    double worst = 1e30, sum_ratio = 0;
    int n_ratio = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const shape *s = &shapes[si];
        int t = s->OC > 100000 ? 512 : T;  // the LM head runs in token chunks
        size_t nx = (size_t)t * s->IC, nw = (size_t)s->OC * s->IC, ny = (size_t)t * s->OC;
        void *x = be->alloc(be, nx * 2), *w = be->alloc(be, nw * 2), *y = be->alloc(be, ny * 2);
        void *dx = be->alloc(be, nx * 2);
        float *dw = be->alloc(be, nw * 4);
        if (!x || !w || !y || !dx || !dw) { printf("%s\n", s1c_err_msg()); return 1; }
        be->memset_zero(be, x, nx * 2), be->memset_zero(be, w, nw * 2), be->memset_zero(be, y, ny * 2);
        be->memset_zero(be, dw, nw * 4);
        double flops = 2.0 * t * s->IC * (double)s->OC;
        double res[4];
        for (int which = 0; which < 4; which++) {
            int reps = 20;
            for (int r = -3; r < reps; r++) {
                if (r == 0) { be->synchronize(be); cudaEventRecord(e0, 0); }
                if (which == 0) be->matmul_fwd(be, y, x, w, NULL, t, s->IC, s->OC);
                else if (which == 1) be->matmul_bwd(be, dx, NULL, NULL, y, x, w, t, s->IC, s->OC, 0);
                else if (which == 2) be->matmul_bwd(be, NULL, dw, NULL, y, x, w, t, s->IC, s->OC, 0);
                else {
                    float al = 1, bt = 0;
                    cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, s->OC, t, s->IC, &al, w, CUDA_R_16BF, s->IC, x,
                                 CUDA_R_16BF, s->IC, &bt, y, CUDA_R_16BF, s->OC, CUBLAS_COMPUTE_32F,
                                 CUBLAS_GEMM_DEFAULT);
                }
            }
            be->synchronize(be);
            cudaDeviceSynchronize();
            cudaEventRecord(e1, 0);
            res[which] = flops * reps / (time_ms(0, e0, e1) * 1e-3) / 1e12;
        }
        const double lt = s1c_bench_cublaslt_best_tflops(s->OC, t, s->IC, 10, NULL);
        if (lt < 0) printf("(cuBLASLt best: %s)\n", s1c_err_msg());
        printf("%-22s %6d %6d %6d | %9.1f %9.1f %9.1f | %9.1f %9.1f\n", s->name, t, s->IC, s->OC, res[0], res[1], res[2],
               res[3], lt);
        if (lt > 0) {
            worst = res[0] / lt < worst ? res[0] / lt : worst;
            sum_ratio += res[0] / lt;
            n_ratio++;
        }
        be->free(be, x), be->free(be, w), be->free(be, y), be->free(be, dx), be->free(be, dw);
    }
    printf("(backend ops run on the backend's own stream; timings bracket them with device-wide events)\n");
    if (n_ratio)
        printf("summary: gemm backend fwd / cuBLASLt best: mean %.1f%%, worst %.1f%% over %d shapes (T %d)\n",
               100.0 * sum_ratio / n_ratio, 100.0 * worst, n_ratio, T);
    cublasDestroy(h);
    s1c_backend_destroy(be);
    return 0;
}
