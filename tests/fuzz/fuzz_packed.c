// fuzz_packed — the packed HDF5 reader (s1c_packed_open / s1c_packed_read) on mutated small
// files. Accepted files must describe samples that lie inside the token arrays; every sample is
// read. Each input is a file open through libhdf5, so this target is slow per input.
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("packed.h5");
    fuzz_write(path, data, size);
    s1c_packed *p = s1c_packed_open(path);
    if (!p) return 0;
    size_t n = s1c_packed_n_samples(p), total = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = s1c_packed_length(p, i);
        total += len;
        FUZZ_CHECK(total <= s1c_packed_n_tokens(p));
        if (len > (1u << 20)) continue;
        int32_t *ids = malloc(((size_t)len + 1) * sizeof *ids);
        uint8_t *mask = malloc((size_t)len + 1);
        if (s1c_packed_read(p, i, ids, mask) == S1C_OK)
            for (uint32_t k = 0; k < len; k++) FUZZ_CHECK(mask[k] <= 1 && ids[k] >= 0);
        free(ids);
        free(mask);
    }
    (void)s1c_packed_attr(p, "tokenizer_hash");
    s1c_packed_close(p);
    return 0;
}
