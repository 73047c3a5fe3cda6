// metrics.h — the s1 paper's test-time scaling metrics over a set of evaluation runs, and the
// sweep's CSV and plot.
//
// Each run a is one point: its mean thinking tokens and its accuracy f(a).
//   Control     = fraction of runs whose thinking stays within [a_min, a_max] (the budget the
//                 run asked for; a run without a cap counts as within). Runs are judged by
//                 their maximum per-sample thinking, so one overlong sample breaks control.
//   Scaling     = mean slope (f(b) - f(a)) / (b - a) over all pairs of runs with a < b (pairs
//                 with equal mean thinking are skipped); 0 with fewer than two usable points.
//   Performance = max accuracy over the runs.
#ifndef S1C_INFER_METRICS_H
#define S1C_INFER_METRICS_H

#include <cjson/cJSON.h>

#include "bench_load.h"
#include "s1c_err.h"

typedef struct {
    char label[64];        // "budget=512" / "ignore=2"
    int max_thinking;      // < 0: no cap
    int min_thinking;
    int ignore;
    int n_samples;         // graded samples
    double accuracy;       // fraction correct
    double mean_thinking;  // mean thinking tokens per sample
    int max_thinking_seen; // largest thinking of any sample
    double mean_answer;    // mean answer tokens
    double within_frac;    // fraction of samples within [min, max]
    // Over problems (n samples each): accuracy's standard error (the sample standard deviation
    // of the per-problem accuracies / sqrt(problems), as lm-eval's mean_stderr), pass@n by the
    // unbiased estimator, maj@n (majority vote over extracted answers).
    int n_per_problem;
    double accuracy_stderr, pass_at_n, maj_at_n;
} s1c_run_point;

// One graded sample, as the summary needs it.
typedef struct {
    int problem;            // index of the problem (samples of one problem are adjacent)
    int correct;
    const char *extracted;  // NULL: unextractable
    const char *subject;    // MATH-500 (NULL otherwise)
    int level;              // MATH-500 (0 otherwise)
} s1c_sample_stat;

// Unbiased pass@k of one problem with n samples, c of them correct: 1 - C(n-c, k) / C(n, k)
// (Chen et al. 2021), computed as a product so that large n does not overflow.
double s1c_pass_at_k(int n, int c, int k);

// The field's metrics over samples [n] grouped by problem: accuracy and its standard error,
// pass@k for k = 1, 2, 4, .. and n, maj@n (answers equal under the grader vote together; a tie
// goes to the answer seen first; unextractable answers do not vote), and for MATH-500 accuracy
// per subject and per level. Returns a JSON object (caller deletes); fills the metric fields of *pt.
cJSON *s1c_metrics_summary(s1c_bench_format fmt, const s1c_sample_stat *s, int n, s1c_run_point *pt);

typedef struct {
    double control, scaling, performance;
} s1c_scaling_metrics;

s1c_scaling_metrics s1c_metrics_compute(const s1c_run_point *pts, int n);
// Writes DIR-relative files atomically: the CSV, and (when gnuplot is on PATH) the PNG plot of
// accuracy against mean thinking tokens. A missing gnuplot is reported on stderr, not fatal.
s1c_status s1c_metrics_write_csv(const char *path, const s1c_run_point *pts, int n, const s1c_scaling_metrics *m);
s1c_status s1c_metrics_plot(const char *png_path, const char *csv_path, const char *title);

#endif
