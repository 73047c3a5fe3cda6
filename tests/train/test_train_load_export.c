// Hugging Face checkpoints in and out of the FSDP slices without one host holding the model,
// under mpirun -np 1, 2 and 3 (3 leaves padding in most units):
// - s1c_import_hf (each rank reads its own slices) gives bit-equal master slices, padding and
//   moments to the earlier path (rank 0 loads everything, s1c_fsdp_set_weights broadcasts), on
//   fixture a (tied, bf16, one file) and b (untied, odd sizes, six shards);
// - s1c_export_hf (one unit at a time) writes the same bytes as s1c_qwen2_weights_save of the
//   whole model, f32 sharded and bf16 in one file, and the export loads back bit-equal;
// - a damaged checkpoint (a truncated shard) fails on every rank with a message naming the
//   shard and tensor; a checkpoint only one rank cannot read fails every rank too, the others
//   quoting that rank's message; an export into an unwritable place fails on every rank.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "export.h"
#include "fsdp.h"
#include "s1c_file.h"
#include "s1c_mpi.h"

static int rank = 0;

typedef struct {
    int n;
    float **master, **m, **v;  // [unit][shard] host copies
} slices;

static void slices_read(s1c_fsdp *f, slices *s) {
    s->n = s1c_fsdp_n_units(f);
    s->master = calloc((size_t)s->n, sizeof(float *));
    s->m = calloc((size_t)s->n, sizeof(float *));
    s->v = calloc((size_t)s->n, sizeof(float *));
    for (int u = 0; u < s->n; u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        size_t b = x->g.shard * sizeof(float);
        s->master[u] = malloc(b);
        s->m[u] = malloc(b);
        s->v[u] = malloc(b);
        s1c_fsdp_copy_d2h(f, s->master[u], x->master, x->g.shard);
        s1c_fsdp_copy_d2h(f, s->m[u], x->m, x->g.shard);
        s1c_fsdp_copy_d2h(f, s->v[u], x->v, x->g.shard);
    }
}

static void slices_free(slices *s) {
    for (int u = 0; u < s->n; u++) {
        free(s->master[u]);
        free(s->m[u]);
        free(s->v[u]);
    }
    free(s->master);
    free(s->m);
    free(s->v);
}

// Garbage in the state first, so a path that forgets to write something cannot pass by luck.
static void scribble(s1c_fsdp *f) {
    for (int u = 0; u < s1c_fsdp_n_units(f); u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        float *junk = malloc(x->g.shard * sizeof(float));
        for (size_t i = 0; i < x->g.shard; i++) junk[i] = 1234.5f + (float)i;
        s1c_fsdp_copy_h2d(f, x->master, junk, x->g.shard);
        s1c_fsdp_copy_h2d(f, x->m, junk, x->g.shard);
        s1c_fsdp_copy_h2d(f, x->v, junk, x->g.shard);
        free(junk);
    }
    s1c_fsdp_sync_act(f);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Same file names in both directories and the same bytes in each.
static int same_dirs(const char *a, const char *b) {
    char **names[2] = {NULL, NULL};
    int n[2] = {0, 0};
    const char *dirs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        DIR *d = opendir(dirs[k]);
        if (!d) return 0;
        for (struct dirent *e; (e = readdir(d));) {
            if (e->d_name[0] == '.') continue;
            names[k] = realloc(names[k], sizeof(char *) * (size_t)(n[k] + 1));
            names[k][n[k]++] = strdup(e->d_name);
        }
        closedir(d);
        if (n[k]) qsort(names[k], (size_t)n[k], sizeof(char *), cmp_str);
    }
    int same = n[0] == n[1] && n[0] > 0;
    for (int i = 0; same && i < n[0]; i++) {
        char pa[1200], pb[1200];
        snprintf(pa, sizeof pa, "%s/%s", a, names[0][i]);
        snprintf(pb, sizeof pb, "%s/%s", b, names[1][i]);
        same = strcmp(names[0][i], names[1][i]) == 0 && check_same_file(pa, pb);
    }
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < n[k]; i++) free(names[k][i]);
        free(names[k]);
    }
    return same;
}

static void copy_dir(const char *src, const char *dst) {
    OK(s1c_mkdirs(dst));
    DIR *d = opendir(src);
    CHECK(d != NULL, "cannot list %s", src);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", src, e->d_name);
        snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
        OK(s1c_copy_file(a, b));
    }
    closedir(d);
}

static void run_model(s1c_backend *be, s1c_comm *c, const char *fixtures, const char *work, const char *name) {
    char src[800], p[900];
    snprintf(src, sizeof src, "%s/%s", fixtures, name);
    snprintf(p, sizeof p, "%s/config.json", src);
    s1c_qwen2_config cfg;
    OK(s1c_qwen2_config_load(p, &cfg));
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&cfg);

    // the earlier path: rank 0 holds the whole model, the engine broadcasts it
    float **units = calloc((size_t)lay->n_units, sizeof(float *));
    if (rank == 0) OK(s1c_qwen2_weights_load(src, &cfg, lay, units));
    s1c_fsdp *fa = s1c_fsdp_create(be, c, &cfg, 8, 0);
    s1c_fsdp *fb = s1c_fsdp_create(be, c, &cfg, 8, 0);
    CHECK(fa && fb, "fsdp_create: %s", s1c_err_msg());
    if (!fa || !fb) return;
    scribble(fa);
    scribble(fb);
    OK(s1c_fsdp_set_weights(fa, units, 0));
    OK(s1c_import_hf(fb, c, &cfg, src));
    slices A, B;
    slices_read(fa, &A);
    slices_read(fb, &B);
    size_t nonzero = 0;
    for (int u = 0; u < A.n; u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(fb, u);
        const size_t b = x->g.shard * sizeof(float);
        CHECK(memcmp(A.master[u], B.master[u], b) == 0, "%s unit %d: imported master slice differs from the broadcast one",
              name, u);
        CHECK(memcmp(A.m[u], B.m[u], b) == 0 && memcmp(A.v[u], B.v[u], b) == 0, "%s unit %d: moments differ", name, u);
        for (size_t i = 0; i < x->g.shard; i++) {
            nonzero += B.master[u][i] != 0.0f;
            if ((size_t)rank * x->g.shard + i >= x->g.numel) CHECK(B.master[u][i] == 0.0f, "%s unit %d: padding", name, u);
            CHECK(B.m[u][i] == 0.0f && B.v[u][i] == 0.0f, "%s unit %d: moments not zero", name, u);
        }
    }
    CHECK(nonzero > 0, "%s: this rank's slices are all zero", name);
    slices_free(&A);
    slices_free(&B);

    // export unit by unit == the whole-model writer; loads back bit-equal
    const char *dts[2] = {"f32", "bf16"};
    const size_t shard[2] = {4096, 0};
    for (int k = 0; k < 2; k++) {
        char out[900], ref[900];
        snprintf(out, sizeof out, "%s/export-%s-%s", work, name, dts[k]);
        snprintf(ref, sizeof ref, "%s/whole-%s-%s", work, name, dts[k]);
        OK(s1c_export_hf(fb, c, &cfg, src, out, dts[k], shard[k]));
        if (rank == 0) {
            OK(s1c_qwen2_weights_save(ref, &cfg, lay, units, dts[k], shard[k]));
            CHECK(same_dirs(out, ref), "%s %s: export differs from s1c_qwen2_weights_save", name, dts[k]);
            if (k == 0) {
                float **back = calloc((size_t)lay->n_units, sizeof(float *));
                OK(s1c_qwen2_weights_load(out, &cfg, lay, back));
                for (int u = 0; u < lay->n_units; u++)
                    CHECK(back[u] && memcmp(back[u], units[u], lay->units[u].numel * sizeof(float)) == 0,
                          "%s unit %d: exported f32 weights differ", name, u);
                for (int u = 0; u < lay->n_units; u++) free(back[u]);
                free(back);
            }
        }
    }

    // a truncated shard: every rank fails, naming the file and the tensor
    if (strcmp(name, "b") == 0) {
        char bad[900], shardp[1000];
        snprintf(bad, sizeof bad, "%s/damaged-%s", work, name);
        snprintf(shardp, sizeof shardp, "%s/model-00003-of-00006.safetensors", bad);
        if (rank == 0) {
            copy_dir(src, bad);
            CHECK(truncate(shardp, 30000) == 0, "truncate %s", shardp);
        }
        c->barrier(c);
        s1c_status st = s1c_import_hf(fb, c, &cfg, bad);
        const char *msg = s1c_err_msg();
        CHECK(st != S1C_OK && strstr(msg, "model-00003-of-00006.safetensors") && strstr(msg, "tensor '") &&
                  strstr(msg, "loading the initial weights from"),
              "damaged checkpoint: %s", msg);

        // only the last rank meets the damage: the others fail too, quoting it
        if (c->size > 1) {
            st = s1c_import_hf(fb, c, &cfg, rank == c->size - 1 ? bad : src);
            msg = s1c_err_msg();
            char who[32];
            snprintf(who, sizeof who, "rank %d: ", c->size - 1);
            CHECK(st != S1C_OK && strstr(msg, "model-00003-of-00006.safetensors") &&
                      (rank == c->size - 1 || strstr(msg, who)),
                  "damage seen by one rank: %s", msg);
        }

        // an export whose directory cannot be created (a file is in the way)
        char blocker[900], out[1000];
        snprintf(blocker, sizeof blocker, "%s/not-a-dir", work);
        snprintf(out, sizeof out, "%s/hf", blocker);
        if (rank == 0) {
            FILE *fp = fopen(blocker, "w");
            if (fp) fclose(fp);
        }
        c->barrier(c);
        st = s1c_export_hf(fb, c, &cfg, src, out, "bf16", 0);
        msg = s1c_err_msg();
        CHECK(st != S1C_OK && strstr(msg, "not-a-dir"), "export into a file: %s", msg);
    }

    s1c_fsdp_free(fa);
    s1c_fsdp_free(fb);
    for (int u = 0; u < lay->n_units; u++) free(units[u]);
    free(units);
    s1c_qwen2_layout_free(lay);
}

int main(int argc, char **argv) {
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK || argc != 3) {
        fprintf(stderr, "usage: mpirun -np N test_train_load_export FIXTURE_DIR WORK_DIR\n");
        return 2;
    }
    rank = d.rank;
    check_set_rank(rank);
    s1c_comm *c = s1c_comm_create(&d, "mpi");
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!c || !be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    char work[512];
    snprintf(work, sizeof work, "%s/np%d", argv[2], d.size);
    if (rank == 0) OK(s1c_mkdirs(work));
    c->barrier(c);
    run_model(be, c, argv[1], work, "a");
    run_model(be, c, argv[1], work, "b");
    int32_t fails = check_failures;
    c->all_reduce(c, &fails, 1, S1C_COMM_I32, S1C_RED_SUM);
    s1c_comm_destroy(c);
    s1c_backend_destroy(be);
    s1c_dist_finalize(&d);
    if (rank == 0) printf("test_train_load_export: %d ranks, %s\n", d.size, fails ? "FAIL" : "ok");
    return fails ? 1 : 0;
}
