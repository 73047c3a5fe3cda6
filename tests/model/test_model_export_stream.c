// test_model_export_stream.c — the streaming Hugging Face save (s1c_qwen2_save_begin / unit /
// finish) writes exactly the bytes the all-at-once writer wrote before it existed:
// - fixtures a (single file, tied) and b (sharded, odd sizes) saved as f32 and bf16, as one
//   file and sharded (4 KB shards: most tensors alone, the embedding over the limit; 40 KB:
//   several tensors a shard), each unit handed over in a fresh buffer freed right after (ASan
//   catches a writer that keeps pointers); the directory's safetensors and index bytes hash to
//   the values recorded from the writer of commit a1a6878 (s1c_st_write_dir over every unit);
// - every file, config.json included, equals s1c_qwen2_weights_save's for the same weights;
// - nothing appears under the final names before finish; an abort halfway leaves an earlier
//   export in the same directory untouched and no temporaries; units out of order and a finish
//   with units missing are refused.
#include <dirent.h>
#include <unistd.h>

#include "mt.h"
#include "qwen2.h"
#include "safetensors.h"

// Recorded from the pre-streaming writer (FNV-1a 64 over each file's name, a NUL and its bytes,
// files sorted by name, config.json left out). Regenerate only for a deliberate format change.
static const struct {
    const char *name;
    int files;
    uint64_t hash;
} GOLDEN[] = {
    {"a_bf16_0", 1, 0x66e85fca2d5a5a5eull},   {"a_bf16_40000", 3, 0x4561f08d3acfa63full},
    {"a_bf16_4096", 13, 0x12f3f8ef6cd170fcull}, {"a_f32_0", 1, 0x6ed8c4d5602d3c86ull},
    {"a_f32_40000", 4, 0xe71340a036c36cb4ull},  {"a_f32_4096", 21, 0x5690f1d2adf43a22ull},
    {"b_bf16_0", 1, 0x5203aee1bf7a1e4aull},   {"b_bf16_40000", 5, 0x16e03a73096737fbull},
    {"b_bf16_4096", 24, 0x9f45b274dbf733f3ull}, {"b_f32_0", 1, 0x5e82babbb35e6218ull},
    {"b_f32_40000", 8, 0x0ac5ccc64c4b87e2ull},  {"b_f32_4096", 24, 0x2af138139117590aull},
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Sorted file names of dir (config.json left out unless with_config); *n receives the count.
static char **list_dir(const char *dir, int with_config, int *n) {
    char **names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || (!with_config && strcmp(e->d_name, "config.json") == 0)) continue;
        names = realloc(names, sizeof(char *) * (size_t)(*n + 1));
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(names, (size_t)*n, sizeof(char *), cmp_str);
    return names;
}

static void free_list(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t hash_dir(const char *dir, int *files) {
    int n;
    char **names = list_dir(dir, 0, &n);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        char p[1200], *text = NULL;
        size_t len = 0;
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        h = fnv(h, (const unsigned char *)names[i], strlen(names[i]) + 1);
        MT_OK(s1c_read_file(p, &text, &len));
        h = fnv(h, (const unsigned char *)text, len);
        free(text);
    }
    free_list(names, n);
    *files = n;
    return h;
}

// Every file of a is in b with the same bytes, and the other way round.
static int same_dirs(const char *a, const char *b) {
    int na, nb, same;
    char **x = list_dir(a, 1, &na), **y = list_dir(b, 1, &nb);
    same = na == nb && na > 0;
    for (int i = 0; same && i < na; i++) {
        char pa[1200], pb[1200];
        snprintf(pa, sizeof pa, "%s/%s", a, x[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, y[i]);
        same = strcmp(x[i], y[i]) == 0 && check_same_file(pa, pb);
    }
    free_list(x, na);
    free_list(y, nb);
    return same;
}

static int count_entries(const char *dir) {
    int n;
    char **names = list_dir(dir, 1, &n);
    free_list(names, n);
    return n;
}

static void rm_dir(const char *dir) {
    int n;
    char **names = list_dir(dir, 1, &n);
    for (int i = 0; i < n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    free_list(names, n);
    rmdir(dir);
}

// Units handed over one by one, each from a fresh copy freed as soon as it was written.
static s1c_status stream_save(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                              float *const *units, const char *dtype, size_t shard) {
    s1c_qwen2_saver *s;
    S1C_TRY(s1c_qwen2_save_begin(dir, cfg, lay, dtype, shard, &s));
    for (int u = 0; u < lay->n_units; u++) {
        float *copy = s1c_xmalloc(lay->units[u].numel * sizeof(float));
        memcpy(copy, units[u], lay->units[u].numel * sizeof(float));
        s1c_status st = s1c_qwen2_save_unit(s, u, copy);
        free(copy);
        if (st != S1C_OK) {
            s1c_qwen2_save_abort(s);
            return st;
        }
    }
    return s1c_qwen2_save_finish(s);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    const char *tmp = argv[2];
    MT_OK(s1c_mkdirs(tmp));
    const char *dtypes[2] = {"f32", "bf16"};
    const size_t shards[3] = {0, 4096, 40000};
    int golden_seen = 0;
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "b" : "a";
        char src[1024], p[1300];
        snprintf(src, sizeof src, "%s/%s", argv[1], name);
        snprintf(p, sizeof p, "%s/config.json", src);
        s1c_qwen2_config cfg;
        MT_OK(s1c_qwen2_config_load(p, &cfg));
        s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&cfg);
        float **units = s1c_xcalloc((size_t)lay->n_units, sizeof(float *));
        MT_OK(s1c_qwen2_weights_load(src, &cfg, lay, units));

        for (int d = 0; d < 2; d++)
            for (int s = 0; s < 3; s++) {
                char tag[64], sdir[1100], wdir[1100];
                snprintf(tag, sizeof tag, "%s_%s_%zu", name, dtypes[d], shards[s]);
                snprintf(sdir, sizeof sdir, "%s/stream_%s", tmp, tag);
                snprintf(wdir, sizeof wdir, "%s/whole_%s", tmp, tag);
                rm_dir(sdir);
                rm_dir(wdir);
                OK(stream_save(sdir, &cfg, lay, units, dtypes[d], shards[s]));
                OK(s1c_qwen2_weights_save(wdir, &cfg, lay, units, dtypes[d], shards[s]));
                CHECK(same_dirs(sdir, wdir), "%s: streamed and whole saves differ", tag);
                int files = 0;
                uint64_t h = hash_dir(sdir, &files);
                for (size_t g = 0; g < sizeof GOLDEN / sizeof GOLDEN[0]; g++)
                    if (strcmp(GOLDEN[g].name, tag) == 0) {
                        golden_seen++;
                        CHECK(files == GOLDEN[g].files && h == GOLDEN[g].hash,
                              "%s: %d files hashing to %016llx; the earlier writer gave %d files, %016llx", tag,
                              files, (unsigned long long)h, GOLDEN[g].files, (unsigned long long)GOLDEN[g].hash);
                    }
            }

        // Nothing under the final names before finish; an abort keeps an earlier export intact.
        char dir[1100], ref[1100];
        snprintf(dir, sizeof dir, "%s/partial_%s", tmp, name);
        snprintf(ref, sizeof ref, "%s/whole_%s_f32_4096", tmp, name);
        rm_dir(dir);
        s1c_qwen2_saver *sv;
        MT_OK(s1c_qwen2_save_begin(dir, &cfg, lay, "bf16", 0, &sv));
        for (int u = 0; u < lay->n_units; u++) OK(s1c_qwen2_save_unit(sv, u, units[u]));
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        CHECK(access(p, F_OK) != 0, "%s: model.safetensors exists before finish", name);
        OK(s1c_qwen2_save_finish(sv));
        CHECK(access(p, F_OK) == 0, "%s: model.safetensors after finish", name);
        rm_dir(dir);
        MT_OK(s1c_qwen2_weights_save(dir, &cfg, lay, units, "f32", 4096));
        MT_OK(s1c_qwen2_save_begin(dir, &cfg, lay, "bf16", 0, &sv));
        for (int u = 0; u < lay->n_units / 2 + 1; u++) OK(s1c_qwen2_save_unit(sv, u, units[u]));
        s1c_qwen2_save_abort(sv);
        CHECK(same_dirs(dir, ref), "%s: an aborted save changed the earlier export", name);
        CHECK(count_entries(dir) == count_entries(ref), "%s: temporaries left after abort", name);

        // Misuse is refused and leaves nothing behind.
        rm_dir(dir);
        MT_OK(s1c_qwen2_save_begin(dir, &cfg, lay, "f32", 4096, &sv));
        OK(s1c_qwen2_save_unit(sv, 0, units[0]));
        CHECK(s1c_qwen2_save_unit(sv, 2, units[2]) != S1C_OK && mt_contains(s1c_err_msg(), "unit 1 is next"),
              "%s: unit out of order refused: %s", name, s1c_err_msg());
        CHECK(s1c_qwen2_save_finish(sv) != S1C_OK && mt_contains(s1c_err_msg(), "only 1 of"),
              "%s: finish with units missing refused: %s", name, s1c_err_msg());
        CHECK(count_entries(dir) == 0, "%s: a refused save left %d files", name, count_entries(dir));
        CHECK(s1c_qwen2_save_begin(dir, &cfg, lay, "fp8", 0, &sv) != S1C_OK && mt_contains(s1c_err_msg(), "fp8"),
              "unknown dtype refused");

        for (int u = 0; u < lay->n_units; u++) free(units[u]);
        free(units);
        s1c_qwen2_layout_free(lay);
    }
    CHECK(golden_seen == (int)(sizeof GOLDEN / sizeof GOLDEN[0]), "%d of the recorded outputs compared", golden_seen);
    return check_exit("test_model_export_stream");
}
