// grade_cases.c — the grader's regression table (s1c-infer --selftest, ctest infer_grade).
// Mode 'a': the prediction is an extracted answer (s1c_grade); 'g': a whole generation read by
// s1c_extract_answer first (the answer part follows "<|im_start|>answer" when present).
// The (gold, prediction, verdict) data come from public grader suites — Hendrycks' MATH
// equivalence tests, Math-Verify's tests (all of those also run as tests/fixtures/grade/) — and
// from failures seen in s1c's own evaluations (issue 12), one block per failure class.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade.h"

typedef struct {
    s1c_bench_format fmt;
    char mode;
    const char *gold, *pred;
    int expected;
} grade_case;

#define M S1C_BENCH_MATH
#define A S1C_BENCH_AIME
#define G S1C_BENCH_GPQA

static const grade_case cases[] = {
    // Hendrycks MATH math_equivalence_test.py (lists are sets here, as in s1's judge and Math-Verify).
    {M, 'a', "\\tfrac{1}{2} + \\frac1{72}", "\\\\frac{1}{2} + 2/3", 0},
    {M, 'a', "10, 4, -2", "4, 10, -2", 1},
    {M, 'a', "10, 4, 2", "4, 12, 2", 0},
    {M, 'a', "\\tfrac{1}{2} +\\! \\frac1{72}", "\\\\dfrac{1}{2} +\\frac{1}{72}", 1},
    {M, 'a', "10\\text{ units}", "10 ", 1},
    {M, 'a', "10\\text{ units}", "100 ", 0},
    {M, 'a', "10", "\\$10", 1},
    {M, 'a', "\\left(x-2\\right)\\left(x+2\\right)", "(x-2)(x+2)", 1},
    {M, 'a', "0.1, 4, 2", "4, .1, 2", 1},
    {M, 'a', "0.1", ".1", 1},
    {M, 'a', "10\\%", "10", 1},
    {M, 'a', "10\\sqrt{3} + \\sqrt4", "10\\sqrt3 + \\sqrt{4}", 1},
    {M, 'a', "\\frac34i", "\\frac{3}{4}i", 1},
    {M, 'a', "\\tfrac83", "\\frac{8}{3}", 1},
    {M, 'a', "5x - 7y + 11z + 4 = 0", "x + y - z + 2 = 0", 0},
    {M, 'a', "1/2", "\\frac{1}{2}", 1},
    // Math-Verify tests (a sample; the whole suite is tests/fixtures/grade/math_verify_cases.jsonl).
    {M, 'a', "7425000", "7,425,000", 1},
    {M, 'a', "1000", "1000.0", 1},
    {M, 'a', "1000.99", "\\$1,000.99", 1},
    {M, 'a', "-10/9", "-\\frac{10}{9}", 1},
    {M, 'a', "[0,9)", "[0,1)", 0},
    {M, 'a', "(0,9)", "[0,9)", 0},
    {M, 'a', "1", "\\frac3{3}", 1},
    {M, 'a', "1/3", "k = \\frac{1}{3}", 1},
    {M, 'a', "28\\%", "28 pct", 1},
    {M, 'a', "0.28", "28", 0},
    {M, 'a', "x >= 5", "5 \\leq x", 1},
    {M, 'a', "x > 5", "x < 5", 0},
    {M, 'a', "x < 1", "-x > -1", 1},
    {M, 'a', "x = 11", "x = 5+5+1 = 7 =11", 1},
    {M, 'a', "7 = 11a+c", "11a+c", 0},
    {M, 'a', "a +3z = 0", "0", 0},
    {M, 'a', "2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", 1},
    {M, 'a', "34x+45y-20z+100=0", "-34x-45y+20z-100=0", 1},
    {M, 'a', "\\frac{1}{12}", "0.0833333333333333", 1},
    {M, 'a', "\\frac{1}{3}", "0.333", 0},
    {M, 'a', "\\tan^2(y)+1", "\\sec^2(y)", 1},
    {M, 'a', "(a+5)(b+2)", "(+5)(b+2)", 0},
    {M, 'a', "4", "4\\sqrt{2}", 0},
    {M, 'a', "x+2n+1", "x+1", 0},
    {M, 'a', "12:00", "1:00", 0},
    {M, 'g', "(3, \\frac{\\pi}{2})", "the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", 1},
    {M, 'g', "14{,}916", "Therefore, $\\boxed{14{,}916}$ is our answer.", 1},
    {M, 'g', "[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)",
     "The solution set is $\\boxed{[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)}.$", 1},
    {M, 'g', "15\\mbox{ cm}^2", "the area is $$\\frac{1}{2}\\times 3 \\times 10 = \\boxed{15\\mbox{ cm}^2}.$$", 1},
    {M, 'g', "42", "<|im_start|>think\nmaybe 7\n<|im_start|>answer\nFinal Answer: The final answer is $42$. I hope it is correct.", 1},
    {M, 'g', "\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}",
     "The sum is $\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}$", 1},
    // Labelled answers: "(p,q)=(3,2)" is the pair.
    {M, 'a', "(3,2)", "(p,q)=(3,2)", 1},
    {M, 'a', "(p,q)=(3,2)", "(3,2)", 1},
    {M, 'g', "(3,2)", "<|im_start|>answer\nSo the answer is $(p,q)=(3,2)$.", 1},
    {M, 'a', "(3,2)", "(p,q)=(2,3)", 0},
    // Several boxes: one answer when they are listed together, the last one otherwise.
    {M, 'g', "1, 2, 3", "so \\boxed{1} and \\boxed{2} and \\boxed{3}", 1},
    {M, 'g', "-2, 1", "are: \\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]", 1},
    {M, 'g', "2", "first \\boxed{1} no no no no no \\boxed{2}", 1},
    {M, 'g', "1, 2", "first \\boxed{1} no no no no no \\boxed{2}", 0},
    {M, 'g', "12", "\\fbox{12} and later \\boxed{13", 1},  // a truncated box does not count
    // Lists in any order.
    {M, 'a', "-2, 1", "1, -2", 1},
    {M, 'a', "-2, 1", "1, 2", 0},
    {M, 'a', "(1,2), (3,4)", "(3,4), (1,2)", 1},
    {M, 'a', "(1,2), (3,4)", "(2,1), (3,4)", 0},
    // Relations against intervals (the gold describes the set; a relation prediction needs --set-relation).
    {M, 'a', "-2 \\le x \\le 7", "[-2, 7]", 1},
    {M, 'a', "-2 \\le x \\le 7", "x \\in [-2,7]", 1},
    {M, 'a', "x > 5", "(5, \\infty)", 1},
    {M, 'a', "x < 3", "(-\\infty, 3]", 0},
    {M, 'a', "1 \\le |z| \\le 2", "[-2,-1] \\cup [1,2]", 1},
    {M, 'a', "[-2, 7]", "-2 \\le x \\le 7", 0},
    // The answer line: the value after "is", not the first math span.
    {M, 'g', "34", "Final Answer: The largest $n$ is 34.", 1},
    {M, 'g', "7.78", "Final Answer: The final answer is 7.78.", 1},
    // No last-digit fallback inside a number or a fraction.
    {M, 'g', "\\frac{10}{9}", "so the ratio is $\\frac{10}{9}$", 1},
    {M, 'g', "0.4", "the probability is .4", 1},
    {M, 'g', "1000", "the total is 1 000", 1},
    {M, 'g', "2", "so x is $\\frac{1+\\sqrt{5}}{2}$", 0},
    {M, 'g', "2", "AZYUK2A", 0},
    // Matrices, also with a space after the row break.
    {M, 'a', "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", 1},
    {M, 'a', "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix}", 0},
    {M, 'a', "\\begin{bmatrix}0 & 0 \\\\0 & 0\\end{bmatrix}", "\\begin{pmatrix}0 & 0 \\\\ 0 & 0\\end{pmatrix}", 1},
    // Decimal commas in plain text.
    {M, 'g', "2.74", "Soucis : 2,74 $ a..", 1},
    {M, 'g', "1000.99", "The answer is 1000,99.", 1},
    {M, 'g', "0.111", "so we get 0,111", 1},
    // ± is the set of both values.
    {M, 'a', "1 \\pm \\sqrt{19}", "\\{1+\\sqrt{19}, 1-\\sqrt{19}\\}", 1},
    {M, 'a', "\\pm 2021", "2021", 0},
    {M, 'a', "\\frac{-1 \\pm \\sqrt{13}}{4}", "\\frac{-1 - \\sqrt{13}}{4}, \\frac{-1 + \\sqrt{13}}{4}", 1},
    // Mixed numbers.
    {M, 'a', "3\\frac{1}{2}", "\\frac{7}{2}", 1},
    {M, 'a', "7/2", "3 \\frac12", 1},
    {M, 'a', "3\\frac{1}{2}", "\\frac{3}{2}", 0},
    // Repeating decimals; \overline over letters is a name.
    {M, 'a', "\\frac{1}{3}", "0.\\overline{3}", 1},
    {M, 'a', "\\frac{1}{6}", "0.1\\overline{6}", 1},
    {M, 'a', "\\frac{1}{3}", "0.\\overline{6}", 0},
    {M, 'a', "\\overline{AB}", "\\overline{AB}", 1},
    // Text answers, case-insensitive.
    {M, 'a', "\\text{east}", "East", 1},
    {M, 'a', "\\text{Evelyn}", "\\textbf{evelyn}", 1},
    {M, 'a', "\\text{east}", "West", 0},
    {M, 'a', "\\text{(C)}", "C", 1},
    // Escaped dollars are money, not math delimiters.
    {M, 'g', "5", "It costs \\$5.", 1},
    {M, 'g', "12.50", "Together they pay \\$12.50 in total.", 1},
    // Own cases: tolerance edges, structure, hostile input.
    {M, 'a', "\\{1,2,3\\}", "\\{3,1,2\\}", 1},
    {M, 'a', "\\{1,2,3\\}", "\\{3,1,4\\}", 0},
    {M, 'a', "(1,2)", "[1,2]", 0},
    {M, 'a', "2\\pi", "6.283185307", 1},
    {M, 'a', "\\pi", "3.14", 0},
    {M, 'a', "\\text{Evelyn}", "\\text{Evelny}", 0},
    {M, 'a', "\\sqrt[3]{27}", "3", 1},
    {M, 'a', "\\dfrac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", 1},
    {M, 'a', "5", "((((((((((((((((((((((((((((((5", 0},
    {M, 'a', "5", "", 0},
    {M, 'a', "\\frac{1}{0}", "\\frac{2}{0}", 0},
    {M, 'g', "5", "no answer here at all", 0},
    // AIME: integers with leading zeros, commas, boxed, decimals.
    {A, 'g', "33", "so the answer is \\boxed{033}", 1},
    {A, 'g', "33", "Final Answer: 33.", 1},
    {A, 'g', "1000", "Answer: 1,000", 1},
    {A, 'g', "33", "the sum is 12, so 33", 1},
    {A, 'g', "33", "\\boxed{34}", 0},
    {A, 'a', "33", "33.0", 1},
    {A, 'a', "33", "33.5", 0},
    {A, 'g', "33", "nothing", 0},
    // GPQA: letters; no default letter when nothing is extractable.
    {G, 'g', "B", "Answer: (B)", 1},
    {G, 'g', "B", "The answer is \\boxed{B}", 1},
    {G, 'g', "C", "<|im_start|>answer\nFinal Answer: C. 42 m/s", 1},
    {G, 'g', "C", "<|im_start|>answer\nFinal Answer: (D) 42 m/s", 0},
    {G, 'g', "A", "I have no idea what this is about", 0},
    {G, 'g', "A", "A ball is thrown; ... so the choice is (A)", 1},
    {G, 'g', "B", "The answer is B. A quick check shows that A is wrong.", 1},
    {G, 'g', "C", "answer: c", 1},
    {G, 'g', "A", "the answer is a bit unclear, I pick B", 0},
    {G, 'g', "D", "\\boxed{\\text{(D)}}", 1},
};

static const char *fmt_name(s1c_bench_format f) { return f == S1C_BENCH_AIME ? "aime" : f == S1C_BENCH_GPQA ? "gpqa" : "math"; }

int s1c_grade_selftest(int verbose) {
    int fails = 0, n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        const grade_case *c = &cases[i];
        char *pred = c->mode == 'g' ? s1c_extract_answer(c->pred, "<|im_start|>answer", c->fmt) : strdup(c->pred);
        int got = s1c_grade(c->fmt, c->gold, pred);
        if (got != c->expected) {
            fails++;
            fprintf(stderr, "grader selftest case %d FAILED: format=%s gold=[%s] pred=[%s] extracted=[%s] expected %d got %d\n",
                    i, fmt_name(c->fmt), c->gold, c->pred, pred ? pred : "(none)", c->expected, got);
        } else if (verbose) {
            fprintf(stderr, "ok %d: [%s] vs [%s]\n", i, c->gold, pred ? pred : "(none)");
        }
        free(pred);
    }
    fprintf(stderr, "grader selftest: %d/%d cases pass\n", n - fails, n);
    return fails;
}
