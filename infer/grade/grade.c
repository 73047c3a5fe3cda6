// grade.c — the public entry points of grade.h.
#include "grade.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grade_internal.h"
#include "s1c_err.h"

void s1c_grade_opts_default(s1c_grade_opts *o) {
    memset(o, 0, sizeof *o);
    o->float_digits = 6;
    o->targets = S1C_GRADE_LATEX | S1C_GRADE_EXPR;
    o->strict = 1;
    o->letters = "ABCD";
}

static const s1c_grade_opts *opts_or_default(const s1c_grade_opts *o, s1c_grade_opts *tmp) {
    if (o) return o;
    s1c_grade_opts_default(tmp);
    return tmp;
}

// The text after the last `delim` (the end of thinking), or the whole text.
static const char *answer_part(const char *gen, const char *delim) {
    if (!delim || !*delim) return gen;
    size_t dl = strlen(delim);
    const char *last = NULL;
    for (const char *p = strstr(gen, delim); p; p = strstr(p + 1, delim)) last = p;
    return last ? last + dl : gen;
}

typedef struct {
    gr_node *node;
} accepted;

static int accept_math(const char *candidate, void *ctx) {
    char *norm = gr_normalize(candidate);
    gr_node *n = gr_parse(norm);
    free(norm);
    if (!n) return 0;
    ((accepted *)ctx)->node = n;
    return 1;
}

// A bare answer as a tree; text the grader cannot read becomes a GR_RAW node of its normal form.
static gr_node *parse_bare(const char *text, int raw_ok) {
    char *norm = gr_normalize(text);
    gr_node *n = gr_parse(norm);
    if (!n && raw_ok && norm[0]) n = gr_node_new(GR_RAW, norm, strlen(norm));
    free(norm);
    return n;
}

// A whole generation or solution rather than a bare answer: math delimiters, a box, an answer
// marker, several lines, or long prose.
static int is_generation(const char *t) {
    if (strchr(t, '$') || strchr(t, '\n') || strstr(t, "\\(") || strstr(t, "\\[") || strstr(t, "\\boxed") ||
        strstr(t, "\\fbox") || strlen(t) > 300)
        return 1;
    for (const char *p = t; *p; p++)
        if (gr_ci_at(p, p + 6, "answer")) return 1;
    return 0;
}

// Reads an answer from a bare answer or a generation: the LaTeX text read and its tree. When
// nothing parses, the first candidate (or the bare text) is kept as unread text.
static int read_math(const char *text, const s1c_grade_opts *o, char **latex, gr_node **node) {
    *latex = NULL;
    *node = NULL;
    int bare = !is_generation(text) && (o->targets & S1C_GRADE_LATEX);
    if (bare) {
        gr_node *n = parse_bare(text, 0);
        if (n) {
            *latex = gr_dup_range(text, text + strlen(text));
            *node = n;
            return 1;
        }
    }
    accepted a = {0};
    char *first = NULL;
    char *cand = gr_extract_math(text, strlen(text), o->targets, accept_math, &a, &first);
    if (cand) {
        *latex = cand;
        *node = a.node;
        return 1;
    }
    if (!first && bare) first = gr_dup_range(text, text + strlen(text));
    if (!first) return 0;
    *node = parse_bare(first, 1);
    if (!*node) {  // nothing left after normalisation
        free(first);
        return 0;
    }
    *latex = first;
    return 1;
}

char *s1c_extract_answer(const char *generation, const char *delim, s1c_bench_format fmt) {
    if (!generation) return NULL;
    const char *text = answer_part(generation, delim);
    if (fmt == S1C_BENCH_GPQA) return gr_extract_letter(text, strlen(text), "ABCD");
    accepted a = {0};
    char *first = NULL;
    char *ans = gr_extract_math(text, strlen(text), S1C_GRADE_LATEX | S1C_GRADE_EXPR, accept_math, &a, &first);
    gr_node_free(a.node);
    if (!ans && first) {  // unread text is an answer only if something is left of it
        char *norm = gr_normalize(first);
        if (!norm[0]) {
            free(first);
            first = NULL;
        }
        free(norm);
    }
    return ans ? ans : first;
}

// AIME: one integer on both sides.
static int same_integer(const gr_node *g, const gr_node *p) {
    if (g->kind != GR_EXPR || p->kind != GR_EXPR) return 0;
    double a, b;
    int va = 0, vb = 0;
    if (gr_eval(g->src, strlen(g->src), 0, NULL, &a, &va) != GR_EVAL_OK ||
        gr_eval(p->src, strlen(p->src), 0, NULL, &b, &vb) != GR_EVAL_OK)
        return 0;
    return !va && !vb && a == floor(a) && fabs(a) < 1e15 && a == b;
}

static int grade_nodes(s1c_bench_format fmt, const gr_node *g, const gr_node *p, const s1c_grade_opts *o) {
    if (!g || !p) return 0;
    if (fmt == S1C_BENCH_AIME) return same_integer(g, p);
    return gr_equal(g, p, o);
}

static char gold_letter(const char *gold, const char *letters) {
    const char *p = gold;
    while (gr_space(*p) || *p == '(') p++;
    char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
    if (c && strchr(letters, c) && !gr_alpha(p[1])) return c;
    char *l = gr_extract_letter(gold, strlen(gold), letters);
    c = l ? l[0] : 0;
    free(l);
    return c;
}

int s1c_grade(s1c_bench_format fmt, const char *gold, const char *pred) {
    if (!gold || !pred || !*pred) return 0;
    s1c_grade_opts o;
    s1c_grade_opts_default(&o);
    if (fmt == S1C_BENCH_GPQA) {
        char g = gold_letter(gold, o.letters);
        char c = pred[0] >= 'a' && pred[0] <= 'z' ? (char)(pred[0] - 'a' + 'A') : pred[0];
        return g && strlen(pred) == 1 && c == g;
    }
    gr_node *g = parse_bare(gold, 0);
    if (!g && is_generation(gold)) {  // a gold written as a solution ("… so the answer is $\boxed{5}$")
        char *latex;
        if (read_math(gold, &o, &latex, &g)) free(latex);
    }
    if (!g) g = parse_bare(gold, 1);
    gr_node *p = parse_bare(pred, 1);
    int ok = grade_nodes(fmt, g, p, &o);
    gr_node_free(g);
    gr_node_free(p);
    return ok;
}

int s1c_grade_text(s1c_bench_format fmt, const char *gold, const char *prediction, const s1c_grade_opts *opts,
                   char **extracted) {
    s1c_grade_opts tmp;
    const s1c_grade_opts *o = opts_or_default(opts, &tmp);
    if (extracted) *extracted = NULL;
    if (!gold || !prediction) return 0;
    if (fmt == S1C_BENCH_GPQA) {
        char *l = gr_extract_letter(prediction, strlen(prediction), o->letters);
        char g = gold_letter(gold, o->letters);
        int ok = l && g && l[0] == g;
        if (extracted) *extracted = l;
        else free(l);
        return ok;
    }
    char *gl, *pl;
    gr_node *g, *p;
    read_math(gold, o, &gl, &g);
    read_math(prediction, o, &pl, &p);
    int ok = grade_nodes(fmt, g, p, o);
    if (extracted) *extracted = pl;
    else free(pl);
    free(gl);
    gr_node_free(g);
    gr_node_free(p);
    return ok;
}
