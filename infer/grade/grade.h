// grade.h — answer extraction and grading, the one public header of infer/grade/.
//
// A generation is read the way Math-Verify reads one (its test suite is a ctest over
// tests/fixtures/grade/, see docs/grading.md), in C: candidates are found in tiers, and inside a
// tier the one ending last that parses wins:
//   0. \boxed{…} / \fbox{…} — the last one, merged with the boxes before it that are separated by
//      "and" / "or" / "," / ";" (several boxed answers are one answer: a set), and a math span
//      ($…$, \(…\), \[…\], $$…$$) holding boxes; also "final answer is X. I hope";
//   1. "final answer … is X";  2. "answer: … X";  3. "answer … X";
//   4. any math span, or a plain number / arithmetic expression in the text.
// X is a math span (chains "X and Y", "X, Y" are one answer) or a plain number ("1,000.5",
// "2,74", "1 000", ".4", "28 percent", "$5"). Search runs on the text after the last
// end-of-thinking delimiter when there is one. GPQA reads a choice letter instead (boxed, after
// "answer", "(B)", a line starting with it, then a lone capital letter), never a default letter.
//
// Grading compares values, not strings (no Python, no sympy): numbers and expressions
// numerically (variables at three sample points, floats after rounding to `float_digits`
// decimals, percentages both as p and p/100), sets in any order, tuples and intervals in order
// with their brackets, unions, matrices cell by cell (sums and products of matrices evaluated),
// relations up to a constant factor or mirrored, "x = 5" against 5, an inequality in one
// variable against the interval it describes, a ± b as the set {a+b, a−b}, text
// case-insensitively. AIME answers must be the same integer; GPQA the same letter.
#ifndef S1C_INFER_GRADE_GRADE_H
#define S1C_INFER_GRADE_GRADE_H

#include "bench_load.h"

enum {
    S1C_GRADE_LATEX = 1,  // extraction may read math spans and \boxed
    S1C_GRADE_EXPR = 2,   // extraction may read plain-text numbers and expressions
};

typedef struct {
    int float_digits;   // decimals two numbers must agree to when either is written as a float (6)
    int targets;        // S1C_GRADE_LATEX | S1C_GRADE_EXPR (both)
    int strict;         // 1: variable names matter; 0: variables match by order of appearance (1)
    int set_relation;   // 1: a gold set also matches a relation prediction (x∈[a,b] vs a≤x≤b) (0)
    const char *letters;  // GPQA: the choice letters ("ABCD")
} s1c_grade_opts;

void s1c_grade_opts_default(s1c_grade_opts *o);

// The answer a generation commits to (malloc'ed), or NULL when nothing extractable: the
// sample is then marked unextractable, never given a default. `delim` may be NULL (search the
// whole text). MATH/AIME: the LaTeX or number text of the winning candidate; GPQA: one letter.
char *s1c_extract_answer(const char *generation, const char *delim, s1c_bench_format fmt);

// 1 correct, 0 not: `pred` is an extracted answer (s1c_extract_answer's result), `gold` the
// benchmark's answer text. pred == NULL (unextractable) is never correct.
int s1c_grade(s1c_bench_format fmt, const char *gold, const char *pred);

// Grades free text: `gold` and `prediction` may each be a bare answer ("\frac{1}{2}", "B") or a
// whole generation / solution (read as above). `o` may be NULL (defaults). When `extracted` is
// not NULL it receives what was read from the prediction (malloc'ed; NULL when nothing).
int s1c_grade_text(s1c_bench_format fmt, const char *gold, const char *prediction, const s1c_grade_opts *o,
                   char **extracted);

// Grader self-test over the built-in regression table; prints failures to stderr, returns the count.
int s1c_grade_selftest(int verbose);

#endif
