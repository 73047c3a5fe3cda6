// text_util.c — small text helpers shared by the grader (see grade_internal.h).
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

void gr_buf_put(gr_buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        b->p = s1c_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void gr_buf_puts(gr_buf *b, const char *s) { gr_buf_put(b, s, strlen(s)); }
void gr_buf_putc(gr_buf *b, char c) { gr_buf_put(b, &c, 1); }

char *gr_buf_take(gr_buf *b) {
    char *p = b->p ? b->p : s1c_xstrdup("");
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

int gr_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }
int gr_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
int gr_digit(char c) { return c >= '0' && c <= '9'; }

char *gr_dup_range(const char *a, const char *b) {
    while (a < b && gr_space(*a)) a++;
    while (b > a && gr_space(b[-1])) b--;
    size_t n = (size_t)(b - a);
    char *o = s1c_xmalloc(n + 1);
    memcpy(o, a, n);
    o[n] = '\0';
    return o;
}

int gr_ci_at(const char *s, const char *end, const char *word) {
    for (; *word; word++, s++) {
        if (s >= end) return 0;
        char c = *s, w = *word;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (w >= 'A' && w <= 'Z') w = (char)(w - 'A' + 'a');
        if (c != w) return 0;
    }
    return 1;
}

long gr_close_brace(const char *s, size_t n, size_t open) {
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '{' || s[i + 1] == '}' || s[i + 1] == '\\')) {
            i++;
            continue;
        }
        if (s[i] == '{') depth++;
        else if (s[i] == '}' && --depth == 0) return (long)i;
    }
    return -1;
}

int gr_cmd_at(const char *s, const char *cmd) {
    size_t n = strlen(cmd);
    return strncmp(s, cmd, n) == 0 && !gr_alpha(s[n]);
}

char *gr_alnum_lower(const char *a, const char *b) {
    char *o = s1c_xmalloc((size_t)(b - a) + 1), *w = o;
    for (; a < b; a++) {
        char c = *a;
        if (c >= 'A' && c <= 'Z') *w++ = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || gr_digit(c)) *w++ = c;
    }
    *w = '\0';
    return o;
}
