// The "nccl" collective backend (mpi/comm_nccl.c) on device buffers, under mpirun -np 1 and 2:
// every collective, blocking and non-blocking, checked against values each rank computes on its
// own (exact: the inputs are small integers, exact in bf16 and in any summation order), the
// refusals, and the stream ordering: with a compute stream attached, a collective must start
// after the work already on that stream (here a host callback that sleeps before the copy that
// writes the input, so an unordered collective would read the stale sentinel) and work enqueued
// after wait() must see its result.
// Exits 77 (ctest: skipped) with a SKIP line when the node has no GPU or fewer GPUs than ranks
// (NCCL refuses two ranks on one GPU); all ranks agree on it first. Also the split into groups
// (ncclCommSplit) that tensor-parallel inference uses.
#include <cuda_runtime.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "s1c_mpi.h"

static int rank = 0;
#define CU(call)                                                                                  \
    do {                                                                                          \
        cudaError_t e_ = (call);                                                                  \
        if (e_ != cudaSuccess) {                                                                  \
            fprintf(stderr, "rank %d: %s:%d: %s: %s\n", rank, __FILE__, __LINE__, #call,        \
                    cudaGetErrorString(e_));                                                      \
            MPI_Abort(MPI_COMM_WORLD, 1);                                                         \
        }                                                                                         \
    } while (0)

// Small integers: exact in fp32 and in every sum and (1- or 2-rank) average of them.
static float val(int r, size_t i) { return (float)(r * 100 + (int)(i % 97)); }

// bf16 of a small integer (|x| < 256: exact), as a 16-bit word.
static uint16_t bf16_of(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return (uint16_t)(u >> 16);
}
static float f_of_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static void *dev(size_t bytes) {
    void *p = NULL;
    CU(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}

static void host_sleep(void *ms) { usleep((useconds_t)(uintptr_t)ms * 1000u); }

int main(int argc, char **argv) {
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    rank = d.rank;
    check_set_rank(rank);
    const int W = d.size;
    int n_gpu = 0;
    if (cudaGetDeviceCount(&n_gpu) != cudaSuccess) n_gpu = 0;
    int usable = n_gpu >= 1 && n_gpu >= d.local_size;
    MPI_Allreduce(MPI_IN_PLACE, &usable, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!usable) {
        if (rank == 0)
            printf("SKIP: test_nccl_collectives needs one GPU per rank (%d visible, %d ranks on this node)\n", n_gpu,
                   d.local_size);
        s1c_dist_finalize(&d);
        return 77;
    }
    CU(cudaSetDevice(s1c_dist_gpu(&d)));

    s1c_comm *c = s1c_comm_create(&d, "nccl");
    if (!c) {
        fprintf(stderr, "rank %d: %s\n", rank, s1c_err_msg());
        s1c_dist_abort(1);
    }
    CHECK(strcmp(c->backend, "nccl") == 0 && c->device_buffers == 1, "backend %s, device_buffers %d", c->backend,
          c->device_buffers);
    CHECK(c->rank == rank && c->size == W, "rank/size %d/%d", c->rank, c->size);
    CHECK(c->set_stream != NULL, "a device communicator must offer set_stream");
    s1c_comm *hm = s1c_comm_create(&d, "mpi");
    CHECK(hm && hm->set_stream == NULL && hm->device_buffers == 0, "host backend: no set_stream");

    // ---- no stream attached: blocking calls return with the result complete ------------------
    const size_t N = ((size_t)1 << 20) + 37;  // large and odd: several NCCL chunks and a ragged tail
    float *h = malloc((size_t)W * N * sizeof(float)), *mine = malloc(N * sizeof(float));
    float *dfull = dev((size_t)W * N * sizeof(float)), *dmine = dev(N * sizeof(float));
    for (size_t i = 0; i < N; i++) mine[i] = val(rank, i);
    CU(cudaMemcpy(dmine, mine, N * sizeof(float), cudaMemcpyHostToDevice));
    OK(c->all_gather(c, dfull, dmine, N, S1C_COMM_F32));
    CU(cudaMemcpy(h, dfull, (size_t)W * N * sizeof(float), cudaMemcpyDeviceToHost));
    int bad = 0;
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < N; i++) bad += h[(size_t)r * N + i] != val(r, i);
    CHECK(bad == 0, "all_gather: %d wrong elements", bad);

    // in place: send == recv + rank * count
    CU(cudaMemset(dfull, 0, (size_t)W * N * sizeof(float)));
    CU(cudaMemcpy(dfull + (size_t)rank * N, mine, N * sizeof(float), cudaMemcpyHostToDevice));
    OK(c->all_gather(c, dfull, dfull + (size_t)rank * N, N, S1C_COMM_F32));
    CU(cudaMemcpy(h, dfull, (size_t)W * N * sizeof(float), cudaMemcpyDeviceToHost));
    bad = 0;
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < N; i++) bad += h[(size_t)r * N + i] != val(r, i);
    CHECK(bad == 0, "in-place all_gather: %d wrong elements", bad);

    // reduce_scatter, sum and average: send[j] = val(rank, j) over the whole W*N buffer
    for (size_t j = 0; j < (size_t)W * N; j++) h[j] = val(rank, j);
    CU(cudaMemcpy(dfull, h, (size_t)W * N * sizeof(float), cudaMemcpyHostToDevice));
    for (int avg = 0; avg < 2; avg++) {
        OK(c->reduce_scatter(c, dmine, dfull, N, S1C_COMM_F32, avg ? S1C_RED_AVG : S1C_RED_SUM));
        CU(cudaMemcpy(mine, dmine, N * sizeof(float), cudaMemcpyDeviceToHost));
        bad = 0;
        for (size_t i = 0; i < N; i++) {
            const size_t j = (size_t)rank * N + i;
            double want = 0;
            for (int r = 0; r < W; r++) want += val(r, j);
            if (avg) want /= W;  // W is 1 or 2 here: the average is exact
            bad += mine[i] != (float)want;
        }
        CHECK(bad == 0, "reduce_scatter %s: %d wrong elements", avg ? "avg" : "sum", bad);
    }

    // bf16: gathers move bit patterns; sums and averages of small integers are exact
    enum { NB = 1031 };
    uint16_t *hb = malloc((size_t)W * NB * sizeof(uint16_t)), *mb = malloc(NB * sizeof(uint16_t));
    uint16_t *dbf = dev((size_t)W * NB * sizeof(uint16_t)), *dmb = dev(NB * sizeof(uint16_t));
    for (size_t i = 0; i < NB; i++) mb[i] = (uint16_t)(0x3f80u + (unsigned)rank * 7u + (unsigned)(i % 50));
    CU(cudaMemcpy(dmb, mb, NB * sizeof(uint16_t), cudaMemcpyHostToDevice));
    OK(c->all_gather(c, dbf, dmb, NB, S1C_COMM_BF16));
    CU(cudaMemcpy(hb, dbf, (size_t)W * NB * sizeof(uint16_t), cudaMemcpyDeviceToHost));
    bad = 0;
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < NB; i++) bad += hb[(size_t)r * NB + i] != (uint16_t)(0x3f80u + (unsigned)r * 7u + (unsigned)(i % 50));
    CHECK(bad == 0, "bf16 all_gather: %d wrong words", bad);
    for (size_t j = 0; j < (size_t)W * NB; j++) hb[j] = bf16_of((float)((int)(j % 61) - 30 + 2 * rank));
    CU(cudaMemcpy(dbf, hb, (size_t)W * NB * sizeof(uint16_t), cudaMemcpyHostToDevice));
    OK(c->reduce_scatter(c, dmb, dbf, NB, S1C_COMM_BF16, S1C_RED_AVG));
    CU(cudaMemcpy(mb, dmb, NB * sizeof(uint16_t), cudaMemcpyDeviceToHost));
    bad = 0;
    for (size_t i = 0; i < NB; i++) {
        const size_t j = (size_t)rank * NB + i;
        double want = 0;
        for (int r = 0; r < W; r++) want += (double)((int)(j % 61) - 30 + 2 * r);
        bad += f_of_bf16(mb[i]) != (float)(want / W);
    }
    CHECK(bad == 0, "bf16 reduce_scatter avg: %d wrong elements", bad);

    // all_reduce over several types and operations
    {
        double x64[3] = {rank + 0.5, -rank * 2.0, 1e10 + rank};
        int64_t i64[2] = {(int64_t)1 << 40, rank};
        int32_t i32[3] = {rank, -rank, 7};
        double *dx = dev(sizeof x64);
        int64_t *di = dev(sizeof i64);
        int32_t *dj = dev(sizeof i32);
        CU(cudaMemcpy(dx, x64, sizeof x64, cudaMemcpyHostToDevice));
        CU(cudaMemcpy(di, i64, sizeof i64, cudaMemcpyHostToDevice));
        CU(cudaMemcpy(dj, i32, sizeof i32, cudaMemcpyHostToDevice));
        OK(c->all_reduce(c, dx, 3, S1C_COMM_F64, S1C_RED_SUM));
        OK(c->all_reduce(c, di, 2, S1C_COMM_I64, S1C_RED_SUM));
        OK(c->all_reduce(c, dj, 1, S1C_COMM_I32, S1C_RED_MAX));
        OK(c->all_reduce(c, dj + 1, 1, S1C_COMM_I32, S1C_RED_MIN));
        CU(cudaMemcpy(x64, dx, sizeof x64, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(i64, di, sizeof i64, cudaMemcpyDeviceToHost));
        CU(cudaMemcpy(i32, dj, sizeof i32, cudaMemcpyDeviceToHost));
        const double s = W * (W - 1) / 2.0;
        CHECK(x64[0] == s + 0.5 * W && x64[1] == -2 * s && x64[2] == 1e10 * W + s, "f64 sum %g %g %g", x64[0],
              x64[1], x64[2]);
        CHECK(i64[0] == ((int64_t)W << 40) && i64[1] == (int64_t)s, "i64 sum %lld %lld", (long long)i64[0],
              (long long)i64[1]);
        CHECK(i32[0] == W - 1 && i32[1] == -(W - 1) && i32[2] == 7, "i32 max/min %d %d %d", i32[0], i32[1], i32[2]);
        // refusals: average of an integer type, a root outside the group
        CHECK(c->all_reduce(c, dj, 1, S1C_COMM_I32, S1C_RED_AVG) != S1C_OK && strstr(s1c_err_msg(), "average"),
              "integer average must be refused");
        CHECK(c->broadcast(c, dx, 1, S1C_COMM_F64, W) != S1C_OK && strstr(s1c_err_msg(), "root"),
              "a root outside the group must be refused");
        cudaFree(dx);
        cudaFree(di);
        cudaFree(dj);
    }

    // broadcast from the last rank
    for (size_t i = 0; i < N; i++) mine[i] = val(rank, i);
    CU(cudaMemcpy(dmine, mine, N * sizeof(float), cudaMemcpyHostToDevice));
    OK(c->broadcast(c, dmine, N, S1C_COMM_F32, W - 1));
    CU(cudaMemcpy(mine, dmine, N * sizeof(float), cudaMemcpyDeviceToHost));
    bad = 0;
    for (size_t i = 0; i < N; i++) bad += mine[i] != val(W - 1, i);
    CHECK(bad == 0, "broadcast: %d wrong elements", bad);
    OK(c->barrier(c));

    // sendrecv (context parallelism's K/V exchange): each rank sends its N values to the next
    // rank and receives the previous rank's; rank 0 only sends, the last only receives.
    if (W > 1) {
        for (size_t i = 0; i < N; i++) mine[i] = val(rank, i);
        CU(cudaMemcpy(dmine, mine, N * sizeof(float), cudaMemcpyHostToDevice));
        s1c_comm_msg sm = {rank + 1, dmine, N}, rm = {rank - 1, dfull, N};
        OK(c->sendrecv(c, &sm, rank + 1 < W, &rm, rank > 0, S1C_COMM_F32));
        if (rank > 0) {
            CU(cudaMemcpy(h, dfull, N * sizeof(float), cudaMemcpyDeviceToHost));
            bad = 0;
            for (size_t i = 0; i < N; i++) bad += h[i] != val(rank - 1, i);
            CHECK(bad == 0, "sendrecv: %d wrong elements from rank %d", bad, rank - 1);
        }
    }

    // non-blocking without a stream: test() polls, wait() returns with the data complete
    for (size_t i = 0; i < N; i++) mine[i] = val(rank, i);
    CU(cudaMemcpy(dmine, mine, N * sizeof(float), cudaMemcpyHostToDevice));
    s1c_comm_req *rq = NULL, *rr = NULL;
    OK(c->iall_gather(c, dfull, dmine, N, S1C_COMM_F32, &rq));
    CHECK(rq != NULL, "iall_gather returned no request");
    OK(c->iall_reduce(c, dmine, N, S1C_COMM_F32, S1C_RED_SUM, &rr));
    int done = 0, polls = 0;
    while (!done && polls < 1000000) {
        OK(c->test(c, rq, &done));
        polls++;
    }
    CHECK(done, "iall_gather never completed under test()");
    OK(c->wait(c, rq));
    OK(c->wait(c, rr));
    OK(c->wait(c, NULL));
    CU(cudaMemcpy(h, dfull, (size_t)W * N * sizeof(float), cudaMemcpyDeviceToHost));
    CU(cudaMemcpy(mine, dmine, N * sizeof(float), cudaMemcpyDeviceToHost));
    bad = 0;
    for (int r = 0; r < W; r++)
        for (size_t i = 0; i < N; i++) bad += h[(size_t)r * N + i] != val(r, i);
    for (size_t i = 0; i < N; i++) {
        double want = 0;
        for (int r = 0; r < W; r++) want += val(r, i);
        bad += mine[i] != (float)want;
    }
    CHECK(bad == 0, "iall_gather / iall_reduce: %d wrong elements", bad);

    // ---- a compute stream attached: ordering by events, no host synchronisation ---------------
    cudaStream_t cs;
    CU(cudaStreamCreateWithFlags(&cs, cudaStreamNonBlocking));
    OK(c->set_stream(c, cs));
    float *pinned = NULL;
    CU(cudaMallocHost((void **)&pinned, N * sizeof(float)));
    // Out of place (a gather), so even one rank sees a collective that ran before its input was
    // written (it would gather the sentinel) or a copy that ran before the gather (stale output).
    for (int round = 0; round < 3; round++) {
        CU(cudaMemset(dmine, 0xff, N * sizeof(float)));                    // sentinel input (NaN)
        CU(cudaMemset(dfull, 0x7f, (size_t)W * N * sizeof(float)));        // sentinel output
        CU(cudaDeviceSynchronize());  // the memsets ran on the legacy stream, unordered with cs
        for (size_t i = 0; i < N; i++) pinned[i] = val(rank, i) + (float)round;
        CU(cudaLaunchHostFunc(cs, host_sleep, (void *)(uintptr_t)100));
        CU(cudaMemcpyAsync(dmine, pinned, N * sizeof(float), cudaMemcpyHostToDevice, cs));
        s1c_comm_req *q = NULL;
        if (round == 0) {
            OK(c->all_gather(c, dfull, dmine, N, S1C_COMM_F32));
        } else if (round == 1) {
            OK(c->iall_gather(c, dfull, dmine, N, S1C_COMM_F32, &q));
            CHECK(c->set_stream(c, cs) != S1C_OK, "set_stream must be refused while a request is in flight");
            OK(c->wait(c, q));
        } else {
            OK(c->iall_reduce(c, dmine, N, S1C_COMM_F32, S1C_RED_AVG, &q));
            OK(c->wait(c, q));
        }
        // the copy back is ordered after the collective only through the communicator's event
        float *src = round < 2 ? dfull : dmine;
        const size_t n_out = round < 2 ? (size_t)W * N : N;
        const float *out = h;
        CU(cudaMemcpyAsync(h, src, n_out * sizeof(float), cudaMemcpyDeviceToHost, cs));
        CU(cudaStreamSynchronize(cs));
        bad = 0;
        if (round < 2) {
            for (int r = 0; r < W; r++)
                for (size_t i = 0; i < N; i++) bad += out[(size_t)r * N + i] != val(r, i) + (float)round;
        } else {
            for (size_t i = 0; i < N; i++) {
                double want = 0;
                for (int r = 0; r < W; r++) want += val(r, i) + round;
                bad += out[i] != (float)(want / W);
            }
        }
        CHECK(bad == 0, "stream-ordered round %d: %d wrong elements (event ordering broken?)", round, bad);
    }
    OK(c->set_stream(c, NULL));
    CU(cudaFreeHost(pinned));
    CU(cudaStreamDestroy(cs));

    // ---- split (tensor-parallel groups): ranks of one color, ordered by key (reversed here) --
    // With W ranks in groups of 2 (1 when W is 1): group ranks and sizes, and a device all-reduce
    // that stays inside the group; the group outlives its parent.
    {
        const int gs = W >= 2 ? 2 : 1, color = rank / gs;
        s1c_comm *g = s1c_comm_split(c, color, -rank);
        CHECK(g != NULL, "split: %s", s1c_err_msg());
        if (g) {
            const int n_in = W - color * gs < gs ? W - color * gs : gs;
            CHECK(g->size == n_in && g->rank == n_in - 1 - (rank - color * gs) && g->device_buffers == 1,
                  "split: group rank %d of %d", g->rank, g->size);
            for (size_t i = 0; i < N; i++) mine[i] = val(rank, i);
            CU(cudaMemcpy(dmine, mine, N * sizeof(float), cudaMemcpyHostToDevice));
            OK(g->all_reduce(g, dmine, N, S1C_COMM_F32, S1C_RED_SUM));
            CU(cudaMemcpy(h, dmine, N * sizeof(float), cudaMemcpyDeviceToHost));
            bad = 0;
            for (size_t i = 0; i < N; i++) {
                double want = 0;
                for (int r = color * gs; r < color * gs + n_in; r++) want += val(r, i);
                bad += h[i] != (float)want;
            }
            CHECK(bad == 0, "split all_reduce: %d wrong elements (not confined to the group?)", bad);
        }
        s1c_comm_destroy(c);
        c = NULL;
        if (g) {  // the parent is gone; the group still works
            OK(g->barrier(g));
            s1c_comm_destroy(g);
        }
    }

    s1c_comm_destroy(c);
    s1c_comm_destroy(hm);
    cudaFree(dfull);
    cudaFree(dmine);
    cudaFree(dbf);
    cudaFree(dmb);
    free(h);
    free(mine);
    free(hb);
    free(mb);
    int total = check_failures;
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("test_nccl_collectives: %d ranks, %s (%d failures)\n", W, total ? "FAIL" : "ok", total);
    s1c_dist_finalize(&d);
    return total ? 1 : 0;
}
