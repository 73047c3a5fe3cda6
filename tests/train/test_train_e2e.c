// End-to-end runs of the s1c-train binary under mpirun on generated tiny inputs. Scenarios:
//   ranks     1, 2 and 4 ranks train 10 steps from the same checkpoint on the same data (a short
//             batch at the epoch's end included): loss curves and final weights within 1e-5 relative
//   overfit   4 samples, 12 epochs: the loss falls below half its first value
//   resume    6 steps straight == 3 steps (train.stop_after) + --resume + 3 steps (bit for bit);
//             a 4-rank resume of
//             the 2-rank checkpoint ends within 1e-5 of the straight run
//   fault     rank 1 dies at step 4: the job exits non-zero naming rank 1, the step-2 checkpoint
//             is complete and --resume finishes bit-identical to a straight run
//   badconfig unknown key, wrong type, indivisible batch, missing file: clear error, nothing written
//   tokens    train.balance tokens (context parallelism) on 2 and 3 ranks, batch 6 in 3 / 2
//             micro-batches, 8 steps: loss curves and final weights within 1e-5 of the 1-rank
//             sequences run (the same objective); a 3-rank tokens run resumed at step 4 ends bit for
//             bit where the straight one does
// usage: test_train_e2e SCENARIO MPIEXEC S1C_TRAIN SOURCE_DIR WORK_DIR
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "cli_run.h"
#include "fixture.h"
#include "qwen2.h"
#include "s1c_file.h"

static const char *MPIEXEC, *TRAIN, *SRC, *WORK;
static char out_text[1 << 16];

// Runs mpirun -np np s1c-train --config tiny.yaml <args...> (NULL-terminated); returns the exit
// status; the combined output is kept in out_text. fault_step > 0 injects a death of rank 1.
static int train(int np, int fault_step, const char *model, const char *data, const char *out, ...) {
    const char *argv[64];
    int n = 0;
    char npb[8], ms[700], ds[700], os[700], cfg[700];
    snprintf(npb, sizeof npb, "%d", np);
    snprintf(cfg, sizeof cfg, "%s/configs/tiny.yaml", SRC);
    snprintf(ms, sizeof ms, "model.path=%s", model);
    snprintf(ds, sizeof ds, "data.path=%s", data);
    snprintf(os, sizeof os, "output.dir=%s", out);
    if (np > 0) {  // np == 0: the binary alone (an MPI singleton)
        argv[n++] = MPIEXEC;
        argv[n++] = "-np";
        argv[n++] = npb;
        argv[n++] = "--oversubscribe";
    }
    if (np > 0 && fault_step > 0) {
        argv[n++] = "-x";
        argv[n++] = "S1C_FAULT_RANK";
        argv[n++] = "-x";
        argv[n++] = "S1C_FAULT_STEP";
    }
    argv[n++] = TRAIN;
    argv[n++] = "--config";
    argv[n++] = cfg;
    argv[n++] = "--set";
    argv[n++] = ms;
    argv[n++] = "--set";
    argv[n++] = ds;
    argv[n++] = "--set";
    argv[n++] = os;
    va_list ap;
    va_start(ap, out);
    for (const char *a; (a = va_arg(ap, const char *)) && n < 62;) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char log[700], fs[16];
    snprintf(log, sizeof log, "%s/last_run.log", WORK);
    snprintf(fs, sizeof fs, "%d", fault_step);
    const char *env[] = {"S1C_FAULT_RANK", "1", "S1C_FAULT_STEP", fs, NULL};
    return cli_run(argv, fault_step > 0 ? env : NULL, log, out_text, sizeof out_text);
}

#define TRAIN_OK(...)                                                                              \
    do {                                                                                           \
        int rc_ = train(__VA_ARGS__, NULL);                                                        \
        CHECK(rc_ == 0, "s1c-train exited %d:\n%s", rc_, out_text);                                \
    } while (0)

typedef struct {
    int n;
    double loss[256];
} curve;

static void read_curve(const char *out, curve *c) {
    c->n = cli_read_losses(out, c->loss, 256);
    CHECK(c->n >= 0, "%s", s1c_err_msg());
    if (c->n < 0) c->n = 0;
}

static void compare_curves(const char *a, const char *b, int steps, double tol) {
    curve ca, cb;
    read_curve(a, &ca);
    read_curve(b, &cb);
    CHECK(ca.n == steps && cb.n == steps, "%d and %d steps logged, expected %d", ca.n, cb.n, steps);
    for (int i = 0; i < ca.n && i < cb.n; i++)
        CHECK(fabs(ca.loss[i] - cb.loss[i]) <= tol * fabs(cb.loss[i]), "step %d: loss %.9g (%s) vs %.9g (%s)", i + 1,
              ca.loss[i], a, cb.loss[i], b);
}

// Exported fp32 weights of two runs: every unit within tol relative (L2).
static void compare_exports(const char *a, const char *b, double tol) {
    double rel[64];
    const int n = cli_export_rel_l2(a, b, rel, 64);
    CHECK(n > 0, "comparing the exports of %s and %s: %s", a, b, s1c_err_msg());
    for (int u = 0; u < n; u++) CHECK(rel[u] <= tol, "unit %d: %s vs %s relative difference %.3g", u, a, b, rel[u]);
}

// Two shard files hold the same state: equal bytes except the run id (header bytes 32..39,
// train/checkpoint.c) and the header's own CRC after the unit table, which differ between runs.
static int same_shard(const char *pa, const char *pb) {
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = s1c_read_file(pa, &x, &nx) == S1C_OK && s1c_read_file(pb, &y, &ny) == S1C_OK && nx == ny && nx > 40;
    if (same) {
        uint32_t nu;
        memcpy(&nu, x + 20, 4);
        const size_t crc_at = 40 + (size_t)nu * 32;
        same = crc_at + 4 <= nx && memcmp(x, y, 32) == 0 && memcmp(x + 40, y + 40, crc_at - 40) == 0 &&
               memcmp(x + crc_at + 4, y + crc_at + 4, nx - crc_at - 4) == 0;
    }
    free(x);
    free(y);
    return same;
}

static void compare_ckpt_bits(const char *a, const char *b, long step, int world) {
    for (int r = 0; r < world; r++) {
        char pa[800], pb[800];
        snprintf(pa, sizeof pa, "%s/checkpoints/step-%08ld/rank-%05d.bin", a, step, r);
        snprintf(pb, sizeof pb, "%s/checkpoints/step-%08ld/rank-%05d.bin", b, step, r);
        CHECK(same_shard(pa, pb), "%s and %s differ (resume is not bit-exact)", pa, pb);
    }
}

static void make_inputs(char *model, char *data, int n_samples, int tied) {
    sprintf(model, "%s/model", WORK);
    sprintf(data, "%s/data.h5", WORK);
    CHECK(fx_write_model(model, tied, 5) == S1C_OK, "%s", s1c_err_msg());
    CHECK(fx_write_data(data, n_samples, 6, 40, 64, 9) == S1C_OK, "%s", s1c_err_msg());
}

static void scenario_ranks(void) {
    char model[600], data[600], o[3][700];
    // 22 samples in batches of 4: step 6 closes the epoch with 2 samples, so with 4 ranks two of
    // them run an empty micro-batch (still in every collective) and the mean is over 2 sequences
    make_inputs(model, data, 22, 1);
    const int nps[3] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        snprintf(o[i], sizeof o[i], "%s/np%d", WORK, nps[i]);
        TRAIN_OK(nps[i], 0, model, data, o[i], "--set", "train.max_steps=10");
    }
    // the pure round-off of summing in a different order, carried through 10 AdamW steps
    for (int i = 1; i < 3; i++) {
        compare_curves(o[i], o[0], 10, 1e-5);
        compare_exports(o[i], o[0], 1e-5);
    }
    curve c;
    read_curve(o[0], &c);
    CHECK(c.n == 10 && c.loss[9] < c.loss[0], "loss did not fall over 10 steps (%g -> %g)", c.loss[0], c.loss[9]);
}

static void scenario_overfit(void) {
    char model[600], data[600], o[700];
    make_inputs(model, data, 4, 0);
    snprintf(o, sizeof o, "%s/overfit", WORK);
    TRAIN_OK(2, 0, model, data, o, "--set", "train.epochs=12", "--set", "optim.lr=1e-2", "--set", "optim.warmup_ratio=0",
             "--set", "output.export=false");
    curve c;
    read_curve(o, &c);
    CHECK(c.n == 12, "12 steps expected, got %d", c.n);
    CHECK(c.n == 12 && c.loss[11] < 0.5 * c.loss[0], "overfitting 4 samples: loss %g -> %g (want below half)",
          c.loss[0], c.n ? c.loss[c.n - 1] : 0.0);
}

static void scenario_resume(void) {
    char model[600], data[600], a[700], b[700], c4[700], from[800];
    make_inputs(model, data, 24, 1);
    snprintf(a, sizeof a, "%s/straight", WORK);
    snprintf(b, sizeof b, "%s/split", WORK);
    snprintf(c4, sizeof c4, "%s/resliced", WORK);
    TRAIN_OK(2, 0, model, data, a, "--set", "train.epochs=1");
    TRAIN_OK(2, 0, model, data, b, "--set", "train.epochs=1", "--set", "train.stop_after=3", "--set",
             "output.export=false");
    CHECK(cli_exists("%s/checkpoints/step-00000003/COMPLETE", b), "no step-3 checkpoint");
    TRAIN_OK(2, 0, model, data, b, "--set", "train.epochs=1", "--resume");
    CHECK(strstr(out_text, "resuming from") != NULL, "resume not announced:\n%s", out_text);
    compare_ckpt_bits(a, b, 6, 2);
    compare_curves(b, a, 6, 0.0);  // identical losses, including the three before the resume
    // a different number of ranks re-slices the 2-rank checkpoint
    snprintf(from, sizeof from, "%s/checkpoints/step-00000003", b);
    TRAIN_OK(4, 0, model, data, c4, "--set", "train.epochs=1", "--resume-from", from);
    compare_exports(c4, a, 1e-5);
}

static void scenario_fault(void) {
    char model[600], data[600], a[700], f[700];
    make_inputs(model, data, 24, 1);
    snprintf(a, sizeof a, "%s/straight", WORK);
    snprintf(f, sizeof f, "%s/faulty", WORK);
    TRAIN_OK(2, 0, model, data, a, "--set", "train.epochs=1", "--set", "output.export=false");
    int rc = train(2, 4, model, data, f, "--set", "train.epochs=1", "--set", "output.save_every=2", "--set",
                   "output.export=false", NULL);
    CHECK(rc != 0, "the job survived a dead rank");
    CHECK(strstr(out_text, "rank 1") != NULL, "the failure message does not name rank 1:\n%s", out_text);
    CHECK(cli_exists("%s/checkpoints/step-00000002/COMPLETE", f), "the step-2 checkpoint is not complete");
    CHECK(!cli_exists("%s/checkpoints/step-00000004/COMPLETE", f), "a step-4 checkpoint exists after death at step 4");
    TRAIN_OK(2, 0, model, data, f, "--set", "train.epochs=1", "--set", "output.save_every=2", "--set",
             "output.export=false", "--set", "output.keep_last=2", "--resume");
    compare_ckpt_bits(a, f, 6, 2);
    CHECK(!cli_exists("%s/checkpoints/step-00000002", f) && cli_exists("%s/checkpoints/step-00000004/COMPLETE", f),
          "keep_last=2 should leave steps 4 and 6 only");
}

static void scenario_tokens(void) {
    char model[600], data[600], seq1[700], tok[2][700], a[700], b[700];
    make_inputs(model, data, 24, 1);
    snprintf(seq1, sizeof seq1, "%s/seq-np1", WORK);
    TRAIN_OK(1, 0, model, data, seq1, "--set", "train.global_batch_size=6");
    for (int i = 0; i < 2; i++) {
        snprintf(tok[i], sizeof tok[i], "%s/tokens-np%d", WORK, i + 2);
        TRAIN_OK(i + 2, 0, model, data, tok[i], "--set", "train.global_batch_size=6", "--set", "train.balance=tokens");
        compare_curves(tok[i], seq1, 8, 1e-5);
        compare_exports(tok[i], seq1, 1e-5);
    }
    snprintf(a, sizeof a, "%s/tokens-straight", WORK);
    snprintf(b, sizeof b, "%s/tokens-split", WORK);
    TRAIN_OK(3, 0, model, data, a, "--set", "train.global_batch_size=6", "--set", "train.balance=tokens", "--set",
             "output.export=false");
    TRAIN_OK(3, 0, model, data, b, "--set", "train.global_batch_size=6", "--set", "train.balance=tokens", "--set",
             "output.export=false", "--set", "train.stop_after=4");
    TRAIN_OK(3, 0, model, data, b, "--set", "train.global_batch_size=6", "--set", "train.balance=tokens", "--set",
             "output.export=false", "--resume");
    compare_ckpt_bits(a, b, 8, 3);
    compare_curves(b, a, 8, 0.0);
}

static void expect_bad(int np, const char *needle, const char *model, const char *data, const char *out,
                       const char *set1, const char *set2) {
    int rc = train(np, 0, model, data, out, set1 ? "--set" : NULL, set1, set2 ? "--set" : NULL, set2, NULL);
    CHECK(rc != 0, "bad recipe (%s) accepted", needle);
    CHECK(strstr(out_text, needle) != NULL, "message lacks \"%s\":\n%s", needle, out_text);
    CHECK(!cli_exists("%s", out), "%s was created for a bad recipe", out);
}

static void scenario_badconfig(void) {
    char model[600], data[600], o[700];
    make_inputs(model, data, 8, 1);
    snprintf(o, sizeof o, "%s/never", WORK);
    // under mpirun where ranks matter; the others straight from the binary (quicker)
    expect_bad(3, "not divisible by ranks (3)", model, data, o, NULL, NULL);
    expect_bad(2, "no such file", model, "/nonexistent/data.h5", o, NULL, NULL);
    expect_bad(0, "unknown key \"train.epoch\"", model, data, o, "train.epoch=3", NULL);
    expect_bad(0, "optim.lr: expected a number", model, data, o, "optim.lr=fast", NULL);
    expect_bad(0, "no such file", "/nonexistent/model", data, o, NULL, NULL);
    expect_bad(0, "train.micro_batch_size", model, data, o, "train.micro_batch_size=0", NULL);
    // a recipe file with a typo: named with its line
    char bad[700], cmd[1600];
    snprintf(bad, sizeof bad, "%s/bad.yaml", WORK);
    FILE *fp = fopen(bad, "w");
    fputs("train:\n  epochs: 1\n  learning_rate: 1e-5\n", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "%s --config %s > %s/bad.log 2>&1", TRAIN, bad, WORK);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "%s/bad.log", WORK);
    char *txt = NULL;
    s1c_read_file(cmd, &txt, NULL);
    CHECK(rc != 0 && txt && strstr(txt, "bad.yaml:3: unknown key \"train.learning_rate\""),
          "typo in a recipe file: exit %d, output %s", rc, txt ? txt : "");
    free(txt);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: test_train_e2e SCENARIO MPIEXEC S1C_TRAIN SOURCE_DIR WORK_DIR\n");
        return 2;
    }
    MPIEXEC = argv[2];
    TRAIN = argv[3];
    SRC = argv[4];
    char work[600];
    snprintf(work, sizeof work, "%s/%s", argv[5], argv[1]);
    WORK = work;
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", WORK, WORK);
    if (system(cmd) != 0) return 2;
    if (!strcmp(argv[1], "ranks")) scenario_ranks();
    else if (!strcmp(argv[1], "overfit")) scenario_overfit();
    else if (!strcmp(argv[1], "resume")) scenario_resume();
    else if (!strcmp(argv[1], "fault")) scenario_fault();
    else if (!strcmp(argv[1], "badconfig")) scenario_badconfig();
    else if (!strcmp(argv[1], "tokens")) scenario_tokens();
    else {
        fprintf(stderr, "unknown scenario %s\n", argv[1]);
        return 2;
    }
    printf("test_train_e2e %s: %s (%d failures)\n", argv[1], check_failures ? "FAIL" : "ok", check_failures);
    return check_failures ? 1 : 0;
}
