// The conditional-control data transforms (control_data.h): pure string functions, tested in
// tests/data/test_control_data.c; `s1c-data control` (cmd_control.c) applies them to records.
#include "control_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long s1c_ctl_pow2_ceil(long n) {
    long p = 1;
    while (p < n && p < (1L << 62)) p <<= 1;
    return p;
}

static char *with_instruction(const char *question, long n, const char *unit) {
    size_t cap = strlen(question) + 64;
    char *s = s1c_xmalloc(cap);
    snprintf(s, cap, "%s\n\nThink for up to %ld %s.", question, n, unit);
    return s;
}

char *s1c_ctl_token_question(const char *question, long n) { return with_instruction(question, n, "tokens"); }
char *s1c_ctl_step_question(const char *question, long n) { return with_instruction(question, n, "steps"); }

char *s1c_ctl_class_question(const char *question, int is_long) {
    const char *ins = is_long ? S1C_CTL_CLASS_LONG : S1C_CTL_CLASS_SHORT;
    size_t n = strlen(question), k = strlen(ins);
    char *s = s1c_xmalloc(n + k + 3);
    memcpy(s, question, n);
    memcpy(s + n, "\n\n", 2);
    memcpy(s + n + 2, ins, k + 1);
    return s;
}

static int has_text(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 1;
    return 0;
}

// Calls f(piece, len, ctx) for each piece of s between occurrences of sep that holds text.
static int each_step(const char *s, const char *sep, void (*f)(const char *, size_t, void *), void *ctx) {
    size_t k = strlen(sep);
    int n = 0;
    for (const char *p = s;;) {
        const char *q = strstr(p, sep);
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (has_text(p, len)) {
            if (f) f(p, len, ctx);
            n++;
        }
        if (!q) break;
        p = q + k;
    }
    return n;
}

int s1c_ctl_count_steps(const char *trace, const char *sep) { return each_step(trace, sep, NULL, NULL); }

typedef struct {
    char *s;
    size_t n, cap;
    long k;
} step_buf;

static void put(step_buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) b->s = s1c_xrealloc(b->s, b->cap = 2 * (b->n + n + 1) + 64);
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void put_step(const char *p, size_t len, void *ctx) {
    step_buf *b = ctx;
    char head[64];
    int h = snprintf(head, sizeof head, "%s" S1C_CTL_STEP_OPEN "%ld" S1C_CTL_STEP_LEFT, b->n ? "\n" : "", b->k--);
    put(b, head, (size_t)h);
    put(b, p, len);
}

s1c_status s1c_ctl_step_trace(const char *trace, const char *sep, long budget, char **out) {
    *out = NULL;
    if (!sep || !*sep) return s1c_err("step-conditional trace: the step separator is empty");
    int steps = s1c_ctl_count_steps(trace, sep);
    if (steps == 0) return s1c_err("step-conditional trace: the trace has no step (nothing but whitespace)");
    if (budget < steps)
        return s1c_err("step-conditional trace: budget %ld is below the trace's %d steps (the countdown would pass 0)",
                       budget, steps);
    step_buf b = {.k = budget};
    put(&b, "", 0);
    each_step(trace, sep, put_step, &b);
    *out = b.s;
    return S1C_OK;
}
