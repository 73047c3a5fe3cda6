// Packed HDF5 files: writer → reader round trip across chunk and flush boundaries, attributes,
// a file written by h5py + hdf5plugin (filter 32015 compatibility), foreign / truncated /
// inconsistent files (errors naming file and dataset), and `pack` with the byte-level tokenizer
// fixture: loss-mask boundary, --max-length truncate/drop counts, bad records, determinism.
#include <hdf5.h>
#include <stdint.h>
#include <unistd.h>

#include "dp_test.h"
#include "h5_zstd_filter.h"
#include "packed.h"
#include "packed_pack.h"
#include "packed_write.h"
#include "s1c_file.h"
#include "tokenizer.h"

static uint32_t tok_at(size_t sample, size_t k) { return (uint32_t)((sample * 7919u + k * 31u) % 151000u); }

static void test_roundtrip(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/rt.h5", dir);
    // Lengths chosen to straddle the 64K-token chunks and the writer's 1M-token flush.
    static const size_t lens[] = {0, 1, 65535, 65536, 65537, 300000, 700000, 17, 100000, 3};
    size_t n = sizeof lens / sizeof *lens, total = 0;
    s1c_packed_writer *w = s1c_packed_writer_create(path, 3);
    CHECK(w != NULL);
    int32_t *ids = malloc(700000 * sizeof *ids);
    uint8_t *mask = malloc(700000);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < lens[i]; k++) {
            ids[k] = (int32_t)tok_at(i, k);
            mask[k] = k >= lens[i] / 3;
        }
        CHECK(s1c_packed_writer_add(w, ids, mask, lens[i]) == S1C_OK);
        total += lens[i];
    }
    CHECK(s1c_packed_writer_attr_str(w, "tokenizer_hash", "abc123") == S1C_OK);
    CHECK(s1c_packed_writer_attr_int(w, "truncated", 7) == S1C_OK);
    CHECK(access(path, F_OK) != 0);  // only the temporary exists until commit
    CHECK(s1c_packed_writer_commit(w) == S1C_OK);

    s1c_packed *p = s1c_packed_open(path);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_U(s1c_packed_n_samples(p), n);
        CHECK_EQ_U(s1c_packed_n_tokens(p), total);
        CHECK(!strcmp(s1c_packed_attr(p, "format"), "s1c-packed-v1"));
        CHECK(!strcmp(s1c_packed_attr(p, "tokenizer_hash"), "abc123"));
        CHECK(!strcmp(s1c_packed_attr(p, "truncated"), "7"));
        CHECK(s1c_packed_attr(p, "absent") == NULL);
        for (size_t i = n; i-- > 0;) {  // backwards: random access, not a stream
            CHECK_EQ_U(s1c_packed_length(p, i), lens[i]);
            CHECK(s1c_packed_read(p, i, ids, mask) == S1C_OK);
            size_t bad = 0;
            for (size_t k = 0; k < lens[i]; k++) bad += (uint32_t)ids[k] != tok_at(i, k) || mask[k] != (k >= lens[i] / 3);
            CHECK_EQ_U(bad, 0);
        }
        CHECK(s1c_packed_read(p, n, ids, mask) != S1C_OK);
        s1c_packed_close(p);
    }
    free(ids);
    free(mask);

    // A truncated copy: an error naming the file, never a crash.
    char *data;
    size_t len;
    CHECK(s1c_read_file(path, &data, &len) == S1C_OK);
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut.h5", dir);
    dp_write_file(cut, data, len / 2);
    free(data);
    p = s1c_packed_open(cut);
    CHECK(p == NULL);
    CHECK_ERR_HAS("cut.h5");
    CHECK_ERR_HAS("cut short or extended");
    s1c_packed_close(p);

    // The seal (packed_seal.h) refuses damage before libhdf5, which crashes on some damaged
    // files, reads them: one flipped bit anywhere after the user block, bytes appended, a
    // damaged seal. S1C_PACKED_VERIFY=0 skips the check.
    CHECK(s1c_read_file(path, &data, &len) == S1C_OK);
    CHECK(len > 4096 && memcmp(data, "s1c-packed-seal v1\n", 19) == 0);
    char bad[512];
    const size_t flips[3] = {512, len / 2, len - 1};
    for (int k = 0; k < 3; k++) {
        snprintf(bad, sizeof bad, "%s/flip%d.h5", dir, k);
        data[flips[k]] ^= 0x10;
        dp_write_file(bad, data, len);
        data[flips[k]] ^= 0x10;
        p = s1c_packed_open(bad);
        CHECK(p == NULL);
        CHECK_ERR_HAS("damaged after packing");
        s1c_packed_close(p);
    }
    snprintf(bad, sizeof bad, "%s/longer.h5", dir);
    char *longer = s1c_xmalloc(len + 7);
    memcpy(longer, data, len);
    memset(longer + len, 0, 7);
    dp_write_file(bad, longer, len + 7);
    free(longer);
    CHECK(s1c_packed_open(bad) == NULL);
    CHECK_ERR_HAS("longer.h5");
    CHECK_ERR_HAS("cut short or extended");
    snprintf(bad, sizeof bad, "%s/seal.h5", dir);
    data[30] = 'x';  // inside "bytes <n>"
    dp_write_file(bad, data, len);
    CHECK(s1c_packed_open(bad) == NULL);
    CHECK_ERR_HAS("checksum block");
    setenv("S1C_PACKED_VERIFY", "0", 1);
    p = s1c_packed_open(path);  // intact file, check skipped
    CHECK(p != NULL);
    s1c_packed_close(p);
    unsetenv("S1C_PACKED_VERIFY");
    free(data);
}

static void test_h5py_file(const char *fix) {
    char path[512];
    snprintf(path, sizeof path, "%s/h5py_packed.h5", fix);
    s1c_packed *p = s1c_packed_open(path);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ_U(s1c_packed_n_samples(p), 3);
    CHECK_EQ_U(s1c_packed_n_tokens(p), 12);
    CHECK(!strcmp(s1c_packed_attr(p, "tokenizer_hash"), "from-h5py"));
    CHECK(!strcmp(s1c_packed_attr(p, "truncated"), "2"));
    int32_t ids[5];
    uint8_t mask[5];
    CHECK(s1c_packed_read(p, 1, ids, mask) == S1C_OK);
    CHECK(ids[0] == 105 && ids[1] == 106 && ids[2] == 107 && mask[0] == 0 && mask[1] == 1 && mask[2] == 1);
    CHECK(s1c_packed_read(p, 2, ids, mask) == S1C_OK);
    CHECK(ids[3] == 111 && mask[3] == 1 && mask[2] == 0);
    s1c_packed_close(p);
}

// Writes an HDF5 file with the given 1-D datasets (NULL type = skip) for the foreign-file cases.
static void write_raw(const char *path, hid_t ids_type, size_t n_ids, const uint64_t *offsets, const uint32_t *lengths,
                      size_t n_samples, uint8_t mask_value) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t d = n_ids, s = n_samples;
    hid_t sp = H5Screate_simple(1, &d, NULL), sp2 = H5Screate_simple(1, &s, NULL);
    uint32_t ids[64] = {0};
    uint8_t mask[64];
    memset(mask, mask_value, sizeof mask);
    if (ids_type >= 0) {
        hid_t ds = H5Dcreate2(f, "input_ids", ids_type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(ds, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ids);
        H5Dclose(ds);
    }
    hid_t ds = H5Dcreate2(f, "loss_mask", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, mask);
    H5Dclose(ds);
    ds = H5Dcreate2(f, "offsets", H5T_STD_U64LE, sp2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offsets);
    H5Dclose(ds);
    ds = H5Dcreate2(f, "lengths", H5T_STD_U32LE, sp2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, lengths);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Sclose(sp2);
    H5Fclose(f);
}

static void test_foreign(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/text.h5", dir);
    dp_write_file(path, "{\"not\": \"hdf5\"}\n", 16);
    CHECK(s1c_packed_open(path) == NULL);
    CHECK_ERR_HAS("text.h5: not an HDF5 file");
    CHECK(s1c_packed_open("/nonexistent/x.h5") == NULL);
    CHECK_ERR_HAS("/nonexistent/x.h5");

    uint64_t off[2] = {0, 8};
    uint32_t len[2] = {5, 5};
    snprintf(path, sizeof path, "%s/noids.h5", dir);
    write_raw(path, -1, 10, off, len, 2, 0);
    CHECK(s1c_packed_open(path) == NULL);
    CHECK_ERR_HAS("noids.h5: dataset /input_ids is missing");
    snprintf(path, sizeof path, "%s/float.h5", dir);
    write_raw(path, H5T_IEEE_F32LE, 10, off, len, 2, 0);
    CHECK(s1c_packed_open(path) == NULL);
    CHECK_ERR_HAS("float.h5: dataset /input_ids: expected unsigned 32-bit integers");
    snprintf(path, sizeof path, "%s/span.h5", dir);
    write_raw(path, H5T_STD_U32LE, 10, off, len, 2, 0);  // sample 1 = tokens 8..13 of 10
    CHECK(s1c_packed_open(path) == NULL);
    CHECK_ERR_HAS("span.h5: /offsets, /lengths: sample 1");
    off[1] = 5;
    snprintf(path, sizeof path, "%s/mask2.h5", dir);
    write_raw(path, H5T_STD_U32LE, 10, off, len, 2, 2);
    s1c_packed *p = s1c_packed_open(path);
    CHECK(p != NULL);
    if (p) {
        int32_t ids[5];
        uint8_t mask[5];
        CHECK(s1c_packed_read(p, 0, ids, mask) != S1C_OK);
        CHECK_ERR_HAS("mask2.h5: dataset /loss_mask: sample 0 has value 2");
        s1c_packed_close(p);
    }
}

static void test_pack(const char *dir, const char *fix) {
    char tokdir[512], in[512], out[512], out2[512];
    snprintf(tokdir, sizeof tokdir, "%s/byte_tokenizer", fix);
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/p.h5", dir);
    snprintf(out2, sizeof out2, "%s/p2.h5", dir);
    s1c_tokenizer *tok = s1c_tokenizer_load(tokdir);
    CHECK(tok != NULL);
    if (!tok) return;
    const char *recs =
        "{\"question\":\"mod 10: 7 +5\",\"thinking_trajectories\":[\"7+5=2\"],\"attempt\":\"Answer: 2\"}\n"
        "\n"
        "{\"question\":\"mod 10: 1 *3 max4\",\"thinking_trajectories\":[\"1*3=3\",\"3max4=4\"],\"attempt\":\"4\"}\n"
        "{\"question\":\"q\",\"deepseek_thinking_trajectory\":\"t\",\"thinking_trajectories\":[\"x\"],\"attempt\":\"a\"}\n";
    dp_write_file(in, recs, strlen(recs));
    s1c_pack_opts o;
    s1c_pack_opts_default(&o);
    o.in = in;
    o.out = out;
    o.tok = tok;
    s1c_pack_result r;
    CHECK(s1c_pack_run(&o, &r) == S1C_OK);
    CHECK_EQ_U(r.records, 3);
    CHECK_EQ_U(r.samples, 3);
    s1c_packed *p = s1c_packed_open(out);
    CHECK(p != NULL);
    size_t len1 = 0;
    if (p) {
        CHECK(strlen(s1c_packed_attr(p, "source_sha256")) == 64);
        CHECK(!strcmp(s1c_packed_attr(p, "tokenizer_hash"), s1c_tokenizer_hash(tok)));
        len1 = s1c_packed_length(p, 1);
        int32_t ids[512];
        uint8_t mask[512];
        CHECK(len1 < 512 && s1c_packed_read(p, 1, ids, mask) == S1C_OK);
        // Byte tokens: the loss starts right after "<|im_start|>assistant\n" and runs to the end.
        char *text;
        size_t tl;
        CHECK(s1c_tokenizer_decode(tok, ids, len1, 0, &text, &tl) == S1C_OK);
        const char *a = strstr(text, "<|im_start|>assistant\n");
        CHECK(a != NULL);
        size_t first = 0;
        while (first < len1 && !mask[first]) first++;
        char *prefix;
        size_t pl;
        CHECK(s1c_tokenizer_decode(tok, ids, first, 0, &prefix, &pl) == S1C_OK);
        CHECK(a && pl == (size_t)(a - text) + strlen("<|im_start|>assistant\n"));
        size_t ones = 0;
        for (size_t k = first; k < len1; k++) ones += mask[k];
        CHECK_EQ_U(ones, len1 - first);
        CHECK(strstr(text, "<|im_start|>think\n1*3=3\n3max4=4\n<|im_start|>answer\nAnswer: 4<|im_end|>") != NULL);
        free(text);
        free(prefix);
        s1c_packed_close(p);
    }
    // Same input: byte-identical file.
    o.out = out2;
    CHECK(s1c_pack_run(&o, &r) == S1C_OK);
    char *x, *y;
    size_t nx, ny;
    CHECK(s1c_read_file(out, &x, &nx) == S1C_OK && s1c_read_file(out2, &y, &ny) == S1C_OK);
    CHECK(nx == ny && memcmp(x, y, nx) == 0);
    free(x);
    free(y);
    // --max-length: truncate counts and cuts; drop removes.
    o.max_length = len1 - 1;
    CHECK(s1c_pack_run(&o, &r) == S1C_OK);
    CHECK(r.truncated >= 1 && r.samples == 3 && r.dropped == 0);
    p = s1c_packed_open(out2);
    CHECK(p && s1c_packed_length(p, 1) == len1 - 1);
    CHECK(p && !strcmp(s1c_packed_attr(p, "truncated"), r.truncated == 1 ? "1" : r.truncated == 2 ? "2" : "3"));
    s1c_packed_close(p);
    o.overflow = S1C_OVERFLOW_DROP;
    uint64_t expect_dropped = r.truncated;
    CHECK(s1c_pack_run(&o, &r) == S1C_OK);
    CHECK(r.dropped == expect_dropped && r.samples == 3 - expect_dropped && r.truncated == 0);
    o.max_length = 0;
    // s1K-1.1 trace style: missing fields are an error with file:line, or skipped.
    s1c_fields_set_trace_style(&o.fields, "deepseek");
    o.fields.attempt = "attempt";
    remove(out2);
    CHECK(s1c_pack_run(&o, &r) != S1C_OK);
    CHECK_ERR_HAS("in.jsonl:1: missing or null field 'deepseek_thinking_trajectory'");
    CHECK(access(out2, F_OK) != 0);
    o.skip_bad = 1;
    CHECK(s1c_pack_run(&o, &r) == S1C_OK);
    CHECK(r.bad == 2 && r.samples == 1);
    s1c_tokenizer_free(tok);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_data_packed FIXTURES_DIR\n");
        return 2;
    }
    const char *dir = dp_tmpdir("packed");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);  // raw-file helpers below expect failures quietly
    CHECK(s1c_h5_zstd_register() == S1C_OK);
    test_roundtrip(dir);
    test_h5py_file(argv[1]);
    test_foreign(dir);
    test_pack(dir, argv[1]);
    return check_exit("test_data_packed");
}
