// train.offload_optimizer (issue 17): the s1c-train binary under mpirun on generated tiny inputs,
// the same 6-step run three times on one backend and rank count:
//   base      master, m, v in backend memory (the normal path), checkpoints at steps 3 and 6
//   offload   train.offload_optimizer=true (host master, m, v; on cpu and cpu-bf16 these are
//             separate host buffers, so the copy-out / host AdamW / copy-back path runs)
//   resumed   offloaded, stopped by train.stop_after=3 and finished with --resume
// Every run's losses (metrics.jsonl) must equal base's exactly, and its checkpoints' rank shard
// files (master, m, v of every unit; all but the run id) and exported fp32 weights must be byte-identical to base's.
// usage: test_train_offload DEVICE NP MPIEXEC S1C_TRAIN SOURCE_DIR WORK_DIR   (DEVICE cpu | cpu-bf16)
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli_run.h"
#include "fixture.h"
#include "s1c_file.h"

static const char *DEVICE, *NP, *MPIEXEC, *TRAIN, *SRC, *WORK;
static char model[600], data[600];
static char out_text[1 << 16];

// mpirun -np NP --oversubscribe s1c-train --config tiny.yaml (one epoch, 6 steps, checkpoints
// every 3, fp32 export) on DEVICE, plus the NULL-terminated extra arguments.
static int train(const char *out, ...) {
    char cfg[700], mp[700], dp[700], op[700], dev[100], prec[100], log[700];
    snprintf(cfg, sizeof cfg, "%s/configs/tiny.yaml", SRC);
    snprintf(mp, sizeof mp, "model.path=%s", model);
    snprintf(dp, sizeof dp, "data.path=%s", data);
    snprintf(op, sizeof op, "output.dir=%s", out);
    snprintf(dev, sizeof dev, "train.device=%s", DEVICE);
    snprintf(prec, sizeof prec, "train.precision=%s", strcmp(DEVICE, "cpu") == 0 ? "fp32" : "bf16");
    const char *argv[64] = {MPIEXEC, "-np", NP, "--oversubscribe", TRAIN, "--config", cfg,
                            "--set", mp, "--set", dp, "--set", op, "--set", dev, "--set", prec,
                            "--set", "train.epochs=1", "--set", "output.save_every=3", "--set", "output.export=true",
                            "--set", "output.export_dtype=f32"};
    int n = 0;
    while (argv[n]) n++;
    va_list ap;
    va_start(ap, out);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 62;) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    snprintf(log, sizeof log, "%s/last_run.log", WORK);
    return cli_run(argv, NULL, log, out_text, sizeof out_text);
}

// 1 when the two checkpoint shard files exist and hold the same bytes, except for what names the
// run: its id (header bytes 32..40) and so the header's own CRC (its last 4 bytes; header layout
// in train/checkpoint.c: 40 bytes, then 32 per unit from n_units at byte 20, then the CRC).
static int same_shard(const char *a, const char *b) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int ok = s1c_read_file(a, &x, &nx) == S1C_OK && s1c_read_file(b, &y, &ny) == S1C_OK && nx == ny && nx >= 44;
    if (ok) {
        uint32_t nu = 0;
        memcpy(&nu, x + 20, 4);
        const size_t hb = 40 + (size_t)nu * 32 + 4;
        ok = hb <= nx && memcmp(x, y, 32) == 0 && memcmp(x + 40, y + 40, hb - 44) == 0 &&
             memcmp(x + hb, y + hb, nx - hb) == 0;
    }
    free(x);
    free(y);
    return ok;
}

// run's losses, checkpoint shards at steps 3 and 6, and export equal base's.
static void compare(const char *what, const char *run, const char *base) {
    double la[16], lb[16];
    const int na = cli_read_losses(run, la, 16), nb = cli_read_losses(base, lb, 16);
    CHECK(na == 6 && nb == 6, "%s: %d and %d logged steps, expected 6 (%s)", what, na, nb, s1c_err_msg());
    for (int i = 0; i < na && i < nb; i++)
        CHECK(la[i] == lb[i], "%s: step %d loss %.9g, the non-offloaded run %.9g", what, i + 1, la[i], lb[i]);
    const int np = atoi(NP);
    for (int step = 3; step <= 6; step += 3)
        for (int r = 0; r < np; r++) {
            char pa[900], pb[900];
            snprintf(pa, sizeof pa, "%s/checkpoints/step-%08d/rank-%05d.bin", run, step, r);
            snprintf(pb, sizeof pb, "%s/checkpoints/step-%08d/rank-%05d.bin", base, step, r);
            CHECK(same_shard(pa, pb), "%s: %s differs from %s (or is missing)", what, pa, pb);
        }
    double rel[16];
    const int n = cli_export_rel_l2(run, base, rel, 16);
    CHECK(n > 0, "%s: comparing the exports: %s", what, s1c_err_msg());
    for (int u = 0; u < n; u++) CHECK(rel[u] == 0.0, "%s: exported unit %d differs: %g", what, u, rel[u]);
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: test_train_offload DEVICE NP MPIEXEC S1C_TRAIN SOURCE_DIR WORK_DIR\n");
        return 2;
    }
    DEVICE = argv[1];
    NP = argv[2];
    MPIEXEC = argv[3];
    TRAIN = argv[4];
    SRC = argv[5];
    char work[600], cmd[1400];
    snprintf(work, sizeof work, "%s/%s_np%s", argv[6], DEVICE, NP);
    WORK = work;
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", WORK, WORK);
    if (system(cmd) != 0) return 2;
    snprintf(model, sizeof model, "%s/model", WORK);
    snprintf(data, sizeof data, "%s/data.h5", WORK);
    CHECK(fx_write_model(model, 1, 5) == S1C_OK, "%s", s1c_err_msg());
    CHECK(fx_write_data(data, 24, 6, 40, 64, 9) == S1C_OK, "%s", s1c_err_msg());

    char base[700], off[700], res[700];
    snprintf(base, sizeof base, "%s/base", WORK);
    snprintf(off, sizeof off, "%s/offload", WORK);
    snprintf(res, sizeof res, "%s/resumed", WORK);
    int rc = train(base, NULL);
    CHECK(rc == 0, "non-offloaded run: exit %d:\n%s", rc, out_text);
    rc = train(off, "--set", "train.offload_optimizer=true", NULL);
    CHECK(rc == 0 && strstr(out_text, "optimizer offload: master weights and AdamW m, v in host memory"),
          "offloaded run: exit %d, or no offload line:\n%s", rc, out_text);
    compare("offloaded", off, base);

    rc = train(res, "--set", "train.offload_optimizer=true", "--set", "train.stop_after=3", NULL);
    CHECK(rc == 0, "offloaded run to step 3: exit %d:\n%s", rc, out_text);
    CHECK(!cli_exists("%s/checkpoints/step-00000006", res), "train.stop_after=3 ran on to step 6");
    rc = train(res, "--set", "train.offload_optimizer=true", "--resume", NULL);
    CHECK(rc == 0 && strstr(out_text, "step-00000003"), "offloaded --resume from step 3: exit %d:\n%s", rc, out_text);
    compare("offloaded, resumed at step 3", res, base);
    return check_exit("test_train_offload");
}
