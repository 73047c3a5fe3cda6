// fuzz_bench — benchmark loaders (s1c_bench_parse: JSONL, JSON arrays, CSV) for AIME, MATH and
// GPQA; the first input byte picks the format (byte % 3) and, from 3 on, the CSV reader
// ((byte / 3) % 2 = 1: the file is named .csv). Loaded problems must be complete and GPQA
// permutations valid.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench_load.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    s1c_bench_format fmt = (s1c_bench_format)(data[0] % 3);
    char *text = fuzz_cstr(data + 1, size - 1);
    s1c_benchmark b;
    const char *name = (data[0] / 3) % 2 ? "fuzz.csv" : "fuzz.jsonl";
    if (s1c_bench_parse(name, text, fmt, 1234, &b) == S1C_OK) {
        FUZZ_CHECK(b.n > 0 && b.fmt == fmt);
        for (int i = 0; i < b.n; i++) {
            const s1c_problem *p = &b.items[i];
            FUZZ_CHECK(p->id && p->question && p->gold);
            (void)strlen(p->id), (void)strlen(p->question), (void)strlen(p->gold);
            if (fmt == S1C_BENCH_GPQA) {
                int seen = 0;
                for (int k = 0; k < 4; k++) {
                    FUZZ_CHECK(p->perm[k] >= 0 && p->perm[k] < 4);
                    seen |= 1 << p->perm[k];
                }
                FUZZ_CHECK(seen == 15);
                FUZZ_CHECK(strlen(p->gold) == 1 && p->gold[0] >= 'A' && p->gold[0] <= 'D');
                FUZZ_CHECK(p->perm[p->gold[0] - 'A'] == 0);
            }
        }
        s1c_bench_free(&b);
    }
    free(text);
    return 0;
}
