// extract.h — the answer a generation commits to.
//
// Order (all searches run on the text after the last end-of-thinking delimiter when present, so
// numbers and letters inside the thinking never count):
//   1. the last brace-balanced \boxed{…} or \fbox{…} (also "\boxed 5");
//   2. else the rest of the line after the last "Final Answer:" / "Answer:" (a $…$ span in it
//      wins; "The final answer is" is dropped);
//   3. else the last number (aime, math) or the last choice letter (gpqa).
// GPQA results are reduced to one letter A–D. Nothing found → NULL: the sample is marked
// unextractable, never given a default letter.
#ifndef S1C_INFER_EXTRACT_H
#define S1C_INFER_EXTRACT_H

#include "bench_load.h"

// Returns a malloc'ed answer or NULL. `delim` may be NULL (search the whole text).
char *s1c_extract_answer(const char *generation, const char *delim, s1c_bench_format fmt);
// The content of the last balanced \boxed{…} / \fbox{…} in text, or NULL.
char *s1c_last_boxed(const char *text);

#endif
