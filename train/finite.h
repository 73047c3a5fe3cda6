// finite.h — non-finite values found and named (issue 13 §2): a NaN or Inf in loaded weights or
// optimizer state is refused with the tensor and element, never trained on or written.
#ifndef S1C_FINITE_H
#define S1C_FINITE_H

#include <stddef.h>

#include "qwen2.h"

// Index of the first non-finite value of x[n], or n when all are finite.
size_t s1c_first_nonfinite(const float *x, size_t n);

// Describes element `idx` of unit u's flat buffer as "tensor NAME element K [row R, column C]"
// into out[cap] (padding past the unit's tensors: "padding element K").
void s1c_describe_element(const s1c_qwen2_layout *lay, int u, size_t idx, char *out, size_t cap);

#endif
