// extract.c — see extract.h.
#include "extract.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "s1c_err.h"

static char *dup_range(const char *a, const char *b) {
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    size_t n = (size_t)(b - a);
    char *o = s1c_xmalloc(n + 1);
    memcpy(o, a, n);
    o[n] = '\0';
    return o;
}

// Last occurrence of needle in [text, end) (NULL if none).
static const char *rfind(const char *text, const char *end, const char *needle) {
    size_t n = strlen(needle);
    if ((size_t)(end - text) < n) return NULL;
    for (const char *p = end - n;; p--) {
        if (memcmp(p, needle, n) == 0) return p;
        if (p == text) return NULL;
    }
}

static const char *rfind_ci(const char *text, const char *end, const char *needle) {
    size_t n = strlen(needle);
    if ((size_t)(end - text) < n) return NULL;
    for (const char *p = end - n;; p--) {
        if (strncasecmp(p, needle, n) == 0) return p;
        if (p == text) return NULL;
    }
}

// Content of a \boxed / \fbox starting at cmd (pointing at the backslash), or NULL when the
// braces never close (a truncated generation).
static char *boxed_at(const char *cmd, size_t cmd_len) {
    const char *p = cmd + cmd_len;
    if (*p == '{') {
        int depth = 0;
        for (const char *q = p; *q; q++) {
            if (*q == '\\' && q[1]) {  // escaped brace \{ \} does not count
                q++;
                continue;
            }
            if (*q == '{') depth++;
            else if (*q == '}' && --depth == 0) return dup_range(p + 1, q);
        }
        return NULL;
    }
    if (*p == ' ') {  // "\boxed 5": up to the next space or '$'
        while (*p == ' ') p++;
        const char *q = p;
        while (*q && !isspace((unsigned char)*q) && *q != '$') q++;
        if (q > p) return dup_range(p, q);
    }
    return NULL;
}

char *s1c_last_boxed(const char *text) {
    const char *end = text + strlen(text);
    static const char *const cmds[] = {"\\boxed", "\\fbox"};
    // The later of the two commands wins; on an unbalanced one, keep searching earlier.
    while (end > text) {
        const char *best = NULL;
        size_t best_len = 0;
        for (int c = 0; c < 2; c++) {
            const char *p = rfind(text, end, cmds[c]);
            if (p && (!best || p > best)) {
                best = p;
                best_len = strlen(cmds[c]);
            }
        }
        if (!best) return NULL;
        char *r = boxed_at(best, best_len);
        if (r) return r;
        end = best;
    }
    return NULL;
}

// After "Answer:": a $…$ span if the line has one, else the line minus filler.
static char *answer_line(const char *p) {
    const char *e = p + strcspn(p, "\n");
    while (p < e && isspace((unsigned char)*p)) p++;
    static const char *const fillers[] = {"The final answer is", "the final answer is", "The answer is", "the answer is"};
    for (int i = 0; i < 4; i++) {
        size_t n = strlen(fillers[i]);
        if ((size_t)(e - p) >= n && strncmp(p, fillers[i], n) == 0) p += n;
    }
    const char *d1 = memchr(p, '$', (size_t)(e - p));
    if (d1) {
        const char *d2 = memchr(d1 + 1, '$', (size_t)(e - d1 - 1));
        if (d2 && d2 > d1 + 1) return dup_range(d1 + 1, d2);
    }
    // Drop a closing sentence: "28. I hope it is correct."
    const char *hope = rfind(p, e, ". I hope");
    if (hope) e = hope;
    while (e > p && (isspace((unsigned char)e[-1]) || e[-1] == '.')) e--;
    if (e <= p) return NULL;
    return dup_range(p, e);
}

static char *last_number(const char *text) {
    const char *best_a = NULL, *best_b = NULL;
    for (const char *p = text; *p;) {
        if (isdigit((unsigned char)*p)) {
            const char *a = p;
            if (a > text && a[-1] == '-') a--;
            while (isdigit((unsigned char)*p) || ((*p == '.' || *p == ',' || *p == '/') && isdigit((unsigned char)p[1]))) p++;
            best_a = a;
            best_b = p;
        } else {
            p++;
        }
    }
    return best_a ? dup_range(best_a, best_b) : NULL;
}

static int is_choice(char c) { return c >= 'A' && c <= 'D'; }

// A letter A–D from an answer text: the whole text stripped of decoration, else "(X)", else a
// standalone capital letter.
static char *gpqa_letter(const char *s, int whole_text) {
    size_t n = strlen(s);
    const char *end = s + n;
    // "(B)" — last one in the text.
    for (const char *p = end; p - s >= 3; p--) {
        if (p[-3] == '(' && is_choice(p[-2]) && p[-1] == ')') return dup_range(p - 2, p - 1);
    }
    // Standalone letter: not adjacent to other letters or digits. In a short answer the first
    // counts ("B. 42 m/s"); in running text (the fallback) the last.
    const char *hit = NULL;
    for (const char *p = s; p < end; p++) {
        if (!is_choice(*p)) continue;
        int left = p == s || !isalnum((unsigned char)p[-1]);
        int right = p + 1 == end || !isalnum((unsigned char)p[1]);
        if (left && right) {
            hit = p;
            if (!whole_text) break;
        }
    }
    return hit ? dup_range(hit, hit + 1) : NULL;
}

char *s1c_extract_answer(const char *generation, const char *delim, s1c_bench_format fmt) {
    if (!generation) return NULL;
    const char *text = generation;
    if (delim && *delim) {
        const char *d = rfind(generation, generation + strlen(generation), delim);
        if (d) text = d + strlen(delim);
    }
    char *ans = s1c_last_boxed(text);
    if (!ans) {
        const char *end = text + strlen(text);
        const char *fa = rfind_ci(text, end, "final answer:");
        const char *a = rfind_ci(text, end, "answer:");
        const char *p = fa ? fa + strlen("final answer:") : a ? a + strlen("answer:") : NULL;
        if (fa && a && a > fa + 6) p = a + strlen("answer:");  // a later plain "Answer:" wins
        if (p) ans = answer_line(p);
    }
    if (fmt == S1C_BENCH_GPQA) {
        char *letter = ans ? gpqa_letter(ans, 0) : gpqa_letter(text, 1);
        free(ans);
        return letter;
    }
    if (!ans) ans = last_number(text);
    if (ans && ans[0] == '\0') {
        free(ans);
        ans = NULL;
    }
    return ans;
}
