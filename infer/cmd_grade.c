// s1c-infer grade — grades JSONL lines {"gold": ..., "prediction": ...} without a model.
//
// Each input line is written back with "correct" (true/false) and "extracted" (what was read
// from the prediction, null when nothing) added; a prediction may be a bare answer or a whole
// generation (only the text after the last --think-end is read). Input: --in FILE (plain or
// .zst) or stdin; output: --out FILE (written atomically; .zst compresses) or stdout, written
// only once every line has been read, so a malformed line leaves no partial output. A summary
// line goes to stderr. Exit 0, or 1 naming the line and field of the first malformed input.
#include "cmd_grade.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_load.h"
#include "grade/grade.h"
#include "jsonl.h"
#include "s1_format.h"
#include "zstd_stream.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: s1c-infer grade --format math|aime|gpqa [--in FILE] [--out FILE] [options]\n"
            "  reads JSONL lines {\"gold\": ..., \"prediction\": ...} (stdin without --in) and writes each line\n"
            "  back with \"correct\" and \"extracted\" added (stdout without --out)\n"
            "  --think-end STR     only the text after its last occurrence is read (default \"%s\")\n"
            "  --float-digits N    decimals two numbers must agree to when one is a float (default 6)\n"
            "  --targets LIST      what extraction may read: latex,expr (default both)\n"
            "  --non-strict        variables match by order of appearance (f(x) equals f(y))\n"
            "  --set-relation      a gold set also matches a relation (x in [a,b] vs a <= x <= b)\n"
            "  --letters STR       the choice letters for gpqa (default ABCD)\n",
            S1C_THINK_END);
}

typedef struct {
    s1c_out *file;  // --out
    char *mem;      // stdout, printed at the end
    size_t n, cap;
} sink;

static s1c_status sink_write(sink *s, const char *p, size_t n) {
    if (s->file) return s1c_out_write(s->file, p, n);
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2 + 4096;
        s->mem = s1c_xrealloc(s->mem, s->cap);
    }
    memcpy(s->mem + s->n, p, n);
    s->n += n;
    return S1C_OK;
}

// stdin as one buffer (a pipe cannot be rewound, so the line reader does not read it).
static s1c_status read_stdin(char **out, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = s1c_xmalloc(cap);
    for (size_t got; (got = fread(buf + n, 1, cap - n - 1, stdin)) > 0;) {
        n += got;
        if (cap - n - 1 == 0) buf = s1c_xrealloc(buf, cap *= 2);
    }
    if (ferror(stdin)) {
        free(buf);
        return s1c_err("stdin: read error");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return S1C_OK;
}

// A field as text: a string, or a number written as an integer when it is one (AIME answers).
static s1c_status field_text(const cJSON *obj, const char *name, const char *where, uint64_t line, char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(v)) {
        *out = s1c_xstrdup(v->valuestring);
        return S1C_OK;
    }
    if (cJSON_IsNumber(v)) {
        char buf[64];
        if (v->valuedouble == (double)(long long)v->valuedouble) snprintf(buf, sizeof buf, "%lld", (long long)v->valuedouble);
        else snprintf(buf, sizeof buf, "%.17g", v->valuedouble);
        *out = s1c_xstrdup(buf);
        return S1C_OK;
    }
    if (!v) return s1c_err("%s:%llu: field \"%s\" missing (expected a string or number)", where, (unsigned long long)line, name);
    return s1c_err("%s:%llu: field \"%s\" is %s, expected a string or number", where, (unsigned long long)line, name,
                   s1c_json_type_name(v));
}

static const char *after_think(const char *text, const char *delim) {
    if (!delim || !*delim) return text;
    const char *last = NULL;
    for (const char *p = strstr(text, delim); p; p = strstr(p + 1, delim)) last = p;
    return last ? last + strlen(delim) : text;
}

typedef struct {
    s1c_bench_format fmt;
    s1c_grade_opts o;
    const char *think_end;
    long n, correct, unextracted;
} grader;

static s1c_status grade_line(grader *g, const char *where, uint64_t lineno, const char *line, size_t len, sink *out) {
    cJSON *obj = s1c_jsonl_parse(where, lineno, line, len);
    if (!obj) return S1C_ERR;
    char *gold = NULL, *pred = NULL, *extracted = NULL;
    s1c_status st = field_text(obj, "gold", where, lineno, &gold);
    if (!st) st = field_text(obj, "prediction", where, lineno, &pred);
    if (!st) {
        int ok = s1c_grade_text(g->fmt, gold, after_think(pred, g->think_end), &g->o, &extracted);
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "correct");
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "extracted");
        cJSON_AddBoolToObject(obj, "correct", ok);
        if (extracted) cJSON_AddStringToObject(obj, "extracted", extracted);
        else cJSON_AddNullToObject(obj, "extracted");
        char *js = cJSON_PrintUnformatted(obj);
        st = sink_write(out, js, strlen(js));
        if (!st) st = sink_write(out, "\n", 1);
        free(js);
        g->n++;
        g->correct += ok;
        g->unextracted += extracted == NULL;
    }
    free(gold);
    free(pred);
    free(extracted);
    cJSON_Delete(obj);
    return st;
}

static s1c_status run(grader *g, const char *in, sink *out) {
    s1c_status st = S1C_OK;
    if (in) {
        s1c_lines *r = s1c_lines_open(in);
        if (!r) return S1C_ERR;
        const char *line;
        size_t len;
        uint64_t off, lineno;
        int rc = 0;
        while (!st && (rc = s1c_lines_next(r, &line, &len, &off, &lineno)) == 1) {
            size_t k = 0;
            while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
            if (k < len) st = grade_line(g, in, lineno, line, len, out);
        }
        if (!st && rc < 0) st = S1C_ERR;
        s1c_lines_close(r);
        return st;
    }
    char *text = NULL;
    size_t len = 0;
    S1C_TRY(read_stdin(&text, &len));
    uint64_t lineno = 0;
    for (char *p = text; !st && p < text + len;) {
        char *e = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(text + len - p);
        lineno++;
        size_t k = 0, m = n;
        while (m > 0 && p[m - 1] == '\r') m--;
        while (k < m && (p[k] == ' ' || p[k] == '\t')) k++;
        if (k < m) st = grade_line(g, "stdin", lineno, p, m, out);
        p += n + 1;
    }
    free(text);
    return st;
}

int s1c_cmd_grade(int argc, char **argv) {
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},     {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},        {"think-end", required_argument, NULL, 't'},
        {"float-digits", required_argument, NULL, 'd'}, {"targets", required_argument, NULL, 'T'},
        {"non-strict", no_argument, NULL, 'n'},       {"set-relation", no_argument, NULL, 'r'},
        {"letters", required_argument, NULL, 'l'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    grader g = {.think_end = S1C_THINK_END};
    s1c_grade_opts_default(&g.o);
    const char *format = NULL, *in = NULL, *out_path = NULL;
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'i': in = optarg; break;
        case 'o': out_path = optarg; break;
        case 't': g.think_end = optarg; break;
        case 'd': {
            char *end;
            long d = strtol(optarg, &end, 10);
            if (*end || end == optarg || d < 0 || d > 15) {
                fprintf(stderr, "s1c-infer grade: --float-digits expects an integer 0..15, got '%s'\n", optarg);
                return 2;
            }
            g.o.float_digits = (int)d;
            break;
        }
        case 'T': {
            g.o.targets = 0;
            char *list = s1c_xstrdup(optarg), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (!strcmp(t, "latex")) g.o.targets |= S1C_GRADE_LATEX;
                else if (!strcmp(t, "expr")) g.o.targets |= S1C_GRADE_EXPR;
                else {
                    fprintf(stderr, "s1c-infer grade: --targets expects latex and/or expr, got '%s'\n", t);
                    free(list);
                    return 2;
                }
            }
            free(list);
            if (!g.o.targets) {
                fprintf(stderr, "s1c-infer grade: --targets is empty\n");
                return 2;
            }
            break;
        }
        case 'n': g.o.strict = 0; break;
        case 'r': g.o.set_relation = 1; break;
        case 'l':
            if (!*optarg || strlen(optarg) > 26) {
                fprintf(stderr, "s1c-infer grade: --letters expects 1 to 26 letters\n");
                return 2;
            }
            g.o.letters = optarg;
            break;
        case 'h': usage(stdout); return 0;
        case ':':
            fprintf(stderr, "s1c-infer grade: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "s1c-infer grade: unknown option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "s1c-infer grade: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!format) {
        fprintf(stderr, "s1c-infer grade: --format math|aime|gpqa is required\n");
        return 2;
    }
    if (s1c_bench_parse_format(format, &g.fmt) != S1C_OK) {
        fprintf(stderr, "s1c-infer grade: %s\n", s1c_err_msg());
        return 2;
    }
    sink out = {0};
    if (out_path && !(out.file = s1c_out_open(out_path))) {
        fprintf(stderr, "s1c-infer grade: %s\n", s1c_err_msg());
        return 1;
    }
    s1c_status st = run(&g, in, &out);
    if (!st && out.file) st = s1c_out_commit(out.file);
    else if (out.file) s1c_out_abort(out.file);
    if (!st && !out.file && ((out.n && fwrite(out.mem, 1, out.n, stdout) != out.n) || fflush(stdout) != 0))
        st = s1c_err("stdout: write error");
    free(out.mem);
    if (st) {
        fprintf(stderr, "s1c-infer grade: %s\n", s1c_err_msg());
        return 1;
    }
    fprintf(stderr, "s1c-infer grade: %ld line(s), %ld correct (%.1f%%), %ld with nothing extracted\n", g.n, g.correct,
            g.n ? 100.0 * (double)g.correct / (double)g.n : 0.0, g.unextracted);
    return 0;
}
