// test_cpu_bf16.c — the "cpu-bf16" backend (the GPU's storage numerics on a CPU) against the fp32
// CPU backend: every op gets inputs already rounded to bf16 (so both backends compute on the same
// values), and its outputs are checked against the fp32 op's:
// - act outputs: one rounding of the fp32 result, |bf16 - ref| <= 2^-8 |ref| (RNE to 8 significant bits), plus
//   1e-6 * max|ref| for fp32 round-off between two runs of the same op (summation order may
//   follow buffer alignment); truncation instead of rounding, a missed accumulate, a stale or
//   shared scratch slot all exceed it;
// - fp32 outputs (rstd, lse, dw, dbias, loss, masters): relative L2 <= 1e-6 (same arithmetic);
// - pure data movement (embedding rows, KV-cache writes, conversions of exact values): bit-exact.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt.h"

static s1c_backend *cpu, *bf;

// The test's own RNE (independent of the backend's), used to pre-round inputs.
static uint16_t rne(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
static float wid(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

// A bf16 operand and the same values in fp32.
typedef struct {
    uint16_t *h;
    float *f;
    size_t n;
} pair;

static pair mk(kt_rng *r, size_t n, double scale) {
    pair p = {calloc(n ? n : 1, 2), kt_falloc(n), n};
    for (size_t i = 0; i < n; i++) {
        p.h[i] = rne((float)(scale * kt_uniform(r)));
        p.f[i] = wid(p.h[i]);
    }
    return p;
}
static pair out(size_t n) { return (pair){calloc(n ? n : 1, 2), kt_falloc(n), n}; }
static void pfree(pair *p) {
    free(p->h);
    free(p->f);
}

// p.h (bf16 result) against p.f (fp32 reference): worst error in units of the one-rounding bound.
static void check_act(const char *what, const pair *p) {
    double mr = 0, worst = 0;
    size_t exact = 0;
    for (size_t i = 0; i < p->n; i++) mr = fmax(mr, fabs((double)p->f[i]));
    for (size_t i = 0; i < p->n; i++) {
        const double ref = p->f[i], got = wid(p->h[i]);
        const double e = fabs(got - ref) / (ldexp(fabs(ref), -8) + 1e-6 * mr + 1e-30);
        worst = (e > worst || e != e) ? e : worst;
        exact += p->h[i] == rne(p->f[i]);
    }
    char w[160];
    snprintf(w, sizeof w, "%s (%zu/%zu = RNE(ref))", what, exact, p->n);
    kt_check(w, worst, 1.0);
}
static void check_f32(const char *what, const float *a, const float *b, size_t n) {
    double *d = kt_dup(b, n);
    kt_check(what, kt_relerr(a, d, n), 1e-6);
    free(d);
}

static void test_conversions(void) {
    // ties to even, negatives, the overflow to Inf, Inf, NaN with a payload the bias would carry
    const uint32_t in[] = {0x3f808000u /* 1 + 2^-8: tie -> 1 */, 0x3f818000u /* 1 + 3*2^-8: tie -> 1 + 2^-6 */,
                           0x3f808001u, 0xbf80c000u, 0x7f7fffffu, 0x7f800000u, 0xff800000u, 0x7f800001u,
                           0x00000001u, 0x80000000u};
    const uint16_t want[] = {0x3f80, 0x3f82, 0x3f81, 0xbf81, 0x7f80, 0x7f80, 0xff80, 0x7fc0, 0x0000, 0x8000};
    const size_t n = sizeof in / sizeof in[0];
    float f[16], back[16];
    uint16_t h[16];
    memcpy(f, in, sizeof in);
    bf->f32_to_act(bf, h, f, n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += h[i] != want[i];
    kt_check_true("f32_to_act: round to nearest even, Inf, NaN stays NaN", bad == 0);
    bf->act_to_f32(bf, back, h, n);
    bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &back[i], 4);
        bad += u != (uint32_t)want[i] << 16;
    }
    kt_check_true("act_to_f32: exact widening", bad == 0);
    kt_check_true("backend: cpu-bf16 is host memory with bf16 acts",
                  bf->act_dtype == S1C_BF16 && !bf->device_memory && !cpu->device_memory);
}

static void test_add_embedding(kt_rng *r) {
    const int T = 19, C = 40, V = 23;
    pair x = mk(r, (size_t)T * C, 2), y = mk(r, (size_t)T * C, 2);
    bf->add_inplace(bf, x.h, y.h, x.n);
    cpu->add_inplace(cpu, x.f, y.f, x.n);
    check_act("add_inplace", &x);

    pair wte = mk(r, (size_t)V * C, 1), o = out((size_t)T * C), dout = mk(r, (size_t)T * C, 1);
    int32_t ids[19];
    for (int t = 0; t < T; t++) ids[t] = kt_randint(r, V);
    ids[3] = ids[7];  // a repeated id accumulates twice in the backward
    bf->embedding_fwd(bf, o.h, ids, wte.h, T, C);
    int bad = 0;
    for (int t = 0; t < T; t++) bad += memcmp(o.h + (size_t)t * C, wte.h + (size_t)ids[t] * C, (size_t)C * 2) != 0;
    kt_check_true("embedding_fwd: rows copied bit for bit", bad == 0);
    float *d1 = kt_falloc((size_t)V * C), *d2 = kt_falloc((size_t)V * C);
    for (size_t i = 0; i < (size_t)V * C; i++) d1[i] = d2[i] = (float)kt_uniform(r);
    bf->embedding_bwd(bf, d1, dout.h, ids, T, C);
    cpu->embedding_bwd(cpu, d2, dout.f, ids, T, C);
    check_f32("embedding_bwd: dwte (fp32, accumulated)", d1, d2, (size_t)V * C);
    pfree(&x), pfree(&y), pfree(&wte), pfree(&o), pfree(&dout);
    free(d1), free(d2);
}

static void test_rmsnorm(kt_rng *r) {
    const int T = 21, C = 48;
    const size_t n = (size_t)T * C;
    pair x = mk(r, n, 3), w = mk(r, (size_t)C, 1), o = out(n), dout = mk(r, n, 1), di = mk(r, n, 1);
    float *rs1 = kt_falloc((size_t)T), *rs2 = kt_falloc((size_t)T);
    bf->rmsnorm_fwd(bf, o.h, rs1, x.h, w.h, T, C, 1e-6f);
    cpu->rmsnorm_fwd(cpu, o.f, rs2, x.f, w.f, T, C, 1e-6f);
    check_act("rmsnorm_fwd: out", &o);
    check_f32("rmsnorm_fwd: rstd", rs1, rs2, (size_t)T);
    float *dw1 = kt_falloc((size_t)C), *dw2 = kt_falloc((size_t)C);
    for (int c = 0; c < C; c++) dw1[c] = dw2[c] = 0.25f * c;
    bf->rmsnorm_bwd(bf, di.h, dw1, dout.h, x.h, w.h, rs2, T, C);
    cpu->rmsnorm_bwd(cpu, di.f, dw2, dout.f, x.f, w.f, rs2, T, C);
    check_act("rmsnorm_bwd: dinp (accumulated)", &di);
    check_f32("rmsnorm_bwd: dw", dw1, dw2, (size_t)C);
    pfree(&x), pfree(&w), pfree(&o), pfree(&dout), pfree(&di);
    free(rs1), free(rs2), free(dw1), free(dw2);
}

static void test_rope_swiglu(kt_rng *r) {
    const int T = 13, nh = 4, nkv = 2, hd = 16, I = 36;
    const size_t n = (size_t)T * (nh + 2 * nkv) * hd;
    int32_t pos[13];
    for (int t = 0; t < T; t++) pos[t] = (t * 7) % 11;
    float inv[8];
    s1c_rope_inv_freq(inv, hd, 10000.0f);
    pair q = mk(r, n, 2);
    bf->rope_fwd(bf, q.h, pos, inv, T, nh, nkv, hd);
    cpu->rope_fwd(cpu, q.f, pos, inv, T, nh, nkv, hd);
    check_act("rope_fwd (in place)", &q);
    pair dq = mk(r, n, 2);
    bf->rope_bwd(bf, dq.h, pos, inv, T, nh, nkv, hd);
    cpu->rope_bwd(cpu, dq.f, pos, inv, T, nh, nkv, hd);
    check_act("rope_bwd (in place)", &dq);

    pair gu = mk(r, (size_t)T * 2 * I, 3), o = out((size_t)T * I), dout = mk(r, (size_t)T * I, 1);
    pair dgu = out((size_t)T * 2 * I);
    bf->swiglu_fwd(bf, o.h, gu.h, T, I);
    cpu->swiglu_fwd(cpu, o.f, gu.f, T, I);
    check_act("swiglu_fwd", &o);
    bf->swiglu_bwd(bf, dgu.h, dout.h, gu.h, T, I);
    cpu->swiglu_bwd(cpu, dgu.f, dout.f, gu.f, T, I);
    check_act("swiglu_bwd", &dgu);
    pfree(&q), pfree(&dq), pfree(&gu), pfree(&o), pfree(&dout), pfree(&dgu);
}

static void test_attention(kt_rng *r) {
    const int32_t cu[4] = {0, 10, 27, 37};
    const s1c_attn_shape s = {.T = 37, .n_seq = 3, .cu_seqlens = cu, .n_head = 4, .n_kv_head = 2, .head_dim = 16, .max_seqlen = 17};
    const size_t nq = (size_t)s.T * (s.n_head + 2 * s.n_kv_head) * s.head_dim, no = (size_t)s.T * s.n_head * s.head_dim;
    pair qkv = mk(r, nq, 2), o = out(no), dout = mk(r, no, 1), dqkv = out(nq);
    float *l1 = kt_falloc((size_t)s.n_head * s.T), *l2 = kt_falloc((size_t)s.n_head * s.T);
    bf->attention_fwd(bf, o.h, l1, qkv.h, &s);
    cpu->attention_fwd(cpu, o.f, l2, qkv.f, &s);
    check_act("attention_fwd: out", &o);
    check_f32("attention_fwd: lse", l1, l2, (size_t)s.n_head * s.T);
    // the backward reads the bf16 out on both sides (the fp32 side gets its widened copy)
    for (size_t i = 0; i < no; i++) o.f[i] = wid(o.h[i]);
    bf->attention_bwd(bf, dqkv.h, dout.h, qkv.h, o.h, l2, &s);
    cpu->attention_bwd(cpu, dqkv.f, dout.f, qkv.f, o.f, l2, &s);
    check_act("attention_bwd: dqkv", &dqkv);
    pfree(&qkv), pfree(&o), pfree(&dout), pfree(&dqkv);
    free(l1), free(l2);
}

static void test_matmul(kt_rng *r) {
    const int T = 23, IC = 40, OC = 56;
    pair x = mk(r, (size_t)T * IC, 1), w = mk(r, (size_t)OC * IC, 0.2), b = mk(r, (size_t)OC, 1);
    pair o = out((size_t)T * OC), o2 = out((size_t)T * OC), dout = mk(r, (size_t)T * OC, 1);
    bf->matmul_fwd(bf, o.h, x.h, w.h, b.h, T, IC, OC);
    cpu->matmul_fwd(cpu, o.f, x.f, w.f, b.f, T, IC, OC);
    check_act("matmul_fwd with bias", &o);
    bf->matmul_fwd(bf, o2.h, x.h, w.h, NULL, T, IC, OC);
    cpu->matmul_fwd(cpu, o2.f, x.f, w.f, NULL, T, IC, OC);
    check_act("matmul_fwd without bias", &o2);
    for (int acc = 0; acc < 2; acc++) {
        pair di = mk(r, (size_t)T * IC, 1);
        float *dw1 = kt_falloc((size_t)OC * IC), *dw2 = kt_falloc((size_t)OC * IC);
        float *db1 = kt_falloc((size_t)OC), *db2 = kt_falloc((size_t)OC);
        for (size_t i = 0; i < (size_t)OC * IC; i++) dw1[i] = dw2[i] = (float)kt_uniform(r);
        bf->matmul_bwd(bf, di.h, dw1, db1, dout.h, x.h, w.h, T, IC, OC, acc);
        cpu->matmul_bwd(cpu, di.f, dw2, db2, dout.f, x.f, w.f, T, IC, OC, acc);
        check_act(acc ? "matmul_bwd: dinp accumulated" : "matmul_bwd: dinp overwritten", &di);
        check_f32("matmul_bwd: dw (accumulated)", dw1, dw2, (size_t)OC * IC);
        check_f32("matmul_bwd: dbias", db1, db2, (size_t)OC);
        pfree(&di);
        free(dw1), free(dw2), free(db1), free(db2);
    }
    // dinp NULL (the first layer's input needs no gradient)
    float *dw1 = kt_falloc((size_t)OC * IC), *dw2 = kt_falloc((size_t)OC * IC);
    bf->matmul_bwd(bf, NULL, dw1, NULL, dout.h, x.h, w.h, T, IC, OC, 0);
    cpu->matmul_bwd(cpu, NULL, dw2, NULL, dout.f, x.f, w.f, T, IC, OC, 0);
    check_f32("matmul_bwd: dw with dinp NULL", dw1, dw2, (size_t)OC * IC);
    // the decode GEMM on a few rows
    pair od = out((size_t)3 * OC);
    bf->matmul_decode(bf, od.h, x.h, w.h, b.h, 3, IC, OC);
    cpu->matmul_decode(cpu, od.f, x.f, w.f, b.f, 3, IC, OC);
    check_act("matmul_decode", &od);
    pfree(&x), pfree(&w), pfree(&b), pfree(&o), pfree(&o2), pfree(&dout), pfree(&od);
    free(dw1), free(dw2);
}

static void test_lmhead(kt_rng *r) {
    const int T = 17, C = 32, V = 97;
    pair h = mk(r, (size_t)T * C, 2), w = mk(r, (size_t)V * C, 0.5), dh = out((size_t)T * C);
    int32_t tg[17];
    float wt[17];
    for (int t = 0; t < T; t++) {
        tg[t] = kt_randint(r, V);
        wt[t] = t % 4 == 1 ? 0.0f : 1.0f / T;
    }
    float l1 = 0.5f, l2 = 0.5f;
    float *dw1 = kt_falloc((size_t)V * C), *dw2 = kt_falloc((size_t)V * C);
    bf->lmhead_ce(bf, &l1, dh.h, dw1, h.h, w.h, tg, wt, T, C, V);
    cpu->lmhead_ce(cpu, &l2, dh.f, dw2, h.f, w.f, tg, wt, T, C, V);
    check_f32("lmhead_ce: loss (accumulated)", &l1, &l2, 1);
    check_act("lmhead_ce: dh", &dh);
    check_f32("lmhead_ce: dw_lm", dw1, dw2, (size_t)V * C);
    l1 = l2 = 0;
    bf->lmhead_ce(bf, &l1, NULL, NULL, h.h, w.h, tg, wt, T, C, V);
    cpu->lmhead_ce(cpu, &l2, NULL, NULL, h.f, w.f, tg, wt, T, C, V);
    check_f32("lmhead_ce: loss only", &l1, &l2, 1);
    pfree(&h), pfree(&w), pfree(&dh);
    free(dw1), free(dw2);
}

static void test_adamw(kt_rng *r) {
    const size_t n = 1001;
    float *p1 = kt_falloc(n), *p2 = kt_falloc(n), *g = kt_falloc(n), *m1 = kt_falloc(n), *m2 = kt_falloc(n);
    float *v1 = kt_falloc(n), *v2 = kt_falloc(n);
    uint16_t *act = calloc(n, 2);
    kt_fill(r, p1, n, 1);
    kt_fill(r, g, n, 1);
    memcpy(p2, p1, n * 4);
    for (int step = 1; step <= 2; step++) {
        bf->adamw(bf, p1, act, g, m1, v1, n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, step);
        cpu->adamw(cpu, p2, NULL, g, m2, v2, n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f, step);
    }
    check_f32("adamw: fp32 masters", p1, p2, n);
    check_f32("adamw: m", m1, m2, n);
    check_f32("adamw: v", v1, v2, n);
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad += act[i] != rne(p1[i]);
    kt_check_true("adamw: the bf16 copy is RNE of the new master", bad == 0);
    float s1 = 1, s2 = 1;
    bf->sumsq_accumulate(bf, &s1, g, n);
    cpu->sumsq_accumulate(cpu, &s2, g, n);
    check_f32("sumsq_accumulate (fp32 pass-through)", &s1, &s2, 1);
    free(p1), free(p2), free(g), free(m1), free(m2), free(v1), free(v2), free(act);
}

// Two sequences over scattered, out-of-order blocks of a pool larger than any table mentions;
// one sequence prefills several rows, the other decodes one.
static void test_paged(kt_rng *r) {
    enum { NH = 4, NKV = 2, HD = 16, BS = 4, NB = 30, MB = 6 };
    const size_t row = (size_t)(NH + 2 * NKV) * HD, kv = (size_t)NKV * HD, pool = (size_t)NB * BS * kv;
    const int32_t tables[2 * MB] = {29, 3, 17, 11, 0, 0, 5, 22, 0, 0, 0, 0};
    const int len[2] = {13, 7};
    pair kc = out(pool), vc = out(pool);
    // fill the caches with every position of both sequences
    for (int s = 0; s < 2; s++) {
        pair x = mk(r, (size_t)len[s] * row, 2);
        int32_t slot[13];
        for (int t = 0; t < len[s]; t++) slot[t] = tables[s * MB + t / BS] * BS + t % BS;
        bf->kv_cache_write(bf, kc.h, vc.h, x.h, slot, len[s], NH, NKV, HD);
        cpu->kv_cache_write(cpu, kc.f, vc.f, x.f, slot, len[s], NH, NKV, HD);
        pfree(&x);
    }
    int bad = 0;
    for (size_t i = 0; i < pool; i++) bad += kc.h[i] != rne(kc.f[i]) || vc.h[i] != rne(vc.f[i]);
    kt_check_true("kv_cache_write: bf16 cache holds the qkv words", bad == 0);
    // rows: seq 0 positions 8..12 (prefill tail), seq 1 position 6 (decode)
    const int T = 6;
    int32_t rs[6] = {0, 0, 0, 0, 0, 1}, pos[6] = {8, 9, 10, 11, 12, 6};
    pair q = mk(r, (size_t)T * row, 2), o = out((size_t)T * NH * HD);
    const s1c_paged_shape sh = {T, NH, NKV, HD, BS, MB, tables, rs, pos};
    bf->attention_decode(bf, o.h, q.h, kc.h, vc.h, &sh);
    cpu->attention_decode(cpu, o.f, q.f, kc.f, vc.f, &sh);
    check_act("attention_decode: scattered blocks, prefill + decode rows", &o);
    pfree(&kc), pfree(&vc), pfree(&q), pfree(&o);
}

int main(void) {
    cpu = kt_backend();
    bf = s1c_backend_create("cpu-bf16", 0);
    if (!bf) {
        fprintf(stderr, "cpu-bf16 backend: %s\n", s1c_err_msg());
        return 1;
    }
    kt_rng r = {42};
    test_conversions();
    // twice: the second pass reuses the grown scratch (a stale slot would show there)
    for (int pass = 0; pass < 2; pass++) {
        test_add_embedding(&r);
        test_rmsnorm(&r);
        test_rope_swiglu(&r);
        test_attention(&r);
        test_matmul(&r);
        test_lmhead(&r);
        test_adamw(&r);
        test_paged(&r);
    }
    s1c_backend_destroy(bf);
    s1c_backend_destroy(cpu);
    return check_exit("test_cpu_bf16");
}
