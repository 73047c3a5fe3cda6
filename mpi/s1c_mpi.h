// s1c_mpi.h — the distributed runtime: process bootstrap and one collective interface.
//
// Bootstrap: s1c_dist_init works under mpirun, srun or a plain single process (MPI singleton).
// The local rank (rank among the processes on the same node, from MPI_Comm_split_type SHARED)
// is what later selects the GPU.
//
// Collectives: an s1c_comm is a table of operations over one group of ranks, for one kind of
// buffer. Backend "mpi" works on host buffers. A backend for device buffers ("nccl", its
// communicator created from an id broadcast over MPI, mpi/comm_nccl.c) plugs into the same table;
// s1c_comm_create is the one selection point and reports a clear error for a backend that is not
// compiled in.
//
// Conventions:
// - counts are elements of `dt`; all_gather / reduce_scatter counts are PER RANK (the full
//   buffer holds size * count elements, rank r's part at offset r * count).
// - all_gather may run in place: send == recv + rank * count.
// - S1C_RED_AVG is a sum followed by a multiplication by 1/size on the result (floating types
//   only); for power-of-two sizes that scaling is exact.
// - Non-blocking variants return a request; the result is valid only after s1c_comm_wait, which
//   also frees the request. Every request must be waited on exactly once.
#ifndef S1C_MPI_H
#define S1C_MPI_H

#include <stddef.h>

#include "s1c_err.h"

typedef struct {
    int rank, size;              // world
    int local_rank, local_size;  // within this node
    int initialized_here;        // 1 when s1c_dist_init called MPI_Init (and finalize must undo it)
} s1c_dist;

s1c_status s1c_dist_init(int *argc, char ***argv, s1c_dist *d);
void s1c_dist_finalize(s1c_dist *d);
// Terminates every rank of the job with `code` (MPI_Abort): for a rank that cannot go on.
S1C_NORETURN void s1c_dist_abort(int code);

typedef enum {
    S1C_COMM_F32 = 0,
    S1C_COMM_F64 = 1,
    S1C_COMM_BF16 = 2,  // 16-bit words; reductions (sum, avg) add pairs in fp32 and round to bf16
    S1C_COMM_I32 = 3,
    S1C_COMM_I64 = 4,
    S1C_COMM_U8 = 5,
} s1c_comm_dtype;
size_t s1c_comm_dtype_size(s1c_comm_dtype dt);

typedef enum { S1C_RED_SUM = 0, S1C_RED_AVG = 1, S1C_RED_MAX = 2, S1C_RED_MIN = 3 } s1c_red_op;

typedef struct s1c_comm s1c_comm;
typedef struct s1c_comm_req s1c_comm_req;

// One point-to-point transfer of a group (s1c_comm.sendrecv).
typedef struct {
    int peer;      // the other rank
    void *buf;     // count elements of the group's dtype: read by a send, written by a receive
    size_t count;
} s1c_comm_msg;

struct s1c_comm {
    const char *backend;  // "mpi" or "nccl"
    int rank, size;
    int device_buffers;   // 0: buffers are host memory; 1: device memory (NCCL)
    void *impl;

    s1c_status (*all_gather)(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt);
    s1c_status (*reduce_scatter)(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                 s1c_red_op op);
    s1c_status (*all_reduce)(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op);
    s1c_status (*broadcast)(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, int root);
    s1c_status (*barrier)(s1c_comm *c);
    // Point-to-point transfers as one group (context parallelism's K/V exchange): sends[i] goes
    // to sends[i].peer, recvs[j] comes from recvs[j].peer; messages between two ranks match in
    // the order each side lists them. Only ranks with something to move take part (no other
    // rank waits); an empty group returns at once. Blocking, with the ordering of the other
    // blocking calls (device communicators: stream-ordered, see set_stream).
    s1c_status (*sendrecv)(s1c_comm *c, const s1c_comm_msg *sends, int n_sends, const s1c_comm_msg *recvs,
                           int n_recvs, s1c_comm_dtype dt);

    // Non-blocking: *req receives the handle (NULL on failure, with an s1c_err message).
    s1c_status (*iall_gather)(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                              s1c_comm_req **req);
    s1c_status (*ireduce_scatter)(s1c_comm *c, void *recv, const void *send, size_t count, s1c_comm_dtype dt,
                                  s1c_red_op op, s1c_comm_req **req);
    s1c_status (*iall_reduce)(s1c_comm *c, void *buf, size_t count, s1c_comm_dtype dt, s1c_red_op op,
                              s1c_comm_req **req);
    // Completes and frees req (NULL is a no-op).
    s1c_status (*wait)(s1c_comm *c, s1c_comm_req *req);
    // *done = 1 when req has completed (it must still be waited on); lets MPI progress.
    s1c_status (*test)(s1c_comm *c, s1c_comm_req *req, int *done);

    void (*destroy)(s1c_comm *c);

    // Device communicators only (NULL on host backends). Attaches the compute stream (a
    // cudaStream_t, e.g. the kernel backend's be->stream(be)) the collectives are ordered
    // against: each collective starts after the work already enqueued on that stream, and a
    // blocking call or wait() makes later work on that stream see the result, without host
    // synchronisation (the host must synchronise the compute stream before it reads the data).
    // With no stream attached, blocking calls and wait() synchronise the host instead. Only while
    // no request is in flight.
    s1c_status (*set_stream)(s1c_comm *c, void *stream);

    // Stall detection (issue 13 §4): a blocking call or wait() that has not completed after
    // timeout_s seconds (0: never) fails with a message naming the collective and sets timed_out;
    // the caller must then abort the job (the peers are stuck in it). NCCL also aborts its
    // communicator (ncclCommAbort) so that no kernel keeps waiting on the device.
    double timeout_s;
    int timed_out;

    // A communicator over the ranks of this one that pass the same `color` (every rank of this
    // one must call it, collectively), ordered by `key` then by rank here: tensor-parallel groups
    // inside a data-parallel job. MPI: MPI_Comm_split; NCCL: ncclCommSplit (with the matching MPI
    // communicator for its set-up). NULL with a message on failure.
    s1c_comm *(*split)(s1c_comm *c, int color, int key);
};

// The exit status of a process whose NCCL watchdog found a collective past timeout_s (it ends the
// process itself: the host thread may be blocked in a device synchronisation); s1c-train's
// S1C_TRAIN_EXIT_TIMEOUT is the same number.
#define S1C_COMM_TIMEOUT_EXIT 5

// backend: "mpi" (host buffers, MPI_COMM_WORLD). "nccl" (device buffers, every rank of the world,
// on GPU s1c_dist_gpu(d); collective: every rank must call it) exists in builds with CUDA; in
// others, or without a usable GPU, it returns NULL with a message.
s1c_comm *s1c_comm_create(const s1c_dist *d, const char *backend);

// The GPU this rank should use: its local rank when the node shows at least local_size GPUs;
// 0 when it shows exactly one (one GPU per process, e.g. CUDA_VISIBLE_DEVICES set per rank);
// local rank modulo the count otherwise. Without CUDA in the build: the local rank.
int s1c_dist_gpu(const s1c_dist *d);
// 1 when this process was started by an MPI launcher (Open MPI's mpirun, or a PMI / PMIx one such
// as srun --mpi=pmix), from its environment, before MPI_Init: tools decide whether to initialise MPI.
int s1c_dist_launched(void);
void s1c_comm_destroy(s1c_comm *c);
// c->split, or NULL with a message naming the backend when it has none.
s1c_comm *s1c_comm_split(s1c_comm *c, int color, int key);

#endif
