// bench_host_adamw.c — host AdamW (train/host_adamw.c, optimizer offload) in GB/s of optimizer
// state moved, against a STREAM-like triad and the plain read bandwidth measured in the same run.
//   bench_host_adamw [--mib-params N] [--reps R]
// Bytes counted per element: master r+w (8), m r+w (8), v r+w (8), grad r (4), bf16 out w (2) = 30.
// The ratio to the triad rate says how close the update is to what host memory allows; the offload
// design needs it near 1 (the step is a memory stream, 30 B per parameter).
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_bw.h"
#include "host_adamw.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xmalloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) {
        fprintf(stderr, "bench_host_adamw: cannot allocate %zu bytes\n", bytes);
        exit(1);
    }
    memset(p, 0, bytes);  // first touch on the threads' pages is not modelled; fine for one socket
    return p;
}

int main(int argc, char **argv) {
    int mib = 256, reps = 5;  // 256 MiB of fp32 master = 64M parameters: far beyond any cache
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mib-params") && i + 1 < argc) mib = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_host_adamw [--mib-params N] [--reps R]\n");
            return 2;
        }
    }
    if (mib < 1 || reps < 1) {
        fprintf(stderr, "bench_host_adamw: --mib-params and --reps must be >= 1\n");
        return 2;
    }
    size_t n = (size_t)mib * 1024 * 1024 / sizeof(float);
    float *p = xmalloc(n * 4), *m = xmalloc(n * 4), *v = xmalloc(n * 4), *g = xmalloc(n * 4);
    uint16_t *out = xmalloc(n * 2);
    for (size_t i = 0; i < n; i++) p[i] = 0.01f * (float)(i % 97), g[i] = 1e-3f * (float)(i % 89) - 0.04f;

    // STREAM triad a = b + s*c over three n-float arrays (24 B per element counted).
    double triad = 0.0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < n; i++) m[i] = p[i] + 0.5f * g[i];
        double t = now_s() - t0;
        if (t > 0 && 24.0 * (double)n / t > triad) triad = 24.0 * (double)n / t;
    }
    memset(m, 0, n * 4);
    double read_bw = bench_read_bandwidth(mib);

    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        s1c_host_adamw(p, out, NULL, g, m, v, n, 1e-5f, 0.9f, 0.95f, 1e-8f, 1e-4f, 1.0f, r + 1);
        double t = now_s() - t0;
        if (t < best) best = t;
    }
    double gbs = 30.0 * (double)n / best / 1e9;
    printf("host_adamw: %zu params  %.3f ms/step  %.2f GB/s state  (triad %.2f GB/s, read %.2f GB/s)  "
           "ratio to triad %.2f\n",
           n, best * 1e3, gbs, triad / 1e9, read_bw / 1e9, gbs / (triad / 1e9));
    free(p), free(m), free(v), free(g), free(out);
    return 0;
}
