// metrics.c — see metrics.h.
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <math.h>

#include "grade/grade.h"
#include "s1c_file.h"

double s1c_pass_at_k(int n, int c, int k) {
    if (k > n || n <= 0) return (double)(c > 0);
    if (n - c < k) return 1.0;
    double fail = 1.0;  // C(n-c, k) / C(n, k) = prod_{i=n-c+1..n} (1 - k / i)
    for (int i = n - c + 1; i <= n; i++) fail *= 1.0 - (double)k / i;
    return 1.0 - fail;
}

// Majority vote over the extracted answers of one problem's samples [n]: 1 when the winning
// answer is correct.
static int majority_correct(s1c_bench_format fmt, const s1c_sample_stat *s, int n) {
    int best = -1, best_votes = 0;
    for (int i = 0; i < n; i++) {
        if (!s[i].extracted) continue;
        int seen = 0, votes = 0;
        for (int j = 0; j < i && !seen; j++) seen = s[j].extracted && s1c_grade(fmt, s[j].extracted, s[i].extracted);
        if (seen) continue;  // counted with the first sample of its group
        for (int j = i; j < n; j++)
            votes += s[j].extracted && (j == i || s1c_grade(fmt, s[i].extracted, s[j].extracted));
        if (votes > best_votes) {
            best = i;
            best_votes = votes;
        }
    }
    return best >= 0 && s[best].correct;
}

typedef struct {
    char name[96];
    int n;
    double correct;
} bucket;

static void bucket_add(bucket **b, int *nb, const char *name, double acc) {
    for (int i = 0; i < *nb; i++)
        if (!strcmp((*b)[i].name, name)) {
            (*b)[i].n++;
            (*b)[i].correct += acc;
            return;
        }
    *b = s1c_xrealloc(*b, (size_t)(*nb + 1) * sizeof **b);
    snprintf((*b)[*nb].name, sizeof (*b)[*nb].name, "%s", name);
    (*b)[*nb].n = 1;
    (*b)[*nb].correct = acc;
    (*nb)++;
}

static cJSON *buckets_json(const bucket *b, int nb) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < nb; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "problems", b[i].n);
        cJSON_AddNumberToObject(e, "acc", b[i].correct / b[i].n);  // not "accuracy": scripts grep the top-level one
        cJSON_AddItemToObject(o, b[i].name, e);
    }
    return o;
}

cJSON *s1c_metrics_summary(s1c_bench_format fmt, const s1c_sample_stat *s, int n, s1c_run_point *pt) {
    int problems = 0, k_max = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && s[j].problem == s[i].problem) j++;
        if (j - i > k_max) k_max = j - i;
        problems++;
        i = j;
    }
    double *acc = s1c_xcalloc((size_t)problems + 1, sizeof *acc);
    int n_k = 0, ks[16];
    for (int k = 1; k < k_max && n_k < 15; k *= 2) ks[n_k++] = k;
    ks[n_k++] = k_max > 0 ? k_max : 1;
    double pass[16] = {0}, maj = 0, mean = 0;
    bucket *subj = NULL, *lvl = NULL;
    int n_subj = 0, n_lvl = 0;
    for (int i = 0, p = 0; i < n; p++) {
        int j = i, c = 0;
        while (j < n && s[j].problem == s[i].problem) c += s[j++].correct;
        acc[p] = (double)c / (j - i);
        mean += acc[p];
        for (int q = 0; q < n_k; q++) pass[q] += s1c_pass_at_k(j - i, c, ks[q]);
        maj += majority_correct(fmt, s + i, j - i);
        if (s[i].subject) bucket_add(&subj, &n_subj, s[i].subject, acc[p]);
        if (s[i].level > 0) {
            char name[32];
            snprintf(name, sizeof name, "%d", s[i].level);
            bucket_add(&lvl, &n_lvl, name, acc[p]);
        }
        i = j;
    }
    mean = problems ? mean / problems : 0;
    double var = 0;
    for (int p = 0; p < problems; p++) var += (acc[p] - mean) * (acc[p] - mean);
    double se = problems > 1 ? sqrt(var / (problems - 1) / problems) : 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "problems", problems);
    cJSON_AddNumberToObject(o, "samples_per_problem", k_max);
    cJSON_AddNumberToObject(o, "accuracy", mean);
    cJSON_AddNumberToObject(o, "accuracy_stderr", se);
    cJSON *pk = cJSON_AddObjectToObject(o, "pass_at_k");
    for (int q = 0; q < n_k; q++) {
        char name[16];
        snprintf(name, sizeof name, "%d", ks[q]);
        cJSON_AddNumberToObject(pk, name, problems ? pass[q] / problems : 0);
    }
    cJSON_AddNumberToObject(o, "maj_at_k", problems ? maj / problems : 0);
    if (n_subj) cJSON_AddItemToObject(o, "by_subject", buckets_json(subj, n_subj));
    if (n_lvl) cJSON_AddItemToObject(o, "by_level", buckets_json(lvl, n_lvl));
    if (pt) {
        pt->n_per_problem = k_max;
        pt->accuracy_stderr = se;
        pt->pass_at_n = problems ? pass[n_k - 1] / problems : 0;
        pt->maj_at_n = problems ? maj / problems : 0;
    }
    free(subj);
    free(lvl);
    free(acc);
    return o;
}

s1c_scaling_metrics s1c_metrics_compute(const s1c_run_point *pts, int n) {
    s1c_scaling_metrics m = {0, 0, 0};
    if (n <= 0) return m;
    int within = 0;
    for (int i = 0; i < n; i++) {
        const s1c_run_point *p = &pts[i];
        int ok = p->max_thinking_seen >= p->min_thinking && (p->max_thinking < 0 || p->max_thinking_seen <= p->max_thinking);
        within += ok;
        if (i == 0 || p->accuracy > m.performance) m.performance = p->accuracy;
    }
    m.control = (double)within / n;
    double slopes = 0;
    int pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double a = pts[i].mean_thinking, b = pts[j].mean_thinking;
            if (!(a < b)) continue;
            slopes += (pts[j].accuracy - pts[i].accuracy) / (b - a);
            pairs++;
        }
    m.scaling = pairs ? slopes / pairs : 0.0;
    return m;
}

s1c_status s1c_metrics_write_csv(const char *path, const s1c_run_point *pts, int n, const s1c_scaling_metrics *m) {
    s1c_atomic_file f;
    S1C_TRY(s1c_atomic_open(&f, path));
    fprintf(f.fp, "label,max_thinking,min_thinking,ignore,n_samples,accuracy,mean_thinking_tokens,max_thinking_tokens,"
                  "mean_answer_tokens,within_budget,samples_per_problem,accuracy_stderr,pass_at_n,maj_at_n\n");
    for (int i = 0; i < n; i++) {
        const s1c_run_point *p = &pts[i];
        fprintf(f.fp, "%s,%d,%d,%d,%d,%.6f,%.3f,%d,%.3f,%.6f,%d,%.6f,%.6f,%.6f\n", p->label, p->max_thinking,
                p->min_thinking, p->ignore, p->n_samples, p->accuracy, p->mean_thinking, p->max_thinking_seen,
                p->mean_answer, p->within_frac, p->n_per_problem, p->accuracy_stderr, p->pass_at_n, p->maj_at_n);
    }
    fprintf(f.fp, "# control=%.6f scaling=%.9f performance=%.6f\n", m->control, m->scaling, m->performance);
    return s1c_atomic_commit(&f);
}

s1c_status s1c_metrics_plot(const char *png_path, const char *csv_path, const char *title) {
    char *gp_path = s1c_xmalloc(strlen(png_path) + 8);
    sprintf(gp_path, "%s.gp", png_path);
    char *tmp_png = s1c_tmp_name(png_path);
    s1c_atomic_file f;
    s1c_status st = s1c_atomic_open(&f, gp_path);
    if (st == S1C_OK) {
        // The script stays next to the plot so it can be re-run or restyled by hand. Fixed axes
        // from 0 (accuracy 0-100 %, thinking tokens up to the largest mean): gnuplot's autoscaling
        // warns about an empty range on a one-point sweep (the "Wait" setting) or an all-zero one.
        fprintf(f.fp,
                "set terminal pngcairo size 800,560\nset output '%s'\nset datafile separator ','\n"
                "set title '%s'\nset xlabel 'average thinking tokens'\nset ylabel 'accuracy (%%)'\n"
                "stats '%s' every ::1 using 7 nooutput\n"
                "set xrange [0:(STATS_max > 0 ? 1.05 * STATS_max : 1)]\nset yrange [0:100]\n"
                "set grid\nset key off\n"
                "plot '%s' every ::1 using 7:($6*100) with linespoints pt 7 ps 1.2 lw 2, \\\n"
                "     '' every ::1 using 7:($6*100):1 with labels offset 0,1 font ',8'\n",
                tmp_png, title, csv_path, csv_path);
        st = s1c_atomic_commit(&f);
    }
    if (st == S1C_OK) {
        pid_t pid = fork();
        if (pid == 0) {
            execlp("gnuplot", "gnuplot", gp_path, (char *)NULL);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            unlink(tmp_png);
            st = s1c_err("%s: gnuplot failed or is not installed (exit %d); the CSV is still written", png_path,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        } else {
            st = s1c_commit_tmp(tmp_png, png_path);
        }
    }
    free(gp_path);
    free(tmp_png);
    return st;
}
