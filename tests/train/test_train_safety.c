// Runs that never lose or mix data (issue 13): the s1c-train binary under mpirun on generated
// tiny inputs. Scenarios:
//   lock      a job whose output.dir is locked by another (this test holds the flock, as a running
//             s1c-train does) is refused naming the holder's host and pid, and writes nothing
//   fresh     a fresh run over an earlier run's checkpoints is refused; --overwrite replaces them
//   line      --resume follows its own run's checkpoints past a newer one of another run, and
//             keep_last never prunes the checkpoint just written nor another run's
//   tmp       orphan NAME.tmp.PID files of a killed write (top level, a step dir, hf/) are removed
//             at the next start; other files stay
//   nonfinite optim.lr=1e6 diverges: exit 4 at the first non-finite loss / norm, the checkpoints left
//             hold finite weights (they resume); train.nonfinite skip_step skips such updates, exit 0
//   nanweight a NaN in one weight of the initial model is refused naming the tensor and element
//   checksum  a flipped data byte of rank 1's shard is refused on --resume naming the file and unit
//   header    bit 63 of unit 0's shard field (with the header CRC made to match, and without) is
//             refused, not wrapped into a passing size check
//   sigusr1   SIGUSR1 to mpirun (forwarded to the ranks) mid-run: the step finishes, a checkpoint is
//             written, exit 75; --resume then finishes the run
//   sigterm   SIGTERM to a lone s1c-train: the same, exit 75
//   sigint    SIGINT: a message naming the signal and exit 130 at once
//   stall     rank 1 stops itself (SIGSTOP) at step 3: rank 0's collective times out after
//             train.collective_timeout_s=2, the job aborts with exit 5 naming the collective and step
//   cli       getopt_long: --help exits 0, a mistyped flag at the end is reported as unknown, a
//             missing value as missing, a stray argument as unexpected
//   maxsteps  train.max_steps=8 over a 6-step epoch: 8 steps (the data cycles), the step counter says
//             /8, the cosine reaches 0 at step 8 as in HF
//   export    s1c-train export --checkpoint DIR --out DIR (2 ranks, and 1) equals the run's own export
//   relpath   a recipe's relative paths resolve against its folder, run from another directory
// usage: test_train_safety SCENARIO MPIEXEC S1C_TRAIN SOURCE_DIR WORK_DIR
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli_run.h"
#include "crc32c.h"
#include "fixture.h"
#include "s1c_file.h"

static const char *MPIEXEC, *TRAIN, *SRC, *WORK;
static char model[600], data[600];
static char out_text[1 << 16];

// Builds: [mpirun -np np --oversubscribe] s1c-train --config tiny.yaml --set model/data/output
// <args...> (NULL-terminated) into argv; np == 0 runs the binary alone (an MPI singleton).
static int build_argv(const char **argv, char bufs[4][700], int np, const char *out, va_list ap) {
    int n = 0;
    snprintf(bufs[0], 700, "%d", np);
    snprintf(bufs[1], 700, "model.path=%s", model);
    snprintf(bufs[2], 700, "data.path=%s", data);
    snprintf(bufs[3], 700, "output.dir=%s", out);
    static char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/configs/tiny.yaml", SRC);
    if (np > 0) {
        argv[n++] = MPIEXEC;
        argv[n++] = "-np";
        argv[n++] = bufs[0];
        argv[n++] = "--oversubscribe";
    }
    const char *fixed[] = {TRAIN, "--config", cfg, "--set", bufs[1], "--set", bufs[2], "--set", bufs[3],
                           "--set", "train.epochs=1", "--set", "output.export=false"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[n++] = fixed[i];
    for (const char *a; (a = va_arg(ap, const char *)) && n < 62;) argv[n++] = a;
    argv[n] = NULL;
    return n;
}

// Runs s1c-train to completion; returns its exit status, the output in out_text.
static int train(int np, const char *out, ...) {
    const char *argv[64];
    char bufs[4][700], log[700];
    va_list ap;
    va_start(ap, out);
    build_argv(argv, bufs, np, out, ap);
    va_end(ap);
    snprintf(log, sizeof log, "%s/last_run.log", WORK);
    return cli_run(argv, NULL, log, out_text, sizeof out_text);
}

static void make_inputs(void) {
    sprintf(model, "%s/model", WORK);
    sprintf(data, "%s/data.h5", WORK);
    CHECK(fx_write_model(model, 1, 5) == S1C_OK, "%s", s1c_err_msg());
    CHECK(fx_write_data(data, 24, 6, 40, 64, 9) == S1C_OK, "%s", s1c_err_msg());
}

static void write_text(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL, "%s: cannot create", path);
    if (!fp) return;
    fputs(text, fp);
    fclose(fp);
}

static char *read_text(const char *path) {
    char *t = NULL;
    if (s1c_read_file(path, &t, NULL) != S1C_OK) return s1c_xstrdup("");
    return t;
}

static void scenario_lock(void) {
    char out[700], lock[800];
    snprintf(out, sizeof out, "%s/locked", WORK);
    snprintf(lock, sizeof lock, "%s/.lock", out);
    CHECK(s1c_mkdirs(out) == S1C_OK, "%s", s1c_err_msg());
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "cannot take %s", lock);
    const char holder[] = "node-17 424242\n";
    CHECK(pwrite(fd, holder, sizeof holder - 1, 0) == (ssize_t)(sizeof holder - 1));
    int rc = train(2, out, NULL);
    CHECK(rc != 0, "a second job on a locked output.dir exited 0:\n%s", out_text);
    CHECK(strstr(out_text, "in use by another s1c-train job") && strstr(out_text, "node-17") &&
              strstr(out_text, "424242"),
          "the refusal does not name the holder node-17 / 424242:\n%s", out_text);
    CHECK(!cli_exists("%s/metrics.jsonl", out) && !cli_exists("%s/config.yaml", out) &&
              !cli_exists("%s/checkpoints", out),
          "the refused job wrote into %s", out);
    close(fd);  // released: the same command now runs, and the lock names it while it ran
    rc = train(2, out, "--set", "train.stop_after=1", NULL);
    CHECK(rc == 0, "after the lock was released: exit %d:\n%s", rc, out_text);
    char *t = read_text(lock);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    CHECK(strncmp(t, host, strlen(host)) == 0 && t[strlen(host)] == ' ', "%s holds \"%s\", expected \"%s PID\"", lock,
          t, host);
    free(t);
}

static void scenario_fresh(void) {
    char out[700];
    snprintf(out, sizeof out, "%s/run", WORK);
    int rc = train(2, out, "--set", "output.save_every=2", "--set", "train.stop_after=4", NULL);
    CHECK(rc == 0, "first run: exit %d:\n%s", rc, out_text);
    char rp[800];
    snprintf(rp, sizeof rp, "%s/RUN", out);
    char *id1 = read_text(rp);
    CHECK(strlen(id1) == 17, "%s: \"%s\" is not a run id", rp, id1);
    rc = train(2, out, "--set", "output.keep_last=1", NULL);
    CHECK(rc != 0 && strstr(out_text, "already holds 2 checkpoints") && strstr(out_text, "--overwrite") &&
              strstr(out_text, "--resume"),
          "a fresh run over checkpoints: exit %d, want a refusal naming --resume / --overwrite:\n%s", rc, out_text);
    CHECK(cli_exists("%s/checkpoints/step-00000002/COMPLETE", out) &&
              cli_exists("%s/checkpoints/step-00000004/COMPLETE", out),
          "the refused run touched the earlier checkpoints");
    char *id_after = read_text(rp);
    CHECK(strcmp(id1, id_after) == 0, "the refused run changed %s", rp);
    free(id_after);
    rc = train(2, out, "--set", "output.save_every=3", "--set", "train.stop_after=3", "--overwrite", NULL);
    CHECK(rc == 0, "--overwrite: exit %d:\n%s", rc, out_text);
    CHECK(!cli_exists("%s/checkpoints/step-00000002", out) && !cli_exists("%s/checkpoints/step-00000004", out) &&
              cli_exists("%s/checkpoints/step-00000003/COMPLETE", out),
          "--overwrite should leave only the new run's step 3");
    char *id2 = read_text(rp);
    CHECK(strlen(id2) == 17 && strcmp(id1, id2) != 0, "--overwrite kept the run id %s", id2);
    free(id1);
    free(id2);
}

static void scenario_line(void) {
    char a[700], b[700], cmd[2400];
    snprintf(a, sizeof a, "%s/other", WORK);
    snprintf(b, sizeof b, "%s/mine", WORK);
    int rc = train(2, a, "--set", "output.save_every=6", NULL);  // another run's step 6
    CHECK(rc == 0, "run a: exit %d:\n%s", rc, out_text);
    rc = train(2, b, "--set", "output.save_every=2", "--set", "train.stop_after=2", NULL);
    CHECK(rc == 0, "run b to step 2: exit %d:\n%s", rc, out_text);
    // the other run's newer checkpoint lands in b's directory (copied by hand, a shared dir...)
    snprintf(cmd, sizeof cmd, "cp -r '%s/checkpoints/step-00000006' '%s/checkpoints/'", a, b);
    CHECK(system(cmd) == 0, "%s", cmd);
    rc = train(2, b, "--set", "output.save_every=2", "--set", "output.keep_last=1", "--set", "train.stop_after=4",
               "--resume", NULL);
    CHECK(rc == 0, "run b --resume: exit %d:\n%s", rc, out_text);
    CHECK(strstr(out_text, "step-00000002 (step 2)") != NULL, "b did not resume its own step 2:\n%s", out_text);
    CHECK(strstr(out_text, "passing over step 6") != NULL, "the other run's step 6 was passed over silently:\n%s",
          out_text);
    CHECK(cli_exists("%s/checkpoints/step-00000004/COMPLETE", b), "keep_last=1 removed the checkpoint just written");
    CHECK(!cli_exists("%s/checkpoints/step-00000002", b), "keep_last=1 kept b's older step 2");
    CHECK(cli_exists("%s/checkpoints/step-00000006/COMPLETE", b), "b's pruning removed another run's checkpoint");
    // with no checkpoint of its own left to resume, --resume refuses rather than taking the other run's
    snprintf(cmd, sizeof cmd, "rm -rf '%s/checkpoints/step-00000004'", b);
    CHECK(system(cmd) == 0, "%s", cmd);
    rc = train(2, b, "--set", "train.stop_after=4", "--resume", NULL);
    CHECK(rc != 0 && strstr(out_text, "belongs to another run"), "resuming another run's checkpoint: exit %d:\n%s",
          rc, out_text);
}

static void scenario_tmp(void) {
    char out[700], p[900];
    snprintf(out, sizeof out, "%s/run", WORK);
    int rc = train(2, out, "--set", "output.save_every=2", "--set", "train.stop_after=2", NULL);
    CHECK(rc == 0, "first run: exit %d:\n%s", rc, out_text);
    const char *orphans[] = {"metrics.jsonl.tmp.99999", "checkpoints/step-00000002/rank-00001.bin.tmp.4242",
                             "hf/model.safetensors.tmp.31337"};
    snprintf(p, sizeof p, "%s/hf", out);
    CHECK(s1c_mkdirs(p) == S1C_OK, "%s", s1c_err_msg());
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", out, orphans[i]);
        write_text(p, "half-written bytes of a killed save\n");
    }
    snprintf(p, sizeof p, "%s/notes.tmp.txt", out);  // not the temporaries' pattern: kept
    write_text(p, "mine\n");
    rc = train(2, out, "--set", "output.save_every=2", "--set", "train.stop_after=4", "--set", "output.export=true",
               "--resume", NULL);
    CHECK(rc == 0, "resumed run: exit %d:\n%s", rc, out_text);
    CHECK(strstr(out_text, "removed 3 orphan temporary files") != NULL, "no word of the removed files:\n%s", out_text);
    for (int i = 0; i < 3; i++) CHECK(!cli_exists("%s/%s", out, orphans[i]), "%s/%s is still there", out, orphans[i]);
    CHECK(cli_exists("%s/notes.tmp.txt", out), "a file that is not a temporary was removed");
    CHECK(cli_exists("%s/hf/model.safetensors", out), "no export");
}

static void scenario_nonfinite(void) {
    char out[700], skip[700];
    snprintf(out, sizeof out, "%s/diverge", WORK);
    snprintf(skip, sizeof skip, "%s/skip", WORK);
    int rc = train(2, out, "--set", "optim.lr=1e6", "--set", "optim.warmup_ratio=0", "--set", "output.save_every=1",
                   "--set", "output.keep_last=1", NULL);
    CHECK(rc == 4, "a diverging run exited %d, expected 4:\n%s", rc, out_text);
    CHECK(strstr(out_text, "not finite") && strstr(out_text, "train.nonfinite stop"), "no clear message:\n%s",
          out_text);
    long step = -1;
    for (long s = 1; s <= 6; s++)
        if (cli_exists("%s/checkpoints/step-%08ld/COMPLETE", out, s)) step = s;
    CHECK(step >= 1, "no checkpoint survived the divergence");
    // what is left loads (the load refuses non-finite state), then diverges again: exit 4, not a load error
    rc = train(2, out, "--set", "optim.lr=1e6", "--set", "optim.warmup_ratio=0", "--set", "output.save_every=1",
               "--set", "output.keep_last=1", "--resume", NULL);
    CHECK(rc == 4 && strstr(out_text, "resuming from"), "resuming the last checkpoint: exit %d:\n%s", rc, out_text);
    rc = train(2, skip, "--set", "optim.lr=1e6", "--set", "optim.warmup_ratio=0", "--set", "train.nonfinite=skip_step",
               NULL);
    CHECK(rc == 0 && strstr(out_text, "update skipped"), "skip_step: exit %d:\n%s", rc, out_text);
}

static void scenario_nanweight(void) {
    char bad[700], out[700];
    snprintf(bad, sizeof bad, "%s/model-nan", WORK);
    snprintf(out, sizeof out, "%s/run", WORK);
    s1c_qwen2_config c;
    fx_tiny_config(&c, 1);
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&c);
    float **units = s1c_xcalloc((size_t)lay->n_units, sizeof(float *));
    OK(s1c_qwen2_weights_load(model, &c, lay, units));
    const s1c_param_desc *d = &lay->units[1].params[1];  // the second tensor of block 0
    if (units[1]) units[1][d->offset + 37] = NAN;
    OK(s1c_qwen2_weights_save(bad, &c, lay, units, "f32", 0));
    char want[200];
    snprintf(want, sizeof want, "tensor %s element 37", d->name);
    for (int u = 0; u < lay->n_units; u++) free(units[u]);
    free(units);
    s1c_qwen2_layout_free(lay);
    char ms[800];
    snprintf(ms, sizeof ms, "model.path=%s", bad);  // after the fixed --set: the later one wins
    int rc = train(2, out, "--set", ms, NULL);
    CHECK(rc != 0 && strstr(out_text, want) && strstr(out_text, "non-finite weights are refused"),
          "a NaN weight: exit %d, want a refusal naming \"%s\":\n%s", rc, want, out_text);
}

// XORs byte `off` of a file with `mask` (off < 0: from the end).
static void flip(const char *path, long off, unsigned char mask) {
    FILE *fp = fopen(path, "r+b");
    CHECK(fp != NULL, "%s: cannot open", path);
    if (!fp) return;
    fseek(fp, off, off < 0 ? SEEK_END : SEEK_SET);
    const long at = ftell(fp);
    int c = fgetc(fp);
    fseek(fp, at, SEEK_SET);
    fputc(c ^ mask, fp);
    fclose(fp);
}

static void two_step_run(const char *out) {
    int rc = train(2, out, "--set", "output.save_every=2", "--set", "train.stop_after=2", NULL);
    CHECK(rc == 0, "run to step 2: exit %d:\n%s", rc, out_text);
}

static void scenario_checksum(void) {
    char out[700], shard[800];
    snprintf(out, sizeof out, "%s/run", WORK);
    two_step_run(out);
    snprintf(shard, sizeof shard, "%s/checkpoints/step-00000002/rank-00001.bin", out);
    flip(shard, -100, 0x10);  // inside the last unit's AdamW v
    int rc = train(2, out, "--set", "output.save_every=2", "--set", "train.stop_after=4", "--resume", NULL);
    CHECK(rc != 0 && strstr(out_text, "rank-00001.bin: unit 3 fails its checksum"),
          "a flipped byte: exit %d, want a refusal naming rank-00001.bin and unit 3:\n%s", rc, out_text);
    CHECK(!cli_exists("%s/checkpoints/step-00000004", out), "training went on from a damaged checkpoint");
}

static void scenario_header(void) {
    char out[700], shard[800];
    snprintf(out, sizeof out, "%s/run", WORK);
    two_step_run(out);
    snprintf(shard, sizeof shard, "%s/checkpoints/step-00000002/rank-00000.bin", out);
    const long shard_field = 40 + 16;  // unit 0's {numel, padded, shard, crc}: shard's bytes
    flip(shard, shard_field + 7, 0x80);  // bit 63: shard * 2 wraps to the same padded size
    int rc = train(2, out, "--set", "train.stop_after=4", "--resume", NULL);
    CHECK(rc != 0 && strstr(out_text, "rank-00000.bin: header fails its checksum"),
          "bit 63 of shard: exit %d, want the header checksum refusal:\n%s", rc, out_text);
    // the same with a matching header CRC: the range checks alone must refuse it
    const int nu = 4;
    const long hb = 40 + nu * 32;
    unsigned char h[40 + 4 * 32];
    FILE *fp = fopen(shard, "r+b");
    CHECK(fp && fread(h, 1, (size_t)hb, fp) == (size_t)hb, "%s: cannot read the header", shard);
    if (fp) {
        const uint32_t crc = s1c_crc32c(0, h, (size_t)hb);
        fseek(fp, hb, SEEK_SET);
        fwrite(&crc, 4, 1, fp);
        fclose(fp);
    }
    rc = train(2, out, "--set", "train.stop_after=4", "--resume", NULL);
    CHECK(rc != 0 && strstr(out_text, "rank-00000.bin: unit 0: numel") && strstr(out_text, "do not fit"),
          "bit 63 of shard, header CRC matching: exit %d, want the range refusal:\n%s", rc, out_text);
}

// Starts s1c-train in the background (output into WORK/bg.log); env: NULL-terminated name/value
// pairs set in the child and forwarded to the ranks with mpirun -x.
static pid_t spawn(int np, const char *out, const char *const *env, ...) {
    const char *argv[80], *args[64];
    char bufs[4][700], log[700];
    va_list ap;
    va_start(ap, env);
    const int n = build_argv(args, bufs, np, out, ap);
    va_end(ap);
    int k = 0, skip = np > 0 ? 4 : 0;
    for (int i = 0; i < skip; i++) argv[k++] = args[i];
    for (int i = 0; np > 0 && env && env[i] && env[i + 1]; i += 2) {
        argv[k++] = "-x";
        argv[k++] = env[i];
    }
    for (int i = skip; i <= n; i++) argv[k++] = args[i];
    snprintf(log, sizeof log, "%s/bg.log", WORK);
    return cli_spawn(argv, env, log);
}

// Waits for pid (at most limit_s seconds, then SIGKILL); returns its exit status, output in out_text.
static int finish(pid_t pid, double limit_s, double *took) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (took) *took = dt;
        if (r == pid) break;
        if (dt > limit_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
    char log[700];
    snprintf(log, sizeof log, "%s/bg.log", WORK);
    char *t = read_text(log);
    snprintf(out_text, sizeof out_text, "%s", t);
    free(t);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits until OUT/metrics.jsonl holds at least `lines` records (or 60 s pass).
static void wait_steps(const char *out, int lines) {
    char p[800];
    snprintf(p, sizeof p, "%s/metrics.jsonl", out);
    for (int i = 0; i < 3000; i++) {
        char *t = read_text(p);
        int n = 0;
        for (const char *c = t; *c; c++) n += *c == '\n';
        free(t);
        if (n >= lines) return;
        nanosleep(&(struct timespec){0, 20000000}, NULL);
    }
}

static void scenario_stop_signal(int np, int sig, const char *name) {
    char out[700];
    snprintf(out, sizeof out, "%s/run", WORK);
    pid_t pid = spawn(np, out, NULL, "--set", "train.epochs=40", NULL);  // 240 steps: far more than it will run
    wait_steps(out, 2);
    kill(pid, sig);
    int rc = finish(pid, 60, NULL);
    char want[64];
    snprintf(want, sizeof want, "%s received: stopped after step", name);
    CHECK(rc == 75 && strstr(out_text, want), "%s: exit %d, want 75 and \"%s\":\n%s", name, rc, want, out_text);
    long step = 0;
    const char *at = strstr(out_text, want);
    if (at) step = atol(at + strlen(want));
    CHECK(step >= 2 && step < 240 && cli_exists("%s/checkpoints/step-%08ld/COMPLETE", out, step),
          "no complete checkpoint of the step it stopped after (%ld)", step);
    // the requeued job continues where it stopped (one more step here)
    char stop[64], from[64];
    snprintf(stop, sizeof stop, "train.stop_after=%ld", step + 1);
    snprintf(from, sizeof from, "(step %ld)", step);
    rc = train(np, out, "--set", "train.epochs=40", "--set", stop, "--resume", NULL);
    CHECK(rc == 0 && strstr(out_text, from), "--resume after %s: exit %d, want a resume %s:\n%s", name, rc, from,
          out_text);
    CHECK(cli_exists("%s/checkpoints/step-%08ld/COMPLETE", out, step + 1), "no step %ld after the resume", step + 1);
}

static void scenario_sigint(void) {
    char out[700];
    snprintf(out, sizeof out, "%s/run", WORK);
    pid_t pid = spawn(0, out, NULL, "--set", "train.epochs=40", NULL);
    wait_steps(out, 1);
    kill(pid, SIGINT);
    double took = 0;
    int rc = finish(pid, 60, &took);
    CHECK(rc == 130 && strstr(out_text, "interrupted by SIGINT"), "SIGINT: exit %d, want 130 and a message:\n%s", rc,
          out_text);
    CHECK(took < 5, "SIGINT took %.1f s to stop the run", took);
}

static void scenario_stall(void) {
    char out[700];
    snprintf(out, sizeof out, "%s/run", WORK);
    const char *env[] = {"S1C_FAULT_RANK", "1", "S1C_FAULT_STEP", "3", "S1C_FAULT_MODE", "stop", NULL};
    pid_t pid = spawn(2, out, env, "--set", "train.collective_timeout_s=2", NULL);
    double took = 0;
    int rc = finish(pid, 60, &took);
    CHECK(rc == 5, "a stalled rank: exit %d after %.1f s, want 5:\n%s", rc, took, out_text);
    CHECK(strstr(out_text, "did not complete within 2 s") && strstr(out_text, "step 3"),
          "the timeout message does not name the collective and step 3:\n%s", out_text);
}

static void scenario_cli(void) {
    char log[700];
    snprintf(log, sizeof log, "%s/cli.log", WORK);
    const char *help[] = {TRAIN, "--help", NULL};
    int rc = cli_run(help, NULL, log, out_text, sizeof out_text);
    CHECK(rc == 0 && strstr(out_text, "usage:") && strstr(out_text, "export --checkpoint"), "--help: exit %d:\n%s",
          rc, out_text);
    char cfg[700];
    snprintf(cfg, sizeof cfg, "%s/configs/tiny.yaml", SRC);
    const char *typo[] = {TRAIN, "--config", cfg, "--greedy", NULL};
    rc = cli_run(typo, NULL, log, out_text, sizeof out_text);
    CHECK(rc == 2 && strstr(out_text, "unknown option \"--greedy\""), "a mistyped flag: exit %d:\n%s", rc, out_text);
    const char *novalue[] = {TRAIN, "--config", cfg, "--set", NULL};
    rc = cli_run(novalue, NULL, log, out_text, sizeof out_text);
    CHECK(rc == 2 && strstr(out_text, "--set needs a value"), "a missing value: exit %d:\n%s", rc, out_text);
    const char *stray[] = {TRAIN, "--config", cfg, "stray", NULL};
    rc = cli_run(stray, NULL, log, out_text, sizeof out_text);
    CHECK(rc == 2 && strstr(out_text, "unexpected argument \"stray\""), "a stray argument: exit %d:\n%s", rc,
          out_text);
    const char *export_typo[] = {TRAIN, "export", "--checkpoint", "x", "--outt", "y", NULL};
    rc = cli_run(export_typo, NULL, log, out_text, sizeof out_text);
    CHECK(rc == 2 && strstr(out_text, "unknown option \"--outt\""), "export with a typo: exit %d:\n%s", rc, out_text);
}

static void scenario_maxsteps(void) {
    char out[700], p[800];
    snprintf(out, sizeof out, "%s/run", WORK);
    int rc = train(1, out, "--set", "train.max_steps=8", "--set", "optim.warmup_ratio=0", NULL);
    CHECK(rc == 0, "max_steps 8: exit %d:\n%s", rc, out_text);
    CHECK(strstr(out_text, "step 1/8 ") && strstr(out_text, "step 8/8 ") && !strstr(out_text, "step 9/"),
          "the step counter does not run 1/8 .. 8/8:\n%s", out_text);
    // lr of step k (0-based) = lr * 0.5 (1 + cos(pi k / 8)): step 8 (k = 7) at 0.0381 lr, not the
    // 0.25 lr a 12-step schedule stopped early would leave
    snprintf(p, sizeof p, "%s/metrics.jsonl", out);
    char *t = read_text(p);
    const char *last = strrchr(t, '{');
    const char *lr = last ? strstr(last, "\"lr\":") : NULL;
    const double got = lr ? strtod(lr + 5, NULL) : -1, want = 3e-3 * 0.5 * (1 + cos(M_PI * 7 / 8));
    CHECK(fabs(got - want) <= 1e-6 * want, "lr at step 8: %.9g, want %.9g (a schedule of 8 steps)", got, want);
    free(t);
}

static void scenario_export(void) {
    char out[700], ex[2][700], ck[800], hf[1500];
    snprintf(out, sizeof out, "%s/run", WORK);
    int rc = train(2, out, "--set", "output.export=true", "--set", "output.save_every=3", NULL);
    CHECK(rc == 0, "run: exit %d:\n%s", rc, out_text);
    snprintf(ck, sizeof ck, "%s/checkpoints/step-00000006", out);
    char np2[8] = "2";
    for (int i = 0; i < 2; i++) {
        snprintf(ex[i], sizeof ex[i], "%s/exported-%d", WORK, i);
        snprintf(hf, sizeof hf, "%s/hf", ex[i]);
        const char *with_mpi[] = {MPIEXEC, "-np", np2, "--oversubscribe", TRAIN, "export", "--checkpoint", ck, "--out",
                                  hf, NULL};
        const char *alone[] = {TRAIN, "export", "--checkpoint", ck, "--out", hf, "--dtype", "f32", NULL};
        char log[800];
        snprintf(log, sizeof log, "%s/export.log", WORK);
        rc = cli_run(i == 0 ? with_mpi : alone, NULL, log, out_text, sizeof out_text);
        CHECK(rc == 0 && strstr(out_text, "(step 6)"), "s1c-train export (%s): exit %d:\n%s",
              i == 0 ? "2 ranks" : "alone", rc, out_text);
        double rel[16];
        const int n = cli_export_rel_l2(ex[i], out, rel, 16);
        CHECK(n > 0, "comparing the exports: %s", s1c_err_msg());
        for (int u = 0; u < n; u++) CHECK(rel[u] == 0.0, "unit %d differs from the run's export: %g", u, rel[u]);
        CHECK(cli_exists("%s/tokenizer.json", hf), "no tokenizer file in %s", hf);
    }
    snprintf(ck, sizeof ck, "%s/checkpoints/step-00000099", out);
    const char *missing[] = {TRAIN, "export", "--checkpoint", ck, "--out", hf, "--config", "/nonexistent.yaml", NULL};
    char log[800];
    snprintf(log, sizeof log, "%s/export.log", WORK);
    rc = cli_run(missing, NULL, log, out_text, sizeof out_text);
    CHECK(rc != 0 && strstr(out_text, "nonexistent.yaml"), "export with a missing recipe: exit %d:\n%s", rc, out_text);
}

static void scenario_relpath(void) {
    char dir[700], recipe[800], cfg[700], cmd[3000];
    snprintf(dir, sizeof dir, "%s/recipes", WORK);
    snprintf(recipe, sizeof recipe, "%s/r.yaml", dir);
    snprintf(cfg, sizeof cfg, "%s/configs/tiny.yaml", SRC);
    CHECK(s1c_mkdirs(dir) == S1C_OK, "%s", s1c_err_msg());
    // tiny.yaml with its MISSING paths made relative to the recipe's folder
    snprintf(cmd, sizeof cmd,
             "sed -e '0,/path: MISSING/s//path: ..\\/model/' -e '0,/path: MISSING/s//path: ..\\/data.h5/' "
             "-e 's/dir: MISSING/dir: ..\\/rel-out/' '%s' > '%s'", cfg, recipe);
    CHECK(system(cmd) == 0, "%s", cmd);
    char log[800];
    snprintf(log, sizeof log, "%s/rel.log", WORK);
    const char *argv[] = {TRAIN, "--config", recipe, "--set", "train.stop_after=1", "--set", "output.export=false", NULL};
    int rc = cli_run(argv, NULL, log, out_text, sizeof out_text);  // from the test's directory, not the recipe's
    CHECK(rc == 0, "a recipe with relative paths: exit %d:\n%s", rc, out_text);
    CHECK(cli_exists("%s/rel-out/checkpoints/step-00000001/COMPLETE", WORK), "no checkpoint under %s/rel-out", WORK);
    const char *plan[] = {TRAIN, "--plan", "--config", recipe, "--gpus", "2", NULL};
    rc = cli_run(plan, NULL, log, out_text, sizeof out_text);
    CHECK(rc == 0, "--plan with relative paths: exit %d:\n%s", rc, out_text);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: test_train_safety SCENARIO MPIEXEC S1C_TRAIN SOURCE_DIR WORK_DIR\n");
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
    make_inputs();
    if (!strcmp(argv[1], "lock")) scenario_lock();
    else if (!strcmp(argv[1], "fresh")) scenario_fresh();
    else if (!strcmp(argv[1], "line")) scenario_line();
    else if (!strcmp(argv[1], "tmp")) scenario_tmp();
    else if (!strcmp(argv[1], "nonfinite")) scenario_nonfinite();
    else if (!strcmp(argv[1], "nanweight")) scenario_nanweight();
    else if (!strcmp(argv[1], "checksum")) scenario_checksum();
    else if (!strcmp(argv[1], "header")) scenario_header();
    else if (!strcmp(argv[1], "sigusr1")) scenario_stop_signal(2, SIGUSR1, "SIGUSR1");
    else if (!strcmp(argv[1], "sigterm")) scenario_stop_signal(0, SIGTERM, "SIGTERM");
    else if (!strcmp(argv[1], "sigint")) scenario_sigint();
    else if (!strcmp(argv[1], "stall")) scenario_stall();
    else if (!strcmp(argv[1], "cli")) scenario_cli();
    else if (!strcmp(argv[1], "maxsteps")) scenario_maxsteps();
    else if (!strcmp(argv[1], "export")) scenario_export();
    else if (!strcmp(argv[1], "relpath")) scenario_relpath();
    else {
        fprintf(stderr, "unknown scenario %s\n", argv[1]);
        return 2;
    }
    printf("test_train_safety %s: %s (%d failures)\n", argv[1], check_failures ? "FAIL" : "ok", check_failures);
    return check_failures ? 1 : 0;
}
