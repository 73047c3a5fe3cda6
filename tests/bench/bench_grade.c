// bench_grade — grading speed on MATH-like generations.
//
// Builds --n generations (default 500) the way s1's model writes them: a long thinking part
// (--kb KB on average, default 16: prose with inline and display math, intermediate results, the
// odd \boxed of a sub-result), the "<|im_start|>answer" delimiter, then an answer ending in
// \boxed{…} or "Final Answer: The final answer is $…$. I hope it is correct.". Gold answers are
// drawn from the kinds of Math-Verify's suite (integers, fractions, radicals, decimals, percents,
// tuples, intervals, unions, sets, ± pairs, matrices, equations, inequalities, text); the
// prediction is an equivalent rewriting half of the time and a near miss otherwise, so every
// grade is known. Times, over all n (one run after a warm-up):
//   eval path:  s1c_extract_answer(generation, delimiter) + s1c_grade  (what `s1c-infer eval` does)
//   whole text: s1c_grade_text(gold, generation) searching the whole generation, thinking included
// and fails (exit 1) when a grade is wrong or, with --max-seconds S, when the eval path takes
// longer. --write FILE saves the pairs as JSONL; --peer PYTHON then times Math-Verify on the same
// file in the same run (tests/bench/bench_grade_mv.py; needs `pip install math-verify`).
//
//   bench_grade [--n 500] [--kb 16] [--seed 1] [--max-seconds S] [--write FILE [--peer PYTHON]]
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grade/grade.h"
#include "s1_format.h"
#include "s1c_rng.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// gold, an equivalent prediction, a wrong one
static const char *const kinds[][3] = {
    {"204", "204", "214"},
    {"\\frac{14}{3}", "\\dfrac{14}{3}", "\\frac{13}{3}"},
    {"3\\sqrt{13}", "\\sqrt{117}", "3\\sqrt{11}"},
    {"\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", "\\frac{\\sqrt{2}}{2}"},
    {"0.0833", "0.0833", "0.0834"},
    {"28\\%", "28", "27\\%"},
    {"(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi)"},
    {"[-2, 7]", "[-2,7]", "(-2, 7]"},
    {"(-\\infty, -3] \\cup [2, \\infty)", "(-\\infty,-3]\\cup[2,\\infty)", "(-\\infty, -3) \\cup [2, \\infty)"},
    {"\\{1, 2, 3\\}", "\\{3, 1, 2\\}", "\\{1, 2, 4\\}"},
    {"-2, 1", "1, -2", "2, -1"},
    {"1 \\pm \\sqrt{19}", "1 + \\sqrt{19}, 1 - \\sqrt{19}", "1 \\pm \\sqrt{17}"},
    {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
     "\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}"},
    {"x^2 + 2x + 1", "(x+1)^2", "(x-1)^2"},
    {"2x + 4y - 3 = 0", "y = -\\frac{1}{2}x + \\frac{3}{4}", "y = \\frac{1}{2}x + \\frac{3}{4}"},
    {"x \\ge 5", "5 \\le x", "x > 5"},
    {"\\text{Evelyn}", "\\text{evelyn}", "\\text{Carla}"},
    {"90^\\circ", "90", "45^\\circ"},
    {"12,000,023", "12000023", "12000032"},
    {"\\frac{7}{2}", "3\\frac{1}{2}", "2\\frac{1}{2}"},
};
enum { N_KINDS = sizeof kinds / sizeof kinds[0] };

typedef struct {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *s) {
    size_t n = strlen(s);
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        if (!t->p) abort();
    }
    memcpy(t->p + t->n, s, n + 1);
    t->n += n;
}

static void putf(text *t, s1c_rng *r, const char *fmt) {  // %d: a random number
    char buf[512], *w = buf;
    for (const char *f = fmt; *f && w < buf + sizeof buf - 24; f++) {
        if (f[0] == '%' && f[1] == 'd') {
            w += snprintf(w, 24, "%d", (int)s1c_rng_below(r, 997) + 2);
            f++;
        } else {
            *w++ = *f;
        }
    }
    *w = '\0';
    put(t, buf);
}

static const char *const prose[] = {
    "Let me think about this carefully. We need the value of $a_{%d}$ where $a_k = 3k + %d$. ",
    "First, note that $%d^2 = %d$ and so $\\sqrt{%d} \\approx %d.4$, which is close. ",
    "Wait, that is not right. Let me recompute: $%d \\times %d = %d$, and adding $%d$ gives $%d$. ",
    "Consider the quadratic \\[ x^2 - %dx + %d = 0, \\] whose discriminant is $\\Delta = %d^2 - 4 \\cdot %d$. ",
    "So the sum is \\(\\frac{%d}{%d} + \\frac{%d}{%d}\\), which simplifies to a fraction with denominator %d. ",
    "Hmm, so for the sub-case we get $\\boxed{%d}$, but that is only part of the answer. ",
    "Alternatively, we can set up the system $x + y = %d$ and $x - y = %d$, so $x = %d$. ",
    "The probability is therefore %d/%d, or about 0.%d, assuming the events are independent. ",
    "Now, the interval where $f(x) > 0$ is $(%d, %d)$, and on $[%d, \\infty)$ the function decreases. ",
    "Let's double check with the matrix $\\begin{pmatrix} %d & %d \\\\ %d & %d \\end{pmatrix}$ whose determinant is %d. ",
    "Therefore about %d%% of the %d students, i.e. %d of them, are in the club.\n\n",
};
enum { N_PROSE = sizeof prose / sizeof prose[0] };

typedef struct {
    char *gold, *gen;
    int expected;
} pair;

static void make(pair *p, s1c_rng *r, size_t target_bytes) {
    text t = {0};
    put(&t, "<|im_start|>think\n");
    while (t.n < target_bytes) putf(&t, r, prose[s1c_rng_below(r, N_PROSE)]);
    put(&t, "\n" S1C_THINK_END "\n");
    int k = (int)s1c_rng_below(r, N_KINDS), right = (int)s1c_rng_below(r, 2);
    const char *ans = kinds[k][right ? 1 : 2];
    putf(&t, r, "Putting the cases together, the computation above gives the result for all %d cases.\n\n");
    switch (s1c_rng_below(r, 3)) {
    case 0:
        put(&t, "Therefore, the answer is $\\boxed{");
        put(&t, ans);
        put(&t, "}$.");
        break;
    case 1:
        put(&t, "Final Answer: The final answer is $");
        put(&t, ans);
        put(&t, "$. I hope it is correct.");
        break;
    default:
        put(&t, "**Final Answer**\n\\[\n\\boxed{");
        put(&t, ans);
        put(&t, "}\n\\]");
        break;
    }
    p->gold = strdup(kinds[k][0]);
    p->gen = t.p;
    p->expected = right;
}

int main(int argc, char **argv) {
    int n = 500, kb = 16;
    uint64_t seed = 1;
    double max_seconds = 0;
    const char *write = NULL, *peer = NULL;
    static const struct option opts[] = {{"n", required_argument, 0, 'n'},           {"kb", required_argument, 0, 'k'},
                                         {"seed", required_argument, 0, 's'},        {"max-seconds", required_argument, 0, 'm'},
                                         {"write", required_argument, 0, 'w'},       {"peer", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},              {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'n': n = atoi(optarg); break;
        case 'k': kb = atoi(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'm': max_seconds = atof(optarg); break;
        case 'w': write = optarg; break;
        case 'p': peer = optarg; break;
        case 'h':
            printf("usage: bench_grade [--n 500] [--kb 16] [--seed 1] [--max-seconds S] [--write FILE [--peer PYTHON]]\n");
            return 0;
        default: return 2;
        }
    }
    if (n < 1 || kb < 1 || (peer && !write)) {
        fprintf(stderr, "bench_grade: --n and --kb must be >= 1; --peer needs --write FILE\n");
        return 2;
    }
    s1c_rng r;
    s1c_rng_seed(&r, seed);
    pair *ps = calloc((size_t)n, sizeof *ps);
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        // Lengths spread from kb/4 to 7kb/4 (mean kb).
        size_t target = (size_t)kb * 1024 / 4 + s1c_rng_below(&r, (uint64_t)kb * 1024 * 3 / 2 + 1);
        make(&ps[i], &r, target);
        bytes += strlen(ps[i].gen);
    }
    int wrong = 0, correct = 0, wrong_text = 0;
    double t_eval = 0, t_text = 0;
    for (int pass = 0; pass < 2; pass++) {  // pass 0 warms caches up
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            char *ans = s1c_extract_answer(ps[i].gen, S1C_THINK_END, S1C_BENCH_MATH);
            int got = s1c_grade(S1C_BENCH_MATH, ps[i].gold, ans);
            if (pass) {
                correct += got;
                if (got != ps[i].expected) {
                    wrong++;
                    fprintf(stderr, "wrong grade %d: gold [%s] extracted [%s] expected %d\n", i, ps[i].gold,
                            ans ? ans : "(none)", ps[i].expected);
                }
            }
            free(ans);
        }
        double t1 = now_s();
        for (int i = 0; i < n; i++) {
            int got = s1c_grade_text(S1C_BENCH_MATH, ps[i].gold, ps[i].gen, NULL, NULL);
            if (pass) wrong_text += got != ps[i].expected;
        }
        double t2 = now_s();
        t_eval = t1 - t0;
        t_text = t2 - t1;
    }
    printf("bench_grade: %d MATH-like generations, %.1f MB (mean %.1f KB), %d correct by construction\n", n,
           (double)bytes / 1e6, (double)bytes / 1024.0 / n, correct);
    printf("s1c eval path (extract after the delimiter + grade): %.3f s  (%.1f us per generation)\n", t_eval,
           1e6 * t_eval / n);
    printf("s1c whole text (s1c_grade_text, thinking included):  %.3f s  (%.1f us per generation)\n", t_text,
           1e6 * t_text / n);
    printf("grades wrong: %d (eval path), %d (whole text)\n", wrong, wrong_text);
    int rc = wrong ? 1 : 0;
    if (max_seconds > 0 && t_eval > max_seconds) {
        printf("FAIL: the eval path took %.3f s, more than --max-seconds %.3f\n", t_eval, max_seconds);
        rc = 1;
    }
    if (write) {
        FILE *fp = fopen(write, "w");
        if (!fp) {
            perror(write);
            return 1;
        }
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "gold", ps[i].gold);
            cJSON_AddStringToObject(o, "prediction", ps[i].gen);
            cJSON_AddBoolToObject(o, "expected", ps[i].expected);
            char *js = cJSON_PrintUnformatted(o);
            fprintf(fp, "%s\n", js);
            free(js);
            cJSON_Delete(o);
        }
        if (fclose(fp) != 0) {
            perror(write);
            return 1;
        }
        if (peer) {
            char cmd[4096];
            snprintf(cmd, sizeof cmd, "'%s' '%s/tests/bench/bench_grade_mv.py' '%s' '%s'", peer, S1C_SOURCE_DIR, write,
                     S1C_THINK_END);
            fflush(stdout);
            if (system(cmd) != 0) rc = 1;
        }
    }
    for (int i = 0; i < n; i++) {
        free(ps[i].gold);
        free(ps[i].gen);
    }
    free(ps);
    return rc;
}
