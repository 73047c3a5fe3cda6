// cmd_regrade.c — `s1c-infer regrade`: re-grades the generations of a samples.jsonl written by
// eval / sweep with today's grader and rewrites samples.jsonl and summary.json, so that a grader
// fix never needs new generations.
//
// The format, the delimiter and the budget limits come from the summary.json beside the samples
// file (--format / --think-end override them; --format is needed when there is none). Only
// "extracted" and "correct" change in the records; the summary keeps label, options and
// provenance and gets fresh metrics plus "regraded" (date, s1c version, verdicts changed).
// Output: --out DIR (default: the samples file's own directory, rewritten atomically).
#include "cmd_regrade.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_load.h"
#include "grade/grade.h"
#include "jsonl.h"
#include "s1_format.h"
#include "s1c_file.h"
#include "summary.h"
#include "zstd_stream.h"

static void usage(FILE *fp) {
    fprintf(fp, "usage: s1c-infer regrade --samples samples.jsonl [--out DIR] [--format aime|math|gpqa] "
                "[--think-end STR]\n"
                "  re-grades saved generations with this grader; rewrites samples.jsonl and summary.json\n"
                "  (in the samples file's directory unless --out DIR)\n");
}

typedef struct {
    cJSON **recs;
    int n, cap;
} records;

static s1c_status read_records(const char *path, records *rs) {
    s1c_lines *r = s1c_lines_open(path);
    if (!r) return S1C_ERR;
    const char *line;
    size_t len;
    uint64_t off, lineno;
    int rc;
    s1c_status st = S1C_OK;
    while (!st && (rc = s1c_lines_next(r, &line, &len, &off, &lineno)) == 1) {
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k == len) continue;
        cJSON *o = s1c_jsonl_parse(path, lineno, line, len);
        if (!o) {
            st = S1C_ERR;
            break;
        }
        const char *sv;
        double dv;
        const char *bad = s1c_json_string(o, "generation", &sv) != 1 ? "generation"
                          : s1c_json_string(o, "gold", &sv) != 1     ? "gold"
                          : s1c_json_number(o, "index", &dv) != 1    ? "index"
                                                                     : NULL;
        if (bad) {
            st = s1c_err("%s:%llu: field \"%s\" missing or mistyped (a samples.jsonl of s1c-infer eval?)", path,
                         (unsigned long long)lineno, bad);
            cJSON_Delete(o);
            break;
        }
        if (rs->n == rs->cap) rs->recs = s1c_xrealloc(rs->recs, (size_t)(rs->cap = rs->cap ? 2 * rs->cap : 256) * sizeof *rs->recs);
        rs->recs[rs->n++] = o;
    }
    if (!st && rc < 0) st = S1C_ERR;
    s1c_lines_close(r);
    if (!st && rs->n == 0) st = s1c_err("%s: no samples", path);
    return st;
}

static char *dir_of(const char *path) {
    const char *sl = strrchr(path, '/');
    return sl ? strndup(path, (size_t)(sl - path)) : s1c_xstrdup(".");
}

static void copy_item(cJSON *to, const cJSON *from, const char *key) {
    const cJSON *v = from ? cJSON_GetObjectItemCaseSensitive(from, key) : NULL;
    if (v) cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, 1));
}

static int opt_int(const cJSON *opts, const char *key, int dflt) {
    const cJSON *v = opts ? cJSON_GetObjectItemCaseSensitive(opts, key) : NULL;
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

int s1c_cmd_regrade(int argc, char **argv) {
    const char *samples = NULL, *out_dir = NULL, *format = NULL, *think_end = NULL;
    static const struct option opts[] = {{"samples", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
                                         {"format", required_argument, NULL, 'f'}, {"think-end", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        switch (c) {
        case 's': samples = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'f': format = optarg; break;
        case 't': think_end = optarg; break;
        case 'h': usage(stdout); return 0;
        case ':': fprintf(stderr, "s1c-infer regrade: %s needs a value\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "s1c-infer regrade: unknown option '%s'\n", argv[optind - 1]); usage(stderr); return 2;
        }
    }
    if (optind < argc || !samples) {
        if (optind < argc) fprintf(stderr, "s1c-infer regrade: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    records rs = {0};
    char *src_dir = dir_of(samples), *text = NULL, *sum_path = s1c_xmalloc(strlen(src_dir) + 32);
    sprintf(sum_path, "%s/summary.json", src_dir);
    cJSON *old = NULL;
    size_t len = 0;
    s1c_status st = S1C_OK;
    if (access(sum_path, F_OK) == 0) {
        if (s1c_read_file(sum_path, &text, &len) != S1C_OK) st = S1C_ERR;
        else if (!(old = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(old))
            st = s1c_err("%s: not a JSON object", sum_path);
    }
    const cJSON *old_opts = old ? cJSON_GetObjectItemCaseSensitive(old, "options") : NULL;
    if (!st && !format) {
        const cJSON *f = old ? cJSON_GetObjectItemCaseSensitive(old, "format") : NULL;
        if (cJSON_IsString(f)) format = f->valuestring;
        else st = s1c_err("%s: no summary.json with a \"format\" beside it: give --format", samples);
    }
    s1c_bench_format fmt = S1C_BENCH_MATH;
    if (!st) st = s1c_bench_parse_format(format, &fmt);
    if (!st && !think_end) {
        const cJSON *t = old_opts ? cJSON_GetObjectItemCaseSensitive(old_opts, "think_end") : NULL;
        think_end = cJSON_IsString(t) ? t->valuestring : S1C_THINK_END;
    }
    if (!st) st = read_records(samples, &rs);
    int changed = 0, correct_before = 0, correct_after = 0;
    for (int i = 0; !st && i < rs.n; i++) {
        cJSON *r = rs.recs[i];
        int was = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "correct"));
        const char *gen = cJSON_GetObjectItemCaseSensitive(r, "generation")->valuestring;
        const char *gold = cJSON_GetObjectItemCaseSensitive(r, "gold")->valuestring;
        // A sample that failed (an "error" field) keeps its verdict: it has no real generation.
        char *ans = cJSON_GetObjectItemCaseSensitive(r, "error") ? NULL : s1c_extract_answer(gen, think_end, fmt);
        int now = s1c_grade(fmt, gold, ans);
        cJSON *ex = ans ? cJSON_CreateString(ans) : cJSON_CreateNull(), *ok = cJSON_CreateBool(now);
        if (cJSON_GetObjectItemCaseSensitive(r, "extracted")) cJSON_ReplaceItemInObjectCaseSensitive(r, "extracted", ex);
        else cJSON_AddItemToObject(r, "extracted", ex);
        if (cJSON_GetObjectItemCaseSensitive(r, "correct")) cJSON_ReplaceItemInObjectCaseSensitive(r, "correct", ok);
        else cJSON_AddItemToObject(r, "correct", ok);
        free(ans);
        changed += was != now;
        correct_before += was;
        correct_after += now;
    }
    const char *dst = out_dir ? out_dir : src_dir;
    char *path = s1c_xmalloc(strlen(dst) + 32);
    if (!st) st = s1c_mkdirs(dst);
    if (!st) {
        sprintf(path, "%s/samples.jsonl", dst);
        s1c_atomic_file f;
        st = s1c_atomic_open(&f, path);
        for (int i = 0; !st && i < rs.n; i++) {
            char *js = cJSON_PrintUnformatted(rs.recs[i]);
            fprintf(f.fp, "%s\n", js);
            free(js);
        }
        if (!st) st = s1c_atomic_commit(&f);
    }
    if (!st) {
        cJSON *s = cJSON_CreateObject();
        copy_item(s, old, "label");
        copy_item(s, old, "benchmark");
        cJSON_AddStringToObject(s, "format", s1c_bench_format_name(fmt));
        copy_item(s, old, "model");
        s1c_run_point pt = {0};
        s1c_summary_add_metrics(s, fmt, rs.recs, rs.n, opt_int(old_opts, "min_thinking", 0),
                                opt_int(old_opts, "max_thinking", -1), &pt);
        copy_item(s, old, "max_thinking");
        copy_item(s, old, "min_thinking");
        copy_item(s, old, "ignore");
        copy_item(s, old, "options");
        copy_item(s, old, "provenance");
        cJSON *rg = cJSON_AddObjectToObject(s, "regraded");
        char date[32];
        s1c_summary_date(date);
        cJSON_AddStringToObject(rg, "date", date);
        cJSON_AddStringToObject(rg, "s1c_version", S1C_VERSION);
        cJSON_AddStringToObject(rg, "samples", samples);
        cJSON_AddNumberToObject(rg, "verdicts_changed", changed);
        cJSON_AddNumberToObject(rg, "correct_before", correct_before);
        st = s1c_summary_write(dst, s);
        cJSON_Delete(s);
        if (!st)
            printf("regraded %d samples: %d correct before, %d now (%d verdicts changed); accuracy %.2f%% +- %.2f, "
                   "wrote %s/summary.json\n",
                   rs.n, correct_before, correct_after, changed, 100.0 * pt.accuracy, 100.0 * pt.accuracy_stderr, dst);
    }
    if (st) fprintf(stderr, "s1c-infer regrade: %s\n", s1c_err_msg());
    for (int i = 0; i < rs.n; i++) cJSON_Delete(rs.recs[i]);
    free(rs.recs);
    cJSON_Delete(old);
    free(text);
    free(sum_path);
    free(src_dir);
    free(path);
    return st ? 1 : 0;
}
