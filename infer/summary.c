// summary.c — see summary.h.
#include "summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "s1c_file.h"
#include "s1c_sha256.h"

static double num(const cJSON *r, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *r, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void s1c_summary_add_metrics(cJSON *s, s1c_bench_format fmt, cJSON *const *records, int n, int min_thinking,
                             int max_thinking, s1c_run_point *pt) {
    s1c_sample_stat *st = s1c_xcalloc((size_t)n + 1, sizeof *st);
    double think = 0, answer = 0;
    int correct = 0, within = 0, extracted = 0, maxthink = 0, problems = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *r = records[i];
        int t = (int)num(r, "thinking_tokens"), ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "correct"));
        st[i] = (s1c_sample_stat){.problem = (int)num(r, "index"), .correct = ok, .extracted = str(r, "extracted"),
                                  .subject = str(r, "subject"), .level = (int)num(r, "level")};
        if (i == 0 || st[i].problem != st[i - 1].problem) problems++;
        think += t;
        answer += num(r, "answer_tokens");
        correct += ok;
        extracted += st[i].extracted != NULL;
        // A record of a conditional control carries its verdict against its own budget
        // (control_within.h); others are judged by the token range.
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "within_budget");
        within += cJSON_IsBool(w) ? cJSON_IsTrue(w) && !str(r, "error")
                                  : !str(r, "error") && t >= min_thinking && (max_thinking < 0 || t <= max_thinking);
        if (t > maxthink) maxthink = t;
    }
    pt->n_samples = n;
    pt->accuracy = n ? (double)correct / n : 0;
    pt->mean_thinking = n ? think / n : 0;
    pt->max_thinking_seen = maxthink;
    pt->mean_answer = n ? answer / n : 0;
    pt->within_frac = n ? (double)within / n : 0;
    cJSON *m = s1c_metrics_summary(fmt, st, n, pt);
    cJSON_AddNumberToObject(s, "problems", problems);
    cJSON_AddNumberToObject(s, "samples", n);
    cJSON_AddNumberToObject(s, "correct", correct);
    cJSON_AddNumberToObject(s, "accuracy", pt->accuracy);
    cJSON_AddNumberToObject(s, "accuracy_stderr", pt->accuracy_stderr);
    cJSON_AddNumberToObject(s, "samples_per_problem", pt->n_per_problem);
    cJSON_AddItemToObject(s, "pass_at_k", cJSON_DetachItemFromObject(m, "pass_at_k"));
    cJSON_AddNumberToObject(s, "maj_at_k", pt->maj_at_n);
    cJSON_AddNumberToObject(s, "mean_thinking_tokens", pt->mean_thinking);
    cJSON_AddNumberToObject(s, "max_thinking_tokens", maxthink);
    cJSON_AddNumberToObject(s, "mean_answer_tokens", pt->mean_answer);
    cJSON_AddNumberToObject(s, "within_budget", pt->within_frac);
    cJSON_AddNumberToObject(s, "unextractable", n - extracted);
    cJSON *b = cJSON_DetachItemFromObject(m, "by_subject");
    if (b) cJSON_AddItemToObject(s, "by_subject", b);
    if ((b = cJSON_DetachItemFromObject(m, "by_level"))) cJSON_AddItemToObject(s, "by_level", b);
    cJSON_Delete(m);
    free(st);
}

cJSON *s1c_summary_options(const s1c_eval_opts *o, const int32_t *stop_ids, int n_stop_ids) {
    static const char *const cn[] = {"none", "token", "step", "class", "rejection"};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "max_thinking", o->max_thinking);
    cJSON_AddNumberToObject(j, "min_thinking", o->min_thinking);
    cJSON_AddNumberToObject(j, "ignore", o->ignore);
    cJSON_AddStringToObject(j, "wait", o->wait);
    cJSON_AddStringToObject(j, "think_end", o->think_end);
    cJSON_AddStringToObject(j, "answer_prefix", o->answer_prefix);
    cJSON *ss = cJSON_AddArrayToObject(j, "stop_strings");
    for (int i = 0; i < o->n_stop_strings; i++) cJSON_AddItemToArray(ss, cJSON_CreateString(o->stop_strings[i]));
    cJSON_AddItemToObject(j, "stop_ids", cJSON_CreateIntArray((const int *)stop_ids, n_stop_ids));
    cJSON_AddNumberToObject(j, "max_answer", o->max_answer);
    cJSON_AddNumberToObject(j, "max_new", o->max_new);
    cJSON_AddNumberToObject(j, "temperature", o->sampling.temperature);
    cJSON_AddNumberToObject(j, "top_p", o->sampling.top_p);
    cJSON_AddNumberToObject(j, "top_k", o->sampling.top_k);
    cJSON_AddNumberToObject(j, "n", o->n);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddStringToObject(j, "control", cn[o->control]);
    if (o->control != S1C_CONTROL_NONE) {
        cJSON_AddNumberToObject(j, "control_budget", o->control_budget);
        cJSON_AddStringToObject(j, "class", o->class_long ? "long" : "short");
        cJSON_AddStringToObject(j, "step_delim", o->step_delim);
        cJSON_AddNumberToObject(j, "rejection_tries", o->rejection_tries);
    }
    if (o->system) cJSON_AddStringToObject(j, "system", o->system);
    else cJSON_AddNullToObject(j, "system");  // Qwen's default system turn
    if (o->template_text) cJSON_AddStringToObject(j, "template", o->template_text);
    else cJSON_AddNullToObject(j, "template");  // the format's default
    cJSON_AddBoolToObject(j, "model_writes_newline", o->model_writes_newline);
    cJSON_AddStringToObject(j, "think_stop", o->think_stop_full ? "full" : "first");
    cJSON_AddStringToObject(j, "eos_in_thinking", o->eos_forced_end ? "forced" : "delimiter");
    cJSON_AddNumberToObject(j, "min_tokens", o->min_tokens >= 0 ? o->min_tokens : o->ignore > 0 ? 1 : 0);
    cJSON_AddBoolToObject(j, "max_thinking_auto", o->max_thinking_auto);
    cJSON_AddNumberToObject(j, "limit", o->limit);
    cJSON_AddStringToObject(j, "device", o->device);
    cJSON_AddStringToObject(j, "weights_dtype", o->weights_dtype ? o->weights_dtype : "auto");
    cJSON_AddStringToObject(j, "matmul_precision", o->matmul_precision ? o->matmul_precision : "bf16");
    return j;
}

static void add_hash(cJSON *j, const char *key, const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = s1c_xmalloc(n), hex[65];
    snprintf(p, n, "%s/%s", dir, name);
    struct stat sb;
    if (stat(p, &sb) == 0 && s1c_sha256_file(p, hex) == S1C_OK) cJSON_AddStringToObject(j, key, hex);
    else cJSON_AddNullToObject(j, key);
    free(p);
}

void s1c_summary_date(char out[32]) {
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cJSON *s1c_summary_provenance(const char *model_dir, const char *benchmark) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "s1c_version", S1C_VERSION);
    cJSON_AddStringToObject(j, "model_dir", model_dir);
    add_hash(j, "model_config_sha256", model_dir, "config.json");
    // The index names every shard; a single-file checkpoint has none (hashing tens of GB of
    // weights per run would cost minutes), so its header (tensor names, shapes, offsets) stands in.
    size_t n = strlen(model_dir) + 64;
    char *p = s1c_xmalloc(n);
    snprintf(p, n, "%s/model.safetensors.index.json", model_dir);
    struct stat sb;
    if (stat(p, &sb) == 0) add_hash(j, "weights_index_sha256", model_dir, "model.safetensors.index.json");
    else {
        snprintf(p, n, "%s/model.safetensors", model_dir);
        FILE *fp = fopen(p, "rb");
        unsigned char len8[8];
        if (fp && fread(len8, 1, 8, fp) == 8) {
            uint64_t hl = 0;
            for (int i = 7; i >= 0; i--) hl = hl << 8 | len8[i];
            if (hl > 0 && hl < (1u << 30)) {
                char *h = s1c_xmalloc((size_t)hl), hex[65];
                if (fread(h, 1, (size_t)hl, fp) == hl) {
                    s1c_sha256_buf(h, (size_t)hl, hex);
                    cJSON_AddStringToObject(j, "safetensors_header_sha256", hex);
                }
                free(h);
            }
        }
        if (fp) fclose(fp);
    }
    free(p);
    if (benchmark) {
        char hex[65];
        if (s1c_sha256_file(benchmark, hex) == S1C_OK) cJSON_AddStringToObject(j, "benchmark_sha256", hex);
        else cJSON_AddNullToObject(j, "benchmark_sha256");
    }
    char date[32];
    s1c_summary_date(date);
    cJSON_AddStringToObject(j, "date", date);
    return j;
}

s1c_status s1c_summary_write(const char *dir, const cJSON *s) {
    size_t n = strlen(dir) + 32;
    char *path = s1c_xmalloc(n);
    snprintf(path, n, "%s/summary.json", dir);
    char *js = cJSON_Print(s);
    s1c_atomic_file f;
    s1c_status st = s1c_atomic_open(&f, path);
    if (st == S1C_OK) {
        fprintf(f.fp, "%s\n", js);
        st = s1c_atomic_commit(&f);
    }
    free(js);
    free(path);
    return st;
}
