// Collective backend over MPI for host buffers (MPI_COMM_WORLD duplicated, so user traffic never
// mixes with other libraries' messages).
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comm_impl.h"
#include "s1c_bf16.h"

typedef struct {
    MPI_Comm comm;
} mpi_impl;

struct s1c_comm_req {
    MPI_Request req;
    // AVG is finished on completion: scale `n` elements of `buf` by 1/size.
    void *scale_buf;
    size_t scale_n;
    s1c_comm_dtype scale_dt;
    const char *what;
};

static MPI_Comm world(s1c_comm *c) { return ((mpi_impl *)c->impl)->comm; }

static s1c_status mpi_fail(int rc, const char *what) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", rc);
    return s1c_err("MPI %s failed: %s", what, msg);
}

// Completes n requests, or fails after c->timeout_s seconds (0: waits as long as it takes) with a
// message naming the collective, and sets c->timed_out: a rank that stopped making progress
// (stopped, deadlocked, its node gone) must not leave the others spinning in MPI_Wait forever.
// Polls MPI_Testall (which also progresses the transfer), yielding the core between polls; after
// the first second it sleeps 100 us between polls, so a rank waiting on a stalled peer stops
// burning a core (a transfer's own progress is never slowed in its first second).
static s1c_status wait_all(s1c_comm *c, int n, MPI_Request *rq, const char *what) {
    if (n == 0) return S1C_OK;
    if (!(c->timeout_s > 0)) {
        int rc = MPI_Waitall(n, rq, MPI_STATUSES_IGNORE);
        return rc == MPI_SUCCESS ? S1C_OK : mpi_fail(rc, what);
    }
    const double t0 = MPI_Wtime();
    for (;;) {
        int done = 0;
        int rc = MPI_Testall(n, rq, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(rc, what);
        if (done) return S1C_OK;
        const double waited = MPI_Wtime() - t0;
        if (waited > c->timeout_s) {
            c->timed_out = 1;
            return s1c_err("MPI %s did not complete within %g s (train.collective_timeout_s): another rank stopped "
                           "making progress (stopped, hung or its node lost)", what, c->timeout_s);
        }
        if (waited > 1.0) nanosleep(&(struct timespec){0, 100000}, NULL);  // a wait this long is a slow or stalled peer
        else sched_yield();
    }
}

static MPI_Datatype mpi_type(s1c_comm_dtype dt) {
    switch (dt) {
        case S1C_COMM_F32: return MPI_FLOAT;
        case S1C_COMM_F64: return MPI_DOUBLE;
        case S1C_COMM_BF16: return MPI_UINT16_T;
        case S1C_COMM_I32: return MPI_INT32_T;
        case S1C_COMM_I64: return MPI_INT64_T;
        case S1C_COMM_U8: return MPI_UINT8_T;
    }
    return MPI_DATATYPE_NULL;
}

// bf16 sum on host buffers (train.reduce_dtype bf16 on cpu-bf16): each pairwise sum in fp32,
// rounded to bf16, as NCCL's bf16 reductions do at every step of a ring.
static void bf16_sum_fn(void *in_, void *inout_, int *len, MPI_Datatype *dt) {
    (void)dt;
    const uint16_t *in = in_;
    uint16_t *io = inout_;
    for (int i = 0; i < *len; i++) io[i] = s1c_bf16_from_f32(s1c_bf16_to_f32(in[i]) + s1c_bf16_to_f32(io[i]));
}

static MPI_Op bf16_sum_op(void) {
    static MPI_Op op = MPI_OP_NULL;  // created once per process, freed by MPI_Finalize
    if (op == MPI_OP_NULL) MPI_Op_create(bf16_sum_fn, 1, &op);
    return op;
}

static s1c_status red_op(s1c_comm_dtype dt, s1c_red_op op, MPI_Op *out, const char *what) {
    if (dt == S1C_COMM_BF16) {
        if (op != S1C_RED_SUM && op != S1C_RED_AVG)
            return s1c_err("MPI %s: bf16 reductions on host buffers are sum and average only", what);
        *out = bf16_sum_op();
        return S1C_OK;
    }
    if (op == S1C_RED_AVG && dt != S1C_COMM_F32 && dt != S1C_COMM_F64)
        return s1c_err("MPI %s: average needs a floating type", what);
    switch (op) {
        case S1C_RED_SUM:
        case S1C_RED_AVG: *out = MPI_SUM; return S1C_OK;
        case S1C_RED_MAX: *out = MPI_MAX; return S1C_OK;
        case S1C_RED_MIN: *out = MPI_MIN; return S1C_OK;
    }
    return s1c_err("MPI %s: unknown reduction %d", what, (int)op);
}

static void scale_avg(void *buf, size_t n, s1c_comm_dtype dt, int size) {
    if (size == 1) return;
    if (dt == S1C_COMM_F32) {
        float s = 1.0f / (float)size, *x = buf;
        for (size_t i = 0; i < n; i++) x[i] *= s;
    } else if (dt == S1C_COMM_BF16) {
        float s = 1.0f / (float)size;
        uint16_t *x = buf;
        for (size_t i = 0; i < n; i++) x[i] = s1c_bf16_from_f32(s1c_bf16_to_f32(x[i]) * s);
    } else {
        double s = 1.0 / (double)size, *x = buf;
        for (size_t i = 0; i < n; i++) x[i] *= s;
    }
}

// MPI counts are int; larger transfers go through a contiguous derived type of `chunk` elements
// when divisible, else they are refused with a clear message (never silently truncated).
static s1c_status mpi_count(size_t count, s1c_comm_dtype dt, MPI_Datatype *type, int *n, MPI_Datatype *made,
                            const char *what) {
    *made = MPI_DATATYPE_NULL;
    *type = mpi_type(dt);
    if (count <= (size_t)INT32_MAX) {
        *n = (int)count;
        return S1C_OK;
    }
    const size_t chunk = (size_t)1 << 20;
    if (count % chunk != 0 || count / chunk > (size_t)INT32_MAX)
        return s1c_err("MPI %s: %zu elements exceed the int count limit and are not a multiple of %zu", what,
                       count, chunk);
    MPI_Type_contiguous((int)chunk, *type, made);
    MPI_Type_commit(made);
    *type = *made;
    *n = (int)(count / chunk);
    return S1C_OK;
}

static void free_type(MPI_Datatype *t) {
    if (*t != MPI_DATATYPE_NULL) MPI_Type_free(t);
}

static s1c_status m_all_gather(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt) {
    MPI_Datatype t, made;
    int n = 0;
    S1C_TRY(mpi_count(count, dt, &t, &n, &made, "all_gather"));
    const void *sb = send == (const char *)recv + (size_t)c->rank * count * s1c_comm_dtype_size(dt) ? MPI_IN_PLACE : send;
    MPI_Request rq;
    int rc = MPI_Iallgather(sb, n, t, recv, n, t, world(c), &rq);
    free_type(&made);  // MPI keeps the type alive until the operation completes
    return rc == MPI_SUCCESS ? wait_all(c, 1, &rq, "all_gather") : mpi_fail(rc, "all_gather");
}

static s1c_status m_reduce_scatter(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                   s1c_red_op op) {
    MPI_Op mop;
    S1C_TRY(red_op(dt, op, &mop, "reduce_scatter"));
    if (count > (size_t)INT32_MAX) return s1c_err("MPI reduce_scatter: %zu elements per rank exceed the int limit", count);
    MPI_Request rq;
    int rc = MPI_Ireduce_scatter_block(send, recv, (int)count, mpi_type(dt), mop, world(c), &rq);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "reduce_scatter");
    S1C_TRY(wait_all(c, 1, &rq, "reduce_scatter"));
    if (op == S1C_RED_AVG) scale_avg(recv, count, dt, c->size);
    return S1C_OK;
}

static s1c_status m_all_reduce(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op) {
    MPI_Op mop;
    S1C_TRY(red_op(dt, op, &mop, "all_reduce"));
    if (count > (size_t)INT32_MAX) return s1c_err("MPI all_reduce: %zu elements exceed the int limit", count);
    MPI_Request rq;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)count, mpi_type(dt), mop, world(c), &rq);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "all_reduce");
    S1C_TRY(wait_all(c, 1, &rq, "all_reduce"));
    if (op == S1C_RED_AVG) scale_avg(buf, count, dt, c->size);
    return S1C_OK;
}

static s1c_status m_broadcast(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, int root) {
    MPI_Datatype t, made;
    int n = 0;
    S1C_TRY(mpi_count(count, dt, &t, &n, &made, "broadcast"));
    MPI_Request rq;
    int rc = MPI_Ibcast(buf, n, t, root, world(c), &rq);
    free_type(&made);
    return rc == MPI_SUCCESS ? wait_all(c, 1, &rq, "broadcast") : mpi_fail(rc, "broadcast");
}

static s1c_status m_barrier(s1c_comm *c) {
    MPI_Request rq;
    int rc = MPI_Ibarrier(world(c), &rq);
    return rc == MPI_SUCCESS ? wait_all(c, 1, &rq, "barrier") : mpi_fail(rc, "barrier");
}

// Receives posted first, then sends, then one wait for all: no ordering between peers can
// deadlock, and MPI's non-overtaking rule matches messages of one pair in listed order.
static s1c_status m_sendrecv(s1c_comm *c, const s1c_comm_msg *sends, int n_sends, const s1c_comm_msg *recvs,
                             int n_recvs, s1c_comm_dtype dt) {
    enum { TAG = 1414 };
    const int n = n_sends + n_recvs;
    if (n == 0) return S1C_OK;
    MPI_Request *rq = s1c_xmalloc((size_t)n * sizeof *rq);
    int posted = 0, rc = MPI_SUCCESS;
    s1c_status st = S1C_OK;
    for (int i = 0; i < n && st == S1C_OK; i++) {
        const s1c_comm_msg *m = i < n_recvs ? &recvs[i] : &sends[i - n_recvs];
        if (m->peer < 0 || m->peer >= c->size || m->peer == c->rank)
            st = s1c_err("MPI sendrecv: peer %d of rank %d outside 0..%d (or itself)", m->peer, c->rank, c->size - 1);
        else if (m->count > (size_t)INT32_MAX)
            st = s1c_err("MPI sendrecv: %zu elements exceed the int count limit", m->count);
        else if (i < n_recvs)
            rc = MPI_Irecv(m->buf, (int)m->count, mpi_type(dt), m->peer, TAG, world(c), &rq[posted++]);
        else
            rc = MPI_Isend(m->buf, (int)m->count, mpi_type(dt), m->peer, TAG, world(c), &rq[posted++]);
        if (st == S1C_OK && rc != MPI_SUCCESS) st = mpi_fail(rc, "sendrecv (posting)");
    }
    if (st != S1C_OK) {  // cancel what was posted so no request outlives the call
        for (int i = 0; i < posted; i++) {
            MPI_Cancel(&rq[i]);
            MPI_Request_free(&rq[i]);
        }
        free(rq);
        return st;
    }
    st = wait_all(c, posted, rq, "sendrecv");
    free(rq);
    return st;
}

static s1c_comm_req *new_req(const char *what) {
    s1c_comm_req *r = s1c_xcalloc(1, sizeof *r);
    r->req = MPI_REQUEST_NULL;
    r->what = what;
    return r;
}

static s1c_status m_iall_gather(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                s1c_comm_req **req) {
    *req = NULL;
    if (count > (size_t)INT32_MAX) return s1c_err("MPI iall_gather: %zu elements per rank exceed the int limit", count);
    const void *sb = send == (const char *)recv + (size_t)c->rank * count * s1c_comm_dtype_size(dt) ? MPI_IN_PLACE : send;
    s1c_comm_req *r = new_req("iall_gather");
    int rc = MPI_Iallgather(sb, (int)count, mpi_type(dt), recv, (int)count, mpi_type(dt), world(c), &r->req);
    if (rc != MPI_SUCCESS) {
        free(r);
        return mpi_fail(rc, "iall_gather");
    }
    *req = r;
    return S1C_OK;
}

static s1c_status m_ireduce_scatter(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                    s1c_red_op op, s1c_comm_req **req) {
    *req = NULL;
    MPI_Op mop;
    S1C_TRY(red_op(dt, op, &mop, "ireduce_scatter"));
    if (count > (size_t)INT32_MAX) return s1c_err("MPI ireduce_scatter: %zu elements per rank exceed the int limit", count);
    s1c_comm_req *r = new_req("ireduce_scatter");
    int rc = MPI_Ireduce_scatter_block(send, recv, (int)count, mpi_type(dt), mop, world(c), &r->req);
    if (rc != MPI_SUCCESS) {
        free(r);
        return mpi_fail(rc, "ireduce_scatter");
    }
    if (op == S1C_RED_AVG) {
        r->scale_buf = recv;
        r->scale_n = count;
        r->scale_dt = dt;
    }
    *req = r;
    return S1C_OK;
}

static s1c_status m_iall_reduce(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op,
                                s1c_comm_req **req) {
    *req = NULL;
    MPI_Op mop;
    S1C_TRY(red_op(dt, op, &mop, "iall_reduce"));
    if (count > (size_t)INT32_MAX) return s1c_err("MPI iall_reduce: %zu elements exceed the int limit", count);
    s1c_comm_req *r = new_req("iall_reduce");
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)count, mpi_type(dt), mop, world(c), &r->req);
    if (rc != MPI_SUCCESS) {
        free(r);
        return mpi_fail(rc, "iall_reduce");
    }
    if (op == S1C_RED_AVG) {
        r->scale_buf = buf;
        r->scale_n = count;
        r->scale_dt = dt;
    }
    *req = r;
    return S1C_OK;
}

static s1c_status m_wait(s1c_comm *c, s1c_comm_req *r) {
    if (!r) return S1C_OK;
    s1c_status st = wait_all(c, 1, &r->req, r->what);
    if (st == S1C_OK && r->scale_buf) scale_avg(r->scale_buf, r->scale_n, r->scale_dt, c->size);
    free(r);  // after a timeout the job is aborted; the request is left to MPI_Abort
    return st;
}

static s1c_status m_test(s1c_comm *c, s1c_comm_req *r, int *done) {
    *done = 1;
    if (!r) return S1C_OK;
    int rc = MPI_Test(&r->req, done, MPI_STATUS_IGNORE);
    // A completed request reads MPI_REQUEST_NULL afterwards, which MPI_Wait accepts.
    return rc == MPI_SUCCESS ? S1C_OK : mpi_fail(rc, r->what);
}

static void m_destroy(s1c_comm *c) {
    if (!c) return;
    mpi_impl *im = c->impl;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Comm_free(&im->comm);
    free(im);
    free(c);
}

static s1c_comm *wrap(MPI_Comm comm);

// MPI_Comm_split of this communicator: the group's own MPI_Comm, its own rank and size.
static s1c_comm *m_split(s1c_comm *c, int color, int key) {
    MPI_Comm sub;
    int rc = MPI_Comm_split(world(c), color, key, &sub);
    if (rc != MPI_SUCCESS) {
        mpi_fail(rc, "Comm_split");
        return NULL;
    }
    s1c_comm *g = wrap(sub);
    g->timeout_s = c->timeout_s;
    return g;
}

s1c_comm *s1c_comm_mpi_create(const s1c_dist *d) {
    (void)d;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        s1c_err("collective backend \"mpi\": MPI is not initialised (call s1c_dist_init first)");
        return NULL;
    }
    MPI_Comm dup;
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    if (rc != MPI_SUCCESS) {
        mpi_fail(rc, "Comm_dup");
        return NULL;
    }
    return wrap(dup);
}

// The table over an MPI communicator this object then owns (freed by destroy).
static s1c_comm *wrap(MPI_Comm comm) {
    mpi_impl *im = s1c_xcalloc(1, sizeof *im);
    im->comm = comm;
    MPI_Comm_set_errhandler(im->comm, MPI_ERRORS_RETURN);
    s1c_comm *c = s1c_xcalloc(1, sizeof *c);
    c->backend = "mpi";
    MPI_Comm_rank(comm, &c->rank);
    MPI_Comm_size(comm, &c->size);
    c->device_buffers = 0;
    c->impl = im;
    c->all_gather = m_all_gather;
    c->reduce_scatter = m_reduce_scatter;
    c->all_reduce = m_all_reduce;
    c->broadcast = m_broadcast;
    c->barrier = m_barrier;
    c->sendrecv = m_sendrecv;
    c->iall_gather = m_iall_gather;
    c->ireduce_scatter = m_ireduce_scatter;
    c->iall_reduce = m_iall_reduce;
    c->wait = m_wait;
    c->test = m_test;
    c->destroy = m_destroy;
    c->split = m_split;
    return c;
}
