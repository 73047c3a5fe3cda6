// cli_run.c — see cli_run.h.
#include "cli_run.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qwen2.h"

pid_t cli_spawn(const char *const *argv, const char *const *env, const char *log_path) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        for (int i = 0; env && env[i] && env[i + 1]; i += 2) setenv(env[i], env[i + 1], 1);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int cli_run(const char *const *argv, const char *const *env, const char *log_path, char *out, size_t cap) {
    pid_t pid = cli_spawn(argv, env, log_path);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) status = 255 << 8;
    FILE *fp = fopen(log_path, "r");
    size_t got = fp && cap ? fread(out, 1, cap - 1, fp) : 0;
    if (cap) out[got] = '\0';
    if (fp) fclose(fp);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cli_read_losses(const char *out_dir, double *loss, int cap) {
    char p[4200], line[1024];
    snprintf(p, sizeof p, "%s/metrics.jsonl", out_dir);
    FILE *fp = fopen(p, "r");
    if (!fp) {
        s1c_err("%s: missing", p);
        return -1;
    }
    int n = 0;
    while (fgets(line, sizeof line, fp) && n < cap) {
        long step;
        const char *l = strstr(line, "\"loss\":");
        if (sscanf(line, "{\"step\":%ld", &step) != 1 || !l) continue;
        if (step != n + 1) {
            fclose(fp);
            s1c_err("%s: step %ld where step %d was expected", p, step, n + 1);
            return -1;
        }
        loss[n++] = strtod(l + 7, NULL);
    }
    fclose(fp);
    return n;
}

int cli_export_rel_l2(const char *run_a, const char *run_b, double *rel, int cap) {
    char pa[4200], pb[4200], cfgp[4300];
    snprintf(pa, sizeof pa, "%s/hf", run_a);
    snprintf(pb, sizeof pb, "%s/hf", run_b);
    snprintf(cfgp, sizeof cfgp, "%s/config.json", pa);
    s1c_qwen2_config cfg;
    if (s1c_qwen2_config_load(cfgp, &cfg) != S1C_OK) return -1;
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&cfg);
    const int U = lay->n_units;
    float **ua = s1c_xcalloc((size_t)U, sizeof(float *)), **ub = s1c_xcalloc((size_t)U, sizeof(float *));
    int n = -1;
    if (s1c_qwen2_weights_load(pa, &cfg, lay, ua) == S1C_OK && s1c_qwen2_weights_load(pb, &cfg, lay, ub) == S1C_OK) {
        for (n = 0; n < U && n < cap; n++) {
            double d = 0, r = 0;
            int finite = 1;
            for (size_t i = 0; i < lay->units[n].numel; i++) {
                finite &= isfinite(ua[n][i]) != 0;
                d += ((double)ua[n][i] - ub[n][i]) * ((double)ua[n][i] - ub[n][i]);
                r += (double)ub[n][i] * ub[n][i];
            }
            rel[n] = !finite ? INFINITY : r > 0 ? sqrt(d / r) : sqrt(d);
        }
    }
    for (int u = 0; u < U; u++) {
        free(ua[u]);
        free(ub[u]);
    }
    free(ua);
    free(ub);
    s1c_qwen2_layout_free(lay);
    return n;
}

int cli_exists(const char *fmt, ...) {
    char p[4200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, sizeof p, fmt, ap);
    va_end(ap);
    struct stat sb;
    return stat(p, &sb) == 0;
}
