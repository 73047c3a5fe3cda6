// serve.c — the server's life cycle and the `s1c-infer serve` command line.
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "s1_format.h"
#include "s1c_mpi.h"
#include "serve_internal.h"

void s1c_serve_opts_default(s1c_serve_opts *o) {
    memset(o, 0, sizeof *o);
    o->device = "cpu";
    o->host = "127.0.0.1";
    o->port = 8000;
    o->max_body = 4u << 20;
    o->max_connections = 256;
    o->think_end = S1C_THINK_END;
    o->default_wait = "Wait";
    o->default_answer_prefix = S1C_ANSWER_PREFIX;
    o->engine.prefix_share = 1;
    o->weights_dtype = "auto";
}

s1c_status s1c_server_start(const s1c_serve_opts *o, s1c_server **out) {
    *out = NULL;
    if (!o->model_dir) return s1c_err("serve: --model DIR is required");
    s1c_server *s = s1c_xcalloc(1, sizeof *s);
    s->o = *o;
    s->model_name = s1c_xstrdup(o->model_name ? o->model_name : o->model_dir);
    s->seed_counter = (uint64_t)time(NULL) * 0x2545F4914F6CDD1Dull ^ (uint64_t)getpid();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->engine_cv, NULL);
    s1c_status st = sv_model_load(s);
    if (!st) st = sv_engine_thread_start(s);
    if (!st) st = sv_http_start(s);
    if (st) {
        s1c_server_stop(s);
        return st;
    }
    *out = s;
    return S1C_OK;
}

int s1c_server_port(const s1c_server *s) { return s->port; }

void s1c_server_stop(s1c_server *s) {
    if (!s) return;
    // New connections stop first; then jobs are cancelled, which wakes the connection threads
    // waiting on them, and MHD joins those threads; the engine thread goes last.
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    for (sv_job *j = s->q_head; j; j = j->next_q) j->cancelled = 1;
    for (int k = 0; k < SV_RING; k++)
        if (s->ring[k]) s->ring[k]->cancelled = 1;
    pthread_mutex_unlock(&s->mu);
    sv_http_stop(s);
    sv_engine_thread_stop(s);
    sv_model_free(s);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->engine_cv);
    free(s->model_name);
    free(s);
}

// ---- the command ----
static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static void usage(void) {
    fprintf(stderr,
            "usage: s1c-infer serve --model DIR [--host 127.0.0.1] [--port 8000] [options]\n"
            "  --tokenizer DIR   --device cpu|cuda|cpu-bf16   --model-name NAME (default: DIR)\n"
            "  --weights-dtype auto|bf16|fp32   matrix weights as stored (auto: bf16 when the checkpoint is)\n"
            "  --tp N            split the model over N ranks: mpirun -np N s1c-infer serve --tp N ...\n"
            "                    (rank 0 serves HTTP; the others run their shards of every step)\n"
            "  --matmul-precision bf16|exact  CPU, bf16 weights: activations rounded to bf16 in every product where\n"
            "                    the CPU has AVX512-BF16 (default bf16), or fp32 (exact; as in eval)\n"
            "  --api-key KEY     require \"Authorization: Bearer KEY\" on /v1/* (or env S1C_API_KEY)\n"
            "  --max-body BYTES  refuse larger request bodies with 413 (default 4194304)\n"
            "  --max-connections N  connections served at once (default 256)\n"
            "  --think-end STR --wait STR --answer-prefix STR   budget-forcing defaults (as in eval)\n"
            "  --max-batch N --kv-blocks N --block-size N --max-context N --step-tokens N   engine sizes\n"
            "  --no-prefix-share  recompute every prompt (default: reuse running sequences' full KV blocks)\n"
            "  --quiet\n"
            "Request fields: see infer/README.md (max_thinking_tokens, min_thinking_tokens, num_ignore,\n"
            "continuation, answer_prefix, max_answer_tokens besides OpenAI's).\n");
}

static int int_arg(const char *flag, const char *v, long lo, long hi, int *out) {
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "s1c-infer serve: %s '%s': expected an integer in [%ld, %ld]\n", flag, v ? v : "", lo, hi);
        return 0;
    }
    *out = (int)x;
    return 1;
}

int s1c_serve_main(int argc, char **argv) {
    s1c_serve_opts o;
    s1c_serve_opts_default(&o);
    o.api_key = getenv("S1C_API_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define FLAG(name) (!strcmp(a, name))
        if (FLAG("--help") || FLAG("-h")) {
            usage();
            return 0;
        }
        if (FLAG("--quiet")) {
            o.quiet = 1;
            continue;
        }
        if (FLAG("--no-prefix-share")) {
            o.engine.prefix_share = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "s1c-infer serve: %s needs a value\n", a);
            return 2;
        }
        int ok = 1, mb = 0;
        if (FLAG("--model")) o.model_dir = v;
        else if (FLAG("--tokenizer")) o.tokenizer_dir = v;
        else if (FLAG("--device")) o.device = v;
        else if (FLAG("--weights-dtype")) {
            o.weights_dtype = v;
            ok = !strcmp(v, "auto") || !strcmp(v, "bf16") || !strcmp(v, "fp32");
            if (!ok) fprintf(stderr, "s1c-infer serve: --weights-dtype '%s': expected auto, bf16 or fp32\n", v);
        } else if (FLAG("--tp")) ok = int_arg(a, v, 1, 4096, &o.tp);
        else if (FLAG("--matmul-precision")) {
            ok = !strcmp(v, "bf16") || !strcmp(v, "exact");
            if (ok) o.matmul_precision = v;
            else fprintf(stderr, "s1c-infer serve: --matmul-precision %s: expected bf16 or exact\n", v);
        }
        else if (FLAG("--model-name")) o.model_name = v;
        else if (FLAG("--host")) o.host = v;
        else if (FLAG("--port")) ok = int_arg(a, v, 0, 65535, &o.port);
        else if (FLAG("--api-key")) o.api_key = v;
        else if (FLAG("--max-body")) {
            ok = int_arg(a, v, 1024, 1 << 30, &mb);
            o.max_body = (size_t)mb;
        } else if (FLAG("--max-connections")) ok = int_arg(a, v, 1, 100000, &o.max_connections);
        else if (FLAG("--think-end")) o.think_end = v;
        else if (FLAG("--wait")) o.default_wait = v;
        else if (FLAG("--answer-prefix")) o.default_answer_prefix = v;
        else if (FLAG("--max-batch")) ok = int_arg(a, v, 1, 1024, &o.engine.max_batch);
        else if (FLAG("--kv-blocks")) ok = int_arg(a, v, 1, 100000000, &o.engine.kv_blocks);
        else if (FLAG("--block-size")) ok = int_arg(a, v, 1, 4096, &o.engine.block_size);
        else if (FLAG("--max-context")) ok = int_arg(a, v, 2, 100000000, &o.engine.max_context);
        else if (FLAG("--step-tokens")) ok = int_arg(a, v, 1, 100000000, &o.engine.step_tokens);
        else {
            fprintf(stderr, "s1c-infer serve: unknown option '%s'\n", a);
            usage();
            return 2;
        }
#undef FLAG
        if (!ok) return 2;
        i++;
    }
    if (o.api_key && !o.api_key[0]) o.api_key = NULL;
    // Under mpirun (tensor parallelism): rank 0's engine thread makes the MPI calls while the
    // main thread made MPI_Init and will make MPI_Finalize, so SERIALIZED is the level needed.
    int rank = 0, size = 1;
    const int mpi = s1c_dist_launched();
    if (mpi) {
        int provided = 0;
        if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
            fprintf(stderr, "s1c-infer serve: MPI_Init_thread failed\n");
            return 1;
        }
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        if (provided < MPI_THREAD_SERIALIZED) {
            if (rank == 0) fprintf(stderr, "s1c-infer serve: the MPI library offers thread level %d, serve needs "
                                           "MPI_THREAD_SERIALIZED (%d)\n", provided, MPI_THREAD_SERIALIZED);
            MPI_Finalize();
            return 1;
        }
    } else if (o.tp > 1) {
        fprintf(stderr, "s1c-infer serve: --tp %d: needs %d ranks under mpirun (mpirun -np %d s1c-infer serve --tp %d ...)\n",
                o.tp, o.tp, o.tp, o.tp);
        return 2;
    }
    if (rank > 0) {
        // A follower: mpirun sends SIGTERM to every rank; rank 0's stop tells this one to leave.
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        s1c_status st = s1c_server_follow(&o);
        if (st) {
            fprintf(stderr, "s1c-infer serve (rank %d): %s\n", rank, s1c_err_msg());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        MPI_Finalize();
        return 0;
    }
    s1c_server *s = NULL;
    if (s1c_server_start(&o, &s) != S1C_OK) {
        fprintf(stderr, "s1c-infer serve: %s\n", s1c_err_msg());
        if (size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
        if (mpi) MPI_Finalize();
        return 1;
    }
    // Tests and scripts read this line to learn the port (with --port 0: an ephemeral one).
    printf("s1c-infer serve: listening on http://%s:%d (model %s, context %d, batch %d, %d KV blocks%s)\n", o.host,
           s1c_server_port(s), o.model_name ? o.model_name : o.model_dir, s->max_context, s->max_batch, s->kv_total,
           size > 1 ? ", tensor parallel" : "");  // the ranks: --tp
    fflush(stdout);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!g_stop) pause();
    if (!o.quiet) fprintf(stderr, "s1c-infer serve: stopping\n");
    s1c_server_stop(s);
    if (mpi) MPI_Finalize();
    return 0;
}
