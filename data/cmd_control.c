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
            "usage: s1c-data control --mode token|step --in FILE[.zst] --out FILE[.zst] [options]\n"
            "  --mode token      question + \"\\n\\nThink for up to N tokens.\", N = the trace's thinking tokens\n"
            "                    (as the model generates them: the trace and its final newline) rounded up\n"
            "                    to a power of two; needs --tokenizer\n"
            "  --mode step       question + \"\\n\\nThink for up to N steps.\", N = the trace's steps rounded up\n"
            "                    to a power of two; each step opens with \"<|im_start|>K steps left\\n\", K = N, N-1, ..\n"
            "  --tokenizer DIR   the model's tokenizer (token mode)\n"
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

static s1c_status transform(cJSON *rec, int step_mode, const s1c_tokenizer *tok, const char *sep, const char *path,
                            unsigned long long line, long *budget_out) {
    const char *q;
    int got = s1c_json_string(rec, "question", &q);
    if (got != 1)
        return got < 0 ? s1c_err("%s:%llu: %s", path, line, s1c_err_msg())
                       : s1c_err("%s:%llu: field 'question': missing (expected a string)", path, line);
    char *trace = joined_trace(rec, path, line);
    if (!trace) return S1C_ERR;
    char *question = NULL;
    long budget;
    if (!step_mode) {
        // The thinking the model generates before "<|im_start|>answer": the trace and the newline
        // the training text puts after it (infer counts the same tokens as thinking).
        size_t n = strlen(trace);
        char *t = s1c_xmalloc(n + 2);
        memcpy(t, trace, n);
        memcpy(t + n, "\n", 2);
        s1c_ids ids = {0};
        s1c_status st = s1c_tokenizer_encode(tok, t, n + 1, 0, &ids);
        free(t);
        if (st != S1C_OK) {
            free(trace);
            return s1c_err("%s:%llu: tokenizing the trace: %s", path, line, s1c_err_msg());
        }
        long count = (long)ids.n;
        s1c_ids_free(&ids);
        budget = s1c_ctl_pow2_ceil(count);
        question = s1c_ctl_token_question(q, budget);
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
    cJSON_AddNumberToObject(rec, "control_budget", (double)budget);
    *budget_out = budget;
    return S1C_OK;
}

int s1c_cmd_control(int argc, char **argv) {
    const char *mode = NULL, *in = NULL, *out = NULL, *tok_dir = NULL, *sep = "\n\n", *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, OPTS, "s1c-data control", &a, &v)) > 0) {
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--mode")) mode = v;
        else if (!strcmp(a, "--in")) in = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--tokenizer")) tok_dir = v;
        else if (!strcmp(a, "--step-sep")) sep = v;
    }
    if (got < 0) return 2;
    if (optind != argc || !mode || !in || !out) {
        usage(stderr);
        return 2;
    }
    int step_mode = !strcmp(mode, "step");
    if (!step_mode && strcmp(mode, "token")) {
        fprintf(stderr, "s1c-data control: --mode '%s': expected token or step\n", mode);
        return 2;
    }
    if (!*sep) {
        fprintf(stderr, "s1c-data control: --step-sep must not be empty\n");
        return 2;
    }
    s1c_tokenizer *tok = NULL;
    if (!step_mode) {
        if (!tok_dir) {
            fprintf(stderr, "s1c-data control: --mode token needs --tokenizer DIR (thinking is counted in tokens)\n");
            return 2;
        }
        if (!(tok = s1c_tokenizer_load(tok_dir))) {
            fprintf(stderr, "s1c-data control: %s\n", s1c_err_msg());
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
        if (!rec || transform(rec, step_mode, tok, sep, in, (unsigned long long)lineno, &budget) != S1C_OK) {
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
        hist[b]++;
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
    } else {
        fprintf(stderr, "control: %ld records -> %s (%s-conditional); budgets:", records, out, step_mode ? "step" : "token");
        for (int b = 0; b < 64; b++)
            if (hist[b]) fprintf(stderr, " %ld:%ld", 1L << b, hist[b]);
        fprintf(stderr, "\n");
    }
    s1c_lines_close(r);
    s1c_tokenizer_free(tok);
    return rc;
}
