// The CPU reference GEMM rate (OpenBLAS sgemm); see bench_gemm_peak.h.
#include <stdlib.h>
#include <time.h>

#include "bench_gemm_peak.h"
#include "s1c_err.h"
#include "s1c_rng.h"

#include <cblas.h>  // after the s1c headers: OpenBLAS may pull in <complex.h>, whose macro I clashes

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double s1c_bench_sgemm_gflops(int n, int reps) {
    const size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(sizeof(float) * nn), *b = malloc(sizeof(float) * nn), *c = malloc(sizeof(float) * nn);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        s1c_err("sgemm %dx%dx%d: out of host memory for 3 x %zu floats", n, n, n, nn);
        return -1;
    }
    uint64_t st = 0x5eed;
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)((s1c_splitmix64(&st) >> 40) * (1.0 / 16777216.0)) - 0.5f;
        b[i] = (float)((s1c_splitmix64(&st) >> 40) * (1.0 / 16777216.0)) - 0.5f;
    }
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {  // the first call warms up threads and caches
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = now_s() - t0;
        if (r > 0 && t < best) best = t;
    }
    free(a), free(b), free(c);
    return 2.0 * n * (double)n * n / best / 1e9;
}
