// One pass over the raw JSON text with a stack of the open objects/arrays (contract: s1c_json_check.h).
#include "s1c_json_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;  // the key's raw bytes (between the quotes, escapes as written)
    size_t n, line;
} key_at;

typedef struct {
    int is_obj;
    int expect_key;  // objects: the next string is a key
    size_t index;    // arrays: the element being read
    const char *key;  // objects: the current key
    size_t key_n;
    key_at *keys;  // objects: every key, for the duplicate check at '}'
    size_t n_keys, cap_keys;
} level;

static int cmp_key(const void *a, const void *b) {
    const key_at *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    if (c) return c;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

// "a.b[2]" from the open levels (level 0 is the document's outermost value).
static void path_of(const level *lv, size_t depth, char *out, size_t cap) {
    size_t at = 0;
    out[0] = '\0';
    for (size_t d = 0; d < depth && at + 1 < cap; d++) {
        int k;
        if (lv[d].is_obj && lv[d].key)
            k = snprintf(out + at, cap - at, "%s%.*s", at ? "." : "", (int)(lv[d].key_n > 64 ? 64 : lv[d].key_n), lv[d].key);
        else if (!lv[d].is_obj)
            k = snprintf(out + at, cap - at, "[%zu]", lv[d].index);
        else
            k = 0;
        if (k < 0) break;
        at += (size_t)k < cap - at ? (size_t)k : cap - at - 1;
    }
}

// The earliest repeated key of an object (by the line of its second occurrence), or NULL.
static const key_at *first_duplicate(level *l, const key_at **first) {
    if (l->n_keys < 2) return NULL;
    qsort(l->keys, l->n_keys, sizeof *l->keys, cmp_key);
    const key_at *dup = NULL;
    for (size_t i = 1; i < l->n_keys; i++)
        if (l->keys[i].n == l->keys[i - 1].n && !memcmp(l->keys[i].p, l->keys[i - 1].p, l->keys[i].n) &&
            (i < 2 || l->keys[i - 2].n != l->keys[i].n || memcmp(l->keys[i - 2].p, l->keys[i].p, l->keys[i].n)) &&
            (!dup || l->keys[i].line < dup->line)) {
            dup = &l->keys[i];
            *first = &l->keys[i - 1];
        }
    return dup;
}

s1c_status s1c_json_check(const char *file, const char *text, size_t len, size_t first_line) {
    level *lv = NULL;
    size_t depth = 0, cap = 0, line = first_line;
    s1c_status st = S1C_OK;
    char path[256];
    for (size_t i = 0; i < len && st == S1C_OK; i++) {
        const char c = text[i];
        level *top = depth ? &lv[depth - 1] : NULL;
        if (c == '\n') line++;
        else if (c == '\0') {
            path_of(lv, depth, path, sizeof path);
            st = s1c_err("%s:%zu: a raw NUL byte%s%s (invalid JSON)", file, line, *path ? " in field " : "", path);
        } else if (c == '{' || c == '[') {
            if (depth == cap) {
                cap = cap ? 2 * cap : 16;
                lv = s1c_xrealloc(lv, cap * sizeof *lv);
            }
            lv[depth++] = (level){.is_obj = c == '{', .expect_key = c == '{'};
        } else if ((c == '}' || c == ']') && top) {
            if (top->is_obj) {
                const key_at *first = NULL, *dup = first_duplicate(top, &first);
                if (dup) {
                    top->key = NULL;  // the path names the enclosing fields
                    path_of(lv, depth, path, sizeof path);
                    char seen[48] = "";
                    if (first->line != dup->line) snprintf(seen, sizeof seen, " (first on line %zu)", first->line);
                    st = s1c_err("%s:%zu: duplicate key \"%.*s\"%s%s%s", file, dup->line,
                                 (int)(dup->n > 200 ? 200 : dup->n), dup->p, *path ? " in " : "", path, seen);
                }
                free(top->keys);
            }
            depth--;
        } else if (c == ',' && top) {
            if (top->is_obj) top->expect_key = 1;
            else top->index++;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; j < len && text[j] != '"' && st == S1C_OK; j++) {
                if (text[j] == '\\' && j + 1 < len) {
                    if (text[j + 1] == 'u' && j + 5 < len && !memcmp(text + j + 2, "0000", 4)) {
                        path_of(lv, depth, path, sizeof path);
                        st = s1c_err("%s:%zu: field \"%s\": the escape \\u0000 (a NUL character) inside a string, "
                                     "which would cut the text there",
                                     file, line, *path ? path : "(top level)");
                    }
                    j++;
                } else if (text[j] == '\0') {
                    path_of(lv, depth, path, sizeof path);
                    st = s1c_err("%s:%zu: field \"%s\": a raw NUL byte inside a string (invalid JSON)", file, line,
                                 *path ? path : "(top level)");
                } else if (text[j] == '\n')
                    line++;
            }
            if (st == S1C_OK && top && top->is_obj && top->expect_key) {
                if (top->n_keys == top->cap_keys) {
                    top->cap_keys = top->cap_keys ? 2 * top->cap_keys : 8;
                    top->keys = s1c_xrealloc(top->keys, top->cap_keys * sizeof *top->keys);
                }
                top->keys[top->n_keys++] = (key_at){text + i + 1, j - i - 1, line};
                top->key = text + i + 1;
                top->key_n = j - i - 1;
                top->expect_key = 0;
            }
            i = j;
        }
    }
    for (size_t d = 0; d < depth; d++)
        if (lv[d].is_obj) free(lv[d].keys);
    free(lv);
    return st;
}
