// control_data.h — training data for the paper's conditional length-control models (s1 §5.1,
// Table 3; the formats of its Figure 10): each a transform of an s1-schema record, so the
// token- and step-conditional models are SFT'd on the same curated traces as s1.
//
//   token-conditional (TCC): the question gets "\n\nThink for up to N tokens.", N = the trace's
//       thinking tokens rounded up to a power of two (the bucketing of Figure 10);
//   step-conditional (SCC): the question gets "\n\nThink for up to N steps.", N = the trace's
//       steps rounded up to a power of two, and every step opens with the counting-down
//       delimiter "<|im_start|>K steps left\n", K = N, N-1, ...: the model sees how many steps
//       it has left, and the trace ends (the answer delimiter) before K reaches 0.
// The prompt strings are those of the s1 evaluation harness (simplescaling/lm-evaluation-harness,
// the PROMPTTOKEN / PROMPTSTEP query templates: "{Question}\n\nThink for up to N tokens."), which
// `s1c-infer eval --control token|step` writes too (infer/eval.c, control_extra).
#ifndef S1C_DATA_CONTROL_DATA_H
#define S1C_DATA_CONTROL_DATA_H

#include <stddef.h>

#include "s1c_err.h"

// Class-conditional control: the s1 harness's two generic instructions (PROMPTSHORT / PROMPTLONG),
// appended after a blank line like the others; `s1c-data control --mode class` gives a trace the
// long one when its thinking tokens are above the input's median, else the short one.
#define S1C_CTL_CLASS_SHORT "Answer after a short amount of thinking. Do not spend excessive time double-checking your work."
#define S1C_CTL_CLASS_LONG                                                                                           \
    "Answer after a long amount of thinking. If you feel like you are finished early, spend the extra time trying " \
    "to double-check your work until you are absolutely sure that you have the correct answer."
// question + "\n\n" + the class instruction (caller frees).
char *s1c_ctl_class_question(const char *question, int is_long);

// Smallest power of two >= n; 1 for n <= 1. n above 2^62: 2^62 (no overflow).
long s1c_ctl_pow2_ceil(long n);

// question + "\n\nThink for up to N tokens." / "... N steps." (caller frees).
char *s1c_ctl_token_question(const char *question, long n);
char *s1c_ctl_step_question(const char *question, long n);

// Steps of a trace: its pieces between occurrences of `sep` that hold a non-whitespace byte
// (so "a\n\nb\n" with sep "\n" has 2). sep must be non-empty.
int s1c_ctl_count_steps(const char *trace, const char *sep);

// The SCC trace: each step of `trace` (split by `sep`, whitespace-only pieces dropped, each
// step's text kept as written) preceded by "<|im_start|>K steps left\n", K counting down from
// `budget`; steps joined by "\n". Fails when budget < the trace's steps (the countdown would pass
// 0) or the trace has no step. *out: caller frees.
s1c_status s1c_ctl_step_trace(const char *trace, const char *sep, long budget, char **out);

// The step delimiter's fixed part: the model's thinking is counted in steps by splitting on it
// (infer: --step-delim "<|im_start|>").
#define S1C_CTL_STEP_OPEN "<|im_start|>"
#define S1C_CTL_STEP_LEFT " steps left\n"

#endif
