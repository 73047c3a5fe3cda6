// The prompts-file parser (contract: prompts.h).
#include "prompts.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"        // s1c_utf8_first_invalid
#include "safetensors.h"  // s1c_json_parse_all

// A JSON line's prompt, written over the line itself: the decoded text is never longer than its
// JSON spelling (escapes only shrink), so it fits.
static s1c_status json_prompt(const char *name, size_t line_no, char *line, size_t len) {
    cJSON *j = s1c_json_parse_all(line, len);
    const cJSON *f = NULL;
    static const char *const keys[] = {"prompt", "question", "problem", "Question", "Problem"};
    for (int k = 0; cJSON_IsObject(j) && !f && k < 5; k++) {
        f = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (!cJSON_IsString(f)) f = NULL;
    }
    s1c_status st = S1C_OK;
    if (!j) st = s1c_err("%s:%zu: a line starting with '{' must be one JSON object", name, line_no);
    else if (!f) st = s1c_err("%s:%zu: a JSON line needs a \"prompt\" string", name, line_no);
    else if (!f->valuestring[0]) st = s1c_err("%s:%zu: the \"%s\" string is empty", name, line_no, f->string);
    else if (s1c_utf8_first_invalid(f->valuestring, strlen(f->valuestring)) != strlen(f->valuestring))
        st = s1c_err("%s:%zu: the \"%s\" string is not valid UTF-8", name, line_no, f->string);
    else {
        size_t n = strlen(f->valuestring);
        memcpy(line, f->valuestring, n + 1);
    }
    cJSON_Delete(j);
    return st;
}

s1c_status s1c_prompts_parse(const char *name, char *text, size_t len, const char ***prompts, int *n) {
    *prompts = NULL;
    *n = 0;
    int cap = 0;
    size_t line_no = 0;
    for (size_t at = 0; at < len;) {
        char *line = text + at;
        char *nl = memchr(line, '\n', len - at);
        size_t l = nl ? (size_t)(nl - line) : len - at;
        at += l + (nl ? 1 : 0);
        line_no++;
        line[l] = '\0';  // the '\n', or the NUL after the buffer
        if (l && line[l - 1] == '\r') line[--l] = '\0';
        if (memchr(line, '\0', l)) {
            free(*prompts);
            *prompts = NULL, *n = 0;
            return s1c_err("%s:%zu: NUL byte in the text", name, line_no);
        }
        size_t bad = s1c_utf8_first_invalid(line, l);
        if (bad != l) {
            free(*prompts);
            *prompts = NULL, *n = 0;
            return s1c_err("%s:%zu: not valid UTF-8 at byte %zu of the line", name, line_no, bad);
        }
        if (strspn(line, " \t") == l) continue;  // blank
        if (line[0] == '{' && json_prompt(name, line_no, line, l) != S1C_OK) {
            free(*prompts);
            *prompts = NULL, *n = 0;
            return S1C_ERR;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *prompts = s1c_xrealloc(*prompts, (size_t)cap * sizeof **prompts);
        }
        (*prompts)[(*n)++] = line;
    }
    if (*n == 0) return s1c_err("%s: no prompts", name);
    return S1C_OK;
}
