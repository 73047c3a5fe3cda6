// bench_compare_runs: how far two s1c-train runs of the same recipe drifted apart (the numerical
// effect of a setting, e.g. train.reduce_dtype): loss curves step by step and the exported fp32
// weights unit by unit.
//   bench_compare_runs RUN_A RUN_B      (RUN_B the reference)
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_run.h"
#include "s1c_err.h"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_compare_runs RUN_A RUN_B\n");
        return 2;
    }
    enum { CAP = 100000 };
    double *a = malloc(sizeof(double) * CAP), *b = malloc(sizeof(double) * CAP), rel[512];
    const int na = cli_read_losses(argv[1], a, CAP), nb = cli_read_losses(argv[2], b, CAP);
    if (na < 1 || na != nb) {
        fprintf(stderr, "bench_compare_runs: %d and %d steps (%s)\n", na, nb, s1c_err_msg());
        return 1;
    }
    double worst = 0, sum = 0, tail_a = 0, tail_b = 0;
    int at = 0;
    const int tail = na < 50 ? na : 50;
    for (int i = 0; i < na; i++) {
        const double d = fabs(a[i] - b[i]) / fabs(b[i]);
        sum += d;
        if (d > worst) worst = d, at = i + 1;
        if (i >= na - tail) tail_a += a[i] / tail, tail_b += b[i] / tail;
    }
    double early = 0;  // before the runs' own chaos amplifies the difference
    const int ne = na < 20 ? na : 20;
    for (int i = 0; i < ne; i++) early = fmax(early, fabs(a[i] - b[i]) / fabs(b[i]));
    printf("steps %d: loss %.4f -> %.4f (A) vs %.4f -> %.4f (B)\n", na, a[0], a[na - 1], b[0], b[na - 1]);
    printf("loss relative difference over the first %d steps: max %.2e\n", ne, early);
    printf("loss relative difference: mean %.2e, max %.2e (step %d); last %d steps' mean loss %.5f vs %.5f (%+.2e)\n",
           sum / na, worst, at, tail, tail_a, tail_b, (tail_a - tail_b) / tail_b);
    const int nu = cli_export_rel_l2(argv[1], argv[2], rel, 512);
    if (nu < 1) {
        fprintf(stderr, "bench_compare_runs: exports: %s\n", s1c_err_msg());
        return 1;
    }
    double wmax = 0, wmean = 0;
    for (int u = 0; u < nu; u++) {
        wmax = fmax(wmax, rel[u]);
        wmean += rel[u] / nu;
    }
    printf("final weights, relative L2 per unit: mean %.2e, max %.2e over %d units\n", wmean, wmax, nu);
    free(a);
    free(b);
    return 0;
}
