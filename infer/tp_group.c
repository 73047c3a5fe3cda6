// tp_group.c — see tp_group.h.
#include "tp_group.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

// This rank's place on its node from the launcher's environment (Open MPI or Slurm), so no
// collective call is needed; 0 when it says nothing (local rank 0 of 1).
static s1c_dist local_dist(int rank, int size, int *known) {
    const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK"), *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!lr) lr = getenv("SLURM_LOCALID");
    s1c_dist d = {.rank = rank, .size = size, .local_rank = lr ? atoi(lr) : 0};
    d.local_size = ls ? atoi(ls) : d.local_rank + 1;
    *known = lr != NULL;
    return d;
}

int s1c_infer_gpu_for_rank(int rank, int size) {
    int known = 0;
    s1c_dist d = local_dist(rank, size, &known);
    if (!known || d.local_rank < 0 || d.local_size <= d.local_rank) return 0;
    return s1c_dist_gpu(&d);
}

// The model's collectives: the device communicator for backend memory when there is one, the
// host one otherwise.
static s1c_comm *act_comm(s1c_infer_tp *t) { return t->dev ? t->dev : t->host; }
static s1c_status tp_all_reduce_sum(void *ctx, void *buf, size_t count) {
    s1c_infer_tp *t = ctx;
    s1c_comm *k = act_comm(t);
    return k->all_reduce(k, buf, count, t->be && t->be->act_dtype == S1C_BF16 ? S1C_COMM_BF16 : S1C_COMM_F32,
                         S1C_RED_SUM);
}
static s1c_status tp_all_gather_f32(void *ctx, float *recv, const float *send, size_t count) {
    s1c_comm *k = act_comm(ctx);
    return k->all_gather(k, recv, send, count, S1C_COMM_F32);
}
static s1c_status tp_min_i64(void *ctx, int64_t *v, int n) {
    s1c_comm *k = ((s1c_infer_tp *)ctx)->host;
    return k->all_reduce(k, v, (size_t)n, S1C_COMM_I64, S1C_RED_MIN);
}

s1c_status s1c_infer_tp_init(s1c_infer_tp *t, int tp, int rank, int size) {
    memset(t, 0, sizeof *t);
    t->tp = tp > 0 ? tp : 1;
    t->group = rank;
    t->n_groups = size;
    if (t->tp == 1) return S1C_OK;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited || size % t->tp)
        return s1c_err("--tp %d: needs a multiple of %d ranks under mpirun (this job has %d)", t->tp, t->tp, size);
    t->tp_rank = rank % t->tp;
    t->group = rank / t->tp;
    t->n_groups = size / t->tp;
    s1c_dist d = {.rank = rank, .size = size};
    s1c_comm *world = s1c_comm_create(&d, "mpi");
    if (!world) return S1C_ERR;
    t->host = s1c_comm_split(world, t->group, rank);
    s1c_comm_destroy(world);
    if (!t->host) return s1c_err_prefix("--tp %d", t->tp);
    t->hooks = (s1c_tp_group){.ctx = t, .rank = t->tp_rank, .size = t->tp, .all_reduce_sum = tp_all_reduce_sum,
                              .all_gather_f32 = tp_all_gather_f32, .min_i64 = tp_min_i64};
    return S1C_OK;
}

s1c_status s1c_infer_tp_device(s1c_infer_tp *t, const s1c_backend *be, int rank, int size) {
    t->be = be;
    if (t->tp == 1 || !be->device_memory) return S1C_OK;
    int known = 0;
    const s1c_dist d = local_dist(rank, size, &known);
    s1c_comm *world = s1c_comm_create(&d, "nccl");
    if (!world) return s1c_err_prefix("--tp %d", t->tp);
    if (t->tp == size) {
        t->dev = world;
    } else {  // the world communicator only lives to be split (the group does not share it)
        t->dev = s1c_comm_split(world, t->group, rank);
        s1c_comm_destroy(world);
        if (!t->dev) return s1c_err_prefix("--tp %d", t->tp);
    }
    if (t->dev->set_stream && be->stream) return t->dev->set_stream(t->dev, be->stream((s1c_backend *)be));
    return S1C_OK;
}

const s1c_tp_group *s1c_infer_tp_hooks(const s1c_infer_tp *t) { return t->tp > 1 ? &t->hooks : NULL; }

void s1c_infer_tp_free(s1c_infer_tp *t) {
    s1c_comm_destroy(t->dev);
    s1c_comm_destroy(t->host);
    t->dev = t->host = NULL;
}
