// tp_group.h — one tensor-parallel group of an inference job: the communicators the model's
// collectives run on and the hook table (qwen2.h s1c_tp_group) the model calls, shared by
// `s1c-infer eval|sweep --tp` (data parallel over groups) and `s1c-infer serve --tp` (one group).
//
// Groups are tp consecutive world ranks: world rank = group * tp + tp_rank. The host
// communicator (MPI) carries the model's host decisions (min_i64) and, on backends with host
// memory, its activations; on device-memory backends the activations go through NCCL (the job's
// NCCL communicator split into the groups, ncclCommSplit, when there is more than one group).
#ifndef S1C_INFER_TP_GROUP_H
#define S1C_INFER_TP_GROUP_H

#include "qwen2.h"
#include "s1c_mpi.h"

typedef struct {
    int tp, tp_rank;      // the group's size and this rank's place in it (tp 1: no group)
    int group, n_groups;  // which group, of how many
    s1c_comm *host, *dev; // the group: host (MPI) and, for device buffers, NCCL (NULL: none)
    const s1c_backend *be;  // set by s1c_infer_tp_device: the activations' dtype
    s1c_tp_group hooks;   // what the model calls; hooks.ctx is this struct (do not copy it)
} s1c_infer_tp;

// Splits the world (rank of size, MPI initialised when tp > 1) into groups of tp. Errors name
// the flag: "--tp N: needs a multiple of N ranks under mpirun (this job has M)".
s1c_status s1c_infer_tp_init(s1c_infer_tp *t, int tp, int rank, int size);
// After the backend exists: the device communicator when its memory is device memory.
s1c_status s1c_infer_tp_device(s1c_infer_tp *t, const s1c_backend *be, int rank, int size);
// The hooks for s1c_qwen2_model_load_tp (NULL when tp is 1).
const s1c_tp_group *s1c_infer_tp_hooks(const s1c_infer_tp *t);
void s1c_infer_tp_free(s1c_infer_tp *t);

// One GPU per rank on a node: the launcher's node-local rank (Open MPI or Slurm environment, so
// no collective call is needed) through s1c_dist_gpu; 0 when not launched so.
int s1c_infer_gpu_for_rank(int rank, int size);

#endif
