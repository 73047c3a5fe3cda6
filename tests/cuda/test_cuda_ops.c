// test_cuda_ops.c — every CUDA op, forward and backward, against the CPU reference backend.
//
// Inputs are random on awkward sizes and rounded to bf16 on the host first, so both backends see
// identical values and the differences measure only the CUDA path's bf16 storage of results and
// its fp32 accumulation order. Each comparison passes when max|cuda - cpu| <= tol * max|cpu|;
// the tolerance stated next to each check says which rounding it allows for. Attention runs twice:
// through the default dispatch (cuDNN fused SDPA where it accepts the shape) and through the own
// kernels (S1C_CUDA_ATTN=own). Exits 77 (ctest: skipped) with "SKIP: no CUDA device" when no GPU.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ops.h"
#include "qwen2.h"  // s1c_embed_order: the batch's index for the sorted embedding backward

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static float frand(void) {  // uniform [-1, 1)
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float bf16_round(float x) {  // round to nearest even, as __float2bfloat16_rn
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

static float *host_rand(size_t n, float scale, int round_bf16) {
    float *h = s1c_xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        float v = frand() * scale;
        h[i] = round_bf16 ? bf16_round(v) : v;
    }
    return h;
}

// ---- backend buffers from host arrays and back (generic over both backends) ----------------------
static void *act_up(s1c_backend *be, const float *h, size_t n) {
    void *a = be->alloc(be, n * s1c_dtype_size(be->act_dtype) + 16);
    float *t = be->alloc(be, n * sizeof(float) + 16);
    S1C_ASSERT(a && t);
    be->copy_h2d(be, t, h, n * sizeof(float));
    be->f32_to_act(be, a, t, n);
    be->synchronize(be);
    be->free(be, t);
    return a;
}
static void act_down(s1c_backend *be, float *h, const void *a, size_t n) {
    float *t = be->alloc(be, n * sizeof(float) + 16);
    S1C_ASSERT(t);
    be->act_to_f32(be, t, a, n);
    be->copy_d2h(be, h, t, n * sizeof(float));
    be->free(be, t);
}
static void *raw_up(s1c_backend *be, const void *h, size_t bytes) {
    void *d = be->alloc(be, bytes + 16);
    S1C_ASSERT(d);
    be->copy_h2d(be, d, h, bytes);
    return d;
}
static void raw_down(s1c_backend *be, void *h, const void *d, size_t bytes) { be->copy_d2h(be, h, d, bytes); }

static void check(const char *what, const float *got, const float *ref, size_t n, double tol, const char *why) {
    double md = 0.0, mr = 0.0;
    size_t at = 0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) && isfinite(ref[i])) nan = 1;
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > md) md = d, at = i;
        if (fabs((double)ref[i]) > mr) mr = fabs((double)ref[i]);
    }
    double scale = mr > 0 ? mr : 1.0;
    int ok = !nan && md <= tol * scale;
    printf("%-34s n=%-7zu max|d|=%.3g (at %zu: %.6g vs %.6g) max|ref|=%.3g tol=%.1g*max  %s  [%s]\n", what, n, md,
           at, n ? got[at] : 0.0, n ? ref[at] : 0.0, mr, tol, ok ? "ok" : "FAIL", why);
    if (!ok) check_failures++;
}

// Runs an act-valued comparison: uploads inputs to both, caller provides lambdas via macros below.
typedef struct {
    s1c_backend *cpu, *gpu;
} pair;

// ---- per-op tests ---------------------------------------------------------------------------------
// Sizes that are multiples of 8 (with cudaMalloc's aligned buffers) take the 16-byte vector
// kernels of cuda_pointwise.cu; odd sizes take the scalar ones: main runs both.
static void test_casts_add(pair p, size_t n) {
    float *x = host_rand(n, 3.0f, 0), *y = host_rand(n, 3.0f, 1), *got = s1c_xmalloc(n * 4), *ref = s1c_xmalloc(n * 4);
    // f32 -> bf16 -> f32 on the GPU equals round-to-nearest-even on the host exactly.
    void *a = act_up(p.gpu, x, n);
    act_down(p.gpu, got, a, n);
    for (size_t i = 0; i < n; i++) ref[i] = bf16_round(x[i]);
    check("f32_to_act/act_to_f32", got, ref, n, 0.0, "exact RNE rounding");
    void *b = act_up(p.gpu, y, n);
    p.gpu->add_inplace(p.gpu, a, b, n);
    act_down(p.gpu, got, a, n);
    for (size_t i = 0; i < n; i++) ref[i] = bf16_round(x[i]) + y[i];
    check("add_inplace", got, ref, n, 8e-3, "one bf16 rounding of the sum");
    p.gpu->free(p.gpu, a);
    p.gpu->free(p.gpu, b);
    free(x), free(y), free(got), free(ref);
}

static void test_embedding(pair p, int C) {
    int V = 53, T = 41;
    float *wte = host_rand((size_t)V * C, 1.0f, 1), *dout = host_rand((size_t)T * C, 1.0f, 1);
    int32_t ids[41];
    for (int t = 0; t < T; t++) ids[t] = (int32_t)((t * 7 + 3) % V);  // repeats exercise the atomics
    ids[5] = ids[6] = ids[7] = 11;
    float *got = s1c_xmalloc((size_t)V * C * 4), *ref = s1c_xmalloc((size_t)V * C * 4);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *outs[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        void *w = act_up(be, wte, (size_t)V * C), *o = act_up(be, dout, (size_t)T * C);
        void *d = act_up(be, dout, (size_t)T * C);
        int32_t *di = raw_up(be, ids, sizeof ids);
        be->embedding_fwd(be, o, di, w, T, C);
        act_down(be, k ? got : ref, o, (size_t)T * C);
        float *dw = be->alloc(be, (size_t)V * C * 4);
        be->memset_zero(be, dw, (size_t)V * C * 4);
        be->embedding_bwd(be, dw, d, di, T, C);
        be->embedding_bwd(be, dw, d, di, T, C);  // accumulates
        outs[k] = s1c_xmalloc((size_t)V * C * 4);
        raw_down(be, outs[k], dw, (size_t)V * C * 4);
        be->free(be, w), be->free(be, o), be->free(be, d), be->free(be, di), be->free(be, dw);
    }
    check("embedding_fwd", got, ref, (size_t)T * C, 0.0, "a copy");
    check("embedding_bwd (x2, accumulated)", outs[1], outs[0], (size_t)V * C, 1e-6, "fp32 sums, any order");
    free(outs[0]), free(outs[1]), free(wte), free(dout), free(got), free(ref);
}

static void test_rmsnorm(pair p, int T, int C) {
    float eps = 1e-6f;
    float *x = host_rand((size_t)T * C, 2.0f, 1), *w = host_rand(C, 1.0f, 1), *dy = host_rand((size_t)T * C, 1.0f, 1);
    float *dx0 = host_rand((size_t)T * C, 0.5f, 1);  // dinp accumulates onto this
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *out[2], *rstd[2], *dx[2], *dw[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        void *dx_ = act_up(be, dx0, (size_t)T * C), *x_ = act_up(be, x, (size_t)T * C), *w_ = act_up(be, w, C);
        void *dy_ = act_up(be, dy, (size_t)T * C), *o_ = act_up(be, x, (size_t)T * C);
        float *r_ = be->alloc(be, T * 4), *dw_ = be->alloc(be, C * 4);
        be->memset_zero(be, dw_, C * 4);
        be->rmsnorm_fwd(be, o_, r_, x_, w_, T, C, eps);
        be->rmsnorm_bwd(be, dx_, dw_, dy_, x_, w_, r_, T, C);
        out[k] = s1c_xmalloc((size_t)T * C * 4), dx[k] = s1c_xmalloc((size_t)T * C * 4);
        rstd[k] = s1c_xmalloc(T * 4), dw[k] = s1c_xmalloc(C * 4);
        act_down(be, out[k], o_, (size_t)T * C);
        act_down(be, dx[k], dx_, (size_t)T * C);
        raw_down(be, rstd[k], r_, T * 4);
        raw_down(be, dw[k], dw_, C * 4);
        be->free(be, dx_), be->free(be, x_), be->free(be, w_), be->free(be, dy_), be->free(be, o_);
        be->free(be, r_), be->free(be, dw_);
    }
    check("rmsnorm_fwd out", out[1], out[0], (size_t)T * C, 8e-3, "bf16 output rounding");
    check("rmsnorm_fwd rstd", rstd[1], rstd[0], T, 1e-5, "fp32 row sums");
    check("rmsnorm_bwd dinp (+=)", dx[1], dx[0], (size_t)T * C, 1.6e-2, "bf16 rounding of the sum onto bf16");
    check("rmsnorm_bwd dw", dw[1], dw[0], C, 1e-4, "fp32 sums over rows");
    for (int k = 0; k < 2; k++) free(out[k]), free(rstd[k]), free(dx[k]), free(dw[k]);
    free(x), free(w), free(dy), free(dx0);
}

// off: the qkv operand starts off elements into its buffer (off % 8 != 0: not 16-byte aligned,
// the scalar kernel runs). half = hd/2 a multiple of 8 with off = 0 takes the 8-pair vector kernel.
static void test_rope(pair p, int T, int nh, int nkv, int hd, int off) {
    int rs = (nh + 2 * nkv) * hd;
    size_t n = (size_t)T * rs;
    float *qkv = host_rand(n + (size_t)off, 1.0f, 1);
    int32_t *pos = s1c_xmalloc((size_t)T * sizeof(int32_t));
    for (int t = 0; t < T; t++) pos[t] = t < 10 ? t : 30000 + t;  // large positions test sincos accuracy
    float *inv = s1c_xmalloc((size_t)(hd / 2) * sizeof(float));
    s1c_rope_inv_freq(inv, hd, 1000000.0f);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *f[2], *b[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        size_t es = s1c_dtype_size(be->act_dtype);
        void *a = act_up(be, qkv, n + (size_t)off), *g = act_up(be, qkv, n + (size_t)off);
        void *a_use = (char *)a + (size_t)off * es, *g_use = (char *)g + (size_t)off * es;
        int32_t *pd = raw_up(be, pos, (size_t)T * sizeof(int32_t));
        float *id = raw_up(be, inv, (size_t)(hd / 2) * sizeof(float));
        be->rope_fwd(be, a_use, pd, id, T, nh, nkv, hd);
        be->rope_bwd(be, g_use, pd, id, T, nh, nkv, hd);
        f[k] = s1c_xmalloc(n * 4), b[k] = s1c_xmalloc(n * 4);
        act_down(be, f[k], a_use, n);
        act_down(be, b[k], g_use, n);
        be->free(be, a), be->free(be, g), be->free(be, pd), be->free(be, id);
    }
    char name[96];
    snprintf(name, sizeof name, "rope_fwd T=%d h=%d+%d hd=%d%s", T, nh, nkv, hd,
             off % 8 ? " (unaligned: scalar)" : (hd / 2) % 8 ? " (scalar)" : " (8-pair vectors)");
    check(name, f[1], f[0], n, 8e-3, "bf16 output rounding (v heads untouched)");
    check("  rope_bwd", b[1], b[0], n, 8e-3, "bf16 output rounding");
    for (int k = 0; k < 2; k++) free(f[k]), free(b[k]);
    free(qkv), free(pos), free(inv);
}

// rmsnorm_residual_fwd (fused on the GPU) against add_inplace + rmsnorm_fwd on the GPU: same
// stored residual bits (one bf16 rounding of the sum either way), outputs within bf16 rounding
// (the fp32 row sum is reduced in another order).
static void test_rmsnorm_residual(pair p, int T, int C) {
    s1c_backend *g = p.gpu;
    if (!g->rmsnorm_residual_fwd) return;
    float *x = host_rand((size_t)T * C, 2.0f, 1), *r = host_rand((size_t)T * C, 2.0f, 1), *w = host_rand(C, 1.0f, 1);
    float *xs[2], *os[2], *rs[2];
    for (int k = 0; k < 2; k++) {
        void *x_ = act_up(g, x, (size_t)T * C), *r_ = act_up(g, r, (size_t)T * C), *w_ = act_up(g, w, C);
        void *o_ = act_up(g, x, (size_t)T * C);
        float *rstd_ = g->alloc(g, (size_t)T * 4);
        if (k == 0) {
            g->add_inplace(g, x_, r_, (size_t)T * C);
            g->rmsnorm_fwd(g, o_, rstd_, x_, w_, T, C, 1e-6f);
        } else {
            g->rmsnorm_residual_fwd(g, o_, rstd_, x_, r_, w_, T, C, 1e-6f);
        }
        xs[k] = s1c_xmalloc((size_t)T * C * 4), os[k] = s1c_xmalloc((size_t)T * C * 4), rs[k] = s1c_xmalloc((size_t)T * 4);
        act_down(g, xs[k], x_, (size_t)T * C);
        act_down(g, os[k], o_, (size_t)T * C);
        raw_down(g, rs[k], rstd_, (size_t)T * 4);
        g->free(g, x_), g->free(g, r_), g->free(g, w_), g->free(g, o_), g->free(g, rstd_);
    }
    char name[96];
    snprintf(name, sizeof name, "rmsnorm_residual_fwd x (C=%d%s)", C, C % 8 ? ", unfused fallback" : ", fused");
    check(name, xs[1], xs[0], (size_t)T * C, 0.0, "the same single bf16 rounding of x + res");
    check("  rmsnorm_residual_fwd out", os[1], os[0], (size_t)T * C, 8e-3, "bf16 output rounding");
    check("  rmsnorm_residual_fwd rstd", rs[1], rs[0], T, 1e-5, "fp32 row sums in another order");
    for (int k = 0; k < 2; k++) free(xs[k]), free(os[k]), free(rs[k]);
    free(x), free(r), free(w);
}

static void test_swiglu(pair p, int T, int I) {
    float *gu = host_rand((size_t)T * 2 * I, 4.0f, 1), *dy = host_rand((size_t)T * I, 1.0f, 1);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *o[2], *d[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        void *g = act_up(be, gu, (size_t)T * 2 * I), *y = act_up(be, dy, (size_t)T * I);
        void *out = act_up(be, dy, (size_t)T * I), *dg = act_up(be, gu, (size_t)T * 2 * I);
        be->swiglu_fwd(be, out, g, T, I);
        be->swiglu_bwd(be, dg, y, g, T, I);
        o[k] = s1c_xmalloc((size_t)T * I * 4), d[k] = s1c_xmalloc((size_t)T * 2 * I * 4);
        act_down(be, o[k], out, (size_t)T * I);
        act_down(be, d[k], dg, (size_t)T * 2 * I);
        be->free(be, g), be->free(be, y), be->free(be, out), be->free(be, dg);
    }
    check("swiglu_fwd", o[1], o[0], (size_t)T * I, 8e-3, "bf16 output rounding");
    check("swiglu_bwd", d[1], d[0], (size_t)T * 2 * I, 8e-3, "bf16 output rounding");
    for (int k = 0; k < 2; k++) free(o[k]), free(d[k]);
    free(gu), free(dy);
}

// bias_off: the bias operand starts bias_off bf16 elements into its buffer. bias_off % 8 != 0 makes
// it less than 16-byte aligned, so the CUDA backend cannot fuse it as a cuBLASLt epilogue and takes
// the separate k_add_bias kernel: the fallback path, tested explicitly (cudaMalloc'd buffers are
// 256-aligned, so bias_off = 0 always fuses).
static void test_matmul_ex(pair p, int T, int IC, int OC, int with_bias, int bias_off) {
    float *x = host_rand((size_t)T * IC, 1.0f, 1), *w = host_rand((size_t)OC * IC, 1.0f, 1);
    float *bias = host_rand(OC, 1.0f, 1), *dy = host_rand((size_t)T * OC, 1.0f, 1);
    float *dx0 = host_rand((size_t)T * IC, 1.0f, 1), *dw0 = host_rand((size_t)OC * IC, 1.0f, 0);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *o[2], *dx[2], *dxa[2], *dw[2], *db[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        float *bias_pad = (float *)s1c_xmalloc((size_t)(OC + bias_off) * sizeof(float));
        for (int i = 0; i < bias_off; i++) bias_pad[i] = 0.0f;
        memcpy(bias_pad + bias_off, bias, (size_t)OC * sizeof(float));
        void *x_ = act_up(be, x, (size_t)T * IC), *w_ = act_up(be, w, (size_t)OC * IC);
        void *b_ = act_up(be, bias_pad, (size_t)OC + bias_off);
        free(bias_pad);
        void *b_use = (char *)b_ + (size_t)bias_off * s1c_dtype_size(be->act_dtype);
        void *dy_ = act_up(be, dy, (size_t)T * OC), *o_ = act_up(be, dy, (size_t)T * OC);
        void *dx_ = act_up(be, dx0, (size_t)T * IC), *dxa_ = act_up(be, dx0, (size_t)T * IC);
        float *dw_ = raw_up(be, dw0, (size_t)OC * IC * 4), *db_ = raw_up(be, bias, OC * 4);
        be->matmul_fwd(be, o_, x_, w_, with_bias ? b_use : NULL, T, IC, OC);
        be->matmul_bwd(be, dx_, dw_, with_bias ? db_ : NULL, dy_, x_, w_, T, IC, OC, 0);
        be->matmul_bwd(be, dxa_, NULL, NULL, dy_, x_, w_, T, IC, OC, 1);
        o[k] = s1c_xmalloc((size_t)T * OC * 4), dx[k] = s1c_xmalloc((size_t)T * IC * 4);
        dxa[k] = s1c_xmalloc((size_t)T * IC * 4), dw[k] = s1c_xmalloc((size_t)OC * IC * 4), db[k] = s1c_xmalloc(OC * 4);
        act_down(be, o[k], o_, (size_t)T * OC);
        act_down(be, dx[k], dx_, (size_t)T * IC);
        act_down(be, dxa[k], dxa_, (size_t)T * IC);
        raw_down(be, dw[k], dw_, (size_t)OC * IC * 4);
        raw_down(be, db[k], db_, OC * 4);
        be->free(be, x_), be->free(be, w_), be->free(be, b_), be->free(be, dy_), be->free(be, o_);
        be->free(be, dx_), be->free(be, dxa_), be->free(be, dw_), be->free(be, db_);
    }
    char name[160];
    char how[64] = "";
    if (with_bias && bias_off) snprintf(how, sizeof how, " (bias %d bytes off: k_add_bias path)", 2 * bias_off);
    snprintf(name, sizeof name, "matmul_fwd %dx%dx%d%s%s", T, IC, OC, with_bias ? "+bias" : "", how);
    check(name, o[1], o[0], (size_t)T * OC, 8e-3, "bf16 output rounding, fp32 accumulation");
    check("  matmul_bwd dinp", dx[1], dx[0], (size_t)T * IC, 8e-3, "bf16 output rounding");
    check("  matmul_bwd dinp (accumulate)", dxa[1], dxa[0], (size_t)T * IC, 8e-3, "bf16 rounding of the sum");
    check("  matmul_bwd dw (+=)", dw[1], dw[0], (size_t)OC * IC, 1e-5, "fp32 out, exact bf16 products");
    if (with_bias) check("  matmul_bwd dbias (+=)", db[1], db[0], OC, 1e-5, "fp32 column sums");
    for (int k = 0; k < 2; k++) free(o[k]), free(dx[k]), free(dxa[k]), free(dw[k]), free(db[k]);
    free(x), free(w), free(bias), free(dy), free(dx0), free(dw0);
}
static void test_matmul(pair p, int T, int IC, int OC, int with_bias) { test_matmul_ex(p, T, IC, OC, with_bias, 0); }

static void test_attention(pair p, const char *label, int n_seq, const int *lens, int nh, int nkv, int hd) {
    int32_t cu[16];
    cu[0] = 0;
    int mx = 0;
    for (int i = 0; i < n_seq; i++) cu[i + 1] = cu[i] + lens[i], mx = lens[i] > mx ? lens[i] : mx;
    int T = cu[n_seq], rs = (nh + 2 * nkv) * hd;
    float *qkv = host_rand((size_t)T * rs, 2.0f, 1), *dout = host_rand((size_t)T * nh * hd, 1.0f, 1);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *o[2], *l[2], *d[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        void *q_ = act_up(be, qkv, (size_t)T * rs), *g_ = act_up(be, dout, (size_t)T * nh * hd);
        void *o_ = act_up(be, dout, (size_t)T * nh * hd), *d_ = act_up(be, qkv, (size_t)T * rs);
        float *lse_ = be->alloc(be, (size_t)nh * T * 4);
        int32_t *cu_ = raw_up(be, cu, (size_t)(n_seq + 1) * 4);
        s1c_attn_shape s = {.T = T, .n_seq = n_seq, .cu_seqlens = cu_, .n_head = nh, .n_kv_head = nkv,
                            .head_dim = hd, .max_seqlen = mx};
        be->attention_fwd(be, o_, lse_, q_, &s);
        be->attention_bwd(be, d_, g_, q_, o_, lse_, &s);
        o[k] = s1c_xmalloc((size_t)T * nh * hd * 4), l[k] = s1c_xmalloc((size_t)nh * T * 4);
        d[k] = s1c_xmalloc((size_t)T * rs * 4);
        act_down(be, o[k], o_, (size_t)T * nh * hd);
        raw_down(be, l[k], lse_, (size_t)nh * T * 4);
        act_down(be, d[k], d_, (size_t)T * rs);
        be->free(be, q_), be->free(be, g_), be->free(be, o_), be->free(be, d_), be->free(be, lse_), be->free(be, cu_);
    }
    char name[96];
    snprintf(name, sizeof name, "attention_fwd out %s", label);
    check(name, o[1], o[0], (size_t)T * nh * hd, 1.6e-2, "bf16 P and output (two roundings)");
    check("  attention_fwd lse", l[1], l[0], (size_t)nh * T, 1e-3, "fp32 log-sum-exp");
    check("  attention_bwd dqkv", d[1], d[0], (size_t)T * rs, 4e-2, "bf16 P/dS in the tensor-core GEMMs");
    for (int k = 0; k < 2; k++) free(o[k]), free(l[k]), free(d[k]);
    free(qkv), free(dout);
}

static void test_lmhead(pair p) {
    int T = 37, C = 64, V = 1031;
    float *h = host_rand((size_t)T * C, 1.0f, 1), *w = host_rand((size_t)V * C, 0.5f, 1);
    float weight[37];
    int32_t tgt[37];
    for (int t = 0; t < T; t++) {
        weight[t] = (t % 5 == 0) ? 0.0f : 1.0f / 29.0f;  // a loss mask and a normalisation
        tgt[t] = (int32_t)((t * 131 + 7) % V);
    }
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float loss[2], loss_fwd[2], *dh[2], *dw[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        void *h_ = act_up(be, h, (size_t)T * C), *w_ = act_up(be, w, (size_t)V * C), *dh_ = act_up(be, h, (size_t)T * C);
        float *dw_ = be->alloc(be, (size_t)V * C * 4), *loss_ = be->alloc(be, 8);
        be->memset_zero(be, dw_, (size_t)V * C * 4);
        be->memset_zero(be, loss_, 8);
        int32_t *t_ = raw_up(be, tgt, sizeof tgt);
        float *wt_ = raw_up(be, weight, sizeof weight);
        be->lmhead_ce(be, loss_, dh_, dw_, h_, w_, t_, wt_, T, C, V);
        be->lmhead_ce(be, loss_ + 1, NULL, NULL, h_, w_, t_, wt_, T, C, V);  // forward only
        float lv[2];
        raw_down(be, lv, loss_, 8);
        loss[k] = lv[0], loss_fwd[k] = lv[1];
        dh[k] = s1c_xmalloc((size_t)T * C * 4), dw[k] = s1c_xmalloc((size_t)V * C * 4);
        act_down(be, dh[k], dh_, (size_t)T * C);
        raw_down(be, dw[k], dw_, (size_t)V * C * 4);
        be->free(be, h_), be->free(be, w_), be->free(be, dh_), be->free(be, dw_), be->free(be, loss_);
        be->free(be, t_), be->free(be, wt_);
    }
    // The CUDA logits are bf16 (HF's bf16 lm_head output; softmax and CE in fp32): each logit
    // carries up to 2^-9 relative rounding, unbiased, so the mean loss moves by ~1e-4 here.
    check("lmhead_ce loss", &loss[1], &loss[0], 1, 2e-3, "bf16 logits, fp32 log-sum-exp");
    check("  lmhead_ce loss (no grad)", &loss_fwd[1], &loss_fwd[0], 1, 2e-3, "same");
    check("  lmhead_ce dh", dh[1], dh[0], (size_t)T * C, 2e-2, "bf16 dlogits and dh");
    check("  lmhead_ce dw_lm (+=)", dw[1], dw[0], (size_t)V * C, 2e-2, "bf16 dlogits");
    for (int k = 0; k < 2; k++) free(dh[k]), free(dw[k]);
    free(h), free(w);
}

// off: every fp32 operand starts off floats into its buffer (off % 4 != 0: not 16-byte aligned, the
// scalar kernel runs); n % 4 != 0 exercises the vector kernel's scalar tail. with_act: write the
// bf16 copy (the trainer's case) or not.
static void test_adamw(pair p, size_t n, int off, int with_act) {
    size_t na = n + (size_t)off;
    float *param = host_rand(na, 1.0f, 0), *grad = host_rand(na, 1.0f, 0), *m = host_rand(na, 0.1f, 0);
    float *v = host_rand(na, 0.1f, 0);
    for (size_t i = 0; i < na; i++) v[i] = fabsf(v[i]);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *P[2], *PA[2], *M[2], *Vv[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        float *p_ = raw_up(be, param, na * 4), *g_ = raw_up(be, grad, na * 4), *m_ = raw_up(be, m, na * 4);
        float *v_ = raw_up(be, v, na * 4);
        void *pa_ = be->alloc(be, na * 4 + 16);
        size_t es = s1c_dtype_size(be->act_dtype);
        void *pa_use = with_act ? (char *)pa_ + (size_t)off * es : NULL;
        for (int step = 1; step <= 3; step++)
            be->adamw(be, p_ + off, pa_use, g_ + off, m_ + off, v_ + off, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.5f,
                      step);
        P[k] = s1c_xmalloc(n * 4), PA[k] = s1c_xmalloc(n * 4), M[k] = s1c_xmalloc(n * 4), Vv[k] = s1c_xmalloc(n * 4);
        raw_down(be, P[k], p_ + off, n * 4);
        if (with_act) act_down(be, PA[k], pa_use, n);
        raw_down(be, M[k], m_ + off, n * 4);
        raw_down(be, Vv[k], v_ + off, n * 4);
        be->free(be, p_), be->free(be, g_), be->free(be, m_), be->free(be, v_), be->free(be, pa_);
    }
    char name[96];
    snprintf(name, sizeof name, "adamw param (3 steps) n=%zu%s", n,
             off % 4 ? " (unaligned: scalar)" : n % 4 ? " (float4 + tail)" : " (float4)");
    check(name, P[1], P[0], n, 1e-6, "fp32, same formula");
    if (with_act) check("  adamw param_act", PA[1], PA[0], n, 8e-3, "bf16 copy of the fp32 param");
    check("  adamw m", M[1], M[0], n, 1e-6, "fp32");
    check("  adamw v", Vv[1], Vv[0], n, 1e-6, "fp32");
    for (int k = 0; k < 2; k++) free(P[k]), free(PA[k]), free(M[k]), free(Vv[k]);
    free(param), free(grad), free(m), free(v);
}

static void test_sumsq(pair p) {
    size_t n = 3001;
    float *x = host_rand(n, 1.0f, 0), *y = host_rand(n, 2.0f, 0);
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float ss[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        float *x_ = raw_up(be, x, n * 4), *y_ = raw_up(be, y, n * 4), *s_ = be->alloc(be, 4);
        be->memset_zero(be, s_, 4);
        be->sumsq_accumulate(be, s_, x_, n);
        be->sumsq_accumulate(be, s_, y_, n);
        raw_down(be, &ss[k], s_, 4);
        be->free(be, x_), be->free(be, y_), be->free(be, s_);
    }
    check("sumsq_accumulate (x2)", &ss[1], &ss[0], 1, 1e-5, "fp32 sums, any order");
    free(x), free(y);
}

// Paged KV cache: write every row of two sequences into permuted cache blocks, then attend.
static void test_decode(pair p) {
    const int nh = 4, nkv = 2, hd = 64, bs = 16, max_blocks = 4, n_blocks = 8;
    const int lens[2] = {20, 37};
    int T = lens[0] + lens[1], rs = (nh + 2 * nkv) * hd;
    int32_t tables[2 * 4] = {5, 2, 0, 0, 7, 1, 4, 0};
    int32_t row_seq[57], pos[57], slot[57];
    for (int t = 0; t < T; t++) {
        int sq = t < lens[0] ? 0 : 1, ps = sq ? t - lens[0] : t;
        row_seq[t] = sq, pos[t] = ps;
        slot[t] = tables[sq * max_blocks + ps / bs] * bs + ps % bs;
    }
    float *qkv = host_rand((size_t)T * rs, 2.0f, 1);
    size_t cache_n = (size_t)n_blocks * bs * nkv * hd;
    float *zero = calloc(cache_n, sizeof(float));
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    float *o[2];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        void *q_ = act_up(be, qkv, (size_t)T * rs), *kc = act_up(be, zero, cache_n), *vc = act_up(be, zero, cache_n);
        void *o_ = act_up(be, qkv, (size_t)T * nh * hd);
        int32_t *tb_ = raw_up(be, tables, sizeof tables), *rs_ = raw_up(be, row_seq, (size_t)T * 4);
        int32_t *ps_ = raw_up(be, pos, (size_t)T * 4), *sl_ = raw_up(be, slot, (size_t)T * 4);
        s1c_paged_shape sh = {.T = T, .n_head = nh, .n_kv_head = nkv, .head_dim = hd, .block_size = bs,
                              .max_blocks = max_blocks, .block_tables = tb_, .row_seq = rs_, .pos = ps_};
        be->kv_cache_write(be, kc, vc, q_, sl_, T, nh, nkv, hd);
        be->attention_decode(be, o_, q_, kc, vc, &sh);
        o[k] = s1c_xmalloc((size_t)T * nh * hd * 4);
        act_down(be, o[k], o_, (size_t)T * nh * hd);
        be->free(be, q_), be->free(be, kc), be->free(be, vc), be->free(be, o_);
        be->free(be, tb_), be->free(be, rs_), be->free(be, ps_), be->free(be, sl_);
    }
    check("kv_cache_write + attention_decode", o[1], o[0], (size_t)T * nh * hd, 1.6e-2,
          "bf16 output, fp32 softmax");
    free(o[0]), free(o[1]), free(qkv), free(zero);
}

// Greedy choice on the device: exact ids. Rows carry a repeated maximum (the lower index must win),
// a NaN, banned ids (one of them the row's maximum), a row where every candidate is banned, and
// candidates limited to n of ld columns (the tokenizer's vocabulary inside a padded LM head).
static void test_argmax(pair p) {
    const int rows = 6, n = 151936, ld = 151936 + 64, mb = 3;
    float *x = host_rand((size_t)rows * ld, 4.0f, 0);
    int32_t ban[6 * 3];
    for (int i = 0; i < rows * mb; i++) ban[i] = -1;
    x[(size_t)0 * ld + 777] = x[(size_t)0 * ld + 99999] = 50.0f;  // tie: 777
    x[(size_t)1 * ld + 5] = NAN;
    x[(size_t)1 * ld + 6] = 60.0f;
    x[(size_t)2 * ld + 1234] = 70.0f;  // banned maximum: the runner-up wins
    ban[2 * mb + 0] = 1234;
    ban[2 * mb + 1] = 7;
    x[(size_t)3 * ld + n + 3] = 99.0f;  // beyond n: not a candidate
    for (int i = 0; i < 3; i++) ban[4 * mb + i] = i;  // row 4: n = 3 below makes all banned
    s1c_backend *bes[2] = {p.cpu, p.gpu};
    int32_t got[2][6];
    for (int k = 0; k < 2; k++) {
        s1c_backend *be = bes[k];
        float *xd = raw_up(be, x, (size_t)rows * ld * sizeof(float));
        int32_t *bd = raw_up(be, ban, sizeof ban), *id = raw_up(be, ban, rows * sizeof(int32_t));
        be->argmax_rows(be, id, xd, 4, n, ld, bd, mb);                                      // rows 0..3
        be->argmax_rows(be, id + 4, xd + (size_t)4 * ld, 1, 3, ld, bd + 4 * mb, mb);        // all banned
        be->argmax_rows(be, id + 5, xd + (size_t)5 * ld, 1, n, ld, NULL, 0);                // no list
        raw_down(be, got[k], id, rows * sizeof(int32_t));
        be->free(be, xd), be->free(be, bd), be->free(be, id);
    }
    int ok = memcmp(got[0], got[1], sizeof got[0]) == 0 && got[0][0] == 777 && got[0][1] == 6 && got[0][2] != 1234 &&
             got[0][3] < n && got[0][4] == 0;
    printf("%-34s rows=%d  cpu %d %d %d %d %d %d  cuda %d %d %d %d %d %d  %s  [exact ids]\n", "argmax_rows", rows,
           got[0][0], got[0][1], got[0][2], got[0][3], got[0][4], got[0][5], got[1][0], got[1][1], got[1][2], got[1][3],
           got[1][4], got[1][5], ok ? "ok" : "FAIL");
    if (!ok) check_failures++;
    free(x);
}

// ---- run to run: the same inputs twice give the same bits ----------------------------------------
// Every reduction of the training step (docs/cuda.md, "Determinism"): per-block partials summed in
// a fixed order, the sorted embedding backward, cuDNN's deterministic SDPA backward. Shapes with
// many blocks (and bands), where fp32 atomics would land in a different order from run to run.
static void same_bits(const char *what, const void *a, const void *b, size_t bytes) {
    const int ok = memcmp(a, b, bytes) == 0;
    printf("%-34s %zu bytes twice: %s  [no atomics: identical bits]\n", what, bytes, ok ? "identical  ok" : "DIFFER  FAIL");
    if (!ok) check_failures++;
}

static void test_repeat(pair p) {
    s1c_backend *be = p.gpu;
    {  // RMSNorm backward: 125 blocks of 16 rows, dw from their partials
        const int T = 2000, C = 1536;
        float *x = host_rand((size_t)T * C, 2.0f, 1), *w = host_rand(C, 1.0f, 1), *dy = host_rand((size_t)T * C, 1.0f, 1);
        void *x_ = act_up(be, x, (size_t)T * C), *w_ = act_up(be, w, C), *dy_ = act_up(be, dy, (size_t)T * C);
        void *o_ = act_up(be, x, (size_t)T * C);
        float *r_ = be->alloc(be, (size_t)T * 4), *dw_ = be->alloc(be, (size_t)C * 4), *dw[2];
        be->rmsnorm_fwd(be, o_, r_, x_, w_, T, C, 1e-6f);
        for (int k = 0; k < 2; k++) {
            void *dx_ = act_up(be, dy, (size_t)T * C);
            be->memset_zero(be, dw_, (size_t)C * 4);
            be->rmsnorm_bwd(be, dx_, dw_, dy_, x_, w_, r_, T, C);
            dw[k] = s1c_xmalloc((size_t)C * 4);
            raw_down(be, dw[k], dw_, (size_t)C * 4);
            be->free(be, dx_);
        }
        same_bits("rmsnorm_bwd dw (T 2000)", dw[0], dw[1], (size_t)C * 4);
        be->free(be, x_), be->free(be, w_), be->free(be, dy_), be->free(be, o_), be->free(be, r_), be->free(be, dw_);
        free(dw[0]), free(dw[1]), free(x), free(w), free(dy);
    }
    {  // bias gradient: 12 bands of 256 rows
        const int T = 3000, IC = 64, OC = 96;
        float *x = host_rand((size_t)T * IC, 1.0f, 1), *w = host_rand((size_t)OC * IC, 0.5f, 1);
        float *dy = host_rand((size_t)T * OC, 1.0f, 1), *db[2], *dw[2];
        void *x_ = act_up(be, x, (size_t)T * IC), *w_ = act_up(be, w, (size_t)OC * IC), *dy_ = act_up(be, dy, (size_t)T * OC);
        float *db_ = be->alloc(be, (size_t)OC * 4), *dw_ = be->alloc(be, (size_t)OC * IC * 4);
        for (int k = 0; k < 2; k++) {
            be->memset_zero(be, db_, (size_t)OC * 4);
            be->memset_zero(be, dw_, (size_t)OC * IC * 4);
            be->matmul_bwd(be, NULL, dw_, db_, dy_, x_, w_, T, IC, OC, 0);
            db[k] = s1c_xmalloc((size_t)OC * 4), dw[k] = s1c_xmalloc((size_t)OC * IC * 4);
            raw_down(be, db[k], db_, (size_t)OC * 4);
            raw_down(be, dw[k], dw_, (size_t)OC * IC * 4);
        }
        same_bits("matmul_bwd dbias (T 3000)", db[0], db[1], (size_t)OC * 4);
        same_bits("matmul_bwd dw (cuBLASLt)", dw[0], dw[1], (size_t)OC * IC * 4);
        be->free(be, x_), be->free(be, w_), be->free(be, dy_), be->free(be, db_), be->free(be, dw_);
        free(db[0]), free(db[1]), free(dw[0]), free(dw[1]), free(x), free(w), free(dy);
    }
    {  // sum of squares: as many blocks as the grid cap allows
        const size_t n = (size_t)3 << 20;
        float *x = host_rand(n, 1.0f, 0), ss[2];
        float *x_ = raw_up(be, x, n * 4), *s_ = be->alloc(be, 4);
        for (int k = 0; k < 2; k++) {
            be->memset_zero(be, s_, 4);
            be->sumsq_accumulate(be, s_, x_, n);
            raw_down(be, &ss[k], s_, 4);
        }
        same_bits("sumsq_accumulate (3M)", &ss[0], &ss[1], 4);
        be->free(be, x_), be->free(be, s_), free(x);
    }
    {  // LM head: 700 rows of loss in one chunk
        const int T = 700, C = 64, V = 1031;
        float *h = host_rand((size_t)T * C, 1.0f, 1), *w = host_rand((size_t)V * C, 0.5f, 1), loss[2];
        float *weight = s1c_xmalloc((size_t)T * 4);
        int32_t *tgt = s1c_xmalloc((size_t)T * 4);
        for (int t = 0; t < T; t++) weight[t] = (t % 7 == 0) ? 0.0f : 1.0f / 600.0f, tgt[t] = (t * 131 + 7) % V;
        void *h_ = act_up(be, h, (size_t)T * C), *w_ = act_up(be, w, (size_t)V * C);
        int32_t *t_ = raw_up(be, tgt, (size_t)T * 4);
        float *wt_ = raw_up(be, weight, (size_t)T * 4), *l_ = be->alloc(be, 4), *dw_ = be->alloc(be, (size_t)V * C * 4);
        float *dw[2];
        for (int k = 0; k < 2; k++) {
            void *dh_ = act_up(be, h, (size_t)T * C);
            be->memset_zero(be, l_, 4);
            be->memset_zero(be, dw_, (size_t)V * C * 4);
            be->lmhead_ce(be, l_, dh_, dw_, h_, w_, t_, wt_, T, C, V);
            raw_down(be, &loss[k], l_, 4);
            dw[k] = s1c_xmalloc((size_t)V * C * 4);
            raw_down(be, dw[k], dw_, (size_t)V * C * 4);
            be->free(be, dh_);
        }
        same_bits("lmhead_ce loss (700 rows)", &loss[0], &loss[1], 4);
        same_bits("lmhead_ce dw_lm", dw[0], dw[1], (size_t)V * C * 4);
        be->free(be, h_), be->free(be, w_), be->free(be, t_), be->free(be, wt_), be->free(be, l_), be->free(be, dw_);
        free(dw[0]), free(dw[1]), free(h), free(w), free(weight), free(tgt);
    }
    for (int C = 75; C <= 136; C += 61) {  // embedding backward, sorted: twice, and bitwise the CPU loop
        const int T = 3000, V = 50;
        float *dy = host_rand((size_t)T * C, 1.0f, 1);
        int32_t *ids = s1c_xmalloc((size_t)T * 4), *order = s1c_xmalloc((size_t)T * 4),
                *seg = s1c_xmalloc((size_t)(T + 1) * 4);
        for (int t = 0; t < T; t++) ids[t] = t % 3 == 0 ? 7 : (int32_t)((t * 37 + 11) % V);  // id 7: 1000 rows
        const int n_seg = s1c_embed_order(ids, T, order, seg);
        s1c_backend *bes[2] = {p.cpu, p.gpu};
        float *out[3];
        for (int k = 0; k < 2; k++) {
            s1c_backend *b = bes[k];
            void *dy_ = act_up(b, dy, (size_t)T * C);
            int32_t *i_ = raw_up(b, ids, (size_t)T * 4), *o_ = raw_up(b, order, (size_t)T * 4);
            int32_t *s_ = raw_up(b, seg, (size_t)(n_seg + 1) * 4);
            float *dw_ = b->alloc(b, (size_t)V * C * 4);
            for (int rep = 0; rep < (k ? 2 : 1); rep++) {
                b->memset_zero(b, dw_, (size_t)V * C * 4);
                if (k) b->embedding_bwd_sorted(b, dw_, dy_, i_, o_, s_, n_seg, T, C);
                else b->embedding_bwd(b, dw_, dy_, i_, T, C);
                if (k) b->embedding_bwd_sorted(b, dw_, dy_, i_, o_, s_, n_seg, T, C);  // accumulates
                else b->embedding_bwd(b, dw_, dy_, i_, T, C);
                out[k + rep] = s1c_xmalloc((size_t)V * C * 4);
                raw_down(b, out[k + rep], dw_, (size_t)V * C * 4);
            }
            b->free(b, dy_), b->free(b, i_), b->free(b, o_), b->free(b, s_), b->free(b, dw_);
        }
        same_bits(C % 8 ? "embedding_bwd_sorted (scalar)" : "embedding_bwd_sorted (vector)", out[1], out[2],
                  (size_t)V * C * 4);
        check("  embedding_bwd_sorted vs cpu loop", out[1], out[0], (size_t)V * C, 0.0,
              "same additions in the same order: exact");
        free(out[0]), free(out[1]), free(out[2]), free(dy), free(ids), free(order), free(seg);
    }
    {  // attention backward (dispatch: cuDNN's deterministic graph, or the own kernels)
        const int n_seq = 3, lens[3] = {300, 77, 500}, nh = 4, nkv = 2, hd = 64;
        int32_t cu[4] = {0, 300, 377, 877};
        const int T = cu[n_seq], rs = (nh + 2 * nkv) * hd;
        float *qkv = host_rand((size_t)T * rs, 2.0f, 1), *dout = host_rand((size_t)T * nh * hd, 1.0f, 1), *d[2];
        void *q_ = act_up(be, qkv, (size_t)T * rs), *g_ = act_up(be, dout, (size_t)T * nh * hd);
        void *o_ = act_up(be, dout, (size_t)T * nh * hd);
        float *lse_ = be->alloc(be, (size_t)nh * T * 4);
        int32_t *cu_ = raw_up(be, cu, sizeof cu);
        s1c_attn_shape sh = {.T = T, .n_seq = n_seq, .cu_seqlens = cu_, .n_head = nh, .n_kv_head = nkv,
                             .head_dim = hd, .max_seqlen = lens[2]};
        be->attention_fwd(be, o_, lse_, q_, &sh);
        for (int k = 0; k < 2; k++) {
            void *d_ = act_up(be, qkv, (size_t)T * rs);
            be->attention_bwd(be, d_, g_, q_, o_, lse_, &sh);
            d[k] = s1c_xmalloc((size_t)T * rs * 4);
            act_down(be, d[k], d_, (size_t)T * rs);
            be->free(be, d_);
        }
        same_bits("attention_bwd dqkv (877 rows, GQA)", d[0], d[1], (size_t)T * rs * 4);
        be->free(be, q_), be->free(be, g_), be->free(be, o_), be->free(be, lse_), be->free(be, cu_);
        free(d[0]), free(d[1]), free(qkv), free(dout);
    }
}

int main(void) {
    s1c_backend *gpu = s1c_backend_create("cuda", 0);
    if (!gpu) {
        printf("SKIP: no CUDA device: %s\n", s1c_err_msg());
        return 77;
    }
    s1c_backend *cpu = s1c_backend_create("cpu", 0);
    if (!cpu) {
        fprintf(stderr, "test_cuda_ops: %s\n", s1c_err_msg());
        return 1;
    }
    pair p = {cpu, gpu};
    test_casts_add(p, 1237);  // scalar kernels
    test_casts_add(p, 4096);  // 16-byte vector kernels
    test_embedding(p, 75);
    test_embedding(p, 136);
    test_rmsnorm(p, 29, 200);  // C % 8 == 0: vector rows (fwd and bwd); 29 rows: a partial last block
    test_rmsnorm(p, 29, 203);  // scalar rows
    test_rmsnorm(p, 3, 8);     // one column group, one 32-thread block
    test_rmsnorm(p, 33, 1536); // 1.5B width: 192 threads of 8 columns in the backward
    test_rmsnorm_residual(p, 29, 200);
    test_rmsnorm_residual(p, 29, 203);
    test_rope(p, 23, 3, 1, 12, 0);   // half 6: scalar
    test_rope(p, 23, 3, 1, 64, 0);   // half 32: 8-pair vectors
    test_rope(p, 37, 2, 2, 16, 0);   // half 8: one vector per head half
    test_rope(p, 19, 3, 1, 40, 0);   // half 20: scalar (not a multiple of 8)
    test_rope(p, 19, 3, 1, 64, 3);   // vector shape, pointer 6 bytes off: scalar fallback
    test_swiglu(p, 19, 45);
    test_swiglu(p, 19, 96);
    test_matmul(p, 29, 37, 53, 1);      // odd sizes (rows not 16-byte multiples), bias buffer 256-aligned
    test_matmul(p, 64, 128, 96, 1);     // aligned: fused bias epilogue
    test_matmul_ex(p, 64, 128, 96, 1, 1);  // same shape, bias pointer 2-byte aligned: k_add_bias
    test_matmul_ex(p, 29, 37, 53, 1, 3);   // odd OC (not a multiple of 8), bias 6 bytes off: k_add_bias
    test_matmul_ex(p, 300, 256, 8, 1, 4);  // bias 8-byte aligned (not 16): k_add_bias over 300 rows
    test_matmul(p, 300, 256, 8, 0);
    test_lmhead(p);
    test_adamw(p, 3001, 0, 1);  // float4 body + 1-element tail
    test_adamw(p, 4096, 0, 1);  // float4 only
    test_adamw(p, 3, 0, 1);     // tail only
    test_adamw(p, 1027, 0, 0);  // no bf16 copy
    test_adamw(p, 1027, 1, 1);  // pointers 4 bytes off: scalar kernel
    test_sumsq(p);
    test_decode(p);
    test_argmax(p);
    test_repeat(p);
    const int lens_a[3] = {17, 1, 30}, lens_b[2] = {70, 129}, lens_c[1] = {200};
    test_attention(p, "[dispatch] 3 seq, GQA 4/2, hd 64", 3, lens_a, 4, 2, 64);
    test_attention(p, "[dispatch] 2 seq, MHA 2/2, hd 128", 2, lens_b, 2, 2, 128);
    test_attention(p, "[dispatch] 1 seq, MQA 3/1, hd 32", 1, lens_c, 3, 1, 32);
    // The own kernels, whatever cuDNN accepts.
    setenv("S1C_CUDA_ATTN", "own", 1);
    s1c_backend *own = s1c_backend_create("cuda", 0);
    S1C_ASSERT(own);
    pair po = {cpu, own};
    test_attention(po, "[own] 3 seq, GQA 4/2, hd 64", 3, lens_a, 4, 2, 64);
    test_attention(po, "[own] 2 seq, MHA 2/2, hd 128", 2, lens_b, 2, 2, 128);
    test_attention(po, "[own] 1 seq, MQA 3/1, hd 20", 1, lens_c, 3, 1, 20);
    s1c_backend_destroy(own);
    s1c_backend_destroy(gpu);
    s1c_backend_destroy(cpu);
    return check_exit("test_cuda_ops");
}
