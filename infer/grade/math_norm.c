// math_norm.c — normalisation of a LaTeX answer before it is parsed (see grade_internal.h).
//
// Order matters: spacing commands go before words are looked at ("\!" and the spaces after it,
// so "11,\! 111" becomes the number 11,111); \text groups are resolved before spaces collapse
// ("10\text{ units}" is 10, "12\text{ and }13" is the list 12, 13); percent words become '%'
// before units are dropped ("28 percent" is 28%); a "\\" row break is never taken for "\ ".
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

// Replaces every occurrence of `from` (frees s, returns the new string).
static char *replace_all(char *s, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to);
    if (!strstr(s, from)) return s;
    gr_buf b = {0};
    const char *r = s;
    for (const char *p = strstr(r, from); p; p = strstr(r, from)) {
        gr_buf_put(&b, r, (size_t)(p - r));
        gr_buf_put(&b, to, nt);
        r = p + nf;
    }
    gr_buf_puts(&b, r);
    free(s);
    return gr_buf_take(&b);
}

// Replaces the command `cmd` where it is a whole command name (\le but not \left).
static char *replace_cmd(char *s, const char *cmd, const char *to) {
    size_t nc = strlen(cmd);
    if (!strstr(s, cmd)) return s;
    gr_buf b = {0};
    for (const char *r = s; *r;) {
        if (strncmp(r, cmd, nc) == 0 && !gr_alpha(r[nc])) {
            gr_buf_puts(&b, to);
            r += nc;
        } else {
            gr_buf_putc(&b, *r++);
        }
    }
    free(s);
    return gr_buf_take(&b);
}

// "\\frac" typed with a doubled backslash (double-escaped JSON) becomes "\frac". A pair before
// a letter is kept inside matrices (a row break before a variable) except before \begin / \end.
static char *undouble_backslashes(char *s) {
    int matrix = strstr(s, "matrix") || strstr(s, "array");
    gr_buf b = {0};
    for (const char *r = s; *r;) {
        if (r[0] == '\\') {
            size_t k = 0;
            while (r[k] == '\\') k++;
            int cmd = gr_alpha(r[k]);
            int always = strncmp(r + k, "begin", 5) == 0 || strncmp(r + k, "end", 3) == 0 || strncmp(r + k, "frac", 4) == 0;
            size_t keep = (k == 2 && cmd && (!matrix || always)) ? 1 : k;
            for (size_t i = 0; i < keep; i++) gr_buf_putc(&b, '\\');
            r += k;
            continue;
        }
        gr_buf_putc(&b, *r++);
    }
    free(s);
    return gr_buf_take(&b);
}

// Spacing and sizing commands, scanned left to right so that "\\" (a row break) stays whole.
static char *drop_spacing(char *s) {
    static const char *const sized[] = {"\\left", "\\right", "\\middle", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr",
                                        "\\biggl", "\\biggr", "\\big", "\\Big", "\\bigg", "\\Bigg", NULL};
    static const char *const gone[] = {"\\displaystyle", "\\textstyle", "\\scriptstyle", "\\limits", "\\nolimits", NULL};
    gr_buf b = {0};
    for (const char *r = s; *r;) {
        if (r[0] == '\\' && r[1] == '\\') {  // row break
            gr_buf_put(&b, r, 2);
            r += 2;
            continue;
        }
        if (r[0] == '\\' && r[1] == '!') {  // negative thin space, and the spaces after it
            r += 2;
            while (*r == ' ') r++;
            continue;
        }
        if (r[0] == '\\' && (r[1] == ',' || r[1] == ';' || r[1] == ':' || r[1] == '>' || r[1] == ' ')) {
            gr_buf_putc(&b, ' ');
            r += 2;
            continue;
        }
        if (r[0] == '~') {
            gr_buf_putc(&b, ' ');
            r++;
            continue;
        }
        if (strncmp(r, "\\qquad", 6) == 0 || strncmp(r, "\\quad", 5) == 0) {  // "\quadx_2" too
            gr_buf_putc(&b, ' ');
            r += r[2] == 'q' ? 6 : 5;
            continue;
        }
        int hit = 0;
        for (int k = 0; sized[k] && !hit; k++) {
            size_t len = strlen(sized[k]);
            if (strncmp(r, sized[k], len) == 0 && !gr_alpha(r[len])) {
                r += len;
                if (*r == '.') r++;  // \left. — an invisible bracket
                hit = 1;
            }
        }
        for (int k = 0; gone[k] && !hit; k++) {
            size_t len = strlen(gone[k]);
            if (strncmp(r, gone[k], len) == 0 && !gr_alpha(r[len])) {
                r += len;
                hit = 1;
            }
        }
        if (!hit) gr_buf_putc(&b, *r++);
    }
    free(s);
    return gr_buf_take(&b);
}

static int wordish(const char *a, const char *b) {  // letters, spaces, dots only, at least one letter
    int letters = 0;
    for (; a < b; a++) {
        if (gr_alpha(*a)) letters++;
        else if (*a != ' ' && *a != '.') return 0;
    }
    return letters > 0;
}

static int is_word(const char *a, const char *b, const char *w) {
    while (a < b && *a == ' ') a++;
    while (b > a && b[-1] == ' ') b--;
    return (size_t)(b - a) == strlen(w) && strncmp(a, w, strlen(w)) == 0;
}

// \text{…}-like groups: "and" / "or" become ","; a percent word '%'; a unit after a value is
// dropped (with a following ^2 / ^{3}); anything else is replaced by its content.
static char *text_groups(char *s) {
    static const char *const cmds[] = {"\\textnormal{", "\\textbf{", "\\textit{", "\\textrm{", "\\textsf{",
                                       "\\texttt{", "\\text{", "\\mbox{", "\\mathrm{", "\\mathbf{", "\\mathit{",
                                       "\\mathsf{", "\\mathbb{", "\\mathcal{", "\\operatorname{", "\\hbox{", NULL};
    for (int again = 1; again;) {
        again = 0;
        for (int c = 0; cmds[c]; c++) {
            char *p = strstr(s, cmds[c]);
            if (!p) continue;
            size_t n = strlen(s);
            long open = (long)(p - s) + (long)strlen(cmds[c]) - 1;
            long close = gr_close_brace(s, n, (size_t)open);
            if (close < 0) continue;
            const char *ca = s + open + 1, *cb = s + close;
            size_t tail = (size_t)close + 1;
            const char *rep = NULL;
            char *own = NULL;
            // A unit follows a value ("10\text{ cm}", "\frac{1}{3}\textbf{ m}"), not an argument brace.
            const char *prev = p;
            while (prev > s && prev[-1] == ' ') prev--;
            int after_value = prev > s && (gr_digit(prev[-1]) || prev[-1] == '}' || prev[-1] == ')' || prev[-1] == '%') &&
                              (strncmp(cmds[c], "\\text", 5) == 0 || !strcmp(cmds[c], "\\mbox{") ||
                               !strcmp(cmds[c], "\\hbox{") || !strcmp(cmds[c], "\\mathrm{"));
            if (is_word(ca, cb, "and") || is_word(ca, cb, "or")) {
                rep = ",";
            } else if (is_word(ca, cb, "percent") || is_word(ca, cb, "percentage") || is_word(ca, cb, "pct")) {
                rep = "%";
            } else if (after_value && wordish(ca, cb)) {
                rep = " ";
                if (s[tail] == '^' && gr_digit(s[tail + 1])) tail += 2;
                else if (s[tail] == '^' && s[tail + 1] == '{') {
                    long cl = gr_close_brace(s, n, tail + 1);
                    if (cl > 0) tail = (size_t)cl + 1;
                }
            } else {
                own = s1c_xmalloc((size_t)(cb - ca) + 3);
                own[0] = ' ';
                memcpy(own + 1, ca, (size_t)(cb - ca));
                own[cb - ca + 1] = ' ';
                own[cb - ca + 2] = '\0';
                rep = own;
            }
            gr_buf b = {0};
            gr_buf_put(&b, s, (size_t)(p - s));
            gr_buf_puts(&b, rep);
            gr_buf_puts(&b, s + tail);
            free(own);
            free(s);
            s = gr_buf_take(&b);
            again = 1;
        }
    }
    return s;
}

// \boxed{X} / \fbox{X} anywhere left in an answer: the content.
static char *unbox(char *s) {
    for (;;) {
        char *p = strstr(s, "\\boxed{");
        size_t cl = 7;
        char *f = strstr(s, "\\fbox{");
        if (!p || (f && f < p)) p = f, cl = 6;
        if (!p) return s;
        size_t n = strlen(s);
        long close = gr_close_brace(s, n, (size_t)(p - s) + cl - 1);
        if (close < 0) return s;
        gr_buf b = {0};
        gr_buf_put(&b, s, (size_t)(p - s));
        gr_buf_put(&b, p + cl, (size_t)(s + close - (p + cl)));
        gr_buf_puts(&b, s + close + 1);
        free(s);
        s = gr_buf_take(&b);
    }
}

// Standalone "and" / "or" (not inside a word), with a comma before them, become ",".
static char *and_or(char *s) {
    gr_buf b = {0};
    for (const char *r = s; *r;) {
        size_t wl = strncmp(r, "and", 3) == 0 ? 3 : strncmp(r, "or", 2) == 0 ? 2 : 0;
        if (wl && (r == s || !gr_alpha(r[-1])) && !gr_alpha(r[wl]) && !(r > s && r[-1] == '\\')) {
            while (b.n && (b.p[b.n - 1] == ' ' || b.p[b.n - 1] == ',')) b.p[--b.n] = '\0';
            gr_buf_puts(&b, ", ");
            r += wl;
            continue;
        }
        gr_buf_putc(&b, *r++);
    }
    free(s);
    return gr_buf_take(&b);
}

// Percent spellings become '%' right after the value.
static char *percent_marks(char *s) {
    s = replace_all(s, "\\%", "%");
    gr_buf b = {0};
    for (const char *r = s; *r;) {
        static const char *const words[] = {"percentage", "percent", "pct", NULL};
        int hit = 0;
        for (int w = 0; words[w] && !hit; w++) {
            size_t len = strlen(words[w]);
            if (strncmp(r, words[w], len) == 0 && (r == s || !gr_alpha(r[-1])) && !gr_alpha(r[len])) {
                while (b.n && b.p[b.n - 1] == ' ') b.p[--b.n] = '\0';
                gr_buf_putc(&b, '%');
                r += len;
                hit = 1;
            }
        }
        if (hit) continue;
        if (*r == '%') {
            while (b.n && b.p[b.n - 1] == ' ') b.p[--b.n] = '\0';
        }
        gr_buf_putc(&b, *r++);
    }
    free(s);
    return gr_buf_take(&b);
}

// \sqrt3 → \sqrt{3}; \frac12 → \frac{1}{2}; \frac1{72} → \frac{1}{72}; \frac{3}4 → \frac{3}{4}.
static char *fix_short_args(char *s) {
    gr_buf b = {0};
    for (const char *r = s; *r;) {
        int nargs = 0;
        if (gr_cmd_at(r, "\\sqrt")) nargs = 1;
        else if (gr_cmd_at(r, "\\frac") || gr_cmd_at(r, "\\binom")) nargs = 2;
        if (!nargs) {
            gr_buf_putc(&b, *r++);
            continue;
        }
        size_t cl = r[1] == 'b' ? 6 : 5;
        gr_buf_put(&b, r, cl);
        r += cl;
        if (nargs == 1 && *r == '[') {  // \sqrt[n]{x}: the index as written
            while (*r && *r != ']') gr_buf_putc(&b, *r++);
            if (*r) gr_buf_putc(&b, *r++);
        }
        for (int a = 0; a < nargs; a++) {
            while (*r == ' ') r++;
            if (*r == '{') {
                long cls = gr_close_brace(r, strlen(r), 0);
                if (cls < 0) break;
                gr_buf_put(&b, r, (size_t)cls + 1);
                r += cls + 1;
            } else if (*r == '\\' && gr_alpha(r[1])) {  // \sqrt\pi
                gr_buf_putc(&b, '{');
                gr_buf_putc(&b, *r++);
                while (gr_alpha(*r)) gr_buf_putc(&b, *r++);
                gr_buf_putc(&b, '}');
            } else if (*r && *r != '}' && *r != '^' && *r != '_' && *r != '\\') {
                gr_buf_putc(&b, '{');
                gr_buf_putc(&b, *r++);
                gr_buf_putc(&b, '}');
            } else {
                break;
            }
        }
    }
    free(s);
    return gr_buf_take(&b);
}

// Collapses whitespace to single spaces; ".5" → "0.5"; "1 000 000" → "1000000" (groups of three).
static char *tidy(char *s) {
    gr_buf b = {0};
    for (const char *r = s; *r; r++) {
        if (gr_space(*r)) {
            if (b.n && b.p[b.n - 1] != ' ') gr_buf_putc(&b, ' ');
            continue;
        }
        if (*r == '.' && gr_digit(r[1]) && !(b.n && gr_digit(b.p[b.n - 1]))) gr_buf_putc(&b, '0');
        gr_buf_putc(&b, *r);
    }
    char *t = gr_buf_take(&b);
    for (char *p = t; *p; p++) {  // digit SPACE three digits (then not a digit): a thousands gap
        if (p > t && *p == ' ' && gr_digit(p[-1]) && gr_digit(p[1]) && gr_digit(p[2]) && gr_digit(p[3]) &&
            !gr_digit(p[4]))
            memmove(p, p + 1, strlen(p));
    }
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '.' || t[n - 1] == ',' || t[n - 1] == ';')) t[--n] = '\0';
    size_t lead = 0;
    while (t[lead] == ' ') lead++;
    if (lead) memmove(t, t + lead, n - lead + 1);
    free(s);
    return t;
}

// A trailing plain-word unit after a value ("125 miles", "15 cm^2") goes.
static void drop_trailing_unit(char *s) {
    size_t n = strlen(s);
    char *end = s + n;
    char *w = end;
    if (w > s && gr_digit(w[-1]) && w - s >= 2 && w[-2] == '^') w -= 2;  // cm^2
    char *unit_end = w;
    while (w > s && gr_alpha(w[-1])) w--;
    if (unit_end - w < 2 || w == s || w[-1] != ' ') return;
    char *q = w - 1;
    while (q > s && q[-1] == ' ') q--;
    if (q > s && (gr_digit(q[-1]) || q[-1] == '}' || q[-1] == '%')) *q = '\0';
}

char *gr_normalize(const char *in) {
    char *s = s1c_xstrdup(in ? in : "");
    // Unicode spellings of common symbols.
    static const char *const uni[][2] = {
        {"\xe2\x88\x92", "-"},        {"\xcf\x80", "\\pi "},        {"\xe2\x88\x9a", "\\sqrt"},
        {"\xc2\xb0", ""},             {"\xc3\x97", "\\times "},     {"\xc3\xb7", "\\div "},
        {"\xe2\x88\x9e", "\\infty "}, {"\xc2\xb2", "^2"},           {"\xc2\xb3", "^3"},
        {"\xe2\x89\xa4", "<="},       {"\xe2\x89\xa5", ">="},       {"\xe2\x89\xa0", "!="},
        {"\xe2\x88\x88", "\\in "},    {"\xe2\x88\xaa", "\\cup "},   {"\xc2\xb1", "\\pm "},
        {"\xe2\x88\x85", "\\emptyset "}, {"\xe2\x8b\x85", "\\cdot "},
    };
    for (size_t k = 0; k < sizeof uni / sizeof uni[0]; k++) s = replace_all(s, uni[k][0], uni[k][1]);
    for (char *p = s; *p; p++)
        if (gr_space(*p)) *p = ' ';
    s = undouble_backslashes(s);
    s = drop_spacing(s);
    s = replace_cmd(s, "\\dfrac", "\\frac");
    s = replace_cmd(s, "\\tfrac", "\\frac");
    s = replace_cmd(s, "\\cfrac", "\\frac");
    s = replace_cmd(s, "\\dbinom", "\\binom");
    s = replace_cmd(s, "\\tbinom", "\\binom");
    s = replace_all(s, "^{\\circ}", "");
    s = replace_all(s, "^\\circ", "");
    s = replace_cmd(s, "\\circ", "");
    s = replace_all(s, "^{\\degree}", "");
    s = replace_all(s, "^\\degree", "");
    s = replace_cmd(s, "\\degree", "");
    s = replace_all(s, "\\$", " ");
    s = replace_all(s, "$", " ");
    s = replace_all(s, "\\(", " ");
    s = replace_all(s, "\\)", " ");
    s = replace_all(s, "\\[", " ");
    s = replace_all(s, "\\]", " ");
    s = unbox(s);
    // "14{,}916", "14 {, }916": a thousands comma.
    {
        gr_buf b = {0};
        for (const char *r = s; *r;) {
            if (*r == '{') {
                const char *q = r + 1;
                while (*q == ' ') q++;
                if (*q == ',') {
                    q++;
                    while (*q == ' ') q++;
                    if (*q == '}') {
                        while (b.n && b.p[b.n - 1] == ' ') b.p[--b.n] = '\0';
                        gr_buf_putc(&b, ',');
                        r = q + 1;
                        continue;
                    }
                }
            }
            gr_buf_putc(&b, *r++);
        }
        free(s);
        s = gr_buf_take(&b);
    }
    s = text_groups(s);
    s = percent_marks(s);
    s = and_or(s);
    // Relations in one spelling.
    s = replace_cmd(s, "\\geqslant", ">=");
    s = replace_cmd(s, "\\leqslant", "<=");
    s = replace_cmd(s, "\\geq", ">=");
    s = replace_cmd(s, "\\leq", "<=");
    s = replace_cmd(s, "\\ge", ">=");
    s = replace_cmd(s, "\\le", "<=");
    s = replace_cmd(s, "\\neq", "!=");
    s = replace_cmd(s, "\\ne", "!=");
    s = replace_cmd(s, "\\gt", ">");
    s = replace_cmd(s, "\\lt", "<");
    s = replace_all(s, "=<", "<=");
    s = replace_all(s, "=>", ">=");
    // Dots of a list ("1, 2, \ldots") say nothing about its value.
    s = replace_all(s, ", \\ldots", "");
    s = replace_all(s, ",\\ldots", "");
    s = replace_cmd(s, "\\ldots", "");
    s = replace_cmd(s, "\\dots", "");
    s = replace_cmd(s, "\\cdots", "");
    s = replace_all(s, "infinity", "\\infty");
    s = tidy(s);
    drop_trailing_unit(s);
    s = tidy(s);
    s = fix_short_args(s);
    return s;
}
