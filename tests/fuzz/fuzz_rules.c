// fuzz_rules — the curation rule inputs a user writes: a --rules JSON file (s1c_rules_load) and
// --preselect rule strings (s1c_presel_add). Input: the rules file, then NUL-separated preselect
// rules. Accepted rules are applied to a few fixed records.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "curate_presel.h"
#include "curate_rules.h"
#include "fuzz_util.h"

static const char *const kRecords[] = {
    ("{\"question\":\"What is 2+2? [asy] draw\",\"source_type\":\"qq8933/AIME\",\"thinking_trajectories\":[\" a \",\"b\"],"
     "\"attempt\":\"4\",\"isgeminicorrect\":true,\"domain\":17}"),
    "{\"question\":\"p1. **x2**\",\"source_type\":\"math\",\"thinking_trajectories\":\"API error\",\"solution\":null}",
    "{\"question\":3,\"isgeminicorrect\":[\"no\",\"yes\"]}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t rules_len = nul ? (size_t)(nul - data) : size;
    fuzz_write(fuzz_path("rules.json"), data, rules_len);
    s1c_rules *rs = s1c_rules_load(fuzz_path("rules.json"));
    s1c_presel *ps = s1c_presel_new();
    if (nul) {
        char *rest = fuzz_cstr(nul + 1, size - rules_len - 1);
        for (size_t at = 0, n = size - rules_len - 1; at < n; at += strlen(rest + at) + 1)
            if (s1c_presel_add(ps, rest + at) != S1C_OK) break;
        free(rest);
    }
    s1c_fields f;
    s1c_fields_default(&f);
    for (size_t i = 0; i < sizeof kRecords / sizeof kRecords[0]; i++) {
        cJSON *rec = cJSON_Parse(kRecords[i]);
        FUZZ_CHECK(rec != NULL);
        if (rs) {
            long r = s1c_rules_check(rs, rec, &f, NULL);
            FUZZ_CHECK(r >= -2 && r < (long)s1c_rules_count(rs));
            if (r >= 0) FUZZ_CHECK(s1c_rules_name(rs, (size_t)r) != NULL);
        }
        int m = s1c_presel_match(ps, rec, 6000 * i);
        FUZZ_CHECK(m == 0 || m == 1 || m == -1);
        cJSON_Delete(rec);
    }
    s1c_presel_free(ps);
    s1c_rules_free(rs);
    return 0;
}
