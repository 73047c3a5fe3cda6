// Tensor-parallel decode (qwen2.h s1c_qwen2_model_load_tp) against the whole model, under
// `mpirun -np 4`: for each checkpoint, weight storage (fp32, bf16) and degree (2: two groups of
// two ranks; 4: one group), every rank's shard
// - holds the sizes an independent count from config.json gives (weights, KV heads, KV pool);
// - decodes (prefill of two sequences, then steps one token each) to the same logits as the
//   whole model on one rank, within TOL: the paths differ only in where the sums of o_proj,
//   down_proj and the embedding are split (partial sums per rank, then the group's sum), i.e.
//   fp32 reassociation, a few ulps of values of magnitude <= ~10 through two layers;
// - picks the same greedy ids (vocab limit below V, banned ids, as the engine asks).
// Checkpoints: the fixtures a (tied, 2 KV heads: replicated at --tp 4) and b (untied, sharded
// safetensors, 4 KV heads), and one written here: vocab 301 (does not divide: padded rows on the
// last rank), one KV head (replicated on every rank), random biases and norms.
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qwen2.h"
#include "qwen2_decode.h"
#include "qwen2_init.h"
#include "s1c_mpi.h"

#define TOL 2e-5f
#define TOL_BF16 2.0f  // times the whole bf16 model's distance from fp32

static s1c_comm *g_comm;
static s1c_status h_sum(void *ctx, void *buf, size_t n) {  // ctx: the backend (its act dtype)
    const int bf16 = ((s1c_backend *)ctx)->act_dtype == S1C_BF16;
    return g_comm->all_reduce(g_comm, buf, n, bf16 ? S1C_COMM_BF16 : S1C_COMM_F32, S1C_RED_SUM);
}
static s1c_status h_gather(void *ctx, float *recv, const float *send, size_t n) {
    (void)ctx;
    return g_comm->all_gather(g_comm, recv, send, n, S1C_COMM_F32);
}
static s1c_status h_min(void *ctx, int64_t *v, int n) {
    (void)ctx;
    return g_comm->all_reduce(g_comm, v, (size_t)n, S1C_COMM_I64, S1C_RED_MIN);
}

// Per-rank bytes of the shard, counted from the config alone (qwen2.h's storage description:
// every tensor's rows / columns of the rank, ceil(V/tp) vocabulary rows plus one zero row in
// the embedding; mode 1, bf16 weights: every element in 2 bytes plus the 1-D tensors again in
// fp32; mode 2, bf16 activations: every element in 2 bytes; mode 0: fp32).
static size_t expected_weight_bytes(const s1c_qwen2_config *c, int tp, int mode) {
    const size_t C = (size_t)c->hidden_size, hd = (size_t)c->head_dim, L = (size_t)c->num_hidden_layers;
    const size_t nh = (size_t)(c->num_attention_heads / tp), I = (size_t)(c->intermediate_size / tp);
    const size_t nkv = c->num_key_value_heads >= tp ? (size_t)(c->num_key_value_heads / tp) : 1;
    const size_t Vp = ((size_t)c->vocab_size + (size_t)tp - 1) / (size_t)tp;
    const size_t qkv = (nh + 2 * nkv) * hd;
    const size_t vec_block = 2 * C + qkv, mat_block = qkv * C + C * nh * hd + 3 * I * C;
    const size_t all = (Vp + 1) * C + L * (vec_block + mat_block) + C + (c->tie_word_embeddings ? 0 : Vp * C);
    return mode == 1 ? 2 * all + 4 * (L * vec_block + C) : mode == 2 ? 2 * all : 4 * all;
}

static void fill_random(float *x, size_t n, uint64_t *s, float scale, float offset) {
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = offset + scale * ((float)((*s >> 40) & 0xffffff) / 16777216.0f - 0.5f);
    }
}

// Rank 0 writes a checkpoint the fixtures do not cover (odd vocabulary, a single KV head).
static void write_odd_model(const char *dir) {
    s1c_qwen2_config c = {.hidden_size = 32, .intermediate_size = 48, .num_hidden_layers = 2, .num_attention_heads = 4,
                          .num_key_value_heads = 1, .head_dim = 8, .vocab_size = 301, .max_position_embeddings = 128,
                          .rope_theta = 10000.0f, .rms_norm_eps = 1e-6f, .tie_word_embeddings = 0,
                          .bos_token_id = -1, .eos_token_id = 3};
    snprintf(c.torch_dtype, sizeof c.torch_dtype, "bfloat16");
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&c);
    float **u = s1c_xcalloc((size_t)lay->n_units, sizeof(float *));
    for (int k = 0; k < lay->n_units; k++) u[k] = s1c_xmalloc(lay->units[k].numel * sizeof(float));
    s1c_qwen2_init_random(&c, lay, u, 5, 0.2);
    uint64_t s = 99;
    for (int k = 0; k < lay->n_units; k++)  // biases and norm weights away from 0 and 1
        for (int p = 0; p < lay->units[k].n_params; p++)
            if (lay->units[k].params[p].ndim == 1)
                fill_random(u[k] + lay->units[k].params[p].offset, lay->units[k].params[p].numel, &s, 0.6f,
                            strstr(lay->units[k].params[p].name, "norm") ? 1.0f : 0.0f);
    OK(s1c_mkdirs(dir));
    OK(s1c_qwen2_weights_save(dir, &c, lay, u, "bf16", 0));
    for (int k = 0; k < lay->n_units; k++) free(u[k]);
    free(u);
    s1c_qwen2_layout_free(lay);
}

// One decode setup: a KV pool, a workspace, two sequences' block tables (interleaved blocks).
typedef struct {
    s1c_kv_pool kv;
    s1c_decode_ws *ws;
} runner;

#define BS 4
#define NB 16
#define MAXB 8
static void runner_make(s1c_qwen2_model *m, runner *r) {
    OK(s1c_kv_pool_create(m->be, &m->shard, NB, BS, &r->kv));
    r->ws = s1c_decode_ws_create_model(m, 32, 2, MAXB, 2);
    CHECK(r->ws != NULL, "%s", s1c_err_msg());
}
static void runner_free(s1c_qwen2_model *m, runner *r) {
    s1c_decode_ws_free(m->be, r->ws);
    s1c_kv_pool_free(m->be, &r->kv);
}

// tol: the relative logit difference allowed; check_ids: greedy ids must agree. bf16 acts
// (dev "cpu-bf16"): the group's sum of bf16-rounded partials may flip a near-tie, so ids are not
// compared; the shard must instead stay as close to the whole bf16 model as tol times the whole
// bf16 model's own distance from the fp32 one (bf16 round-off, measured on the same steps).
static void compare(const char *dev, const char *dir, const char *wd, int tp, int wrank, float tol, int check_ids) {
    s1c_backend *be = s1c_backend_create(dev, 0), *be32 = check_ids ? NULL : s1c_backend_create("cpu", 0);
    s1c_qwen2_model ref, sh, f32;
    OK(s1c_qwen2_model_load_weights(be, dir, wd, &ref));
    if (be32) OK(s1c_qwen2_model_load_weights(be32, dir, "fp32", &f32));
    s1c_tp_group g = {.ctx = be, .rank = wrank % tp, .size = tp, .all_reduce_sum = h_sum,
                      .all_gather_f32 = h_gather, .min_i64 = h_min};
    OK(s1c_qwen2_model_load_tp(be, dir, wd, &g, &sh));
    const s1c_qwen2_config *c = &ref.cfg;
    const int V = c->vocab_size, bf16 = sh.weight_dtype == S1C_BF16;
    CHECK(sh.weight_dtype == ref.weight_dtype);
    // Sizes: weights and KV pool per rank against the count from the config.
    const size_t wb = s1c_qwen2_model_weight_bytes(&sh), want_wb = expected_weight_bytes(c, tp, bf16 ? 1 : be->act_dtype == S1C_BF16 ? 2 : 0);
    CHECK(wb == want_wb, "%s %s tp %d: shard weights %zu B, expected %zu B", dir, wd, tp, wb, want_wb);
    const int nkv_l = c->num_key_value_heads >= tp ? c->num_key_value_heads / tp : 1;
    CHECK(sh.shard.num_attention_heads * tp == c->num_attention_heads);
    CHECK(sh.shard.num_key_value_heads == nkv_l, "%d KV heads on a rank, expected %d", sh.shard.num_key_value_heads, nkv_l);
    runner r1, r2, r3;
    runner_make(&ref, &r1);
    runner_make(&sh, &r2);
    if (be32) runner_make(&f32, &r3);
    CHECK(r2.kv.n_kv_head == nkv_l);
    // Each rank reads its query heads' own KV head: rank r of tp holds head r*nkv/tp (replicated)
    // or heads [r*nkv/tp, ...) (split).
    CHECK(sh.tp.kv_head0 == (c->num_key_value_heads >= tp ? g.rank * nkv_l : g.rank * c->num_key_value_heads / tp));

    int32_t tables[2 * MAXB];
    for (int i = 0; i < MAXB; i++) tables[i] = (int32_t)(NB - 1 - 2 * i), tables[MAXB + i] = (int32_t)(2 * i);
    int32_t seq[2][32];
    int len[2] = {7, 5};
    uint64_t s = 1234;
    for (int q = 0; q < 2; q++)
        for (int i = 0; i < len[q]; i++) {
            s = s * 6364136223846793005ull + 1;
            seq[q][i] = (int32_t)((s >> 33) % (uint64_t)V);
        }
    float *l1 = s1c_xmalloc(2 * (size_t)V * sizeof(float)), *l2 = s1c_xmalloc(2 * (size_t)V * sizeof(float));
    float *l3 = s1c_xmalloc(2 * (size_t)V * sizeof(float));
    float worst = 0.0f, bf16_own = 0.0f;
    int id_mismatch = 0;
    for (int step = 0; step < 5; step++) {
        int32_t ids[32], pos[32], rs[32], slot[32], out[2];
        int T = 0;
        for (int q = 0; q < 2; q++) {
            const int from = step == 0 ? 0 : len[q] - 1;
            for (int i = from; i < len[q]; i++, T++) {
                ids[T] = seq[q][i], pos[T] = i, rs[T] = q;
                slot[T] = tables[q * MAXB + i / BS] * BS + i % BS;
            }
            out[q] = T - 1;
        }
        const s1c_decode_batch b = {.T = T, .n_seq = 2, .ids = ids, .pos = pos, .row_seq = rs, .slot = slot,
                                    .block_tables = tables, .max_blocks = MAXB, .n_out = 2, .out_rows = out};
        OK(s1c_qwen2_decode(&ref, &r1.kv, r1.ws, &b, l1));
        OK(s1c_qwen2_decode(&sh, &r2.kv, r2.ws, &b, l2));
        if (be32) OK(s1c_qwen2_decode(&f32, &r3.kv, r3.ws, &b, l3));
        for (size_t i = 0; i < 2 * (size_t)V; i++) {
            const float d = fabsf(l1[i] - l2[i]) / fmaxf(1.0f, fabsf(l1[i]));
            if (!(d <= worst)) worst = d;  // NaN propagates into a failure
            if (be32) bf16_own = fmaxf(bf16_own, fabsf(l1[i] - l3[i]) / fmaxf(1.0f, fabsf(l3[i])));
        }
        // Greedy below a vocabulary limit with banned ids, one of them the unbanned argmax.
        int32_t banned[2 * 3], g1[2], g2[2];
        const int limit = V - 7;
        for (int o = 0; o < 2; o++) {
            int best = 0;
            for (int v = 1; v < limit; v++) best = l1[(size_t)o * V + v] > l1[(size_t)o * V + best] ? v : best;
            banned[o * 3] = step % 2 ? best : -1;
            banned[o * 3 + 1] = (int32_t)(V / 2);
            banned[o * 3 + 2] = -1;
        }
        OK(s1c_qwen2_decode_argmax(&ref, &r1.kv, r1.ws, &b, limit, banned, 3, g1));
        OK(s1c_qwen2_decode_argmax(&sh, &r2.kv, r2.ws, &b, limit, banned, 3, g2));
        for (int o = 0; o < 2; o++) {
            id_mismatch += g1[o] != g2[o];
            CHECK(g1[o] < limit && g1[o] != banned[o * 3] && g1[o] != banned[o * 3 + 1]);
            seq[o][len[o]++] = g1[o];
        }
    }
    if (be32) tol *= bf16_own;
    CHECK(worst <= tol, "%s %s %s tp %d: logits differ from the whole model by %.3g (relative, tolerance %g)", dev,
          dir, wd, tp, (double)worst, (double)tol);
    CHECK(!check_ids || id_mismatch == 0, "%s %s tp %d: %d greedy ids differ", dir, wd, tp, id_mismatch);
    if (wrank == 0)
        printf("%s %s %s tp %d: weights %zu B per rank, %d KV heads, max logit difference %.2g (bf16 vs fp32: %.2g), "
               "%d of 10 greedy ids differ\n", dev, dir, wd, tp, wb, nkv_l, (double)worst, (double)bf16_own, id_mismatch);
    free(l1);
    free(l2);
    free(l3);
    runner_free(&ref, &r1);
    runner_free(&sh, &r2);
    if (be32) {
        runner_free(&f32, &r3);
        s1c_qwen2_model_free(&f32);
        s1c_backend_destroy(be32);
    }
    s1c_qwen2_model_free(&ref);
    s1c_qwen2_model_free(&sh);
    s1c_backend_destroy(be);
}

int main(int argc, char **argv) {
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK || argc < 4) {
        fprintf(stderr, "usage: mpirun -np 4 test_infer_tp MODEL_A MODEL_B WORKDIR\n");
        return 2;
    }
    check_set_rank(d.rank);
    if (d.size != 4) {
        fprintf(stderr, "test_infer_tp: run with 4 ranks (got %d)\n", d.size);
        return 2;
    }
    char odd[4096];
    snprintf(odd, sizeof odd, "%s/odd_vocab", argv[3]);
    if (d.rank == 0) write_odd_model(odd);
    MPI_Barrier(MPI_COMM_WORLD);

    // A degree the heads do not divide, and KV heads that neither divide nor replicate: refused.
    s1c_qwen2_config c = {.hidden_size = 48, .intermediate_size = 96, .num_hidden_layers = 1,
                          .num_attention_heads = 6, .num_key_value_heads = 6, .head_dim = 8, .vocab_size = 64};
    s1c_qwen2_tp tp;
    s1c_qwen2_config local;
    CHECK(s1c_qwen2_tp_plan(&c, 0, 4, &tp, &local) != S1C_OK && strstr(s1c_err_msg(), "num_attention_heads"));
    c.num_key_value_heads = 3;
    c.num_attention_heads = 12;
    CHECK(s1c_qwen2_tp_plan(&c, 0, 2, &tp, &local) != S1C_OK && strstr(s1c_err_msg(), "num_key_value_heads"));
    CHECK(s1c_qwen2_tp_plan(&c, 1, 3, &tp, &local) == S1C_OK && tp.kv_head0 == 1 && tp.q_head0 == 4);

    s1c_comm *world = s1c_comm_create(&d, "mpi");
    CHECK(world != NULL, "%s", s1c_err_msg());
    const char *dirs[] = {argv[1], argv[2], odd};
    const char *wds[] = {"fp32", "bf16"};
    for (int t = 2; t <= 4; t *= 2) {
        g_comm = s1c_comm_split(world, d.rank / t, d.rank);
        CHECK(g_comm && g_comm->size == t && g_comm->rank == d.rank % t);
        for (int i = 0; i < 3; i++)
            for (int w = 0; w < 2; w++) compare("cpu", dirs[i], wds[w], t, d.rank, TOL, 1);
        // bf16 activations (the GPU's storage, emulated): the group sums bf16 partials, each
        // rounded to bf16 once more than one rank's GEMM output is.
        for (int i = 0; i < 3; i++) compare("cpu-bf16", dirs[i], "auto", t, d.rank, TOL_BF16, 0);
        s1c_comm_destroy(g_comm);
    }
    s1c_comm_destroy(world);
    int fails = check_failures, all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    s1c_dist_finalize(&d);
    if (all && !fails) check_failures = 1;  // another rank's failure fails every rank's exit code
    return check_exit("test_infer_tp");
}
