#include "trainer.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cp.h"
#include "export.h"
#include "flops.h"
#include "fsdp.h"
#include "log.h"
#include "packed.h"
#include "qwen2.h"
#include "rundir.h"
#include "s1c_file.h"
#include "sampler.h"
#include "schedule.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void s1c_train_fault_check(int rank, long step) {
    const char *r = getenv("S1C_FAULT_RANK"), *s = getenv("S1C_FAULT_STEP");
    if (!r || !s || atoi(r) != rank || atol(s) != step) return;
    const char *mode = getenv("S1C_FAULT_MODE");
    if (mode && !strcmp(mode, "stop")) {  // a stalled rank: alive, in no collective, never progressing
        fprintf(stderr, "s1c-train: rank %d: injected stall at step %ld (S1C_FAULT_MODE=stop): SIGSTOP\n", rank, step);
        fflush(stderr);
        raise(SIGSTOP);
        return;
    }
    fprintf(stderr, "s1c-train: rank %d: injected fault at step %ld (S1C_FAULT_RANK/S1C_FAULT_STEP): exiting with status 3\n",
            rank, step);
    fflush(stderr);
    _exit(3);
}

// ---- signals -------------------------------------------------------------------------------
// SIGTERM / SIGUSR1 (a scheduler's notice: Slurm's --signal, a preemption): the current step
// finishes, a checkpoint is written, exit 75. SIGINT (a person's Ctrl-C): a message naming the
// signal and exit 130 at once, from the handler (write and _exit are async-signal-safe); the last
// complete checkpoint stands (a half-written one has no COMPLETE marker and is never resumed).
static volatile sig_atomic_t g_stop_signal;
static char g_int_msg[160];
static size_t g_int_len;

static void on_stop_signal(int sig) { g_stop_signal = sig; }

static void on_sigint(int sig) {
    (void)sig;
    if (write(STDERR_FILENO, g_int_msg, g_int_len) < 0) {
        // nothing left to report to
    }
    _exit(S1C_TRAIN_EXIT_INTERRUPTED);
}

static void install_signals(int rank) {
    g_int_len = (size_t)snprintf(g_int_msg, sizeof g_int_msg,
                                 "s1c-train: rank %d: interrupted by SIGINT: stopping now, no checkpoint written (the "
                                 "last complete one stands: --resume)\n", rank);
    if (g_int_len >= sizeof g_int_msg) g_int_len = sizeof g_int_msg - 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
}

static const char *signal_name(int sig) {
    return sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : sig == SIGINT ? "SIGINT" : "a signal";
}

// Every rank learns whether all succeeded; keeps the local message when this rank failed.
static s1c_status agree(s1c_comm *c, s1c_status st, const char *what) {
    int32_t bad = st != S1C_OK;
    if (c->all_reduce(c, &bad, 1, S1C_COMM_I32, S1C_RED_MAX) != S1C_OK) return S1C_ERR;
    if (bad && st == S1C_OK) return s1c_err("%s failed on another rank", what);
    return st;
}

typedef struct {
    int n;             // sequences in the micro-batch
    int32_t **ids;     // [n][len]
    uint8_t **mask;    // [n][len]
    int *len;
    long targets;      // target tokens (mask at positions 1..len-1)
} micro_data;

static void micro_free(micro_data *m) {
    for (int i = 0; i < m->n; i++) {
        free(m->ids[i]);
        free(m->mask[i]);
    }
    free(m->ids);
    free(m->mask);
    free(m->len);
    memset(m, 0, sizeof *m);
}

static s1c_status micro_read(s1c_packed *pk, const s1c_step_plan *p, int mi, int block, micro_data *m) {
    memset(m, 0, sizeof *m);
    m->n = p->count[mi];
    m->ids = s1c_xcalloc((size_t)(m->n ? m->n : 1), sizeof(int32_t *));
    m->mask = s1c_xcalloc((size_t)(m->n ? m->n : 1), sizeof(uint8_t *));
    m->len = s1c_xcalloc((size_t)(m->n ? m->n : 1), sizeof(int));
    for (int j = 0; j < m->n; j++) {
        size_t si = p->sample[(size_t)mi * (size_t)p->micro_batch + (size_t)j];
        uint32_t full = s1c_packed_length(pk, si);
        m->ids[j] = s1c_xmalloc((size_t)full * sizeof(int32_t) + 4);
        m->mask[j] = s1c_xmalloc((size_t)full + 1);
        S1C_TRY(s1c_packed_read(pk, si, m->ids[j], m->mask[j]));
        m->len[j] = full > (uint32_t)block ? block : (int)full;  // cut to the block size
        for (int t = 1; t < m->len[j]; t++) m->targets += m->mask[j][t] != 0;
    }
    return S1C_OK;
}

typedef struct {
    const s1c_train_config *tc;
    s1c_comm *comm;   // host buffers (MPI): agreement, loss, token counts, checkpoints, export
    s1c_comm *dcomm;  // the FSDP engine's: == comm on CPU, NCCL over device buffers on GPU
    s1c_backend *be;
    s1c_qwen2_config mc;
    s1c_packed *pk;
    s1c_sampler smp;
    s1c_fsdp *f;
    // train.balance tokens (train/cp.h): the K/V exchange and its own communicator
    s1c_comm *ccomm;
    s1c_cp_exchange *cpx;
    // one batch buffer per micro-batch, sized once for max_T tokens (no allocation per step)
    int max_T;
    s1c_batch_slot *slots;
    int exit_code;  // S1C_TRAIN_EXIT_* when the run ends early for a reason of its own
} run_ctx;

// Builds this rank's micro-batches of a step with weights that make the rank-averaged gradient
// the global objective (see trainer.h).
static s1c_status build_batches(run_ctx *x, const s1c_step_plan *p, long step, s1c_batch **out) {
    const s1c_train_config *tc = x->tc;
    const int W = x->comm->size, token_mean = strcmp(tc->loss_norm, "token_mean") == 0;
    if (x->cpx) {  // equal-token shares of the step's sequences
        const s1c_cp_batcher cb = {.be = x->be, .comm = x->comm, .pk = x->pk, .smp = &x->smp, .x = x->cpx, .W = W,
                                   .rank = x->comm->rank, .micro_batch = tc->micro_batch_size,
                                   .block_size = tc->block_size, .token_mean = token_mean, .slots = x->slots};
        s1c_status st = s1c_cp_build_batches(&cb, step, out, p->n_micro);
        for (int m = 0; m < p->n_micro && st == S1C_OK; m++)
            if (out[m] && out[m]->max_id >= x->mc.vocab_size)
                st = s1c_err("%s: token id %d is outside the model's vocabulary of %d", tc->data_path, out[m]->max_id,
                             x->mc.vocab_size);
        return agree(x->comm, st, "building the batches");
    }
    micro_data *md = s1c_xcalloc((size_t)p->n_micro, sizeof(micro_data));
    s1c_status st = S1C_OK;
    int64_t targets = 0;
    for (int m = 0; m < p->n_micro && st == S1C_OK; m++) {
        st = micro_read(x->pk, p, m, tc->block_size, &md[m]);
        targets += md[m].targets;
    }
    st = agree(x->comm, st, "reading the step's samples");
    if (st == S1C_OK && token_mean) st = x->comm->all_reduce(x->comm, &targets, 1, S1C_COMM_I64, S1C_RED_SUM);
    for (int m = 0; m < p->n_micro && st == S1C_OK; m++) {
        out[m] = NULL;
        if (md[m].n == 0) continue;
        double scale;
        if (token_mean)  // weight per target = W / (targets of the whole step)
            scale = md[m].targets ? (double)targets / ((double)W * (double)md[m].targets) : 1.0;
        else  // weight per sequence = W / (sequences of the whole step)
            scale = (double)p->step_samples / ((double)W * md[m].n);
        out[m] = s1c_xcalloc(1, sizeof(s1c_batch));
        st = s1c_batch_create_in(x->be, out[m], x->slots ? &x->slots[m] : NULL, md[m].n,
                                 (const int32_t *const *)md[m].ids,
                              (const uint8_t *const *)md[m].mask, md[m].len,
                              token_mean ? S1C_LOSS_TOKEN_MEAN : S1C_LOSS_SEQ_MEAN, scale);
        if (st == S1C_OK && out[m]->max_id >= x->mc.vocab_size)
            st = s1c_err("%s: token id %d is outside the model's vocabulary of %d", tc->data_path, out[m]->max_id,
                         x->mc.vocab_size);
        if (st != S1C_OK) {
            free(out[m]);
            out[m] = NULL;
        }
    }
    for (int m = 0; m < p->n_micro; m++) micro_free(&md[m]);
    free(md);
    return agree(x->comm, st, "building the batches");
}

static void free_batches(run_ctx *x, s1c_batch **b, int n) {
    for (int m = 0; m < n; m++)
        if (b[m]) {
            s1c_batch_free(x->be, b[m]);
            free(b[m]);
            b[m] = NULL;
        }
}

static s1c_status setup(run_ctx *x, const s1c_dist *d) {
    const s1c_train_config *tc = x->tc;
    char path[S1C_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", tc->model_path);
    S1C_TRY(s1c_qwen2_config_load(path, &x->mc));
    x->pk = s1c_packed_open(tc->data_path);
    if (!x->pk) return S1C_ERR;
    // ids past the vocabulary, another tokenizer, nothing in the loss: refused before any step
    S1C_TRY(s1c_packed_check_train(x->pk, tc->data_path, x->mc.vocab_size, tc->block_size, tc->model_path,
                                   tc->allow_tokenizer_mismatch, d->rank == 0 ? stderr : NULL));
    size_t n = s1c_packed_n_samples(x->pk);
    uint32_t *lens = s1c_xmalloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        lens[i] = s1c_packed_length(x->pk, i);
        if (lens[i] > longest) longest = lens[i];
    }
    // train.max_steps as in HF: the run is that many steps, over as many epochs as they need
    const long per_epoch = (long)((n + (size_t)tc->global_batch_size - 1) / (size_t)tc->global_batch_size);
    const int epochs = tc->max_steps > 0 && per_epoch > 0 ? (int)((tc->max_steps + per_epoch - 1) / per_epoch)
                                                          : tc->epochs;
    s1c_status st = s1c_sampler_init(&x->smp, lens, n, tc->block_size, tc->global_batch_size, epochs,
                                     (uint64_t)(int64_t)tc->seed);
    free(lens);
    S1C_TRY(st);
    if (tc->max_steps > 0) x->smp.total_steps = tc->max_steps;
    // Host collectives always go over MPI; train.comm names the engine's (validated to match the device).
    x->comm = s1c_comm_create(d, "mpi");
    if (!x->comm) return S1C_ERR;
    const int cuda = strcmp(tc->device, "cuda") == 0;
    // One process per GPU: the node-local rank picks it (s1c_dist_gpu); the CPU backend ignores it.
    x->be = s1c_backend_create(tc->device, cuda ? s1c_dist_gpu(d) : d->local_rank);
    // every rank must know before the NCCL set-up, which waits for all of them
    st = agree(x->comm, x->be ? S1C_OK : S1C_ERR, "creating the compute backend");
    if (st != S1C_OK) return st;
    if (strcmp(tc->precision, "bf16") == 0 && x->be->act_dtype != S1C_BF16 && d->rank == 0)
        fprintf(stderr, "s1c-train: note: backend %s computes in fp32 (train.precision bf16 applies on GPU)\n",
                x->be->name);
    x->dcomm = x->comm;
    if (cuda) {
        x->dcomm = s1c_comm_create(d, tc->comm);  // collective: every rank creates it or fails
        if (!x->dcomm) return S1C_ERR;
    }
    long max_T = (long)tc->micro_batch_size * (longest < (uint32_t)tc->block_size ? (long)longest : tc->block_size);
    s1c_fsdp_opts fo = {.max_T = (int)max_T, .recompute = tc->recompute,
                        .reduce_bf16 = strcmp(tc->reduce_dtype, "bf16") == 0,
                        .offload_optimizer = tc->offload_optimizer};
    s1c_cp_sizes cs = {0};
    const int tokens = strcmp(tc->balance, "tokens") == 0;
    if (tokens) {  // activations follow the largest share, plus the largest context
        S1C_TRY(s1c_cp_run_sizes(&x->smp, d->size, tc->micro_batch_size, &cs));
        fo.max_T = cs.max_T;
        fo.max_ctx = cs.max_ctx;
    }
    x->max_T = fo.max_T;
    x->f = s1c_fsdp_create_opts(x->be, x->dcomm, &x->mc, &fo);
    if (!x->f) return S1C_ERR;
    if (fo.offload_optimizer && d->rank == 0) {
        s1c_fsdp_mem fm;
        s1c_fsdp_mem_of(x->f, &fm);
        printf("s1c-train: optimizer offload: master weights and AdamW m, v in host memory (%.1f MB per rank; "
               "step copies through %s staging buffers)\n", (double)fm.host / 1e6,
               s1c_fsdp_offload_pinned(x->f) ? "page-locked" : "plain");
    }
    if (tokens) {
        // its own communicator: the exchange must not queue behind the prefetched gathers
        x->ccomm = s1c_comm_create(d, tc->comm);
        if (!x->ccomm) return S1C_ERR;
        x->cpx = s1c_cp_exchange_create(x->be, x->ccomm, &x->mc, &cs,
                                        tc->global_batch_size / (d->size * tc->micro_batch_size));
        if (!x->cpx) return S1C_ERR;
    }
    return S1C_OK;
}

// Each rank reads only its slices of the checkpoint (s1c_import_hf): no host ever holds the
// whole model, and the ranks read in parallel.
static s1c_status init_weights(run_ctx *x) {
    return s1c_import_hf(x->f, x->comm, &x->mc, x->tc->model_path);
}

// After a failure on a GPU job of several ranks the process is about to abort the job (main):
// peers may be blocked in a collective this rank will never join, so the device state is left
// to the abort; freeing it would synchronise with that collective and hang.
static void teardown(run_ctx *x, s1c_status st) {
    const int keep_device = st != S1C_OK && x->dcomm && x->dcomm != x->comm && x->dcomm->size > 1;
    if (!keep_device) {
        s1c_cp_exchange_free(x->cpx);
        s1c_comm_destroy(x->ccomm);
        s1c_fsdp_free(x->f);
        if (x->dcomm != x->comm) s1c_comm_destroy(x->dcomm);
    }
    s1c_comm_destroy(x->comm);
    if (x->be && !keep_device) s1c_backend_destroy(x->be);
    if (x->pk) s1c_packed_close(x->pk);
    s1c_sampler_free(&x->smp);
}

static s1c_status train_loop(run_ctx *x, long start, s1c_ckpt_meta *meta) {
    const s1c_train_config *tc = x->tc;
    const int rank = x->comm->rank, W = x->comm->size;
    const long total = x->smp.total_steps;
    const long stop = tc->stop_after > 0 && tc->stop_after < total ? tc->stop_after : total;
    const long warmup = s1c_warmup_steps(tc->warmup_ratio, total);
    s1c_logger lg = {0};
    char path[S1C_PATH_MAX + 64];
    if (rank == 0) {
        snprintf(path, sizeof path, "%s/metrics.jsonl", tc->out_dir);
        S1C_TRY(s1c_logger_open(&lg, path, start, tc->progress));
        printf("s1c-train: %d ranks, %ld steps (%ld per epoch, %d epochs%s), warmup %ld, starting at step %ld%s\n", W,
               total, x->smp.steps_per_epoch, x->smp.epochs, tc->max_steps > 0 ? ", train.max_steps" : "", warmup,
               start, stop < total ? " (this job stops after train.stop_after)" : "");
    }
    s1c_status st = S1C_OK;
    const int n_micro = tc->global_batch_size / (W * tc->micro_batch_size);
    s1c_batch **batches = s1c_xcalloc((size_t)n_micro, sizeof(s1c_batch *));
    // The batches' device buffers, once, before the first step: a step then neither allocates nor
    // frees (on the GPU a cudaFree synchronises the device while reduce-scatters are in flight).
    x->slots = s1c_xcalloc((size_t)n_micro, sizeof(s1c_batch_slot));
    for (int m = 0; m < n_micro && st == S1C_OK; m++) st = s1c_batch_slot_alloc(x->be, &x->slots[m], x->max_T);
    st = agree(x->comm, st, "allocating the batch buffers");
    double t_run = now_s();
    long steps_timed = 0;
    for (long s = start; s < stop && st == S1C_OK; s++) {
        s1c_train_fault_check(rank, s + 1);
        double t0 = now_s();
        s1c_step_plan plan;
        st = s1c_sampler_step(&x->smp, s, W, rank, tc->micro_batch_size, tc->balance_tokens, &plan);
        if (st != S1C_OK) break;
        st = build_batches(x, &plan, s, batches);
        // Each micro-batch's attention bucket prepared now, before the step's collectives (CUDA:
        // cuDNN plans and workspace), so no attention call inside the step builds or allocates.
        for (int m = 0; m < n_micro && st == S1C_OK; m++) s1c_batch_prepare(x->be, &x->mc, batches[m]);
        double loss = 0, norm = 0;
        if (st == S1C_OK) {
            s1c_fsdp_zero_grad(x->f);
            st = s1c_fsdp_forward_backward(x->f, batches, n_micro, &loss);
            if (st == S1C_OK && x->cpx) st = s1c_cp_exchange_status(x->cpx);
        }
        free_batches(x, batches, n_micro);
        if (st == S1C_OK) st = x->comm->all_reduce(x->comm, &loss, 1, S1C_COMM_F64, S1C_RED_AVG);
        if (st == S1C_OK) st = s1c_fsdp_grad_norm(x->f, &norm);
        if (st != S1C_OK) {
            s1c_err_prefix("step %ld", s + 1);
            s1c_step_plan_free(&plan);
            break;
        }
        // The loss and the norm are global (all-reduced), so every rank takes the same branch here.
        if (!isfinite(loss) || !isfinite(norm)) {
            if (strcmp(tc->nonfinite, "skip_step") != 0) {
                s1c_step_plan_free(&plan);
                x->exit_code = S1C_TRAIN_EXIT_NONFINITE;
                st = s1c_err("step %ld: loss %g, gradient norm %g: not finite; stopped before the update "
                             "(train.nonfinite stop), nothing of this step is saved; the last checkpoint holds finite "
                             "weights (lower optim.lr, or train.nonfinite skip_step to skip such steps)",
                             s + 1, loss, norm);
                break;
            }
            if (rank == 0)
                printf("s1c-train: step %ld: loss %g, gradient norm %g: not finite; update skipped "
                       "(train.nonfinite skip_step)\n", s + 1, loss, norm);
        }
        const int skip = !isfinite(loss) || !isfinite(norm);
        // torch.nn.utils.clip_grad_norm_: coefficient max / (norm + 1e-6), at most 1
        double clip = 1.0;
        if (tc->max_grad_norm > 0) {
            clip = tc->max_grad_norm / (norm + 1e-6);
            if (clip > 1.0) clip = 1.0;
        }
        const double lr = tc->lr * s1c_lr_lambda(tc->schedule, s, warmup, total);
        if (!skip)
            s1c_fsdp_adamw(x->f, (float)lr, (float)tc->beta1, (float)tc->beta2, (float)tc->eps,
                           (float)tc->weight_decay, (float)clip, (int)(s + 1));
        double dt = now_s() - t0;
        steps_timed++;
        if (rank == 0) {
            const double flops = s1c_train_flops(&x->mc, (double)plan.step_tokens, plan.step_attn);
            const double per_step = (now_s() - t_run) / (double)steps_timed;
            s1c_step_log sl = {
                .step = s + 1,
                .total_steps = total,
                .epoch = (double)(s + 1) / (double)x->smp.steps_per_epoch,
                .loss = loss,
                .lr = lr,
                .grad_norm = norm,
                .tokens = plan.step_tokens,
                .step_s = dt,
                .tokens_per_s = (double)plan.step_tokens / dt,
                .mfu = flops / (dt * W * tc->peak_tflops * 1e12),
                .eta_s = per_step * (double)(stop - s - 1),
            };
            s1c_logger_step(&lg, &sl);
        }
        meta->step = s + 1;
        meta->epoch = (int)((s + 1) / x->smp.steps_per_epoch);
        meta->samples_seen += plan.step_samples;
        if (!skip) meta->loss = loss;
        s1c_step_plan_free(&plan);
        const int at_end = s + 1 == stop;
        // A stop signal may reach the ranks at different steps (or only one of them): they agree
        // after every step, so all stop after the same one.
        int32_t sig = g_stop_signal;
        if (!at_end) st = x->comm->all_reduce(x->comm, &sig, 1, S1C_COMM_I32, S1C_RED_MAX);
        if (st != S1C_OK) break;
        const int stop_now = !at_end && sig != 0;
        if ((tc->save_every > 0 && (s + 1) % tc->save_every == 0) || at_end || stop_now) {
            st = s1c_ckpt_save(x->f, x->comm, tc->out_dir, meta, tc->keep_last);
            if (st == S1C_OK && rank == 0 && !lg.tty)
                printf("s1c-train: checkpoint step %ld written under %s/checkpoints\n", s + 1, tc->out_dir);
        }
        if (st == S1C_OK && stop_now) {
            if (rank == 0)
                printf("s1c-train: %s received: stopped after step %ld of %ld with its checkpoint written; exit "
                       "status %d (requeue the job; --resume continues)\n", signal_name(sig), s + 1, total,
                       S1C_TRAIN_EXIT_PREEMPTED);
            x->exit_code = S1C_TRAIN_EXIT_PREEMPTED;
            break;
        }
    }
    free(batches);
    for (int m = 0; m < n_micro; m++) s1c_batch_slot_free(x->be, &x->slots[m]);
    free(x->slots);
    x->slots = NULL;
    if (rank == 0) s1c_logger_close(&lg);
    return st;
}

// Rank 0, under the lock, before anything is written: a fresh run does not silently mix with
// the checkpoints of an earlier one; temporaries of a killed write go.
static s1c_status prepare_dir(const s1c_train_config *tc, const s1c_train_opts *o) {
    if (!o->resume && !o->resume_dir) S1C_TRY(s1c_rundir_check_fresh(tc->out_dir, o->overwrite));
    int n = 0;
    long long bytes = 0;
    S1C_TRY(s1c_rundir_clean_tmp(tc->out_dir, &n, &bytes));
    if (n) printf("s1c-train: removed %d orphan temporary file%s (%.1f MB) of an interrupted write under %s\n", n,
                  n == 1 ? "" : "s", (double)bytes / 1e6, tc->out_dir);
    return S1C_OK;
}

// --resume: the newest complete checkpoint of the directory's run (OUT/RUN); a newer one of
// another run is passed over, and said so.
static s1c_status find_resume(const s1c_train_config *tc, int rank, char *dir, long *step) {
    uint64_t run_id = 0;
    S1C_TRY(s1c_rundir_read_id(tc->out_dir, &run_id));
    long other = -1;
    S1C_TRY(s1c_ckpt_find_latest(tc->out_dir, run_id, dir, step, &other));
    char rid[17];
    s1c_run_id_str(run_id, rid);
    if (*step < 0 && other >= 0)
        return s1c_err("--resume: %s/checkpoints holds no complete checkpoint of this directory's run %s (%s/RUN); "
                       "the newest, step %ld, belongs to another run: name it with --resume-from to continue that one",
                       tc->out_dir, rid, tc->out_dir, other);
    if (*step >= 0 && other > *step && rank == 0)
        fprintf(stderr, "s1c-train: note: passing over step %ld under %s/checkpoints, written by another run than %s "
                "(%s/RUN); resuming this run's step %ld\n", other, tc->out_dir, rid, tc->out_dir, *step);
    return S1C_OK;
}

s1c_status s1c_train_run(const s1c_train_config *tc, const s1c_dist *d, const s1c_train_opts *o, int *exit_code) {
    run_ctx x = {0};
    x.tc = tc;
    *exit_code = S1C_TRAIN_EXIT_ERROR;
    install_signals(d->rank);
    s1c_rundir_lock lock = {-1};
    // Rank 0 takes the output directory's lock first; every rank learns the outcome (after the
    // set-up, which creates the communicator and writes nothing) before any rank writes.
    s1c_status lock_st = d->rank == 0 ? s1c_rundir_lock_take(tc->out_dir, &lock) : S1C_OK;
    s1c_status st = setup(&x, d);
    if (st == S1C_OK) st = agree(x.comm, lock_st, "locking output.dir");
    if (st == S1C_OK) st = agree(x.comm, d->rank == 0 ? prepare_dir(tc, o) : S1C_OK, "preparing output.dir");
    if (st != S1C_OK) {
        teardown(&x, st);
        s1c_rundir_lock_release(&lock);
        return st;
    }
    if (x.comm) x.comm->timeout_s = tc->collective_timeout_s;
    if (x.dcomm) x.dcomm->timeout_s = tc->collective_timeout_s;
    if (x.ccomm) x.ccomm->timeout_s = tc->collective_timeout_s;
    s1c_ckpt_meta meta = {0};
    meta.total_steps = x.smp.total_steps;
    meta.seed = (uint64_t)(int64_t)tc->seed;
    meta.world = x.comm->size;
    long start = 0;
    if (o->resume || o->resume_dir) {
        char dir[4096] = "";
        long step = -1;
        if (o->resume_dir) {
            snprintf(dir, sizeof dir, "%s", o->resume_dir);
            step = 0;
        } else {
            st = find_resume(tc, d->rank, dir, &step);
        }
        if (st == S1C_OK && step < 0)
            st = s1c_err("--resume: no complete checkpoint under %s/checkpoints", tc->out_dir);
        st = agree(x.comm, st, "finding the checkpoint");
        if (st == S1C_OK) st = s1c_ckpt_load(x.f, x.comm, dir, &meta);
        if (st == S1C_OK && meta.total_steps != x.smp.total_steps)
            st = s1c_err("--resume: %s was written for %ld total steps; this recipe has %ld (epochs, batch or data "
                         "changed)", dir, meta.total_steps, x.smp.total_steps);
        if (st == S1C_OK && meta.seed != (uint64_t)(int64_t)tc->seed)
            st = s1c_err("--resume: %s used seed %llu; the recipe says %d", dir, (unsigned long long)meta.seed, tc->seed);
        if (st == S1C_OK && d->rank == 0) printf("s1c-train: resuming from %s (step %ld)\n", dir, meta.step);
        start = meta.step;
        meta.world = x.comm->size;
        // a checkpoint from before run ids continues as a run of its own from here
        if (st == S1C_OK && !meta.run_id) meta.run_id = d->rank == 0 ? s1c_rundir_new_id() : 0;
    } else {
        meta.run_id = d->rank == 0 ? s1c_rundir_new_id() : 0;
        st = init_weights(&x);
    }
    // every rank writes the same id into its shard headers: rank 0's
    int64_t rid = (int64_t)meta.run_id;
    if (st == S1C_OK) st = x.comm->broadcast(x.comm, &rid, 1, S1C_COMM_I64, 0);
    meta.run_id = (uint64_t)rid;
    if (st == S1C_OK && d->rank == 0) {
        char cp[S1C_PATH_MAX + 32];
        snprintf(cp, sizeof cp, "%s/config.yaml", tc->out_dir);
        st = s1c_train_config_write(tc, cp);
        if (st == S1C_OK) st = s1c_rundir_write_id(tc->out_dir, meta.run_id);
    }
    st = agree(x.comm, st, "writing the run's recipe and id");
    if (st == S1C_OK) st = train_loop(&x, start, &meta);
    if (st == S1C_OK && tc->export_hf && x.exit_code != S1C_TRAIN_EXIT_PREEMPTED) {
        char hf[S1C_PATH_MAX + 32];
        snprintf(hf, sizeof hf, "%s/hf", tc->out_dir);
        st = s1c_export_hf(x.f, x.comm, &x.mc, tc->model_path, hf, tc->export_dtype,
                           (size_t)tc->export_shard_mb * 1000000u);
        if (st == S1C_OK && d->rank == 0) printf("s1c-train: exported the model to %s (%s)\n", hf, tc->export_dtype);
    }
    if (st == S1C_OK) *exit_code = x.exit_code;  // 0, or preempted after its checkpoint
    else if (x.exit_code) *exit_code = x.exit_code;
    else if ((x.comm && x.comm->timed_out) || (x.dcomm && x.dcomm->timed_out) || (x.ccomm && x.ccomm->timed_out))
        *exit_code = S1C_TRAIN_EXIT_TIMEOUT;
    teardown(&x, st);
    s1c_rundir_lock_release(&lock);
    return st;
}

s1c_status s1c_train_export(const s1c_train_config *tc, const s1c_dist *d, const char *ckpt_dir, const char *out_dir,
                            const char *dtype) {
    run_ctx x = {0};
    x.tc = tc;
    char path[S1C_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", tc->model_path);
    s1c_status st = s1c_qwen2_config_load(path, &x.mc);
    if (st == S1C_OK) {
        x.comm = s1c_comm_create(d, "mpi");
        if (!x.comm) st = S1C_ERR;
    }
    if (st == S1C_OK) {
        x.comm->timeout_s = tc->collective_timeout_s;
        x.be = s1c_backend_create("cpu", d->local_rank);  // the masters are fp32 on disk: no GPU needed
        st = agree(x.comm, x.be ? S1C_OK : S1C_ERR, "creating the compute backend");
    }
    if (st == S1C_OK) {
        x.dcomm = x.comm;
        const s1c_fsdp_opts fo = {.max_T = 1};  // no step runs: the smallest activations
        x.f = s1c_fsdp_create_opts(x.be, x.comm, &x.mc, &fo);
        st = agree(x.comm, x.f ? S1C_OK : S1C_ERR, "creating the engine");
    }
    s1c_ckpt_meta meta = {0};
    char marker[4200];
    snprintf(marker, sizeof marker, "%s/COMPLETE", ckpt_dir);
    if (st == S1C_OK)
        st = agree(x.comm, access(marker, F_OK) == 0 ? S1C_OK
                                                      : s1c_err("%s: not a complete checkpoint (no COMPLETE marker)",
                                                                ckpt_dir),
                   "finding the checkpoint");
    if (st == S1C_OK) st = s1c_ckpt_load(x.f, x.comm, ckpt_dir, &meta);
    if (st == S1C_OK && d->rank == 0) {  // an earlier export killed half-way left its temporaries
        int n = 0;
        s1c_rundir_clean_tmp(out_dir, &n, NULL);
        if (n) printf("s1c-train: removed %d orphan temporary file%s under %s\n", n, n == 1 ? "" : "s", out_dir);
    }
    if (st == S1C_OK)
        st = s1c_export_hf(x.f, x.comm, &x.mc, tc->model_path, out_dir, dtype, (size_t)tc->export_shard_mb * 1000000u);
    if (st == S1C_OK && d->rank == 0)
        printf("s1c-train: exported %s (step %ld) to %s (%s)\n", ckpt_dir, meta.step, out_dir, dtype);
    teardown(&x, st);
    return st;
}
