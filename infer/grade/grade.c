// grade.c — see grade.h. Tiers 2–3 of the MATH checker and the AIME / GPQA graders.
#include "grade.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s1c_err.h"

static int num_close(double a, double b) {
    if (isinf(a) || isinf(b)) return a == b;
    return fabs(a - b) <= 1e-6 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

// Tier 2: equal values at every variable sample (one sample when neither side has variables).
static int numeric_equal(const char *a, int pa, const char *b, int pb) {
    for (int k = 0; k < 3; k++) {
        double va, vb;
        int xa = 0, xb = 0;
        if (!s1c_math_eval(a, k, &va, &xa) || !s1c_math_eval(b, k, &vb, &xb)) return 0;
        int ok = num_close(va, vb) || (pa && num_close(va / 100.0, vb)) || (pb && num_close(vb / 100.0, va));
        if (!ok) return 0;
        if (!xa && !xb) return 1;
    }
    return 1;
}

static int is_open(const char *s, size_t i) {
    return s[i] == '(' || s[i] == '[' || s[i] == '{';
}
static int is_close(const char *s, size_t i) {
    return s[i] == ')' || s[i] == ']' || s[i] == '}';
}

// Splits s at top-level occurrences of sep (brackets of any kind nest; \{ \} count as braces).
// Returns the number of parts (malloc'ed into *parts), 0 when brackets are unbalanced.
static int split_top(const char *s, const char *sep, char ***parts) {
    size_t n = strlen(s), ns = strlen(sep), start = 0;
    int depth = 0, cnt = 0, cap = 4;
    char **out = s1c_xmalloc((size_t)cap * sizeof *out);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] == '\\' && (s[i + 1] == '{' || s[i + 1] == '}')) {
            depth += s[i + 1] == '{' ? 1 : -1;
            i++;
            continue;
        }
        int at_sep = i == n || (depth == 0 && strncmp(s + i, sep, ns) == 0);
        if (i < n && !at_sep) {
            if (is_open(s, i)) depth++;
            else if (is_close(s, i)) depth--;
            if (depth < 0) break;
            continue;
        }
        if (cnt == cap) out = s1c_xrealloc(out, (size_t)(cap *= 2) * sizeof *out);
        char *part = s1c_xmalloc(i - start + 1);
        memcpy(part, s + start, i - start);
        part[i - start] = '\0';
        out[cnt++] = part;
        if (i == n) break;
        i += ns - 1;
        start = i + 1;
    }
    if (depth != 0) {
        for (int k = 0; k < cnt; k++) free(out[k]);
        free(out);
        *parts = NULL;
        return 0;
    }
    *parts = out;
    return cnt;
}

static void free_parts(char **p, int n) {
    for (int i = 0; i < n; i++) free(p[i]);
    free(p);
}

// Does the bracket opening at s[0] close exactly at the last character?
static int wraps_whole(const char *s) {
    size_t n = strlen(s);
    if (n < 2 || !(s[0] == '(' || s[0] == '[') || !(s[n - 1] == ')' || s[n - 1] == ']')) return 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_open(s, i)) depth++;
        else if (is_close(s, i)) depth--;
        if (depth == 0 && i < n - 1) return 0;
    }
    return depth == 0;
}

static int is_set(const char *s) {
    size_t n = strlen(s);
    return n >= 4 && strncmp(s, "\\{", 2) == 0 && strcmp(s + n - 2, "\\}") == 0;
}

static char *sub(const char *s, size_t a, size_t b) {
    char *o = s1c_xmalloc(b - a + 1);
    memcpy(o, s + a, b - a);
    o[b - a] = '\0';
    return o;
}

static int equiv(const char *a, int pa, const char *b, int pb, int depth);

static int lists_equal(char **x, int nx, char **y, int ny, int ordered, int depth) {
    if (nx != ny) return 0;
    if (ordered) {
        for (int i = 0; i < nx; i++)
            if (!equiv(x[i], 0, y[i], 0, depth + 1)) return 0;
        return 1;
    }
    char *used = s1c_xcalloc((size_t)ny + 1, 1);
    int ok = 1;
    for (int i = 0; i < nx && ok; i++) {
        int found = 0;
        for (int j = 0; j < ny && !found; j++)
            if (!used[j] && equiv(x[i], 0, y[j], 0, depth + 1)) used[j] = found = 1;
        ok = found;
    }
    free(used);
    return ok;
}

// Splits a list under a separator in both strings and compares the parts.
static int compare_split(const char *a, const char *b, const char *sep, int ordered, int depth) {
    char **x = NULL, **y = NULL;
    int nx = split_top(a, sep, &x), ny = split_top(b, sep, &y);
    int ok = nx > 0 && ny > 0 && lists_equal(x, nx, y, ny, ordered, depth);
    free_parts(x, nx);
    free_parts(y, ny);
    return ok;
}

static const char *matrix_body(const char *s, size_t *len) {
    static const char *const open = "\\begin{pmatrix}", *const close = "\\end{pmatrix}";
    size_t n = strlen(s), no = strlen(open), nc = strlen(close);
    if (n < no + nc || strncmp(s, open, no) != 0 || strcmp(s + n - nc, close) != 0) return NULL;
    *len = n - no - nc;
    return s + no;
}

// Matrices cell by cell: rows split at "\\", cells at '&' (an empty trailing row is ignored).
static int matrix_equal(const char *a, const char *b, int depth) {
    size_t la, lb;
    const char *ba = matrix_body(a, &la), *bb = matrix_body(b, &lb);
    if (!ba || !bb) return 0;
    char *sa = sub(ba, 0, la), *sb = sub(bb, 0, lb);
    char **ra = NULL, **rb = NULL;
    int na = split_top(sa, "\\\\", &ra), nb = split_top(sb, "\\\\", &rb);
    while (na > 0 && ra[na - 1][0] == '\0') free(ra[--na]);
    while (nb > 0 && rb[nb - 1][0] == '\0') free(rb[--nb]);
    int ok = na > 0 && na == nb;
    for (int i = 0; ok && i < na; i++) ok = compare_split(ra[i], rb[i], "&", 1, depth);
    free_parts(ra, na);
    free_parts(rb, nb);
    free(sa);
    free(sb);
    return ok;
}

// Top-level relation operator position (first one), its length; -1 if none.
static long find_relation(const char *s, int *oplen) {
    int depth = 0;
    for (long i = 0; s[i]; i++) {
        if (is_open(s, (size_t)i)) depth++;
        else if (is_close(s, (size_t)i)) depth--;
        if (depth) continue;
        if ((s[i] == '<' || s[i] == '>' || s[i] == '!') && s[i + 1] == '=') {
            *oplen = 2;
            return i;
        }
        if (s[i] == '<' || s[i] == '>' || s[i] == '=') {
            *oplen = 1;
            return i;
        }
    }
    return -1;
}

static const char *flip_op(const char *op) {
    if (!strcmp(op, "<")) return ">";
    if (!strcmp(op, ">")) return "<";
    if (!strcmp(op, "<=")) return ">=";
    if (!strcmp(op, ">=")) return "<=";
    return op;
}

// Relations: same operator with equal sides, or the mirrored form (5 >= x vs x <= 5); two
// equations also match when lhs - rhs of one is a constant multiple of the other's.
static int relation_equal(const char *a, const char *b, int depth) {
    int la = 0, lb = 0;
    long ia = find_relation(a, &la), ib = find_relation(b, &lb);
    if (ia < 0 || ib < 0) return 0;
    char *al = sub(a, 0, (size_t)ia), *ar = s1c_xstrdup(a + ia + la), *aop = sub(a, (size_t)ia, (size_t)(ia + la));
    char *bl = sub(b, 0, (size_t)ib), *br = s1c_xstrdup(b + ib + lb), *bop = sub(b, (size_t)ib, (size_t)(ib + lb));
    int ok = 0;
    if (!strchr(ar, '=') && !strchr(br, '=') && !strchr(ar, '<') && !strchr(br, '<') && !strchr(ar, '>') &&
        !strchr(br, '>')) {
        if (!strcmp(aop, bop) && equiv(al, 0, bl, 0, depth + 1) && equiv(ar, 0, br, 0, depth + 1)) ok = 1;
        else if (!strcmp(aop, flip_op(bop)) && equiv(al, 0, br, 0, depth + 1) && equiv(ar, 0, bl, 0, depth + 1)) ok = 1;
        if (!ok && !strcmp(aop, "=") && !strcmp(bop, "=")) {
            size_t na = strlen(al) + strlen(ar) + 8, nb = strlen(bl) + strlen(br) + 8;
            char *da = s1c_xmalloc(na), *db = s1c_xmalloc(nb);
            snprintf(da, na, "(%s)-(%s)", al, ar);
            snprintf(db, nb, "(%s)-(%s)", bl, br);
            double ratio = NAN;
            ok = 1;
            for (int k = 0; k < 3 && ok; k++) {
                double va, vb;
                int xa = 0, xb = 0;
                if (!s1c_math_eval(da, k, &va, &xa) || !s1c_math_eval(db, k, &vb, &xb) || !xa || !xb ||
                    fabs(vb) < 1e-12) {
                    ok = 0;
                    break;
                }
                if (k == 0) ratio = va / vb;
                else ok = num_close(va / vb, ratio);
            }
            ok = ok && fabs(ratio) > 1e-12;
            free(da);
            free(db);
        }
    }
    free(al);
    free(ar);
    free(aop);
    free(bl);
    free(br);
    free(bop);
    return ok;
}

static int has_top(const char *s, const char *sep) {
    char **p = NULL;
    int n = split_top(s, sep, &p);
    free_parts(p, n);
    return n > 1;
}

// "(a,b)", "[a,b)": one bracket pair around the whole text with a top-level comma inside.
static int is_tuple(const char *s) {
    if (!wraps_whole(s)) return 0;
    char *in = sub(s, 1, strlen(s) - 1);
    int r = has_top(in, ",");
    free(in);
    return r;
}

static int equiv(const char *a, int pa, const char *b, int pb, int depth) {
    if (depth > 16) return 0;
    if (strcmp(a, b) == 0) return 1;
    if (has_top(a, "\\cup") || has_top(b, "\\cup")) return compare_split(a, b, "\\cup", 0, depth);
    if (matrix_body(a, &(size_t){0}) || matrix_body(b, &(size_t){0})) return matrix_equal(a, b, depth);
    if (is_set(a) || is_set(b)) {
        // A set equals a set or a bare list with the same elements in any order.
        size_t na = strlen(a), nb = strlen(b);
        char *ia = is_set(a) ? sub(a, 2, na - 2) : s1c_xstrdup(a);
        char *ib = is_set(b) ? sub(b, 2, nb - 2) : s1c_xstrdup(b);
        int ok = (is_set(a) && is_set(b)) || (!wraps_whole(ia) && !wraps_whole(ib));
        ok = ok && compare_split(ia, ib, ",", 0, depth);
        free(ia);
        free(ib);
        return ok;
    }
    int ta = is_tuple(a), tb = is_tuple(b);
    if (ta || tb) {
        // Tuple or interval: both brackets must agree, elements in order.
        size_t na = strlen(a), nb = strlen(b);
        if (!ta || !tb || a[0] != b[0] || a[na - 1] != b[nb - 1]) return 0;
        char *ia = sub(a, 1, na - 1), *ib = sub(b, 1, nb - 1);
        int ok = compare_split(ia, ib, ",", 1, depth);
        free(ia);
        free(ib);
        return ok;
    }
    if (has_top(a, ",") || has_top(b, ",")) return compare_split(a, b, ",", 1, depth);
    int ol;
    if (find_relation(a, &ol) >= 0 || find_relation(b, &ol) >= 0) return relation_equal(a, b, depth);
    return numeric_equal(a, pa, b, pb);
}

int s1c_math_equiv(const char *gold, const char *pred) {
    if (!gold || !pred) return 0;
    int pa = 0, pb = 0;
    char *a = s1c_math_normalize(gold, &pa), *b = s1c_math_normalize(pred, &pb);
    int ok = a[0] && b[0] && equiv(a, pa, b, pb, 0);
    free(a);
    free(b);
    return ok;
}

static int aime_equal(const char *gold, const char *pred) {
    char *g = s1c_math_normalize(gold, NULL), *p = s1c_math_normalize(pred, NULL);
    double vg, vp;
    int xg = 0, xp = 0;
    int ok = s1c_math_eval(g, 0, &vg, &xg) && s1c_math_eval(p, 0, &vp, &xp) && !xg && !xp && vg == floor(vg) &&
             vp == vg;
    free(g);
    free(p);
    return ok;
}

int s1c_grade(s1c_bench_format fmt, const char *gold, const char *pred) {
    if (!gold || !pred || !*pred) return 0;
    switch (fmt) {
    case S1C_BENCH_AIME: return aime_equal(gold, pred);
    case S1C_BENCH_GPQA:
        return strlen(pred) == 1 && toupper((unsigned char)pred[0]) == toupper((unsigned char)gold[0]);
    default: return s1c_math_equiv(gold, pred);
    }
}
