// cpu_bf16_ops.c — the training ops of the "cpu-bf16" backend: act operands widened into fp32
// scratch, the fp32 CPU op, act outputs rounded back once (RNE), as the CUDA kernels store them.
// Accumulated act outputs (x += ...) are widened first, so the sum is rounded once, as a bf16
// GEMM with beta = 1 does. fp32 operands (rstd, lse, dw, loss) pass straight through.
#include "cpu_bf16.h"

#define F32(be) (bf16_st(be)->f32)

void bf16_add_inplace(s1c_backend *be, void *x_, const void *y_, size_t n) {
    (void)be;
    uint16_t *x = x_;        // [n]
    const uint16_t *y = y_;  // [n]
#pragma omp parallel for schedule(static) if (n > 262144)
    for (size_t i = 0; i < n; i++) x[i] = bf16_from_f32(bf16_to_f32(x[i]) + bf16_to_f32(y[i]));
}

// A row gather moves elements without arithmetic: copied as 2-byte words, no rounding.
void bf16_embedding_fwd(s1c_backend *be, void *out_, const int32_t *ids, const void *wte_, int T, int C) {
    (void)be;
    uint16_t *out = out_;        // [T, C]
    const uint16_t *wte = wte_;  // [V, C]
    for (int t = 0; t < T; t++) {
        S1C_ASSERT(ids[t] >= 0);
        memcpy(out + (size_t)t * C, wte + (size_t)ids[t] * C, (size_t)C * sizeof(uint16_t));
    }
}

void bf16_embedding_bwd(s1c_backend *be, float *dwte, const void *dout, const int32_t *ids, int T, int C) {
    const float *d = bf16_in(be, 0, dout, (size_t)T * C);  // [T, C]
    F32(be)->embedding_bwd(F32(be), dwte, d, ids, T, C);
}

void bf16_rmsnorm_fwd(s1c_backend *be, void *out, float *rstd, const void *inp, const void *w, int T, int C,
                      float eps) {
    const size_t n = (size_t)T * C;
    const float *x = bf16_in(be, 0, inp, n);  // [T, C]
    const float *g = bf16_in(be, 1, w, (size_t)C);  // [C]
    float *o = bf16_scratch(be, 2, n);        // [T, C]
    F32(be)->rmsnorm_fwd(F32(be), o, rstd, x, g, T, C, eps);
    bf16_narrow(out, o, n);
}

void bf16_rmsnorm_bwd(s1c_backend *be, void *dinp_accumulate, float *dw, const void *dout, const void *inp,
                      const void *w, const float *rstd, int T, int C) {
    const size_t n = (size_t)T * C;
    float *di = (float *)bf16_in(be, 0, dinp_accumulate, n);  // [T, C], accumulated into
    const float *d = bf16_in(be, 1, dout, n);                 // [T, C]
    const float *x = bf16_in(be, 2, inp, n);                  // [T, C]
    const float *g = bf16_in(be, 3, w, (size_t)C);            // [C]
    F32(be)->rmsnorm_bwd(F32(be), di, dw, d, x, g, rstd, T, C);
    bf16_narrow(dinp_accumulate, di, n);
}

// RoPE rotates in place: the whole qkv row round-trips, v heads included (they come back
// bit-identical: widening is exact and they are not touched).
void bf16_rope_fwd(s1c_backend *be, void *qkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                   int n_kv_head, int head_dim) {
    const size_t n = (size_t)T * (n_head + 2 * n_kv_head) * head_dim;
    float *q = (float *)bf16_in(be, 0, qkv, n);  // [T, (nh + 2 nkv) hd]
    F32(be)->rope_fwd(F32(be), q, pos, inv_freq, T, n_head, n_kv_head, head_dim);
    bf16_narrow(qkv, q, n);
}

void bf16_rope_bwd(s1c_backend *be, void *dqkv, const int32_t *pos, const float *inv_freq, int T, int n_head,
                   int n_kv_head, int head_dim) {
    const size_t n = (size_t)T * (n_head + 2 * n_kv_head) * head_dim;
    float *q = (float *)bf16_in(be, 0, dqkv, n);  // [T, (nh + 2 nkv) hd]
    F32(be)->rope_bwd(F32(be), q, pos, inv_freq, T, n_head, n_kv_head, head_dim);
    bf16_narrow(dqkv, q, n);
}

void bf16_attention_fwd(s1c_backend *be, void *out, float *lse, const void *qkv, const s1c_attn_shape *s) {
    const size_t nq = (size_t)s->T * (s->n_head + 2 * s->n_kv_head) * s->head_dim;
    const size_t no = (size_t)s->T * s->n_head * s->head_dim;
    const float *x = bf16_in(be, 0, qkv, nq);  // [T, (nh + 2 nkv) hd]
    float *o = bf16_scratch(be, 1, no);        // [T, nh hd]
    F32(be)->attention_fwd(F32(be), o, lse, x, s);
    bf16_narrow(out, o, no);
}

void bf16_attention_bwd(s1c_backend *be, void *dqkv, const void *dout, const void *qkv, const void *out,
                        const float *lse, const s1c_attn_shape *s) {
    const size_t nq = (size_t)s->T * (s->n_head + 2 * s->n_kv_head) * s->head_dim;
    const size_t no = (size_t)s->T * s->n_head * s->head_dim;
    const float *d = bf16_in(be, 0, dout, no);  // [T, nh hd]
    const float *x = bf16_in(be, 1, qkv, nq);   // [T, (nh + 2 nkv) hd]
    const float *o = bf16_in(be, 2, out, no);   // [T, nh hd]
    float *dx = bf16_scratch(be, 3, nq);        // [T, (nh + 2 nkv) hd]
    F32(be)->attention_bwd(F32(be), dx, d, x, o, lse, s);
    bf16_narrow(dqkv, dx, nq);
}

void bf16_matmul_fwd(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                     int OC) {
    const float *x = bf16_in(be, 0, inp, (size_t)T * IC);    // [T, IC]
    const float *wf = bf16_in(be, 1, w, (size_t)OC * IC);    // [OC, IC]
    const float *b = bf16_in(be, 2, bias, (size_t)OC);       // [OC] or NULL
    float *o = bf16_scratch(be, 3, (size_t)T * OC);          // [T, OC]
    F32(be)->matmul_fwd(F32(be), o, x, wf, b, T, IC, OC);
    bf16_narrow(out, o, (size_t)T * OC);
}

void bf16_matmul_bwd(s1c_backend *be, void *dinp, float *dw, float *dbias, const void *dout, const void *inp,
                     const void *w, int T, int IC, int OC, int accumulate_dinp) {
    const size_t ni = (size_t)T * IC;
    const float *d = bf16_in(be, 0, dout, (size_t)T * OC);  // [T, OC]
    const float *x = dw ? bf16_in(be, 1, inp, ni) : NULL;   // [T, IC], read only for dw
    const float *wf = dinp ? bf16_in(be, 2, w, (size_t)OC * IC) : NULL;  // [OC, IC], read only for dinp
    float *di = NULL;                                       // [T, IC]
    if (dinp) di = accumulate_dinp ? (float *)bf16_in(be, 3, dinp, ni) : bf16_scratch(be, 3, ni);
    F32(be)->matmul_bwd(F32(be), di, dw, dbias, d, x, wf, T, IC, OC, accumulate_dinp);
    if (dinp) bf16_narrow(dinp, di, ni);
}

void bf16_swiglu_fwd(s1c_backend *be, void *out, const void *gu, int T, int I) {
    const float *x = bf16_in(be, 0, gu, (size_t)T * 2 * I);  // [T, 2I]
    float *o = bf16_scratch(be, 1, (size_t)T * I);           // [T, I]
    F32(be)->swiglu_fwd(F32(be), o, x, T, I);
    bf16_narrow(out, o, (size_t)T * I);
}

void bf16_swiglu_bwd(s1c_backend *be, void *dgu, const void *dout, const void *gu, int T, int I) {
    const float *d = bf16_in(be, 0, dout, (size_t)T * I);    // [T, I]
    const float *x = bf16_in(be, 1, gu, (size_t)T * 2 * I);  // [T, 2I]
    float *dx = bf16_scratch(be, 2, (size_t)T * 2 * I);      // [T, 2I]
    F32(be)->swiglu_bwd(F32(be), dx, d, x, T, I);
    bf16_narrow(dgu, dx, (size_t)T * 2 * I);
}

void bf16_lmhead_ce(s1c_backend *be, float *loss_out, void *dh, float *dw_lm, const void *h, const void *w_lm,
                    const int32_t *targets, const float *weight, int T, int C, int V) {
    const float *x = bf16_in(be, 0, h, (size_t)T * C);      // [T, C]
    const float *w = bf16_in(be, 1, w_lm, (size_t)V * C);   // [V, C]
    float *d = dh ? bf16_scratch(be, 2, (size_t)T * C) : NULL;  // [T, C]
    F32(be)->lmhead_ce(F32(be), loss_out, d, dw_lm, x, w, targets, weight, T, C, V);
    if (dh) bf16_narrow(dh, d, (size_t)T * C);
}

// The fp32 master update is the CPU's; the act copy is the new master rounded once.
void bf16_adamw(s1c_backend *be, float *param, void *param_act, const float *grad, float *m, float *v, size_t n,
                float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int step) {
    F32(be)->adamw(F32(be), param, NULL, grad, m, v, n, lr, beta1, beta2, eps, wd, grad_scale, step);
    if (param_act) bf16_narrow(param_act, param, n);
}
