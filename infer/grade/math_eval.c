// math_eval.c — numeric evaluation of a normalised LaTeX expression (see grade_internal.h).
//
// Recursive descent over: numbers (0.\overline{3} repeating, 204_5 with its base dropped, a
// mixed number 3\frac{1}{2}), + - * / : ^ ! %, \cdot \times \div, \frac \sqrt (\sqrt[n]) \binom,
// |x|, \lfloor \rceil, \pi \infty, \sin … \arctan \ln \log (\log_b) \exp (optionally powered:
// \sin^2 x), braces and parentheses, implicit products (2\pi, 3x, (x-2)(x+2)), variables
// (a letter, a Greek letter, with a subscript: x_1, a_{37}, F_{n-k-1}; \overline{AB}), and
// \sum / \prod as opaque functions of their bounds and operand (equal when written alike).
// A run of three or more plain letters is a word, not a product: the text is not an expression.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "grade_internal.h"

typedef struct {
    const char *s;
    size_t i, n;
    int sample;
    gr_vars *vars;
    int has_vars;
    int err;
    int depth;      // nesting bound: hostile input must not exhaust the stack
    int abs_open;   // inside |…|: a '|' closes
    int inf_seen;   // an \infty literal (an infinite value is then meant)
} parser;

static double expr(parser *p);
static double term(parser *p);
static double unary(parser *p);
static double postfix(parser *p);
static double atom(parser *p);

static char cur(parser *p) { return p->i < p->n ? p->s[p->i] : '\0'; }
static char at(parser *p, size_t k) { return p->i + k < p->n ? p->s[p->i + k] : '\0'; }
static void skip(parser *p) {
    while (p->i < p->n && p->s[p->i] == ' ') p->i++;
}
static int cmd(parser *p, const char *name) {  // "\name" here, not followed by another letter
    size_t n = strlen(name);
    return p->i + n <= p->n && strncmp(p->s + p->i, name, n) == 0 && !(p->i + n < p->n && gr_alpha(p->s[p->i + n]));
}
static int deeper(parser *p) {
    if (++p->depth > 400) {
        p->err = 1;
        return 0;
    }
    return 1;
}

static uint64_t hash(const char *s, size_t n, uint64_t h) {
    for (size_t k = 0; k < n; k++) h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
    return h;
}

static double unit_value(uint64_t h, int sample) {  // 0.6 .. 3.1, spread over the samples
    h ^= (uint64_t)(sample + 1) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return 0.6 + (double)(h % 100000u) / 40000.0;
}

static double var_value(parser *p, const char *name, size_t len) {
    p->has_vars = 1;
    gr_vars *v = p->vars;
    if (v && v->by_order) {
        int k = 0;
        for (; k < v->n; k++)
            if (strlen(v->names[k]) == len && strncmp(v->names[k], name, len) == 0) break;
        if (k == v->n && v->n < 16 && len < sizeof v->names[0]) {
            memcpy(v->names[v->n], name, len);
            v->names[v->n][len] = '\0';
            v->n++;
        }
        return unit_value((uint64_t)k * 7919u + 17u, p->sample);
    }
    return unit_value(hash(name, len, 1469598103934665603ull), p->sample);
}

// {expr} (a braced argument) or one atom.
static double group(parser *p) {
    skip(p);
    if (cur(p) != '{') return postfix(p);
    if (!deeper(p)) return 0;
    p->i++;
    double v = expr(p);
    skip(p);
    if (cur(p) != '}') p->err = 1;
    else p->i++;
    p->depth--;
    return v;
}

// Skips a braced or single-character script ("_1", "_{n-1}", "^2"); returns its span.
static void script(parser *p, size_t *a, size_t *b) {
    *a = p->i;
    if (cur(p) == '{') {
        int d = 0;
        for (; p->i < p->n; p->i++) {
            if (p->s[p->i] == '{') d++;
            else if (p->s[p->i] == '}' && --d == 0) {
                p->i++;
                break;
            }
        }
        if (d) p->err = 1;
    } else if (cur(p) == '\\') {
        p->i++;
        while (gr_alpha(cur(p))) p->i++;
    } else if (cur(p)) {
        p->i++;
    } else {
        p->err = 1;
    }
    *b = p->i;
}

static const char *const greek[] = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
                                    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
                                    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
                                    "Lambda", "Xi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell", NULL};
static const char *const funcs[] = {"\\arcsin", "\\arccos", "\\arctan", "\\sinh", "\\cosh", "\\tanh", "\\sin",
                                    "\\cos", "\\tan", "\\sec", "\\csc", "\\cot", "\\ln", "\\log", "\\exp", NULL};
static const char *const decorations[] = {"\\overline", "\\bar", "\\vec", "\\hat", "\\widehat", "\\tilde", "\\dot", NULL};

static double apply(int f, double x) {
    switch (f) {
    case 0: return asin(x);
    case 1: return acos(x);
    case 2: return atan(x);
    case 3: return sinh(x);
    case 4: return cosh(x);
    case 5: return tanh(x);
    case 6: return sin(x);
    case 7: return cos(x);
    case 8: return tan(x);
    case 9: return 1.0 / cos(x);
    case 10: return 1.0 / sin(x);
    case 11: return 1.0 / tan(x);
    case 12: return log(x);
    case 13: return log10(x);
    default: return exp(x);
    }
}

static int greek_at(parser *p, size_t *len) {
    if (cur(p) != '\\') return 0;
    for (int k = 0; greek[k]; k++) {
        size_t n = strlen(greek[k]);
        if (p->i + 1 + n <= p->n && strncmp(p->s + p->i + 1, greek[k], n) == 0 &&
            !(p->i + 1 + n < p->n && gr_alpha(p->s[p->i + 1 + n]))) {
            *len = n + 1;
            return 1;
        }
    }
    return 0;
}

static int starts_atom(parser *p) {
    char c = cur(p);
    if (gr_digit(c) || gr_alpha(c) || c == '(' || c == '{' || (c == '.' && gr_digit(at(p, 1)))) return 1;
    if (c == '|') return !p->abs_open;
    if (c != '\\') return 0;
    static const char *const cmds[] = {"\\frac", "\\sqrt", "\\binom", "\\pi", "\\infty", "\\sum", "\\prod", "\\lfloor",
                                       "\\lceil", NULL};
    for (int k = 0; cmds[k]; k++)
        if (cmd(p, cmds[k])) return 1;
    for (int k = 0; funcs[k]; k++)
        if (cmd(p, funcs[k])) return 1;
    for (int k = 0; decorations[k]; k++)
        if (cmd(p, decorations[k])) return 1;
    size_t len;
    return greek_at(p, &len);
}

// A variable name starting at `a` (already consumed up to p->i): adds a subscript if present.
static double variable(parser *p, size_t a) {
    if (cur(p) == '_') {
        p->i++;
        size_t sa, sb;
        script(p, &sa, &sb);
        if (p->err) return 0;
        // x_{1} and x_1 are one name.
        char name[64];
        size_t len = 0;
        for (size_t k = a; k < p->i && len + 1 < sizeof name; k++)
            if (p->s[k] != '{' && p->s[k] != '}' && p->s[k] != ' ') name[len++] = p->s[k];
        return var_value(p, name, len);
    }
    return var_value(p, p->s + a, p->i - a);
}

// An integer literal directly followed by \frac{p}{q} of integer literals (a mixed number).
static int mixed_fraction(parser *p, double *frac) {
    size_t save = p->i;
    skip(p);
    if (!cmd(p, "\\frac")) {
        p->i = save;
        return 0;
    }
    size_t k = p->i + 5;
    double part[2];
    for (int a = 0; a < 2; a++) {
        if (k >= p->n || p->s[k] != '{') {
            p->i = save;
            return 0;
        }
        k++;
        double v = 0;
        size_t d = k;
        while (k < p->n && gr_digit(p->s[k])) v = v * 10 + (p->s[k++] - '0');
        if (k == d || k >= p->n || p->s[k] != '}') {
            p->i = save;
            return 0;
        }
        k++;
        part[a] = v;
    }
    if (part[1] == 0) {
        p->i = save;
        return 0;
    }
    p->i = k;
    *frac = part[0] / part[1];
    return 1;
}

static double number(parser *p, int allow_mixed) {
    double v = 0;
    int is_integer = 1;
    while (gr_digit(cur(p))) v = v * 10 + (p->s[p->i++] - '0');
    if (cur(p) == '.' && (gr_digit(at(p, 1)) || (at(p, 1) == '\\' && strncmp(p->s + p->i + 1, "\\overline", 9) == 0))) {
        is_integer = 0;
        p->i++;
        double scale = 0.1;
        int nd = 0;
        while (gr_digit(cur(p))) {
            v += scale * (p->s[p->i++] - '0');
            scale *= 0.1;
            nd++;
        }
        if (cmd(p, "\\overline")) {  // 0.1\overline{6}: the digits repeat forever
            p->i += 9;
            skip(p);
            if (cur(p) != '{') {
                p->err = 1;
                return 0;
            }
            p->i++;
            double rep = 0;
            int nr = 0;
            while (gr_digit(cur(p))) {
                rep = rep * 10 + (p->s[p->i++] - '0');
                nr++;
            }
            if (cur(p) != '}' || !nr) {
                p->err = 1;
                return 0;
            }
            p->i++;
            v += rep * pow(10.0, -nd) / (pow(10.0, nr) - 1.0);
        }
    }
    if (cur(p) == '_' && gr_digit(at(p, 1))) {  // 204_5: the base
        p->i++;
        size_t sa, sb;
        script(p, &sa, &sb);
    } else if (cur(p) == '_' && at(p, 1) == '{') {
        p->i++;
        size_t sa, sb;
        script(p, &sa, &sb);
    }
    double frac;
    if (allow_mixed && is_integer && mixed_fraction(p, &frac)) v += frac;
    return v;
}

static double opaque(parser *p, int kind) {  // \sum / \prod: bounds and operand decide
    size_t la = 0, lb = 0, ua = 0, ub = 0;
    skip(p);
    if (cur(p) == '_') {
        p->i++;
        script(p, &la, &lb);
    }
    skip(p);
    if (cur(p) == '^') {
        p->i++;
        script(p, &ua, &ub);
    }
    if (p->err || !deeper(p)) return 0;
    double x = term(p);
    p->depth--;
    uint64_t h = hash(p->s + la, lb - la, 0x100000001b3ull * (uint64_t)(kind + 1));
    h = hash("^", 1, h);
    h = hash(p->s + ua, ub - ua, h);
    return unit_value(h, 0) * x + unit_value(h ^ 0x5555u, 1);
}

static double atom_(parser *p) {
    skip(p);
    char c = cur(p);
    if (gr_digit(c) || (c == '.' && gr_digit(at(p, 1)))) return number(p, 1);
    if (c == '(' || c == '{') {
        char close = c == '(' ? ')' : '}';
        if (!deeper(p)) return 0;
        p->i++;
        int abs_save = p->abs_open;
        p->abs_open = 0;
        double v = expr(p);
        p->abs_open = abs_save;
        skip(p);
        if (cur(p) != close) p->err = 1;
        else p->i++;
        p->depth--;
        return v;
    }
    if (c == '|' && !p->abs_open) {
        if (!deeper(p)) return 0;
        p->i++;
        p->abs_open = 1;
        double v = expr(p);
        p->abs_open = 0;
        skip(p);
        if (cur(p) != '|') p->err = 1;
        else p->i++;
        p->depth--;
        return fabs(v);
    }
    if (gr_alpha(c)) {
        size_t run = 0;
        while (gr_alpha(at(p, run))) run++;
        if (run >= 3) {  // a word
            p->err = 1;
            return 0;
        }
        size_t a = p->i++;
        return variable(p, a);
    }
    if (c != '\\') {
        p->err = 1;
        return 0;
    }
    if (cmd(p, "\\frac")) {
        p->i += 5;
        double a = group(p), b = group(p);
        return a / b;
    }
    if (cmd(p, "\\binom")) {
        p->i += 6;
        double n = group(p), k = group(p);
        if (k < 0 || k > n || n > 170 || n != floor(n) || k != floor(k)) return NAN;
        return round(tgamma(n + 1) / (tgamma(k + 1) * tgamma(n - k + 1)));
    }
    if (cmd(p, "\\sqrt")) {
        p->i += 5;
        double root = 2;
        skip(p);
        if (cur(p) == '[') {
            p->i++;
            if (!deeper(p)) return 0;
            root = expr(p);
            p->depth--;
            if (cur(p) != ']') p->err = 1;
            else p->i++;
        }
        double x = group(p);
        if (root == 3) return cbrt(x);
        if (x < 0 && root == floor(root) && fmod(root, 2.0) == 1.0) return -pow(-x, 1.0 / root);
        return pow(x, 1.0 / root);
    }
    if (cmd(p, "\\pi")) {
        p->i += 3;
        return M_PI;
    }
    if (cmd(p, "\\infty")) {
        p->i += 6;
        p->inf_seen = 1;
        return INFINITY;
    }
    if (cmd(p, "\\sum") || cmd(p, "\\prod")) {
        int kind = p->s[p->i + 1] == 'p';
        p->i += kind ? 5 : 4;
        return opaque(p, kind);
    }
    if (cmd(p, "\\lfloor") || cmd(p, "\\lceil")) {
        int floor_ = p->s[p->i + 2] == 'f';
        p->i += floor_ ? 7 : 6;
        if (!deeper(p)) return 0;
        double v = expr(p);
        p->depth--;
        skip(p);
        if (!(floor_ ? cmd(p, "\\rfloor") : cmd(p, "\\rceil"))) {
            p->err = 1;
            return 0;
        }
        p->i += floor_ ? 7 : 6;
        return floor_ ? floor(v) : ceil(v);
    }
    for (int k = 0; decorations[k]; k++) {
        if (!cmd(p, decorations[k])) continue;
        size_t a = p->i;
        p->i += strlen(decorations[k]);
        skip(p);
        size_t sa, sb;
        script(p, &sa, &sb);
        if (p->err) return 0;
        return variable(p, a);
    }
    size_t glen;
    if (greek_at(p, &glen)) {
        size_t a = p->i;
        p->i += glen;
        return variable(p, a);
    }
    for (int f = 0; funcs[f]; f++) {
        if (!cmd(p, funcs[f])) continue;
        p->i += strlen(funcs[f]);
        double base = 0, e = 1;
        if (f == 13 && cur(p) == '_') {  // \log_b x
            p->i++;
            skip(p);
            base = cur(p) == '{' ? group(p) : number(p, 0);
        }
        skip(p);
        if (cur(p) == '^') {
            p->i++;
            skip(p);
            e = cur(p) == '{' ? group(p) : atom(p);
        }
        if (!deeper(p)) return 0;
        double x = unary(p);
        p->depth--;
        double v = base ? log(x) / log(base) : apply(f, x);
        return pow(v, e);
    }
    p->err = 1;  // an unknown command
    return 0;
}

static double atom(parser *p) {
    if (!deeper(p)) return 0;
    double v = atom_(p);
    p->depth--;
    return v;
}

static double postfix(parser *p) {
    double v = atom(p);
    for (;;) {
        skip(p);
        char c = cur(p);
        if (c == '!' && at(p, 1) != '=') {
            p->i++;
            if (v < 0 || v > 170 || v != floor(v)) return NAN;
            v = tgamma(v + 1);
        } else if (c == '%') {
            p->i++;
            v *= 0.01;
        } else if (c == '\'') {  // f'(x): a prime is part of the name
            p->i++;
            v = v * 1.7 + 0.3;
        } else if (c == '^') {
            p->i++;
            skip(p);
            double e;
            if (cur(p) == '{') e = group(p);
            else if (cur(p) == '-' || cur(p) == '+') e = unary(p);
            else if (gr_digit(cur(p))) e = p->s[p->i++] - '0';  // x^23 is x^2·3
            else e = atom(p);
            v = pow(v, e);
        } else {
            return v;
        }
        if (p->err) return 0;
    }
}

static double unary(parser *p) {
    skip(p);
    if (cur(p) == '-' || cur(p) == '+') {
        double sign = cur(p) == '-' ? -1.0 : 1.0;
        p->i++;
        if (!deeper(p)) return 0;
        double v = sign * unary(p);
        p->depth--;
        return v;
    }
    return postfix(p);
}

static double term(parser *p) {
    double v = unary(p);
    while (!p->err) {
        skip(p);
        if (cur(p) == '*') {
            p->i++;
            v *= unary(p);
        } else if (cmd(p, "\\cdot")) {
            p->i += 5;
            v *= unary(p);
        } else if (cmd(p, "\\times")) {
            p->i += 6;
            v *= unary(p);
        } else if (cur(p) == '/' || cur(p) == ':') {
            p->i++;
            double d = unary(p);
            v = d == 0 ? NAN : v / d;
        } else if (cmd(p, "\\div")) {
            p->i += 4;
            double d = unary(p);
            v = d == 0 ? NAN : v / d;
        } else if (starts_atom(p)) {
            v *= postfix(p);
        } else {
            break;
        }
    }
    return v;
}

static double expr(parser *p) {
    double v = term(p);
    while (!p->err) {
        skip(p);
        if (cur(p) == '+') {
            p->i++;
            v += term(p);
        } else if (cur(p) == '-') {
            p->i++;
            v -= term(p);
        } else {
            break;
        }
    }
    return v;
}

int gr_eval(const char *s, size_t len, int sample, gr_vars *vars, double *value, int *has_vars) {
    parser p = {.s = s, .n = len, .sample = sample, .vars = vars};
    if (!s || !len) return GR_EVAL_SYNTAX;
    double v = expr(&p);
    skip(&p);
    if (p.err || p.i != p.n) return GR_EVAL_SYNTAX;
    if (has_vars) *has_vars = p.has_vars;
    if (isnan(v) || (isinf(v) && !p.inf_seen)) return GR_EVAL_UNDEFINED;
    *value = v;
    return GR_EVAL_OK;
}

int gr_eval_syntax_ok(const char *s) {
    double v;
    return gr_eval(s, strlen(s), 0, NULL, &v, NULL) != GR_EVAL_SYNTAX;
}
