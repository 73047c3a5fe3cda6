// csv_read.c — see csv_read.h.
#include "csv_read.h"

#include <stdlib.h>
#include <string.h>

#include "s1c_file.h"

typedef struct {
    char **f;  // fields of the current record
    int n, cap;
    char *buf;  // the field being read
    size_t bn, bcap;
} record;

static void buf_put(record *r, char c) {
    if (r->bn + 1 >= r->bcap) r->buf = s1c_xrealloc(r->buf, r->bcap = r->bcap ? 2 * r->bcap : 256);
    r->buf[r->bn++] = c;
}

static void field_end(record *r) {
    buf_put(r, '\0');
    if (r->n == r->cap) r->f = s1c_xrealloc(r->f, (size_t)(r->cap = r->cap ? 2 * r->cap : 16) * sizeof *r->f);
    r->f[r->n++] = s1c_xstrdup(r->buf);
    r->bn = 0;
}

static void record_clear(record *r) {
    for (int i = 0; i < r->n; i++) free(r->f[i]);
    r->n = 0;
}

// Reads one record starting at text[*pos]; *line advances over its line breaks. Returns 1 (a
// record), 0 (end of text), -1 (error set).
static int read_record(const char *name, const char *t, size_t len, size_t *pos, int *line, record *r) {
    size_t i = *pos;
    if (i >= len) return 0;
    record_clear(r);
    r->bn = 0;
    const int start = *line;
    for (;;) {
        if (i < len && t[i] == '"') {  // quoted field
            i++;
            for (;;) {
                if (i >= len) {
                    s1c_err("%s:%d: a quoted field is never closed", name, start);
                    return -1;
                }
                if (t[i] == '"') {
                    if (i + 1 < len && t[i + 1] == '"') {
                        buf_put(r, '"');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (t[i] == '\n') (*line)++;
                buf_put(r, t[i++]);
            }
            if (i < len && t[i] != ',' && t[i] != '\n' && !(t[i] == '\r' && i + 1 < len && t[i + 1] == '\n') &&
                !(t[i] == '\r' && i + 1 == len)) {
                s1c_err("%s:%d: text after a closing quote (a quote inside a field must be doubled)", name, *line);
                return -1;
            }
        } else {
            while (i < len && t[i] != ',' && t[i] != '\n' && !(t[i] == '\r' && (i + 1 == len || t[i + 1] == '\n'))) {
                if (t[i] == '"') {
                    s1c_err("%s:%d: a quote inside an unquoted field", name, *line);
                    return -1;
                }
                buf_put(r, t[i++]);
            }
        }
        field_end(r);
        if (i < len && t[i] == ',') {
            i++;
            continue;
        }
        if (i < len && t[i] == '\r') i++;
        if (i < len && t[i] == '\n') {
            i++;
            (*line)++;
        }
        break;
    }
    *pos = i;
    return 1;
}

s1c_status s1c_csv_parse(const char *name, const char *text, size_t len, cJSON **rows, int **lines) {
    *rows = NULL;
    *lines = NULL;
    record hdr = {0}, r = {0};
    size_t pos = 0;
    int line = 1, rc;
    s1c_status st = S1C_OK;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) pos = 3;  // a UTF-8 byte-order mark (Excel exports)
    rc = read_record(name, text, len, &pos, &line, &hdr);
    if (rc <= 0) {
        record_clear(&hdr);  // the fields read before a bad one
        free(hdr.buf);
        free(hdr.f);
        return rc < 0 ? S1C_ERR : s1c_err("%s: empty CSV file (no header)", name);
    }
    for (int i = 0; i < hdr.n && !st; i++) {
        if (!hdr.f[i][0]) st = s1c_err("%s:1: column %d has an empty name", name, i + 1);
        for (int j = 0; j < i && !st; j++)
            if (!strcmp(hdr.f[i], hdr.f[j])) st = s1c_err("%s:1: column name '%s' appears twice", name, hdr.f[i]);
    }
    cJSON *arr = cJSON_CreateArray();
    int n = 0, cap = 0;
    int *ln = NULL;
    while (!st) {
        // Blank lines between records are skipped (a trailing newline, hand-edited files).
        while (pos < len && (text[pos] == '\n' || (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n'))) {
            pos += text[pos] == '\r' ? 2 : 1;
            line++;
        }
        const int at = line;
        rc = read_record(name, text, len, &pos, &line, &r);
        if (rc == 0) break;
        if (rc < 0) {
            st = S1C_ERR;
            break;
        }
        if (r.n != hdr.n) {
            st = s1c_err("%s:%d: %d fields, the header has %d (an unquoted comma or line break?)", name, at, r.n, hdr.n);
            break;
        }
        cJSON *o = cJSON_CreateObject();
        for (int i = 0; i < r.n; i++) cJSON_AddStringToObject(o, hdr.f[i], r.f[i]);
        cJSON_AddItemToArray(arr, o);
        if (n == cap) ln = s1c_xrealloc(ln, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *ln);
        ln[n++] = at;
    }
    record_clear(&hdr);
    record_clear(&r);
    free(hdr.buf);
    free(hdr.f);
    free(r.buf);
    free(r.f);
    if (st) {
        cJSON_Delete(arr);
        free(ln);
        return st;
    }
    *rows = arr;
    *lines = ln;
    return S1C_OK;
}
