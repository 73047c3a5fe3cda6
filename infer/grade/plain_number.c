// plain_number.c — numbers and arithmetic written as plain text, outside any math span.
//
// A number needs a prefix (start of text, whitespace or '='), so "AZYUK2A" holds none and
// "x=5" holds 5; a currency sign may come first ("$5", "\\$5", "€12"). Forms, tried in order:
//   "1,234,567.5" / "1 234" (groups of three after a 1–3 digit head), "2,74" / "2.74" (a comma
//   as the decimal point), ".4", "12"; then an optional percent ("%", "percent", "pct").
// An expression is a run of digits, spaces and + - * / ^ ( ) × ÷ with at least one operator,
// ended by punctuation, whitespace, ')' or '$' ("2/3.", "(1/2) * (4/3)").
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

static int is_times(const char *t, size_t n, size_t i) {  // × (U+00D7) or ÷ (U+00F7)
    return i + 1 < n && (unsigned char)t[i] == 0xC3 && ((unsigned char)t[i + 1] == 0x97 || (unsigned char)t[i + 1] == 0xB7);
}

// Length of the expression character at i (0 when it is not one); *op set for an operator.
static size_t expr_char(const char *t, size_t n, size_t i, int *op) {
    char c = t[i];
    *op = 0;
    if (gr_digit(c) || c == '.' || gr_space(c)) return 1;
    if (strchr("+-*/^()", c)) {
        *op = 1;
        return 1;
    }
    if (is_times(t, n, i)) {
        *op = 1;
        return 2;
    }
    return 0;
}

// The suffix after an expression: optional "**", then . , : whitespace ) $ or the end.
static int suffix_at(const char *t, size_t n, size_t e, size_t *len) {
    size_t s = e;
    if (s + 1 < n && t[s] == '*' && t[s + 1] == '*') s += 2;
    if (s >= n) {
        *len = s - e;
        return 1;
    }
    if (strchr(".,:)$", t[s]) || gr_space(t[s])) {
        *len = s + 1 - e;
        return 1;
    }
    return 0;
}

static char *expr_rest(const char *t, size_t n, size_t p, size_t *end) {
    size_t i = p;
    if (i < n && t[i] == '-') i++;
    if (i < n && t[i] == '(') i++;
    if (i < n && t[i] == '-') i++;
    if (i >= n || !gr_digit(t[i])) return NULL;
    i++;
    // The run of expression characters after the first digit, with its operator positions.
    size_t j = i, first_op_end = 0;
    int have_op = 0;
    while (j < n) {
        int op;
        size_t len = expr_char(t, n, j, &op);
        if (!len) break;
        if (op && !have_op) {
            have_op = 1;
            first_op_end = j + len;
        }
        j += len;
    }
    if (!have_op) return NULL;
    // Longest end e with an operator followed by at least one character before it, and a suffix.
    for (size_t e = j; e > first_op_end; e--) {
        if (e < n && (t[e] & 0xC0) == 0x80) continue;  // inside a multi-byte character
        size_t slen;
        if (!suffix_at(t, n, e, &slen)) continue;
        *end = e + slen;
        gr_buf b = {0};
        for (size_t k = p; k < e; k++) {
            if (is_times(t, n, k)) {
                gr_buf_putc(&b, (unsigned char)t[k + 1] == 0x97 ? '*' : '/');
                k++;
            } else if (t[k] == '*' && k + 1 < e && t[k + 1] == '*') {
                gr_buf_putc(&b, '^');
                k++;
            } else {
                gr_buf_putc(&b, gr_space(t[k]) ? ' ' : t[k]);
            }
        }
        char *raw = gr_buf_take(&b), *out = gr_dup_range(raw, raw + strlen(raw));
        free(raw);
        return out;
    }
    return NULL;
}

static size_t digits(const char *t, size_t n, size_t i) {
    size_t k = i;
    while (k < n && gr_digit(t[k])) k++;
    return k - i;
}

static size_t currency(const char *t, size_t n, size_t i) {
    static const char *const signs[] = {"\\$", "$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5", "\xe2\x82\xb9", NULL};
    for (int k = 0; signs[k]; k++) {
        size_t len = strlen(signs[k]);
        if (i + len <= n && memcmp(t + i, signs[k], len) == 0) return len;
    }
    return 0;
}

// Percent after a number: spaces, then % / percent / percentage / pct. Returns its length.
static size_t percent_at(const char *t, size_t n, size_t i) {
    size_t k = i;
    while (k < n && gr_space(t[k])) k++;
    if (k < n && t[k] == '%') return k + 1 - i;
    static const char *const words[] = {"percentage", "percent", "pct", NULL};
    for (int w = 0; words[w]; w++) {
        size_t len = strlen(words[w]);
        if (k + len <= n && (t[k] == words[w][0] || t[k] == words[w][0] - 32) && strncmp(t + k + 1, words[w] + 1, len - 1) == 0)
            return k + len - i;
    }
    return 0;
}

static char *number_rest(const char *t, size_t n, size_t p, size_t *end) {
    size_t i = p + currency(t, n, p);
    int neg = i < n && t[i] == '-';
    size_t s = i + (size_t)neg;  // first digit (or '.')
    if (s > 0 && gr_digit(t[s - 1])) return NULL;
    gr_buf b = {0};
    size_t e = 0;
    // 1: a 1–3 digit head and groups of three separated by ',' or ' ', optional decimals.
    if (s < n && t[s] >= '1' && t[s] <= '9') {
        size_t head = digits(t, n, s);
        for (size_t h = head < 3 ? head : 3; h >= 1 && !e; h--) {
            size_t k = s + h, groups = 0;
            while (k + 3 < n && (t[k] == ',' || t[k] == ' ') && digits(t, n, k + 1) >= 3) {
                k += 4;
                groups++;
            }
            if (!groups) continue;
            for (size_t q = s; q < k; q++)
                if (gr_digit(t[q])) gr_buf_putc(&b, t[q]);
            if (k + 1 < n && t[k] == '.' && gr_digit(t[k + 1])) {
                size_t d = digits(t, n, k + 1);
                gr_buf_put(&b, t + k, d + 1);
                k += d + 1;
            }
            e = k;
        }
    }
    // 2: digits, '.' or ',', digits.  3: '.' digits.  4: digits.
    if (!e) {
        size_t d = digits(t, n, s);
        if (d && s + d + 1 < n && (t[s + d] == '.' || t[s + d] == ',') && gr_digit(t[s + d + 1])) {
            size_t f = digits(t, n, s + d + 1);
            gr_buf_put(&b, t + s, d);
            gr_buf_putc(&b, '.');
            gr_buf_put(&b, t + s + d + 1, f);
            e = s + d + 1 + f;
        } else if (!d && !neg && s + 1 < n && t[s] == '.' && gr_digit(t[s + 1])) {
            size_t f = digits(t, n, s + 1);
            gr_buf_putc(&b, '0');
            gr_buf_put(&b, t + s, f + 1);
            e = s + 1 + f;
        } else if (d) {
            gr_buf_put(&b, t + s, d);
            e = s + d;
        }
    }
    if (!e) {
        free(b.p);
        return NULL;
    }
    char *num = gr_buf_take(&b);
    // Leading zeros go ("004" is 4); a sign and a percent are kept.
    const char *z = num;
    while (z[0] == '0' && gr_digit(z[1])) z++;
    size_t pct = percent_at(t, n, e);
    gr_buf_puts(&b, neg ? "-" : "");
    gr_buf_puts(&b, z);
    if (pct) gr_buf_puts(&b, "\\%");
    free(num);
    *end = e + pct;
    return gr_buf_take(&b);
}

char *gr_plain_at(const char *t, size_t n, size_t q, int expr, size_t *end) {
    // Prefix: the start of the text (nothing consumed), or one whitespace / '=' byte.
    size_t starts[2];
    int ns = 0;
    if (q == 0) starts[ns++] = 0;
    if (q < n && (gr_space(t[q]) || t[q] == '=')) starts[ns++] = q + 1;
    for (int k = 0; k < ns; k++) {
        size_t p = starts[k];
        for (int stars = 1; stars >= 0; stars--) {  // optional "**" (markdown bold)
            size_t r = p;
            if (stars) {
                if (!(r + 1 < n && t[r] == '*' && t[r + 1] == '*')) continue;
                r += 2;
            }
            char *got = expr ? expr_rest(t, n, r, end) : number_rest(t, n, r, end);
            if (got) return got;
        }
    }
    return NULL;
}
