// test_attention_decode.c — the CPU backend's paged-KV decode attention against a naive double
// softmax over each row's cached positions: shuffled block tables, positions that end mid-block
// and mid 16-position chunk, GQA groups of 1, 4 and 7, head_dim 8 (scalar path) and 16/64
// (vector path), and rows of one sequence at different positions; the split-KV form (each row's
// positions in ranges of whole blocks, partial softmaxes combined: what the op runs when there are
// fewer (row, KV head) pairs than twice the threads) with 2, 3 and 7 ranges, at contexts up to 3200
// positions, against the same reference and the unsplit op, and the op's choice of split count.
#include <stdint.h>

#include "../../kernels/cpu/cpu_internal.h"
#include "kt.h"

static void one(int nh, int nkv, int hd, int bs, int n_seq, int max_blocks, int seed) {
    kt_rng r = {(uint64_t)seed};
    const int n_blocks = n_seq * max_blocks, T = 2 * n_seq;
    const size_t kvrow = (size_t)nkv * hd, row = (size_t)(nh + 2 * nkv) * hd;
    float *kc = kt_falloc((size_t)n_blocks * bs * kvrow), *vc = kt_falloc((size_t)n_blocks * bs * kvrow);
    float *qkv = kt_falloc((size_t)T * row), *out = kt_falloc((size_t)T * nh * hd);
    double *ref = kt_dalloc((size_t)T * nh * hd);
    kt_fill(&r, kc, (size_t)n_blocks * bs * kvrow, 2.0);
    kt_fill(&r, vc, (size_t)n_blocks * bs * kvrow, 1.0);
    kt_fill(&r, qkv, (size_t)T * row, 2.0);
    int32_t *tables = malloc(sizeof(int32_t) * n_blocks), row_seq[64], pos[64];
    for (int i = 0; i < n_blocks; i++) tables[i] = i;
    for (int i = n_blocks - 1; i > 0; i--) {  // blocks of a sequence scattered through the pool
        int j = kt_randint(&r, i + 1), t = tables[i];
        tables[i] = tables[j], tables[j] = t;
    }
    for (int t = 0; t < T; t++) {
        row_seq[t] = t % n_seq;
        pos[t] = t < n_seq ? max_blocks * bs - 1 - kt_randint(&r, bs) : kt_randint(&r, max_blocks * bs);
    }
    pos[0] = 0;  // a row attending to one position only
    const s1c_paged_shape s = {T, nh, nkv, hd, bs, max_blocks, tables, row_seq, pos};
    s1c_backend *be = s1c_backend_create("cpu", 0);
    be->attention_decode(be, out, qkv, kc, vc, &s);
    s1c_backend_destroy(be);
    double *sc = kt_dalloc((size_t)max_blocks * bs);
    for (int t = 0; t < T; t++)
        for (int h = 0; h < nh; h++) {
            const int g = h / (nh / nkv), n = pos[t] + 1;
            const float *q = qkv + (size_t)t * row + (size_t)h * hd;
            double mx = -1e300, l = 0;
            for (int p = 0; p < n; p++) {
                const size_t slot = (size_t)tables[row_seq[t] * max_blocks + p / bs] * bs + p % bs;
                double d = 0;
                for (int e = 0; e < hd; e++) d += (double)q[e] * kc[slot * kvrow + (size_t)g * hd + e];
                sc[p] = d / sqrt((double)hd);
                if (sc[p] > mx) mx = sc[p];
            }
            double *o = ref + ((size_t)t * nh + h) * hd;
            for (int p = 0; p < n; p++) {
                const size_t slot = (size_t)tables[row_seq[t] * max_blocks + p / bs] * bs + p % bs;
                const double w = exp(sc[p] - mx);
                l += w;
                for (int e = 0; e < hd; e++) o[e] += w * vc[slot * kvrow + (size_t)g * hd + e];
            }
            for (int e = 0; e < hd; e++) o[e] /= l;
        }
    char name[160];
    snprintf(name, sizeof name, "attention_decode nh %d nkv %d hd %d block %d: max |out - ref|", nh, nkv, hd, bs);
    kt_check(name, kt_maxabs_diff(out, ref, (size_t)T * nh * hd), 2e-5);
    // Split-KV: the same reference; against the unsplit output only round-off of the combine's
    // rescaling (a few fp32 ulps of O(1) outputs).
    float *outs = kt_falloc((size_t)T * nh * hd);
    double *base = kt_dalloc((size_t)T * nh * hd);
    for (size_t i = 0; i < (size_t)T * nh * hd; i++) base[i] = out[i];
    const int splits[] = {2, 3, 7};
    for (int k = 0; k < 3; k++) {
        s1c_cpu_attention_decode_splits(&s, outs, qkv, kc, vc, splits[k]);
        snprintf(name, sizeof name, "  split-KV, %d ranges: max |out - ref|", splits[k]);
        kt_check(name, kt_maxabs_diff(outs, ref, (size_t)T * nh * hd), 2e-5);
        snprintf(name, sizeof name, "  split-KV, %d ranges: max |out - unsplit|", splits[k]);
        kt_check(name, kt_maxabs_diff(outs, base, (size_t)T * nh * hd), 2e-6);
    }
    free(outs), free(base);
    free(kc), free(vc), free(qkv), free(out), free(ref), free(tables), free(sc);
}

int main(void) {
    one(8, 2, 64, 16, 3, 5, 1);    // the 55M shape's heads
    one(14, 2, 64, 16, 2, 4, 2);   // Qwen2.5-0.5B's: groups of 7
    one(4, 4, 16, 5, 3, 9, 3);     // no grouping, blocks shorter than a chunk
    one(6, 2, 32, 40, 2, 3, 4);    // blocks longer than a chunk, ending mid-chunk
    one(4, 2, 8, 16, 2, 3, 5);     // head_dim below the vector width: scalar path
    one(14, 2, 64, 16, 2, 200, 6); // 0.5B heads at 3200 positions (rows at 0, ~3200 and two between)
    one(8, 1, 64, 16, 2, 70, 7);   // one KV head, 1120 positions
    one(4, 2, 8, 16, 2, 90, 8);    // scalar path, split

    // The op's split count: none while the (row, KV head) pairs already give each thread two
    // items or the context is short; else ranges of >= 256 positions, enough for every thread.
    int32_t tb[1] = {0}, rs1[4] = {0, 0, 0, 0}, p_long[4] = {8191, 8191, 8191, 8191}, p_short[1] = {300};
    const s1c_paged_shape b1 = {1, 14, 2, 64, 16, 512, tb, rs1, p_long}, b4 = {4, 14, 2, 64, 16, 512, tb, rs1, p_long};
    const s1c_paged_shape sh = {1, 14, 2, 64, 16, 512, tb, rs1, p_short};
    kt_check_true("split count: batch 1, 8K context, 2 threads: 2 ranges per KV head",
                  s1c_cpu_decode_n_splits(&b1, 2) == 2);
    kt_check_true("split count: batch 1, 8K context, 16 threads: 16 ranges", s1c_cpu_decode_n_splits(&b1, 16) == 16);
    kt_check_true("split count: batch 4 (8 pairs), 2 threads: none", s1c_cpu_decode_n_splits(&b4, 2) == 1);
    kt_check_true("split count: 300 positions: none", s1c_cpu_decode_n_splits(&sh, 16) == 1);
    return check_exit("test_attention_decode");
}
