#include "synth.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curate_hash.h"
#include "synth_axes.h"
#include "s1c_rng.h"
#include "zstd_stream.h"

enum { OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN, N_OPS };
static const char *op_text[N_OPS] = {"+", "-", "*", "max", "min"};
static const char *domain_names[] = {"addsub", "muladd", "minmax", "mixed"};
static const int domain_ops[][6] = {
    {OP_ADD, OP_SUB, -1}, {OP_MUL, OP_ADD, -1}, {OP_MAX, OP_MIN, OP_ADD, -1}, {OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN, -1}};
#define N_DOMAINS 4
_Static_assert(N_DOMAINS == S1C_SYNTH_N_DOMAINS, "synth_axes.h domain count");

void s1c_synth_opts_default(s1c_synth_opts *o) {
    memset(o, 0, sizeof *o);
    o->n = 1000;
    o->modulus = 10;
    o->min_steps = 1;
    o->max_steps = 24;
    o->defect_rate = 0.05;
    o->duplicate_rate = 0.01;
    o->contaminate_rate = 0.002;
}

static int apply(int op, int a, int b, int m) {
    switch (op) {
    case OP_ADD: return (a + b) % m;
    case OP_SUB: return ((a - b) % m + m) % m;
    case OP_MUL: return (a * b) % m;
    case OP_MAX: return a > b ? a : b;
    default: return a < b ? a : b;
    }
}

// A growable byte buffer.
typedef struct {
    char *p;
    size_t n, cap;
} buf;
static void put(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? 2 * b->cap : 256;
        b->p = s1c_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }
static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, (size_t)n);
}
// A JSON string literal of s.
static void put_json(buf *b, const char *s) {
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(b, e, 2);
        } else if (*p == '\n')
            put(b, "\\n", 2);
        else if (*p < 0x20)
            putf(b, "\\u%04x", *p);
        else
            put(b, (const char *)p, 1);
    }
    put(b, "\"", 1);
}

// The k operations of a problem, kept so that traces (with slips) can be written from them.
enum { MAX_TRACE_STEPS = 100000 };
typedef struct {
    int domain, k, answer, start, modulus;
    int *op, *arg;  // [k]
    size_t cap;
    buf question, trace;
} problem;

static void problem_reserve(problem *pr, int k) {
    if ((size_t)k <= pr->cap) return;
    pr->cap = (size_t)k;
    pr->op = s1c_xrealloc(pr->op, pr->cap * sizeof *pr->op);
    pr->arg = s1c_xrealloc(pr->arg, pr->cap * sizeof *pr->arg);
}

// Continuation words of the self-verification traces and their shares. DeepSeek-R1-style traces
// (s1K's) use "Wait" far more than "Hmm", and "Alternatively" least; the shares are a choice in that
// order, not a measurement. They are the three strings the paper's Table 4 tries.
static const char *const verify_words[S1C_SYNTH_N_WORDS] = {"Wait", "Hmm", "Alternatively"};
static const double verify_word_share[S1C_SYNTH_N_WORDS] = {0.6, 0.25, 0.15};

static int pick_word(s1c_rng *rng) {
    double u = s1c_rng_uniform(rng), c = 0;
    for (int w = 0; w < S1C_SYNTH_N_WORDS - 1; w++)
        if (u < (c += verify_word_share[w])) return w;
    return S1C_SYNTH_N_WORDS - 1;
}

// A plausible slip of step "v op d": an off-by-one operand (the neighbouring digit misread) or an
// off-by-one result (a carry lost). Writes the wrong line's operand and result.
static void make_slip(s1c_rng *rng, int op, int v, int d, int m, int *d_out, int *r_out) {
    int r = apply(op, v, d, m);
    for (;;) {
        int delta = s1c_rng_below(rng, 2) ? 1 : -1;
        if (s1c_rng_below(rng, 2)) {  // operand slip: the line is consistent with the wrong operand
            int lo = op >= OP_MAX ? 0 : 1, d2 = d + delta;
            if (d2 < lo || d2 >= m) continue;
            int r2 = apply(op, v, d2, m);
            if (r2 == r) continue;  // e.g. max with a smaller operand: not a slip that shows
            *d_out = d2;
            *r_out = r2;
        } else {
            *d_out = d;
            *r_out = ((r + delta) % m + m) % m;
        }
        return;
    }
}

// The trace of pr from its operations: one line "v op d=r" per step; with slip / recheck rates,
// a slipped step is followed by "<word> v op d=r" (the step re-derived from the question, right),
// and a right step is sometimes re-checked the same way and confirmed. Rates 0 draw nothing from
// rng, so the plain style's output does not depend on this code path.
static void write_trace(problem *pr, s1c_rng *rng, const s1c_synth_opts *o, s1c_synth_stats *stats) {
    int m = pr->modulus, v = pr->start;
    int verify = o->slip_rate > 0 || o->recheck_rate > 0;
    pr->trace.n = 0;
    for (int s = 0; s < pr->k; s++) {
        int op = pr->op[s], d = pr->arg[s], r = apply(op, v, d, m);
        const char *sep = s ? "\n" : "";
        int continued = 1;
        if (verify && s1c_rng_uniform(rng) < o->slip_rate) {
            int d2, r2;
            make_slip(rng, op, v, d, m, &d2, &r2);
            int w = pick_word(rng);
            putf(&pr->trace, "%s%d%s%d=%d\n%s %d%s%d=%d", sep, v, op_text[op], d2, r2, verify_words[w], v, op_text[op], d,
                 r);
            if (stats) stats->slips++, stats->words[w]++;
        } else if (verify && s1c_rng_uniform(rng) < o->recheck_rate) {
            int w = pick_word(rng);
            putf(&pr->trace, "%s%d%s%d=%d\n%s %d%s%d=%d", sep, v, op_text[op], d, r, verify_words[w], v, op_text[op], d, r);
            if (stats) stats->rechecks++, stats->words[w]++;
        } else {
            putf(&pr->trace, "%s%d%s%d=%d", sep, v, op_text[op], d, r);
            continued = 0;
        }
        // A run of re-checks of the same step; again_rate 0 draws nothing (older pools unchanged).
        for (int run = 1; continued && o->again_rate > 0 && run < S1C_SYNTH_MAX_RUN &&
                          s1c_rng_uniform(rng) < o->again_rate;
             run++) {
            int w = pick_word(rng);
            putf(&pr->trace, "\n%s %d%s%d=%d", verify_words[w], v, op_text[op], d, r);
            if (stats) stats->again++, stats->words[w]++;
        }
        if (stats) stats->steps++;
        v = r;
    }
    S1C_ASSERT(v == pr->answer);
}

// The quality axis (synth_axes.h): a plain trace whose step s (uniform) loses one in the result
// and is never corrected; the error carries to the end. Returns the wrong final value.
// A later max/min can absorb the error; then the slip moves to the last step, so the stated
// answer is always wrong (a +-1 slip of the last result always shows).
static int write_wrong_trace(problem *pr, s1c_rng *rng) {
    int m = pr->modulus, bad = (int)s1c_rng_below(rng, (uint64_t)pr->k);
    int delta = s1c_rng_below(rng, 2) ? 1 : -1;
    for (int attempt = 0;; attempt++) {
        int v = pr->start;
        pr->trace.n = 0;
        for (int s = 0; s < pr->k; s++) {
            int r = apply(pr->op[s], v, pr->arg[s], m);
            if (s == bad) r = ((r + delta) % m + m) % m;
            putf(&pr->trace, "%s%d%s%d=%d", s ? "\n" : "", v, op_text[pr->op[s]], pr->arg[s], r);
            v = r;
        }
        if (v != pr->answer) return v;
        S1C_ASSERT(attempt == 0);
        bad = pr->k - 1;
    }
}

static void make_problem(problem *pr, s1c_rng *rng, const s1c_synth_opts *o, int domain, int k) {
    int m = o->modulus;
    pr->domain = domain;
    pr->k = k;
    pr->modulus = m;
    problem_reserve(pr, k);
    pr->question.n = pr->trace.n = 0;
    int n_ops = 0;
    while (domain_ops[domain][n_ops] >= 0) n_ops++;
    int v = (int)s1c_rng_below(rng, (uint64_t)m);
    pr->start = v;
    putf(&pr->question, "mod %d: %d", m, v);
    for (int s = 0; s < k; s++) {
        int op = domain_ops[domain][s1c_rng_below(rng, (uint64_t)n_ops)];
        // Operands 1..m-1 for + - * (0 would make the step trivial); any value for max/min.
        int d = op >= OP_MAX ? (int)s1c_rng_below(rng, (uint64_t)m) : 1 + (int)s1c_rng_below(rng, (uint64_t)(m - 1));
        int r = apply(op, v, d, m);
        putf(&pr->question, " %s%d", op_text[op], d);
        pr->op[s] = op;
        pr->arg[s] = d;
        v = r;
    }
    pr->answer = v;
}

// Parses a question "mod M: v op d ...": the answer (or -1 when it does not parse); with pr, its
// modulus, start value, operations and answer (the question and trace buffers are left alone).
static int run_question(const char *q, problem *pr) {
    char *end;
    if (strncmp(q, "mod ", 4) != 0) return -1;
    long m = strtol(q + 4, &end, 10);
    if (end == q + 4 || *end != ':' || m < 2 || m > 1000) return -1;
    const char *p = end + 1;
    if (*p != ' ') return -1;
    long v = strtol(p + 1, &end, 10);
    if (end == p + 1 || v < 0 || v >= m || p[1] == '-' || p[1] == '+') return -1;
    p = end;
    int steps = 0;
    if (pr) pr->start = (int)v, pr->modulus = (int)m;
    while (*p) {
        if (*p != ' ' || steps >= MAX_TRACE_STEPS) return -1;
        p++;
        int op = -1;
        for (int i = 0; i < N_OPS; i++)
            if (!strncmp(p, op_text[i], strlen(op_text[i]))) {
                op = i;
                break;
            }
        if (op < 0) return -1;
        p += strlen(op_text[op]);
        if (*p < '0' || *p > '9') return -1;
        long d = strtol(p, &end, 10);
        if (d >= m) return -1;
        p = end;
        if (pr) {
            problem_reserve(pr, steps + 1);
            pr->op[steps] = op;
            pr->arg[steps] = (int)d;
        }
        v = apply(op, (int)v, (int)d, (int)m);
        steps++;
    }
    if (steps == 0) return -1;
    if (pr) pr->k = steps, pr->answer = (int)v;
    return (int)v;
}

static void problem_free(problem *pr) {
    free(pr->op);
    free(pr->arg);
    free(pr->question.p);
    free(pr->trace.p);
}

int s1c_synth_solve(const char *question) { return run_question(question, NULL); }

int s1c_synth_check_trace(const char *question, const char *trace) {
    problem pr = {0};
    int ok = 0;
    if (run_question(question, &pr) >= 0) {
        s1c_synth_opts plain = {0};
        write_trace(&pr, NULL, &plain, NULL);
        ok = pr.trace.p && strcmp(pr.trace.p, trace) == 0;
    }
    problem_free(&pr);
    return ok;
}

// One trace line: [word ' '] v op d '=' r, up to '\n' or the end. 1 when it parses.
typedef struct {
    int word, v, op, d, r;
} trace_line;

static int parse_num(const char **p, int *out) {
    if (**p < '0' || **p > '9') return 0;
    long x = 0;
    while (**p >= '0' && **p <= '9' && x < 1000000) x = 10 * x + (*(*p)++ - '0');
    *out = (int)x;
    return 1;
}

static int parse_line(const char **pp, trace_line *l) {
    const char *p = *pp;
    l->word = -1;
    for (int w = 0; w < S1C_SYNTH_N_WORDS; w++) {
        size_t n = strlen(verify_words[w]);
        if (!strncmp(p, verify_words[w], n) && p[n] == ' ') {
            l->word = w;
            p += n + 1;
            break;
        }
    }
    if (!parse_num(&p, &l->v)) return 0;
    l->op = -1;
    for (int i = 0; i < N_OPS; i++)
        if (!strncmp(p, op_text[i], strlen(op_text[i]))) {
            l->op = i;
            p += strlen(op_text[i]);
            break;
        }
    if (l->op < 0 || !parse_num(&p, &l->d) || *p++ != '=' || !parse_num(&p, &l->r)) return 0;
    if (*p == '\n') p++;
    else if (*p) return 0;
    *pp = p;
    return 1;
}

int s1c_synth_check_verify_trace(const char *question, const char *trace, s1c_synth_trace_info *info) {
    memset(info, 0, sizeof *info);
    problem pr = {0};
    int ok = run_question(question, &pr) >= 0;
    int m = pr.modulus, cur = pr.start, s = 0;
    const char *p = trace;
    trace_line l, next;
    while (ok && *p) {
        // A step line: the value carried from the line before, the question's operation; a slip may
        // only misread the operand or the result.
        if (!parse_line(&p, &l) || l.word >= 0 || s >= pr.k || l.v != cur || l.op != pr.op[s]) {
            ok = 0;
            break;
        }
        int d = pr.arg[s], r = apply(l.op, cur, d, m);
        int right = l.d == d && l.r == r;
        const char *after = p;
        int has_next = *p && parse_line(&after, &next) && next.word >= 0;
        if (has_next) {
            // The re-derivation: the step as the question states it, computed right.
            if (next.v != cur || next.op != l.op || next.d != d || next.r != r) {
                ok = 0;
                break;
            }
            if (right) info->rechecks++;
            else info->slips++;
            info->words[next.word]++;
            p = after;
            // Further continuation lines in a row: the same step, right, each time.
            for (int run = 1; ok && *p; run++) {
                after = p;
                if (!parse_line(&after, &next) || next.word < 0) break;
                if (run >= S1C_SYNTH_MAX_RUN || next.v != cur || next.op != l.op || next.d != d || next.r != r) ok = 0;
                else {
                    info->again++;
                    info->words[next.word]++;
                    p = after;
                }
            }
            if (!ok) break;
        } else if (!right) {
            ok = 0;  // a slip left standing
            break;
        }
        cur = r;
        s++;
    }
    info->steps = s;
    ok = ok && s == pr.k && cur == pr.answer;
    problem_free(&pr);
    return ok;
}

// Probability that a probe model of the given strength solves a k-step problem.
static double probe_p(double k, double solves_up_to, double width) { return 1.0 / (1.0 + exp((k - solves_up_to) / width)); }

enum { D_NONE, D_NULL_ATTEMPT, D_API_ERROR, D_IMAGE, D_ASY, D_ENUM, D_BOLD, N_DEFECTS };

static void write_record(buf *line, const problem *pr, const s1c_synth_opts *o, s1c_rng *rng, int defect, int stated) {
    line->n = 0;
    buf q = {0};
    const char *question = pr->question.p;
    const char *source = domain_names[pr->domain];
    char srcbuf[64];
    snprintf(srcbuf, sizeof srcbuf, "synth/%s", source);
    source = srcbuf;
    switch (defect) {
    case D_IMAGE: puts_(&q, question); puts_(&q, " ![Image]"); break;
    case D_ASY:
        puts_(&q, "[asy] ");
        puts_(&q, question);
        if (s1c_rng_below(rng, 2)) source = "AIME";
        break;
    case D_ENUM: puts_(&q, "p1. "); puts_(&q, question); break;
    case D_BOLD: {  // bold start value: "mod 10: **7** +5 ..."
        const char *colon = strchr(question, ':');
        size_t len = strlen(question), head = colon ? (size_t)(colon - question) + 2 : 0;
        if (head > len) head = len;  // a colon at the very end: nothing to embolden after it
        const char *sp = strchr(question + head, ' ');
        size_t vend = sp ? (size_t)(sp - question) : len;
        put(&q, question, head);
        puts_(&q, "**");
        put(&q, question + head, vend - head);
        puts_(&q, "**");
        puts_(&q, question + vend);
        break;
    }
    default: puts_(&q, question);
    }
    puts_(line, "{\"question\":");
    put_json(line, q.p);
    putf(line, ",\"solution\":\"%d\",\"cot_type\":\"math\",\"source_type\":", pr->answer);
    put_json(line, source);
    putf(line, ",\"metadata\":\"{\\\"steps\\\": %d, \\\"modulus\\\": %d}\"", pr->k, o->modulus);
    puts_(line, ",\"thinking_trajectories\":[");
    if (defect == D_API_ERROR) put_json(line, "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}");
    else put_json(line, pr->trace.p);
    puts_(line, "],\"attempt\":");
    if (defect == D_NULL_ATTEMPT) puts_(line, "null");
    else putf(line, "\"Answer: %d\"", stated);
    puts_(line, ",\"domain\":");
    put_json(line, domain_names[pr->domain]);
    int n_mul = 0, n_minmax = 0;
    for (int s = 0; s < pr->k; s++) n_mul += pr->op[s] == OP_MUL, n_minmax += pr->op[s] >= OP_MAX;
    double h = s1c_synth_axes_hardness(pr->k, n_mul, n_minmax, o->probe_structure);
    int weak = s1c_rng_uniform(rng) < probe_p(h, 3.0, 1.0);
    int strong = s1c_rng_uniform(rng) < probe_p(h, 7.0, 1.5);
    putf(line, ",\"isqwen7bcorrect\":%s,\"isqwen32bcorrect\":%s,\"difficulty\":%d}\n", weak ? "true" : "false",
         strong ? "true" : "false", pr->k);
    free(q.p);
}

s1c_status s1c_synth_run(const s1c_synth_opts *o, s1c_synth_stats *stats) {
    memset(stats, 0, sizeof *stats);
    if (!o->out) return s1c_err("synth: --out is required");
    if (o->modulus < 2 || o->modulus > 1000) return s1c_err("synth: --modulus must be in 2..1000, got %d", o->modulus);
    if (o->min_steps < 1 || o->max_steps < o->min_steps || o->max_steps > 100000)
        return s1c_err("synth: steps must satisfy 1 <= min <= max <= 100000 (got %d..%d)", o->min_steps, o->max_steps);
    if (o->heldout > 0 && !o->heldout_out) return s1c_err("synth: --heldout needs --heldout-out FILE");
    if (!(o->slip_rate >= 0 && o->slip_rate <= 1 && o->recheck_rate >= 0 && o->recheck_rate <= 1 &&
          o->again_rate >= 0 && o->again_rate <= 1))
        return s1c_err("synth: slip, re-check and --recheck-again rates must be in [0, 1] (got %g, %g, %g)", o->slip_rate,
                       o->recheck_rate, o->again_rate);
    if (!(o->wrong_rate >= 0 && o->wrong_rate <= 1 && o->probe_structure >= 0 && o->probe_structure <= 1))
        return s1c_err("synth: --wrong and --probe-structure must be in [0, 1] (got %g, %g)", o->wrong_rate,
                       o->probe_structure);
    s1c_rng rng, hrng;
    s1c_rng_seed_stream(&rng, o->seed, 1);
    s1c_rng_seed_stream(&hrng, o->seed, 2);
    problem pr = {0};
    buf line = {0};
    s1c_h128set held = {0};
    char **held_q = NULL;  // [heldout] for deliberate contamination
    s1c_status st = S1C_OK;
    int span = o->max_steps - o->min_steps + 1;

    if (o->heldout > 0) {
        s1c_out *h = s1c_out_open(o->heldout_out);
        if (!h) return S1C_ERR;
        held_q = s1c_xcalloc(o->heldout, sizeof *held_q);
        size_t tries = 0;
        for (size_t i = 0; i < o->heldout && st == S1C_OK;) {
            if (++tries > 100 * o->heldout + 1000) {
                st = s1c_err("synth: cannot find %zu distinct held-out problems with %d..%d steps", o->heldout,
                             o->min_steps, o->max_steps);
                break;
            }
            make_problem(&pr, &hrng, o, (int)(i % N_DOMAINS), o->min_steps + (int)s1c_rng_below(&hrng, (uint64_t)span));
            if (!s1c_h128set_insert(&held, s1c_hash128(pr.question.p, pr.question.n))) continue;
            held_q[i] = s1c_xstrdup(pr.question.p);
            line.n = 0;
            puts_(&line, "{\"problem\":");
            put_json(&line, pr.question.p);
            putf(&line, ",\"answer\":\"%d\",\"domain\":\"%s\",\"steps\":%d}\n", pr.answer, domain_names[pr.domain], pr.k);
            st = s1c_out_write(h, line.p, line.n);
            i++;
        }
        stats->heldout = o->heldout;
        if (st == S1C_OK) st = s1c_out_commit(h);
        else s1c_out_abort(h);
    }

    s1c_out *out = st == S1C_OK ? s1c_out_open(o->out) : NULL;
    if (!out) st = S1C_ERR;
    enum { RING = 64 };
    char *recent[RING] = {0};  // recent questions, sources of exact duplicates
    int recent_domain[RING] = {0};
    size_t n_recent = 0;
    for (size_t i = 0; i < o->n && st == S1C_OK; i++) {
        int domain = s1c_synth_axes_domain(&rng, o->domain_mix);
        int k = o->min_steps + (int)s1c_rng_below(&rng, (uint64_t)span);
        do make_problem(&pr, &rng, o, domain, k);
        while (held.n && s1c_h128set_contains(&held, s1c_hash128(pr.question.p, pr.question.n)));
        double u = s1c_rng_uniform(&rng);
        int defect = D_NONE;
        const char *override = NULL;
        int override_domain = 0;
        if (u < o->defect_rate) {
            defect = 1 + (int)s1c_rng_below(&rng, N_DEFECTS - 1);
            stats->defects++;
        } else if (u < o->defect_rate + o->duplicate_rate && n_recent > 0) {
            size_t j = (size_t)s1c_rng_below(&rng, n_recent < RING ? n_recent : RING);
            override = recent[j];
            override_domain = recent_domain[j];
            stats->duplicates++;
        } else if (o->heldout > 0 && u < o->defect_rate + o->duplicate_rate + o->contaminate_rate) {
            size_t j = (size_t)s1c_rng_below(&rng, o->heldout);
            override = held_q[j];
            override_domain = (int)(j % N_DOMAINS);
            stats->contaminated++;
        }
        if (override) {
            // A copied question brings its own trace and answer so the record stays consistent.
            pr.question.n = 0;
            puts_(&pr.question, override);
            int answer = run_question(override, &pr);
            pr.domain = override_domain;
            S1C_ASSERT(answer >= 0);
        } else {
            free(recent[n_recent % RING]);
            recent[n_recent % RING] = s1c_xstrdup(pr.question.p);
            recent_domain[n_recent % RING] = pr.domain;
            n_recent++;
        }
        // The trace is drawn for every record (one RNG stream whatever the defect); the slip and
        // re-check counts cover the traces that are written.
        write_trace(&pr, &rng, o, defect == D_API_ERROR ? NULL : stats);
        int stated = pr.answer;
        if (o->wrong_rate > 0 && s1c_rng_uniform(&rng) < o->wrong_rate) {
            stated = write_wrong_trace(&pr, &rng);
            stats->wrong++;
        }
        write_record(&line, &pr, o, &rng, defect, stated);
        st = s1c_out_write(out, line.p, line.n);
        stats->bytes += line.n;
        stats->records++;
    }
    if (out) {
        if (st == S1C_OK) st = s1c_out_commit(out);
        else s1c_out_abort(out);
    }
    for (int i = 0; i < RING; i++) free(recent[i]);
    for (size_t i = 0; held_q && i < o->heldout; i++) free(held_q[i]);
    free(held_q);
    s1c_h128set_free(&held);
    problem_free(&pr);
    free(line.p);
    return st;
}

const char *s1c_synth_word(int w, double *share) {
    if (w < 0 || w >= S1C_SYNTH_N_WORDS) return NULL;
    if (share) *share = verify_word_share[w];
    return verify_words[w];
}
