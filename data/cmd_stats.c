// s1c-data stats FILE.h5 — what a packed training file holds: samples, tokens, length
// percentiles (nearest rank), the share of tokens in the loss, samples with none in it, the largest
// token id, and the provenance attributes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "s1c_getopt.h"
#include "packed.h"

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int s1c_cmd_stats(int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 0}, {NULL, 0, NULL, 0}};
    const char *opt, *val;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, opts, "s1c-data stats", &opt, &val)) > 0) {
        printf("usage: s1c-data stats FILE.h5\n");  // --help, the only option
        return 0;
    }
    if (got < 0 || optind != argc - 1) {
        if (got == 0) fprintf(stderr, "usage: s1c-data stats FILE.h5\n");
        return 2;
    }
    const char *file = argv[optind];
    s1c_packed *p = s1c_packed_open(file);
    if (!p) {
        fprintf(stderr, "s1c-data stats: %s\n", s1c_err_msg());
        return 1;
    }
    size_t n = s1c_packed_n_samples(p);
    uint32_t *len = malloc((n ? n : 1) * sizeof *len);
    for (size_t i = 0; i < n; i++) len[i] = s1c_packed_length(p, i);
    s1c_packed_summary sum;
    int rc = 0;
    if (s1c_packed_scan(p, 0, &sum) != S1C_OK) {
        fprintf(stderr, "s1c-data stats: %s\n", s1c_err_msg());
        rc = 1;
    }
    const unsigned long long loss = sum.loss_tokens, total = sum.n_tokens;
    if (rc == 0) {
        qsort(len, n, sizeof *len, cmp_u32);
        printf("file          %s\n", file);
        printf("samples       %zu\n", n);
        printf("tokens        %llu\n", total);
        printf("loss tokens   %llu (mask = 1)\n", loss);
        printf("masked frac   %.4f (share of tokens with loss_mask = 1; %.4f excluded from the loss)\n",
               total ? (double)loss / (double)total : 0.0, total ? 1.0 - (double)loss / (double)total : 0.0);
        printf("no-loss       %llu samples (loss_mask = 0 everywhere)", (unsigned long long)sum.no_loss_samples);
        if (sum.no_loss_samples) printf("; the first is sample %llu", (unsigned long long)sum.first_no_loss);
        printf("\n");
        if (sum.max_id >= 0)
            printf("largest id    %lld (sample %llu): the model's vocab_size must exceed it\n", (long long)sum.max_id,
                   (unsigned long long)sum.max_id_sample);
        else
            printf("largest id    - (no tokens)\n");
        printf("length mean   %.1f\n", n ? (double)total / (double)n : 0.0);
        static const double pct[] = {0, 10, 25, 50, 75, 90, 95, 99, 100};
        printf("length pct   ");
        for (size_t k = 0; k < sizeof pct / sizeof *pct; k++) {
            size_t rank = n ? (size_t)(pct[k] / 100.0 * (double)(n - 1) + 0.5) : 0;
            printf(" p%g=%u", pct[k], n ? len[rank] : 0);
        }
        printf("\n");
        static const char *attrs[] = {"format", "s1c_version", "tokenizer_hash", "source_sha256", "source", "trace",
                                      "max_length", "overflow", "truncated", "dropped", "template"};
        for (size_t k = 0; k < sizeof attrs / sizeof *attrs; k++) {
            const char *v = s1c_packed_attr(p, attrs[k]);
            if (v) printf("%-13s %s\n", attrs[k], v);
        }
    }
    free(len);
    s1c_packed_close(p);
    return rc;
}
