// prompts.h — the prompts file of `s1c-infer generate --prompts FILE`: one prompt per line, either
// plain text or a JSON object with a "prompt" (or "question" / "problem" / "Question" / "Problem")
// string. Blank lines are skipped; a trailing '\r' is dropped. Errors name the file and the line
// (counted over every line, blank ones included): a JSON line that is not exactly one object with
// such a string, text that is not UTF-8, a NUL byte, or a file with no prompt at all.
#ifndef S1C_INFER_PROMPTS_H
#define S1C_INFER_PROMPTS_H

#include <stddef.h>

#include "s1c_err.h"

// Splits text[len] in place (text must have len + 1 bytes: s1c_read_file's buffer) into prompts:
// *prompts (malloc'ed array, caller frees) points into text; *n their count (>= 1 on success).
s1c_status s1c_prompts_parse(const char *name, char *text, size_t len, const char ***prompts, int *n);

#endif
