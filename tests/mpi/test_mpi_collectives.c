// Every collective of the "mpi" backend, blocking and non-blocking, checked against values each
// rank can compute on its own. Run under mpirun -np 1, 2 and 4.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "s1c_bf16.h"
#include "s1c_mpi.h"

static float val(int r, size_t i) { return (float)(r * 1000 + (int)i) * 0.5f; }

int main(int argc, char **argv) {
    s1c_dist d;
    int rank = -1;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    rank = d.rank;
    check_set_rank(rank);
    const int W = d.size;
    CHECK(d.local_rank >= 0 && d.local_rank < d.local_size, "local rank %d of %d", d.local_rank, d.local_size);
    CHECK(d.local_size == W, "single node: local size %d != world %d", d.local_size, W);

#ifndef S1C_HAVE_NCCL  // builds with CUDA have it (tests/cuda/test_nccl_collectives covers it there)
    CHECK(s1c_comm_create(&d, "nccl") == NULL && strstr(s1c_err_msg(), "nccl"), "nccl must report unavailability");
#endif
    CHECK(s1c_comm_create(&d, "carrier-pigeon") == NULL, "unknown backend accepted");
    s1c_comm *c = s1c_comm_create(&d, "mpi");
    if (!c) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    CHECK(c->rank == rank && c->size == W, "comm rank/size");

    enum { N = 37 };  // odd on purpose
    float *full = calloc((size_t)W * N, sizeof(float)), *mine = malloc(N * sizeof(float));
    for (size_t i = 0; i < N; i++) mine[i] = val(rank, i);

    // all_gather, out of place and in place
    OK(c->all_gather(c, full, mine, N, S1C_COMM_F32));
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < N; i++) CHECK(full[(size_t)r * N + i] == val(r, i), "all_gather r%d i%zu", r, i);
    memset(full, 0, (size_t)W * N * sizeof(float));
    memcpy(full + (size_t)rank * N, mine, N * sizeof(float));
    OK(c->all_gather(c, full, full + (size_t)rank * N, N, S1C_COMM_F32));
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < N; i++) CHECK(full[(size_t)r * N + i] == val(r, i), "in-place all_gather r%d i%zu", r, i);

    // reduce_scatter sum and average: send[j] = val(rank, j) over the full W*N buffer
    float *send = malloc((size_t)W * N * sizeof(float)), *recv = malloc(N * sizeof(float));
    for (size_t j = 0; j < (size_t)W * N; j++) send[j] = val(rank, j);
    OK(c->reduce_scatter(c, recv, send, N, S1C_COMM_F32, S1C_RED_SUM));
    for (size_t i = 0; i < N; i++) {
        double want = 0;
        for (int r = 0; r < W; r++) want += val(r, (size_t)rank * N + i);
        CHECK(fabs(recv[i] - want) <= 1e-6 * fabs(want), "reduce_scatter sum i%zu: %g vs %g", i, recv[i], want);
    }
    OK(c->reduce_scatter(c, recv, send, N, S1C_COMM_F32, S1C_RED_AVG));
    for (size_t i = 0; i < N; i++) {
        double want = 0;
        for (int r = 0; r < W; r++) want += val(r, (size_t)rank * N + i);
        want /= W;
        CHECK(fabs(recv[i] - want) <= 1e-6 * fabs(want), "reduce_scatter avg i%zu: %g vs %g", i, recv[i], want);
    }

    // all_reduce: sum, avg, max, min, on doubles and ints
    double dv[3] = {rank + 1.0, -(double)rank, 0.25};
    OK(c->all_reduce(c, dv, 3, S1C_COMM_F64, S1C_RED_SUM));
    CHECK(dv[0] == W * (W + 1) / 2.0 && dv[1] == -W * (W - 1) / 2.0 && dv[2] == 0.25 * W, "all_reduce sum");
    double av = rank;
    OK(c->all_reduce(c, &av, 1, S1C_COMM_F64, S1C_RED_AVG));
    CHECK(av == (W - 1) / 2.0, "all_reduce avg %g", av);
    int32_t iv[2] = {rank, rank};
    OK(c->all_reduce(c, iv, 1, S1C_COMM_I32, S1C_RED_MAX));
    OK(c->all_reduce(c, iv + 1, 1, S1C_COMM_I32, S1C_RED_MIN));
    CHECK(iv[0] == W - 1 && iv[1] == 0, "max/min %d %d", iv[0], iv[1]);
    CHECK(c->all_reduce(c, iv, 1, S1C_COMM_I32, S1C_RED_AVG) != S1C_OK, "integer average must be refused");
    uint16_t h = 1;
    CHECK(c->all_reduce(c, &h, 1, S1C_COMM_BF16, S1C_RED_MAX) != S1C_OK, "bf16 host max must be refused");
    // bf16 sum / average on host buffers (train.reduce_dtype bf16): values exact in bf16 (1.5 =
    // 0x3fc0, r + 0.25 for r < 4) sum exactly; the average of a reduce-scatter too (W a power of 2)
    {
        uint16_t b[2] = {0x3fc0, s1c_bf16_from_f32((float)rank + 0.25f)};
        OK(c->all_reduce(c, b, 2, S1C_COMM_BF16, S1C_RED_SUM));
        CHECK(s1c_bf16_to_f32(b[0]) == 1.5f * W, "bf16 sum %g", s1c_bf16_to_f32(b[0]));
        CHECK(s1c_bf16_to_f32(b[1]) == 0.25f * W + W * (W - 1) / 2.0f, "bf16 sum %g", s1c_bf16_to_f32(b[1]));
        uint16_t *full16 = malloc((size_t)W * 3 * sizeof(uint16_t)), out16[3];
        for (int k = 0; k < W * 3; k++) full16[k] = s1c_bf16_from_f32((float)(k % 3) + 1.0f);
        OK(c->reduce_scatter(c, out16, full16, 3, S1C_COMM_BF16, S1C_RED_AVG));
        for (int k = 0; k < 3; k++) CHECK(s1c_bf16_to_f32(out16[k]) == (float)k + 1.0f, "bf16 avg %d", k);
        free(full16);
    }

    // broadcast from the last rank; bf16 words move unchanged
    uint16_t words[5];
    for (int i = 0; i < 5; i++) words[i] = (uint16_t)(rank == W - 1 ? 0x3f80 + i : 0);
    OK(c->broadcast(c, words, 5, S1C_COMM_BF16, W - 1));
    for (int i = 0; i < 5; i++) CHECK(words[i] == 0x3f80 + i, "broadcast word %d", i);
    OK(c->barrier(c));

    // non-blocking: two gathers and a reduce-scatter in flight at once, waited out of order
    float *full2 = calloc((size_t)W * N, sizeof(float));
    s1c_comm_req *g1 = NULL, *g2 = NULL, *rs = NULL, *ar = NULL;
    OK(c->iall_gather(c, full, mine, N, S1C_COMM_F32, &g1));
    OK(c->iall_gather(c, full2, mine, N, S1C_COMM_F32, &g2));
    OK(c->ireduce_scatter(c, recv, send, N, S1C_COMM_F32, S1C_RED_AVG, &rs));
    double sv = 1.0;
    OK(c->iall_reduce(c, &sv, 1, S1C_COMM_F64, S1C_RED_SUM, &ar));
    int done = 0;
    OK(c->test(c, g2, &done));
    OK(c->wait(c, g2));
    OK(c->wait(c, rs));
    OK(c->wait(c, g1));
    OK(c->wait(c, ar));
    OK(c->wait(c, NULL));
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < N; i++) {
            CHECK(full[(size_t)r * N + i] == val(r, i), "iall_gather 1 r%d i%zu", r, i);
            CHECK(full2[(size_t)r * N + i] == val(r, i), "iall_gather 2 r%d i%zu", r, i);
        }
    for (size_t i = 0; i < N; i++) {
        double want = 0;
        for (int r = 0; r < W; r++) want += val(r, (size_t)rank * N + i);
        want /= W;
        CHECK(fabs(recv[i] - want) <= 1e-6 * fabs(want), "ireduce_scatter avg i%zu", i);
    }
    CHECK(sv == W, "iall_reduce %g", sv);

    // sendrecv, the context-parallel pattern: every rank sends (r + 1) * 3 values to every later
    // rank, twice (the second message must match the second receive), and receives from every
    // earlier one; then only ranks 1 and 2 exchange (the others never call).
    {
        int ns = 0, nr = 0;
        s1c_comm_msg sends[16], recvs[16];
        float *out = malloc(2 * (size_t)(rank + 1) * 3 * sizeof(float)), *in[16] = {0};
        for (int k = 0; k < 2 * (rank + 1) * 3; k++) out[k] = val(rank, (size_t)k);
        for (int p = rank + 1; p < W && p < 8; p++)
            for (int m = 0; m < 2; m++)
                sends[ns++] = (s1c_comm_msg){p, out + (size_t)m * (rank + 1) * 3, (size_t)(rank + 1) * 3};
        for (int q = 0; q < rank && q < 8; q++)
            for (int m = 0; m < 2; m++) {
                in[nr] = calloc((size_t)(q + 1) * 3, sizeof(float));
                recvs[nr] = (s1c_comm_msg){q, in[nr], (size_t)(q + 1) * 3};
                nr++;
            }
        OK(c->sendrecv(c, sends, ns, recvs, nr, S1C_COMM_F32));
        for (int j = 0; j < nr; j++) {
            const int q = recvs[j].peer, m = j % 2;
            for (int k = 0; k < (q + 1) * 3; k++)
                CHECK(in[j][k] == val(q, (size_t)(m * (q + 1) * 3 + k)), "sendrecv from %d message %d elem %d", q, m, k);
            free(in[j]);
        }
        if (W >= 3 && (rank == 1 || rank == 2)) {
            int32_t mine32 = 100 + rank, got = -1;
            s1c_comm_msg sm = {3 - rank, &mine32, 1}, rm = {3 - rank, &got, 1};
            OK(c->sendrecv(c, &sm, 1, &rm, 1, S1C_COMM_I32));
            CHECK(got == 100 + (3 - rank), "sendrecv pair 1<->2: got %d", got);
        }
        OK(c->sendrecv(c, NULL, 0, NULL, 0, S1C_COMM_F32));
        s1c_comm_msg self = {rank, out, 1};
        CHECK(c->sendrecv(c, &self, 1, NULL, 0, S1C_COMM_F32) != S1C_OK, "a send to itself must be refused");
        free(out);
    }

    // Sub-communicators (tensor-parallel groups): ranks of the same color, ordered by key; the
    // reverse key reverses the ranks; collectives stay inside the group.
    {
        const int gs = W >= 2 ? 2 : 1, color = rank / gs;
        s1c_comm *g = s1c_comm_split(c, color, -rank);
        CHECK(g != NULL, "%s", s1c_err_msg());
        if (g) {
            const int n_in = W - color * gs < gs ? W - color * gs : gs;
            CHECK(g->size == n_in && g->rank == n_in - 1 - (rank - color * gs), "rank %d: group rank %d of %d", rank,
                  g->rank, g->size);
            int64_t v = rank, lo = rank;
            OK(g->all_reduce(g, &v, 1, S1C_COMM_I64, S1C_RED_SUM));
            OK(g->all_reduce(g, &lo, 1, S1C_COMM_I64, S1C_RED_MIN));
            int64_t want = 0;
            for (int r = color * gs; r < color * gs + n_in; r++) want += r;
            CHECK(v == want && lo == color * gs, "group sum %lld (want %lld), min %lld", (long long)v, (long long)want,
                  (long long)lo);
            s1c_comm_destroy(g);
        }
    }

    // Every rank's verdict, so rank 0's exit status speaks for the job.
    int32_t bad = check_failures;
    OK(c->all_reduce(c, &bad, 1, S1C_COMM_I32, S1C_RED_SUM));
    free(full);
    free(full2);
    free(mine);
    free(send);
    free(recv);
    s1c_comm_destroy(c);
    s1c_dist_finalize(&d);
    if (rank == 0) printf("test_mpi_collectives: %d ranks, %s\n", W, bad ? "FAIL" : "ok");
    return bad ? 1 : 0;
}
