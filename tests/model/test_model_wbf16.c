// test_model_wbf16.c — inference with bf16 matrix weights on the CPU backend
// (s1c_qwen2_model_load_weights "bf16"/"auto"): the weights are the checkpoint's bf16 bytes
// (fixture a is a BF16 file), and KV-cache decode logits match the Hugging Face float64 reference
// over those same bf16 weights and the fp32-weight path, both as one packed prefill (many rows:
// the panel + sgemm kernel) and one token at a time (the streaming row kernel).
//
// The exact GEMM (be->wbf16_exact = 1, s1c-infer --matmul-precision exact): activations fp32 in
// every product. The default precision, which on AVX-512 BF16 rounds the activations of steps of
// more than 8 rows to bf16, has its own bounds in test_model_wbf16_gemm.c. ctest runs this once
// per instruction path (S1C_WBF16_ISA).
//
// Tolerances: vs the float64 reference, max abs logits error <= 1e-4, the bound of
// test_model_parity for the fp32 path: the weights are identical, only fp32 round-off in
// a different summation order separates the two (measured 1.7e-6). vs the fp32-weight decode,
// <= 2e-5: both are fp32 over the same values (measured 2.1e-6; logits of magnitude ~10).
#include "mt.h"
#include "qwen2.h"
#include "qwen2_decode.h"
#include "safetensors.h"

#define BS 4
#define MAX_LEN 64

typedef struct {
    s1c_kv_pool kv;
    s1c_decode_ws *ws;
} dec;

static void dec_init(s1c_qwen2_model *m, dec *d) {
    MT_OK(s1c_kv_pool_create(m->be, &m->cfg, MAX_LEN / BS, BS, &d->kv));
    d->ws = s1c_decode_ws_create(m->be, &m->cfg, MAX_LEN, 1, MAX_LEN / BS, MAX_LEN);
    if (!d->ws) MT_OK(S1C_ERR);
}

static void dec_free(s1c_qwen2_model *m, dec *d) {
    s1c_decode_ws_free(m->be, d->ws);
    s1c_kv_pool_free(m->be, &d->kv);
}

// Logits [n, V] of every position of ids[n]: one packed prefill (stepwise = 0) or one row per step.
static void run_logits(s1c_qwen2_model *m, dec *d, const int32_t *ids, int n, int stepwise, float *logits) {
    int32_t table[MAX_LEN / BS], pos[MAX_LEN], rs[MAX_LEN], slot[MAX_LEN], outr[MAX_LEN];
    for (int i = 0; i < MAX_LEN / BS; i++) table[i] = MAX_LEN / BS - 1 - i;  // scattered blocks
    for (int t = 0; t < n; t++) {
        pos[t] = t;
        rs[t] = 0;
        slot[t] = table[t / BS] * BS + t % BS;
        outr[t] = t;
    }
    const int V = m->cfg.vocab_size;
    if (!stepwise) {
        s1c_decode_batch b = {n, 1, ids, pos, rs, slot, table, MAX_LEN / BS, n, outr};
        MT_OK(s1c_qwen2_decode(m, &d->kv, d->ws, &b, logits));
        return;
    }
    for (int t = 0; t < n; t++) {
        const int32_t zero = 0;
        s1c_decode_batch b = {1, 1, ids + t, pos + t, rs, slot + t, table, MAX_LEN / BS, 1, &zero};
        MT_OK(s1c_qwen2_decode(m, &d->kv, d->ws, &b, logits + (size_t)t * V));
    }
}

static double maxabs(const float *a, const float *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        e = d > e || d != d ? (d != d ? INFINITY : d) : e;
    }
    return e;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    char dir_a[1024], dir_b[1024], refp[1024], wpath[1024];
    snprintf(dir_a, sizeof dir_a, "%s/a", argv[1]);
    snprintf(dir_b, sizeof dir_b, "%s/b", argv[1]);
    snprintf(refp, sizeof refp, "%s/a_ref.safetensors", argv[1]);
    snprintf(wpath, sizeof wpath, "%s/a/model.safetensors", argv[1]);
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) MT_OK(S1C_ERR);
    be->wbf16_exact = 1;

    s1c_qwen2_model mb, mf;
    MT_OK(s1c_qwen2_model_load_weights(be, dir_a, "auto", &mb));  // a BF16 file: auto is bf16
    CHECK(mb.weight_dtype == S1C_BF16 && mb.vecs != NULL, "auto on a BF16 checkpoint gave fp32 weights");
    MT_OK(s1c_qwen2_model_load_weights(be, dir_a, "fp32", &mf));
    CHECK(mf.weight_dtype == S1C_F32 && mf.vecs == NULL);
    const int V = mb.cfg.vocab_size, C = mb.cfg.hidden_size;
    printf("weights: bf16 %zu bytes, fp32 %zu bytes\n", s1c_qwen2_model_weight_bytes(&mb),
           s1c_qwen2_model_weight_bytes(&mf));
    CHECK(s1c_qwen2_model_weight_bytes(&mb) < s1c_qwen2_model_weight_bytes(&mf) * 6 / 10);

    // The weights are the file's bytes: the embedding and a block's q_proj, compared raw.
    s1c_st_file wf;
    MT_OK(s1c_st_open(wpath, &wf));
    const s1c_st_tensor *te = s1c_st_find(&wf, "model.embed_tokens.weight");
    const s1c_st_tensor *tq = s1c_st_find(&wf, "model.layers.1.self_attn.q_proj.weight");
    CHECK(te && tq && te->dtype == S1C_ST_BF16 && tq->dtype == S1C_ST_BF16);
    if (te && tq) {
        CHECK(memcmp(mb.params[0], te->data, te->nbytes) == 0, "embedding differs from the file's bf16 bytes");
        const size_t q_off = (size_t)C;  // after input_layernorm.weight [C]
        CHECK(memcmp((const uint16_t *)mb.params[s1c_qwen2_unit_block(1)] + q_off, tq->data, tq->nbytes) == 0,
              "layer 1 q_proj differs from the file's bf16 bytes");
    }
    s1c_st_close(&wf);

    // Logits of the reference sequences against HF (float64 over the same bf16 weights).
    s1c_st_file ref;
    MT_OK(s1c_st_open(refp, &ref));
    const s1c_st_tensor *tl = s1c_st_find(&ref, "logits");
    if (!tl) MT_OK(s1c_err("%s: no logits", refp));
    float *ref_logits = s1c_xmalloc(tl->numel * sizeof(float));
    MT_OK(s1c_st_to_f32(&ref, tl, ref_logits, tl->numel));
    float *lb = s1c_xmalloc((size_t)MAX_LEN * V * sizeof(float)), *lf = s1c_xmalloc((size_t)MAX_LEN * V * sizeof(float));
    dec db, df;
    dec_init(&mb, &db);
    dec_init(&mf, &df);
    size_t at = 0;  // row of the packed reference where sequence s starts
    for (int s = 0;; s++) {
        char nm[32];
        snprintf(nm, sizeof nm, "ids.%d", s);
        const s1c_st_tensor *ti = s1c_st_find(&ref, nm);
        if (!ti) break;
        const int n = (int)ti->numel;
        int32_t ids[MAX_LEN];
        CHECK(n <= MAX_LEN && ti->dtype == S1C_ST_I32);
        if (n > MAX_LEN) break;
        memcpy(ids, ti->data, (size_t)n * 4);
        for (int stepwise = 0; stepwise < 2; stepwise++) {
            run_logits(&mb, &db, ids, n, stepwise, lb);
            run_logits(&mf, &df, ids, n, stepwise, lf);
            const double e_ref = maxabs(lb, ref_logits + at * V, (size_t)n * V);
            const double e_f32 = maxabs(lb, lf, (size_t)n * V);
            printf("sequence %d (%d tokens, %s): bf16-weight logits max abs error vs HF %.3g, vs fp32 weights %.3g\n",
                   s, n, stepwise ? "one row per step" : "one prefill", e_ref, e_f32);
            CHECK(e_ref <= 1e-4, "sequence %d: %.3g > 1e-4 vs HF", s, e_ref);
            CHECK(e_f32 <= 2e-5, "sequence %d: %.3g > 2e-5 vs the fp32-weight path", s, e_f32);
        }
        at += (size_t)n;
    }
    CHECK(at == tl->numel / (size_t)V, "reference rows %zu of %zu compared", at, tl->numel / (size_t)V);
    dec_free(&mb, &db);
    dec_free(&mf, &df);
    free(lb), free(lf), free(ref_logits);
    s1c_st_close(&ref);

    // Inference only: no gradients for a bf16-weight model.
    CHECK(s1c_qwen2_model_alloc_grads(&mb) != S1C_OK && mt_contains(s1c_err_msg(), "inference only"));
    s1c_qwen2_model_free(&mb);
    s1c_qwen2_model_free(&mf);

    // b is an F32 checkpoint: auto keeps fp32; bf16 asked rounds it (loads, smaller).
    MT_OK(s1c_qwen2_model_load_weights(be, dir_b, "auto", &mf));
    CHECK(mf.weight_dtype == S1C_F32, "auto on an F32 checkpoint gave bf16 weights");
    MT_OK(s1c_qwen2_model_load_weights(be, dir_b, "bf16", &mb));
    CHECK(mb.weight_dtype == S1C_BF16);
    s1c_qwen2_model_free(&mb);
    s1c_qwen2_model_free(&mf);
    CHECK(s1c_qwen2_model_load_weights(be, dir_a, "fp16", &mb) != S1C_OK && mt_contains(s1c_err_msg(), "fp16"),
          "%s", s1c_err_msg());
    s1c_backend_destroy(be);
    return check_exit("test_model_wbf16");
}
