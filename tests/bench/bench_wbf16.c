// bench_wbf16 — the CPU backend's bf16-weight linear layers alone (matmul_wbf16), on the four
// matrices of a Qwen2.5-0.5B layer (q|k|v 1152x896, o 896x896, gate|up 9728x896, down 896x4864)
// repeated over --layers layers (default 8: 254 MB of bf16, far beyond the caches, so every pass
// streams the weights from memory as a decode step does). For each row count of --T it prints
// the weight bytes per pass over the pass time next to the machine's read bandwidth measured in
// the same run (bench_bw.h), and the GFLOP/s, also over the CPU time the threads ran (on a loaded
// machine the steadier guide for compute-bound row counts); the kernel is the one S1C_WBF16_ISA /
// CPUID picks.
//
//   bench_wbf16 [--T 1,2,4,8,32,512] [--layers 8] [--reps 5] [--bw-mib 512]
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_bw.h"
#include "cpu_internal.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    char ts_s[128] = "1,2,4,8,32,512";
    int layers = 8, reps = 5, bw_mib = 512;
    static const struct option opts[] = {{"T", required_argument, 0, 't'},      {"layers", required_argument, 0, 'l'},
                                         {"reps", required_argument, 0, 'r'},   {"bw-mib", required_argument, 0, 'm'},
                                         {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 't') snprintf(ts_s, sizeof ts_s, "%s", optarg);
        else if (c == 'l') layers = atoi(optarg);
        else if (c == 'r') reps = atoi(optarg);
        else if (c == 'm') bw_mib = atoi(optarg);
        else return 2;
    }
    if (layers < 1 || reps < 1 || bw_mib < 1) {
        fprintf(stderr, "bench_wbf16: --layers, --reps and --bw-mib must be >= 1\n");
        return 2;
    }
    int Ts[16], nT = 0;
    for (char *tok = strtok(ts_s, ","); tok && nT < 16; tok = strtok(NULL, ",")) {
        Ts[nT] = atoi(tok);
        if (Ts[nT] < 1 || Ts[nT] > 4096) {
            fprintf(stderr, "bench_wbf16: --T %s: sizes in 1..4096\n", tok);
            return 2;
        }
        nT++;
    }
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    const int shp[4][2] = {{1152, 896}, {896, 896}, {9728, 896}, {896, 4864}};  // {OC, IC}
    size_t per_layer = 0;
    for (int k = 0; k < 4; k++) per_layer += (size_t)shp[k][0] * shp[k][1];
    uint16_t *w = malloc(per_layer * layers * sizeof(uint16_t));
    int maxT = 1;
    for (int i = 0; i < nT; i++) maxT = Ts[i] > maxT ? Ts[i] : maxT;
    float *x = malloc((size_t)maxT * 9728 * sizeof(float)), *y = malloc((size_t)maxT * 9728 * sizeof(float));
    if (!w || !x || !y) {
        fprintf(stderr, "bench_wbf16: out of memory\n");
        return 1;
    }
    uint32_t r = 12345;
    for (size_t i = 0; i < per_layer * layers; i++) {  // small random bf16 values (no denormals, no NaN)
        r = r * 1664525u + 1013904223u;
        w[i] = (uint16_t)(0x3c00 + (r >> 24)) ^ (uint16_t)((r >> 16) & 0x8000);
    }
    for (size_t i = 0; i < (size_t)maxT * 9728; i++) x[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    const double bw = bench_read_bandwidth(bw_mib);
    printf("bench_wbf16: %d layers x 4 matrices, %.1f MB of bf16 weights per pass, path %s, %d threads\n", layers,
           2e-6 * (double)(per_layer * layers), s1c_cpu_wbf16_isa(), omp_get_max_threads());
    for (int it = 0; it < nT; it++) {
        const int T = Ts[it];
        double best = 1e30, best_cpu = 1e30;
        for (int rep = 0; rep <= reps; rep++) {  // rep 0 warms up
            const double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            const uint16_t *p = w;
            for (int l = 0; l < layers; l++)
                for (int k = 0; k < 4; k++) {
                    be->matmul_wbf16(be, y, x, p, NULL, T, shp[k][1], shp[k][0]);
                    p += (size_t)shp[k][0] * shp[k][1];
                }
            const double t = clock_s(CLOCK_MONOTONIC) - t0, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
            if (rep && t < best) best = t;
            if (rep && c < best_cpu) best_cpu = c;
        }
        const double bytes = 2.0 * (double)(per_layer * layers), flops = 2.0 * (double)(per_layer * layers) * T;
        // CPU time over threads: the rate per core while running, a steadier guide on a loaded machine
        const double per_core = best_cpu / omp_get_max_threads();
        printf("  T %4d: %8.2f ms/pass  weights %5.1f GB/s (%3.0f%% of read %.1f GB/s)  %6.1f GFLOP/s  "
               "(CPU time: %.1f GB/s, %.1f GFLOP/s; y[0] %.3g)\n",
               T, 1e3 * best, bytes / best / 1e9, 100.0 * bytes / best / bw, bw / 1e9, flops / best / 1e9,
               bytes / per_core / 1e9, flops / per_core / 1e9, y[0]);
    }
    free(w), free(x), free(y);
    s1c_backend_destroy(be);
    return 0;
}
