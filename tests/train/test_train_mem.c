// Memory categories of the FSDP engine (issue 7): one allocation per category, sized up front.
//   mpirun -np N test_train_mem fsdp WORK_DIR   (N = 1, 2)
//     - what s1c_fsdp_create allocated, line by line, equals s1c_fsdp_mem_plan and the --plan
//       calculator's lines for the same shape (tied / untied, vocab 64 / 384, recompute on / off),
//       and equals an independent count of the buffers written out here from the shard geometry;
//     - the calculator's batch-buffer line equals the slot the trainer allocates per micro-batch;
//     - activations: s1c_qwen2_acts_bytes == the size of the created object == a count done here;
//     - sub-buffers are 256-byte apart and 64-byte aligned on the CPU backend;
//     - free memory below the total: create fails before allocating, with one message naming every
//       category, the total, the free memory and the shortfall; an oversized model the same way
//       with the CPU backend's real free-memory figure (no huge allocation is attempted);
//     - a backend that cannot report free memory and whose allocation fails: the message names the
//       category that failed and its size.
//   test_train_mem exit S1C_TRAIN SOURCE_DIR WORK_DIR   (no MPI in this process)
//     - s1c-train on an oversized model exits non-zero with the category message, nothing written.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "arena.h"
#include "check.h"
#include "config.h"
#include "fixture.h"
#include "fsdp.h"
#include "plan.h"
#include "s1c_file.h"
#include "s1c_mpi.h"

static size_t R(size_t bytes) { return s1c_arena_round(bytes); }

// The buffers model/qwen2_acts.c holds, counted here from the shape.
static size_t acts_expected(const s1c_qwen2_config *c, size_t asz, size_t T, int rc) {
    const size_t C = (size_t)c->hidden_size, I = (size_t)c->intermediate_size, L = (size_t)c->num_hidden_layers;
    const size_t Q = (size_t)c->num_attention_heads * (size_t)c->head_dim;
    const size_t QKV = Q + 2 * (size_t)c->num_key_value_heads * (size_t)c->head_dim;
    const size_t CH = T < S1C_QWEN2_MLP_CHUNK ? T : S1C_QWEN2_MLP_CHUNK, mlp = rc ? CH : T;
    const size_t block = 3 * R(T * C * asz) + 2 * R(T * 4) + R(T * QKV * asz) + R(T * Q * asz) +
                         R((size_t)c->num_attention_heads * T * 4) + R(mlp * 2 * I * asz) + R(mlp * I * asz);
    return (L + 1) * R(T * C * asz) + (rc ? 1 : L) * block + R(T * C * asz) + R(T * 4) +
           R((size_t)c->head_dim / 2 * 4) + R(4) + 2 * R(T * C * asz) + R(T * QKV * asz) + R(T * Q * asz) +
           R(CH * 2 * I * asz) + R(CH * I * asz);
}

// The lines of fsdp.c's two arenas, counted here from the shard geometry.
static void fsdp_expected(const s1c_qwen2_config *c, int W, size_t asz, s1c_fsdp_mem *e) {
    memset(e, 0, sizeof *e);
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(c);
    const int head = lay->n_units - 1;
    size_t max_pad = 0, max_shard = 0, max_other = 0;
    for (int u = 0; u < lay->n_units; u++) {
        const size_t shard = (lay->units[u].numel + (size_t)W - 1) / (size_t)W, pad = shard * (size_t)W;
        e->master += R(4 * shard);
        e->act_copy += asz == 4 ? 0 : R(asz * shard);
        e->grad += R(4 * shard);
        e->adam += 2 * R(4 * shard);
        if (pad > max_pad) max_pad = pad;
        if (shard > max_shard) max_shard = shard;
        if (u && (u != head || c->tie_word_embeddings) && pad > max_other) max_other = pad;
    }
    const size_t shard0 = (lay->units[0].numel + (size_t)W - 1) / (size_t)W;
    s1c_qwen2_layout_free(lay);
    e->gathered = R(max_pad * asz) + 2 * R(max_other * asz);
    e->grad_buffers = c->tie_word_embeddings ? R(4 * shard0 * (size_t)W) + R(4 * shard0) + 2 * R(4 * max_other) +
                                                   2 * R(4 * max_shard)
                                             : R(4 * max_pad) + R(4 * max_other) + 2 * R(4 * max_shard);
    e->scalars = 2 * R(4);
}

#define SAME(a, b, what)                                                                                        \
    CHECK((a) == (b), "%s: %s %zu vs %s %zu (%s)", what, #a, (size_t)(a), #b, (size_t)(b), name)

static void check_lines(const s1c_fsdp_mem *a, const s1c_fsdp_mem *b, const char *name) {
    SAME(a->master, b->master, "master");
    SAME(a->act_copy, b->act_copy, "act copy");
    SAME(a->grad, b->grad, "grad");
    SAME(a->adam, b->adam, "adam");
    SAME(a->gathered, b->gathered, "gathered");
    SAME(a->grad_buffers, b->grad_buffers, "grad buffers");
    SAME(a->scalars, b->scalars, "scalars");
}

// One shape: create on the CPU backend, compare with the plan and the independent count.
static void check_shape(s1c_backend *be, s1c_comm *c, int tied, int vocab, int rc, int T) {
    char name[96];
    snprintf(name, sizeof name, "np %d tied %d vocab %d recompute %d T %d", c->size, tied, vocab, rc, T);
    s1c_qwen2_config cfg;
    fx_tiny_config(&cfg, tied);
    cfg.vocab_size = vocab;
    s1c_fsdp *f = s1c_fsdp_create(be, c, &cfg, T, rc);
    if (!f) {
        CHECK(0, "%s: %s", name, s1c_err_msg());
        return;
    }
    s1c_fsdp_mem got, plan, want;
    s1c_fsdp_mem_of(f, &got);
    OK(s1c_fsdp_mem_plan(&cfg, c->size, S1C_F32, T, rc, &plan));
    fsdp_expected(&cfg, c->size, 4, &want);
    want.acts = acts_expected(&cfg, 4, (size_t)T, rc);
    check_lines(&got, &plan, name);
    check_lines(&got, &want, name);
    SAME(got.acts, plan.acts, "activations");
    SAME(got.acts, want.acts, "activations");
    SAME(got.state, got.master + got.act_copy + got.grad + got.adam, "state");
    SAME(got.working, got.gathered + got.grad_buffers + got.scalars, "working");
    SAME(got.total, got.state + got.working + got.acts, "total");
    SAME(s1c_fsdp_state_bytes(f), got.state, "state bytes");
    SAME(s1c_fsdp_working_bytes(f), got.working, "working bytes");
    // carved from one block: consecutive slices 256 bytes apart, every pointer 64-byte aligned
    for (int u = 0; u < s1c_fsdp_n_units(f); u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        CHECK((uintptr_t)x->master % 64 == 0 && (uintptr_t)x->grad % 64 == 0 && (uintptr_t)x->v % 64 == 0,
              "%s: unit %d misaligned", name, u);
        if (u) {
            s1c_fsdp_unit *p = s1c_fsdp_unit_at(f, u - 1);
            const ptrdiff_t d = (char *)x->master - (char *)p->master;
            CHECK(d > 0 && d % 256 == 0 && (size_t)d >= R(p->g.shard * 4), "%s: unit %d master %td bytes after %d",
                  name, u, d, u - 1);
        }
    }

    // the --plan calculator's lines for the same run: T tokens per micro-batch, W GPUs, fp32
    s1c_train_config tc;
    s1c_train_config_defaults(&tc);
    tc.block_size = T;
    tc.micro_batch_size = 1;
    tc.global_batch_size = c->size;
    tc.recompute = rc;
    snprintf(tc.precision, sizeof tc.precision, "fp32");
    tc.cluster_nodes = 1;
    tc.cluster_gpus_per_node = c->size;
    tc.epochs = 1;
    s1c_cluster cl;
    const uint32_t len = (uint32_t)T;
    s1c_plan_result r;
    if (s1c_cluster_of(&tc, &cl) != S1C_OK || s1c_plan_compute(&tc, &cfg, &cl, &len, 1, &r) != S1C_OK) {
        CHECK(0, "%s: plan: %s", name, s1c_err_msg());
    } else {
        const s1c_plan_mode *pm = &r.mode[0];
        CHECK(pm->mem.master == got.master && pm->mem.act_copy == 0 && pm->mem.grad == got.grad &&
                  pm->mem.adam == got.adam && pm->mem.gathered == got.gathered &&
                  pm->mem.grad_buffers == got.grad_buffers && pm->mem.scalars == got.scalars,
              "%s: plan lines differ from the allocation", name);
        CHECK(pm->mem.acts == got.acts, "%s: plan activations %zu vs %zu", name, pm->mem.acts, got.acts);
        // the batch buffers: what the trainer allocates (one s1c_batch_slot per micro-batch, here one)
        s1c_batch_slot slot;
        OK(s1c_batch_slot_alloc(be, &slot, T));
        CHECK(pm->batches == (double)slot.bytes && slot.bytes == s1c_batch_block_bytes(T, T) && slot.bytes > 0,
              "%s: plan batch buffers %.0f vs the slot's %zu bytes", name, pm->batches, slot.bytes);
        s1c_batch_slot_free(be, &slot);
        CHECK(pm->total == (double)got.total + pm->exchange + pm->lmhead + pm->batches + pm->reserve,
              "%s: plan total %.0f vs %zu + LM head %.0f + batches %.0f", name, pm->total, got.total, pm->lmhead,
              pm->batches);
        s1c_plan_free(&r);
    }
    s1c_fsdp_free(f);

    // bf16 (the CUDA layout): the act copies and gathered slots in 2-byte elements
    OK(s1c_fsdp_mem_plan(&cfg, c->size, S1C_BF16, T, rc, &plan));
    fsdp_expected(&cfg, c->size, 2, &want);
    check_lines(&plan, &want, name);
    CHECK(plan.act_copy > 0, "%s: bf16 has an act copy", name);
    SAME(plan.acts, acts_expected(&cfg, 2, (size_t)T, rc), "bf16 activations");
}

// ---- failure paths -------------------------------------------------------------------------
static size_t fake_free;
static int alloc_calls, fail_call;
static void *(*real_alloc)(s1c_backend *, size_t);

static s1c_status fake_mem_info(s1c_backend *be, size_t *free_b, size_t *total_b) {
    (void)be;
    *free_b = fake_free;
    *total_b = fake_free * 2;
    return S1C_OK;
}

static void *counting_alloc(s1c_backend *be, size_t bytes) {
    if (++alloc_calls == fail_call) {
        s1c_err("test backend: refusing %zu bytes", bytes);
        return NULL;
    }
    return real_alloc(be, bytes);
}

static int has(const char *msg, const char *what) { return strstr(msg, what) != NULL; }

static void check_failures_(s1c_backend *cpu, s1c_comm *c) {
    s1c_qwen2_config cfg;
    fx_tiny_config(&cfg, 0);
    const int T = 40;
    s1c_fsdp_mem m;
    OK(s1c_fsdp_mem_plan(&cfg, c->size, S1C_F32, T, 0, &m));
    s1c_backend fake = *cpu;  // the CPU ops with a controllable memory budget / allocator
    real_alloc = cpu->alloc;
    fake.alloc = counting_alloc;

    // free memory one byte short of the total: fails before the first allocation
    fake.mem_info = fake_mem_info;
    fake_free = m.total - 1;
    alloc_calls = 0;
    fail_call = -1;
    s1c_fsdp *f = s1c_fsdp_create(&fake, c, &cfg, T, 0);
    const char *msg = s1c_err_msg();
    CHECK(!f && alloc_calls == 0, "short of memory: created %d, %d allocations", f != NULL, alloc_calls);
    CHECK(has(msg, "does not fit in cpu memory") && has(msg, "sharded state") && has(msg, "working set") &&
              has(msg, "activations") && has(msg, "free (short by") && has(msg, "train.recompute true") &&
              has(msg, "micro_batch_size"),
          "message: %s", msg);
    s1c_fsdp_free(f);
    // exactly enough: allocates the three categories
    fake_free = m.total;
    f = s1c_fsdp_create(&fake, c, &cfg, T, 0);
    CHECK(f && alloc_calls == 3, "exact fit: created %d with %d allocations (want 3): %s", f != NULL, alloc_calls,
          f ? "" : s1c_err_msg());
    s1c_fsdp_free(f);

    // no free-memory report: the failing allocation names its category and size
    fake.mem_info = NULL;
    const char *cat[3] = {"sharded state", "working set", "activations"};
    const size_t size[3] = {m.state, m.working, m.acts};
    for (int k = 0; k < 3; k++) {
        alloc_calls = 0;
        fail_call = k + 1;
        f = s1c_fsdp_create(&fake, c, &cfg, T, 0);
        msg = s1c_err_msg();
        char bytes[64];
        snprintf(bytes, sizeof bytes, "(%zu bytes)", size[k]);
        CHECK(!f && has(msg, cat[k]) && has(msg, bytes) && has(msg, "refusing"), "allocation %d failing: %s", k + 1,
              msg);
        s1c_fsdp_free(f);
    }

    // a model whose state alone exceeds any host here, with the real free-memory report
    s1c_qwen2_config big = cfg;
    big.hidden_size = 16384;
    big.vocab_size = 1 << 20;  // embedding 2^34 parameters: 256 GB of sharded state on one rank
    big.intermediate_size = 32768;
    big.num_attention_heads = 128;
    big.num_key_value_heads = 8;
    big.head_dim = 128;
    OK(s1c_fsdp_mem_plan(&big, c->size, S1C_F32, 4096, 1, &m));
    size_t free_b = 0, total_b = 0;
    OK(cpu->mem_info(cpu, &free_b, &total_b));
    CHECK(free_b > 0 && free_b <= total_b, "cpu mem_info: %zu free of %zu", free_b, total_b);
    if (m.total > free_b) {
        f = s1c_fsdp_create(cpu, c, &big, 4096, 1);
        msg = s1c_err_msg();
        CHECK(!f && has(msg, "does not fit") && has(msg, "GB free (short by") && !has(msg, "train.recompute"),
              "oversized model: %s", f ? "created" : msg);
        s1c_fsdp_free(f);
    } else {
        CHECK(0, "this host reports %zu bytes free: the oversized model (%zu) fits", free_b, m.total);
    }
}

static int run_fsdp(int argc, char **argv) {
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 2;
    }
    check_set_rank(d.rank);
    s1c_comm *c = s1c_comm_create(&d, "mpi");
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!c || !be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    for (int tied = 0; tied < 2; tied++)
        for (int v = 0; v < 2; v++)
            for (int rc = 0; rc < 2; rc++) check_shape(be, c, tied, v ? 384 : 64, rc, rc ? 45 : 37);
    check_shape(be, c, 1, 64, 1, S1C_QWEN2_MLP_CHUNK + 3);  // more tokens than an MLP chunk
    // the activation store alone, as the model code allocates it
    s1c_qwen2_config cfg;
    fx_tiny_config(&cfg, 1);
    for (int rc = 0; rc < 2; rc++) {
        s1c_qwen2_acts *a = s1c_qwen2_acts_create_chunked(be, &cfg, 50, rc, 16);
        CHECK(a && s1c_qwen2_acts_size(a) == s1c_qwen2_acts_bytes(&cfg, S1C_F32, 50, rc, 16),
              "acts size %zu vs %zu", a ? s1c_qwen2_acts_size(a) : 0, s1c_qwen2_acts_bytes(&cfg, S1C_F32, 50, rc, 16));
        s1c_qwen2_acts_free(be, a);
    }
    CHECK(s1c_qwen2_acts_bytes(&cfg, S1C_F32, 0, 1, 16) == 0, "max_T 0 sized");
    check_failures_(be, c);
    int32_t bad = check_failures;
    c->all_reduce(c, &bad, 1, S1C_COMM_I32, S1C_RED_SUM);
    s1c_backend_destroy(be);
    s1c_comm_destroy(c);
    s1c_dist_finalize(&d);
    if (d.rank == 0) printf("test_train_mem: %d ranks, %s\n", d.size, bad ? "FAIL" : "ok");
    return bad ? 1 : 0;
}

// s1c-train on a model too large for this host: non-zero exit, the category message, no output.
static int run_exit(const char *train, const char *src, const char *work) {
    char model[700], data[700], out[700], cmd[3000], log[800];
    snprintf(model, sizeof model, "%s/oversized", work);
    snprintf(data, sizeof data, "%s/data.h5", work);
    snprintf(out, sizeof out, "%s/never", work);
    snprintf(log, sizeof log, "%s/train.log", work);
    OK(s1c_mkdirs(model));
    s1c_qwen2_config big;
    fx_tiny_config(&big, 0);
    big.hidden_size = 16384;
    big.vocab_size = 1 << 20;
    big.head_dim = 4096;
    snprintf(cmd, sizeof cmd, "%s/config.json", model);
    OK(s1c_qwen2_config_save(cmd, &big));
    OK(fx_write_data(data, 8, 6, 30, 64, 3));
    snprintf(cmd, sizeof cmd,
             "%s --config %s/configs/tiny.yaml --set model.path=%s --set data.path=%s --set output.dir=%s > %s 2>&1",
             train, src, model, data, out, log);
    const int rc = system(cmd);
    char *txt = NULL;
    s1c_read_file(log, &txt, NULL);
    const char *t = txt ? txt : "";
    CHECK(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) != 0, "s1c-train exit status %d", rc);
    CHECK(strstr(t, "does not fit in cpu memory") && strstr(t, "sharded state") && strstr(t, "short by"),
          "s1c-train output: %s", t);
    CHECK(!strstr(t, "AddressSanitizer") && !strstr(t, "runtime error"), "sanitizer report: %s", t);
    struct stat st;
    snprintf(cmd, sizeof cmd, "%s/metrics.jsonl", out);
    CHECK(stat(cmd, &st) != 0, "%s written by a run that cannot start", cmd);
    snprintf(cmd, sizeof cmd, "%s/config.json", out);
    CHECK(stat(cmd, &st) != 0, "%s written by a run that cannot start", cmd);
    free(txt);
    return check_exit("test_train_mem exit");
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "fsdp") == 0) return run_fsdp(argc, argv);
    if (argc == 5 && strcmp(argv[1], "exit") == 0) return run_exit(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: mpirun -np N test_train_mem fsdp WORK_DIR | test_train_mem exit S1C_TRAIN SRC WORK_DIR\n");
    return 2;
}
