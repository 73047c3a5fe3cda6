// test_attention.c — causal GQA attention over packed variable-length sequences (CPU backend)
// against a naive double implementation; backward against central finite differences of
// L = sum(R * out) for a fixed random R.
#include "kt.h"

typedef struct {
    int nh, nkv, hd, n_seq;
    const int *cu;       // [n_seq + 1]
    double *qkv;         // [T, (nh + 2 nkv) hd]
    const double *R;     // [T, nh hd] random projection of the output
    int only_seq;        // loss restricted to this sequence (-1: all); keeps FD cheap
} att_ref;

// Naive attention of one sequence in double; out may be NULL (loss only). Returns sum(R * out).
static double ref_seq(const att_ref *a, int sq, double *out, double *lse) {
    const int nh = a->nh, nkv = a->nkv, hd = a->hd, ld = (nh + 2 * nkv) * hd, T = a->cu[a->n_seq];
    const int b = a->cu[sq], len = a->cu[sq + 1] - b;
    const double scale = 1.0 / sqrt((double)hd);
    double *sc = malloc((size_t)(len ? len : 1) * sizeof *sc);
    double loss = 0;
    for (int h = 0; h < nh; h++) {
        int g = h / (nh / nkv);
        for (int i = 0; i < len; i++) {
            const double *q = a->qkv + (size_t)(b + i) * ld + h * hd;
            double mx = -INFINITY;
            for (int j = 0; j <= i; j++) {
                const double *k = a->qkv + (size_t)(b + j) * ld + (nh + g) * hd;
                double s = 0;
                for (int d = 0; d < hd; d++) s += q[d] * k[d];
                sc[j] = s * scale;
                if (sc[j] > mx) mx = sc[j];
            }
            double sum = 0;
            for (int j = 0; j <= i; j++) sum += exp(sc[j] - mx);
            if (lse) lse[(size_t)h * T + b + i] = mx + log(sum);
            for (int d = 0; d < hd; d++) {
                double o = 0;
                for (int j = 0; j <= i; j++) o += exp(sc[j] - mx) / sum * a->qkv[(size_t)(b + j) * ld + (nh + nkv + g) * hd + d];
                size_t oi = (size_t)(b + i) * nh * hd + h * hd + d;
                if (out) out[oi] = o;
                loss += a->R[oi] * o;
            }
        }
    }
    free(sc);
    return loss;
}

static double ref_loss(void *ctx) {
    const att_ref *a = ctx;
    double l = 0;
    for (int s = 0; s < a->n_seq; s++)
        if (a->only_seq < 0 || a->only_seq == s) l += ref_seq(a, s, NULL, NULL);
    return l;
}

static void run_case(s1c_backend *be, const char *label, int nh, int nkv, int hd, int n_seq, const int *lens,
                     int fd_coords, uint64_t seed) {
    kt_rng r = {seed};
    int cu[16];
    cu[0] = 0;
    for (int i = 0; i < n_seq; i++) cu[i + 1] = cu[i] + lens[i];
    const int T = cu[n_seq], ld = (nh + 2 * nkv) * hd, ldo = nh * hd;
    const size_t nqkv = (size_t)T * ld, nout = (size_t)T * ldo;
    float *qkv = kt_falloc(nqkv), *out = kt_falloc(nout), *lse = kt_falloc((size_t)nh * T);
    float *R = kt_falloc(nout), *dqkv = kt_falloc(nqkv);
    // Scale 1.5: scores up to a few units, so the softmax is far from uniform and far from one-hot.
    kt_fill(&r, qkv, nqkv, 1.5);
    kt_fill(&r, R, nout, 1.0);
    for (size_t i = 0; i < nqkv; i++) dqkv[i] = 123.0f;  // must be overwritten, not accumulated

    s1c_attn_shape shape = {.T = T, .n_seq = n_seq, .cu_seqlens = cu, .n_head = nh, .n_kv_head = nkv, .head_dim = hd};
    be->attention_fwd(be, out, lse, qkv, &shape);
    be->attention_bwd(be, dqkv, R, qkv, out, lse, &shape);

    double *Rd = kt_dup(R, nout);
    att_ref a = {.nh = nh, .nkv = nkv, .hd = hd, .n_seq = n_seq, .cu = cu, .qkv = kt_dup(qkv, nqkv), .R = Rd, .only_seq = -1};
    double *oref = kt_dalloc(nout), *lref = kt_dalloc((size_t)nh * T);
    for (int s = 0; s < n_seq; s++) ref_seq(&a, s, oref, lref);

    char what[160];
    // fp32 dot products of hd terms, exp and sums over <= a few hundred keys: ~1e-7 observed;
    // 1e-5 leaves room for the order of summation while still catching any masking/index bug.
    snprintf(what, sizeof what, "%s: out vs naive (rel)", label);
    kt_check(what, kt_relerr(out, oref, nout), 1e-5);
    snprintf(what, sizeof what, "%s: lse vs naive (max abs)", label);
    kt_check(what, kt_maxabs_diff(lse, lref, (size_t)nh * T), 1e-5);

    // Backward: FD over (a subset of) the coordinates, each against the loss of its own sequence.
    int nw = fd_coords;
    int *which = kt_coords(&r, (int)nqkv, &nw);
    double *g = kt_dalloc((size_t)nw);
    for (int k = 0; k < nw; k++) {
        int i = which[k], t = i / ld, s = 0;
        while (cu[s + 1] <= t) s++;
        a.only_seq = s;
        kt_fd(ref_loss, &a, a.qkv, &which[k], 1, &g[k]);
    }
    // fp32 backward (recomputed probabilities, dS = P (dP - D) cancellation) vs exact-in-double
    // FD: ~1e-6 observed; 2e-5 flags real errors (a wrong mask or scale gives > 1e-2).
    snprintf(what, sizeof what, "%s: dqkv vs finite differences (%d coords, rel)", label, nw);
    kt_check(what, kt_relerr_at(dqkv, which, nw, g), 2e-5);

    free(which), free(g), free(oref), free(lref), free(a.qkv), free(Rd);
    free(qkv), free(out), free(lse), free(R), free(dqkv);
}

// Context rows (s1c_attn_shape.n_ctx): the first n_ctx rows of sequence 0 are keys only. Against
// the same buffer run without context rows and with the output gradient of those rows zeroed:
// the query rows' out and lse, and every row's dqkv (zero dQ on the context rows), must agree
// to round-off (the same tiles run, minus the context queries); context out/lse rows read zero.
static void run_ctx_case(s1c_backend *be, const char *label, int nh, int nkv, int hd, int n_seq, const int *lens,
                         int n_ctx, uint64_t seed) {
    kt_rng r = {seed};
    int cu[16];
    cu[0] = 0;
    for (int i = 0; i < n_seq; i++) cu[i + 1] = cu[i] + lens[i];
    const int T = cu[n_seq], ld = (nh + 2 * nkv) * hd, ldo = nh * hd, Q = nh * hd;
    const size_t nqkv = (size_t)T * ld, nout = (size_t)T * ldo;
    float *qkv = kt_falloc(nqkv), *R = kt_falloc(nout);
    float *out0 = kt_falloc(nout), *lse0 = kt_falloc((size_t)nh * T), *d0 = kt_falloc(nqkv);
    float *out1 = kt_falloc(nout), *lse1 = kt_falloc((size_t)nh * T), *d1 = kt_falloc(nqkv);
    kt_fill(&r, qkv, nqkv, 1.5);
    kt_fill(&r, R, nout, 1.0);
    memset(R, 0, (size_t)n_ctx * ldo * sizeof(float));  // the caller's contract: zero dout on context rows
    for (size_t i = 0; i < nout; i++) out1[i] = 77.0f;  // context rows must be written (zeros)
    s1c_attn_shape full = {.T = T, .n_seq = n_seq, .cu_seqlens = cu, .n_head = nh, .n_kv_head = nkv, .head_dim = hd};
    s1c_attn_shape ctx = full;
    ctx.n_ctx = n_ctx;
    be->attention_fwd(be, out0, lse0, qkv, &full);
    be->attention_bwd(be, d0, R, qkv, out0, lse0, &full);
    be->attention_fwd(be, out1, lse1, qkv, &ctx);
    be->attention_bwd(be, d1, R, qkv, out1, lse1, &ctx);
    double eo = 0, el = 0, ed = 0, ez = 0, dq = 0, scale = 0;
    for (size_t i = 0; i < nout; i++) {
        if (i < (size_t)n_ctx * ldo) ez = fmax(ez, fabs(out1[i]));
        else eo = fmax(eo, fabs(out1[i] - out0[i]));
    }
    for (int h = 0; h < nh; h++)
        for (int t = 0; t < T; t++) {
            float a = lse1[(size_t)h * T + t], b = lse0[(size_t)h * T + t];
            if (t < n_ctx) ez = fmax(ez, fabs(a));
            else el = fmax(el, fabs(a - b));
        }
    for (size_t i = 0; i < nqkv; i++) {
        ed = fmax(ed, fabs(d1[i] - d0[i]));
        scale = fmax(scale, fabs(d0[i]));
        if (i < (size_t)n_ctx * ld && i % (size_t)ld < (size_t)Q) dq = fmax(dq, fabs(d1[i]));
    }
    char what[200];
    snprintf(what, sizeof what, "%s: context %d: query out vs whole-buffer attention (max abs)", label, n_ctx);
    kt_check(what, eo, 1e-6);
    snprintf(what, sizeof what, "%s: context %d: query lse (max abs)", label, n_ctx);
    kt_check(what, el, 1e-6);
    snprintf(what, sizeof what, "%s: context %d: context rows' out and lse are zero", label, n_ctx);
    kt_check(what, ez, 0.0);
    snprintf(what, sizeof what, "%s: context %d: dqkv vs whole buffer with zero context dout (max abs / max)", label,
             n_ctx);
    kt_check(what, ed / scale, 1e-6);
    snprintf(what, sizeof what, "%s: context %d: context rows' dQ (max abs)", label, n_ctx);
    kt_check(what, dq, 0.0);
    free(qkv), free(R), free(out0), free(lse0), free(d0), free(out1), free(lse1), free(d1);
}

int main(void) {
    s1c_backend *be = kt_backend();
    // Small: every coordinate checked. GQA ratios 1, 2, 4; length-1 sequences; odd head_dim.
    run_case(be, "nh4 nkv4 hd8 lens{5,1,12}", 4, 4, 8, 3, (const int[]){5, 1, 12}, 1 << 30, 1);
    run_case(be, "nh4 nkv2 hd7 lens{1,7,3}", 4, 2, 7, 3, (const int[]){1, 7, 3}, 1 << 30, 2);
    run_case(be, "nh8 nkv2 hd8 lens{9,1,4,1}", 8, 2, 8, 4, (const int[]){9, 1, 4, 1}, 1 << 30, 3);
    run_case(be, "nh2 nkv2 hd4 lens{1}", 2, 2, 4, 1, (const int[]){1}, 1 << 30, 4);
    // Longer than the 64-token tiles, with partial tiles: a random subset of coordinates.
    run_case(be, "nh4 nkv1 hd16 lens{150,67,1,130}", 4, 1, 16, 4, (const int[]){150, 67, 1, 130}, 300, 5);
    run_case(be, "nh4 nkv2 hd12 lens{129,64,65}", 4, 2, 12, 3, (const int[]){129, 64, 65}, 300, 6);
    // Longer than the 256-key forward tile and the 256-query backward span: the online softmax
    // rescales across key tiles and queries are processed in several spans.
    run_case(be, "nh2 nkv1 hd8 lens{600,3}", 2, 1, 8, 2, (const int[]){600, 3}, 120, 7);
    // Context rows: one row, a whole tile and more (the tiles after it start mid-tile), all but
    // the last row of sequence 0, and a context longer than the 256-key tile.
    run_ctx_case(be, "ctx nh4 nkv2 hd8 lens{9,5}", 4, 2, 8, 2, (const int[]){9, 5}, 1, 8);
    run_ctx_case(be, "ctx nh4 nkv2 hd8 lens{150,40}", 4, 2, 8, 2, (const int[]){150, 40}, 70, 9);
    run_ctx_case(be, "ctx nh4 nkv1 hd8 lens{66,3,20}", 4, 1, 8, 3, (const int[]){66, 3, 20}, 65, 10);
    run_ctx_case(be, "ctx nh2 nkv2 hd16 lens{400}", 2, 2, 16, 1, (const int[]){400}, 300, 11);
    s1c_backend_destroy(be);
    return check_exit("test_attention");
}
