// test_matmul_decode.c — the CPU backend's linear layer for the few rows of a decode step
// (matmul_decode, fp32 weights) against a double loop: one row (the streaming GEMV: 4-row groups
// with a ragged last one, inputs with and without a 32-float tail, a 16-float masked tail, sizes
// above the OpenMP threshold OC x IC >= 262144 so both threads split the rows), the 4 x 4 tiles
// (2..64 rows, ragged in both directions) and the GEMM beyond 64 rows, with and without bias.
#include "kt.h"
#include "ops.h"

static void run_case(s1c_backend *be, int T, int IC, int OC, int with_bias, uint64_t seed) {
    kt_rng r = {seed};
    float *inp = kt_falloc((size_t)T * IC), *w = kt_falloc((size_t)OC * IC), *b = kt_falloc((size_t)OC);
    float *out = kt_falloc((size_t)T * OC);
    kt_fill(&r, inp, (size_t)T * IC, 1.0);
    kt_fill(&r, w, (size_t)OC * IC, 0.5);
    kt_fill(&r, b, (size_t)OC, 1.0);
    for (size_t i = 0; i < (size_t)T * OC; i++) out[i] = NAN;  // every element must be written
    be->matmul_decode(be, out, inp, w, with_bias ? b : NULL, T, IC, OC);
    double *ref = kt_dalloc((size_t)T * OC);
    for (int t = 0; t < T; t++)
        for (int o = 0; o < OC; o++) {
            double s = with_bias ? b[o] : 0.0;
            for (int i = 0; i < IC; i++) s += (double)inp[(size_t)t * IC + i] * w[(size_t)o * IC + i];
            ref[(size_t)t * OC + o] = s;
        }
    char what[128];
    snprintf(what, sizeof what, "matmul_decode T%d IC%d OC%d bias%d", T, IC, OC, with_bias);
    // fp32 sums of <= 4864 O(1) products against double: a few 1e-7 relative; one wrong or
    // missing weight row or tail element gives >= 1e-3.
    kt_check(what, kt_relerr(out, ref, (size_t)T * OC), 2e-5);
    free(inp), free(w), free(b), free(out), free(ref);
}

int main(void) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    const int shapes[][3] = {{1, 8, 4},    {1, 7, 1},     {1, 33, 5},     {1, 32, 6},   {1, 48, 9},  {1, 896, 301},
                             {1, 4864, 57}, {1, 896, 1152}, {2, 16, 3},   {3, 100, 37}, {4, 896, 310}, {5, 31, 6},
                             {17, 33, 70}, {64, 128, 9},  {65, 64, 33}};
    uint64_t seed = 1;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int bias = 0; bias < 2; bias++) run_case(be, shapes[k][0], shapes[k][1], shapes[k][2], bias, seed++);
    s1c_backend_destroy(be);
    return check_exit("test_matmul_decode");
}
