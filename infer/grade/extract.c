// extract.c — the answer of a math generation: candidates in tiers (grade.h), and inside a tier
// the candidate that ends last and parses wins (the caller's accept function says "parses").
//
// The tiers and the anchors ("final answer is …. I hope", "final answer … is", "answer: …",
// "answer …", then anything) follow Math-Verify's extraction with boxed answers first, so that a
// generation graded by s1c and by Math-Verify is read at the same place. Math spans:
//   $$…$$ and \[…\] (may span lines), $…$ and \(…\) (one line; "\$" inside is a dollar),
//   " […] " (whitespace around), and in the last tier a bare \frac{p}{q};
// each may be followed by a percent word, and up to six spans joined by "," / "and" / "or" are
// one answer. A span holding \boxed reads only its boxes.
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

enum { MAX_SPANS = 6 };

typedef struct {
    size_t a, b;
    unsigned char pct;
} span;

typedef struct {
    size_t start, end;
    int order;     // creation order: ties keep it
    int n;         // latex spans (0: text holds the candidate)
    span s[MAX_SPANS];
    char *text;
} cand;

typedef struct {
    cand *c;
    int n, cap;
} cand_list;

static void add(cand_list *l, const cand *c) {
    if (l->n == l->cap) l->c = s1c_xrealloc(l->c, (size_t)(l->cap = l->cap ? 2 * l->cap : 16) * sizeof *l->c);
    l->c[l->n] = *c;
    l->c[l->n].order = l->n;
    l->n++;
}

static void clear(cand_list *l) {
    for (int i = 0; i < l->n; i++) free(l->c[i].text);
    l->n = 0;
}

// ---- math spans ----

// The first occurrence of a closer at or after a position, remembered: the scans move left to
// right, so a text with many openers and no closer ("\\[ \\[ \\[ …") stays linear.
typedef struct {
    const char *needle;
    size_t from, found;  // no occurrence in [from, found); found == n: none at all
    int valid;
} closer;

typedef struct {
    const char *t;
    size_t n;
    int latex, expr;
    cand_list list;
    closer dd, br, pa, nl;  // "$$", "\\]", "\\)", newline
} scan;

static size_t next_of(scan *s, closer *c, size_t q) {
    if (c->valid && q >= c->from && q <= c->found) return c->found;
    size_t nl = strlen(c->needle);
    const char *f = q < s->n ? memmem(s->t + q, s->n - q, c->needle, nl) : NULL;
    c->from = q;
    c->found = f ? (size_t)(f - s->t) : s->n;
    c->valid = 1;
    return c->found;
}

static int escaped(const char *t, size_t i) { return i > 0 && t[i - 1] == '\\'; }

static size_t percent_suffix(const char *t, size_t n, size_t i, unsigned char *pct) {
    size_t k = i;
    while (k < n && gr_space(t[k])) k++;
    static const char *const words[] = {"\\%", "%", "percentage", "Percentage", "percent", "Percent", "pct", "Pct", NULL};
    for (int w = 0; words[w]; w++) {
        size_t len = strlen(words[w]);
        if (k + len <= n && memcmp(t + k, words[w], len) == 0) {
            *pct = 1;
            return k + len;
        }
    }
    *pct = 0;
    return i;
}

static int has_box(const char *t, size_t a, size_t b) {
    for (size_t i = a; i + 7 <= b; i++)
        if (t[i] == '\\' && strncmp(t + i, "\\boxed{", 7) == 0) return 1;
    return 0;
}

// "-?\frac{p}{q}" with p, q plain numbers: a fraction written outside any span.
static int bare_frac(const char *t, size_t n, size_t i, size_t *end) {
    size_t k = i;
    if (k < n && t[k] == '-') k++;
    if (k + 6 > n || strncmp(t + k, "\\frac{", 6) != 0) return 0;
    k += 6;
    for (int part = 0; part < 2; part++) {
        if (part) {
            if (k >= n || t[k] != '{') return 0;
            k++;
        }
        if (k < n && t[k] == '-') k++;
        size_t d = k;
        while (k < n && gr_digit(t[k])) k++;
        if (k == d) return 0;
        if (k + 1 < n && (t[k] == '.' || t[k] == ',') && gr_digit(t[k + 1])) {
            k++;
            while (k < n && gr_digit(t[k])) k++;
        }
        if (k >= n || t[k] != '}') return 0;
        k++;
    }
    *end = k;
    return 1;
}

// A math span starting exactly at i. boxed: only spans holding \boxed count; plain: a bare
// \frac{p}{q} counts too.
static int span_at(scan *sc, size_t i, int boxed, int plain, span *sp, size_t *end) {
    const char *t = sc->t;
    size_t n = sc->n, a = 0, b = 0, e = 0;
    if (t[i] == '$' && i + 1 < n && t[i + 1] == '$' && !escaped(t, i)) {
        size_t c = next_of(sc, &sc->dd, i + 2);
        if (c >= n || c == i + 2 || t[c - 1] == '\\') return 0;
        a = i + 2, b = c, e = b + 2;
    } else if (t[i] == '\\' && i + 1 < n && t[i + 1] == '[' && !escaped(t, i)) {
        size_t c = next_of(sc, &sc->br, i + 2);
        if (c >= n || c == i + 2 || t[c - 1] == '\\') return 0;
        a = i + 2, b = c, e = b + 2;
    } else if (t[i] == '$' && !(i > 0 && (t[i - 1] == '\\' || gr_digit(t[i - 1])))) {
        size_t k = i + 1;
        while (k < n && t[k] != '$' && t[k] != '\n') k += (t[k] == '\\' && k + 1 < n && t[k + 1] == '$') ? 2 : 1;
        if (k >= n || t[k] != '$' || k == i + 1) return 0;
        a = i + 1, b = k, e = k + 1;
    } else if (t[i] == '\\' && i + 1 < n && t[i + 1] == '(' && !escaped(t, i)) {
        size_t k = next_of(sc, &sc->pa, i + 2);
        if (k >= n || k == i + 2 || t[k - 1] == '\\' || next_of(sc, &sc->nl, i + 2) < k) return 0;
        a = i + 2, b = k, e = k + 2;
    } else if (gr_space(t[i]) && i + 1 < n && t[i + 1] == '[') {
        size_t k = i + 2;
        while (k < n && t[k] != ']' && t[k] != '[' && t[k] != '\n') k++;
        if (k + 1 >= n || t[k] != ']' || k == i + 2 || !gr_space(t[k + 1])) return 0;
        a = i + 2, b = k, e = k + 2;
    } else if (plain && !boxed && (t[i] == '\\' || t[i] == '-') && bare_frac(t, n, i, &e)) {
        a = i, b = e;
    } else {
        return 0;
    }
    if (boxed && !has_box(t, a, b)) return 0;
    sp->a = a;
    sp->b = b;
    *end = percent_suffix(t, n, e, &sp->pct);
    return 1;
}

// A span at i and up to five more joined by "," / ";" / "and" / "or".
static int chain_at(scan *sc, size_t i, int boxed, int plain, cand *c) {
    const char *t = sc->t;
    size_t n = sc->n, end;
    memset(c, 0, sizeof *c);
    if (!span_at(sc, i, boxed, plain, &c->s[0], &end)) return 0;
    c->n = 1;
    c->start = i;
    while (c->n < MAX_SPANS) {
        size_t k = end;
        while (k < n && gr_space(t[k])) k++;
        int sep = 0;
        if (k < n && (t[k] == ',' || t[k] == ';')) {
            sep = 1;
            k++;
            while (k < n && gr_space(t[k])) k++;
        }
        if (k + 3 <= n && strncmp(t + k, "and", 3) == 0) sep = 1, k += 3;
        else if (k + 2 <= n && strncmp(t + k, "or", 2) == 0) sep = 1, k += 2;
        if (!sep) break;
        while (k < n && gr_space(t[k])) k++;
        size_t e2;
        if (k >= n || !span_at(sc, k, boxed, plain, &c->s[c->n], &e2)) break;
        c->n++;
        end = e2;
    }
    c->end = end;
    return 1;
}

// ---- candidate text ----

static char *cand_text(const char *t, const cand *c) {
    if (!c->n) return gr_dup_range(c->text, c->text + strlen(c->text));
    gr_buf b = {0};
    for (int k = 0; k < c->n; k++) {
        const span *s = &c->s[k];
        char *boxes = has_box(t, s->a, s->b) ? gr_boxed_all(t + s->a, s->b - s->a) : NULL;
        if (k) gr_buf_puts(&b, ", ");
        if (boxes) gr_buf_puts(&b, boxes);
        else gr_buf_put(&b, t + s->a, s->b - s->a);
        if (s->pct) gr_buf_puts(&b, "\\%");
        free(boxes);
    }
    char *raw = gr_buf_take(&b), *out = gr_dup_range(raw, raw + strlen(raw));
    free(raw);
    return out;
}

// ---- tiers ----


// Latex chain after an anchor within `gap` bytes (lazy: the nearest).
static int latex_after(scan *s, size_t from, size_t gap, cand *c) {
    for (size_t d = 0; d <= gap && from + d < s->n; d++)
        if (chain_at(s, from + d, 0, 0, c)) return 1;
    return 0;
}

// A plain expression, else a plain number, whose prefix byte is at q.
static char *plain_any(scan *s, size_t q, size_t *end) {
    char *r = gr_plain_at(s->t, s->n, q, 1, end);
    return r ? r : gr_plain_at(s->t, s->n, q, 0, end);
}

static int followed_by_eq(scan *s, size_t e) {
    while (e < s->n && gr_space(s->t[e])) e++;
    return e < s->n && s->t[e] == '=';
}

// "answer" anchors: after the last '=' within 100 bytes of the line, or the nearest within 50.
static char *expr_after_answer(scan *s, size_t from, size_t *end) {
    size_t lim = 0;
    while (lim < 100 && from + lim < s->n && s->t[from + lim] != '\n') lim++;
    for (size_t k = lim + 1; k-- > 0;) {
        size_t eq = from + k;
        if (eq >= s->n || s->t[eq] != '=') continue;
        size_t r = eq + 1, q = eq;  // no space after '=': the '=' itself is the prefix
        while (r < s->n && gr_space(s->t[r])) r++;
        if (r > eq + 1) q = r - 1;
        char *x = plain_any(s, q, end);
        if (x && !followed_by_eq(s, *end)) return x;
        free(x);
    }
    for (size_t d = 0; d <= 50 && from + d < s->n && s->t[from + d] != '\n'; d++) {
        char *x = plain_any(s, from + d, end);
        if (x && !followed_by_eq(s, *end)) return x;
        free(x);
    }
    return NULL;
}

// "\.?\s?I hope" after a "final answer is" value.
static int i_hope(scan *s, size_t *e) {
    size_t k = *e;
    if (k < s->n && s->t[k] == '.') k++;
    if (k < s->n && gr_space(s->t[k])) k++;
    if (k + 6 > s->n || strncmp(s->t + k, "I hope", 6) != 0) return 0;
    *e = k + 6;
    return 1;
}

static void add_plain(scan *s, size_t start, size_t end, char *text) {
    cand c;
    memset(&c, 0, sizeof c);
    c.start = start;
    c.end = end;
    c.text = text;
    add(&s->list, &c);
}

// Tier 0: boxes and "final answer is X. I hope".
static void tier_boxed(scan *s) {
    const char *t = s->t;
    size_t n = s->n;
    if (s->latex) {
        for (size_t i = 0; i < n;) {
            cand c;
            if (chain_at(s, i, 1, 0, &c)) {
                add(&s->list, &c);
                i = c.end > i ? c.end : i + 1;
            } else {
                i++;
            }
        }
        long first = gr_box_first(t, n);
        if (first >= 0) {
            size_t last = n;
            while (last > (size_t)first && t[last - 1] != '}') last--;
            char *boxes = last > (size_t)first ? gr_boxed_last(t + first, last - (size_t)first) : NULL;
            if (boxes) add_plain(s, (size_t)first, last, boxes);
        }
    }
    static const char anchor[] = "final answer is";
    for (size_t i = 0; i + sizeof anchor - 1 <= n; i++) {
        if (!gr_ci_at(t + i, t + n, anchor)) continue;
        size_t r = i + sizeof anchor - 1;
        if (r < n && t[r] == ':') r++;
        size_t r2 = r;
        while (r2 < n && gr_space(t[r2])) r2++;
        cand c;
        size_t e;
        if (s->latex && chain_at(s, r2, 0, 0, &c) && (e = c.end, i_hope(s, &e))) {
            c.start = i;
            c.end = e;
            add(&s->list, &c);
            i = e - 1;
            continue;
        }
        if (s->expr) {
            size_t q = r2 > r ? r2 - 1 : r;
            char *x = plain_any(s, q, &e);
            if (x && i_hope(s, &e)) {
                add_plain(s, i, e, x);
                i = e - 1;
            } else {
                free(x);
            }
        }
    }
}

// Tier 1: "final answer … is X" (the nearest " is" within 100 bytes that a value follows).
static void tier_final_is(scan *s) {
    const char *t = s->t;
    size_t n = s->n;
    static const char anchor[] = "final answer";
    for (size_t i = 0; i + sizeof anchor - 1 <= n; i++) {
        if (!gr_ci_at(t + i, t + n, anchor)) continue;
        size_t from = i + sizeof anchor - 1;
        for (int pass = 0; pass < 2; pass++) {
            int latex = pass == 0;
            if ((latex && !s->latex) || (!latex && !s->expr)) continue;
            int found = 0;
            for (size_t d = 0; d <= 100 && from + d < n && !found; d++) {
                size_t q = from + d;
                if (!latex && t[q] == '\n') break;
                if (!gr_space(t[q])) continue;
                size_t r = q;
                while (r < n && gr_space(t[r])) r++;
                if (r + 2 > n || t[r] != 'i' || t[r + 1] != 's') continue;
                r += 2;
                if (r < n && t[r] == ':') r++;
                size_t e;
                if (latex) {
                    while (r < n && gr_space(t[r])) r++;
                    cand c;
                    if (chain_at(s, r, 0, 0, &c)) {
                        c.start = i;
                        add(&s->list, &c);
                        found = 1;
                    }
                } else {
                    char *x = plain_any(s, r, &e);
                    if (x) {
                        add_plain(s, i, e, x);
                        found = 1;
                    }
                }
            }
        }
    }
}

// Tiers 2 and 3: "answer:" / "answer" followed within 50 bytes by a value.
static void tier_answer(scan *s, int colon) {
    const char *t = s->t;
    size_t n = s->n;
    for (size_t i = 0; i + 6 <= n; i++) {
        if (!gr_ci_at(t + i, t + n, "answer")) continue;
        size_t from = i + 6;
        if (colon) {
            if (from >= n || t[from] != ':') continue;
            from++;
        }
        cand c;
        if (s->latex && latex_after(s, from, 50, &c)) {
            c.start = i;
            add(&s->list, &c);
        }
        size_t e;
        char *x = s->expr ? expr_after_answer(s, from, &e) : NULL;
        if (x) add_plain(s, i, e, x);
    }
}

// Tier 4: every math span, plain expression and plain number.
static void tier_plain(scan *s) {
    const char *t = s->t;
    size_t n = s->n;
    if (s->latex) {
        for (size_t i = 0; i < n;) {
            cand c;
            if (chain_at(s, i, 0, 1, &c)) {
                add(&s->list, &c);
                i = c.end > i ? c.end : i + 1;
            } else {
                i++;
            }
        }
    }
    if (s->expr) {
        for (int expr = 1; expr >= 0; expr--) {
            for (size_t q = 0; q < n;) {
                size_t e;
                char *x = gr_plain_at(t, n, q, expr, &e);
                if (x) {
                    add_plain(s, q, e, x);
                    q = e > q ? e : q + 1;
                } else {
                    q++;
                }
            }
        }
    }
}

static int by_end_desc(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    if (a->end != b->end) return a->end > b->end ? -1 : 1;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    return a->order - b->order;
}

char *gr_extract_math(const char *text, size_t n, int targets, gr_accept_fn accept, void *ctx, char **fallback) {
    scan s = {.t = text, .n = n, .latex = (targets & S1C_GRADE_LATEX) != 0, .expr = (targets & S1C_GRADE_EXPR) != 0};
    s.dd.needle = "$$";
    s.br.needle = "\\]";
    s.pa.needle = "\\)";
    s.nl.needle = "\n";
    char *found = NULL, *first = NULL;
    if (fallback) *fallback = NULL;
    for (int tier = 0; tier < 5 && !found; tier++) {
        switch (tier) {
        case 0: tier_boxed(&s); break;
        case 1: tier_final_is(&s); break;
        case 2: tier_answer(&s, 1); break;
        case 3: tier_answer(&s, 0); break;
        default: tier_plain(&s); break;
        }
        if (s.list.n) qsort(s.list.c, (size_t)s.list.n, sizeof *s.list.c, by_end_desc);
        for (int k = 0; k < s.list.n && !found; k++) {
            char *txt = cand_text(text, &s.list.c[k]);
            if (accept(txt, ctx)) found = txt;
            else if (!first && txt[0]) first = txt;
            else free(txt);
        }
        clear(&s.list);
    }
    free(s.list.c);
    if (found || !fallback) free(first);
    else *fallback = first;
    return found;
}
