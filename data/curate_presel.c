#include "curate_presel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curate_rules.h"
#include "jsonl.h"

typedef enum { C_REGEX, C_TRUE, C_FALSE, C_TOKENS } cond_kind;
typedef struct {
    cond_kind kind;
    char *field;
    s1c_regex *re;
    int op;  // C_TOKENS: '>' , 'G' (>=), '<', 'L' (<=)
    uint64_t value;
} cond;
typedef struct {
    cond *c;
    size_t n;
} rule;
struct s1c_presel {
    rule *r;
    size_t n;
};

s1c_presel *s1c_presel_new(void) { return s1c_xcalloc(1, sizeof(s1c_presel)); }
int s1c_presel_empty(const s1c_presel *p) { return p->n == 0; }

static s1c_status parse_cond(const char *s, cond *c, const char *rule_text) {
    memset(c, 0, sizeof *c);
    if (!strncmp(s, "tokens", 6) && (s[6] == '>' || s[6] == '<')) {
        const char *v = s + 7;
        int eq = *v == '=';
        if (eq) v++;
        c->kind = C_TOKENS;
        c->op = s[6] == '>' ? (eq ? 'G' : '>') : (eq ? 'L' : '<');
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end || errno) return s1c_err("--preselect '%s': bad number in '%s'", rule_text, s);
        c->value = x;
        return S1C_OK;
    }
    const char *tilde = strchr(s, '~');
    if (tilde) {
        c->kind = C_REGEX;
        c->field = strndup(s, (size_t)(tilde - s));
        char what[300];
        snprintf(what, sizeof what, "--preselect '%s'", rule_text);
        if (!c->field[0]) return s1c_err("--preselect '%s': no field name before '~' in '%s'", rule_text, s);
        c->re = s1c_regex_compile(tilde + 1, what);
        return c->re ? S1C_OK : S1C_ERR;  // the message names the pattern, offset and PCRE2's reason
    }
    c->kind = s[0] == '!' ? C_FALSE : C_TRUE;
    c->field = s1c_xstrdup(s + (s[0] == '!'));
    if (!c->field[0]) return s1c_err("--preselect '%s': empty condition", rule_text);
    return S1C_OK;
}

s1c_status s1c_presel_add(s1c_presel *p, const char *text) {
    rule r = {0};
    char *copy = s1c_xstrdup(text), *save = NULL;
    s1c_status st = S1C_OK;
    for (char *tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
        r.c = s1c_xrealloc(r.c, (r.n + 1) * sizeof *r.c);
        st = parse_cond(tok, &r.c[r.n], text);
        r.n++;
        if (st != S1C_OK) break;
    }
    free(copy);
    if (st == S1C_OK && r.n == 0) st = s1c_err("--preselect: empty rule");
    if (st != S1C_OK) {
        // A refused rule is dropped whole: keeping its conditions would leave one with no compiled
        // pattern for s1c_presel_match to run (found by fuzz_rules: a NULL regex dereferenced).
        for (size_t j = 0; j < r.n; j++) {
            free(r.c[j].field);
            s1c_regex_free(r.c[j].re);
        }
        free(r.c);
        return st;
    }
    p->r = s1c_xrealloc(p->r, (p->n + 1) * sizeof *p->r);
    p->r[p->n++] = r;
    return st;
}

void s1c_presel_free(s1c_presel *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) {
        for (size_t j = 0; j < p->r[i].n; j++) {
            free(p->r[i].c[j].field);
            s1c_regex_free(p->r[i].c[j].re);
        }
        free(p->r[i].c);
    }
    free(p->r);
    free(p);
}

static int cond_holds(const cond *c, const cJSON *rec, uint64_t tokens) {
    switch (c->kind) {
    case C_TOKENS:
        return c->op == '>' ? tokens > c->value
             : c->op == 'G' ? tokens >= c->value
             : c->op == '<' ? tokens < c->value
                            : tokens <= c->value;
    case C_REGEX: {
        const char *s;
        int rc = s1c_json_string(rec, c->field, &s);
        if (rc <= 0) return rc;
        return s1c_regex_match(c->re, s, strlen(s));
    }
    case C_TRUE:
    case C_FALSE: {
        int v = 0;
        int rc = s1c_json_flag(rec, c->field, &v);
        if (rc < 0) return -1;
        return c->kind == C_TRUE ? (rc == 1 && v) : !(rc == 1 && v);
    }
    }
    return 0;
}

int s1c_presel_match(const s1c_presel *p, const cJSON *rec, uint64_t tokens) {
    for (size_t i = 0; i < p->n; i++) {
        int all = 1;
        for (size_t j = 0; j < p->r[i].n && all; j++) {
            int h = cond_holds(&p->r[i].c[j], rec, tokens);
            if (h < 0) return -1;
            all = h;
        }
        if (all) return 1;
    }
    return 0;
}
