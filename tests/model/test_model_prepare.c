// test_model_prepare.c — the attention shape a batch is prepared for (s1c_batch_prepare, called
// by the trainer when it builds a micro-batch, before the step's collectives) is exactly the one
// every layer's attention forward and backward then passes, so the CUDA backend's cuDNN plans and
// workspace (bucket and layout from s1c_cuda_attn_plan, kernels/cuda/cuda_plan.c) are in place
// before the step and no call inside it builds or allocates. A recording wrapper around the CPU
// backend compares the prepared shape with every call's, field by field and by cuDNN layout.
#include <string.h>

#include "cuda_plan.h"
#include "mt.h"
#include "qwen2.h"

#define MAX_LOG 256
static s1c_attn_shape prepared[MAX_LOG], called[MAX_LOG];
static int n_prepared, n_called, n_fwd, n_bwd;
static void (*orig_fwd)(s1c_backend *, void *, float *, const void *, const s1c_attn_shape *);
static void (*orig_bwd)(s1c_backend *, void *, const void *, const void *, const void *, const float *,
                        const s1c_attn_shape *);

static void rec_prepare(s1c_backend *be, const s1c_attn_shape *s) {
    (void)be;
    if (n_prepared < MAX_LOG) prepared[n_prepared++] = *s;
}
static void rec_fwd(s1c_backend *be, void *out, float *lse, const void *qkv, const s1c_attn_shape *s) {
    if (n_called < MAX_LOG) called[n_called++] = *s;
    n_fwd++;
    orig_fwd(be, out, lse, qkv, s);
}
static void rec_bwd(s1c_backend *be, void *dqkv, const void *dout, const void *qkv, const void *out, const float *lse,
                    const s1c_attn_shape *s) {
    if (n_called < MAX_LOG) called[n_called++] = *s;
    n_bwd++;
    orig_bwd(be, dqkv, dout, qkv, out, lse, s);
}

static int same_shape(const s1c_attn_shape *a, const s1c_attn_shape *b) {
    return a->T == b->T && a->n_seq == b->n_seq && a->cu_seqlens == b->cu_seqlens && a->n_head == b->n_head &&
           a->n_kv_head == b->n_kv_head && a->head_dim == b->head_dim && a->max_seqlen == b->max_seqlen &&
           a->n_ctx == b->n_ctx;
}

static void run(s1c_backend *be, s1c_qwen2_model *m, int n_seq, const int *lens) {
    const int V = m->cfg.vocab_size, L = m->cfg.num_hidden_layers;
    int32_t *ids[8];
    int T = 0;
    for (int s = 0; s < n_seq; s++) {
        ids[s] = s1c_xmalloc((size_t)lens[s] * sizeof(int32_t));
        for (int t = 0; t < lens[s]; t++) ids[s][t] = (int32_t)((s * 131 + t * 7 + 3) % V);
        T += lens[s];
    }
    s1c_batch b;
    MT_OK(s1c_batch_create(be, &b, n_seq, (const int32_t *const *)ids, NULL, lens, S1C_LOSS_SEQ_MEAN, 1.0));
    s1c_qwen2_acts *a = s1c_qwen2_acts_create(be, &m->cfg, T, 0);
    CHECK(a != NULL, "acts: %s", s1c_err_msg());
    n_prepared = n_called = n_fwd = n_bwd = 0;
    s1c_batch_prepare(be, &m->cfg, &b);
    s1c_qwen2_model_zero_grads(m);
    (void)s1c_qwen2_forward_backward(m, a, &b, 1);
    CHECK(n_prepared == 1 && n_fwd == L && n_bwd == L, "n_seq %d: %d prepared, %d fwd, %d bwd (L %d)", n_seq,
          n_prepared, n_fwd, n_bwd, L);
    const s1c_attn_shape *p = &prepared[0];
    CHECK(p->T == T && p->n_seq == n_seq && p->n_head == m->cfg.num_attention_heads && p->n_ctx == 0,
          "prepared T %d n_seq %d", p->T, p->n_seq);
    for (int i = 0; i < n_called && n_prepared == 1; i++) {
        const s1c_attn_shape *c = &called[i];
        CHECK(same_shape(p, c), "n_seq %d call %d: T %d/%d n_seq %d/%d max_seqlen %d/%d n_ctx %d/%d", n_seq, i, c->T,
              p->T, c->n_seq, p->n_seq, c->max_seqlen, p->max_seqlen, c->n_ctx, p->n_ctx);
        // the CUDA backend's bucket and arena layout for the call = the prepared ones (any plan ws)
        for (int bwd = 0; bwd < 2; bwd++) {
            s1c_cuda_attn_layout lp = s1c_cuda_attn_plan(p->T, p->n_seq, p->max_seqlen, p->n_head, p->n_kv_head,
                                                         p->head_dim, bwd, 4096);
            s1c_cuda_attn_layout lc = s1c_cuda_attn_plan(c->T, c->n_seq, c->max_seqlen, c->n_head, c->n_kv_head,
                                                         c->head_dim, bwd, 4096);
            CHECK(lp.ok == lc.ok && lp.b == lc.b && lp.s == lc.s && lc.total <= lp.total,
                  "n_seq %d call %d: bucket (%d, %d) prepared, (%d, %d) used; arena %zu vs %zu", n_seq, i, lp.b, lp.s,
                  lc.b, lc.s, lp.total, lc.total);
        }
    }
    s1c_qwen2_acts_free(be, a);
    s1c_batch_free(be, &b);
    for (int s = 0; s < n_seq; s++) free(ids[s]);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_model_prepare FIXTURES_DIR\n");
        return 2;
    }
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    CHECK(be->prepare_attn == NULL, "the CPU backend prepares nothing");
    orig_fwd = be->attention_fwd, orig_bwd = be->attention_bwd;
    be->attention_fwd = rec_fwd, be->attention_bwd = rec_bwd, be->prepare_attn = rec_prepare;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/a", argv[1]);
    s1c_qwen2_model m;
    MT_OK(s1c_qwen2_model_load(be, dir, &m));
    MT_OK(s1c_qwen2_model_alloc_grads(&m));
    const int one[1] = {70}, three[3] = {3, 9, 1}, five[5] = {2, 2, 2, 2, 7};
    run(be, &m, 1, one);
    run(be, &m, 3, three);
    run(be, &m, 5, five);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
    return check_exit("test_model_prepare");
}
