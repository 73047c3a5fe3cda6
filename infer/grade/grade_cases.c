// grade_cases.c — the grader's self-test table. The (gold, prediction, expected) triples are data
// collected from public grader test suites — Hendrycks' MATH equivalence tests and Hugging Face
// Math-Verify's tests — plus AIME / GPQA / extraction cases of our own. Mode 'a': the prediction
// is an extracted answer; 'g': a whole generation that goes through s1c_extract_answer first.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
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
    // Hendrycks MATH math_equivalence_test.py
    {M, 'a', "\\tfrac{1}{2} + \\frac1{72}", "\\\\frac{1}{2} + 2/3", 0},
    {M, 'a', "10, 4, -2", "4, 10, -2", 0},
    {M, 'a', "10, 4, 2", "4, 12, 2", 0},
    {M, 'a', "\\tfrac{1}{2} +\\! \\frac1{72}", "\\\\dfrac{1}{2} +\\frac{1}{72}", 1},
    {M, 'a', "10\\text{ units}", "10 ", 1},
    {M, 'a', "10\\text{ units}", "100 ", 0},
    {M, 'a', "10", "\\$10", 1},
    {M, 'a', "\\left(x-2\\right)\\left(x+2\\right)", "(x-2)(x+2)", 1},
    {M, 'a', "0.1, 4, 2", "4, .1, 2", 0},
    {M, 'a', "0.1", ".1", 1},
    {M, 'a', "10\\%", "10", 1},
    {M, 'a', "10\\sqrt{3} + \\sqrt4", "10\\sqrt3 + \\sqrt{4}", 1},
    {M, 'a', "\\frac34i", "\\frac{3}{4}i", 1},
    {M, 'a', "\\tfrac83", "\\frac{8}{3}", 1},
    {M, 'a', "5x - 7y + 11z + 4 = 0", "x + y - z + 2 = 0", 0},
    {M, 'a', "1/2", "\\frac{1}{2}", 1},
    // Math-Verify tests (number, latex, set, relation, matrix sections)
    {M, 'a', "-5", "-5", 1},
    {M, 'a', "7425000", "7,425,000", 1},
    {M, 'a', "1000", "1 000", 1},
    {M, 'a', "1000", "1000.0", 1},
    {M, 'a', "1000.0", "1,000.0", 1},
    {M, 'a', "0.4", ".4", 1},
    {M, 'a', "1000.99", "1,000.99", 1},
    {M, 'a', "1000.99", "$1,000.99", 1},
    {M, 'a', "10/9", "\\frac{10}{9}", 1},
    {M, 'a', "-10/9", "-\\frac{10}{9}", 1},
    {M, 'a', "$[0,1)$", "$[0,1)$", 1},
    {M, 'a', "$[0,9)$", "$[0,1)$", 0},
    {M, 'a', "$(0,9)$", "$[0,9)$", 0},
    {M, 'a', "$1$", "$-[0,1)$", 0},
    {M, 'a', "$1/3$", "$\\frac13 $", 1},
    {M, 'a', "$1$", "$\\frac3{3} $", 1},
    {M, 'a', "$\\sqrt{3}$", "$\\sqrt3 $", 1},
    {M, 'a', "$1/3$", "$\\cfrac{1}{3} $", 1},
    {M, 'a', "$1/3$", "$\\dfrac{1}{3} $", 1},
    {M, 'a', "$1/3$", "$\\tfrac{1}{3} $", 1},
    {M, 'a', "$1/3$", "$ 1/3 $", 1},
    {M, 'a', "$1/3$", "$\\left( \\frac{1}{3} \\right)$", 1},
    {M, 'a', "$1/3$", "$\\boxed{\\frac{1}{3}}$", 1},
    {M, 'a', "$1/3$", "$\\frac{1}{3} \\text{meters}$", 1},
    {M, 'a', "$1/3$", "$\\frac{1}{3} \\textbf{meters}$", 1},
    {M, 'a', "$1/3$", "$k = \\frac{1}{3}$", 1},
    {M, 'a', "$28\\%$", "28 percent", 1},
    {M, 'a', "$28\\%$", "28 pct", 1},
    {M, 'a', "$28\\%$", "28 %", 1},
    {M, 'g', "$2-2p$", "If $2-x=p$, then $x=2-p$. Thus $x-p=\\boxed{2-2p}$.", 1},
    {M, 'g', "$28\\%$", "making for a total loss of $\\boxed{28\\%}$.", 1},
    {M, 'g', "14{,}916", "Therefore, $\\boxed{14{,}916}$ is our answer.", 1},
    {M, 'g', "$(3, \\frac{\\pi}{2})$", "the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$", 1},
    {M, 'g', "$\\frac{14}{3}$", "=2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}$", 1},
    {M, 'g', "$\\text{Evelyn}$", "Therefore, $\\boxed{\\text{Evelyn}}$ is our answer.", 1},
    {M, 'g', "$90^\\circ$", "Hence, the angle between the lines is $\\boxed{90^\\circ}.$", 1},
    {M, 'g', "$3\\sqrt{13}$", "= \\sqrt{117} = \\boxed{3\\sqrt{13}}. \\end{align*}", 1},
    {M, 'g', "$15\\mbox{ cm}^2$", "= \\boxed{15\\mbox{ cm}^2}.$$", 1},
    {M, 'g', "$-2,1$", "we find that the only integer roots are $\\boxed{-2,1}.$", 1},
    {M, 'g', "$204_5$", "for a quotient of $\\boxed{204_5}$. Note that", 1},
    {M, 'g', "$(6,31,-1)$", "we find $(p,q,r) = \\boxed{(6,31,-1)}.$", 1},
    {M, 'g', "$1 \\pm \\sqrt{19}$", "By the quadratic formula, $x = \\boxed{1 \\pm \\sqrt{19}}.$", 1},
    {M, 'g', "$\\{1\\pm\\sqrt{5},-2\\}$", "so the answer is $\\boxed{\\{1\\pm\\sqrt{5},-2\\}}.$", 1},
    {M, 'g', "$f(2) < f(1) < f(4)$", "Hence, $\\boxed{f(2) < f(1) < f(4)}.$", 1},
    {M, 'g', "$2 \\sin b \\cos a$", "\\sin (a + b) - \\sin (a - b) = \\boxed{2 \\sin b \\cos a}.\\]", 1},
    {M, 'g', "$125$ miles", "The distance is $\\boxed{125\\textnormal{ miles}}.$", 1},
    {M, 'g', "$[-1, -\\frac{1}{2}) \\cup (-\\frac{1}{2}, 0) \\cup (0, 1) \\cup (1, \\infty)$",
     "The solution set is $\\boxed{[-1, -\\tfrac12) \\cup (-\\tfrac12, 0) \\cup (0, 1) \\cup (1, \\infty)}.$", 1},
    {M, 'g', "$\\sqrt{2}+\\sqrt{5}$", "The answer is $\\boxed{\\sqrt 2+\\sqrt 5}$", 1},
    {M, 'g', "$\\frac{9}{4}\\pi$", "Therefore $\\boxed{\\frac94\\pi}$.", 1},
    {M, 'a', "$x >= 5$", "$x \\geq 5$", 1},
    {M, 'a', "$x < 3$", "$x \\lt 3$", 1},
    {M, 'a', "$x \\leq 2$", "$x <= 2$", 1},
    {M, 'a', "$x > 5$", "$x < 5$", 0},
    {M, 'a', "$x \\geq 5$", "$x \\leq 5$", 0},
    {M, 'a', "$x \\neq 5$", "$x != 5$", 1},
    {M, 'a', "$x \\leq 5$", "$5 \\geq x$", 1},
    {M, 'a', "$x = 11$", "$x = 5+5+1 = 7 =11$", 1},
    {M, 'a', "$7 = 11a+c$", "$11a+c$", 0},
    {M, 'a', "$11$", "$x=11$", 1},
    {M, 'a', "$11$", "$x\\approx11$", 1},
    {M, 'a', "$x < 1$", "$x > -1$", 0},
    {M, 'a', "$a +3z = 0$", "$0$", 0},
    {M, 'a', "$2x + z = 1$", "$1$", 0},
    {M, 'a', "$k=1$", "$1$", 1},
    {M, 'a', "$1$", "$k=1$", 1},
    {M, 'a', "$\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}$", "$ \\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix} $", 1},
    {M, 'a', "$\\begin{bmatrix}0 & 0 \\\\0 & 0\\end{bmatrix}$", "$ \\begin{pmatrix}0 & 0 \\\\0 & 0\\end{pmatrix} $", 1},
    {M, 'a', "$\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}$", "$\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}$", 0},
    {M, 'a', "$\\begin{pmatrix}\\frac{1}{2} & \\frac{3}{4} \\\\ \\frac{5}{6} & \\frac{7}{8}\\end{pmatrix}$",
     "$\\begin{pmatrix}0.5 & \\frac{3}{4} \\\\ \\frac{5}{6} & 0.875\\end{pmatrix}$", 1},
    {M, 'a', "$\\frac{1}{12}$", "$0.0833333333333333$", 1},
    {M, 'a', "$(1,\\frac{9}{2})$", "$(1,4.5)$", 1},
    {M, 'a', "$\\frac{x+2}{7}$", "$\\frac{x}{7}+\\frac{2}{7}$", 1},
    {M, 'a', "$\\tan^2(y)+1$", "$\\sec^2(y)$", 1},
    {M, 'a', "$34x+45y-20z+100=0$", "$-34x-45y+20z-100=0$", 1},
    // Own cases: tolerance edges, structure, text answers, hostile input.
    {M, 'a', "\\frac{1}{3}", "0.333", 0},
    {M, 'a', "\\{1,2,3\\}", "\\{3,1,2\\}", 1},
    {M, 'a', "\\{1,2,3\\}", "\\{3,1,4\\}", 0},
    {M, 'a', "(1,2)", "[1,2]", 0},
    {M, 'a', "2\\pi", "6.283185307", 1},
    {M, 'a', "\\pi", "3.14", 0},
    {M, 'a', "\\text{Evelyn}", "\\text{Evelny}", 0},
    {M, 'a', "\\sqrt[3]{27}", "3", 1},
    {M, 'a', "\\dfrac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}", 1},
    {M, 'a', "(-\\infty, 3]", "(-\\infty,3]", 1},
    {M, 'a', "5", "((((((((((((((((((((((((((((((5", 0},
    {M, 'a', "5", "", 0},
    {M, 'g', "5", "no answer here at all", 0},
    {M, 'g', "42", "<|im_start|>think\nmaybe 7\n<|im_start|>answer\nFinal Answer: The final answer is $42$. I hope it is correct.", 1},
    {M, 'g', "\\frac{1}{2}", "x \\boxed{\\frac{1}{2} then later \\boxed{\\frac{1}{2}}", 1},
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
};

int s1c_grade_selftest(int verbose) {
    int fails = 0, n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        const grade_case *c = &cases[i];
        char *pred = c->mode == 'g' ? s1c_extract_answer(c->pred, "<|im_start|>answer", c->fmt) : strdup(c->pred);
        int got = s1c_grade(c->fmt, c->gold, pred);
        if (got != c->expected) {
            fails++;
            fprintf(stderr, "grader selftest case %d FAILED: format=%s gold=[%s] pred=[%s] extracted=[%s] expected %d got %d\n",
                    i, c->fmt == S1C_BENCH_AIME ? "aime" : c->fmt == S1C_BENCH_GPQA ? "gpqa" : "math", c->gold, c->pred, pred ? pred : "(none)", c->expected, got);
        } else if (verbose) {
            fprintf(stderr, "ok %d: [%s] vs [%s]\n", i, c->gold, pred ? pred : "(none)");
        }
        free(pred);
    }
    fprintf(stderr, "grader selftest: %d/%d cases pass\n", n - fails, n);
    return fails;
}
