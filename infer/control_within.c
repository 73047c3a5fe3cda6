// control_within.c — see control_within.h.
#include "control_within.h"

#include <string.h>

static int has_text(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 1;
    return 0;
}

int s1c_thinking_steps(const char *think, const char *delim) {
    if (!delim || !*delim) return 0;
    size_t k = strlen(delim);
    int n = 0;
    for (const char *p = think;;) {
        const char *q = strstr(p, delim);
        size_t len = q ? (size_t)(q - p) : strlen(p);
        n += has_text(p, len);
        if (!q) return n;
        p = q + k;
    }
}

int s1c_control_within(s1c_control ctl, int control_budget, int min_thinking, int max_thinking, int think_tokens,
                       int think_steps) {
    if (think_tokens < min_thinking || (max_thinking >= 0 && think_tokens > max_thinking)) return 0;
    int n = control_budget >= 0 ? control_budget : max_thinking;
    if (ctl == S1C_CONTROL_TOKEN) return n < 0 || think_tokens <= n;
    if (ctl == S1C_CONTROL_STEP) return n < 0 || think_steps <= n;
    return 1;
}
