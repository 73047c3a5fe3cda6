// fuzz_prompts — the prompts file of `s1c-infer generate --prompts` (s1c_prompts_parse). Every
// prompt returned must be non-empty UTF-8 text inside the buffer.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "jsonl.h"
#include "prompts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    const char **p = NULL;
    int n = 0;
    if (s1c_prompts_parse("prompts.txt", text, size, &p, &n) == S1C_OK) {
        FUZZ_CHECK(n >= 1 && p != NULL);
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(p[i] >= text && p[i] < text + size);
            size_t l = strlen(p[i]);
            FUZZ_CHECK(l > 0 && p[i] + l <= text + size);
            FUZZ_CHECK(s1c_utf8_first_invalid(p[i], l) == l);
        }
    } else {
        FUZZ_CHECK(p == NULL && n == 0);
        FUZZ_CHECK(strncmp(s1c_err_msg(), "prompts.txt", 11) == 0);
    }
    free(p);
    free(text);
    return 0;
}
