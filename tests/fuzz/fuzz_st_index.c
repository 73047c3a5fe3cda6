// fuzz_st_index — model.safetensors.index.json (s1c_st_set_open) with two small valid shards in
// the folder, so the weight_map can name real files, missing files, and tensors they lack.
#include <stdint.h>

#include "fuzz_util.h"
#include "safetensors.h"

static void write_shards(void) {
    static const float a[4] = {1, 2, 3, 4};
    static const float b[2] = {5, 6};
    s1c_st_entry ea = {.name = "a", .ndim = 2, .shape = {2, 2}, .data = a, .src_dtype = S1C_ST_F32};
    s1c_st_entry eb = {.name = "b", .ndim = 1, .shape = {2}, .data = b, .src_dtype = S1C_ST_F32};
    if (s1c_st_write(fuzz_path("model-00001-of-00002.safetensors"), &ea, 1, S1C_ST_F32, NULL) != S1C_OK ||
        s1c_st_write(fuzz_path("model-00002-of-00002.safetensors"), &eb, 1, S1C_ST_BF16, NULL) != S1C_OK) {
        fprintf(stderr, "fuzz_st_index: %s\n", s1c_err_msg());
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        write_shards();
        ready = 1;
    }
    fuzz_write(fuzz_path("model.safetensors.index.json"), data, size);
    s1c_st_set s;
    if (s1c_st_set_open(fuzz_dir(), &s) != S1C_OK) return 0;
    FUZZ_CHECK(s.n_files >= 1 && s.n_files <= 2);
    const s1c_st_file *f = NULL;
    const s1c_st_tensor *t = s1c_st_set_find(&s, "a", &f);
    if (t) FUZZ_CHECK(t->numel == 4 && f != NULL);
    s1c_st_set_close(&s);
    return 0;
}
