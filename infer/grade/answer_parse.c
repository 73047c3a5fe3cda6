// answer_parse.c — a normalised answer as a tree (grade_internal.h), loosest binding first:
//   ';' lists ("p=5,q=2;p=7,q=2": a set of tuples), \cup, ',' lists (a set; "1,000" and
//   "12,000,023" are numbers), \approx (the side that is not a bare variable), relation chains
//   (= < <= > >= != \in; "a = 4, -8, -10" is a with the set), then a value: a ± b (the set of
//   both), \{…\} sets, ( … ) tuples, [a, b) intervals, matrices, {…} groups, words, expressions.
// Every node keeps its text: texts equal up to spaces are equal answers.
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

enum { MAX_DEPTH = 40, MAX_PARTS = 256 };

gr_node *gr_node_new(gr_kind kind, const char *src, size_t len) {
    gr_node *n = s1c_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->src = gr_dup_range(src, src + len);
    return n;
}

int gr_same_text(const char *a, const char *b) {
    for (;;) {
        while (*a == ' ') a++;
        while (*b == ' ') b++;
        if (*a != *b) return 0;
        if (!*a) return 1;
        a++;
        b++;
    }
}

void gr_node_add(gr_node *parent, gr_node *kid) {
    parent->kids = s1c_xrealloc(parent->kids, (size_t)(parent->n + 1) * sizeof *parent->kids);
    parent->kids[parent->n++] = kid;
}

// Adds x to the set; a bare list (from ± or a nested list) adds its members instead.
static void add_flat(gr_node *set, gr_node *x) {
    if (x->kind != GR_SET || !x->bare) {
        gr_node_add(set, x);
        return;
    }
    for (int j = 0; j < x->n; j++) gr_node_add(set, x->kids[j]);
    x->n = 0;
    free(x->kids);
    x->kids = NULL;
    gr_node_free(x);
}

void gr_node_free(gr_node *n) {
    if (!n) return;
    for (int k = 0; k < n->n; k++) gr_node_free(n->kids[k]);
    free(n->kids);
    free(n->ops);
    free(n->src);
    free(n);
}

// ---- scanning at depth 0 ----

// Bytes to advance over the token at p, updating the bracket depth: ( [ { \{ open, ) ] } \}
// close, \begin{…} / \end{…} open and close, other commands are skipped whole.
static size_t step(const char *p, const char *b, int *depth) {
    if (*p == '\\' && p + 1 < b) {
        if (p[1] == '{' || p[1] == '}') {
            *depth += p[1] == '{' ? 1 : -1;
            return 2;
        }
        if (strncmp(p, "\\begin{", 7) == 0 || strncmp(p, "\\end{", 5) == 0) {
            *depth += p[1] == 'b' ? 1 : -1;
            const char *q = memchr(p, '}', (size_t)(b - p));
            return q ? (size_t)(q - p) + 1 : (size_t)(b - p);
        }
        size_t k = 1;
        while (p + k < b && gr_alpha(p[k])) k++;
        return k > 1 ? k : 2;
    }
    if (*p == '(' || *p == '[' || *p == '{') (*depth)++;
    else if (*p == ')' || *p == ']' || *p == '}') (*depth)--;
    return 1;
}

typedef struct {
    const char *a[MAX_PARTS], *b[MAX_PARTS];
    int n;
} parts;

// Splits [a, b) at depth-0 occurrences of any byte in `seps` (or of "\cup" when seps is NULL).
// Returns the number of parts (1 when there is no separator), 0 when brackets do not balance.
static int split(const char *a, const char *b, const char *seps, parts *out) {
    int depth = 0;
    out->n = 0;
    const char *start = a;
    for (const char *p = a; p < b;) {
        if (depth == 0) {
            size_t sl = 0;
            if (seps && strchr(seps, *p) && *p) sl = 1;
            else if (!seps && b - p >= 4 && gr_cmd_at(p, "\\cup")) sl = 4;
            if (sl) {
                if (out->n == MAX_PARTS) return 0;
                out->a[out->n] = start;
                out->b[out->n++] = p;
                p += sl;
                start = p;
                continue;
            }
        }
        p += step(p, b, &depth);
        if (depth < 0) return 0;
    }
    if (depth != 0 || out->n == MAX_PARTS) return 0;
    out->a[out->n] = start;
    out->b[out->n++] = b;
    return out->n;
}

static void trim(const char **a, const char **b) {
    while (*a < *b && **a == ' ') (*a)++;
    while (*b > *a && (*b)[-1] == ' ') (*b)--;
}

// Does the bracket at a close exactly at b - 1?
static int wraps(const char *a, const char *b) {
    int depth = 0;
    for (const char *p = a; p < b;) {
        p += step(p, b, &depth);
        if (depth == 0) return p == b;
    }
    return 0;
}

// ---- relations ----

// A relation operator at p (depth 0): its kind and length; 0 when none.
static size_t rel_at(const char *p, const char *b, int *op) {
    if (p + 1 < b && p[1] == '=' && (p[0] == '<' || p[0] == '>' || p[0] == '!')) {
        *op = p[0] == '<' ? GR_LE : p[0] == '>' ? GR_GE : GR_NE;
        return 2;
    }
    if (*p == '<' || *p == '>' || *p == '=') {
        *op = *p == '<' ? GR_LT : *p == '>' ? GR_GT : GR_EQ;
        return 1;
    }
    if (b - p >= 3 && gr_cmd_at(p, "\\in")) {
        *op = GR_IN;
        return 3;
    }
    return 0;
}

int gr_only_symbols(const char *s) {
    int letters = 0;
    for (const char *p = s; *p;) {
        if (*p == '_') {  // a subscript belongs to the name
            p++;
            if (*p == '{') {
                long cl = gr_close_brace(p, strlen(p), 0);
                if (cl < 0) return 0;
                p += cl + 1;
            } else if (*p) {
                p++;
            }
            continue;
        }
        if (*p == '\\') {
            p++;
            const char *c = p;
            while (gr_alpha(*p)) p++;
            if (p - c == 2 && strncmp(c, "pi", 2) == 0) return 0;  // \pi is a number
            if (p == c && *p) p++;
            continue;
        }
        if (gr_digit(*p) || *p == '.') return 0;
        if (*p == '=' || *p == '<' || *p == '>') return 0;
        if (gr_alpha(*p)) letters++;
        p++;
    }
    return letters > 0;
}

// ---- values ----

static gr_node *p_top(const char *a, const char *b, int depth);
static gr_node *p_elem(const char *a, const char *b, int depth);
static gr_node *p_value(const char *a, const char *b, int depth);

static int is_digits(const char *a, const char *b) {
    if (a >= b) return 0;
    for (; a < b; a++)
        if (!gr_digit(*a)) return 0;
    return 1;
}

static void number_flags(gr_node *n) {
    const char *s = n->src;
    if (*s == '-') s++;
    const char *dot = strchr(s, '.');
    size_t len = strlen(s);
    if (is_digits(s, s + len)) n->is_int = 1;
    else if (dot && is_digits(dot + 1, s + len) && (dot == s || is_digits(s, dot))) n->is_float = 1;
}

// "7,425,000" / "1,000.5": one number with thousands commas (no spaces).
static gr_node *thousands(const char *a, const char *b) {
    const char *p = a;
    if (p < b && *p == '-') p++;
    const char *e = b, *pct = NULL;
    if (e > p && e[-1] == '%') pct = --e;
    const char *dot = memchr(p, '.', (size_t)(e - p));
    const char *int_end = dot ? dot : e;
    if (dot && !is_digits(dot + 1, e)) return NULL;
    const char *c = memchr(p, ',', (size_t)(int_end - p));
    if (!c || c - p < 1 || c - p > 3 || !is_digits(p, c)) return NULL;
    for (const char *g = c; g < int_end; g += 4)
        if (g[0] != ',' || int_end - g < 4 || !is_digits(g + 1, g + 4)) return NULL;
    gr_buf buf = {0};
    for (const char *q = a; q < e; q++)
        if (*q != ',') gr_buf_putc(&buf, *q);
    char *txt = gr_buf_take(&buf);
    gr_node *n = gr_node_new(GR_EXPR, txt, strlen(txt));
    free(txt);
    n->percent = pct != NULL;
    number_flags(n);
    return n;
}

// A ',' / ';' list (of at least two parts) as a set; "x = 1, 2, 3" as x = the set.
static gr_node *p_list(const char *a, const char *b, const parts *ps, int depth) {
    // "a = 4, -8, -10": only the first part is a relation with a bare variable on its left.
    int rel_first = 0, rel_other = 0;
    for (int k = 0; k < ps->n; k++) {
        int d = 0, has = 0;
        for (const char *p = ps->a[k]; p < ps->b[k];) {
            int op;
            if (d == 0 && rel_at(p, ps->b[k], &op) && op != GR_IN) has = 1;
            p += step(p, ps->b[k], &d);
        }
        if (k == 0) rel_first = has;
        else rel_other |= has;
    }
    gr_node *set = gr_node_new(GR_SET, a, (size_t)(b - a));
    set->bare = 1;
    int k0 = 0;
    gr_node *head = NULL;
    if (rel_first && !rel_other) {
        head = p_elem(ps->a[0], ps->b[0], depth + 1);
        if (head && head->kind == GR_REL && head->n == 2 && head->ops[0] == GR_EQ && gr_only_symbols(head->kids[0]->src)) {
            gr_node_add(set, head->kids[1]);
            head->kids[1] = set;
            free(head->src);  // the relation now holds the whole list
            head->src = s1c_xstrdup(set->src);
            k0 = 1;
        } else {
            gr_node_free(head);
            head = NULL;
        }
    }
    for (int k = k0; k < ps->n; k++) {
        const char *pa = ps->a[k], *pb = ps->b[k];
        trim(&pa, &pb);
        if (pa == pb) continue;  // "1, 2," — a trailing comma
        gr_node *e = p_elem(pa, pb, depth + 1);
        if (!e) {
            gr_node_free(head ? head : set);
            return NULL;
        }
        add_flat(set, e);  // ± inside a list: its two values join the list
    }
    if (!set->n) {
        gr_node_free(head ? head : set);
        return NULL;
    }
    return head ? head : set;
}

static gr_node *p_top(const char *a, const char *b, int depth) {
    trim(&a, &b);
    if (a == b || depth > MAX_DEPTH) return NULL;
    parts ps;
    // ';' lists: "-12;-11;-10", "p=5,q=2;p=7,q=2" (each part a tuple when it holds commas).
    if (split(a, b, ";", &ps) >= 2) {
        gr_node *set = gr_node_new(GR_SET, a, (size_t)(b - a));
        set->bare = 1;
        for (int k = 0; k < ps.n; k++) {
            const char *pa = ps.a[k], *pb = ps.b[k];
            trim(&pa, &pb);
            if (pa == pb) continue;
            parts inner;
            gr_node *e = NULL;
            if (split(pa, pb, ",", &inner) >= 2) {
                e = gr_node_new(GR_TUPLE, pa, (size_t)(pb - pa));
                for (int j = 0; j < inner.n; j++) {
                    gr_node *x = p_elem(inner.a[j], inner.b[j], depth + 1);
                    if (!x) {
                        gr_node_free(e);
                        e = NULL;
                        break;
                    }
                    gr_node_add(e, x);
                }
            } else {
                e = p_elem(pa, pb, depth + 1);
            }
            if (!e) {
                gr_node_free(set);
                return NULL;
            }
            gr_node_add(set, e);
        }
        return set;
    }
    if (split(a, b, NULL, &ps) >= 2) {
        gr_node *u = gr_node_new(GR_UNION, a, (size_t)(b - a));
        for (int k = 0; k < ps.n; k++) {
            gr_node *e = p_top(ps.a[k], ps.b[k], depth + 1);
            if (!e) {
                gr_node_free(u);
                return NULL;
            }
            gr_node_add(u, e);
        }
        return u;
    }
    gr_node *num = thousands(a, b);
    if (num) return num;
    if (split(a, b, ",", &ps) >= 2) return p_list(a, b, &ps, depth);
    return p_elem(a, b, depth);
}

static gr_node *p_elem(const char *a, const char *b, int depth) {
    trim(&a, &b);
    if (a == b || depth > MAX_DEPTH) return NULL;
    // \approx: "x \approx 11" is 11, "x = 1/3 \approx 0.33" is x = 1/3.
    {
        int d = 0;
        for (const char *p = a; p < b;) {
            if (d == 0 && b - p >= 7 && gr_cmd_at(p, "\\approx")) {
                gr_node *lhs = gr_node_new(GR_EXPR, a, (size_t)(p - a));
                int var = gr_only_symbols(lhs->src);
                gr_node_free(lhs);
                return var ? p_elem(p + 7, b, depth + 1) : p_elem(a, p, depth + 1);
            }
            p += step(p, b, &d);
        }
    }
    // Relation chains.
    const char *oa[MAX_PARTS], *ob[MAX_PARTS];
    int ops[MAX_PARTS], n = 0, d = 0;
    const char *start = a;
    for (const char *p = a; p < b;) {
        int op;
        size_t len = d == 0 ? rel_at(p, b, &op) : 0;
        if (len) {
            if (n + 1 >= MAX_PARTS) return NULL;
            oa[n] = start;
            ob[n] = p;
            ops[n++] = op;
            p += len;
            start = p;
            continue;
        }
        p += step(p, b, &d);
    }
    if (!n) return p_value(a, b, depth);
    oa[n] = start;
    ob[n] = b;
    int n_operands = n + 1;
    // "= 5" / "x =": an empty end operand is dropped with its operator.
    const char *fa = oa[0], *fb = ob[0], *la = oa[n], *lb = ob[n];
    trim(&fa, &fb);
    trim(&la, &lb);
    if (fa == fb) return p_elem(oa[1], b, depth + 1);
    if (la == lb) return p_elem(a, ob[n - 1], depth + 1);
    gr_node *rel = gr_node_new(GR_REL, a, (size_t)(b - a));
    rel->ops = s1c_xmalloc((size_t)n * sizeof *rel->ops);
    memcpy(rel->ops, ops, (size_t)n * sizeof *ops);
    int all_eq = 1;
    for (int k = 0; k < n; k++) all_eq &= ops[k] == GR_EQ;
    for (int k = 0; k < n_operands; k++) {
        gr_node *x = p_top(oa[k], ob[k], depth + 1);
        if (!x) {
            gr_node_free(rel);
            // Math-Verify's fallback for a chain it cannot read: the part after the last '='.
            return all_eq && n_operands >= 3 ? p_top(oa[n], ob[n], depth + 1) : NULL;
        }
        gr_node_add(rel, x);
    }
    return rel;
}

// Replaces the first \pm / \mp in [a, b) by '+' and by '-': the set of both values.
static gr_node *plus_minus(const char *a, const char *b, int depth) {
    const char *pm = NULL;
    for (const char *p = a; p + 3 <= b; p++)
        if (p[0] == '\\' && (gr_cmd_at(p, "\\pm") || gr_cmd_at(p, "\\mp"))) {
            pm = p;
            break;
        }
    if (!pm) return NULL;
    gr_node *set = gr_node_new(GR_SET, a, (size_t)(b - a));
    set->bare = 1;
    for (int sign = 0; sign < 2; sign++) {
        char c = (sign == 0) == (pm[1] == 'p') ? '+' : '-';
        gr_buf buf = {0};
        gr_buf_put(&buf, a, (size_t)(pm - a));
        gr_buf_putc(&buf, c);
        gr_buf_put(&buf, pm + 3, (size_t)(b - pm - 3));
        char *txt = gr_buf_take(&buf);
        gr_node *x = p_value(txt, txt + strlen(txt), depth + 1);
        free(txt);
        if (!x) {
            gr_node_free(set);
            return NULL;
        }
        add_flat(set, x);
    }
    return set;
}

static int texty(const char *a, const char *b) {  // letters, digits, spaces, light punctuation
    int letters = 0;
    for (const char *p = a; p < b; p++) {
        if (gr_alpha(*p)) letters++;
        else if (!gr_digit(*p) && !strchr(" .,'\"-()!?", *p)) return 0;
    }
    return letters > 0;
}

static gr_node *p_value(const char *a, const char *b, int depth) {
    trim(&a, &b);
    if (a == b || depth > MAX_DEPTH) return NULL;
    int percent = 0;
    if (b[-1] == '%') {
        percent = 1;
        b--;
        trim(&a, &b);
        if (a == b) return NULL;
    }
    gr_node *pm = plus_minus(a, b, depth);
    if (pm) return pm;
    size_t len = (size_t)(b - a);
    if ((len == 9 && strncmp(a, "\\emptyset", 9) == 0) || (len == 11 && strncmp(a, "\\varnothing", 11) == 0))
        return gr_node_new(GR_EMPTY, a, len);
    parts ps;
    if (len >= 4 && strncmp(a, "\\{", 2) == 0 && strncmp(b - 2, "\\}", 2) == 0 && wraps(a, b)) {
        const char *ia = a + 2, *ib = b - 2;
        trim(&ia, &ib);
        if (ia == ib) return gr_node_new(GR_EMPTY, a, len);
        if (!split(ia, ib, ",;", &ps)) return NULL;
        gr_node *set = gr_node_new(GR_SET, a, len);
        for (int k = 0; k < ps.n; k++) {
            gr_node *x = p_elem(ps.a[k], ps.b[k], depth + 1);
            if (!x) {
                gr_node_free(set);
                return NULL;
            }
            add_flat(set, x);
        }
        return set;
    }
    char open = *a, close = b[-1];
    if ((open == '(' || open == '[') && (close == ')' || close == ']') && wraps(a, b)) {
        const char *ia = a + 1, *ib = b - 1;
        int np = split(ia, ib, ",;", &ps);
        if (np >= 2) {
            if (np == 2 && !(open == '(' && close == ')')) {
                gr_node *iv = gr_node_new(GR_INTERVAL, a, len);
                iv->lo_open = open == '(';
                iv->hi_open = close == ')';
                for (int k = 0; k < 2; k++) {
                    gr_node *x = p_elem(ps.a[k], ps.b[k], depth + 1);
                    if (!x) {
                        gr_node_free(iv);
                        return NULL;
                    }
                    gr_node_add(iv, x);
                }
                return iv;
            }
            if ((open == '(') != (close == ')')) return NULL;
            gr_node *tup = gr_node_new(GR_TUPLE, a, len);
            for (int k = 0; k < np; k++) {
                gr_node *x = p_elem(ps.a[k], ps.b[k], depth + 1);
                if (!x) {
                    gr_node_free(tup);
                    return NULL;
                }
                gr_node_add(tup, x);
            }
            return tup;
        }
        if (np == 1 && (open == '(') == (close == ')')) {  // "(\frac{1}{3})", "(9+1)": the inside
            gr_node *x = p_top(ia, ib, depth + 1);
            if (x && percent) x->percent = 1;
            return x;
        }
    }
    if (open == '{' && close == '}' && wraps(a, b)) return p_top(a + 1, b - 1, depth + 1);
    if (gr_has_matrix(a, len)) {
        char *txt = gr_dup_range(a, b);
        gr_matrix m;
        int ok = gr_matrix_eval(txt, 0, NULL, &m);
        free(txt);
        if (ok) return gr_node_new(GR_MATRIX, a, len);
    }
    char *txt = gr_dup_range(a, b);
    int syntax = gr_eval_syntax_ok(txt);
    free(txt);
    if (syntax) {
        gr_node *x = gr_node_new(GR_EXPR, a, len);
        x->percent = (unsigned char)percent;
        number_flags(x);
        return x;
    }
    if (texty(a, b)) {
        char *al = gr_alnum_lower(a, b);
        gr_node *x = gr_node_new(GR_TEXT, al, strlen(al));
        free(al);
        return x;
    }
    return NULL;
}

gr_node *gr_parse(const char *s) {
    if (!s) return NULL;
    return p_top(s, s + strlen(s), 0);
}
