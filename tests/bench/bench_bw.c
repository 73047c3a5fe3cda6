// bench_bw.c — see bench_bw.h.
#include "bench_bw.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Read bandwidth of this machine now, in bytes/s: the best of 5 passes summing a buffer of
// --bw-mib MiB (default 512: 16x the 32 MiB L3 here; the smoke test uses a small one) as 64-bit
// integers on all OpenMP threads, each thread its own static share read as 4 streams a quarter
// apart: one sequential stream per core leaves memory-level parallelism unused (measured on the
// EPYC: 10.4 GB/s one stream, 15.8 GB/s four, one core), and the reference must be the fastest
// plain read, not an easy one. Integer adds have 1-cycle latency, so the sum is bound by memory;
// it is printed so it cannot be dropped.
double bench_read_bandwidth(int mib) {
    const size_t n = ((size_t)mib << 20) / sizeof(uint64_t);
    uint64_t *buf = malloc(n * sizeof(uint64_t));
    if (!buf) return 0.0;
    double best = 1e30;
    uint64_t sum = 0;
    for (int rep = 0; rep < 6; rep++) {  // pass 0 first-touches the pages by their readers
        uint64_t s = 0;
        double t0 = now_s();
#pragma omp parallel reduction(+ : s)
        {
            const size_t nt = (size_t)omp_get_num_threads(), tid = (size_t)omp_get_thread_num();
            const size_t lo = n * tid / nt, q = (n * (tid + 1) / nt - lo) / 4;
            const uint64_t *a = buf + lo, *b = a + q, *c = b + q, *d = c + q;
            if (rep == 0)
                for (size_t i = 0; i < 4 * q; i++) buf[lo + i] = lo + i;
            uint64_t sa = 0, sb = 0, sc = 0, sd = 0;
#pragma omp simd reduction(+ : sa, sb, sc, sd)
            for (size_t i = 0; i < q; i++) sa += a[i], sb += b[i], sc += c[i], sd += d[i];
            s += sa + sb + sc + sd;
        }
        double t = now_s() - t0;
        sum += s;
        if (rep && t < best) best = t;
    }
    free(buf);
    const double bytes = (double)(n / (size_t)(4 * omp_get_max_threads())) * 4 * omp_get_max_threads() * 8;
    printf("  read bandwidth: %.1f GB/s (best of 5 sums over %d MiB, %d threads x 4 streams; checksum %llu)\n",
           bytes / best / 1e9, mib, omp_get_max_threads(), (unsigned long long)(sum & 0xffff));
    return bytes / best;
}
