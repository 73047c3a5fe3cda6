// test_cuda_attn_real.c — cuDNN fused attention at the shapes training really uses, forced
// (S1C_CUDA_ATTN=cudnn: a refused graph is fatal, never a silent fallback), against the own
// kernels (S1C_CUDA_ATTN=own) on the same inputs: out, lse and dqkv, relative L2 and worst element.
// The own kernels are themselves checked against the CPU reference in test_cuda_ops at small
// shapes; this test is what says the cuDNN graphs are right at 1.5B / 32B heads and 4K tokens,
// packed and single-sequence. Exit 0 pass, 1 a tolerance miss, 77 no GPU.
// Tolerances: both paths read the same bf16 inputs and write bf16 outputs with fp32 softmax;
// they differ by the order of fp32 accumulation and P's bf16 rounding before P V (cuDNN) against
// fp32 P (own): rel L2 ~1e-3 expected on out, a few 1e-3 on dqkv; 2e-2 / 3e-2 catch a wrong
// mask, stride or ragged offset (those give O(1) errors) with room for bf16 noise.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "ops.h"

typedef struct {
    const char *label;
    int n_seq;
    int lens[8];
    int nh, nkv, hd;
} attn_case;

static float *h_rand(size_t n, unsigned seed) {
    float *h = s1c_xmalloc(n * sizeof(float));
    uint64_t x = 0x9E3779B97F4A7C15ull ^ seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        h[i] = (float)((x >> 40) & 0xFFFFFF) / (float)0x1000000 - 0.5f;
    }
    return h;
}

static void *up(s1c_backend *be, const float *h, size_t n) {
    void *a = be->alloc(be, n * 2 + 16);
    float *t = be->alloc(be, n * 4 + 16);
    S1C_ASSERT(a && t);
    be->copy_h2d(be, t, h, n * 4);
    be->f32_to_act(be, a, t, n);
    be->synchronize(be);
    be->free(be, t);
    return a;
}
static void down(s1c_backend *be, float *h, const void *a, size_t n) {
    float *t = be->alloc(be, n * 4 + 16);
    S1C_ASSERT(t);
    be->act_to_f32(be, t, a, n);
    be->copy_d2h(be, h, t, n * 4);
    be->free(be, t);
}

// Runs fwd + bwd on `be`; fills out[T*nh*hd], lse[nh*T], dqkv[T*rs] (host fp32).
static void run(s1c_backend *be, const attn_case *c, int T, const int32_t *cu, const float *qkv_h,
                const float *dout_h, float *out, float *lse, float *dqkv) {
    int rs = (c->nh + 2 * c->nkv) * c->hd, ro = c->nh * c->hd, mx = 0;
    for (int i = 0; i < c->n_seq; i++) mx = c->lens[i] > mx ? c->lens[i] : mx;
    void *qkv = up(be, qkv_h, (size_t)T * rs), *dout = up(be, dout_h, (size_t)T * ro);
    void *o = be->alloc(be, (size_t)T * ro * 2), *dq = be->alloc(be, (size_t)T * rs * 2);
    float *l = be->alloc(be, (size_t)c->nh * T * 4);
    int32_t *cu_d = be->alloc(be, (size_t)(c->n_seq + 1) * 4);
    S1C_ASSERT(o && dq && l && cu_d);
    be->copy_h2d(be, cu_d, cu, (size_t)(c->n_seq + 1) * 4);
    s1c_attn_shape s = {.T = T, .n_seq = c->n_seq, .cu_seqlens = cu_d, .n_head = c->nh, .n_kv_head = c->nkv,
                        .head_dim = c->hd, .max_seqlen = mx};
    be->attention_fwd(be, o, l, qkv, &s);
    be->attention_bwd(be, dq, dout, qkv, o, l, &s);
    down(be, out, o, (size_t)T * ro);
    down(be, dqkv, dq, (size_t)T * rs);
    be->copy_d2h(be, lse, l, (size_t)c->nh * T * 4);
    be->free(be, qkv), be->free(be, dout), be->free(be, o), be->free(be, dq), be->free(be, l), be->free(be, cu_d);
}

static void cmp(const char *label, const char *what, const float *got, const float *ref, size_t n, double tol) {
    double d2 = 0, r2 = 0, worst = 0;
    size_t at = 0, nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i])) nonfinite++;
        double d = (double)got[i] - ref[i];
        d2 += d * d, r2 += (double)ref[i] * ref[i];
        if (fabs(d) > worst) worst = fabs(d), at = i;
    }
    double rel = sqrt(d2 / (r2 > 0 ? r2 : 1));
    printf("  %-44s %-5s rel L2 %.3e  worst |d| %.3e at %zu  (tol %.0e)\n", label, what, rel, worst, at, tol);
    CHECK(nonfinite == 0 && rel <= tol, "%s %s: rel L2 %.3e > %.0e or %zu non-finite", label, what, rel, tol,
          nonfinite);
}

int main(void) {
    setenv("S1C_CUDA_ATTN", "cudnn", 1);
    s1c_backend *dnn = s1c_backend_create("cuda", 0);
    if (!dnn) {
        printf("SKIP: no CUDA device or no usable cuDNN: %s\n", s1c_err_msg());
        return 77;
    }
    setenv("S1C_CUDA_ATTN", "own", 1);
    s1c_backend *own = s1c_backend_create("cuda", 0);
    S1C_ASSERT(own);
    const attn_case cases[] = {
        {"1.5B heads 12/2/128, 1 x 4096", 1, {4096}, 12, 2, 128},
        {"1.5B heads 12/2/128, 8 ragged seqs (4000 tok)", 8, {1000, 17, 640, 513, 64, 1, 1200, 565}, 12, 2, 128},
        {"32B heads 40/8/128, 2 seqs (3000 tok)", 2, {2047, 953}, 40, 8, 128},
        {"0.5B heads 14/2/64, 3 seqs (2100 tok)", 3, {1024, 1000, 76}, 14, 2, 64},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const attn_case *c = &cases[ci];
        int32_t cu[9] = {0};
        for (int i = 0; i < c->n_seq; i++) cu[i + 1] = cu[i] + c->lens[i];
        int T = cu[c->n_seq], rs = (c->nh + 2 * c->nkv) * c->hd, ro = c->nh * c->hd;
        float *qkv = h_rand((size_t)T * rs, 1 + (unsigned)ci), *dout = h_rand((size_t)T * ro, 100 + (unsigned)ci);
        float *o[2], *l[2], *d[2];
        for (int k = 0; k < 2; k++) {
            o[k] = s1c_xmalloc((size_t)T * ro * 4), l[k] = s1c_xmalloc((size_t)c->nh * T * 4);
            d[k] = s1c_xmalloc((size_t)T * rs * 4);
            run(k ? own : dnn, c, T, cu, qkv, dout, o[k], l[k], d[k]);
        }
        cmp(c->label, "out", o[0], o[1], (size_t)T * ro, 2e-2);
        cmp(c->label, "lse", l[0], l[1], (size_t)c->nh * T, 1e-3);
        cmp(c->label, "dqkv", d[0], d[1], (size_t)T * rs, 3e-2);
        for (int k = 0; k < 2; k++) free(o[k]), free(l[k]), free(d[k]);
        free(qkv), free(dout);
    }
    s1c_backend_destroy(own);
    s1c_backend_destroy(dnn);  // S1C_CUDA_ATTN_STATS=1 prints the call counts (all cuDNN)
    return check_exit("test_cuda_attn_real");
}
