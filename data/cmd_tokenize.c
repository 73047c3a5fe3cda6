// s1c-data tokenize / detokenize: JSONL on stdin -> JSONL on stdout, one output line per input
// record, in order. Errors name the input line.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_args.h"
#include "commands.h"
#include "s1c_getopt.h"
#include "tokenizer.h"

typedef struct {
    const char *dir;
    int add_special, skip_special;
} tok_opts;

static int parse_opts(int argc, char **argv, tok_opts *o, int detok) {
    const char *name = detok ? "detokenize" : "tokenize";
    static const struct option tok_opts_[] = {{"tokenizer", required_argument, NULL, 0},
                                              {"add-special-tokens", no_argument, NULL, 0},
                                              {"help", no_argument, NULL, 0},
                                              {NULL, 0, NULL, 0}};
    static const struct option detok_opts_[] = {{"tokenizer", required_argument, NULL, 0},
                                                {"skip-special-tokens", no_argument, NULL, 0},
                                                {"help", no_argument, NULL, 0},
                                                {NULL, 0, NULL, 0}};
    const char *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, detok ? detok_opts_ : tok_opts_,
                                  detok ? "s1c-data detokenize" : "s1c-data tokenize", &a, &v)) > 0) {
        if (strcmp(a, "--tokenizer") == 0) o->dir = v;
        else if (strcmp(a, "--add-special-tokens") == 0) o->add_special = 1;
        else if (strcmp(a, "--skip-special-tokens") == 0) o->skip_special = 1;
        else {  // --help
            if (detok)
                printf("usage: s1c-data detokenize --tokenizer DIR [--skip-special-tokens]\n"
                       "  reads JSONL {\"ids\": [...]} on stdin, writes {\"text\": \"...\"} per line on stdout\n");
            else
                printf("usage: s1c-data tokenize --tokenizer DIR [--add-special-tokens]\n"
                       "  reads JSONL {\"text\": \"...\"} on stdin, writes {\"ids\": [...]} per line on stdout\n"
                       "  --add-special-tokens  add the post-processor's tokens (Hugging Face meaning;\n"
                       "                        none for Qwen)\n");
            return 0;
        }
    }
    if (got < 0 || s1c_args_no_operands(argc, argv, name)) return 2;
    if (!o->dir) {
        fprintf(stderr, "s1c-data %s: --tokenizer DIR is required\n", name);
        return 2;
    }
    return -1;
}

static int blank(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    return *s == '\0';
}

// cJSON strings end at NUL; a "\u0000" escape would silently cut the text, so refuse it.
static int has_nul_escape(const char *line) {
    for (const char *p = strstr(line, "\\u0000"); p; p = strstr(p + 1, "\\u0000")) {
        size_t bs = 0;
        for (const char *q = p; q > line && q[-1] == '\\'; q--) bs++;
        if (bs % 2 == 0) return 1;
    }
    return 0;
}

// JSON string body with the escapes JSON requires; UTF-8 passes through unchanged.
static void write_json_string(FILE *fp, const char *s, size_t n) {
    fputc('"', fp);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        fwrite(s + run, 1, i - run, fp);
        run = i + 1;
        switch (c) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        case '\b': fputs("\\b", fp); break;
        case '\f': fputs("\\f", fp); break;
        default: fprintf(fp, "\\u%04x", c);
        }
    }
    fwrite(s + run, 1, n - run, fp);
    fputc('"', fp);
}

static int run(int argc, char **argv, int detok) {
    tok_opts o = {0};
    int rc = parse_opts(argc, argv, &o, detok);
    if (rc >= 0) return rc;
    const char *name = detok ? "detokenize" : "tokenize";
    s1c_tokenizer *tok = s1c_tokenizer_load(o.dir);
    if (!tok) {
        fprintf(stderr, "s1c-data %s: %s\n", name, s1c_err_msg());
        return 1;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    s1c_ids ids = {0};
    rc = 0;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (blank(line)) continue;
        if ((size_t)got != strlen(line)) {
            fprintf(stderr, "s1c-data %s: stdin line %zu: contains a NUL byte\n", name, lineno);
            rc = 1;
            break;
        }
        cJSON *rec = cJSON_ParseWithLength(line, (size_t)got);
        const char *key = detok ? "ids" : "text";
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, key);
        const char *err = NULL;
        char msg[256];
        if (!rec) err = "not valid JSON";
        else if (!v) err = detok ? "no \"ids\" field" : "no \"text\" field";
        else if (!detok && !cJSON_IsString(v)) err = "\"text\" is not a string";
        else if (detok && !cJSON_IsArray(v)) err = "\"ids\" is not an array";
        else if (!detok && has_nul_escape(line)) err = "\"text\" contains U+0000, which is not supported";
        if (!err && !detok) {
            ids.n = 0;
            if (s1c_tokenizer_encode(tok, v->valuestring, strlen(v->valuestring), o.add_special, &ids) != S1C_OK) {
                snprintf(msg, sizeof msg, "%s", s1c_err_msg());
                err = msg;
            } else {
                fputs("{\"ids\": [", stdout);
                for (size_t i = 0; i < ids.n; i++) fprintf(stdout, i ? ", %d" : "%d", ids.ids[i]);
                fputs("]}\n", stdout);
            }
        } else if (!err) {
            ids.n = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, v) {
                if (!cJSON_IsNumber(e) || e->valuedouble != (double)(int32_t)e->valuedouble) {
                    err = "\"ids\" holds something other than integers";
                    break;
                }
                s1c_ids_push(&ids, (int32_t)e->valuedouble);
            }
            char *text = NULL;
            size_t tl = 0;
            if (!err && s1c_tokenizer_decode(tok, ids.ids, ids.n, o.skip_special, &text, &tl) != S1C_OK) {
                snprintf(msg, sizeof msg, "%s", s1c_err_msg());
                err = msg;
            } else if (!err) {
                fputs("{\"text\": ", stdout);
                write_json_string(stdout, text, tl);
                fputs("}\n", stdout);
            }
            free(text);
        }
        cJSON_Delete(rec);
        if (err) {
            fprintf(stderr, "s1c-data %s: stdin line %zu: %s\n", name, lineno, err);
            rc = 1;
            break;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "s1c-data %s: error writing stdout\n", name);
        rc = 1;
    }
    free(line);
    s1c_ids_free(&ids);
    s1c_tokenizer_free(tok);
    return rc;
}

int s1c_cmd_tokenize(int argc, char **argv) { return run(argc, argv, 0); }
int s1c_cmd_detokenize(int argc, char **argv) { return run(argc, argv, 1); }
