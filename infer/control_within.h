// control_within.h — whether a sample kept to its method's own budget, the paper's Control
// (s1 §4 / Table 3): budget forcing and rejection sampling against --max-thinking (tokens),
// token-conditional control against the N of its prompt ("Think for up to N tokens."),
// step-conditional control against the N steps of its prompt, counted in the thinking text.
#ifndef S1C_INFER_CONTROL_WITHIN_H
#define S1C_INFER_CONTROL_WITHIN_H

#include "eval.h"

// Steps of a thinking text: its pieces between occurrences of `delim` that hold a non-whitespace
// byte ("<|im_start|>8 steps left\n1+2=3\n<|im_start|>7 steps left\n..." with delim
// "<|im_start|>": one per delimiter; "a\nb\n" with "\n": 2). 0 for an empty delim.
int s1c_thinking_steps(const char *think, const char *delim);

// 1 when a sample with `think_tokens` thinking tokens and `think_steps` steps is within budget:
// always [min_thinking, max_thinking] in tokens (max < 0: no cap), and for S1C_CONTROL_TOKEN
// also tokens <= the prompt's N, for S1C_CONTROL_STEP steps <= N (N = control_budget, or
// max_thinking when control_budget < 0, as the prompt says; N < 0: no further limit).
int s1c_control_within(s1c_control ctl, int control_budget, int min_thinking, int max_thinking, int think_tokens,
                       int think_steps);

#endif
