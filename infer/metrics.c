// metrics.c — see metrics.h.
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "s1c_file.h"

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
                  "mean_answer_tokens,within_budget\n");
    for (int i = 0; i < n; i++) {
        const s1c_run_point *p = &pts[i];
        fprintf(f.fp, "%s,%d,%d,%d,%d,%.6f,%.3f,%d,%.3f,%.6f\n", p->label, p->max_thinking, p->min_thinking, p->ignore,
                p->n_samples, p->accuracy, p->mean_thinking, p->max_thinking_seen, p->mean_answer, p->within_frac);
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
