// checkpoint.h — sharded training state on disk.
//
// OUT/checkpoints/step-NNNNNNNN/
//   rank-RRRRR.bin  one per rank: header (magic "S1CSHRD1", version 2, world, rank, n_units, step,
//                   run id, per unit numel/padded/shard/CRC-32C of its data as uint64, then the
//                   header's own CRC-32C) then, per unit, the rank's slice of the fp32 master
//                   weights, AdamW m and v (shard floats each), little-endian. On load every field
//                   is range-checked (no product that could wrap), the file size must match, and
//                   each shard's data is checked against its CRCs (by one rank each) before use.
//   meta.json       step, world size, data position and sampler RNG state, loss, run id
//   COMPLETE        written last by rank 0 after every rank's file is in place
// Every file is written under a temporary name and renamed; a directory without COMPLETE is an
// interrupted save and is never resumed from. Resuming with a different number of ranks
// re-slices the saved shards (the unpadded parameters are the same).
#ifndef S1C_CHECKPOINT_H
#define S1C_CHECKPOINT_H

#include <stdint.h>

#include "fsdp.h"
#include "s1c_mpi.h"

typedef struct {
    long step;          // optimizer steps completed
    long total_steps;
    int epoch;          // epoch of the next step
    long samples_seen;  // samples consumed by the completed steps
    uint64_t seed;      // sampler seed: the per-epoch permutations derive from (seed, epoch)
    double loss;        // loss of the last step
    int world;
    uint64_t run_id;    // the run's line of checkpoints (train/rundir.h); 0 in checkpoints without one
} s1c_ckpt_meta;

// Collective. Writes the checkpoint of meta->step under out_dir; keep_last > 0 then removes (rank
// 0) complete checkpoints of meta->run_id beyond that many, never the one just written, and
// never another run's.
s1c_status s1c_ckpt_save(s1c_fsdp *f, s1c_comm *c, const char *out_dir, const s1c_ckpt_meta *meta, int keep_last);
// Rank-local: the newest complete checkpoint directory under out_dir of run run_id (any run when
// 0); *step = -1 when none. *other_step receives the newest complete step of another run (-1 when
// none) so that the caller can say what it passed over. dir must hold 4096 bytes.
s1c_status s1c_ckpt_find_latest(const char *out_dir, uint64_t run_id, char *dir, long *step, long *other_step);
// Collective. Loads a complete checkpoint directory into f and meta.
s1c_status s1c_ckpt_load(s1c_fsdp *f, s1c_comm *c, const char *dir, s1c_ckpt_meta *meta);

#endif
