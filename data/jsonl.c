#include "jsonl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s1c_json_check.h"

size_t s1c_utf8_first_invalid(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        // Fast path over ASCII, 8 bytes at a time.
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;       // overlong
            else if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;       // overlong
            else if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
        } else
            return i;
        if (i + need >= n) return i;  // sequence cut off by the end
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += need + 1;
    }
    return n;
}

// What a first line that is not a JSON object most likely is, with the fix; NULL when unsure.
static const char *first_line_diagnosis(const char *line, size_t len) {
    static const char *const fix = "convert it to JSONL (one JSON object per line) with scripts/hf_to_jsonl.py "
                                   "IN OUT.jsonl (data/README.md)";
    static __thread char msg[512];
    const char *what = NULL;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\xef' || line[i] == '\xbb' ||
                       line[i] == '\xbf'))
        i++;  // blanks and a UTF-8 byte-order mark
    if (len >= 4 && !memcmp(line, "PAR1", 4)) what = "this is a parquet file, not JSONL";
    else if (i < len && line[i] == '[')
        what = "this looks like a JSON array (one document holding a list), not JSONL: jq -c '.[]' IN > OUT.jsonl "
               "converts it, or";
    else if (i < len && line[i] != '{' && memchr(line, ',', len)) what = "this looks like a CSV file, not JSONL";
    if (!what) return NULL;
    snprintf(msg, sizeof msg, "%s%s%s", what, what[strlen(what) - 1] == 'r' ? " " : ": ", fix);
    return msg;
}

cJSON *s1c_jsonl_parse(const char *path, uint64_t lineno, const char *line, size_t len) {
    const char *diag = lineno == 1 ? first_line_diagnosis(line, len) : NULL;
    if (diag && len >= 4 && !memcmp(line, "PAR1", 4)) {  // binary: before the UTF-8 check
        s1c_err("%s:1: %s", path, diag);
        return NULL;
    }
    size_t bad = s1c_utf8_first_invalid(line, len);
    if (bad < len) {
        s1c_err("%s:%llu: invalid UTF-8 at byte %zu of the line", path, (unsigned long long)lineno, bad);
        return NULL;
    }
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (!obj) {
        if (memchr(line, '\0', len) && s1c_json_check(path, line, len, lineno) != S1C_OK) return NULL;
        // cJSON reports the failure position through `end` (its global error pointer is not thread-safe).
        size_t at = end && end >= line ? (size_t)(end - line) : 0;
        if (diag) s1c_err("%s:1: malformed JSON: %s", path, diag);
        else s1c_err("%s:%llu: malformed JSON near byte %zu of the line", path, (unsigned long long)lineno, at);
        return NULL;
    }
    // duplicate keys (cJSON would read the first value, Python the last) and NUL inside strings
    if (s1c_json_check(path, line, len, lineno) != S1C_OK) {
        cJSON_Delete(obj);
        return NULL;
    }
    for (const char *p = end; p && p < line + len; p++)
        if (!isspace((unsigned char)*p)) {
            cJSON_Delete(obj);
            s1c_err("%s:%llu: trailing data after the JSON value at byte %zu", path, (unsigned long long)lineno,
                    (size_t)(p - line));
            return NULL;
        }
    if (!cJSON_IsObject(obj)) {
        if (diag && cJSON_IsArray(obj)) s1c_err("%s:1: %s", path, diag);
        else s1c_err("%s:%llu: expected a JSON object, got %s", path, (unsigned long long)lineno, s1c_json_type_name(obj));
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

const char *s1c_json_type_name(const cJSON *it) {
    if (!it) return "nothing";
    if (cJSON_IsNull(it)) return "null";
    if (cJSON_IsBool(it)) return "a boolean";
    if (cJSON_IsNumber(it)) return "a number";
    if (cJSON_IsString(it)) return "a string";
    if (cJSON_IsArray(it)) return "an array";
    if (cJSON_IsObject(it)) return "an object";
    return "an unknown value";
}

int s1c_json_string(const cJSON *obj, const char *field, const char **out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsString(it)) return s1c_err("field '%s': expected a string, got %s", field, s1c_json_type_name(it)), -1;
    *out = it->valuestring;
    return 1;
}

int s1c_json_number(const cJSON *obj, const char *field, double *out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsNumber(it)) return s1c_err("field '%s': expected a number, got %s", field, s1c_json_type_name(it)), -1;
    *out = it->valuedouble;
    return 1;
}

static int flag_value(const cJSON *it, int *out) {
    if (cJSON_IsBool(it)) *out = cJSON_IsTrue(it);
    else if (cJSON_IsNumber(it)) *out = it->valuedouble != 0;
    else if (cJSON_IsString(it)) {
        const char *s = it->valuestring;
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1")) *out = 1;
        else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0")) *out = 0;
        else return -1;
    } else
        return -1;
    return 1;
}

int s1c_json_flag(const cJSON *obj, const char *field, int *out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!it || cJSON_IsNull(it)) return 0;
    if (cJSON_IsArray(it)) {
        int any = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, it) {
            int v;
            if (flag_value(e, &v) != 1)
                return s1c_err("field '%s': expected a list of booleans, found %s in it", field, s1c_json_type_name(e)),
                       -1;
            any |= v;
        }
        *out = any;
        return 1;
    }
    if (flag_value(it, out) != 1)
        return s1c_err("field '%s': expected a boolean (or 0/1, \"true\"/\"false\"), got %s", field,
                       s1c_json_type_name(it)),
               -1;
    return 1;
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return 0;
    return 1;
}

long s1c_jsonl_batch_read(s1c_lines *r, s1c_jsonl_batch *b, size_t max_lines, size_t max_bytes) {
    b->n = 0;
    b->arena_len = 0;
    while (b->n < max_lines && b->arena_len < max_bytes) {
        const char *line;
        size_t len;
        uint64_t off, no;
        int rc = s1c_lines_next(r, &line, &len, &off, &no);
        if (rc < 0) return -1;
        if (rc == 0) break;
        if (blank(line, len)) continue;
        if (b->n == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 256;
            b->start = s1c_xrealloc(b->start, b->cap * sizeof *b->start);
            b->len = s1c_xrealloc(b->len, b->cap * sizeof *b->len);
            b->lineno = s1c_xrealloc(b->lineno, b->cap * sizeof *b->lineno);
            b->offset = s1c_xrealloc(b->offset, b->cap * sizeof *b->offset);
        }
        if (b->arena_len + len + 1 > b->arena_cap) {
            size_t c = b->arena_cap ? b->arena_cap : (1 << 20);
            while (c < b->arena_len + len + 1) c *= 2;
            b->arena = s1c_xrealloc(b->arena, c);
            b->arena_cap = c;
        }
        memcpy(b->arena + b->arena_len, line, len);
        b->arena[b->arena_len + len] = '\0';
        b->start[b->n] = b->arena_len;
        b->len[b->n] = len;
        b->lineno[b->n] = no;
        b->offset[b->n] = off;
        b->arena_len += len + 1;
        b->n++;
    }
    return (long)b->n;
}

void s1c_jsonl_batch_free(s1c_jsonl_batch *b) {
    free(b->arena);
    free(b->start);
    free(b->len);
    free(b->lineno);
    free(b->offset);
    memset(b, 0, sizeof *b);
}

void s1c_badlog_add(s1c_badlog *log, uint64_t lineno, const char *msg) {
    if (log->n == log->cap) {
        log->cap = log->cap ? 2 * log->cap : 16;
        log->lines = s1c_xrealloc(log->lines, log->cap * sizeof *log->lines);
    }
    log->lines[log->n++] = lineno;
    if (!log->first_msg) log->first_msg = s1c_xstrdup(msg);
}

void s1c_badlog_print(const s1c_badlog *log, const char *path, void *fpv, size_t max_list) {
    FILE *fp = fpv;
    if (log->n == 0) return;
    fprintf(fp, "%s: skipped %zu bad record(s) at line(s)", path, log->n);
    for (size_t i = 0; i < log->n && i < max_list; i++) fprintf(fp, "%s%llu", i ? ", " : " ", (unsigned long long)log->lines[i]);
    if (log->n > max_list) fprintf(fp, ", ... (%zu more)", log->n - max_list);
    fprintf(fp, "\n  first: %s\n", log->first_msg ? log->first_msg : "?");
}

void s1c_badlog_free(s1c_badlog *log) {
    free(log->lines);
    free(log->first_msg);
    memset(log, 0, sizeof *log);
}
