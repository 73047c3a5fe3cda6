// answer_equal.c — is the predicted answer tree the gold one? (grade.h lists the rules.)
//
// Order, as Math-Verify's verify: equal texts; "x = 5" against 5 (a prediction that is an
// equation is read as its last right side when the gold is not one; a gold assignment, a bare
// variable on the left, as its right side when the prediction is not an equation); a relation
// against a set as the set it describes; relations; sets, tuples, intervals, unions; text;
// matrices; numbers and expressions.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

typedef struct {
    const s1c_grade_opts *o;
    gr_vars gv, pv;  // variable tables of the gold / the prediction (non-strict grading)
    int depth;
} cmp;

static int eq(cmp *c, const gr_node *g, const gr_node *p);

// ---- numbers ----

static int round_equal(double a, double b, int digits) {
    double scale = pow(10.0, digits);
    double x = a * scale, y = b * scale;
    if (fabs(x) > 9e15 || fabs(y) > 9e15) return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
    // Round half away from zero, with a little slack for binary fractions (0.0833333 * 1e6).
    double rx = round(x + (x >= 0 ? 1e-7 : -1e-7)), ry = round(y + (y >= 0 ? 1e-7 : -1e-7));
    return rx == ry;
}

static int close(const cmp *c, const gr_node *g, double a, const gr_node *p, double b) {
    if (isinf(a) || isinf(b)) return a == b;
    if (g->is_float || p->is_float) return round_equal(a, b, c->o->float_digits);
    if (g->is_int && p->is_int) return a == b;
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static int value(cmp *c, const gr_node *n, int gold, int k, double *v, int *vars) {
    gr_vars *t = c->o->strict ? NULL : gold ? &c->gv : &c->pv;
    return gr_eval(n->src, strlen(n->src), k, t, v, vars) == GR_EVAL_OK;
}

static int expr_equal(cmp *c, const gr_node *g, const gr_node *p) {
    for (int k = 0; k < 3; k++) {
        double a, b;
        int va = 0, vb = 0;
        if (!value(c, g, 1, k, &a, &va) || !value(c, p, 0, k, &b, &vb)) return 0;
        int ok = close(c, g, a, p, b) || (g->percent && close(c, g, a / 100.0, p, b)) ||
                 (p->percent && close(c, g, a, p, b / 100.0));
        if (!ok) return 0;
        if (!va && !vb) return 1;
    }
    return 1;
}

static int matrix_equal(cmp *c, const gr_node *g, const gr_node *p) {
    for (int k = 0; k < 3; k++) {
        gr_matrix a, b;
        if (!gr_matrix_eval(g->src, k, c->o->strict ? NULL : &c->gv, &a) ||
            !gr_matrix_eval(p->src, k, c->o->strict ? NULL : &c->pv, &b))
            return 0;
        if (a.rows != b.rows || a.cols != b.cols) return 0;
        for (int i = 0; i < a.rows * a.cols; i++) {
            double x = a.v[i], y = b.v[i];
            int ok = (a.is_float[i] || b.is_float[i]) ? round_equal(x, y, c->o->float_digits)
                                                      : fabs(x - y) <= 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
            if (!ok) return 0;
        }
    }
    return 1;
}

static int text_equal(const gr_node *g, const gr_node *p) {
    char *a = gr_alnum_lower(g->src, g->src + strlen(g->src)), *b = gr_alnum_lower(p->src, p->src + strlen(p->src));
    int ok = a[0] && strcmp(a, b) == 0;
    free(a);
    free(b);
    return ok;
}

// ---- relations ----

static int is_equation(const gr_node *n) {
    if (n->kind != GR_REL) return 0;
    for (int k = 0; k < n->n - 1; k++)
        if (n->ops[k] != GR_EQ && n->ops[k] != GR_IN) return 0;
    return 1;
}

static int is_assignment(const gr_node *n) { return is_equation(n) && gr_only_symbols(n->kids[0]->src); }

static int mirror(int op) {
    switch (op) {
    case GR_LT: return GR_GT;
    case GR_GT: return GR_LT;
    case GR_LE: return GR_GE;
    case GR_GE: return GR_LE;
    case GR_IN: return GR_EQ;
    default: return op;
    }
}

static int same_op(int a, int b) { return a == b || (a == GR_IN && b == GR_EQ) || (a == GR_EQ && b == GR_IN); }

// (lg og rg) and (lp op rp) as the same condition: same sides, mirrored sides, or, for numeric
// sides, lg − rg = r·(lp − rp) with a constant r (r > 0 for an inequality, r < 0 when mirrored).
static int link_equal(cmp *c, const gr_node *lg, int og, const gr_node *rg, const gr_node *lp, int op, const gr_node *rp) {
    if (same_op(og, op) && eq(c, lg, lp) && eq(c, rg, rp)) return 1;
    if (same_op(mirror(og), op) && eq(c, lg, rp) && eq(c, rg, lp)) return 1;
    if (lg->kind != GR_EXPR || rg->kind != GR_EXPR || lp->kind != GR_EXPR || rp->kind != GR_EXPR) return 0;
    int flip;
    if (same_op(og, op)) flip = 0;
    else if (same_op(mirror(og), op)) flip = 1;
    else return 0;
    double ratio = 0;
    int vars = 0;
    for (int k = 0; k < 3; k++) {
        double a1, a2, b1, b2;
        int v1 = 0, v2 = 0, v3 = 0, v4 = 0;
        if (!value(c, lg, 1, k, &a1, &v1) || !value(c, rg, 1, k, &a2, &v2) || !value(c, lp, 0, k, &b1, &v3) ||
            !value(c, rp, 0, k, &b2, &v4))
            return 0;
        vars |= v1 | v2 | v3 | v4;
        double dg = a1 - a2, dp = b1 - b2;
        if (!isfinite(dg) || !isfinite(dp) || fabs(dp) < 1e-12 || fabs(dg) < 1e-12) return 0;
        double r = dg / dp;
        if (k == 0) ratio = r;
        else if (fabs(r - ratio) > 1e-9 * fmax(1.0, fabs(ratio))) return 0;
    }
    if (!vars) return 0;
    int ineq = og != GR_EQ && og != GR_NE && og != GR_IN;
    if (!ineq) return 1;
    return flip ? ratio < 0 : ratio > 0;
}

static int rel_equal(cmp *c, const gr_node *g, const gr_node *p) {
    // An assignment chain "x = 5+5+1 = 11" is x = 11.
    int ga = is_assignment(g), pa = is_assignment(p);
    int ng = ga ? 1 : g->n - 1, np = pa ? 1 : p->n - 1;
    if (ng != np) return 0;
    for (int k = 0; k < ng; k++) {
        const gr_node *lg = g->kids[k], *rg = ga ? g->kids[g->n - 1] : g->kids[k + 1];
        const gr_node *lp = p->kids[k], *rp = pa ? p->kids[p->n - 1] : p->kids[k + 1];
        int og = ga ? g->ops[g->n - 2] : g->ops[k], op = pa ? p->ops[p->n - 2] : p->ops[k];
        if (!link_equal(c, lg, og, rg, lp, op, rp)) return 0;
    }
    return 1;
}

// ---- a relation in one variable as the set it describes ----

static int has_vars(cmp *c, const gr_node *n) {
    if (n->kind != GR_EXPR) return -1;
    double v;
    int vars = 0;
    if (gr_eval(n->src, strlen(n->src), 0, NULL, &v, &vars) == GR_EVAL_SYNTAX) return -1;
    (void)c;
    return vars;
}

static gr_node *expr_node(const char *prefix, const gr_node *x, const char *suffix) {
    gr_buf b = {0};
    gr_buf_puts(&b, prefix);
    gr_buf_puts(&b, x ? x->src : "");
    gr_buf_puts(&b, suffix);
    char *t = gr_buf_take(&b);
    gr_node *n = gr_node_new(GR_EXPR, t, strlen(t));
    free(t);
    if (x && !prefix[0] && !suffix[0]) {
        n->is_float = x->is_float;
        n->is_int = x->is_int;
    }
    return n;
}

static gr_node *interval(gr_node *lo, int lo_open, gr_node *hi, int hi_open) {
    gr_node *iv = gr_node_new(GR_INTERVAL, "", 0);
    iv->lo_open = (unsigned char)lo_open;
    iv->hi_open = (unsigned char)hi_open;
    gr_node_add(iv, lo);
    gr_node_add(iv, hi);
    return iv;
}

static int is_lt(int op) { return op == GR_LT || op == GR_LE; }
static int is_gt(int op) { return op == GR_GT || op == GR_GE; }

static int is_abs(const gr_node *x) {
    size_t n = strlen(x->src);
    return n >= 3 && x->src[0] == '|' && x->src[n - 1] == '|' && !memchr(x->src + 1, '|', n - 2);
}

// [lo, hi] with the brackets of the ops (a missing end is infinite), or for |x| between two
// bounds its mirror image too: [-hi, -lo] ∪ [lo, hi].
static gr_node *range(const gr_node *lo, int lo_open, const gr_node *hi, int hi_open, int absolute) {
    if (!absolute) {
        gr_node *a = lo ? expr_node("", lo, "") : gr_node_new(GR_EXPR, "-\\infty", 7);
        gr_node *b = hi ? expr_node("", hi, "") : gr_node_new(GR_EXPR, "\\infty", 6);
        return interval(a, lo_open, b, hi_open);
    }
    gr_node *u = gr_node_new(GR_UNION, "", 0);
    gr_node_add(u, interval(expr_node("-(", hi, ")"), hi_open, expr_node("-(", lo, ")"), lo_open));
    gr_node_add(u, interval(expr_node("", lo, ""), lo_open, expr_node("", hi, ""), hi_open));
    return u;
}

static gr_node *as_set(cmp *c, const gr_node *r) {
    if (r->kind != GR_REL) return NULL;
    if (r->n == 2) {
        const gr_node *x = r->kids[0], *k = r->kids[1];
        int op = r->ops[0];
        int vx = has_vars(c, x), vk = has_vars(c, k);
        if (vx == 0 && vk == 1) {  // c op x: read as x mirror(op) c
            const gr_node *t = x;
            x = k;
            k = t;
            op = mirror(op);
        } else if (!(vx == 1 && vk == 0)) {
            return NULL;
        }
        if (is_abs(x)) {  // |x| < c is (-c, c); |x| > c is (-inf, -c) ∪ (c, inf)
            int open = op == GR_LT || op == GR_GT;
            if (is_lt(op)) return interval(expr_node("-(", k, ")"), open, expr_node("", k, ""), open);
            if (!is_gt(op)) return NULL;
            gr_node *u = gr_node_new(GR_UNION, "", 0);
            gr_node_add(u, interval(gr_node_new(GR_EXPR, "-\\infty", 7), 1, expr_node("-(", k, ")"), open));
            gr_node_add(u, interval(expr_node("", k, ""), open, gr_node_new(GR_EXPR, "\\infty", 6), 1));
            return u;
        }
        switch (op) {
        case GR_LT: return range(NULL, 1, k, 1, 0);
        case GR_LE: return range(NULL, 1, k, 0, 0);
        case GR_GT: return range(k, 1, NULL, 1, 0);
        case GR_GE: return range(k, 0, NULL, 1, 0);
        case GR_NE: {
            gr_node *u = gr_node_new(GR_UNION, "", 0);
            gr_node_add(u, range(NULL, 1, k, 1, 0));
            gr_node_add(u, range(k, 1, NULL, 1, 0));
            return u;
        }
        default: {
            gr_node *s = gr_node_new(GR_SET, "", 0);
            gr_node_add(s, expr_node("", k, ""));
            return s;
        }
        }
    }
    if (r->n == 3) {
        const gr_node *lo = r->kids[0], *x = r->kids[1], *hi = r->kids[2];
        int o1 = r->ops[0], o2 = r->ops[1];
        if (has_vars(c, lo) != 0 || has_vars(c, hi) != 0 || has_vars(c, x) != 1) return NULL;
        int absolute = is_abs(x);
        if (is_lt(o1) && is_lt(o2)) return range(lo, o1 == GR_LT, hi, o2 == GR_LT, absolute);
        if (is_gt(o1) && is_gt(o2)) return range(hi, o2 == GR_GT, lo, o1 == GR_GT, absolute);
    }
    return NULL;
}

// ---- sets ----

static int set_like(const gr_node *n) {
    return n->kind == GR_SET || n->kind == GR_TUPLE || n->kind == GR_INTERVAL || n->kind == GR_UNION || n->kind == GR_EMPTY;
}

// Every element of one list has an equal in the other, both ways (duplicates allowed).
static int same_members(cmp *c, gr_node *const *g, int ng, gr_node *const *p, int np) {
    if (!ng || !np) return ng == np;
    for (int i = 0; i < ng; i++) {
        int found = 0;
        for (int j = 0; j < np && !found; j++) found = eq(c, g[i], p[j]);
        if (!found) return 0;
    }
    for (int j = 0; j < np; j++) {
        int found = 0;
        for (int i = 0; i < ng && !found; i++) found = eq(c, g[i], p[j]);
        if (!found) return 0;
    }
    return 1;
}

static int in_order(cmp *c, gr_node *const *g, int ng, gr_node *const *p, int np) {
    if (ng != np) return 0;
    for (int i = 0; i < ng; i++)
        if (!eq(c, g[i], p[i])) return 0;
    return 1;
}

static int set_equal(cmp *c, const gr_node *g, const gr_node *p) {
    gr_node *const gs[1] = {(gr_node *)g}, *const ps[1] = {(gr_node *)p};
    switch (g->kind) {
    case GR_INTERVAL:
        if (p->kind == GR_INTERVAL)
            return g->lo_open == p->lo_open && g->hi_open == p->hi_open && in_order(c, g->kids, 2, p->kids, 2);
        // An open interval is also the pair of its ends: (1, 3) against the list 1, 3.
        if ((p->kind == GR_TUPLE || p->kind == GR_SET) && g->lo_open && g->hi_open) return in_order(c, g->kids, 2, p->kids, p->n);
        return 0;
    case GR_TUPLE:
        if (p->kind == GR_TUPLE || p->kind == GR_SET) return in_order(c, g->kids, g->n, p->kids, p->n);
        if (p->kind == GR_INTERVAL && p->lo_open && p->hi_open) return in_order(c, g->kids, g->n, p->kids, 2);
        return 0;
    case GR_SET:
        if (p->kind == GR_SET) return same_members(c, g->kids, g->n, p->kids, p->n);
        // A gold set against a tuple: the same members (a tuple gold against a list is in order).
        if (p->kind == GR_TUPLE) return g->n == p->n && same_members(c, g->kids, g->n, p->kids, p->n);
        if (p->kind == GR_INTERVAL) return p->lo_open && p->hi_open && in_order(c, g->kids, g->n, p->kids, 2);
        if (p->kind == GR_EMPTY) return g->n == 0;
        if (!set_like(p)) return same_members(c, g->kids, g->n, ps, 1);
        return 0;
    case GR_UNION:
        return p->kind == GR_UNION && same_members(c, g->kids, g->n, p->kids, p->n);
    case GR_EMPTY:
        return p->kind == GR_EMPTY || (p->kind == GR_SET && p->n == 0);
    default:  // g is a single value
        if (p->kind == GR_SET) return same_members(c, gs, 1, p->kids, p->n);
        return 0;
    }
}

// ---- the comparison ----

static int eq(cmp *c, const gr_node *g, const gr_node *p) {
    if (c->depth > 24) return 0;
    c->depth++;
    int r = 0;
    if (gr_same_text(g->src, p->src) && g->src[0] && g->kind == p->kind) {
        r = 1;
        goto done;
    }
    if (g->kind == GR_RAW || p->kind == GR_RAW) {  // unread text: the same text or nothing
        r = gr_same_text(g->src, p->src) && g->src[0];
        goto done;
    }
    int ge = is_equation(g), pe = is_equation(p);
    if (pe && !ge) {
        r = eq(c, g, p->kids[p->n - 1]);
        goto done;
    }
    if (!pe && is_assignment(g)) {
        r = eq(c, g->kids[g->n - 1], p);
        goto done;
    }
    if (g->kind == GR_REL && set_like(p)) {
        gr_node *s = as_set(c, g);
        if (s) {
            r = eq(c, s, p);
            gr_node_free(s);
            goto done;
        }
    }
    if (c->o->set_relation && p->kind == GR_REL && set_like(g)) {
        gr_node *s = as_set(c, p);
        if (s) {
            r = eq(c, g, s);
            gr_node_free(s);
            goto done;
        }
    }
    if (g->kind == GR_REL || p->kind == GR_REL) {
        r = g->kind == GR_REL && p->kind == GR_REL && rel_equal(c, g, p);
    } else if (set_like(g) || set_like(p)) {
        r = set_equal(c, g, p);
    } else if (g->kind == GR_TEXT || p->kind == GR_TEXT) {
        r = text_equal(g, p);
    } else if (g->kind == GR_MATRIX || p->kind == GR_MATRIX) {
        r = g->kind == GR_MATRIX && p->kind == GR_MATRIX && matrix_equal(c, g, p);
    } else {
        r = expr_equal(c, g, p);
    }
done:
    c->depth--;
    return r;
}

int gr_equal(const gr_node *gold, const gr_node *pred, const s1c_grade_opts *o) {
    if (!gold || !pred) return 0;
    cmp c = {.o = o};
    c.gv.by_order = c.pv.by_order = !o->strict;
    return eq(&c, gold, pred);
}
