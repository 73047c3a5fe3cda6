// math_norm.c — the MATH answer normalisation (tier 1 of the checker, and the input of tiers 2–3).
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade.h"
#include "s1c_err.h"

// Replaces every occurrence of `from` (frees s, returns the new string).
static char *replace_all(char *s, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to), cnt = 0;
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from)) cnt++;
    if (!cnt) return s;
    size_t len = strlen(s) + cnt * nt + 1;
    char *o = s1c_xmalloc(len), *w = o;
    const char *r = s;
    for (const char *p = strstr(r, from); p; p = strstr(r, from)) {
        memcpy(w, r, (size_t)(p - r));
        w += p - r;
        memcpy(w, to, nt);
        w += nt;
        r = p + nf;
    }
    strcpy(w, r);
    free(s);
    return o;
}

// Removes a LaTeX command only where it is a whole command name (\left but not \leftarrow).
static char *remove_cmd(char *s, const char *cmd) {
    size_t n = strlen(cmd);
    char *w = s;
    for (const char *r = s; *r;) {
        if (strncmp(r, cmd, n) == 0 && !isalpha((unsigned char)r[n])) {
            r += n;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return s;
}

// Index of the brace closing the one at s[open] (or -1).
static long match_brace(const char *s, long open) {
    int depth = 0;
    for (long i = open; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1] && s[i + 1] != '\\') {
            i++;
            continue;
        }
        if (s[i] == '{') depth++;
        else if (s[i] == '}' && --depth == 0) return i;
    }
    return -1;
}

static int wordish(const char *a, const char *b) {  // letters, spaces, dots only, at least one letter
    int letters = 0;
    for (; a < b; a++) {
        if (isalpha((unsigned char)*a)) letters++;
        else if (*a != ' ' && *a != '.') return 0;
    }
    return letters > 0;
}

static int only_space(const char *a, const char *b) {
    for (; a < b; a++)
        if (!isspace((unsigned char)*a)) return 0;
    return 1;
}

// \text{…}-like groups: a unit after a value is dropped (with a following ^2 / ^3); "and"/"or"
// become a comma; anything else is replaced by its content.
static char *text_groups(char *s) {
    static const char *const cmds[] = {"\\textnormal{", "\\textbf{", "\\textit{", "\\text{", "\\mbox{",
                                       "\\mathrm{", "\\mathbf{", "\\operatorname{", NULL};
    for (int again = 1; again;) {
        again = 0;
        for (int c = 0; cmds[c]; c++) {
            char *p = strstr(s, cmds[c]);
            if (!p) continue;
            long open = (long)(p - s) + (long)strlen(cmds[c]) - 1;
            long close = match_brace(s, open);
            if (close < 0) continue;
            const char *ca = s + open + 1, *cb = s + close;
            long tail = close + 1;
            char *rep;
            int unit = wordish(ca, cb) && !only_space(s, p) && strcmp(cmds[c], "\\mathbf{") != 0;
            while (ca < cb && *ca == ' ') ca++;
            while (cb > ca && cb[-1] == ' ') cb--;
            if (unit && ((cb - ca == 3 && strncmp(ca, "and", 3) == 0) || (cb - ca == 2 && strncmp(ca, "or", 2) == 0))) {
                rep = s1c_xstrdup(",");
            } else if (unit) {
                rep = s1c_xstrdup("");
                if (s[tail] == '^' && (isdigit((unsigned char)s[tail + 1]))) tail += 2;
                else if (s[tail] == '^' && s[tail + 1] == '{') {
                    long cl = match_brace(s, tail + 1);
                    if (cl > 0) tail = cl + 1;
                }
            } else {
                rep = s1c_xmalloc((size_t)(cb - ca) + 1);
                memcpy(rep, ca, (size_t)(cb - ca));
                rep[cb - ca] = '\0';
            }
            size_t head = (size_t)(p - s), nrep = strlen(rep), ntail = strlen(s + tail);
            char *o = s1c_xmalloc(head + nrep + ntail + 1);
            memcpy(o, s, head);
            memcpy(o + head, rep, nrep);
            memcpy(o + head + nrep, s + tail, ntail + 1);
            free(rep);
            free(s);
            s = o;
            again = 1;
        }
    }
    return s;
}

// "\\frac" typed with a doubled backslash (double-escaped JSON) becomes "\frac"; a run of three
// (a matrix row break followed by a command) and a pair before a non-letter (a row break) stay.
static char *undouble_backslashes(char *s) {
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '\\') {
            size_t n = 0;
            while (r[n] == '\\') n++;
            size_t keep = (n == 2 && isalpha((unsigned char)r[2])) ? 1 : n;
            for (size_t i = 0; i < keep; i++) *w++ = '\\';
            r += n;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
    return s;
}

// \sqrt3 → \sqrt{3}; \frac12 → \frac{1}{2}; \frac1{72} → \frac{1}{72}; \frac{3}4 → \frac{3}{4}.
static char *fix_short_args(char *s) {
    size_t cap = strlen(s) * 3 + 16;
    char *o = s1c_xmalloc(cap), *w = o;
    for (const char *r = s; *r;) {
        int nargs = 0;
        size_t cl = 0;
        if (strncmp(r, "\\sqrt", 5) == 0 && !isalpha((unsigned char)r[5])) nargs = 1, cl = 5;
        else if (strncmp(r, "\\frac", 5) == 0 && !isalpha((unsigned char)r[5])) nargs = 2, cl = 5;
        if (!nargs) {
            *w++ = *r++;
            continue;
        }
        memcpy(w, r, cl);
        w += cl;
        r += cl;
        if (nargs == 1 && *r == '[') {  // \sqrt[n]{x}: copy the index unchanged
            while (*r && *r != ']') *w++ = *r++;
            if (*r) *w++ = *r++;
        }
        for (int a = 0; a < nargs; a++) {
            if (*r == '{') {
                long cls = match_brace(r, 0);
                if (cls < 0) break;
                memcpy(w, r, (size_t)cls + 1);
                w += cls + 1;
                r += cls + 1;
            } else if (*r == '\\' && isalpha((unsigned char)r[1])) {  // \sqrt\pi
                *w++ = '{';
                *w++ = *r++;
                while (isalpha((unsigned char)*r)) *w++ = *r++;
                *w++ = '}';
            } else if (*r && *r != '}' && *r != '^' && *r != '_') {
                *w++ = '{';
                *w++ = *r++;
                *w++ = '}';
            } else {
                break;
            }
        }
    }
    *w = '\0';
    free(s);
    return o;
}

static int all_digits(const char *a, const char *b) {
    if (a >= b) return 0;
    for (; a < b; a++)
        if (!isdigit((unsigned char)*a)) return 0;
    return 1;
}

// "7,425,000" → "7425000" when the whole string is one number with thousands separators.
static void drop_thousands(char *s) {
    const char *p = s;
    if (*p == '-') p++;
    const char *c = strchr(p, ',');
    if (!c) return;
    const char *end = p + strcspn(p, ".");
    if (*end && !all_digits(end + 1, end + 1 + strlen(end + 1))) return;
    if (c - p < 1 || c - p > 3 || !all_digits(p, c)) return;
    for (const char *g = c; g < end; g += 4)
        if (g[0] != ',' || end - g < 4 || !all_digits(g + 1, g + 4)) return;
    char *w = s;
    for (const char *r = s; *r; r++)
        if (*r != ',') *w++ = *r;
    *w = '\0';
}

// A lone relation "x \geq 5" style: is s a simple variable name (a letter, optional subscript)?
static int simple_var(const char *a, const char *b) {
    if (a >= b || !isalpha((unsigned char)*a)) return 0;
    a++;
    if (a < b && *a == '_') {
        a++;
        if (a < b && *a == '{') return b[-1] == '}';
        return b - a == 1 && isalnum((unsigned char)*a);
    }
    if (a < b && *a == '(') return b[-1] == ')';  // f(x)
    return a == b;
}

char *s1c_math_normalize(const char *in, int *percent) {
    int pct = 0;
    char *s = s1c_xstrdup(in ? in : "");
    // Unicode spellings of common symbols.
    s = replace_all(s, "\xe2\x88\x92", "-");         // U+2212 minus
    s = replace_all(s, "\xcf\x80", "\\pi");          // π
    s = replace_all(s, "\xe2\x88\x9a", "\\sqrt");    // √
    s = replace_all(s, "\xc2\xb0", "");              // °
    s = replace_all(s, "\xc3\x97", "\\times");       // ×
    s = replace_all(s, "\xe2\x88\x9e", "\\infty");   // ∞
    s = replace_all(s, "\xc2\xb2", "^2");            // ²
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    s = undouble_backslashes(s);
    s = replace_all(s, "\\!", "");
    s = replace_all(s, "\\,", "");
    s = replace_all(s, "\\;", "");
    s = replace_all(s, "\\:", "");
    s = replace_all(s, "\\ ", " ");
    s = replace_all(s, "{,}", "");
    s = remove_cmd(s, "\\qquad");
    s = remove_cmd(s, "\\quad");
    s = remove_cmd(s, "\\displaystyle");
    s = replace_all(s, "\\tfrac", "\\frac");
    s = replace_all(s, "\\dfrac", "\\frac");
    s = replace_all(s, "\\cfrac", "\\frac");
    s = remove_cmd(s, "\\left");
    s = remove_cmd(s, "\\right");
    s = replace_all(s, "\\bigl", "");
    s = replace_all(s, "\\bigr", "");
    s = replace_all(s, "^{\\circ}", "");
    s = replace_all(s, "^\\circ", "");
    s = replace_all(s, "\\circ", "");
    s = replace_all(s, "\\$", "");
    s = replace_all(s, "$", "");
    s = replace_all(s, "\\(", "");
    s = replace_all(s, "\\)", "");
    s = replace_all(s, "\\[", "");
    s = replace_all(s, "\\]", "");
    // Unwrap a boxed answer handed over whole.
    {
        char *b = s;
        while (*b == ' ') b++;
        if (strncmp(b, "\\boxed{", 7) == 0) {
            long cl = match_brace(b, 6);
            if (cl > 0 && only_space(b + cl + 1, b + strlen(b))) {
                memmove(s, b + 7, (size_t)(cl - 7));
                s[cl - 7] = '\0';
            }
        }
    }
    s = text_groups(s);
    // Percent in any spelling: removed, remembered (10\% equals 10, and also 0.1).
    size_t before = strlen(s);
    s = replace_all(s, "\\%", "");
    s = replace_all(s, "%", "");
    s = replace_all(s, " percent", "");
    s = replace_all(s, " pct", "");
    if (strlen(s) != before) pct = 1;
    // Relations in one spelling.
    s = replace_all(s, "\\geqslant", ">=");
    s = replace_all(s, "\\leqslant", "<=");
    s = remove_cmd(s, "\\displaystyle");
    s = replace_all(s, "\\geq", ">=");
    s = replace_all(s, "\\leq", "<=");
    s = replace_all(s, "\\neq", "!=");
    s = replace_all(s, "\\ne ", "!=");
    s = replace_all(s, "\\ge ", ">=");
    s = replace_all(s, "\\le ", "<=");
    s = replace_all(s, "\\gt", ">");
    s = replace_all(s, "\\lt", "<");
    s = replace_all(s, "\\approx", "=");
    s = replace_all(s, "\\dots", "\\ldots");
    s = replace_all(s, "\\cdots", "\\ldots");
    s = replace_all(s, "bmatrix", "pmatrix");
    // "x \in [0,1)" → the set itself.
    char *in_op = strstr(s, "\\in");
    if (in_op && !isalpha((unsigned char)in_op[3])) memmove(s, in_op + 3, strlen(in_op + 3) + 1);
    // Spaces go (after the word-level replacements above that needed them), except that a
    // trailing plain-word unit ("125 miles") goes first.
    {
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ') s[--n] = '\0';
        char *sp = strrchr(s, ' ');
        if (sp && sp > s && wordish(sp + 1, s + n) && strlen(sp + 1) >= 2 && !strchr(sp + 1, '\\')) {
            char *q = sp;
            while (q > s && q[-1] == ' ') q--;
            if (q > s && (isdigit((unsigned char)q[-1]) || q[-1] == '}')) *sp = '\0';
        }
    }
    s = replace_all(s, " ", "");
    s = fix_short_args(s);
    // Leading-zero decimals: ".5" → "0.5" wherever a '.' starts a number.
    {
        size_t n = strlen(s);
        char *o = s1c_xmalloc(2 * n + 1), *w = o;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '.' && isdigit((unsigned char)s[i + 1]) && (i == 0 || !isdigit((unsigned char)s[i - 1])))
                *w++ = '0';
            *w++ = s[i];
        }
        *w = '\0';
        free(s);
        s = o;
    }
    // Trailing full stop of a sentence.
    for (size_t n = strlen(s); n && s[n - 1] == '.'; n--) s[n - 1] = '\0';
    // "x=5", "k = 1": a plain variable on the left of the (first) '=' is dropped; the value is the
    // part after the last '=' (intermediate steps "x=5+5+1=11" keep the last).
    {
        char *eq = strchr(s, '=');
        if (eq && eq > s && eq[-1] != '<' && eq[-1] != '>' && eq[-1] != '!' && simple_var(s, eq)) {
            char *last = strrchr(s, '=');
            memmove(s, last + 1, strlen(last + 1) + 1);
        }
    }
    drop_thousands(s);
    // Trailing zeros of a decimal integer: "10.0" → "10", "2.50" → "2.5".
    {
        char *dot = strchr(s, '.');
        const char *p = s[0] == '-' ? s + 1 : s;
        if (dot && all_digits(p, dot) && all_digits(dot + 1, dot + strlen(dot)) && strlen(dot + 1) > 0) {
            size_t n = strlen(s);
            while (s[n - 1] == '0') s[--n] = '\0';
            if (s[n - 1] == '.') s[--n] = '\0';
        }
    }
    // "a/b" of two integers → \frac{a}{b}.
    {
        char *sl = strchr(s, '/');
        const char *p = s[0] == '-' ? s + 1 : s;
        if (sl && strchr(sl + 1, '/') == NULL && all_digits(p, sl) && all_digits(sl + 1, sl + strlen(sl))) {
            size_t n = strlen(s) + 16;
            char *o = s1c_xmalloc(n);
            snprintf(o, n, "%s\\frac{%.*s}{%s}", s[0] == '-' ? "-" : "", (int)(sl - p), p, sl + 1);
            free(s);
            s = o;
        }
    }
    if (percent) *percent = pct;
    return s;
}
