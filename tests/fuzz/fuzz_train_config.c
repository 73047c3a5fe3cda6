// fuzz_train_config — the YAML training recipe (s1c_train_config_load) followed by `--set`
// overrides. Input: YAML text, then a NUL, then NUL-separated "section.key=value" assignments.
// An accepted recipe is written (s1c_train_config_write) and read back: the copy must print
// exactly as the original, so nothing a recipe can hold is lost or changed by --print-config.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_util.h"

static char *print_config(const s1c_train_config *c, size_t *len) {
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    FUZZ_CHECK(fp != NULL);
    s1c_train_config_print(c, fp);
    fclose(fp);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t yaml_len = nul ? (size_t)(nul - data) : size;
    char yaml_path[256];
    snprintf(yaml_path, sizeof yaml_path, "%s", fuzz_path("recipe.yaml"));
    fuzz_write(yaml_path, data, yaml_len);

    s1c_train_config c;
    s1c_train_config_defaults(&c);
    if (s1c_train_config_load(&c, yaml_path) != S1C_OK) return 0;
    if (nul) {
        char *sets = fuzz_cstr(nul + 1, size - yaml_len - 1);
        size_t n = size - yaml_len - 1;
        for (size_t at = 0; at < n;) {
            const char *a = sets + at;
            size_t l = strlen(a);
            if (s1c_train_config_set(&c, a) != S1C_OK) {
                free(sets);
                return 0;
            }
            at += l + 1;
        }
        free(sets);
    }
    (void)s1c_train_config_validate(&c, 1 + (int)(size % 4), 0);

    char out_path[256];
    snprintf(out_path, sizeof out_path, "%s", fuzz_path("written.yaml"));
    FUZZ_CHECK(s1c_train_config_write(&c, out_path) == S1C_OK);
    s1c_train_config back;
    s1c_train_config_defaults(&back);
    if (s1c_train_config_load(&back, out_path) != S1C_OK) {
        fprintf(stderr, "written recipe does not load: %s\n", s1c_err_msg());
        FUZZ_CHECK(0);
    }
    size_t la, lb;
    char *pa = print_config(&c, &la), *pb = print_config(&back, &lb);
    if (la != lb || memcmp(pa, pb, la) != 0) {
        fprintf(stderr, "--- written ---\n%s--- read back ---\n%s", pa, pb);
        FUZZ_CHECK(0);
    }
    free(pa);
    free(pb);
    return 0;
}
