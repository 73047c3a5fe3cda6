// math_eval.c — numeric evaluation of a normalised LaTeX expression (tier 2 of the checker).
//
// Recursive descent over: numbers, + - * / ^ !, \cdot \times \div, \frac \sqrt (\sqrt[n]) \binom,
// \pi \infty, \sin \cos \tan \sec \csc \cot \ln \log \exp (optionally powered: \sin^2 x), braces
// and parentheses, implicit products (2\pi, 3x, (x-2)(x+2)). A single letter is a variable with a
// fixed value per sample; runs of three or more plain letters are words, not products, and make
// the evaluation fail (text answers are compared as strings only).
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "grade.h"

typedef struct {
    const char *s;
    size_t i;
    int sample;
    int has_vars;
    int err;
    int depth;  // nesting bound: hostile input must not exhaust the stack
} parser;

static double expr(parser *p);
static double unary(parser *p);

static int at_cmd(parser *p, const char *cmd) {  // "\name" not followed by another letter
    size_t n = strlen(cmd);
    return strncmp(p->s + p->i, cmd, n) == 0 && !isalpha((unsigned char)p->s[p->i + n]);
}

static double var_value(int c, int sample) {
    unsigned h = (unsigned)c * 2654435761u + (unsigned)(sample + 1) * 40503u;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return 0.6 + (double)(h % 100000u) / 40000.0;
}

static double group(parser *p) {  // {expr}
    if (p->s[p->i] != '{' || p->depth > 200) {
        p->err = 1;
        return 0;
    }
    p->i++;
    p->depth++;
    double v = expr(p);
    p->depth--;
    if (p->s[p->i] != '}') p->err = 1;
    else p->i++;
    return v;
}

static const char *const funcs[] = {"\\sin", "\\cos", "\\tan", "\\sec", "\\csc", "\\cot", "\\ln", "\\log", "\\exp", NULL};

static double apply(int f, double x) {
    switch (f) {
    case 0: return sin(x);
    case 1: return cos(x);
    case 2: return tan(x);
    case 3: return 1.0 / cos(x);
    case 4: return 1.0 / sin(x);
    case 5: return 1.0 / tan(x);
    case 6: return log(x);
    case 7: return log10(x);
    default: return exp(x);
    }
}

static int starts_atom(parser *p) {
    char c = p->s[p->i];
    if (isdigit((unsigned char)c) || isalpha((unsigned char)c) || c == '(' || c == '{') return 1;
    if (c != '\\') return 0;
    if (at_cmd(p, "\\frac") || at_cmd(p, "\\sqrt") || at_cmd(p, "\\pi") || at_cmd(p, "\\infty") || at_cmd(p, "\\binom"))
        return 1;
    for (int f = 0; funcs[f]; f++)
        if (at_cmd(p, funcs[f])) return 1;
    return 0;
}

static double atom(parser *p) {
    const char *s = p->s;
    char c = s[p->i];
    if (isdigit((unsigned char)c)) {
        double v = 0;
        while (isdigit((unsigned char)s[p->i])) v = v * 10 + (s[p->i++] - '0');
        if (s[p->i] == '.' && isdigit((unsigned char)s[p->i + 1])) {
            p->i++;
            double scale = 0.1;
            while (isdigit((unsigned char)s[p->i])) {
                v += scale * (s[p->i++] - '0');
                scale *= 0.1;
            }
        }
        return v;
    }
    if (c == '(' || c == '{') {
        char close = c == '(' ? ')' : '}';
        if (p->depth > 200) {
            p->err = 1;
            return 0;
        }
        p->i++;
        p->depth++;
        double v = expr(p);
        p->depth--;
        if (s[p->i] != close) p->err = 1;
        else p->i++;
        return v;
    }
    if (isalpha((unsigned char)c)) {
        size_t run = 0;
        while (isalpha((unsigned char)s[p->i + run])) run++;
        if (run >= 3) {  // a word
            p->err = 1;
            return 0;
        }
        p->i++;
        p->has_vars = 1;
        return var_value(c, p->sample);
    }
    if (at_cmd(p, "\\frac")) {
        p->i += 5;
        double a = group(p), b = group(p);
        return a / b;
    }
    if (at_cmd(p, "\\binom")) {
        p->i += 6;
        double n = group(p), k = group(p);
        if (k < 0 || k > n || n > 170 || n != floor(n) || k != floor(k)) {
            p->err = 1;
            return 0;
        }
        return round(tgamma(n + 1) / (tgamma(k + 1) * tgamma(n - k + 1)));
    }
    if (at_cmd(p, "\\sqrt")) {
        p->i += 5;
        double root = 2;
        if (s[p->i] == '[') {
            p->i++;
            root = expr(p);
            if (s[p->i] != ']') p->err = 1;
            else p->i++;
        }
        double x = group(p);
        if (root == 3) return cbrt(x);
        return pow(x, 1.0 / root);
    }
    if (at_cmd(p, "\\pi")) {
        p->i += 3;
        return M_PI;
    }
    if (at_cmd(p, "\\infty")) {
        p->i += 6;
        return INFINITY;
    }
    for (int f = 0; funcs[f]; f++) {
        if (!at_cmd(p, funcs[f])) continue;
        p->i += strlen(funcs[f]);
        double e = 1;
        if (s[p->i] == '^') {
            p->i++;
            e = s[p->i] == '{' ? group(p) : atom(p);
        }
        double x = unary(p);
        return pow(apply(f, x), e);
    }
    p->err = 1;
    return 0;
}

static double postfix(parser *p) {
    double v = atom(p);
    for (;;) {
        if (p->s[p->i] == '!' && p->s[p->i + 1] != '=') {
            p->i++;
            if (v < 0 || v > 170 || v != floor(v)) {
                p->err = 1;
                return 0;
            }
            v = tgamma(v + 1);
        } else if (p->s[p->i] == '^') {
            p->i++;
            double e;
            if (p->s[p->i] == '{') e = group(p);
            else if (p->s[p->i] == '-' || p->s[p->i] == '+') e = unary(p);
            else if (isdigit((unsigned char)p->s[p->i])) e = p->s[p->i++] - '0';  // x^23 is x^2·3
            else e = atom(p);
            v = pow(v, e);
        } else {
            return v;
        }
    }
}

static double unary(parser *p) {
    if (p->depth > 400) {
        p->err = 1;
        return 0;
    }
    if (p->s[p->i] == '-' || p->s[p->i] == '+') {
        double sign = p->s[p->i] == '-' ? -1.0 : 1.0;
        p->i++;
        p->depth++;
        double v = sign * unary(p);
        p->depth--;
        return v;
    }
    return postfix(p);
}

static double term(parser *p) {
    double v = unary(p);
    while (!p->err) {
        if (p->s[p->i] == '*') {
            p->i++;
            v *= unary(p);
        } else if (at_cmd(p, "\\cdot")) {
            p->i += 5;
            v *= unary(p);
        } else if (at_cmd(p, "\\times")) {
            p->i += 6;
            v *= unary(p);
        } else if (p->s[p->i] == '/') {
            p->i++;
            v /= unary(p);
        } else if (at_cmd(p, "\\div")) {
            p->i += 4;
            v /= unary(p);
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
        if (p->s[p->i] == '+') {
            p->i++;
            v += term(p);
        } else if (p->s[p->i] == '-') {
            p->i++;
            v -= term(p);
        } else {
            break;
        }
    }
    return v;
}

int s1c_math_eval(const char *norm, int sample, double *value, int *has_vars) {
    parser p = {.s = norm, .i = 0, .sample = sample};
    if (!norm || !*norm) return 0;
    double v = expr(&p);
    if (p.err || p.s[p.i] != '\0' || isnan(v)) return 0;
    *value = v;
    if (has_vars) *has_vars = p.has_vars;
    return 1;
}
