// s1c_json_check.h — what a JSON parser (cJSON) lets through silently, checked on the raw text:
//   - a key twice in one object: cJSON's lookup takes the first value, Python's json (and so
//     transformers) the last; s1c refuses it rather than pick one;
//   - a NUL byte (raw, which is invalid JSON, or as the escape \u0000) inside a string: every C
//     string would end there, silently cutting the text.
// Run it on text that parsed; on text that did not, it only reports raw NUL bytes.
#ifndef S1C_JSON_CHECK_H
#define S1C_JSON_CHECK_H

#include <stddef.h>

#include "s1c_err.h"

// text[len] of `file`, whose first line is numbered first_line. On failure the message is
// "file:L: duplicate key "k" in a.b (first on line F)" or "file:L: field "a.b[2]": ... NUL ...".
// Keys are compared as written (an escaped spelling of the same key is not caught).
s1c_status s1c_json_check(const char *file, const char *text, size_t len, size_t first_line);

#endif
