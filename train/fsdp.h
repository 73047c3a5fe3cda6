// fsdp.h — ZeRO-3 sharded data parallelism over the model's units (model/qwen2.h).
//
// Each unit's flat parameter buffer is padded to a multiple of the world size (shard.h); this rank
// keeps only its slice of the fp32 master weights, the fp32 gradient and the AdamW moments. A
// step's forward/backward all-gathers each unit into a working slot just before use (the next
// unit's gather is started before the current unit computes) and lets it go after; gradients of
// a unit are reduce-scattered (averaged over ranks) right after its backward and added into the
// slice, once per micro-batch. With tied embeddings, unit 0 is gathered again for the LM head and
// its gradient buffer collects both the LM-head part and the embedding part before it is reduced.
//
// Every rank must call these functions in the same order with the same number of micro-batches
// (an empty micro-batch, NULL, still takes part in every collective with zero gradients).
#ifndef S1C_FSDP_H
#define S1C_FSDP_H

#include <stddef.h>

#include "qwen2.h"
#include "s1c_mpi.h"
#include "shard.h"

typedef struct {
    s1c_shard_geom g;
    float *master;     // [shard] fp32 master weights (backend memory)
    void *master_act;  // [shard] act dtype copy that is gathered (== master when act is fp32)
    float *grad;       // [shard] fp32, averaged over ranks, accumulated over micro-batches
    float *m, *v;      // [shard] AdamW moments
    int n_seg;
    s1c_shard_seg *seg;  // decay classes of the slice
} s1c_fsdp_unit;

typedef struct s1c_fsdp s1c_fsdp;

// max_T: most tokens in one micro-batch. Allocates the slices (zeros), slots and activations:
// one allocation per category, checked against the free memory first (s1c_fsdp_mem below).
s1c_fsdp *s1c_fsdp_create(s1c_backend *be, s1c_comm *comm, const s1c_qwen2_config *cfg, int max_T, int recompute);

typedef struct {
    int max_T;        // most tokens in one micro-batch on this rank
    int max_ctx;      // most context rows of a micro-batch (context parallelism, train/cp.h); 0: none
    int recompute;
    // Gradients reduce-scattered as bf16 (train.reduce_dtype bf16): the full-unit fp32 gradient
    // is rounded to bf16 once, reduced and averaged in bf16 (NCCL), widened and added into the
    // fp32 slice; master weights and moments stay fp32. Needs a bf16 backend. Halves that traffic.
    int reduce_bf16;
    // train.offload_optimizer: each unit's fp32 master and AdamW m, v slices live in host memory
    // (s1c_fsdp_unit's master, m, v point there). The device keeps the act-dtype weight slice that
    // is gathered (a separate fp32 one on fp32 backends) and the fp32 gradient slice; at the step
    // the gradient slice is copied to the host, s1c_host_adamw updates the host shard, and the new
    // weight slice is copied back. Same arithmetic as the device step: bit-identical results.
    int offload_optimizer;
} s1c_fsdp_opts;
s1c_fsdp *s1c_fsdp_create_opts(s1c_backend *be, s1c_comm *comm, const s1c_qwen2_config *cfg, const s1c_fsdp_opts *o);
void s1c_fsdp_free(s1c_fsdp *f);
// With offload_optimizer: 1 when the step's staging buffers are page-locked (the copies overlap
// the host AdamW), 0 when they are plain memory (host-memory backends, or pinning failed).
int s1c_fsdp_offload_pinned(const s1c_fsdp *f);

const s1c_qwen2_layout *s1c_fsdp_layout(const s1c_fsdp *f);
int s1c_fsdp_n_units(const s1c_fsdp *f);
s1c_fsdp_unit *s1c_fsdp_unit_at(s1c_fsdp *f, int u);
// Bytes this rank holds for sharded state, and for the working set (slots + gradient buffers).
size_t s1c_fsdp_state_bytes(const s1c_fsdp *f);
size_t s1c_fsdp_working_bytes(const s1c_fsdp *f);

// Device memory per rank, by category. s1c_fsdp_create makes ONE backend allocation per category
// (sharded state, working set, activations; kernels/arena.h), sized before anything is
// allocated; when the backend reports free memory (be->mem_info) and the sum exceeds it, create
// fails with one message listing the categories, the total, the free memory and the shortfall.
// Every sub-buffer is rounded up to S1C_ARENA_ALIGN bytes; the lines include that rounding and
// add up exactly to their category.
typedef struct {
    // sharded state: this rank's slices of every unit
    size_t master;    // fp32 master weights
    size_t act_copy;  // act-dtype copy gathered from (0 when act is fp32: the master is gathered)
    size_t grad;      // fp32 gradients
    size_t adam;      // AdamW m + v
    // working set
    size_t gathered;      // the three gather slots (one large, two block-sized), act dtype
    size_t grad_buffers;  // full-unit fp32 gradient buffers and their reduced slices
    size_t scalars;       // loss and norm scalars
    // activations and backward scratch (model/qwen2_acts.c, s1c_qwen2_acts_bytes)
    size_t acts;
    size_t state, working, total;  // master..adam, gathered..scalars, all three
    // offload_optimizer: host memory (master, m, v slices and the step's two staging slices);
    // master and adam above are then 0, act_copy holds the device weight slice. Not in total.
    size_t host;
} s1c_fsdp_mem;

// What s1c_fsdp_create(cfg, world ranks, backend of act_dtype, max_T, recompute) allocates per rank,
// computed by the same layout code without allocating (the --plan calculator uses it).
s1c_status s1c_fsdp_mem_plan(const s1c_qwen2_config *cfg, int world, s1c_dtype act_dtype, int max_T, int recompute,
                             s1c_fsdp_mem *m);
// The same for s1c_fsdp_create_opts.
s1c_status s1c_fsdp_mem_plan_opts(const s1c_qwen2_config *cfg, int world, s1c_dtype act_dtype, const s1c_fsdp_opts *o,
                                  s1c_fsdp_mem *m);
// What f allocated.
void s1c_fsdp_mem_of(const s1c_fsdp *f, s1c_fsdp_mem *m);

// Fills the master slices from whole fp32 units held by `root` (units_f32 ignored elsewhere),
// one unit broadcast at a time. Moments are zeroed.
s1c_status s1c_fsdp_set_weights(s1c_fsdp *f, float *const *units_f32, int root);
// Refreshes the act-dtype copies after the master slices were written directly (checkpoint load).
void s1c_fsdp_sync_act(s1c_fsdp *f);
// Gathers unit u's fp32 master weights into full[numel] (host memory) on every rank.
s1c_status s1c_fsdp_gather_master(s1c_fsdp *f, int u, float *full);

void s1c_fsdp_zero_grad(s1c_fsdp *f);
// Forward + backward of n_micro micro-batches (micro[i] == NULL: nothing to compute here).
// *loss_sum receives this rank's sum of weighted losses over its micro-batches.
s1c_status s1c_fsdp_forward_backward(s1c_fsdp *f, s1c_batch *const *micro, int n_micro, double *loss_sum);
// Global gradient norm over every rank's slices (one all-reduce of a scalar).
s1c_status s1c_fsdp_grad_norm(s1c_fsdp *f, double *norm);
// AdamW on this rank's slices; decay only on parameters whose layout says decay; step counts from 1.
void s1c_fsdp_adamw(s1c_fsdp *f, float lr, float beta1, float beta2, float eps, float weight_decay,
                    float grad_scale, int step);
// Host <-> backend copies of n fp32 elements (checkpoint I/O). A unit's master, m or v pointer
// may be host memory (offload_optimizer): these copy it with memcpy then.
void s1c_fsdp_copy_d2h(s1c_fsdp *f, float *host, const float *dev, size_t n);
void s1c_fsdp_copy_h2d(s1c_fsdp *f, float *dev, const float *host, size_t n);
// Forward only; when logits != NULL (host, [b->T, V] fp32) they are written too. loss: weighted sum.
s1c_status s1c_fsdp_forward(s1c_fsdp *f, const s1c_batch *b, double *loss, float *logits);

#endif
