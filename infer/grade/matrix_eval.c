// matrix_eval.c — matrices (\begin{pmatrix} … \end{pmatrix}, bmatrix, vmatrix, matrix, array)
// evaluated cell by cell, and sums, differences, scalar multiples and products of them, so that
// "\begin{pmatrix}1&2\\3&4\end{pmatrix} + \begin{pmatrix}5&6\\7&8\end{pmatrix}" equals the
// matrix it adds up to. Rows split at "\\", cells at '&'; an empty last row is ignored.
#include <stdio.h>
#include <string.h>

#include "grade_internal.h"

static const char *const envs[] = {"pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix", "matrix",
                                   "array", NULL};

// "\begin{env}" at s: the env index, *after set past it; -1 if none.
static int begin_at(const char *s, const char **after) {
    if (strncmp(s, "\\begin{", 7) != 0) return -1;
    for (int k = 0; envs[k]; k++) {
        size_t n = strlen(envs[k]);
        if (strncmp(s + 7, envs[k], n) == 0 && s[7 + n] == '}') {
            *after = s + 8 + n;
            return k;
        }
    }
    return -1;
}

int gr_has_matrix(const char *s, size_t n) {
    for (size_t i = 0; i + 7 < n; i++) {
        const char *after;
        if (s[i] == '\\' && begin_at(s + i, &after) >= 0 && (size_t)(after - s) <= n) return 1;
    }
    return 0;
}

// The matching "\end{env}" for a body starting at `a` (nested matrices count), or NULL.
static const char *end_of(const char *a, const char *b, int env) {
    char close[32];
    size_t cl = (size_t)snprintf(close, sizeof close, "\\end{%s}", envs[env]);
    int depth = 1;
    for (const char *p = a; p + cl <= b; p++) {
        const char *after;
        if (*p != '\\') continue;
        if (begin_at(p, &after) == env) depth++;
        else if (strncmp(p, close, cl) == 0 && --depth == 0) return p;
    }
    return NULL;
}

static int is_float_literal(const char *a, const char *b) {
    while (a < b && *a == ' ') a++;
    while (b > a && b[-1] == ' ') b--;
    if (a < b && *a == '-') a++;
    int dot = 0, dig = 0;
    for (; a < b; a++) {
        if (*a == '.') dot++;
        else if (gr_digit(*a)) dig++;
        else return 0;
    }
    return dot == 1 && dig > 0;
}

// Cells of the literal whose body is [a, b), row by row.
static int literal(const char *a, const char *b, int env, int sample, gr_vars *vars, gr_matrix *m) {
    if (env == 7) {  // array: skip the column spec {cc}
        while (a < b && *a == ' ') a++;
        if (a < b && *a == '{') {
            long cl = gr_close_brace(a, (size_t)(b - a), 0);
            if (cl < 0) return 0;
            a += cl + 1;
        }
    }
    int n_cells = 0, rows = 0, cols = -1, col = 0, depth = 0;
    const char *cell = a;
    for (const char *p = a;; p++) {
        int row_end = p >= b || (depth == 0 && p + 1 < b && p[0] == '\\' && p[1] == '\\');
        int cell_end = row_end || (depth == 0 && *p == '&');
        if (!cell_end) {
            if (*p == '{') depth++;
            else if (*p == '}') depth--;
            continue;
        }
        const char *ca = cell, *cb = p;
        while (ca < cb && *ca == ' ') ca++;
        while (cb > ca && cb[-1] == ' ') cb--;
        if (!(row_end && col == 0 && ca == cb)) {  // an empty last row is no row
            double v;
            if (ca == cb || n_cells >= GR_MAT_MAX) return 0;
            if (gr_eval(ca, (size_t)(cb - ca), sample, vars, &v, NULL) != GR_EVAL_OK) return 0;
            m->v[n_cells] = v;
            m->is_float[n_cells] = (unsigned char)is_float_literal(ca, cb);
            n_cells++;
            col++;
        }
        if (row_end) {
            if (col) {
                if (cols < 0) cols = col;
                else if (col != cols) return 0;
                rows++;
            }
            col = 0;
            if (p >= b) break;
            p++;  // the second backslash
        }
        cell = p + 1;
    }
    m->rows = rows;
    m->cols = cols;
    return rows > 0 && cols > 0;
}

static void mat_mul(const gr_matrix *x, const gr_matrix *y, gr_matrix *o) {
    gr_matrix r = {.rows = x->rows, .cols = y->cols};
    for (int i = 0; i < x->rows; i++)
        for (int j = 0; j < y->cols; j++) {
            double s = 0;
            for (int k = 0; k < x->cols; k++) s += x->v[i * x->cols + k] * y->v[k * y->cols + j];
            r.v[i * r.cols + j] = s;
        }
    *o = r;
}

static int eval_range(const char *a, const char *b, int sample, gr_vars *vars, gr_matrix *out, int depth);

// One product term [a, b): scalars and matrices side by side.
static int eval_term(const char *a, const char *b, int sample, gr_vars *vars, gr_matrix *out, int depth) {
    double scalar = 1;
    int have = 0;
    gr_matrix acc = {0};
    const char *p = a;
    while (p < b) {
        while (p < b && *p == ' ') p++;
        if (p >= b) break;
        if (strncmp(p, "\\cdot", 5) == 0 || strncmp(p, "\\times", 6) == 0 || *p == '*') {
            p += *p == '*' ? 1 : (p[2] == 'd' ? 5 : 6);
            continue;
        }
        gr_matrix m;
        const char *after;
        int env = begin_at(p, &after);
        if (env >= 0) {
            const char *e = end_of(after, b, env);
            if (!e || !literal(after, e, env, sample, vars, &m)) return 0;
            p = e + strlen(envs[env]) + 6;
        } else if (*p == '(') {
            int d = 0;
            const char *q = p;
            for (; q < b; q++) {
                if (*q == '(') d++;
                else if (*q == ')' && --d == 0) break;
            }
            if (q >= b) return 0;
            const char *in_b = q;
            int inner_matrix = 0;
            for (const char *r = p; r < in_b; r++)
                if (begin_at(r, &after) >= 0) inner_matrix = 1;
            if (inner_matrix) {
                if (!eval_range(p + 1, in_b, sample, vars, &m, depth + 1)) return 0;
            } else {
                double v;
                if (gr_eval(p, (size_t)(in_b + 1 - p), sample, vars, &v, NULL) != GR_EVAL_OK) return 0;
                scalar *= v;
                p = in_b + 1;
                continue;
            }
            p = in_b + 1;
        } else {  // a scalar up to the next matrix / operator
            const char *q = p;
            while (q < b && strncmp(q, "\\begin{", 7) != 0 && *q != '(' && strncmp(q, "\\cdot", 5) != 0 &&
                   strncmp(q, "\\times", 6) != 0)
                q++;
            double v;
            if (gr_eval(p, (size_t)(q - p), sample, vars, &v, NULL) != GR_EVAL_OK) return 0;
            scalar *= v;
            p = q;
            continue;
        }
        if (!have) {
            acc = m;
            have = 1;
        } else {
            if (acc.cols != m.rows || acc.rows * m.cols > GR_MAT_MAX) return 0;
            mat_mul(&acc, &m, &acc);
        }
    }
    if (!have) return 0;
    for (int k = 0; k < acc.rows * acc.cols; k++) acc.v[k] *= scalar;
    *out = acc;
    return 1;
}

// Sum of terms split at top-level '+' / '-'.
static int eval_range(const char *a, const char *b, int sample, gr_vars *vars, gr_matrix *out, int depth) {
    if (depth > 8) return 0;
    int have = 0, depth_b = 0;
    double sign = 1;
    const char *t = a;
    gr_matrix sum = {0};
    for (const char *p = a;; p++) {
        int at_end = p >= b;
        if (!at_end) {
            const char *after;
            if (*p == '\\' && begin_at(p, &after) >= 0) depth_b++;
            else if (*p == '\\' && strncmp(p, "\\end{", 5) == 0) depth_b--;
            else if (*p == '(' || *p == '{') depth_b++;
            else if (*p == ')' || *p == '}') depth_b--;
        }
        int split = at_end || (depth_b == 0 && (*p == '+' || *p == '-') && p > a);
        if (!split) continue;
        const char *q = t;
        while (q < p && *q == ' ') q++;
        if (q < p) {
            gr_matrix m;
            if (!eval_term(t, p, sample, vars, &m, depth)) return 0;
            for (int k = 0; k < m.rows * m.cols; k++) m.v[k] *= sign;
            if (!have) {
                sum = m;
                have = 1;
            } else {
                if (m.rows != sum.rows || m.cols != sum.cols) return 0;
                for (int k = 0; k < m.rows * m.cols; k++) {
                    sum.v[k] += m.v[k];
                    sum.is_float[k] = 0;
                }
            }
        }
        if (at_end) break;
        sign = *p == '-' ? -1 : 1;
        t = p + 1;
    }
    if (!have) return 0;
    *out = sum;
    return 1;
}

int gr_matrix_eval(const char *src, int sample, gr_vars *vars, gr_matrix *out) {
    size_t n = strlen(src);
    const char *a = src, *b = src + n;
    int sign = 1;
    while (a < b && *a == ' ') a++;
    if (a < b && *a == '-') {  // a leading minus: the whole expression negated
        sign = -1;
        a++;
    }
    if (!eval_range(a, b, sample, vars, out, 0)) return 0;
    for (int k = 0; k < out->rows * out->cols; k++) out->v[k] *= sign;
    return 1;
}
