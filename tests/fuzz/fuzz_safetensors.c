// fuzz_safetensors — the safetensors header and tensor table (s1c_st_open) on arbitrary files,
// then every accepted tensor converted to fp32, so a table that validates but points outside the
// mapping shows up as an out-of-bounds read.
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("model.safetensors");
    fuzz_write(path, data, size);
    s1c_st_file f;
    if (s1c_st_open(path, &f) != S1C_OK) return 0;
    for (int i = 0; i < f.n_tensors; i++) {
        const s1c_st_tensor *t = &f.tensors[i];
        FUZZ_CHECK(s1c_st_find(&f, t->name) != NULL);
        FUZZ_CHECK(t->nbytes == t->numel * s1c_st_dtype_size(t->dtype));
        FUZZ_CHECK(t->nbytes == 0 || (t->data >= f.map.data && t->data + t->nbytes <= f.map.data + f.map.size));
        if (t->numel > ((size_t)1 << 20)) continue;
        float *dst = malloc((t->numel ? t->numel : 1) * sizeof(float));
        s1c_status st = s1c_st_to_f32(&f, t, dst, t->numel);
        int convertible = t->dtype == S1C_ST_F32 || t->dtype == S1C_ST_F16 || t->dtype == S1C_ST_BF16;
        FUZZ_CHECK((st == S1C_OK) == convertible);
        if (t->numel > 1) FUZZ_CHECK((s1c_st_to_f32_range(&f, t, 1, t->numel - 1, dst) == S1C_OK) == convertible);
        free(dst);
    }
    s1c_st_close(&f);
    return 0;
}
