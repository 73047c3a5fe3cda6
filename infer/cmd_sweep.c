// cmd_sweep.c — see cmd_sweep.h.
#include "cmd_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s1c_file.h"

s1c_status s1c_sweep_run(s1c_infer_ctx *ctx, const s1c_infer_cli *c, s1c_bench_format fmt, int rank) {
    int np = c->n_budgets ? c->n_budgets : c->n_ignores;
    s1c_run_point *pts = s1c_xcalloc((size_t)np, sizeof *pts);
    size_t dl = strlen(c->out) + 64;
    char *dir = s1c_xmalloc(dl), *csv = s1c_xmalloc(dl), label[64];
    snprintf(csv, dl, "%s/sweep.csv", c->out);
    s1c_status st = rank == 0 ? s1c_mkdirs(c->out) : S1C_OK;
    s1c_scaling_metrics m = {0, 0, 0};
    for (int k = 0; k < np && !st; k++) {
        s1c_eval_opts o = c->o;
        if (c->n_budgets) {
            o.max_thinking = c->budgets[k];
            if (o.min_thinking > o.max_thinking) o.min_thinking = o.max_thinking;
            snprintf(label, sizeof label, "budget=%d", c->budgets[k]);
            snprintf(dir, dl, "%s/budget_%d", c->out, c->budgets[k]);
        } else {
            o.ignore = c->ignores[k];
            snprintf(label, sizeof label, "ignore=%d", c->ignores[k]);
            snprintf(dir, dl, "%s/ignore_%d", c->out, c->ignores[k]);
        }
        if (c->resume && s1c_eval_load_complete(ctx, &o, c->benchmark, dir, label, &pts[k])) {
            if (rank == 0 && !o.quiet) printf("%-16s complete in %s, skipped (--resume)\n", label, dir);
        } else {
            st = s1c_eval_run(ctx, &o, c->benchmark, fmt, dir, label, &pts[k]);
        }
        if (!st && rank == 0) {
            m = s1c_metrics_compute(pts, k + 1);
            st = s1c_metrics_write_csv(csv, pts, k + 1, &m);
        }
    }
    if (!st && rank == 0) {
        printf("control %.4f  scaling %.6g (accuracy per thinking token)  performance %.4f\n", m.control, m.scaling,
               m.performance);
        snprintf(dir, dl, "%s/sweep.png", c->out);
        if (s1c_metrics_plot(dir, csv, "accuracy vs thinking tokens") != S1C_OK)
            fprintf(stderr, "s1c-infer: warning: %s\n", s1c_err_msg());
    }
    free(dir);
    free(csv);
    free(pts);
    return st;
}
