// bench_load.c — see bench_load.h.
#include "bench_load.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv_read.h"
#include "s1c_file.h"
#include "sampler.h"

s1c_status s1c_bench_parse_format(const char *s, s1c_bench_format *fmt) {
    if (strcmp(s, "aime") == 0) *fmt = S1C_BENCH_AIME;
    else if (strcmp(s, "math") == 0) *fmt = S1C_BENCH_MATH;
    else if (strcmp(s, "gpqa") == 0) *fmt = S1C_BENCH_GPQA;
    else return s1c_err("--format '%s': expected aime, math or gpqa", s);
    return S1C_OK;
}

const char *s1c_bench_format_name(s1c_bench_format fmt) {
    return fmt == S1C_BENCH_AIME ? "aime" : fmt == S1C_BENCH_MATH ? "math" : "gpqa";
}

// First present field among the candidate spellings.
static const cJSON *field(const cJSON *obj, const char *const *names) {
    for (; *names; names++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, *names);
        if (f && !cJSON_IsNull(f)) return f;
    }
    return NULL;
}

// A string field, or a number rendered as text (AIME answers and ids are often integers).
static s1c_status text_field(const char *where, const cJSON *obj, const char *const *names, int required,
                             char **out) {
    *out = NULL;
    const cJSON *f = field(obj, names);
    if (!f) {
        if (!required) return S1C_OK;
        return s1c_err("%s: missing field '%s'", where, names[0]);
    }
    if (cJSON_IsString(f)) {
        *out = s1c_xstrdup(f->valuestring);
        return S1C_OK;
    }
    if (cJSON_IsNumber(f)) {
        char buf[64];
        double v = f->valuedouble;
        if (v == floor(v) && fabs(v) < 1e15) snprintf(buf, sizeof buf, "%.0f", v);
        else snprintf(buf, sizeof buf, "%.17g", v);
        *out = s1c_xstrdup(buf);
        return S1C_OK;
    }
    return s1c_err("%s: field '%s' must be a string or a number", where, f->string);
}

static char *gpqa_question(const char *q, char *const choices[4]) {
    size_t len = strlen(q) + 64;
    for (int k = 0; k < 4; k++) len += strlen(choices[k]);
    char *out = s1c_xmalloc(len);
    snprintf(out, len, "%s\n\n(A) %s\n(B) %s\n(C) %s\n(D) %s", q, choices[0], choices[1], choices[2], choices[3]);
    return out;
}

static char *trim_dup(const char *s) {
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    char *o = s1c_xmalloc(n + 1);
    memcpy(o, s, n);
    o[n] = '\0';
    return o;
}

// `where` names the record in messages ("file:12"); `line` is the fallback id.
static s1c_status parse_record(const char *where, int line, int index, const cJSON *obj, s1c_bench_format fmt,
                               uint64_t seed, s1c_problem *p) {
    static const char *const id_aime[] = {"id", "ID", "Id", "problem_id", NULL};
    static const char *const prob_aime[] = {"problem", "Problem", "question", "Question", NULL};
    static const char *const ans_aime[] = {"answer", "Answer", NULL};
    static const char *const prob_math[] = {"problem", "Problem", NULL};
    static const char *const ans_math[] = {"answer", "Answer", NULL};
    static const char *const id_math[] = {"unique_id", "id", NULL};
    static const char *const subj_math[] = {"subject", "type", NULL};
    static const char *const q_gpqa[] = {"Question", "question", NULL};
    static const char *const id_gpqa[] = {"Record ID", "id", NULL};
    static const char *const c_gpqa[4][3] = {{"Correct Answer", "correct_answer", NULL},
                                             {"Incorrect Answer 1", "incorrect_answer_1", NULL},
                                             {"Incorrect Answer 2", "incorrect_answer_2", NULL},
                                             {"Incorrect Answer 3", "incorrect_answer_3", NULL}};
    memset(p, 0, sizeof *p);
    char fallback_id[32];
    snprintf(fallback_id, sizeof fallback_id, "%d", line);
    s1c_status st = S1C_OK;
    if (fmt == S1C_BENCH_AIME || fmt == S1C_BENCH_MATH) {
        int aime = fmt == S1C_BENCH_AIME;
        st = text_field(where, obj, aime ? prob_aime : prob_math, 1, &p->question);
        if (!st) st = text_field(where, obj, aime ? ans_aime : ans_math, 1, &p->gold);
        if (!st) st = text_field(where, obj, aime ? id_aime : id_math, 0, &p->id);
        if (!st && !aime) st = text_field(where, obj, subj_math, 0, &p->subject);
        if (!st && !aime) {
            const cJSON *lv = cJSON_GetObjectItemCaseSensitive(obj, "level");
            if (cJSON_IsNumber(lv)) p->level = lv->valueint;
            else if (cJSON_IsString(lv)) p->level = atoi(lv->valuestring + strcspn(lv->valuestring, "0123456789"));
        }
        if (!st && aime) {
            // AIME answers are integers 0..999; refuse anything else now rather than grade it wrong later.
            const char *g = p->gold;
            char *end = NULL;
            long v = strtol(g, &end, 10);
            while (end && (*end == ' ')) end++;
            if (end == g || !end || *end != '\0' || v < 0)
                st = s1c_err("%s: AIME answer '%s' is not a non-negative integer", where, g);
        }
        if (!st && p->question[0] == '\0') st = s1c_err("%s: empty problem text", where);
    } else {
        char *q = NULL, *ch[4] = {0};
        st = text_field(where, obj, q_gpqa, 1, &q);
        for (int k = 0; k < 4 && !st; k++) st = text_field(where, obj, c_gpqa[k], 1, &ch[k]);
        if (!st) st = text_field(where, obj, id_gpqa, 0, &p->id);
        if (!st) {
            // Fisher–Yates with a generator private to this problem: independent of rank and order.
            s1c_rng rng;
            s1c_rng_seed(&rng, seed * 0x100000001B3ull + (uint64_t)index);
            int perm[4] = {0, 1, 2, 3};
            for (int i = 3; i > 0; i--) {
                int j = (int)(s1c_rng_next(&rng) % (uint64_t)(i + 1));
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            char *shown[4];
            char letter[2] = {0, 0};
            for (int k = 0; k < 4; k++) {
                p->perm[k] = perm[k];
                shown[k] = trim_dup(ch[perm[k]]);
                if (perm[k] == 0) letter[0] = (char)('A' + k);
            }
            char *qt = trim_dup(q);
            p->question = gpqa_question(qt, shown);
            free(qt);
            for (int k = 0; k < 4; k++) free(shown[k]);
            p->gold = s1c_xstrdup(letter);
        }
        free(q);
        for (int k = 0; k < 4; k++) free(ch[k]);
    }
    if (!st && !p->id) p->id = s1c_xstrdup(fallback_id);
    return st;
}

static void problem_free(s1c_problem *p) {
    free(p->id);
    free(p->question);
    free(p->gold);
    free(p->subject);
}

// A JSON string holding \u0000 decodes to a NUL byte, which would cut the C string short
// silently: refused, naming the line and the field (the key before the string holding it).
static s1c_status refuse_nul_escape(const char *name, const char *t, size_t len, int first_line) {
    for (size_t i = 0; i + 6 <= len; i++) {
        if (t[i] != '\\') continue;
        if (memcmp(t + i + 1, "u0000", 5) != 0) {
            i++;  // an escape pair: its second character is never the start of another
            continue;
        }
        int line = first_line;
        for (size_t k = 0; k < i; k++) line += t[k] == '\n';
        // The string holding it starts at the last unescaped quote before it; the key before.
        size_t q = i;
        while (q > 0 && !(t[q - 1] == '"' && (q < 2 || t[q - 2] != '\\'))) q--;
        size_t k = q > 0 ? q - 1 : 0;
        while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == ':' || t[k - 1] == '\t')) k--;
        char key[64] = "?";
        if (k > 0 && t[k - 1] == '"') {
            size_t e = k - 1, b0 = e;
            while (b0 > 0 && t[b0 - 1] != '"') b0--;
            snprintf(key, sizeof key, "%.*s", (int)(e - b0 < 60 ? e - b0 : 60), t + b0);
        }
        return s1c_err("%s:%d: field '%s' holds \\u0000 (a NUL character): refused", name, line, key);
    }
    return S1C_OK;
}

static s1c_status add_record(const char *where, int line, const cJSON *obj, s1c_bench_format fmt, uint64_t seed,
                             s1c_benchmark *out, int *cap) {
    if (!cJSON_IsObject(obj)) return s1c_err("%s: not a JSON object", where);
    if (out->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        out->items = s1c_xrealloc(out->items, (size_t)*cap * sizeof *out->items);
    }
    s1c_status st = parse_record(where, line, out->n, obj, fmt, seed, &out->items[out->n]);
    if (st) problem_free(&out->items[out->n]);
    else out->n++;
    return st;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcasecmp(s + n - k, suf) == 0;
}

s1c_status s1c_bench_parse(const char *name, const char *text, s1c_bench_format fmt, uint64_t seed,
                           s1c_benchmark *out) {
    memset(out, 0, sizeof *out);
    out->fmt = fmt;
    int cap = 0, line = 0;
    char where[512];
    s1c_status st = S1C_OK;
    const char *s = text;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
    if (ends_with(name, ".csv")) {
        // CSV (GPQA Diamond as downloaded): one record per row, keyed by the header.
        cJSON *rows = NULL;
        int *lines = NULL;
        st = s1c_csv_parse(name, text, strlen(text), &rows, &lines);
        int i = 0;
        for (const cJSON *r = rows ? rows->child : NULL; r && !st; r = r->next, i++) {
            snprintf(where, sizeof where, "%s:%d", name, lines[i]);
            st = add_record(where, lines[i], r, fmt, seed, out, &cap);
        }
        cJSON_Delete(rows);
        free(lines);
    } else if (*s == '[') {
        // One JSON array of records (pandas' default to_json / json.dump of a list).
        st = refuse_nul_escape(name, text, strlen(text), 1);
        cJSON *arr = st ? NULL : cJSON_Parse(text);
        if (!st && (!arr || !cJSON_IsArray(arr)))
            st = s1c_err("%s: starts with '[' but is not one JSON array (JSONL has one object per line)", name);
        int i = 0;
        for (const cJSON *r = arr ? arr->child : NULL; r && !st; r = r->next, i++) {
            snprintf(where, sizeof where, "%s: element %d", name, i);
            st = add_record(where, i + 1, r, fmt, seed, out, &cap);
        }
        cJSON_Delete(arr);
    } else {
        for (s = text; *s && !st;) {
            const char *e = strchr(s, '\n');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            line++;
            size_t a = 0;
            while (a < len && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) a++;
            if (a < len) {
                snprintf(where, sizeof where, "%s:%d", name, line);
                st = refuse_nul_escape(name, s, len, line);
                cJSON *obj = st ? NULL : cJSON_ParseWithLength(s, len);
                if (!st && !obj) st = s1c_err("%s: not a JSON object", where);
                if (!st) st = add_record(where, line, obj, fmt, seed, out, &cap);
                cJSON_Delete(obj);
            }
            s = e ? e + 1 : s + len;
        }
    }
    if (st) {
        s1c_bench_free(out);
        return st;
    }
    if (out->n == 0) {
        s1c_bench_free(out);
        return s1c_err("%s: no records (empty benchmark file)", name);
    }
    return S1C_OK;
}

s1c_status s1c_bench_load(const char *path, s1c_bench_format fmt, uint64_t seed, s1c_benchmark *out) {
    char *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    S1C_TRY(s1c_read_file(path, &text, &len));
    if (memchr(text, '\0', len)) {
        free(text);
        return s1c_err("%s: contains a NUL byte (not a text file)", path);
    }
    s1c_status st = s1c_bench_parse(path, text, fmt, seed, out);
    free(text);
    return st;
}

void s1c_bench_free(s1c_benchmark *b) {
    for (int i = 0; i < b->n; i++) problem_free(&b->items[i]);
    free(b->items);
    b->items = NULL;
    b->n = 0;
}
