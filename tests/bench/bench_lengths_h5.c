// bench_lengths_h5: a packed training file whose sample lengths follow a log-normal distribution,
// for the planner's predictions (docs/planner.md) and the balance benchmark (bench_train_balance):
// s1K-like and s1K-1.1-like length variation without the datasets. Token ids are random below
// --vocab (the benchmark trains on them); the last 3/4 of every sample is the loss region.
//
//   bench_lengths_h5 --out FILE.h5 --n 1000 --median 3600 --sigma 0.7 [--min 64] [--max 32768]
//                    [--vocab 32000] [--seed 1]
// Prints the lengths' mean, median, 90th percentile and maximum.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packed_write.h"
#include "s1c_rng.h"

static int cmp_u32(const void *a, const void *b) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *out = NULL;
    long n = 1000, lo = 64, hi = 32768, vocab = 32000;
    double median = 3600, sigma = 0.7;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--n")) n = atol(v);
        else if (!strcmp(a, "--median")) median = atof(v);
        else if (!strcmp(a, "--sigma")) sigma = atof(v);
        else if (!strcmp(a, "--min")) lo = atol(v);
        else if (!strcmp(a, "--max")) hi = atol(v);
        else if (!strcmp(a, "--vocab")) vocab = atol(v);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)atoll(v);
        else {
            fprintf(stderr, "bench_lengths_h5: unknown argument %s\n", a);
            return 2;
        }
    }
    if (!out || n < 1 || lo < 2 || hi < lo || !(median > 0) || !(sigma >= 0) || vocab < 2) {
        fprintf(stderr, "usage: bench_lengths_h5 --out FILE.h5 --n N --median M --sigma S [--min 64] [--max 32768] "
                        "[--vocab 32000] [--seed 1]\n");
        return 2;
    }
    s1c_packed_writer *w = s1c_packed_writer_create(out, 3);
    if (!w) {
        fprintf(stderr, "bench_lengths_h5: %s\n", s1c_err_msg());
        return 1;
    }
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 7;
    uint32_t *len = malloc(sizeof(uint32_t) * (size_t)n);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)hi);
    uint8_t *mask = malloc((size_t)hi);
    s1c_status s = S1C_OK;
    double sum = 0;
    for (long i = 0; i < n && s == S1C_OK; i++) {
        // Box-Muller from two uniforms in (0, 1]
        const double u1 = ((double)(s1c_splitmix64(&st) >> 11) + 1) / 9007199254740992.0;
        const double u2 = (double)(s1c_splitmix64(&st) >> 11) / 9007199254740992.0;
        const double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        long l = lround(median * exp(sigma * z));
        l = l < lo ? lo : l > hi ? hi : l;
        len[i] = (uint32_t)l;
        sum += (double)l;
        for (long t = 0; t < l; t++) {
            ids[t] = (int32_t)(s1c_splitmix64(&st) % (uint64_t)vocab);
            mask[t] = t >= l / 4;
        }
        s = s1c_packed_writer_add(w, ids, mask, (size_t)l);
    }
    if (s == S1C_OK) s = s1c_packed_writer_commit(w);
    else s1c_packed_writer_abort(w);
    if (s != S1C_OK) {
        fprintf(stderr, "bench_lengths_h5: %s: %s\n", out, s1c_err_msg());
        return 1;
    }
    qsort(len, (size_t)n, sizeof(uint32_t), cmp_u32);
    printf("%s: %ld samples, mean %.0f, median %u, p90 %u, max %u tokens\n", out, n, sum / (double)n, len[(n - 1) / 2],
           len[(long)((double)(n - 1) * 0.9)], len[n - 1]);
    free(len);
    free(ids);
    free(mask);
    return 0;
}
