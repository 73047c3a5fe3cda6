// The ZeRO-3 engine: sharded state, gather slots with one-op-ahead prefetch, per-unit
// reduce-scatter of gradients, global-norm and AdamW on the local slices.
#include "fsdp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "host_adamw.h"

// Working slots for gathered units. An op needs at most two units (the LM head with tied
// embeddings: head + unit 0) and the next op's units are prefetched while it runs: three suffice.
// Of the units an op and its successor need, at most one is "large" (the embedding, or the
// untied head: V x C, bigger than a block) and at most two are "small" (blocks, the tied head's
// norm), so slot 0 is sized for the largest unit and slots 1 and 2 for the largest small one.
#define N_SLOTS 3

typedef struct {
    void *buf;  // [cap] act dtype
    size_t cap; // elements
    int unit;   // -1: empty
    s1c_comm_req *req;  // gather in flight
} slot_t;

// A full-size gradient buffer of one unit and its reduce-scatter in flight.
typedef struct {
    float *full;  // [padded] fp32
    float *tmp;   // [shard] fp32: the reduced slice before it is added into the unit's gradient
    void *full16, *tmp16;  // [padded], [shard] bf16: what travels with reduce_bf16 (else NULL)
    size_t cap;   // elements of full
    int unit;
    s1c_comm_req *req;
} gbuf_t;

struct s1c_fsdp {
    s1c_backend *be;
    s1c_comm *comm;
    s1c_qwen2_config cfg;
    s1c_qwen2_layout *lay;
    int W, rank, n_units, head;
    s1c_fsdp_unit *u;
    size_t asz, max_padded, max_shard;
    s1c_comm_dtype gdt;  // dtype moved by the gathers (act dtype)
    slot_t slot[N_SLOTS];
    gbuf_t gemb;     // tied only: unit 0's gradient, from the LM head to the embedding backward
    gbuf_t grot[2];  // rotating buffers for the head and the blocks; untied, [0] also fits the large units
    int next_rot;
    s1c_qwen2_acts *acts;
    s1c_dtype act_dtype;
    s1c_arena state_mem;  // one allocation: master, act copy, grad, m, v slices of every unit
    s1c_arena work_mem;   // one allocation: slots, gradient buffers, scalars
    s1c_fsdp_mem mem;     // what the two arenas and the activations hold
    float *loss_dev;    // backend fp32 scalar
    float *scalar_dev;  // backend fp32 scalar (norms)
    int max_T, max_ctx;
    int reduce_bf16;    // gradients travel as bf16 (s1c_fsdp_opts)
    // train.offload_optimizer: master, m, v slices of every unit in one host allocation
    // [host_bytes] (the units point into it); the reduced gradient slices and the new weight
    // slices pass through two pairs of staging buffers, host_grad[b] [max_shard] fp32 and
    // host_out[b] [max_shard] act dtype, in one page-locked allocation where the backend has one
    // (host_stage): unit i+1's gradient copy and unit i-1's weight copy run while the host steps
    // unit i (adamw_offload).
    int offload;
    char *host_state;
    size_t host_bytes;
    void *host_stage;
    int host_stage_pinned;
    float *host_grad[2];
    void *host_out[2];
};

enum { OP_EMB_FWD, OP_BLK_FWD, OP_HEAD, OP_BLK_BWD, OP_EMB_BWD };
typedef struct {
    int kind, layer, micro;
} op_t;

static int op_needs(const s1c_fsdp *f, const op_t *op, int *units) {
    switch (op->kind) {
        case OP_EMB_FWD: units[0] = 0; return 1;
        case OP_BLK_FWD:
        case OP_BLK_BWD: units[0] = s1c_qwen2_unit_block(op->layer); return 1;
        case OP_HEAD:
            units[0] = f->head;
            if (f->cfg.tie_word_embeddings) {
                units[1] = 0;
                return 2;
            }
            return 1;
        default: return 0;  // the embedding backward needs no parameters
    }
}

// Sizes of the units, slots and gradient buffers (no memory yet): everything the layout of the
// two categories below depends on. Returns S1C_ERR when the layout cannot be built.
static s1c_status init_geometry(s1c_fsdp *f, const s1c_qwen2_config *cfg, int world, s1c_dtype act_dtype) {
    f->cfg = *cfg;
    f->W = world;
    f->lay = s1c_qwen2_layout_create(cfg);
    if (!f->lay) return S1C_ERR;
    f->n_units = f->lay->n_units;
    f->head = s1c_qwen2_unit_head(cfg);
    f->act_dtype = act_dtype;
    f->asz = s1c_dtype_size(act_dtype);
    f->gdt = act_dtype == S1C_F32 ? S1C_COMM_F32 : S1C_COMM_BF16;
    f->u = s1c_xcalloc((size_t)f->n_units, sizeof(s1c_fsdp_unit));
    size_t max_other = 0;
    for (int i = 0; i < f->n_units; i++) {
        s1c_fsdp_unit *x = &f->u[i];
        x->g = s1c_shard_geometry(f->lay->units[i].numel, f->W);
        if (x->g.padded > f->max_padded) f->max_padded = x->g.padded;
        if (x->g.shard > f->max_shard) f->max_shard = x->g.shard;
        if (i != 0 && (i != f->head || cfg->tie_word_embeddings) && x->g.padded > max_other)
            max_other = x->g.padded;
    }
    if (max_other == 0) max_other = f->max_padded;  // no blocks: every unit is a large one
    for (int s = 0; s < N_SLOTS; s++) {
        f->slot[s].cap = s == 0 ? f->max_padded : max_other;
        f->slot[s].unit = -1;
    }
    // Tied: unit 0's gradient must live from the LM head to the embedding backward, in its own
    // buffer. Untied: it is only written by the embedding backward, so a rotating buffer serves;
    // the head and the embedding then take grot[0] (sized for them), the blocks alternate.
    f->gemb.unit = -1;
    if (cfg->tie_word_embeddings) f->gemb.cap = f->u[0].g.padded;
    for (int k = 0; k < 2; k++) {
        f->grot[k].cap = k == 0 && !cfg->tie_word_embeddings ? f->max_padded : max_other;
        f->grot[k].unit = -1;
    }
    return S1C_OK;
}

// Sharded state, one category: all fp32 master slices, then the act-dtype copies (bf16
// backends), the gradient slices, m, v. Line by line so the plan can print each.
static void carve_state(s1c_fsdp *f, s1c_arena *a, s1c_fsdp_mem *m) {
    size_t mark = a->payload;
#define LINE(field)                 \
    m->field += a->payload - mark; \
    mark = a->payload
    // offload: master, m, v are in host memory (carve_host); the device keeps the weight slice
    // that is gathered (its own buffer even when act is fp32) and the gradient slice.
    if (!f->offload)
        for (int i = 0; i < f->n_units; i++) f->u[i].master = s1c_arena_take(a, f->u[i].g.shard * sizeof(float));
    LINE(master);
    for (int i = 0; i < f->n_units; i++)
        f->u[i].master_act = f->act_dtype == S1C_F32 && !f->offload ? (void *)f->u[i].master
                                                                    : s1c_arena_take(a, f->u[i].g.shard * f->asz);
    LINE(act_copy);
    for (int i = 0; i < f->n_units; i++) f->u[i].grad = s1c_arena_take(a, f->u[i].g.shard * sizeof(float));
    LINE(grad);
    if (!f->offload) {
        for (int i = 0; i < f->n_units; i++) f->u[i].m = s1c_arena_take(a, f->u[i].g.shard * sizeof(float));
        for (int i = 0; i < f->n_units; i++) f->u[i].v = s1c_arena_take(a, f->u[i].g.shard * sizeof(float));
    }
    LINE(adam);
}

// Offload: the host side, laid out like the device state (master slices, then m, then v, each
// rounded to S1C_ARENA_ALIGN), then the two step buffers. base == NULL only measures. Returns
// the bytes.
static void *host_take(char *base, size_t *off, size_t bytes) {
    void *p = base ? base + *off : NULL;
    *off += (bytes + S1C_ARENA_ALIGN - 1) / S1C_ARENA_ALIGN * S1C_ARENA_ALIGN;
    return p;
}

static size_t carve_stage(s1c_fsdp *f, char *base);
static size_t carve_host(s1c_fsdp *f, char *base) {
    size_t off = 0;
    for (int i = 0; i < f->n_units; i++) f->u[i].master = host_take(base, &off, f->u[i].g.shard * sizeof(float));
    for (int i = 0; i < f->n_units; i++) f->u[i].m = host_take(base, &off, f->u[i].g.shard * sizeof(float));
    for (int i = 0; i < f->n_units; i++) f->u[i].v = host_take(base, &off, f->u[i].g.shard * sizeof(float));
    return off;
}

// The staging buffers (a separate allocation: page-locked where the backend can). base == NULL
// only measures.
static size_t carve_stage(s1c_fsdp *f, char *base) {
    size_t off = 0;
    for (int b = 0; b < 2; b++) {
        f->host_grad[b] = host_take(base, &off, f->max_shard * sizeof(float));
        f->host_out[b] = host_take(base, &off, f->max_shard * f->asz);
    }
    return off;
}

// Working set, one category: gather slots, full-unit gradient buffers with their reduced slices,
// the loss and norm scalars.
static void carve_working(s1c_fsdp *f, s1c_arena *a, s1c_fsdp_mem *m) {
    size_t mark = a->payload;
    for (int s = 0; s < N_SLOTS; s++) f->slot[s].buf = s1c_arena_take(a, f->slot[s].cap * f->asz);
    LINE(gathered);
    if (f->cfg.tie_word_embeddings) {
        f->gemb.full = s1c_arena_take(a, f->gemb.cap * sizeof(float));
        f->gemb.tmp = s1c_arena_take(a, f->u[0].g.shard * sizeof(float));
    }
    for (int k = 0; k < 2; k++) {
        f->grot[k].full = s1c_arena_take(a, f->grot[k].cap * sizeof(float));
        f->grot[k].tmp = s1c_arena_take(a, f->max_shard * sizeof(float));
    }
    if (f->reduce_bf16) {  // the bf16 copies that travel instead of the fp32 buffers
        if (f->cfg.tie_word_embeddings) {
            f->gemb.full16 = s1c_arena_take(a, f->gemb.cap * f->asz);
            f->gemb.tmp16 = s1c_arena_take(a, f->u[0].g.shard * f->asz);
        }
        for (int k = 0; k < 2; k++) {
            f->grot[k].full16 = s1c_arena_take(a, f->grot[k].cap * f->asz);
            f->grot[k].tmp16 = s1c_arena_take(a, f->max_shard * f->asz);
        }
    }
    LINE(grad_buffers);
    f->loss_dev = s1c_arena_take(a, sizeof(float));
    f->scalar_dev = s1c_arena_take(a, sizeof(float));
    LINE(scalars);
#undef LINE
}

static void mem_totals(s1c_fsdp_mem *m) {
    m->state = m->master + m->act_copy + m->grad + m->adam;
    m->working = m->gathered + m->grad_buffers + m->scalars;
    m->total = m->state + m->working + m->acts;
}

// Host-side parts only (the arenas are freed by the caller when they were allocated).
static void free_host(s1c_fsdp *f) {
    free(f->host_state);
    if (f->host_stage) s1c_backend_host_free(f->be, f->host_stage, f->host_stage_pinned);
    f->host_stage = NULL;
    for (int i = 0; f->u && i < f->n_units; i++) free(f->u[i].seg);
    free(f->u);
    s1c_qwen2_layout_free(f->lay);
}

s1c_status s1c_fsdp_mem_plan(const s1c_qwen2_config *cfg, int world, s1c_dtype act_dtype, int max_T, int recompute,
                             s1c_fsdp_mem *m) {
    const s1c_fsdp_opts o = {.max_T = max_T, .recompute = recompute};
    return s1c_fsdp_mem_plan_opts(cfg, world, act_dtype, &o, m);
}

s1c_status s1c_fsdp_mem_plan_opts(const s1c_qwen2_config *cfg, int world, s1c_dtype act_dtype, const s1c_fsdp_opts *o,
                                  s1c_fsdp_mem *m) {
    memset(m, 0, sizeof *m);
    if (world < 1) return s1c_err("fsdp: %d ranks: need at least one", world);
    s1c_fsdp f = {0};
    f.reduce_bf16 = o->reduce_bf16;
    f.offload = o->offload_optimizer;
    const int max_T = o->max_T, recompute = o->recompute;
    if (init_geometry(&f, cfg, world, act_dtype) != S1C_OK) {
        free_host(&f);
        return S1C_ERR;
    }
    s1c_arena st, wk;
    s1c_arena_init(&st, NULL, "sharded state");
    s1c_arena_init(&wk, NULL, "working set");
    carve_state(&f, &st, m);
    carve_working(&f, &wk, m);
    if (f.offload) m->host = carve_host(&f, NULL) + carve_stage(&f, NULL);
    free_host(&f);
    m->acts = s1c_qwen2_acts_bytes_ctx(cfg, act_dtype, max_T, o->max_ctx, recompute, S1C_QWEN2_MLP_CHUNK);
    if (!m->acts) return S1C_ERR;  // max_T out of range (message set)
    if (st.overflow || wk.overflow || m->acts == SIZE_MAX)
        return s1c_err("fsdp: the memory of this model does not fit in the address space");
    mem_totals(m);
    return S1C_OK;
}

void s1c_fsdp_mem_of(const s1c_fsdp *f, s1c_fsdp_mem *m) { *m = f->mem; }

// "24.6 GB" / "310.4 MB" / "12.0 kB": small test shapes stay readable next to real ones.
static const char *human(char *buf, size_t n, double bytes) {
    if (bytes >= 1e9) snprintf(buf, n, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1e6) snprintf(buf, n, "%.1f MB", bytes / 1e6);
    else snprintf(buf, n, "%.1f kB", bytes / 1e3);
    return buf;
}

// Fails with one message listing every category when their sum exceeds the free memory the
// backend reports; nothing has been allocated yet, so no out-of-memory can happen halfway.
static s1c_status check_fit(const s1c_fsdp *f, const s1c_fsdp_mem *m, int recompute) {
    if (!f->be->mem_info) return S1C_OK;
    size_t free_b = 0, total_b = 0;
    if (f->be->mem_info(f->be, &free_b, &total_b) != S1C_OK) return S1C_OK;  // cannot tell: let alloc decide
    if (m->total <= free_b) return S1C_OK;
    char a[32], b[32], c[32], t[32], fr[32], sh[32];
    return s1c_err("does not fit in %s memory: sharded state %s + working set %s + activations %s = %s > %s free "
                   "(short by %s); try more ranks%s or a smaller train.micro_batch_size",
                   f->be->name, human(a, sizeof a, (double)m->state), human(b, sizeof b, (double)m->working),
                   human(c, sizeof c, (double)m->acts), human(t, sizeof t, (double)m->total),
                   human(fr, sizeof fr, (double)free_b), human(sh, sizeof sh, (double)(m->total - free_b)),
                   recompute ? "" : ", train.recompute true");
}

s1c_fsdp *s1c_fsdp_create(s1c_backend *be, s1c_comm *comm, const s1c_qwen2_config *cfg, int max_T, int recompute) {
    const s1c_fsdp_opts o = {.max_T = max_T, .recompute = recompute};
    return s1c_fsdp_create_opts(be, comm, cfg, &o);
}

s1c_fsdp *s1c_fsdp_create_opts(s1c_backend *be, s1c_comm *comm, const s1c_qwen2_config *cfg, const s1c_fsdp_opts *o) {
    const int on_device = be->device_memory, max_T = o->max_T, recompute = o->recompute;
    if (o->reduce_bf16 && be->act_dtype != S1C_BF16) {
        s1c_err("fsdp: bf16 gradient reduction (train.reduce_dtype bf16) needs a bf16 backend (cuda or cpu-bf16), "
                "not \"%s\"", be->name);
        return NULL;
    }
    if (on_device != comm->device_buffers) {
        s1c_err("fsdp: compute backend \"%s\" and collective backend \"%s\" disagree on where buffers live "
                "(host-memory backends pair with mpi, cuda with nccl)", be->name, comm->backend);
        return NULL;
    }
    // Device collectives run on their own stream; ordering them against the ops' stream with
    // events is what makes a slot safe to refill and a gathered unit safe to read.
    if (on_device && comm->set_stream && be->stream && comm->set_stream(comm, be->stream(be)) != S1C_OK) {
        s1c_err_prefix("fsdp: attaching the compute stream to the \"%s\" communicator", comm->backend);
        return NULL;
    }
    s1c_fsdp *f = s1c_xcalloc(1, sizeof *f);
    f->be = be;
    f->comm = comm;
    f->rank = comm->rank;
    f->max_T = max_T;
    f->max_ctx = o->max_ctx;
    f->reduce_bf16 = o->reduce_bf16;
    f->offload = o->offload_optimizer;
    s1c_arena_init(&f->state_mem, be, "sharded state");
    s1c_arena_init(&f->work_mem, be, "working set");
    if (init_geometry(f, cfg, comm->size, be->act_dtype) != S1C_OK) {
        s1c_fsdp_free(f);
        return NULL;
    }
    for (int i = 0; i < f->n_units; i++) {
        s1c_fsdp_unit *x = &f->u[i];
        x->n_seg = s1c_shard_segments(&f->lay->units[i], x->g, f->rank, NULL, 0);
        x->seg = s1c_xcalloc((size_t)(x->n_seg ? x->n_seg : 1), sizeof(s1c_shard_seg));
        s1c_shard_segments(&f->lay->units[i], x->g, f->rank, x->seg, x->n_seg);
    }
    // measure all three categories, check them together, then one allocation each
    s1c_fsdp_mem measured = {0}, carved = {0};
    carve_state(f, &f->state_mem, &measured);
    carve_working(f, &f->work_mem, &measured);
    measured.acts = s1c_qwen2_acts_bytes_ctx(cfg, be->act_dtype, max_T, o->max_ctx, recompute, S1C_QWEN2_MLP_CHUNK);
    s1c_status st = measured.acts ? S1C_OK : S1C_ERR;
    if (st == S1C_OK && (f->state_mem.overflow || f->work_mem.overflow || measured.acts == SIZE_MAX))
        st = s1c_err("fsdp: the memory of this model does not fit in the address space");
    if (st == S1C_OK) {
        mem_totals(&measured);
        st = check_fit(f, &measured, recompute);
    }
    if (st == S1C_OK && s1c_arena_alloc(&f->state_mem) == S1C_OK) carve_state(f, &f->state_mem, &carved);
    else if (st == S1C_OK) st = S1C_ERR;
    if (st == S1C_OK && s1c_arena_alloc(&f->work_mem) == S1C_OK) carve_working(f, &f->work_mem, &carved);
    else if (st == S1C_OK) st = S1C_ERR;
    if (st == S1C_OK && f->offload) {
        // master, m, v: plain host memory (only the host touches them); the staging buffers that
        // the copies read and write: page-locked where the backend has it.
        f->host_bytes = carve_host(f, NULL);
        const size_t stage = carve_stage(f, NULL);
        measured.host = carved.host = f->host_bytes + stage;
        f->host_state = aligned_alloc(S1C_ARENA_ALIGN, f->host_bytes);
        f->host_stage = f->host_state ? s1c_backend_host_alloc(be, stage, &f->host_stage_pinned) : NULL;
        if (!f->host_state || !f->host_stage)
            st = s1c_err("fsdp: cannot allocate %zu bytes of host memory for the offloaded optimizer state",
                         f->host_bytes + stage);
        else {
            carve_host(f, f->host_state);
            carve_stage(f, f->host_stage);
            if (be->device_memory && !f->host_stage_pinned && f->rank == 0)
                fprintf(stderr, "fsdp: offload: page-locked host memory unavailable (%.1f MiB): the optimizer's "
                        "copies are synchronous\n", (double)stage / (1 << 20));
        }
    }
    if (st == S1C_OK &&
        !(f->acts = s1c_qwen2_acts_create_ctx(be, cfg, max_T, o->max_ctx, recompute, S1C_QWEN2_MLP_CHUNK)))
        st = S1C_ERR;
    if (st != S1C_OK) {
        s1c_err_prefix("fsdp (%.2fB parameters over %d ranks, micro-batches of up to %d tokens)",
                       f->lay ? (double)f->lay->numel / 1e9 : 0.0, f->W, max_T);
        s1c_fsdp_free(f);
        return NULL;
    }
    carved.acts = s1c_qwen2_acts_size(f->acts);
    mem_totals(&carved);
    S1C_ASSERT(memcmp(&carved, &measured, sizeof carved) == 0);
    f->mem = carved;
    return f;
}

void s1c_fsdp_free(s1c_fsdp *f) {
    if (!f) return;
    if (f->acts) s1c_qwen2_acts_free(f->be, f->acts);
    s1c_arena_free(&f->state_mem);
    s1c_arena_free(&f->work_mem);
    free_host(f);
    free(f);
}

const s1c_qwen2_layout *s1c_fsdp_layout(const s1c_fsdp *f) { return f->lay; }
int s1c_fsdp_n_units(const s1c_fsdp *f) { return f->n_units; }
s1c_fsdp_unit *s1c_fsdp_unit_at(s1c_fsdp *f, int u) { return &f->u[u]; }

size_t s1c_fsdp_state_bytes(const s1c_fsdp *f) { return f->mem.state; }
size_t s1c_fsdp_working_bytes(const s1c_fsdp *f) { return f->mem.working; }

// fp32 dst[n] += src[n] on the backend. An fp32-act backend keeps its act add (the CPU path's
// arithmetic never changed); a bf16 backend accumulates with the fp32 add_f32 op.
static void acc_f32(s1c_fsdp *f, float *dst, const float *src, size_t n) {
    if (f->be->act_dtype == S1C_F32) {
        f->be->add_inplace(f->be, dst, src, n);
        return;
    }
    S1C_ASSERT(f->be->add_f32 != NULL);
    f->be->add_f32(f->be, dst, src, n);
}

// A backend fp32 buffer of at least unit u's padded size, free outside a step (device
// communicators move whole units through it): unit 0's own gradient buffer when the head is
// tied (the rotating ones are sized for the other units then), else a rotating one.
static float *staging(s1c_fsdp *f, int u) {
    float *p = u == 0 && f->cfg.tie_word_embeddings ? f->gemb.full : f->grot[0].full;
    S1C_ASSERT((u == 0 && f->cfg.tie_word_embeddings ? f->gemb.cap : f->grot[0].cap) >= f->u[u].g.padded);
    return p;
}

// Offload: is p inside the host state allocation (a unit's master, m or v slice)?
static int in_host_state(const s1c_fsdp *f, const void *p) {
    const char *c = p;
    return f->host_state && c >= f->host_state && c < f->host_state + f->host_bytes;
}

// Copies into a state array (master, m, v) from backend memory / host memory, and zeroes one,
// wherever the array lives.
static void state_from_dev(s1c_fsdp *f, float *dst, const float *src, size_t n) {
    if (in_host_state(f, dst)) f->be->copy_d2h(f->be, dst, src, n * sizeof(float));
    else f->be->copy_d2d(f->be, dst, src, n * sizeof(float));
}
static void state_from_host(s1c_fsdp *f, float *dst, const float *src, size_t n) {
    if (in_host_state(f, dst)) memcpy(dst, src, n * sizeof(float));
    else f->be->copy_h2d(f->be, dst, src, n * sizeof(float));
}
static void state_zero(s1c_fsdp *f, float *dst, size_t n) {
    if (in_host_state(f, dst)) memset(dst, 0, n * sizeof(float));
    else f->be->memset_zero(f->be, dst, n * sizeof(float));
}

// Offload: the device weight slice from the host master. The fp32 slice is narrowed by the
// backend's own f32_to_act (through the free staging buffer), exactly as without offload.
static void sync_act_offload(s1c_fsdp *f) {
    for (int i = 0; i < f->n_units; i++) {
        s1c_fsdp_unit *x = &f->u[i];
        const size_t n = x->g.shard;
        if (f->act_dtype == S1C_F32) {
            f->be->copy_h2d(f->be, x->master_act, x->master, n * sizeof(float));
            continue;
        }
        float *stage = staging(f, i);  // [padded] >= [shard]
        f->be->copy_h2d(f->be, stage, x->master, n * sizeof(float));
        f->be->f32_to_act(f->be, x->master_act, stage, n);
    }
    f->be->synchronize(f->be);
}

void s1c_fsdp_sync_act(s1c_fsdp *f) {
    if (f->offload) {
        sync_act_offload(f);
        return;
    }
    if (f->be->act_dtype == S1C_F32) return;
    for (int i = 0; i < f->n_units; i++) f->be->f32_to_act(f->be, f->u[i].master_act, f->u[i].master, f->u[i].g.shard);
}

s1c_status s1c_fsdp_set_weights(s1c_fsdp *f, float *const *units_f32, int root) {
    s1c_status st = S1C_OK;
    float *tmp = s1c_xmalloc(f->max_padded * sizeof(float));
    for (int i = 0; i < f->n_units && st == S1C_OK; i++) {
        s1c_fsdp_unit *x = &f->u[i];
        memset(tmp, 0, x->g.padded * sizeof(float));
        if (f->rank == root) memcpy(tmp, units_f32[i], x->g.numel * sizeof(float));
        // The unit travels once; each rank keeps its slice.
        if (f->comm->device_buffers) {  // broadcast in device memory, stream-ordered
            float *stage = staging(f, i);  // [padded]
            if (f->rank == root) f->be->copy_h2d(f->be, stage, tmp, x->g.padded * sizeof(float));
            st = f->comm->broadcast(f->comm, stage, x->g.padded, S1C_COMM_F32, root);
            if (st != S1C_OK) break;
            state_from_dev(f, x->master, stage + (size_t)f->rank * x->g.shard, x->g.shard);
        } else {
            st = f->comm->broadcast(f->comm, tmp, x->g.padded, S1C_COMM_F32, root);
            if (st != S1C_OK) break;
            state_from_host(f, x->master, tmp + (size_t)f->rank * x->g.shard, x->g.shard);
        }
        state_zero(f, x->m, x->g.shard);
        state_zero(f, x->v, x->g.shard);
        f->be->memset_zero(f->be, x->grad, x->g.shard * sizeof(float));
    }
    free(tmp);
    if (st != S1C_OK) return s1c_err_prefix("fsdp: distributing the initial weights");
    s1c_fsdp_sync_act(f);
    return S1C_OK;
}

s1c_status s1c_fsdp_gather_master(s1c_fsdp *f, int u, float *full) {
    s1c_fsdp_unit *x = &f->u[u];
    if (f->comm->device_buffers) {
        float *stage = staging(f, u);  // [padded]; this rank's slice at rank * shard
        float *mine = stage + (size_t)f->rank * x->g.shard;
        if (f->offload) f->be->copy_h2d(f->be, mine, x->master, x->g.shard * sizeof(float));
        else f->be->copy_d2d(f->be, mine, x->master, x->g.shard * sizeof(float));
        S1C_TRY(f->comm->all_gather(f->comm, stage, mine, x->g.shard, S1C_COMM_F32));
        f->be->copy_d2h(f->be, full, stage, x->g.numel * sizeof(float));
        return S1C_OK;
    }
    float *tmp = s1c_xmalloc(x->g.padded * sizeof(float));
    if (f->offload) memcpy(tmp + (size_t)f->rank * x->g.shard, x->master, x->g.shard * sizeof(float));
    else f->be->copy_d2h(f->be, tmp + (size_t)f->rank * x->g.shard, x->master, x->g.shard * sizeof(float));
    s1c_status st = f->comm->all_gather(f->comm, tmp, tmp + (size_t)f->rank * x->g.shard, x->g.shard, S1C_COMM_F32);
    if (st == S1C_OK) memcpy(full, tmp, x->g.numel * sizeof(float));
    free(tmp);
    return st;
}

void s1c_fsdp_copy_d2h(s1c_fsdp *f, float *host, const float *dev, size_t n) {
    if (in_host_state(f, dev)) {
        memcpy(host, dev, n * sizeof(float));
        return;
    }
    f->be->copy_d2h(f->be, host, dev, n * sizeof(float));
}

void s1c_fsdp_copy_h2d(s1c_fsdp *f, float *dev, const float *host, size_t n) {
    if (in_host_state(f, dev)) {
        memcpy(dev, host, n * sizeof(float));
        return;
    }
    f->be->copy_h2d(f->be, dev, host, n * sizeof(float));
}

void s1c_fsdp_zero_grad(s1c_fsdp *f) {
    for (int i = 0; i < f->n_units; i++) f->be->memset_zero(f->be, f->u[i].grad, f->u[i].g.shard * sizeof(float));
}

// ---- gather slots ----------------------------------------------------------------------------
static int slot_of(const s1c_fsdp *f, int unit) {
    for (int s = 0; s < N_SLOTS; s++)
        if (f->slot[s].unit == unit) return s;
    return -1;
}

static int in_set(int unit, const int *set, int n) {
    for (int i = 0; i < n; i++)
        if (set[i] == unit) return 1;
    return 0;
}

// Starts gathering `unit` into the smallest slot that fits it and holds nothing in `keep`
// (small units never take the large slot while a small one is free, so it is free when a large
// unit comes).
static s1c_status start_gather(s1c_fsdp *f, int unit, const int *keep, int n_keep) {
    if (slot_of(f, unit) >= 0) return S1C_OK;
    const s1c_fsdp_unit *x = &f->u[unit];
    int s = -1;
    for (int k = 0; k < N_SLOTS; k++)
        if (f->slot[k].cap >= x->g.padded && (f->slot[k].unit < 0 || !in_set(f->slot[k].unit, keep, n_keep)) &&
            (s < 0 || f->slot[k].cap < f->slot[s].cap))
            s = k;
    S1C_ASSERT(s >= 0 && f->slot[s].req == NULL);
    f->slot[s].unit = unit;
    s1c_status st = f->comm->iall_gather(f->comm, f->slot[s].buf, x->master_act, x->g.shard, f->gdt, &f->slot[s].req);
    if (st != S1C_OK) {
        f->slot[s].unit = -1;
        return s1c_err_prefix("fsdp: gathering unit %d", unit);
    }
    return S1C_OK;
}

static s1c_status ready(s1c_fsdp *f, int unit, void **buf) {
    int s = slot_of(f, unit);
    S1C_ASSERT(s >= 0);
    if (f->slot[s].req) {
        s1c_comm_req *r = f->slot[s].req;
        f->slot[s].req = NULL;
        if (f->comm->wait(f->comm, r) != S1C_OK) return s1c_err_prefix("fsdp: gathering unit %d", unit);
    }
    *buf = f->slot[s].buf;
    return S1C_OK;
}

// Forget every gathered copy (weights change at the optimizer step). No gather may be in flight.
static void drop_slots(s1c_fsdp *f) {
    for (int s = 0; s < N_SLOTS; s++) {
        S1C_ASSERT(f->slot[s].req == NULL);
        f->slot[s].unit = -1;
    }
}

// ---- gradient buffers ------------------------------------------------------------------------
static s1c_status finish_rs(s1c_fsdp *f, gbuf_t *g) {
    if (!g->req) return S1C_OK;
    s1c_comm_req *r = g->req;
    g->req = NULL;
    if (f->comm->wait(f->comm, r) != S1C_OK) return s1c_err_prefix("fsdp: reduce-scatter of unit %d", g->unit);
    const size_t n = f->u[g->unit].g.shard;
    if (g->tmp16) f->be->act_to_f32(f->be, g->tmp, g->tmp16, n);  // bf16 reduced slice, widened
    acc_f32(f, f->u[g->unit].grad, g->tmp, n);
    return S1C_OK;
}

// Prepares g to collect unit's gradient: completes its previous reduce-scatter and zeroes it.
static s1c_status acquire(s1c_fsdp *f, gbuf_t *g, int unit) {
    S1C_TRY(finish_rs(f, g));
    g->unit = unit;
    f->be->memset_zero(f->be, g->full, f->u[unit].g.padded * sizeof(float));
    return S1C_OK;
}

static s1c_status start_rs(s1c_fsdp *f, gbuf_t *g) {
    const s1c_fsdp_unit *x = &f->u[g->unit];
    s1c_status st;
    if (g->full16) {  // reduce_bf16: round the fp32 gradient once, reduce and average in bf16
        f->be->f32_to_act(f->be, g->full16, g->full, x->g.padded);
        st = f->comm->ireduce_scatter(f->comm, g->tmp16, g->full16, x->g.shard, S1C_COMM_BF16, S1C_RED_AVG, &g->req);
    } else {
        st = f->comm->ireduce_scatter(f->comm, g->tmp, g->full, x->g.shard, S1C_COMM_F32, S1C_RED_AVG, &g->req);
    }
    if (st != S1C_OK) return s1c_err_prefix("fsdp: reduce-scatter of unit %d", g->unit);
    return S1C_OK;
}

// The rotating buffer for unit's gradient: the two alternate, except that a unit only grot[0]
// fits (the untied head and embedding) takes it (waiting for its reduce-scatter if it is busy).
static gbuf_t *next_rot(s1c_fsdp *f, int unit) {
    int k = f->next_rot;
    if (f->grot[k].cap < f->u[unit].g.padded) k = 0;
    S1C_ASSERT(f->grot[k].cap >= f->u[unit].g.padded);
    f->next_rot = k ^ 1;
    return &f->grot[k];
}

// ---- the op sequence -------------------------------------------------------------------------
static s1c_status run_ops(s1c_fsdp *f, const op_t *ops, int n_ops, s1c_batch *const *micro, int backward) {
    s1c_backend *be = f->be;
    const s1c_qwen2_config *cfg = &f->cfg;
    const size_t C = (size_t)cfg->hidden_size;
    for (int i = 0; i < n_ops; i++) {
        const op_t *op = &ops[i];
        int need[2], keep[4], n_need = op_needs(f, op, need), n_keep = 0;
        for (int k = 0; k < n_need; k++) keep[n_keep++] = need[k];
        if (i + 1 < n_ops) n_keep += op_needs(f, &ops[i + 1], keep + n_keep);
        // this op's units first, then the next op's (prefetch), so the collective order is fixed
        for (int k = 0; k < n_keep; k++) S1C_TRY(start_gather(f, keep[k], keep, n_keep));
        void *w[2] = {NULL, NULL};
        for (int k = 0; k < n_need; k++) S1C_TRY(ready(f, need[k], &w[k]));
        s1c_batch *b = micro ? micro[op->micro] : NULL;
        switch (op->kind) {
            case OP_EMB_FWD:
                if (b) s1c_qwen2_embed_fwd(be, cfg, f->acts, w[0], b);
                break;
            case OP_BLK_FWD:
                if (b) s1c_qwen2_block_fwd(be, cfg, f->acts, op->layer, w[0], b);
                break;
            case OP_HEAD: {
                const void *lm_w = cfg->tie_word_embeddings ? w[1] : (const char *)w[0] + C * f->asz;
                if (!backward) {
                    if (b) s1c_qwen2_head_fwd(be, cfg, f->acts, w[0], lm_w, b, f->loss_dev, NULL, NULL);
                    break;
                }
                gbuf_t *hg = next_rot(f, f->head);
                S1C_TRY(acquire(f, hg, f->head));
                // tied: unit 0's buffer collects the LM-head part now and the embedding part later
                if (cfg->tie_word_embeddings) S1C_TRY(acquire(f, &f->gemb, 0));
                float *lm_grad = cfg->tie_word_embeddings ? f->gemb.full : hg->full + C;
                if (b) s1c_qwen2_head_fwd(be, cfg, f->acts, w[0], lm_w, b, f->loss_dev, hg->full, lm_grad);
                S1C_TRY(start_rs(f, hg));
                break;
            }
            case OP_BLK_BWD: {
                const int unit = s1c_qwen2_unit_block(op->layer);
                gbuf_t *g = next_rot(f, unit);
                S1C_TRY(acquire(f, g, unit));
                if (b) s1c_qwen2_block_bwd(be, cfg, f->acts, op->layer, w[0], g->full, b);
                S1C_TRY(start_rs(f, g));
                break;
            }
            case OP_EMB_BWD: {
                gbuf_t *g = cfg->tie_word_embeddings ? &f->gemb : next_rot(f, 0);
                if (g != &f->gemb) S1C_TRY(acquire(f, g, 0));
                if (b) s1c_qwen2_embed_bwd(be, cfg, f->acts, g->full, b);
                S1C_TRY(start_rs(f, g));
                break;
            }
        }
    }
    S1C_TRY(finish_rs(f, &f->grot[0]));
    S1C_TRY(finish_rs(f, &f->grot[1]));
    S1C_TRY(finish_rs(f, &f->gemb));
    drop_slots(f);
    return S1C_OK;
}

s1c_status s1c_fsdp_forward_backward(s1c_fsdp *f, s1c_batch *const *micro, int n_micro, double *loss_sum) {
    const int L = f->cfg.num_hidden_layers;
    const int per = 2 * L + 3;
    op_t *ops = s1c_xmalloc((size_t)n_micro * (size_t)per * sizeof(op_t));
    int n = 0;
    for (int m = 0; m < n_micro; m++) {
        if (micro[m] && micro[m]->T > f->max_T) {
            free(ops);
            return s1c_err("fsdp: micro-batch of %d tokens exceeds the %d the activations were sized for",
                           micro[m]->T, f->max_T);
        }
        if (micro[m] && micro[m]->n_ctx > f->max_ctx) {
            free(ops);
            return s1c_err("fsdp: micro-batch with %d context rows exceeds the %d the activations were sized for",
                           micro[m]->n_ctx, f->max_ctx);
        }
        ops[n++] = (op_t){OP_EMB_FWD, 0, m};
        for (int l = 0; l < L; l++) ops[n++] = (op_t){OP_BLK_FWD, l, m};
        ops[n++] = (op_t){OP_HEAD, 0, m};
        for (int l = L - 1; l >= 0; l--) ops[n++] = (op_t){OP_BLK_BWD, l, m};
        ops[n++] = (op_t){OP_EMB_BWD, 0, m};
    }
    f->be->memset_zero(f->be, f->loss_dev, sizeof(float));
    s1c_status st = run_ops(f, ops, n, micro, 1);
    free(ops);
    S1C_TRY(st);
    float l = 0;
    f->be->copy_d2h(f->be, &l, f->loss_dev, sizeof(float));
    *loss_sum = l;
    return S1C_OK;
}

s1c_status s1c_fsdp_forward(s1c_fsdp *f, const s1c_batch *b, double *loss, float *logits) {
    const int L = f->cfg.num_hidden_layers;
    if (b->T > f->max_T) return s1c_err("fsdp: batch of %d tokens exceeds %d", b->T, f->max_T);
    op_t *ops = s1c_xmalloc((size_t)(L + 2) * sizeof(op_t));
    int n = 0;
    ops[n++] = (op_t){OP_EMB_FWD, 0, 0};
    for (int l = 0; l < L; l++) ops[n++] = (op_t){OP_BLK_FWD, l, 0};
    ops[n++] = (op_t){OP_HEAD, 0, 0};
    s1c_batch *micro[1] = {(s1c_batch *)b};
    f->be->memset_zero(f->be, f->loss_dev, sizeof(float));
    // run all but the head's slot release so the logits can reuse the gathered head
    s1c_status st = run_ops(f, ops, n - 1, micro, 0);
    free(ops);
    S1C_TRY(st);
    int keep[2], nk = op_needs(f, &(op_t){OP_HEAD, 0, 0}, keep);
    void *w[2] = {NULL, NULL};
    for (int k = 0; k < nk; k++) S1C_TRY(start_gather(f, keep[k], keep, nk));
    for (int k = 0; k < nk; k++) S1C_TRY(ready(f, keep[k], &w[k]));
    const size_t C = (size_t)f->cfg.hidden_size, V = (size_t)f->cfg.vocab_size;
    const void *lm_w = f->cfg.tie_word_embeddings ? w[1] : (const char *)w[0] + C * f->asz;
    s1c_qwen2_head_fwd(f->be, &f->cfg, f->acts, w[0], lm_w, b, f->loss_dev, NULL, NULL);
    if (logits) {
        s1c_backend *be = f->be;
        void *lg = be->alloc(be, (size_t)b->T * V * f->asz);
        float *lf = be->act_dtype == S1C_F32 ? lg : be->alloc(be, (size_t)b->T * V * sizeof(float));
        if (!lg || !lf) {
            drop_slots(f);
            return s1c_err_prefix("fsdp: logits buffer [%d, %zu]", b->T, V);
        }
        s1c_qwen2_logits(be, &f->cfg, f->acts, w[0], lm_w, b->T, lg);
        if (lf != lg) be->act_to_f32(be, lf, lg, (size_t)b->T * V);
        be->copy_d2h(be, logits, lf, (size_t)b->T * V * sizeof(float));
        if (lf != lg) be->free(be, lf);
        be->free(be, lg);
    }
    drop_slots(f);
    float l = 0;
    f->be->copy_d2h(f->be, &l, f->loss_dev, sizeof(float));
    *loss = l;
    return S1C_OK;
}

s1c_status s1c_fsdp_grad_norm(s1c_fsdp *f, double *norm) {
    f->be->memset_zero(f->be, f->scalar_dev, sizeof(float));
    for (int i = 0; i < f->n_units; i++) f->be->sumsq_accumulate(f->be, f->scalar_dev, f->u[i].grad, f->u[i].g.shard);
    if (f->comm->device_buffers) {  // the fp32 partial sums are added on the device
        if (f->comm->all_reduce(f->comm, f->scalar_dev, 1, S1C_COMM_F32, S1C_RED_SUM) != S1C_OK)
            return s1c_err_prefix("fsdp: all-reduce of the gradient norm");
        float sq = 0;
        f->be->copy_d2h(f->be, &sq, f->scalar_dev, sizeof(float));
        *norm = sqrt((double)sq);
        return S1C_OK;
    }
    float local = 0;
    f->be->copy_d2h(f->be, &local, f->scalar_dev, sizeof(float));
    double sq = local;
    if (f->comm->all_reduce(f->comm, &sq, 1, S1C_COMM_F64, S1C_RED_SUM) != S1C_OK)
        return s1c_err_prefix("fsdp: all-reduce of the gradient norm");
    *norm = sqrt(sq);
    return S1C_OK;
}

// Offload: per unit, the reduced gradient slice comes to the host, the host shard takes the step
// segment by segment (decay classes), and the new weights of each segment go back into the
// device slice that the next step gathers. Padding elements are never touched (as on the device).
//
// A pipeline over the units, two staging pairs deep: while the host steps unit i (the longest
// stage: ~38 B of host memory traffic per element), the backend's stream copies unit i+1's
// gradient slice into host_grad[(i+1) % 2] and unit i-1's new weights out of host_out[(i-1) % 2].
// Fences: 0-1 "host_grad[b] is filled", 2-3 "host_out[b] has been read". (On one in-order stream
// the second is implied by the first, since unit i's D2H was enqueued after unit i-2's H2D; it is
// kept so the pipeline does not depend on that.) The arithmetic and its order are the sequential
// loop's, so the bits are too (train_offload_* and train_offload_async_* compare them).
enum { FENCE_GRAD = 0, FENCE_OUT = 2 };
static void fetch_grad(s1c_fsdp *f, int i) {
    const int b = i % 2;
    s1c_backend_host_copy_d2h_async(f->be, f->host_grad[b], f->host_stage_pinned, f->u[i].grad,
                                    f->u[i].g.shard * sizeof(float));
    s1c_backend_host_fence_record(f->be, FENCE_GRAD + b);
}

static void adamw_offload(s1c_fsdp *f, float lr, float beta1, float beta2, float eps, float weight_decay,
                          float grad_scale, int step) {
    s1c_backend *be = f->be;
    if (f->n_units > 0) fetch_grad(f, 0);
    for (int i = 0; i < f->n_units; i++) {
        s1c_fsdp_unit *x = &f->u[i];
        const int b = i % 2;
        // host_grad[(i+1) % 2] was last read by unit i-1's step, which is done
        if (i + 1 < f->n_units) fetch_grad(f, i + 1);
        s1c_backend_host_fence_wait(be, FENCE_GRAD + b);
        if (i >= 2) s1c_backend_host_fence_wait(be, FENCE_OUT + b);  // unit i-2's weights left host_out[b]
        for (int s = 0; s < x->n_seg; s++) {
            const size_t sb = x->seg[s].begin, n = x->seg[s].end - x->seg[s].begin;
            uint16_t *o16 = f->act_dtype == S1C_F32 ? NULL : (uint16_t *)f->host_out[b] + sb;
            float *o32 = f->act_dtype == S1C_F32 ? (float *)f->host_out[b] + sb : NULL;
            s1c_host_adamw(x->master + sb, o16, o32, f->host_grad[b] + sb, x->m + sb, x->v + sb, n, lr, beta1, beta2,
                           eps, x->seg[s].decay ? weight_decay : 0.0f, grad_scale, step);
            be->copy_h2d(be, (char *)x->master_act + sb * f->asz, (char *)f->host_out[b] + sb * f->asz, n * f->asz);
        }
        s1c_backend_host_fence_record(be, FENCE_OUT + b);
    }
    // the next gather reads the new weights; the staging buffers are free again
    be->synchronize(be);
}

void s1c_fsdp_adamw(s1c_fsdp *f, float lr, float beta1, float beta2, float eps, float weight_decay, float grad_scale,
                    int step) {
    if (f->offload) {
        adamw_offload(f, lr, beta1, beta2, eps, weight_decay, grad_scale, step);
        return;
    }
    s1c_backend *be = f->be;
    for (int i = 0; i < f->n_units; i++) {
        s1c_fsdp_unit *x = &f->u[i];
        for (int s = 0; s < x->n_seg; s++) {
            const size_t b = x->seg[s].begin, n = x->seg[s].end - x->seg[s].begin;
            void *act = be->act_dtype == S1C_F32 ? NULL : (char *)x->master_act + b * f->asz;
            be->adamw(be, x->master + b, act, x->grad + b, x->m + b, x->v + b, n, lr, beta1, beta2, eps,
                      x->seg[s].decay ? weight_decay : 0.0f, grad_scale, step);
        }
    }
}
