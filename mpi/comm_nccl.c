// Collective backend over NCCL for device buffers (compiled when CUDA is found: S1C_HAVE_NCCL).
//
// Ordering. NCCL kernels run on this communicator's own stream (highest priority, so a gather
// is not starved by the compute kernels it overlaps). When a compute stream is attached
// (set_stream), every collective first makes the communication stream wait for the work already
// enqueued on the compute stream (an event), so buffers written by earlier ops are complete and
// buffers read by earlier ops may be overwritten; completion is handed back the same way: a
// blocking call, or wait() on a request, makes the compute stream wait for the collective. No
// host synchronisation either way: the host sees the data only after it synchronises the compute
// stream (the kernel backend's copy_d2h does). Without an attached stream the communication
// stream is a blocking stream (ordered after the legacy default stream, so after cudaMemcpy), and
// blocking calls and wait() synchronise the host with the collective.
//
// Stalls (c->timeout_s > 0, train.collective_timeout_s). Host waits (no compute stream attached,
// the barrier) poll their event with the deadline and ncclCommGetAsyncError; on a timeout the
// communicator is aborted (ncclCommAbort) and the call fails naming the collective. Stream-ordered
// collectives never block the host here, so a watchdog thread watches them: every collective
// records a watch event on the communication stream with its time; the thread polls the oldest
// unfinished one every 100 ms and, past the deadline (or on an asynchronous NCCL error), prints
// the collective and its sequence number, aborts the communicator (the one NCCL call meant for
// another thread) and ends the process with S1C_COMM_TIMEOUT_EXIT, which takes the job down (the
// host thread may be blocked in a device synchronisation it cannot leave). Not yet run on a GPU.
//
// Creation is collective: the ranks agree that each has a usable GPU before rank 0's NCCL id is
// broadcast over MPI, so no rank waits in a broadcast or an init that another never joins.
#ifdef S1C_HAVE_NCCL

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comm_impl.h"

// A request: the event recorded on the communication stream after the collective. Requests are
// recycled through a free list so a training step creates no events.
typedef struct nccl_req {
    cudaEvent_t done;
    const char *what;
    struct nccl_req *next;
} nccl_req;

// The watchdog's ring of collectives in flight on the communication stream (oldest at head).
enum { WATCH_RING = 64 };
typedef struct {
    cudaEvent_t ev;
    double t;  // when it was enqueued (CLOCK_MONOTONIC seconds)
    const char *what;
    unsigned long seq;
} watch_slot;

typedef struct {
    ncclComm_t nc;
    int device;
    MPI_Comm mc;           // the same ranks over MPI, for agreeing on set-up (MPI_COMM_WORLD for
                           // the communicator s1c_comm_create makes; owned by split ones)
    s1c_comm *owner;       // for timeout_s / timed_out
    cudaStream_t cs;       // communication stream (owned)
    cudaStream_t compute;  // attached compute stream (not owned); NULL: none
    cudaEvent_t ready;     // recorded on `compute` before each collective
    cudaEvent_t finished;  // recorded on `cs` after each blocking collective
    int32_t *scratch;      // [1] device word for the barrier
    nccl_req *free_reqs;
    int outstanding;       // requests handed out and not yet waited on
    int failed;            // an NCCL call failed: destroy aborts instead of a collective finalize
    // watchdog (started with the first collective while owner->timeout_s > 0)
    pthread_t wd;
    int wd_running;
    volatile int wd_stop;
    pthread_mutex_t wd_mu;
    watch_slot ring[WATCH_RING];
    int head, n_watch;
    unsigned long seq;
} nccl_impl;

static nccl_impl *impl_of(s1c_comm *c) { return (nccl_impl *)c->impl; }

static s1c_status cuda_fail(cudaError_t e, const char *what) {
    return s1c_err("NCCL backend: %s: CUDA error %s (%s)", what, cudaGetErrorName(e), cudaGetErrorString(e));
}

static s1c_status nccl_fail(nccl_impl *im, ncclResult_t r, const char *what) {
    if (im) im->failed = 1;
    const char *last = im && im->nc ? ncclGetLastError(im->nc) : NULL;
    return s1c_err("NCCL %s failed: %s%s%s", what, ncclGetErrorString(r), last && *last ? ": " : "",
                   last ? last : "");
}

#define CU_TRY(call, what)                                  \
    do {                                                    \
        cudaError_t s1c_ce_ = (call);                       \
        if (s1c_ce_ != cudaSuccess) return cuda_fail(s1c_ce_, what); \
    } while (0)

static s1c_status nccl_type(s1c_comm_dtype dt, ncclDataType_t *t, const char *what) {
    switch (dt) {
        case S1C_COMM_F32: *t = ncclFloat32; return S1C_OK;
        case S1C_COMM_F64: *t = ncclFloat64; return S1C_OK;
        case S1C_COMM_BF16: *t = ncclBfloat16; return S1C_OK;
        case S1C_COMM_I32: *t = ncclInt32; return S1C_OK;
        case S1C_COMM_I64: *t = ncclInt64; return S1C_OK;
        case S1C_COMM_U8: *t = ncclUint8; return S1C_OK;
    }
    return s1c_err("NCCL %s: unknown data type %d", what, (int)dt);
}

// Same refusals as the host backend, except that bf16 reduces on the device.
static s1c_status nccl_red(s1c_comm_dtype dt, s1c_red_op op, ncclRedOp_t *out, const char *what) {
    const int floating = dt == S1C_COMM_F32 || dt == S1C_COMM_F64 || dt == S1C_COMM_BF16;
    if (op == S1C_RED_AVG && !floating) return s1c_err("NCCL %s: average needs a floating type", what);
    switch (op) {
        case S1C_RED_SUM: *out = ncclSum; return S1C_OK;
        case S1C_RED_AVG: *out = ncclAvg; return S1C_OK;
        case S1C_RED_MAX: *out = ncclMax; return S1C_OK;
        case S1C_RED_MIN: *out = ncclMin; return S1C_OK;
    }
    return s1c_err("NCCL %s: unknown reduction %d", what, (int)op);
}

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Timed out or failed: abort the communicator so no NCCL kernel keeps waiting on the device.
// Under the watchdog's lock: it reads im->nc.
static void abort_comm(nccl_impl *im) {
    pthread_mutex_lock(&im->wd_mu);
    if (im->nc) ncclCommAbort(im->nc);
    im->nc = NULL;
    im->failed = 1;
    pthread_mutex_unlock(&im->wd_mu);
}

// The host waits for `ev` (recorded on the communication stream after `what`), with the deadline.
static s1c_status host_wait(nccl_impl *im, cudaEvent_t ev, const char *what) {
    const double timeout = im->owner ? im->owner->timeout_s : 0.0;
    if (!(timeout > 0)) {
        CU_TRY(cudaEventSynchronize(ev), what);
        return S1C_OK;
    }
    const double t0 = mono_s();
    for (;;) {
        cudaError_t e = cudaEventQuery(ev);
        if (e == cudaSuccess) return S1C_OK;
        if (e != cudaErrorNotReady) return cuda_fail(e, what);
        ncclResult_t ar = ncclSuccess;
        if (ncclCommGetAsyncError(im->nc, &ar) == ncclSuccess && ar != ncclSuccess && ar != ncclInProgress) {
            s1c_status st = nccl_fail(im, ar, what);
            abort_comm(im);
            return st;
        }
        if (mono_s() - t0 > timeout) {
            abort_comm(im);
            im->owner->timed_out = 1;
            return s1c_err("NCCL %s did not complete within %g s (train.collective_timeout_s): another rank stopped "
                           "making progress; the communicator was aborted", what, timeout);
        }
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
}

static void *watchdog(void *arg) {
    nccl_impl *im = arg;
    cudaSetDevice(im->device);
    while (!im->wd_stop) {
        nanosleep(&(struct timespec){0, 100000000}, NULL);
        pthread_mutex_lock(&im->wd_mu);
        while (im->n_watch > 0 && cudaEventQuery(im->ring[im->head].ev) == cudaSuccess) {
            im->head = (im->head + 1) % WATCH_RING;
            im->n_watch--;
        }
        const double timeout = im->owner->timeout_s;
        const watch_slot *w = im->n_watch > 0 ? &im->ring[im->head] : NULL;
        ncclResult_t ar = ncclSuccess;
        const int async_bad = im->nc && ncclCommGetAsyncError(im->nc, &ar) == ncclSuccess && ar != ncclSuccess &&
                              ar != ncclInProgress;
        if ((w && timeout > 0 && mono_s() - w->t > timeout) || async_bad) {
            char msg[512];
            int len;
            if (async_bad)
                len = snprintf(msg, sizeof msg, "s1c-train: rank %d: NCCL %s (collective #%lu) failed: %s; aborting "
                               "the communicator and the job\n", im->owner->rank, w ? w->what : "collective",
                               w ? w->seq : 0ul, ncclGetErrorString(ar));
            else
                len = snprintf(msg, sizeof msg, "s1c-train: rank %d: NCCL %s (collective #%lu) did not complete "
                               "within %g s (train.collective_timeout_s): another rank stopped making progress; "
                               "aborting the communicator and the job\n", im->owner->rank, w->what, w->seq, timeout);
            if (len > 0 && write(STDERR_FILENO, msg, (size_t)len < sizeof msg ? (size_t)len : sizeof msg - 1) < 0) {
                // nowhere left to report
            }
            if (im->nc) ncclCommAbort(im->nc);
            _exit(async_bad ? 1 : S1C_COMM_TIMEOUT_EXIT);
        }
        pthread_mutex_unlock(&im->wd_mu);
    }
    return NULL;
}

// After each collective is enqueued: a watch event for the watchdog (when a timeout is set).
static s1c_status watch(nccl_impl *im, const char *what) {
    if (!im->owner || !(im->owner->timeout_s > 0)) return S1C_OK;
    if (!im->wd_running) {
        for (int i = 0; i < WATCH_RING; i++)
            CU_TRY(cudaEventCreateWithFlags(&im->ring[i].ev, cudaEventDisableTiming), "creating the watch events");
        if (pthread_create(&im->wd, NULL, watchdog, im) != 0) return s1c_err("NCCL: cannot start the watchdog thread");
        im->wd_running = 1;
    }
    pthread_mutex_lock(&im->wd_mu);
    if (im->n_watch == WATCH_RING) {  // 64 collectives in flight: the host is far ahead; wait for the oldest
        cudaEvent_t oldest = im->ring[im->head].ev;
        const char *oldest_what = im->ring[im->head].what;
        pthread_mutex_unlock(&im->wd_mu);
        S1C_TRY(host_wait(im, oldest, oldest_what));
        pthread_mutex_lock(&im->wd_mu);
        // the watchdog may have retired some meanwhile: retire what is complete, the oldest at least
        while (im->n_watch > 0 && cudaEventQuery(im->ring[im->head].ev) == cudaSuccess) {
            im->head = (im->head + 1) % WATCH_RING;
            im->n_watch--;
        }
    }
    watch_slot *w = &im->ring[(im->head + im->n_watch) % WATCH_RING];
    cudaError_t e = cudaEventRecord(w->ev, im->cs);
    w->t = mono_s();
    w->what = what;
    w->seq = ++im->seq;
    if (e == cudaSuccess) im->n_watch++;
    pthread_mutex_unlock(&im->wd_mu);
    return e == cudaSuccess ? S1C_OK : cuda_fail(e, "recording a watch event");
}

// Before a collective: the communication stream waits for the compute stream's work so far.
static s1c_status enter(nccl_impl *im) {
    if (!im->compute) return S1C_OK;
    CU_TRY(cudaEventRecord(im->ready, im->compute), "recording the compute stream's event");
    CU_TRY(cudaStreamWaitEvent(im->cs, im->ready, 0), "ordering the communication stream");
    return S1C_OK;
}

static s1c_status async_error(nccl_impl *im, const char *what) {
    ncclResult_t ar = ncclSuccess;
    ncclResult_t r = ncclCommGetAsyncError(im->nc, &ar);
    if (r != ncclSuccess) return nccl_fail(im, r, "CommGetAsyncError");
    if (ar != ncclSuccess && ar != ncclInProgress) return nccl_fail(im, ar, what);
    return S1C_OK;
}

// After a blocking collective: compute-stream order, or host order when no stream is attached.
static s1c_status leave_blocking(nccl_impl *im, const char *what) {
    CU_TRY(cudaEventRecord(im->finished, im->cs), what);
    if (im->compute) {
        CU_TRY(cudaStreamWaitEvent(im->compute, im->finished, 0), what);
        return watch(im, what);
    }
    S1C_TRY(host_wait(im, im->finished, what));
    return async_error(im, what);
}

static s1c_status leave_async(nccl_impl *im, const char *what, s1c_comm_req **req) {
    nccl_req *r = im->free_reqs;
    if (r) {
        im->free_reqs = r->next;
    } else {
        r = s1c_xcalloc(1, sizeof *r);
        cudaError_t e = cudaEventCreateWithFlags(&r->done, cudaEventDisableTiming);
        if (e != cudaSuccess) {
            free(r);
            return cuda_fail(e, "creating a request event");
        }
    }
    r->what = what;
    r->next = NULL;
    cudaError_t e = cudaEventRecord(r->done, im->cs);
    if (e != cudaSuccess) {
        r->next = im->free_reqs;
        im->free_reqs = r;
        return cuda_fail(e, what);
    }
    im->outstanding++;
    // The interface's request type is opaque; this backend's requests are nccl_req.
    *req = (s1c_comm_req *)(void *)r;
    return watch(im, what);
}

// ---- the collectives ------------------------------------------------------------------------
static s1c_status do_all_gather(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                const char *what) {
    nccl_impl *im = impl_of(c);
    ncclDataType_t t = ncclFloat32;
    S1C_TRY(nccl_type(dt, &t, what));
    S1C_TRY(enter(im));
    // In place when send == recv + rank * count, the same convention as NCCL's.
    ncclResult_t r = ncclAllGather(send, recv, count, t, im->nc, im->cs);
    return r == ncclSuccess ? S1C_OK : nccl_fail(im, r, what);
}

static s1c_status do_reduce_scatter(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                    s1c_red_op op, const char *what) {
    nccl_impl *im = impl_of(c);
    ncclDataType_t t = ncclFloat32;
    ncclRedOp_t o = ncclSum;
    S1C_TRY(nccl_type(dt, &t, what));
    S1C_TRY(nccl_red(dt, op, &o, what));
    S1C_TRY(enter(im));
    ncclResult_t r = ncclReduceScatter(send, recv, count, t, o, im->nc, im->cs);
    return r == ncclSuccess ? S1C_OK : nccl_fail(im, r, what);
}

static s1c_status do_all_reduce(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op,
                                const char *what) {
    nccl_impl *im = impl_of(c);
    ncclDataType_t t = ncclFloat32;
    ncclRedOp_t o = ncclSum;
    S1C_TRY(nccl_type(dt, &t, what));
    S1C_TRY(nccl_red(dt, op, &o, what));
    S1C_TRY(enter(im));
    ncclResult_t r = ncclAllReduce(buf, buf, count, t, o, im->nc, im->cs);
    return r == ncclSuccess ? S1C_OK : nccl_fail(im, r, what);
}

static s1c_status n_all_gather(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt) {
    S1C_TRY(do_all_gather(c, recv, send, count, dt, "all_gather"));
    return leave_blocking(impl_of(c), "all_gather");
}

static s1c_status n_reduce_scatter(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                   s1c_red_op op) {
    S1C_TRY(do_reduce_scatter(c, recv, send, count, dt, op, "reduce_scatter"));
    return leave_blocking(impl_of(c), "reduce_scatter");
}

static s1c_status n_all_reduce(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op) {
    S1C_TRY(do_all_reduce(c, buf, count, dt, op, "all_reduce"));
    return leave_blocking(impl_of(c), "all_reduce");
}

static s1c_status n_broadcast(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, int root) {
    nccl_impl *im = impl_of(c);
    ncclDataType_t t = ncclFloat32;
    S1C_TRY(nccl_type(dt, &t, "broadcast"));
    if (root < 0 || root >= c->size) return s1c_err("NCCL broadcast: root %d outside 0..%d", root, c->size - 1);
    S1C_TRY(enter(im));
    ncclResult_t r = ncclBroadcast(buf, buf, count, t, root, im->nc, im->cs);
    if (r != ncclSuccess) return nccl_fail(im, r, "broadcast");
    return leave_blocking(im, "broadcast");
}

// One ncclGroupStart/End of sends and receives on the communication stream (NCCL pairs a
// pair's messages in issue order); ordered against the compute stream like every collective.
static s1c_status n_sendrecv(s1c_comm *c, const s1c_comm_msg *sends, int n_sends, const s1c_comm_msg *recvs,
                             int n_recvs, s1c_comm_dtype dt) {
    if (n_sends + n_recvs == 0) return S1C_OK;
    nccl_impl *im = impl_of(c);
    ncclDataType_t t = ncclFloat32;
    S1C_TRY(nccl_type(dt, &t, "sendrecv"));
    for (int i = 0; i < n_sends + n_recvs; i++) {
        const s1c_comm_msg *m = i < n_recvs ? &recvs[i] : &sends[i - n_recvs];
        if (m->peer < 0 || m->peer >= c->size || m->peer == c->rank)
            return s1c_err("NCCL sendrecv: peer %d of rank %d outside 0..%d (or itself)", m->peer, c->rank,
                           c->size - 1);
    }
    S1C_TRY(enter(im));
    ncclResult_t r = ncclGroupStart();
    for (int i = 0; i < n_recvs && r == ncclSuccess; i++)
        r = ncclRecv(recvs[i].buf, recvs[i].count, t, recvs[i].peer, im->nc, im->cs);
    for (int i = 0; i < n_sends && r == ncclSuccess; i++)
        r = ncclSend(sends[i].buf, sends[i].count, t, sends[i].peer, im->nc, im->cs);
    ncclResult_t r2 = ncclGroupEnd();  // always closes the group, also after a failed call
    if (r == ncclSuccess) r = r2;
    if (r != ncclSuccess) return nccl_fail(im, r, "sendrecv");
    return leave_blocking(im, "sendrecv");
}

// NCCL has no barrier: a one-word all-reduce that the host waits for is one.
static s1c_status n_barrier(s1c_comm *c) {
    nccl_impl *im = impl_of(c);
    ncclResult_t r = ncclAllReduce(im->scratch, im->scratch, 1, ncclInt32, ncclSum, im->nc, im->cs);
    if (r != ncclSuccess) return nccl_fail(im, r, "barrier");
    CU_TRY(cudaEventRecord(im->finished, im->cs), "barrier");
    S1C_TRY(host_wait(im, im->finished, "barrier"));
    return async_error(im, "barrier");
}

static s1c_status n_iall_gather(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                s1c_comm_req **req) {
    *req = NULL;
    S1C_TRY(do_all_gather(c, recv, send, count, dt, "iall_gather"));
    return leave_async(impl_of(c), "iall_gather", req);
}

static s1c_status n_ireduce_scatter(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                    s1c_red_op op, s1c_comm_req **req) {
    *req = NULL;
    S1C_TRY(do_reduce_scatter(c, recv, send, count, dt, op, "ireduce_scatter"));
    return leave_async(impl_of(c), "ireduce_scatter", req);
}

static s1c_status n_iall_reduce(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op,
                                s1c_comm_req **req) {
    *req = NULL;
    S1C_TRY(do_all_reduce(c, buf, count, dt, op, "iall_reduce"));
    return leave_async(impl_of(c), "iall_reduce", req);
}

static s1c_status n_wait(s1c_comm *c, s1c_comm_req *req) {
    if (!req) return S1C_OK;
    nccl_impl *im = impl_of(c);
    nccl_req *r = (nccl_req *)(void *)req;
    const char *what = r->what;
    s1c_status st = S1C_OK;
    if (im->compute) {
        cudaError_t e = cudaStreamWaitEvent(im->compute, r->done, 0);
        if (e != cudaSuccess) st = cuda_fail(e, what);
    } else {
        st = host_wait(im, r->done, what);
        if (st == S1C_OK) st = async_error(im, what);
    }
    r->next = im->free_reqs;
    im->free_reqs = r;
    im->outstanding--;
    return st;
}

static s1c_status n_test(s1c_comm *c, s1c_comm_req *req, int *done) {
    *done = 1;
    if (!req) return S1C_OK;
    nccl_impl *im = impl_of(c);
    nccl_req *r = (nccl_req *)(void *)req;
    cudaError_t e = cudaEventQuery(r->done);
    if (e == cudaErrorNotReady) {
        *done = 0;
        // a peer that died leaves the collective pending forever: report it instead
        return async_error(im, r->what);
    }
    if (e != cudaSuccess) return cuda_fail(e, r->what);
    return S1C_OK;
}

static s1c_status n_set_stream(s1c_comm *c, void *stream) {
    nccl_impl *im = impl_of(c);
    if (im->outstanding) return s1c_err("NCCL set_stream: %d requests are still in flight", im->outstanding);
    im->compute = (cudaStream_t)stream;
    return S1C_OK;
}

static void n_destroy(s1c_comm *c) {
    if (!c) return;
    nccl_impl *im = impl_of(c);
    if (im && im->wd_running) {
        im->wd_stop = 1;
        pthread_join(im->wd, NULL);
        for (int i = 0; i < WATCH_RING; i++) cudaEventDestroy(im->ring[i].ev);
        im->wd_running = 0;
    }
    if (im) pthread_mutex_destroy(&im->wd_mu);
    if (im) {
        ncclResult_t ar = ncclSuccess;
        if (im->nc && (ncclCommGetAsyncError(im->nc, &ar) != ncclSuccess || ar != ncclSuccess)) im->failed = 1;
        if (im->nc && im->failed) {
            // A failed peer would leave a finalize (it waits for global quiescence) hanging.
            ncclCommAbort(im->nc);
        } else if (im->nc) {
            if (im->cs) cudaStreamSynchronize(im->cs);
            ncclCommFinalize(im->nc);
            ncclCommDestroy(im->nc);
        } else if (im->cs) {
            cudaStreamSynchronize(im->cs);
        }
        while (im->free_reqs) {
            nccl_req *r = im->free_reqs;
            im->free_reqs = r->next;
            cudaEventDestroy(r->done);
            free(r);
        }
        if (im->ready) cudaEventDestroy(im->ready);
        if (im->finished) cudaEventDestroy(im->finished);
        if (im->scratch) cudaFree(im->scratch);
        if (im->cs) cudaStreamDestroy(im->cs);
        int fin = 1;
        MPI_Finalized(&fin);
        if (im->mc != MPI_COMM_WORLD && im->mc != MPI_COMM_NULL && !fin) MPI_Comm_free(&im->mc);
        free(im);
    }
    free(c);
}

// ---- creation ---------------------------------------------------------------------------------
// Every rank learns whether all succeeded (MPI, so it never depends on the GPU side working).
static s1c_status agree_on(MPI_Comm mc, s1c_status st, const char *what) {
    int bad = st != S1C_OK;
    if (MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, mc) != MPI_SUCCESS)
        return s1c_err("collective backend \"nccl\": MPI_Allreduce failed while %s", what);
    if (bad && st == S1C_OK) return s1c_err("collective backend \"nccl\": %s failed on another rank", what);
    return st;
}
static s1c_status agree(s1c_status st, const char *what) { return agree_on(MPI_COMM_WORLD, st, what); }

static s1c_status stream_setup(nccl_impl *im);
static s1c_status local_setup(nccl_impl *im, const s1c_dist *d) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        cudaGetLastError();
        return s1c_err("collective backend \"nccl\": no CUDA device visible (%s)",
                       e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    }
    im->device = s1c_dist_gpu(d);
    if ((e = cudaSetDevice(im->device)) != cudaSuccess)
        return s1c_err("collective backend \"nccl\": rank %d (local rank %d): cudaSetDevice(%d): %s", d->rank,
                       d->local_rank, im->device, cudaGetErrorString(e));
    return stream_setup(im);
}

// The communicator's own stream, events and barrier word, on the current device.
static s1c_status stream_setup(nccl_impl *im) {
    int lo = 0, hi = 0;
    CU_TRY(cudaDeviceGetStreamPriorityRange(&lo, &hi), "stream priorities");
    CU_TRY(cudaStreamCreateWithPriority(&im->cs, cudaStreamDefault, hi), "creating the communication stream");
    CU_TRY(cudaEventCreateWithFlags(&im->ready, cudaEventDisableTiming), "creating events");
    CU_TRY(cudaEventCreateWithFlags(&im->finished, cudaEventDisableTiming), "creating events");
    CU_TRY(cudaMalloc((void **)&im->scratch, sizeof(int32_t)), "allocating the barrier word");
    CU_TRY(cudaMemset(im->scratch, 0, sizeof(int32_t)), "clearing the barrier word");
    CU_TRY(cudaDeviceSynchronize(), "setting up");
    return S1C_OK;
}

static void fill_table(s1c_comm *c);

// The ranks of c with the same color, ordered by key then rank (tensor-parallel groups inside a
// data-parallel job): ncclCommSplit, collective over c like MPI_Comm_split, which makes the
// matching MPI communicator for the group's own set-up agreements. The group has its own stream,
// events and watchdog, on the parent's device, and outlives the parent (no shared resources).
static s1c_comm *n_split(s1c_comm *c, int color, int key) {
    nccl_impl *pm = impl_of(c);
    s1c_comm *g = s1c_xcalloc(1, sizeof *g);
    nccl_impl *im = s1c_xcalloc(1, sizeof *im);
    g->impl = im;
    im->owner = g;
    im->device = pm->device;
    im->mc = MPI_COMM_NULL;
    pthread_mutex_init(&im->wd_mu, NULL);
    s1c_status st = S1C_OK;
    if (MPI_Comm_split(pm->mc, color, key, &im->mc) != MPI_SUCCESS) {
        im->mc = MPI_COMM_NULL;
        st = s1c_err("collective backend \"nccl\": MPI_Comm_split for the group failed");
    }
    if (st == S1C_OK) {
        cudaError_t e = cudaSetDevice(im->device);
        st = e != cudaSuccess ? cuda_fail(e, "split: selecting the device") : stream_setup(im);
    }
    st = agree_on(pm->mc, st, "setting up the split communicator");
    if (st == S1C_OK) {
        ncclResult_t r = ncclCommSplit(pm->nc, color, key, &im->nc, NULL);
        if (r != ncclSuccess || !im->nc) {
            im->nc = NULL;
            st = nccl_fail(pm, r, "CommSplit");
        }
        st = agree_on(pm->mc, st, "splitting the NCCL communicator");
    }
    if (st != S1C_OK) {
        s1c_err_prefix("rank %d", c->rank);
        im->failed = 1;
        n_destroy(g);
        return NULL;
    }
    MPI_Comm_rank(im->mc, &g->rank);
    MPI_Comm_size(im->mc, &g->size);
    int nr = -1, ns = -1;
    if (ncclCommUserRank(im->nc, &nr) != ncclSuccess || ncclCommCount(im->nc, &ns) != ncclSuccess || nr != g->rank ||
        ns != g->size) {
        // NCCL and MPI order a split's ranks alike (key, then parent rank); anything else would
        // pair wrong ranks' buffers.
        s1c_err("collective backend \"nccl\": split: NCCL rank %d of %d, MPI rank %d of %d", nr, ns, g->rank, g->size);
        im->failed = 1;
        n_destroy(g);
        return NULL;
    }
    g->timeout_s = c->timeout_s;
    fill_table(g);
    return g;
}

s1c_comm *s1c_comm_nccl_create(const s1c_dist *d) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        s1c_err("collective backend \"nccl\": MPI is not initialised (call s1c_dist_init first)");
        return NULL;
    }
    s1c_comm *c = s1c_xcalloc(1, sizeof *c);
    nccl_impl *im = s1c_xcalloc(1, sizeof *im);
    c->impl = im;
    im->owner = c;
    im->mc = MPI_COMM_WORLD;
    pthread_mutex_init(&im->wd_mu, NULL);
    s1c_status st = agree(local_setup(im, d), "finding this rank's GPU");
    // rank 0 makes the id; its success travels with it so no rank inits from garbage
    struct {
        int ok;
        ncclUniqueId id;
    } msg;
    memset(&msg, 0, sizeof msg);
    if (st == S1C_OK) {
        if (d->rank == 0) {
            ncclResult_t r = ncclGetUniqueId(&msg.id);
            msg.ok = r == ncclSuccess;
            if (!msg.ok) nccl_fail(NULL, r, "GetUniqueId");
        }
        if (MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            st = s1c_err("collective backend \"nccl\": MPI_Bcast of the NCCL id failed");
        else if (!msg.ok && d->rank != 0)
            st = s1c_err("collective backend \"nccl\": rank 0 could not create the NCCL id");
        else if (!msg.ok)
            st = S1C_ERR;
    }
    if (st == S1C_OK) {
        ncclResult_t r = ncclCommInitRank(&im->nc, d->size, msg.id, d->rank);
        if (r != ncclSuccess) {
            im->nc = NULL;
            st = nccl_fail(NULL, r, "CommInitRank");
        }
        st = agree(st, "creating the NCCL communicator");
    }
    if (st != S1C_OK) {
        s1c_err_prefix("rank %d", d->rank);
        im->failed = 1;
        n_destroy(c);
        return NULL;
    }
    c->rank = d->rank;
    c->size = d->size;
    fill_table(c);
    return c;
}

static void fill_table(s1c_comm *c) {
    c->backend = "nccl";
    c->device_buffers = 1;
    c->all_gather = n_all_gather;
    c->reduce_scatter = n_reduce_scatter;
    c->all_reduce = n_all_reduce;
    c->broadcast = n_broadcast;
    c->barrier = n_barrier;
    c->sendrecv = n_sendrecv;
    c->iall_gather = n_iall_gather;
    c->ireduce_scatter = n_ireduce_scatter;
    c->iall_reduce = n_iall_reduce;
    c->wait = n_wait;
    c->test = n_test;
    c->destroy = n_destroy;
    c->set_stream = n_set_stream;
    c->split = n_split;
}

#else
// Without CUDA this translation unit is empty; ISO C wants at least one declaration.
typedef int s1c_comm_nccl_not_compiled;
#endif
