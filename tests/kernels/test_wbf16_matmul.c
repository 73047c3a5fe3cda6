// test_wbf16_matmul.c — the bf16-weight ops of the CPU backend (matmul_wbf16, embedding_wbf16)
// against naive double loops over the same bf16 values widened, and the widening against the
// definition for all 65536 bit patterns. ctest runs it once per instruction path
// (S1C_WBF16_ISA=scalar|avx2|avx512|avx512bf16); a path the CPU lacks falls back to its best,
// which the output line names. On avx512bf16 the shapes run twice: the default vdpbf16ps GEMM
// and, with be->wbf16_exact, the exact one.
#include "cpu_internal.h"
#include "kt.h"
#include "s1c_bf16.h"

// Shapes: the row tiles (T <= 8: 1, 2, odd T with a lone last row; AVX-512: input blocks of 4 with
// a ragged last one), the many-row path (T > 8: AVX2/scalar panels + sgemm, several panels, a
// short last one; AVX-512 GEMM: one vector of 16 rows for T <= 16, two beyond, partial row blocks
// and feature tiles of 24 / 12 with a ragged last one), OC not a multiple of 4, IC with and
// without a vector tail (16 and 32 wide), and sizes above the OpenMP threshold (OC x IC >= 262144)
// so both threads split the work.
static void run_case(s1c_backend *be, int T, int IC, int OC, int with_bias, uint64_t seed) {
    kt_rng r = {seed};
    float *inp = kt_falloc((size_t)T * IC), *b = kt_falloc((size_t)OC), *out = kt_falloc((size_t)T * OC);
    uint16_t *w = malloc((size_t)OC * IC * sizeof(uint16_t) + 2);
    kt_fill(&r, inp, (size_t)T * IC, 1.0);
    kt_fill(&r, b, (size_t)OC, 1.0);
    for (size_t i = 0; i < (size_t)OC * IC; i++) w[i] = s1c_bf16_from_f32((float)(0.5 * kt_uniform(&r)));
    for (size_t i = 0; i < (size_t)T * OC; i++) out[i] = NAN;  // every element must be written
    be->matmul_wbf16(be, out, inp, w, with_bias ? b : NULL, T, IC, OC);
    // The vdpbf16ps path (more than 8 rows, the default where the CPU has AVX-512 BF16 unless
    // be->wbf16_exact) multiplies the inputs rounded to bf16: its reference rounds them too, and
    // a second check bounds its distance to the fp32 product.
    const int dp = !strcmp(s1c_cpu_wbf16_gemm_path(be), "avx512bf16") && T > 8;
    double *ref = kt_dalloc((size_t)T * OC), *ref32 = kt_dalloc((size_t)T * OC);
    for (int t = 0; t < T; t++)
        for (int o = 0; o < OC; o++) {
            double s = with_bias ? b[o] : 0.0, s32 = s;
            for (int i = 0; i < IC; i++) {
                const float x = inp[(size_t)t * IC + i], wv = s1c_bf16_to_f32(w[(size_t)o * IC + i]);
                s += (double)(dp ? s1c_bf16_to_f32(s1c_bf16_from_f32(x)) : x) * wv;
                s32 += (double)x * wv;
            }
            ref[(size_t)t * OC + o] = s;
            ref32[(size_t)t * OC + o] = s32;
        }
    char what[160];
    snprintf(what, sizeof what, "matmul_wbf16 T%d IC%d OC%d bias%d%s", T, IC, OC, with_bias,
             dp ? " (inputs in bf16)" : "");
    // fp32 accumulation of IC <= 2000 products of O(1) terms against double: relative error of a
    // few 1e-7 (blocked sums grow like sqrt(IC) ulps); 2e-5 is two orders above, while one wrong
    // or missing weight row or tail element gives >= 1e-3.
    kt_check(what, kt_relerr(out, ref, (size_t)T * OC), 2e-5);
    if (dp) {  // inputs off by up to 2^-8 relative each (rms 1.7e-3), random signs: ~2e-3 on the sums
        snprintf(what, sizeof what, "matmul_wbf16 T%d IC%d OC%d bias%d vs fp32 inputs", T, IC, OC, with_bias);
        kt_check(what, kt_relerr(out, ref32, (size_t)T * OC), 4e-3);
    }
    free(inp), free(b), free(out), free(w), free(ref), free(ref32);
}

int main(void) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    const char *want = getenv("S1C_WBF16_ISA");
    printf("instruction path: %s (asked: %s)\n", s1c_cpu_wbf16_isa(), want ? want : "best");

    // Widening is exact: every bit pattern gives the fp32 whose top half it is.
    uint16_t *all = malloc(65536 * sizeof(uint16_t));
    float *wide = kt_falloc(65536 + 3);
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    s1c_cpu_widen_bf16(wide + 3, all, 65536);  // unaligned destination on purpose
    int exact = 1;
    for (int i = 0; i < 65536; i++) {
        uint32_t u;
        memcpy(&u, wide + 3 + i, 4);
        exact &= u == (uint32_t)i << 16;
    }
    kt_check_true("widen: all 65536 bf16 patterns exact", exact);
    free(all), free(wide);

    const int shapes[][3] = {{1, 8, 4},    {1, 7, 1},     {1, 33, 5},    {2, 16, 3},     {3, 100, 37},
                             {5, 1, 6},    {8, 64, 130},  {1, 896, 300}, {4, 896, 310},  {9, 40, 50},
                             {17, 33, 70}, {32, 2000, 100}, {64, 128, 4}, {20, 9, 1000},
                             {6, 77, 301},  {7, 896, 300},  {16, 31, 25},  {33, 65, 37}, {50, 896, 330}};
    // On an AVX-512 BF16 path, once more with wbf16_exact: the fp32-input GEMM in its place.
    for (int ex = 0; ex < 2; ex++) {
        be->wbf16_exact = ex;
        if (ex && strcmp(s1c_cpu_wbf16_isa(), "avx512bf16")) break;
        printf("many-row path: %s (wbf16_exact %d)\n", s1c_cpu_wbf16_gemm_path(be), ex);
        uint64_t seed = 1;
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
            for (int bias = 0; bias < 2; bias++) run_case(be, shapes[k][0], shapes[k][1], shapes[k][2], bias, seed++);
    }
    be->wbf16_exact = 0;

    // Embedding rows: the widened table rows, bit for bit, ids repeated and out of order.
    const int V = 50, C = 37, T = 70;
    kt_rng r = {99};
    uint16_t *wte = malloc((size_t)V * C * sizeof(uint16_t));
    for (int i = 0; i < V * C; i++) wte[i] = s1c_bf16_from_f32((float)kt_uniform(&r));
    int32_t ids[70];
    for (int t = 0; t < T; t++) ids[t] = kt_randint(&r, V);
    float *emb = kt_falloc((size_t)T * C);
    be->embedding_wbf16(be, emb, ids, wte, T, C);
    int same = 1;
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) same &= emb[(size_t)t * C + c] == s1c_bf16_to_f32(wte[(size_t)ids[t] * C + c]);
    kt_check_true("embedding_wbf16: rows equal the widened table rows", same);
    free(wte), free(emb);
    s1c_backend_destroy(be);
    return check_exit("test_wbf16_matmul");
}
