// boxed.c — \boxed{…} / \fbox{…} contents. A model that boxes several parts of one answer
// ("\boxed{1} and \boxed{2}", "\boxed{(1,2)}, \boxed{(2,1)}") means the set of them, while a box
// far before the last one, with no list separator between, is an earlier step; the merge rule
// (gap under 10 bytes, or under 70 bytes holding "and" / "or" / "," / ";" and a different
// content) is Math-Verify's, so both read the same answer.
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

// Start of the last "\boxed" / "\fbox" command beginning before `pos`, or -1.
static long last_cmd(const char *s, long pos, size_t *cmd_len) {
    for (long i = pos - 1; i >= 0; i--) {
        if (s[i] != '\\') continue;
        if (strncmp(s + i, "\\boxed", 6) == 0 && !gr_alpha(s[i + 6])) {
            *cmd_len = 6;
            return i;
        }
        if (strncmp(s + i, "\\fbox", 5) == 0 && !gr_alpha(s[i + 5])) {
            *cmd_len = 5;
            return i;
        }
    }
    return -1;
}

// The box whose command starts at `at`: content [*ca, *cb), last byte of the box at *last.
// Only braces closing before `limit` count (a box cannot reach into the one after it).
static int box_at(const char *s, size_t limit, long at, size_t cmd_len, size_t *ca, size_t *cb, size_t *last) {
    size_t p = (size_t)at + cmd_len;
    if (p < limit && s[p] == '{') {
        long close = gr_close_brace(s, limit, p);
        if (close < 0) return 0;  // truncated: the generation stopped inside the box
        *ca = p + 1;
        *cb = (size_t)close;
        *last = (size_t)close;
        return 1;
    }
    if (p < limit && s[p] == ' ') {  // "\boxed 5": one token
        while (p < limit && s[p] == ' ') p++;
        size_t q = p;
        while (q < limit && !gr_space(s[q]) && s[q] != '$') q++;
        if (q == p) return 0;
        *ca = p;
        *cb = q;
        *last = q - 1;
        return 1;
    }
    return 0;
}

static int has_separator(const char *a, const char *b) {
    for (const char *p = a; p < b; p++) {
        if (*p == ',' || *p == ';') return 1;
        int left = p == a || !gr_alpha(p[-1]);
        if (left && b - p >= 3 && strncmp(p, "and", 3) == 0 && (p + 3 == b || !gr_alpha(p[3]))) return 1;
        if (left && b - p >= 2 && strncmp(p, "or", 2) == 0 && (p + 2 == b || !gr_alpha(p[2]))) return 1;
    }
    return 0;
}

typedef struct {
    char **items;  // right to left
    int n, cap;
} box_list;

static void push(box_list *l, char *item) {
    if (l->n == l->cap) l->items = s1c_xrealloc(l->items, (size_t)(l->cap = l->cap ? 2 * l->cap : 4) * sizeof *l->items);
    l->items[l->n++] = item;
}

static char *join_free(box_list *l) {
    if (!l->n) {
        free(l->items);
        return NULL;
    }
    gr_buf b = {0};
    for (int i = l->n - 1; i >= 0; i--) {
        gr_buf_puts(&b, l->items[i]);
        if (i) gr_buf_puts(&b, ", ");
        free(l->items[i]);
    }
    free(l->items);
    return gr_buf_take(&b);
}

static char *collect(const char *s, size_t n, int merge_rule) {
    box_list l = {0};
    size_t limit = n;
    long pos = (long)n, taken_at = -1;
    for (;;) {
        size_t cmd_len = 0, ca, cb, last;
        long at = last_cmd(s, pos, &cmd_len);
        if (at < 0) break;
        pos = at;
        if (!box_at(s, limit, at, cmd_len, &ca, &cb, &last)) continue;
        char *content = gr_dup_range(s + ca, s + cb);
        if (l.n && merge_rule) {
            const char *ga = s + last + 1, *gb = s + taken_at;
            size_t gap = gb > ga ? (size_t)(gb - ga) : 0;
            int same = strcmp(content, l.items[l.n - 1]) == 0;
            if (!(gap < 10 || (!same && gap < 70 && has_separator(ga, gb)))) {
                free(content);
                break;
            }
        }
        if (!content[0] || (l.n && strcmp(content, l.items[l.n - 1]) == 0)) free(content);
        else push(&l, content);
        taken_at = at;
        limit = (size_t)at;
    }
    return join_free(&l);
}

char *gr_boxed_last(const char *s, size_t n) { return collect(s, n, 1); }
char *gr_boxed_all(const char *s, size_t n) { return collect(s, n, 0); }

long gr_box_first(const char *s, size_t n) {
    for (size_t i = 0; i + 5 < n; i++) {
        if (s[i] != '\\') continue;
        if (i + 7 <= n && strncmp(s + i, "\\boxed{", 7) == 0) return (long)i;
        if (strncmp(s + i, "\\fbox{", 6) == 0) return (long)i;
    }
    return -1;
}
