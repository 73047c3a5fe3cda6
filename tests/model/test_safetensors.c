// test_safetensors.c — the generic safetensors reader/writer: dtype conversions, round trips
// (single file and sharded directory), and the reader's validation of hand-made bad files.
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mt.h"
#include "safetensors.h"

static const char *g_tmp;

static char *tmp_path(const char *name) {
    static char buf[4][1024];
    static int k = 0;
    char *p = buf[k++ & 3];
    snprintf(p, 1024, "%s/%s", g_tmp, name);
    return p;
}

static void test_conversions(void) {
    // Every finite half and every infinity survives f16 → f32 → f16 unchanged (NaNs stay NaN).
    for (uint32_t h = 0; h < 65536; h++) {
        float f = s1c_f16_to_f32((uint16_t)h);
        if (isnan(f)) {
            CHECK(isnan(s1c_f16_to_f32(s1c_f32_to_f16(f))), "f16 NaN 0x%04x lost", h);
            continue;
        }
        CHECK(s1c_f32_to_f16(f) == h, "f16 0x%04x -> %g -> 0x%04x", h, f, s1c_f32_to_f16(f));
    }
    CHECK(s1c_f16_to_f32(1) == ldexpf(1.0f, -24), "smallest f16 subnormal");
    CHECK(s1c_f16_to_f32(0x7bff) == 65504.0f, "largest f16");
    CHECK(s1c_f32_to_f16(65520.0f) == 0x7c00, "65520 rounds to f16 inf");
    CHECK(s1c_f32_to_f16(65519.0f) == 0x7bff, "65519 rounds to 65504");
    CHECK(s1c_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3c00, "f16 tie rounds to even (down)");
    CHECK(s1c_f32_to_f16(1.0f + 3 * ldexpf(1.0f, -11)) == 0x3c02, "f16 tie rounds to even (up)");
    // bf16: 8 exponent bits like fp32, 7 mantissa bits; ties to even.
    for (uint32_t h = 0; h < 65536; h++) {
        float f = s1c_bf16_to_f32((uint16_t)h);
        if (!isnan(f)) CHECK(s1c_f32_to_bf16(f) == h, "bf16 0x%04x round trip", h);
    }
    CHECK(s1c_f32_to_bf16(1.0f + ldexpf(1.0f, -8)) == 0x3f80, "bf16 tie to even (down)");
    CHECK(s1c_f32_to_bf16(1.0f + 3 * ldexpf(1.0f, -8)) == 0x3f82, "bf16 tie to even (up)");
    CHECK(s1c_f32_to_bf16(1.0f + ldexpf(1.0f, -8) + ldexpf(1.0f, -20)) == 0x3f81, "bf16 above tie rounds up");
    CHECK(isnan(s1c_bf16_to_f32(s1c_f32_to_bf16(NAN))), "bf16 NaN stays NaN");
}

static void test_round_trip(void) {
    float a[15], scalar[1] = {-2.5f};
    for (int i = 0; i < 15; i++) a[i] = (float)i * 0.37f - 2.0f;
    int32_t ids[4] = {7, -1, 2147483647, 0};
    s1c_st_entry e[3] = {
        {.name = "w.a", .ndim = 2, .shape = {3, 5}, .data = a, .src_dtype = S1C_ST_F32},
        {.name = "scalar", .ndim = 0, .data = scalar, .src_dtype = S1C_ST_F32},
        {.name = "ids", .ndim = 1, .shape = {4}, .data = ids, .src_dtype = S1C_ST_I32},
    };
    const char *p = tmp_path("rt.safetensors");
    MT_OK(s1c_st_write(p, e, 2, S1C_ST_F32, NULL));
    s1c_st_file f;
    MT_OK(s1c_st_open(p, &f));
    CHECK(f.n_tensors == 2, "2 tensors, got %d", f.n_tensors);
    const s1c_st_tensor *t = s1c_st_find(&f, "w.a");
    CHECK(t && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 5 && t->dtype == S1C_ST_F32, "w.a header");
    float back[15];
    MT_OK(s1c_st_to_f32(&f, t, back, 15));
    CHECK(memcmp(back, a, sizeof(a)) == 0, "w.a data");
    t = s1c_st_find(&f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1, "scalar header");
    MT_OK(s1c_st_to_f32(&f, t, back, 1));
    CHECK(back[0] == -2.5f, "scalar data");
    CHECK(s1c_st_find(&f, "nope") == NULL, "absent tensor not found");
    CHECK(s1c_st_to_f32(&f, t, back, 2) != S1C_OK, "element count mismatch refused");
    // The data section starts 8-byte aligned (header padded), as the format recommends.
    CHECK((s1c_st_find(&f, "w.a")->data - f.map.data) % 8 == 0, "data section aligned");
    s1c_st_close(&f);

    // Integer tensors are stored raw and refused as weights.
    MT_OK(s1c_st_write(p, e + 2, 1, S1C_ST_I32, NULL));
    MT_OK(s1c_st_open(p, &f));
    t = s1c_st_find(&f, "ids");
    CHECK(t && t->dtype == S1C_ST_I32 && memcmp(t->data, ids, sizeof(ids)) == 0, "I32 raw data");
    CHECK(s1c_st_to_f32(&f, t, back, 4) != S1C_OK && mt_contains(s1c_err_msg(), "ids") &&
              mt_contains(s1c_err_msg(), "I32"),
          "I32 refused as weights: %s", s1c_err_msg());
    s1c_st_close(&f);

    // BF16 and F16 storage of fp32 data: read back equals the rounded values.
    for (int k = 0; k < 2; k++) {
        s1c_st_dtype dt = k ? S1C_ST_F16 : S1C_ST_BF16;
        MT_OK(s1c_st_write(p, e, 1, dt, NULL));
        MT_OK(s1c_st_open(p, &f));
        t = s1c_st_find(&f, "w.a");
        CHECK(t && t->dtype == dt && t->nbytes == 30, "%s header", s1c_st_dtype_name(dt));
        MT_OK(s1c_st_to_f32(&f, t, back, 15));
        for (int i = 0; i < 15; i++) {
            float want = k ? s1c_f16_to_f32(s1c_f32_to_f16(a[i])) : s1c_bf16_to_f32(s1c_f32_to_bf16(a[i]));
            CHECK(back[i] == want, "%s element %d: %g vs %g", s1c_st_dtype_name(dt), i, back[i], want);
        }
        s1c_st_close(&f);
    }
    CHECK(s1c_st_write(p, e + 2, 1, S1C_ST_BF16, NULL) != S1C_OK, "I32 -> BF16 refused");
    CHECK(access(p, F_OK) == 0, "failed write left the previous file in place");
}

static void test_sharded_dir(void) {
    enum { N = 5 };
    float data[N][40];
    s1c_st_entry e[N];
    char names[N][16];
    for (int k = 0; k < N; k++) {
        for (int i = 0; i < 40; i++) data[k][i] = (float)(k * 100 + i);
        snprintf(names[k], sizeof(names[k]), "t%d", k);
        e[k] = (s1c_st_entry){.name = names[k], .ndim = 2, .shape = {4, 10}, .data = data[k], .src_dtype = S1C_ST_F32};
    }
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", tmp_path("sharded"));
    // 160 bytes per tensor, 400-byte shards: 2 + 2 + 1 tensors.
    MT_OK(s1c_st_write_dir(dir, e, N, S1C_ST_F32, 400));
    CHECK(access(tmp_path("sharded/model.safetensors.index.json"), F_OK) == 0, "index written");
    CHECK(access(tmp_path("sharded/model-00003-of-00003.safetensors"), F_OK) == 0, "3 shards");
    CHECK(access(tmp_path("sharded/model.safetensors"), F_OK) != 0, "no single file next to shards");
    s1c_st_set s;
    MT_OK(s1c_st_set_open(dir, &s));
    CHECK(s.n_files == 3 && s.index_path != NULL, "set of 3 files, got %d", s.n_files);
    for (int k = 0; k < N; k++) {
        const s1c_st_file *f = NULL;
        const s1c_st_tensor *t = s1c_st_set_find(&s, names[k], &f);
        float back[40];
        CHECK(t != NULL, "%s found", names[k]);
        if (!t) continue;
        MT_OK(s1c_st_to_f32(f, t, back, 40));
        CHECK(memcmp(back, data[k], sizeof(back)) == 0, "%s data", names[k]);
    }
    s1c_st_set_close(&s);
    // Re-exporting unsharded into the same directory removes the index that would shadow it.
    MT_OK(s1c_st_write_dir(dir, e, N, S1C_ST_F32, 0));
    CHECK(access(tmp_path("sharded/model.safetensors.index.json"), F_OK) != 0, "stale index removed");
    MT_OK(s1c_st_set_open(dir, &s));
    CHECK(s.n_files == 1 && s.index_path == NULL && s1c_st_set_find(&s, "t4", NULL), "single-file set");
    s1c_st_set_close(&s);

    // A tensor held by two shards (issue 13): the lookup returned the first file opened whatever
    // the index said; refused, naming the tensor and both files.
    char sub[1100], p[1200];
    snprintf(sub, sizeof(sub), "%s", tmp_path("twice"));
    MT_OK(s1c_mkdirs(sub));
    snprintf(p, sizeof(p), "%s/a.safetensors", sub);
    MT_OK(s1c_st_write(p, e, 2, S1C_ST_F32, NULL));  // t0 t1
    snprintf(p, sizeof(p), "%s/b.safetensors", sub);
    MT_OK(s1c_st_write(p, e + 1, 2, S1C_ST_F32, NULL));  // t1 t2
    snprintf(p, sizeof(p), "%s/model.safetensors.index.json", sub);
    FILE *fp = fopen(p, "w");
    fputs("{\"weight_map\": {\"t0\": \"a.safetensors\", \"t1\": \"b.safetensors\", \"t2\": \"b.safetensors\"}}\n", fp);
    fclose(fp);
    CHECK(s1c_st_set_open(sub, &s) != S1C_OK && mt_contains(s1c_err_msg(), "tensor 't1' is held by two shards") &&
              mt_contains(s1c_err_msg(), "a.safetensors") && mt_contains(s1c_err_msg(), "b.safetensors"),
          "tensor in two shards: %s", s1c_err_msg());
    // ... and a tensor named twice in weight_map
    snprintf(p, sizeof(p), "%s/a.safetensors", sub);
    MT_OK(s1c_st_write(p, e, 1, S1C_ST_F32, NULL));  // t0 only: the shards are now disjoint
    snprintf(p, sizeof(p), "%s/model.safetensors.index.json", sub);
    fp = fopen(p, "w");
    fputs("{\"weight_map\": {\"t0\": \"a.safetensors\",\n \"t1\": \"b.safetensors\",\n \"t2\": \"b.safetensors\"}}\n", fp);
    fclose(fp);
    MT_OK(s1c_st_set_open(sub, &s));  // the control: disjoint shards open
    s1c_st_set_close(&s);
    fp = fopen(p, "w");
    fputs("{\"weight_map\": {\"t0\": \"a.safetensors\",\n \"t1\": \"b.safetensors\",\n \"t1\": \"a.safetensors\"}}\n", fp);
    fclose(fp);
    CHECK(s1c_st_set_open(sub, &s) != S1C_OK &&
              mt_contains(s1c_err_msg(), "index.json:3: duplicate key \"t1\" in weight_map (first on line 2)"),
          "weight_map key twice: %s", s1c_err_msg());
}

// Writes a file: 8-byte length `hlen_field`, header text, `data_len` zero bytes.
static const char *raw_file(const char *name, uint64_t hlen_field, const char *hdr, size_t data_len) {
    const char *p = tmp_path(name);
    FILE *fp = fopen(p, "wb");
    unsigned char l8[8];
    for (int k = 0; k < 8; k++) l8[k] = (unsigned char)(hlen_field >> (8 * k));
    fwrite(l8, 1, 8, fp);
    fwrite(hdr, 1, strlen(hdr), fp);
    for (size_t i = 0; i < data_len; i++) fputc(0, fp);
    fclose(fp);
    return p;
}

static void expect_bad(const char *path, const char *what, const char *needle) {
    s1c_st_file f;
    s1c_status st = s1c_st_open(path, &f);
    CHECK(st != S1C_OK, "%s: accepted", what);
    if (st == S1C_OK) {
        s1c_st_close(&f);
        return;
    }
    CHECK(mt_contains(s1c_err_msg(), path), "%s: message does not name the file: %s", what, s1c_err_msg());
    CHECK(mt_contains(s1c_err_msg(), needle), "%s: message lacks '%s': %s", what, needle, s1c_err_msg());
}

static void test_bad_files(void) {
    const char *h;
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    s1c_st_file f;
    MT_OK(s1c_st_open(raw_file("ok.st", strlen(h), h, 8), &f));  // the control: a valid file opens
    s1c_st_close(&f);
    expect_bad(raw_file("short.st", 3, "", 0), "header past EOF in an 8-byte file", "header length 3");
    {  // a 5-byte file
        const char *p = tmp_path("tiny.st");
        FILE *fp = fopen(p, "wb");
        fwrite("abcde", 1, 5, fp);
        fclose(fp);
        expect_bad(p, "5-byte file", "too short");
    }
    expect_bad(raw_file("hlen.st", 1u << 20, h, 8), "header length past EOF", "past the end of the file");
    expect_bad(raw_file("hlen2.st", UINT64_MAX, h, 8), "header length 2^64-1", "past the end of the file");
    const char *nj = "{\"x\":{\"dtype\":\"F32\",";
    expect_bad(raw_file("notjson.st", strlen(nj), nj, 8), "not JSON", "not valid JSON");
    h = "{\"x\":{\"dtype\":\"F8_E9\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    expect_bad(raw_file("dtype.st", strlen(h), h, 8), "unknown dtype", "'x'");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    expect_bad(raw_file("span.st", strlen(h), h, 8), "span vs shape", "needs 12");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    expect_bad(raw_file("range.st", strlen(h), h, 8), "offsets past data", "'x'");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    expect_bad(raw_file("overlap.st", strlen(h), h, 12), "overlap", "overlap");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    expect_bad(raw_file("hole.st", strlen(h), h, 12), "hole", "'y'");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    expect_bad(raw_file("trailing.st", strlen(h), h, 16), "trailing bytes", "trailing");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}";
    expect_bad(raw_file("neg.st", strlen(h), h, 8), "negative dim", "shape[0]");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}";
    expect_bad(raw_file("rev.st", strlen(h), h, 8), "end before begin", "end before begin");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    expect_bad(raw_file("dup.st", strlen(h), h, 8), "duplicate name", "twice");
    h = "[1,2,3]";
    expect_bad(raw_file("array.st", strlen(h), h, 0), "header not an object", "not a JSON object");
    h = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}";
    expect_bad(raw_file("nooff.st", strlen(h), h, 8), "missing data_offsets", "data_offsets");
    s1c_st_set s;
    CHECK(s1c_st_set_open(tmp_path("no_such_dir"), &s) != S1C_OK && mt_contains(s1c_err_msg(), "model.safetensors"),
          "missing checkpoint named: %s", s1c_err_msg());
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    g_tmp = argv[1];
    MT_OK(s1c_mkdirs(g_tmp));
    test_conversions();
    test_round_trip();
    test_sharded_dir();
    test_bad_files();
    return check_exit("test_safetensors");
}
