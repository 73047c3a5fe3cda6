// grade.h — grading an extracted answer against the gold answer.
//
//   aime: integers (leading zeros, thousands commas, "\boxed{033}", "33.0" all read as 33)
//   gpqa: the letter
//   math: a tiered checker
//     1. normalised strings equal (the usual MATH normalisation, see s1c_math_normalize);
//     2. numeric equality within a relative tolerance of 1e-6 (fractions, decimals, percentages,
//        \sqrt, \pi, powers, implicit products; single-letter variables are evaluated at three
//        fixed points so "x/7+2/7" equals "\frac{x+2}{7}");
//     3. structure: tuples / intervals (brackets must agree), \{sets\} (any order), unions,
//        matrices, comma lists (in order, as Hendrycks' checker) — element by element with 1–2.
#ifndef S1C_INFER_GRADE_H
#define S1C_INFER_GRADE_H

#include "bench_load.h"
#include "extract.h"

// 1 correct, 0 not. pred == NULL (unextractable) is never correct.
int s1c_grade(s1c_bench_format fmt, const char *gold, const char *pred);
int s1c_math_equiv(const char *gold, const char *pred);

// MATH normalisation (malloc'ed result). *percent is set when a % sign / "percent" was removed.
char *s1c_math_normalize(const char *s, int *percent);
// Numeric value of a normalised expression; sample k (0..2) picks the values of variables.
// Returns 0 when the text is not an expression this evaluator understands.
int s1c_math_eval(const char *norm, int sample, double *value, int *has_vars);

// Grader self-test over the built-in table; prints failures to stderr, returns the count.
int s1c_grade_selftest(int verbose);

#endif
