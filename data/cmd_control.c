// s1c-data control — training records for the conditional length-control models of the paper's
// Table 3 (control_data.h): s1-schema JSONL in, the same records with the token- or
// step-conditional instruction (and, for steps, the counting-down delimiters) out; pack the output
// as usual. Each output record also carries the budget it was given ("control_budget") and the
// trace's own length ("thinking_tokens" / "thinking_steps"), for inspection.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "control_data.h"
#include "jsonl.h"
#include "s1c_getopt.h"
#include "tokenizer.h"
#include "zstd_stream.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: s1c-data control --mode token|step|class --in FILE[.zst] --out FILE[.zst] [options]\n"
            "  --mode token      question + \"\\n\\nThink for up to N tokens.\", N = the trace's thinking tokens\n"
            "                    (as the model generates them: the trace and its final newline) rounded up\n"
            "                    to a power of two; needs --tokenizer\n"
            "  --mode step       question + \"\\n\\nThink for up to N steps.\", N = the trace's steps rounded up\n"
            "                    to a power of two; each step opens with \"<|im_start|>K steps left\\n\", K = N, N-1, ..\n"
            "  --mode class      question + the s1 harness's short / long thinking instruction: long when the\n"
            "                    trace's thinking tokens are above the input's median; needs --tokenizer\n"
            "  --tokenizer DIR   the model's tokenizer (token and class modes)\n"
            "  --step-sep S      what separates two steps of a trace (default \"\\n\\n\"; the toy's: \"\\n\")\n");
}

static const struct option OPTS[] = {{"mode", required_argument, NULL, 0},      {"in", required_argument, NULL, 0},
                                     {"out", required_argument, NULL, 0},       {"tokenizer", required_argument, NULL, 0},
                                     {"step-sep", required_argument, NULL, 0},  {"help", no_argument, NULL, 0},
                                     {NULL, 0, NULL, 0}};

// The trace as s1's training text holds it: trajectories joined by "\n", outer whitespace
// stripped (ASCII; s1_format.c strips the same way for the toy's ASCII traces).
static char *joined_trace(const cJSON *rec, const char *path, unsigned long long line) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "thinking_trajectories");
    size_t cap = 64, n = 0;
    char *s = s1c_xmalloc(cap);
    s[0] = '\0';
    if (cJSON_IsString(t)) {
        free(s);
        s = s1c_xstrdup(t->valuestring);
    } else if (cJSON_IsArray(t) && cJSON_GetArraySize(t) > 0) {
        const cJSON *e;
        cJSON_ArrayForEach(e, t) {
            if (!cJSON_IsString(e)) {
                free(s);
                s1c_err("%s:%llu: field 'thinking_trajectories': expected strings, found %s", path, line,
                        s1c_json_type_name(e));
                return NULL;
            }
            size_t k = strlen(e->valuestring);
            if (n + k + 2 > cap) s = s1c_xrealloc(s, cap = 2 * (n + k + 2));
            if (n) s[n++] = '\n';
            memcpy(s + n, e->valuestring, k + 1);
            n += k;
        }
    } else {
        free(s);
        s1c_err("%s:%llu: field 'thinking_trajectories': expected a non-empty list of strings or a string", path, line);
        return NULL;
    }
    size_t a = 0, b = strlen(s);
    while (a < b && strchr(" \t\r\n", s[a])) a++;
    while (b > a && strchr(" \t\r\n", s[b - 1])) b--;
    memmove(s, s + a, b - a);
    s[b - a] = '\0';
    return s;
}

enum { MODE_TOKEN, MODE_STEP, MODE_CLASS };

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

// The thinking the model generates before "<|im_start|>answer": the trace and the newline the
// training text puts after it (infer counts the same tokens as thinking).
static s1c_status thinking_tokens(const s1c_tokenizer *tok, const char *trace, const char *path,
                                  unsigned long long line, long *count) {
    size_t n = strlen(trace);
    char *t = s1c_xmalloc(n + 2);
    memcpy(t, trace, n);
    memcpy(t + n, "\n", 2);
    s1c_ids ids = {0};
    s1c_status st = s1c_tokenizer_encode(tok, t, n + 1, 0, &ids);
    free(t);
    *count = (long)ids.n;
    s1c_ids_free(&ids);
    return st == S1C_OK ? S1C_OK : s1c_err("%s:%llu: tokenizing the trace: %s", path, line, s1c_err_msg());
}

static s1c_status transform(cJSON *rec, int mode, const s1c_tokenizer *tok, const char *sep, long median,
                            const char *path, unsigned long long line, long *budget_out) {
    const char *q;
    int got = s1c_json_string(rec, "question", &q);
    if (got != 1)
        return got < 0 ? s1c_err("%s:%llu: %s", path, line, s1c_err_msg())
                       : s1c_err("%s:%llu: field 'question': missing (expected a string)", path, line);
    char *trace = joined_trace(rec, path, line);
    if (!trace) return S1C_ERR;
    char *question = NULL;
    long budget;
    if (mode != MODE_STEP) {
        long count;
        if (thinking_tokens(tok, trace, path, line, &count) != S1C_OK) {
            free(trace);
            return S1C_ERR;
        }
        if (mode == MODE_TOKEN) {
            budget = s1c_ctl_pow2_ceil(count);
            question = s1c_ctl_token_question(q, budget);
        } else {
            budget = count > median;  // the class: 1 long, 0 short
            question = s1c_ctl_class_question(q, (int)budget);
            cJSON_AddStringToObject(rec, "control_class", budget ? "long" : "short");
        }
        cJSON_AddNumberToObject(rec, "thinking_tokens", (double)count);
    } else {
        int steps = s1c_ctl_count_steps(trace, sep);
        budget = s1c_ctl_pow2_ceil(steps);
        char *scc;
        if (s1c_ctl_step_trace(trace, sep, budget, &scc) != S1C_OK) {
            free(trace);
            return s1c_err("%s:%llu: %s", path, line, s1c_err_msg());
        }
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_CreateString(scc));
        free(scc);
        cJSON_ReplaceItemInObjectCaseSensitive(rec, "thinking_trajectories", arr);
        question = s1c_ctl_step_question(q, budget);
        cJSON_AddNumberToObject(rec, "thinking_steps", steps);
    }
    free(trace);
    cJSON_ReplaceItemInObjectCaseSensitive(rec, "question", cJSON_CreateString(question));
    free(question);
    if (mode != MODE_CLASS) cJSON_AddNumberToObject(rec, "control_budget", (double)budget);
    *budget_out = budget;
    return S1C_OK;
}

// Pass 1 of --mode class: the median thinking tokens of the input's records (the lower median).
static s1c_status median_tokens(const char *in, const s1c_tokenizer *tok, long *median) {
    s1c_lines *r = s1c_lines_open(in);
    if (!r) return S1C_ERR;
    const char *line;
    size_t len, n = 0, cap = 0;
    uint64_t off, lineno;
    long *v = NULL;
    int more;
    s1c_status st = S1C_OK;
    while (st == S1C_OK && (more = s1c_lines_next(r, &line, &len, &off, &lineno)) > 0) {
        size_t i = 0;
        while (i < len && strchr(" \t\r", line[i])) i++;
        if (i == len) continue;
        cJSON *rec = s1c_jsonl_parse(in, lineno, line, len);
        char *trace = rec ? joined_trace(rec, in, (unsigned long long)lineno) : NULL;
        if (!trace) st = S1C_ERR;
        else {
            if (n == cap) v = s1c_xrealloc(v, (cap = 2 * cap + 256) * sizeof *v);
            st = thinking_tokens(tok, trace, in, (unsigned long long)lineno, &v[n++]);
        }
        free(trace);
        cJSON_Delete(rec);
    }
    if (st == S1C_OK && more < 0) st = S1C_ERR;
    s1c_lines_close(r);
    if (st == S1C_OK && n == 0) st = s1c_err("%s: no records", in);
    if (st == S1C_OK) {
        qsort(v, n, sizeof *v, cmp_long);
        *median = v[(n - 1) / 2];
    }
    free(v);
    return st;
}

int s1c_cmd_control(int argc, char **argv) {
    const char *mode_s = NULL, *in = NULL, *out = NULL, *tok_dir = NULL, *sep = "\n\n", *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, OPTS, "s1c-data control", &a, &v)) > 0) {
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--mode")) mode_s = v;
        else if (!strcmp(a, "--in")) in = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--tokenizer")) tok_dir = v;
        else if (!strcmp(a, "--step-sep")) sep = v;
    }
    if (got < 0) return 2;
    if (optind != argc || !mode_s || !in || !out) {
        usage(stderr);
        return 2;
    }
    int mode = !strcmp(mode_s, "token") ? MODE_TOKEN : !strcmp(mode_s, "step") ? MODE_STEP
             : !strcmp(mode_s, "class") ? MODE_CLASS : -1;
    if (mode < 0) {
        fprintf(stderr, "s1c-data control: --mode '%s': expected token, step or class\n", mode_s);
        return 2;
    }
    if (!*sep) {
        fprintf(stderr, "s1c-data control: --step-sep must not be empty\n");
        return 2;
    }
    s1c_tokenizer *tok = NULL;
    long median = 0;
    if (mode != MODE_STEP) {
        if (!tok_dir) {
            fprintf(stderr, "s1c-data control: --mode %s needs --tokenizer DIR (thinking is counted in tokens)\n", mode_s);
            return 2;
        }
        if (!(tok = s1c_tokenizer_load(tok_dir)) || (mode == MODE_CLASS && median_tokens(in, tok, &median) != S1C_OK)) {
            fprintf(stderr, "s1c-data control: %s\n", s1c_err_msg());
            s1c_tokenizer_free(tok);
            return 1;
        }
    }
    s1c_lines *r = s1c_lines_open(in);
    s1c_out *w = r ? s1c_out_open(out) : NULL;
    if (!r || !w) {
        fprintf(stderr, "s1c-data control: %s\n", s1c_err_msg());
        if (r) s1c_lines_close(r);
        s1c_tokenizer_free(tok);
        return 1;
    }
    const char *line;
    size_t len;
    uint64_t off, lineno;
    long records = 0, hist[64] = {0};
    int rc = 0, more;
    while ((more = s1c_lines_next(r, &line, &len, &off, &lineno)) > 0) {
        size_t i = 0;
        while (i < len && strchr(" \t\r", line[i])) i++;
        if (i == len) continue;  // blank line
        cJSON *rec = s1c_jsonl_parse(in, lineno, line, len);
        long budget = 0;
        if (!rec || transform(rec, mode, tok, sep, median, in, (unsigned long long)lineno, &budget) != S1C_OK) {
            cJSON_Delete(rec);
            rc = 1;
            break;
        }
        char *js = cJSON_PrintUnformatted(rec);
        cJSON_Delete(rec);
        s1c_status st = s1c_out_write(w, js, strlen(js));
        if (st == S1C_OK) st = s1c_out_write(w, "\n", 1);
        free(js);
        if (st != S1C_OK) {
            rc = 1;
            break;
        }
        int b = 0;
        while ((1L << b) < budget && b < 63) b++;
        hist[mode == MODE_CLASS ? budget : b]++;
        records++;
    }
    if (more < 0) rc = 1;
    if (rc == 0 && records == 0) {
        s1c_err("%s: no records", in);
        rc = 1;
    }
    if (rc != 0) {
        fprintf(stderr, "s1c-data control: %s\n", s1c_err_msg());
        s1c_out_abort(w);
    } else if (s1c_out_commit(w) != S1C_OK) {
        fprintf(stderr, "s1c-data control: %s\n", s1c_err_msg());
        rc = 1;
    } else if (mode == MODE_CLASS) {
        fprintf(stderr, "control: %ld records -> %s (class-conditional); median thinking %ld tokens: %ld short, %ld long\n",
                records, out, median, hist[0], hist[1]);
    } else {
        fprintf(stderr, "control: %ld records -> %s (%s-conditional); budgets:", records, out, mode_s);
        for (int b = 0; b < 64; b++)
            if (hist[b]) fprintf(stderr, " %ld:%ld", 1L << b, hist[b]);
        fprintf(stderr, "\n");
    }
    s1c_lines_close(r);
    s1c_tokenizer_free(tok);
    return rc;
}
