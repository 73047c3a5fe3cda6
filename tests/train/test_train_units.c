// Unit tests of the trainer's pure parts: recipe parsing/validation, the LR schedule against
// values printed by transformers 5.24 (get_cosine_schedule_with_warmup / constant), the sampler,
// and the sharding arithmetic. No MPI, no model compute.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "crc32c.h"
#include "flops.h"
#include "cuda_plan.h"
#include "plan.h"
#include "sampler.h"
#include "schedule.h"
#include "shard.h"

static const char *SRC;  // source dir (configs/)
static char tmpdir[256];

static void write_text(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

// Loads `yaml` and expects failure with `needle` in the message (or success when needle NULL).
static void expect_load(const char *yaml, const char *needle) {
    char path[300];
    snprintf(path, sizeof path, "%s/c.yaml", tmpdir);
    write_text(path, yaml);
    s1c_train_config c;
    s1c_train_config_defaults(&c);
    s1c_status st = s1c_train_config_load(&c, path);
    if (!needle) CHECK(st == S1C_OK, "yaml should load: %s", s1c_err_msg());
    else CHECK(st != S1C_OK && strstr(s1c_err_msg(), needle), "expected error with \"%s\", got %s: \"%s\"", needle,
               st ? "error" : "success", st ? s1c_err_msg() : "");
}

static void test_config(void) {
    char path[1200];
    s1c_train_config c;
    s1c_train_config_defaults(&c);
    snprintf(path, sizeof path, "%s/configs/s1-32b.yaml", SRC);
    CHECK(s1c_train_config_load(&c, path) == S1C_OK, "s1-32b.yaml: %s", s1c_err_msg());
    // the paper's recipe
    CHECK(c.epochs == 5 && c.global_batch_size == 16 && c.micro_batch_size == 1, "batching");
    CHECK(c.lr == 1e-5 && c.warmup_ratio == 0.05 && !strcmp(c.schedule, "cosine"), "lr");
    CHECK(c.beta1 == 0.9 && c.beta2 == 0.95 && c.weight_decay == 1e-4 && c.max_grad_norm == 1.0, "adamw");
    CHECK(!strcmp(c.precision, "bf16") && c.block_size == 32768 && c.recompute == 1, "precision/block/recompute");
    CHECK(s1c_train_config_validate(&c, 16, 0) == S1C_OK, "16 ranks: %s", s1c_err_msg());
    CHECK(s1c_train_config_validate(&c, 8, 0) == S1C_OK, "8 ranks (2 micro-batches): %s", s1c_err_msg());
    CHECK(s1c_train_config_validate(&c, 3, 0) != S1C_OK && strstr(s1c_err_msg(), "not divisible"), "3 ranks");
    CHECK(s1c_train_config_validate(&c, 16, 1) != S1C_OK && strstr(s1c_err_msg(), "no such file"), "missing model");

    s1c_train_config d;
    s1c_train_config_defaults(&d);
    snprintf(path, sizeof path, "%s/configs/s1.1-32b.yaml", SRC);
    CHECK(s1c_train_config_load(&d, path) == S1C_OK && d.block_size == 20000 && d.lr == 1e-5, "s1.1: %s", s1c_err_msg());
    const char *others[] = {"qwen2.5-0.5b-smoke.yaml", "tiny.yaml"};
    for (int i = 0; i < 2; i++) {
        s1c_train_config_defaults(&d);
        snprintf(path, sizeof path, "%s/configs/%s", SRC, others[i]);
        CHECK(s1c_train_config_load(&d, path) == S1C_OK, "%s: %s", others[i], s1c_err_msg());
    }

    // overrides
    CHECK(s1c_train_config_set(&c, "optim.lr=2e-5") == S1C_OK && c.lr == 2e-5, "--set lr");
    CHECK(s1c_train_config_set(&c, "train.recompute=false") == S1C_OK && c.recompute == 0, "--set bool");
    CHECK(s1c_train_config_set(&c, "output.dir=/x/y") == S1C_OK && !strcmp(c.out_dir, "/x/y"), "--set path");
    CHECK(s1c_train_config_set(&c, "optim.lr=fast") != S1C_OK && strstr(s1c_err_msg(), "expected a number"), "type");
    CHECK(s1c_train_config_set(&c, "optim.lr_max=1") != S1C_OK && strstr(s1c_err_msg(), "unknown key"), "unknown");
    CHECK(s1c_train_config_set(&c, "train.epochs=2.5") != S1C_OK && strstr(s1c_err_msg(), "integer"), "int type");
    CHECK(s1c_train_config_set(&c, "train.loss_norm=median") != S1C_OK && strstr(s1c_err_msg(), "seq_mean"), "enum");
    CHECK(s1c_train_config_set(&c, "noequals") != S1C_OK, "no =");
    CHECK(s1c_train_config_set(&c, "train.global_batch_size=12") == S1C_OK &&
              s1c_train_config_validate(&c, 8, 0) != S1C_OK && strstr(s1c_err_msg(), "12"),
          "12 over 8 ranks");

    // YAML errors name file and line
    expect_load("train:\n  epochs: 3\n", NULL);
    expect_load("train:\n  epochs: 3\n  epoch: 4\n", "c.yaml:3: unknown key \"train.epoch\"");
    expect_load("train:\n  epochs: three\n", "c.yaml:2: train.epochs: expected an integer");
    expect_load("optim:\n  lr: [1, 2]\n", "lists");
    expect_load("optim: 3\n", "is a section");
    expect_load("train:\n  recompute: maybe\n", "expected true or false");
    expect_load("train:\n  epochs: \"3\n", "YAML syntax error");
    expect_load("unknown_section:\n  x: 1\n", "unknown key \"unknown_section.x\"");
    // a key twice, a section twice, a second document (issue 13: the last value won silently)
    expect_load("optim:\n  lr: 1e-5\n  lr: 1e-3\n", "c.yaml:3: duplicate key \"optim.lr\" (first on line 2)");
    expect_load("optim:\n  lr: 1e-5\ntrain:\n  epochs: 1\noptim:\n  beta1: 0.8\n",
                "c.yaml:5: duplicate key \"optim\" (first on line 1)");
    expect_load("train:\n  epochs: 3\n---\ntrain:\n  epochs: 5\n", "c.yaml:3: a second YAML document");
    s1c_train_config_defaults(&d);
    CHECK(s1c_train_config_load(&d, "/nonexistent/recipe.yaml") != S1C_OK && strstr(s1c_err_msg(), "cannot open"),
          "missing config file");

    // round trip through the writer
    snprintf(path, sizeof path, "%s/round.yaml", tmpdir);
    CHECK(s1c_train_config_write(&c, path) == S1C_OK, "write: %s", s1c_err_msg());
    s1c_train_config_defaults(&d);
    CHECK(s1c_train_config_load(&d, path) == S1C_OK, "reload: %s", s1c_err_msg());
    CHECK(d.lr == c.lr && d.recompute == c.recompute && !strcmp(d.out_dir, c.out_dir) &&
              d.global_batch_size == c.global_batch_size && d.beta2 == c.beta2,
          "round trip differs");
}

// Found by tests/fuzz/fuzz_train_config: --set values holding YAML syntax (quotes, backslashes,
// line breaks) were written unescaped, so the run directory's recipe did not load back (or loaded
// different values); bytes that are not UTF-8 cannot be written as YAML at all and are refused.
static void test_config_roundtrip_fuzz(void) {
    s1c_train_config c, d;
    s1c_train_config_defaults(&c);
    static const char *const sets[] = {
        "output.dir=/tmp/a \"b\" \\c\\",       // quotes and backslashes
        "model.path=m\nodel:\n  x: 1\t#",     // a line break that looks like YAML
        "data.path=d\xc2\x85" "e\xe2\x80\xa8" "f\xef\xbb\xbf" "g\x7f\x01",  // NEL, LS, BOM, DEL, C0: escaped
        "plan.model_config=\xe4\xb8\xad \xf0\x9f\x98\x80",  // ordinary UTF-8 stays as is
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        CHECK(s1c_train_config_set(&c, sets[i]) == S1C_OK, "--set #%zu: %s", i, s1c_err_msg());
    char path[300];
    snprintf(path, sizeof path, "%s/fuzz_round.yaml", tmpdir);
    CHECK(s1c_train_config_write(&c, path) == S1C_OK, "write: %s", s1c_err_msg());
    s1c_train_config_defaults(&d);
    CHECK(s1c_train_config_load(&d, path) == S1C_OK, "escaped recipe reloads: %s", s1c_err_msg());
    CHECK(!strcmp(d.out_dir, c.out_dir) && !strcmp(d.model_path, c.model_path) && !strcmp(d.data_path, c.data_path) &&
              !strcmp(d.plan_model_config, c.plan_model_config),
          "escaped strings round trip: \"%s\" \"%s\" \"%s\"", d.out_dir, d.model_path, d.data_path);
    // the crasher: a --set path with a stray byte (0xEC) that is not UTF-8
    CHECK(s1c_train_config_set(&c, "output.dir=/tmp/m\xec" "del:\n  icl") != S1C_OK &&
              strstr(s1c_err_msg(), "output.dir: value is not valid UTF-8 at byte offset 6"),
          "non-UTF-8 value refused: %s", s1c_err_msg());
    CHECK(!strcmp(c.out_dir, "/tmp/a \"b\" \\c\\"), "a refused value leaves the old one");
}

// CRC-32C of the checkpoint shards: the standard check value (on the path this CPU takes),
// chaining equals one pass (odd lengths, an unaligned start: the tails), a flipped bit shows.
static void test_crc32c(void) {
    CHECK(s1c_crc32c(0, "123456789", 9) == 0xE3069283u, "crc32c(\"123456789\") = %08x", s1c_crc32c(0, "123456789", 9));
    unsigned char buf[1003];
    for (int i = 0; i < 1003; i++) buf[i] = (unsigned char)(i * 131 + 7);
    const uint32_t whole = s1c_crc32c(0, buf + 1, 1001);
    CHECK(s1c_crc32c(s1c_crc32c(0, buf + 1, 500), buf + 501, 501) == whole, "chained crc32c differs");
    buf[700] ^= 4;
    CHECK(s1c_crc32c(0, buf + 1, 1001) != whole, "a flipped bit leaves crc32c unchanged");
}

static void test_schedule(void) {
    // s1: 315 steps, warmup ratio 0.05
    CHECK(s1c_warmup_steps(0.05, 315) == 16, "warmup of 315 = %ld", s1c_warmup_steps(0.05, 315));
    CHECK(s1c_warmup_steps(0.1, 12) == 2 && s1c_warmup_steps(0.05, 100) == 5 && s1c_warmup_steps(0, 10) == 0,
          "warmup ceil");
    // printed by torch + transformers: lr at optimizer step i, base 1e-5, warmup 16, total 315
    struct {
        long step;
        double lr;
    } ref[] = {{0, 0.0},
               {1, 6.25e-07},
               {8, 5e-06},
               {15, 9.375000000000001e-06},
               {16, 1e-05},
               {17, 9.999724009977419e-06},
               {100, 8.175772078190706e-06},
               {200, 3.226975564787322e-06},
               {314, 2.7599002258127395e-10}};
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        double got = 1e-5 * s1c_lr_lambda("cosine", ref[i].step, 16, 315);
        CHECK(fabs(got - ref[i].lr) <= 1e-15 * 1e-5 + 1e-12 * ref[i].lr, "cosine step %ld: %.17g vs %.17g",
              ref[i].step, got, ref[i].lr);
    }
    // constant with warmup 3, base 2e-3: [0, 6.667e-4, 1.333e-3, 2e-3, 2e-3, 2e-3]
    const double cref[] = {0.0, 0.0006666666666666666, 0.0013333333333333333, 0.002, 0.002, 0.002};
    for (int i = 0; i < 6; i++)
        CHECK(fabs(2e-3 * s1c_lr_lambda("constant", i, 3, 6) - cref[i]) < 1e-18, "constant step %d", i);
    CHECK(fabs(s1c_lr_lambda("cosine", 315, 16, 315)) < 1e-16, "the schedule ends at 0");
}

static void test_sampler(void) {
    enum { N = 37, G = 8 };
    uint32_t len[N];
    for (int i = 0; i < N; i++) len[i] = (uint32_t)(5 + (i * 7919) % 50);
    s1c_sampler s;
    CHECK(s1c_sampler_init(&s, len, N, 40, G, 3, 1234) == S1C_OK, "init");
    CHECK(s.steps_per_epoch == 5 && s.total_steps == 15, "steps %ld/%ld", s.steps_per_epoch, s.total_steps);
    for (int i = 0; i < N; i++) CHECK(s.lengths[i] <= 40, "block cut");
    // permutations: valid, seeded, different per epoch
    size_t p0[N], p1[N], q0[N];
    s1c_sampler_permutation(1234, 0, N, p0);
    s1c_sampler_permutation(1234, 1, N, p1);
    s1c_sampler_permutation(1234, 0, N, q0);
    int seen[N] = {0}, same01 = 1;
    for (int i = 0; i < N; i++) {
        seen[p0[i]]++;
        same01 &= p0[i] == p1[i];
        CHECK(p0[i] == q0[i], "not deterministic");
    }
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1, "not a permutation");
    CHECK(!same01, "epochs share an order");

    // For every step: the union over ranks is the same set for 1, 2, 4 ranks, each sample once
    // per epoch, every rank has G/(W*mb) micro-batches, balance keeps loads close.
    for (int balance = 0; balance < 2; balance++) {
        int count[3][N];
        memset(count, 0, sizeof count);
        const int worlds[3] = {1, 2, 4};
        for (int wi = 0; wi < 3; wi++) {
            const int W = worlds[wi], mb = W == 4 ? 2 : 1;
            for (long st = 0; st < s.steps_per_epoch; st++) {
                long load[4] = {0}, total = 0, maxlen = 0;
                int got = 0;
                for (int r = 0; r < W; r++) {
                    s1c_step_plan p;
                    CHECK(s1c_sampler_step(&s, st, W, r, mb, balance, &p) == S1C_OK, "step: %s", s1c_err_msg());
                    CHECK(p.n_micro == G / (W * mb), "n_micro %d", p.n_micro);
                    for (int m = 0; m < p.n_micro; m++)
                        for (int j = 0; j < p.count[m]; j++) {
                            size_t id = p.sample[(size_t)m * (size_t)mb + (size_t)j];
                            count[wi][id]++;
                            load[r] += s.lengths[id];
                            if ((long)s.lengths[id] > maxlen) maxlen = s.lengths[id];
                            got++;
                        }
                    total = p.step_tokens;
                    CHECK(p.step_samples == (st < 4 ? G : N - 4 * G), "step samples %d", p.step_samples);
                    s1c_step_plan_free(&p);
                }
                CHECK(got == (st < 4 ? G : N - 4 * G), "samples in step %ld: %d", st, got);
                long sum = 0, mx = 0, mn = 1L << 40;
                for (int r = 0; r < W; r++) {
                    sum += load[r];
                    if (load[r] > mx) mx = load[r];
                    if (load[r] < mn) mn = load[r];
                }
                CHECK(sum == total, "step tokens %ld vs %ld", sum, total);
                // greedy longest-first: the spread is at most one sample's length
                if (balance && st < 4) CHECK(mx - mn <= maxlen, "imbalance %ld > %ld (W %d)", mx - mn, maxlen, W);
            }
        }
        for (int i = 0; i < N; i++)
            CHECK(count[0][i] == 1 && count[1][i] == 1 && count[2][i] == 1, "sample %d seen %d/%d/%d", i, count[0][i],
                  count[1][i], count[2][i]);
    }
    s1c_step_plan p;
    CHECK(s1c_sampler_step(&s, 15, 1, 0, 1, 1, &p) != S1C_OK, "step past the end");
    CHECK(s1c_sampler_step(&s, 0, 3, 0, 1, 1, &p) != S1C_OK, "8 over 3 ranks");
    s1c_sampler_free(&s);
}

static void test_shard(void) {
    s1c_shard_geom g = s1c_shard_geometry(10, 4);
    CHECK(g.shard == 3 && g.padded == 12, "10 over 4");
    g = s1c_shard_geometry(12, 4);
    CHECK(g.shard == 3 && g.padded == 12, "12 over 4");
    g = s1c_shard_geometry(7, 1);
    CHECK(g.shard == 7 && g.padded == 7, "7 over 1");
    // a unit: norm [4] (no decay), w [6] (decay), b [3] (no decay), w2 [4] (decay): 17 elements
    s1c_param_desc pd[4] = {0};
    size_t sizes[4] = {4, 6, 3, 4};
    int dec[4] = {0, 1, 0, 1};
    size_t off = 0;
    for (int i = 0; i < 4; i++) {
        pd[i].offset = off;
        pd[i].numel = sizes[i];
        pd[i].decay = dec[i];
        off += sizes[i];
    }
    s1c_unit_desc u = {4, pd, off};
    for (int W = 1; W <= 5; W++) {
        g = s1c_shard_geometry(u.numel, W);
        int covered[17] = {0};
        for (int r = 0; r < W; r++) {
            s1c_shard_seg seg[8];
            int n = s1c_shard_segments(&u, g, r, seg, 8);
            CHECK(n == s1c_shard_segments(&u, g, r, NULL, 0), "count pass differs");
            for (int k = 0; k < n; k++) {
                CHECK(seg[k].begin < seg[k].end && seg[k].end <= g.shard, "segment bounds");
                for (size_t e = seg[k].begin; e < seg[k].end; e++) {
                    size_t gl = (size_t)r * g.shard + e;
                    CHECK(gl < 17, "segment covers padding");
                    if (gl >= 17) continue;
                    covered[gl]++;
                    int want = gl < 4 ? 0 : gl < 10 ? 1 : gl < 13 ? 0 : 1;
                    CHECK(seg[k].decay == want, "decay of element %zu", gl);
                }
                if (k) CHECK(!(seg[k - 1].end == seg[k].begin && seg[k - 1].decay == seg[k].decay), "unmerged");
            }
        }
        for (int i = 0; i < 17; i++) CHECK(covered[i] == 1, "W %d element %d covered %d times", W, i, covered[i]);
    }
}

// The step simulation against a case computed by hand (2 ranks, 1 layer, 1 micro-batch, untied,
// recompute on; every op's time and every collective's start written out below).
static void test_plan_formula(void) {
    s1c_plan_sim sim = {.W = 2, .L = 1, .n_micro = 1, .recompute = 1, .tied = 0, .gemm_flops_s = 1e12,
                        .attn_flops_s = 1e12, .p_block = 1e6, .p_head = 1e6, .attn_unit = 100,
                        .gather_s = {1e-3, 5e-4, 1e-3}, .rs_s = {2e-3, 1e-3, 2e-3}, .adam_s = 0.01};
    // rank 0: one 1000-token sequence (500500 pairs), rank 1: 500 tokens (125250 pairs)
    const s1c_plan_work w[2] = {{1000, 500500, 0}, {500, 125250, 0}};
    // block forward 2 p T / g + 4 u A / a:  r0 2e-3 + 2.002e-4, r1 1e-3 + 5.01e-5
    // head 6 V C T / g:                     r0 6e-3,  r1 3e-3
    // block backward 6 p T / g + 14 u A / a: r0 6e-3 + 7.007e-4, r1 3e-3 + 1.7535e-4
    // comm: gather emb [0, 1e-3]; block [1e-3, 1.5e-3]; head [1.5e-3, 2.5e-3];
    // block fwd r0 [1.5e-3, 3.7002e-3]; gather block (waits for it) [3.7002e-3, 4.2002e-3];
    // head r0 [3.7002e-3, 9.7002e-3], its reduce-scatter [9.7002e-3, 11.7002e-3];
    // block bwd r0 [9.7002e-3, 16.4009e-3], reduce-scatter [16.4009e-3, 17.4009e-3];
    // embedding bwd waits for the head's buffer (11.7002e-3), its reduce-scatter [17.4009e-3,
    // 19.4009e-3]; AdamW 0.01
    double cs = 0;
    const double t = s1c_plan_step_time(&sim, w, &cs);
    CHECK(fabs(t - 29.4009e-3) < 1e-12, "step %.9g s, by hand 0.0294009", t);
    CHECK(fabs(cs - 14.9009e-3) < 1e-12, "slowest-rank compute %.9g s, by hand 0.0149009", cs);
    // the step is the slowest rank's: rank 1 doing rank 0's work changes nothing; tied, with two
    // micro-batches, the embedding is gathered once (the second EMB_FWD waits for nothing)
    sim.tied = 1;
    const s1c_plan_work even[4] = {{1000, 500500, 0}, {1000, 500500, 0}, {1000, 500500, 0}, {1000, 500500, 0}};
    CHECK(fabs(s1c_plan_step_time(&sim, even, &cs) - 29.4009e-3) < 1e-12, "balanced: the same step");
    sim.n_micro = 2;
    const double t2 = s1c_plan_step_time(&sim, even, &cs);
    CHECK(fabs(cs - 2 * 14.9009e-3) < 1e-12 && t2 < 2 * 29.4009e-3 - 0.01, "two micro-batches: %.9g s", t2);
    sim.n_micro = 1;
    // an exchange adds to the block ops: forward once, backward twice (recompute)
    const s1c_plan_work xw[2] = {{1000, 500500, 1e-4}, {1000, 500500, 1e-4}};
    double cx = 0;
    s1c_plan_step_time(&sim, xw, &cx);
    s1c_plan_step_time(&sim, even, &cs);
    CHECK(fabs(cx - cs - 3e-4) < 1e-12, "exchange on the critical path: %.9g vs %.9g", cx, cs);
}

// The cluster: ring bus bandwidth and point-to-point links of the documented example.
static void test_plan_cluster(void) {
    s1c_train_config c;
    s1c_train_config_defaults(&c);
    s1c_cluster cl;
    CHECK(s1c_cluster_of(&c, &cl) == S1C_OK, "%s", s1c_err_msg());
    // 2 x 8 H100, NVLink 450 GB/s, 8 x 400 Gbit/s: min(450, 8 x 50) x 0.9 = 360 GB/s
    CHECK(s1c_cluster_gpus(&cl) == 16 && fabs(s1c_cluster_bus_gbs(&cl) - 360) < 1e-9, "bus %g",
          s1c_cluster_bus_gbs(&cl));
    CHECK(fabs(s1c_cluster_p2p_gbs(&cl, 3, 4) - 405) < 1e-9 && fabs(s1c_cluster_p2p_gbs(&cl, 7, 8) - 45) < 1e-9,
          "p2p in node %g, across %g", s1c_cluster_p2p_gbs(&cl, 3, 4), s1c_cluster_p2p_gbs(&cl, 7, 8));
    CHECK(cl.gpu_mem_gb == 80 && cl.peak_tflops == 989, "h100 preset");
    c.cluster_nodes = 1;
    CHECK(s1c_cluster_of(&c, &cl) == S1C_OK && fabs(s1c_cluster_bus_gbs(&cl) - 405) < 1e-9, "one node: NVLink");
    c.cluster_nodes = 2;
    c.cluster_nics_per_node = 4;
    CHECK(s1c_cluster_of(&c, &cl) == S1C_OK && fabs(s1c_cluster_bus_gbs(&cl) - 180) < 1e-9, "4 NICs: %g",
          s1c_cluster_bus_gbs(&cl));
    c.cluster_nics_per_node = 0;
    CHECK(s1c_cluster_of(&c, &cl) != S1C_OK, "two nodes without NICs accepted");
    c.cluster_nics_per_node = 8;
    snprintf(c.cluster_gpu, sizeof c.cluster_gpu, "h200");
    c.cluster_gemm_tflops = 500;
    CHECK(s1c_cluster_of(&c, &cl) == S1C_OK && cl.gpu_mem_gb == 141 && cl.gemm_tflops == 500, "h200 + override");
}

// --plan on the s1-32B recipe with the Qwen2.5-32B shape.
static void test_plan(void) {
    char path[1200];
    s1c_train_config c;
    s1c_train_config_defaults(&c);
    snprintf(path, sizeof path, "%s/configs/s1-32b.yaml", SRC);
    CHECK(s1c_train_config_load(&c, path) == S1C_OK, "%s", s1c_err_msg());
    snprintf(path, sizeof path, "%s/configs/models/qwen2.5-32b-instruct/config.json", SRC);
    s1c_qwen2_config mc;
    CHECK(s1c_qwen2_config_load(path, &mc) == S1C_OK, "%s", s1c_err_msg());
    s1c_cluster cl;
    CHECK(s1c_cluster_of(&c, &cl) == S1C_OK, "%s", s1c_err_msg());
    s1c_plan_result r16, r8;
    CHECK(s1c_plan_compute(&c, &mc, &cl, NULL, 0, &r16) == S1C_OK, "%s", s1c_err_msg());
    cl.nodes = 1;
    CHECK(s1c_plan_compute(&c, &mc, &cl, NULL, 0, &r8) == S1C_OK, "%s", s1c_err_msg());
    // 32.76B parameters: fp32 master slice = 4 bytes x P / 16 (padding is at most 15 per unit)
    const double P = 32763876352.0;
    const s1c_plan_mode *s16 = &r16.mode[0], *s8 = &r8.mode[0];
    CHECK(fabs((double)s16->mem.master - 4 * P / 16) < 4 * 16 * 70 + 256 * 70, "master slice %zu vs %.0f",
          s16->mem.master, 4 * P / 16);
    CHECK(fabs((double)s8->mem.adam - 8 * P / 8) < 8 * 8 * 70 + 512 * 70, "adam slice");
    CHECK(r16.steps == 315 && r8.steps == 315, "steps %ld", r16.steps);
    CHECK(!s8->fits && s8->total > s16->total, "8 GPUs cannot hold s1-32B's state");
    CHECK(s16->fits, "16 GPUs fit (%.1f GB)", s16->total / 1e9);
    // FSDP traffic per rank per step, by hand: every unit's (W-1)/W through each rank; blocks
    // gathered twice (bf16), the untied embedding and LM head once, all reduce-scattered in fp32
    const double E = 152064.0 * 5120;
    const double fsdp = 15.0 / 16 * ((P - 2 * E) * (2 * 2 + 4) + 2 * E * (2 + 4));
    CHECK(fabs(r16.fsdp_bytes - fsdp) < 1e-4 * fsdp, "FSDP bytes %.4g vs %.4g", r16.fsdp_bytes, fsdp);
    // model FLOPs over the run: 315 steps; 16 x 8000 tokens except the 5 short batches of 8
    const double full = s1c_train_flops(&mc, 16 * 8000.0, 16 * 8000.0 * 8001.0);
    const double shrt = s1c_train_flops(&mc, 8 * 8000.0, 8 * 8000.0 * 8001.0);
    const double want = 310 * full + 5 * shrt;
    CHECK(fabs(s16->model_flops - want) < 1e-9 * want && fabs(r16.mode[1].model_flops - want) < 1e-9 * want,
          "model FLOPs %.6g vs %.6g", s16->model_flops, want);
    CHECK(fabs(s16->mfu_model - want / (16 * 989e12 * s16->run_s)) < 1e-12, "MFU");
    // equal lengths: the modes differ only in the short batches (8 sequences over 16 ranks)
    CHECK(r16.mode[1].step_p50 == s16->step_p50 && r16.mode[1].step_min < s16->step_min, "equal lengths: %g %g",
          r16.mode[1].step_p50, s16->step_p50);
    // the LM-head reservation is the CUDA backend's chunk: 2176 tokens at V = 152064, and exactly
    // the bytes cuda_lmhead.cu requests for it (s1c_cuda_ce_chunk_bytes)
    double bytes = 0;
    const int tcnk = s1c_plan_lmhead_chunk(&mc, 8000, &bytes);
    CHECK(tcnk == s1c_cuda_ce_chunk(8000, mc.vocab_size, 1, S1C_CE_CHUNK_BYTES) && tcnk == 2176 &&
              s16->lmhead == bytes && s16->lmhead_tokens == 2176,
          "LM-head chunk %d tokens, %.0f bytes (plan %d, %.0f)", tcnk, bytes, s16->lmhead_tokens, s16->lmhead);
    CHECK(bytes == (double)s1c_cuda_ce_chunk_bytes(tcnk, mc.vocab_size) && bytes >= 2176.0 * 152064 * 2 &&
              bytes <= (double)S1C_CE_CHUNK_BYTES,
          "LM-head bytes %.0f", bytes);
    // optimizer offload on 8 GPUs, by hand: per rank P / 8 elements of fp32 master, m, v leave the
    // GPU (12 B each; the gradient slice stays); the 4 B gradient slice goes out once a step, one
    // 2 B bf16 slice comes back; the host AdamW streams 30 B per element at 1/8 of 400 GB/s; the
    // staging pairs hold 2 x (4 + 2) B of the largest shard (the embedding's)
    {
        s1c_train_config co = c;
        co.offload_optimizer = 1;
        s1c_cluster clo = cl;
        clo.nodes = 1;
        s1c_plan_result ro;
        CHECK(s1c_plan_compute(&co, &mc, &clo, NULL, 0, &ro) == S1C_OK, "%s", s1c_err_msg());
        const double pad = 16.0 * 70 * 16 + 4 * 256 * 70;  // padding and arena rounding, all units
        const double sh = P / 8;
        CHECK(ro.off.on && fabs(ro.mode[0].total - (s8->total - 12 * sh)) < pad, "offloaded GPU total %.4g vs %.4g",
              ro.mode[0].total, s8->total - 12 * sh);
        CHECK(ro.mode[0].fits && ro.mode[1].fits && ro.mode[0].total < 80e9 && s8->total > 80e9,
              "offloaded 8 x 80 GB fits (%.2f GB)", ro.mode[0].total / 1e9);
        const double stage = 12 * E / 8;
        CHECK(fabs(ro.off.host_rank - 12 * sh - stage) < 12 * 16 * 70 + 12 * 16 &&
                  fabs(ro.off.host_node - 8 * (12 * sh + stage)) < 8 * (12 * 16 * 70 + 12 * 16) && ro.off.host_fits,
              "host memory %.4g per rank", ro.off.host_rank);
        CHECK(fabs(ro.off.d2h_bytes - 4 * sh) < 1e-6 * P && fabs(ro.off.h2d_bytes - 2 * sh) < 1e-6 * P,
              "PCIe bytes %.4g / %.4g", ro.off.d2h_bytes, ro.off.h2d_bytes);
        CHECK(fabs(ro.off.d2h_s - 4 * sh / 25e9) < 1e-6 && fabs(ro.off.host_adam_s - 30 * sh / 50e9) < 1e-6,
              "D2H %.4f s, host AdamW %.4f s", ro.off.d2h_s, ro.off.host_adam_s);
        // pipelined over the units: the host (0.6 ns per element) outruns the copies (0.24 ns),
        // so the tail is the host AdamW plus the first unit's D2H and the last one's H2D at most
        // (the embedding's are the largest), and never below either side alone
        CHECK(ro.off.tail_s >= fmax(ro.off.host_adam_s, 6 * sh / 25e9) - 1e-9 &&
                  ro.off.tail_s <= (ro.off.host_adam_s + 6 * (E / 8) / 25e9) * (1 + 1e-4),  // + shard padding
              "tail %.4f s (host AdamW %.4f s)", ro.off.tail_s, ro.off.host_adam_s);
        // without the GPU bf16 slice: blocks gathered 4 times a step, embedding and head twice
        const double streamed = 2 * (4 * (P - 2 * E) + 2 * 2 * E) / 8;
        CHECK(fabs(ro.off.streamed_h2d_bytes - streamed) < 1e-6 * P, "streamed %.4g vs %.4g",
              ro.off.streamed_h2d_bytes, streamed);
        CHECK(fabs(ro.mode[0].step_mean - s8->step_mean - (ro.off.tail_s - sh * 40 / 3.35e12)) < 1e-3 * s8->step_mean,
              "step %.3f vs %.3f", ro.mode[0].step_mean, s8->step_mean);
        s1c_plan_free(&ro);
        // the one-node recipe plans the same: offload on, one node of 8, fits 80 GB
        s1c_train_config c8;
        s1c_train_config_defaults(&c8);
        snprintf(path, sizeof path, "%s/configs/s1-32b-8gpu.yaml", SRC);
        CHECK(s1c_train_config_load(&c8, path) == S1C_OK && s1c_train_config_validate(&c8, 0, 0) == S1C_OK, "%s",
              s1c_err_msg());
        CHECK(c8.offload_optimizer && c8.cluster_nodes == 1 && s1c_cluster_of(&c8, &clo) == S1C_OK &&
                  s1c_cluster_gpus(&clo) == 8,
              "s1-32b-8gpu.yaml: one node of 8 with offload");
        CHECK(s1c_plan_compute(&c8, &mc, &clo, NULL, 0, &ro) == S1C_OK && ro.mode[1].fits, "8-GPU recipe fits");
        s1c_plan_free(&ro);
    }
    s1c_plan_free(&r16);
    s1c_plan_free(&r8);
    // one long sequence among short ones: whole sequences leave ranks waiting, shares do not
    uint32_t lens[32];
    for (int i = 0; i < 32; i++) lens[i] = i % 16 == 3 ? 8000 : 500;
    c.epochs = 1;
    cl.nodes = 2;
    CHECK(s1c_plan_compute(&c, &mc, &cl, lens, 32, &r16) == S1C_OK, "%s", s1c_err_msg());
    CHECK(r16.mode[0].imbalance > 3 && r16.mode[1].imbalance < 1.5 && r16.mode[1].step_mean < 0.5 * r16.mode[0].step_mean,
          "imbalance %.2f / %.2f, step %.3f / %.3f s", r16.mode[0].imbalance, r16.mode[1].imbalance,
          r16.mode[0].step_mean, r16.mode[1].step_mean);
    CHECK(r16.mode[1].cp_p2p_bytes > 0 && r16.mode[1].cp_p2p_bytes < r16.mode[1].cp_allgather_bytes,
          "K/V point to point %.3g vs all-gather %.3g", r16.mode[1].cp_p2p_bytes, r16.mode[1].cp_allgather_bytes);
    CHECK(r16.mode[1].max_ctx > 0 && r16.mode[1].max_T < r16.mode[0].max_T, "shares %d (+%d) vs %d",
          r16.mode[1].max_T, r16.mode[1].max_ctx, r16.mode[0].max_T);
    s1c_plan_free(&r16);
    c.global_batch_size = 12;
    CHECK(s1c_plan_compute(&c, &mc, &cl, NULL, 0, &r16) != S1C_OK, "12 over 16 GPUs accepted");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_train_units SOURCE_DIR\n");
        return 2;
    }
    SRC = argv[1];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/s1c_train_units.%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
    if (system(cmd) != 0) return 2;
    test_config();
    test_config_roundtrip_fuzz();
    test_schedule();
    test_crc32c();
    test_sampler();
    test_shard();
    test_plan_formula();
    test_plan_cluster();
    test_plan();
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) check_failures++;
    return check_exit("test_train_units");
}
