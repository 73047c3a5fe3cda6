// runner.c — the model, and the one engine thread that runs every client's requests: the
// engine's online mode (s1c_engine_serve) pulls jobs from the server's queue, reports progress
// and completion into the jobs, and drops the samples of jobs whose clients went away.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s1_format.h"
#include "serve_internal.h"

const char *sv_tok_bytes(void *ctx, int32_t id, size_t *len) {
    const char *b = s1c_tokenizer_id_bytes(ctx, id, len);
    if (!b) *len = 0;
    return b;
}

static s1c_status encode(const s1c_tokenizer *tok, const char *t, s1c_ids *out) {
    memset(out, 0, sizeof *out);
    return s1c_tokenizer_encode(tok, t, strlen(t), 0, out);
}

// Same token roles as `s1c-infer eval` (infer/eval.c): the delimiter, "\n", the stop ids, and
// whether the delimiter's first token is special (then an attempt to end is that token).
// Under mpirun every rank runs this collectively (the group's split, the model's shards).
static s1c_status tp_setup(s1c_server *s) {
    int inited = 0;
    MPI_Initialized(&inited);
    s->rank = 0;
    s->size = 1;
    if (inited) {
        MPI_Comm_rank(MPI_COMM_WORLD, &s->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &s->size);
    }
    s->tp = s->o.tp > 1 ? s->o.tp : 1;
    if (s->size > 1 && s->tp != s->size)
        return s1c_err("serve under mpirun (%d ranks) runs one tensor-parallel group over all of them: pass --tp %d "
                       "(data-parallel serving: one server per GPU or group behind a load balancer)",
                       s->size, s->size);
    S1C_TRY(s1c_infer_tp_init(&s->grp, s->tp, s->rank, s->size));
    if (s->tp > 1 && MPI_Comm_dup(MPI_COMM_WORLD, &s->tp_msg) != MPI_SUCCESS)
        return s1c_err("--tp %d: MPI_Comm_dup for the server's channel failed", s->tp);
    return S1C_OK;
}

s1c_status sv_model_load(s1c_server *s) {
    const s1c_serve_opts *o = &s->o;
    s->tp_msg = MPI_COMM_NULL;
    S1C_TRY(tp_setup(s));
    s->tok = s1c_tokenizer_load(o->tokenizer_dir ? o->tokenizer_dir : o->model_dir);
    if (!s->tok) return S1C_ERR;
    const int dev = !strcmp(o->device, "cuda") ? s1c_infer_gpu_for_rank(s->rank, s->size) : 0;
    if (!(s->be = s1c_backend_create(o->device, dev))) return S1C_ERR;
    S1C_TRY(s1c_backend_set_matmul_precision(s->be, o->matmul_precision));
    S1C_TRY(s1c_infer_tp_device(&s->grp, s->be, s->rank, s->size));
    S1C_TRY(s1c_qwen2_model_load_tp(s->be, o->model_dir, o->weights_dtype ? o->weights_dtype : "auto",
                                    s1c_infer_tp_hooks(&s->grp), &s->m));
    s->model_loaded = 1;
    s->vocab_limit = s1c_tokenizer_vocab_size(s->tok);
    if (s->vocab_limit > s->m.cfg.vocab_size)
        return s1c_err("%s: the tokenizer has %d tokens but the checkpoint's vocab_size is %d", o->model_dir,
                       s->vocab_limit, s->m.cfg.vocab_size);
    S1C_TRY(encode(s->tok, o->think_end, &s->delim));
    S1C_TRY(encode(s->tok, o->default_wait, &s->wait));
    S1C_TRY(encode(s->tok, o->default_answer_prefix, &s->prefix));
    if (s->delim.n == 0) return s1c_err("end-of-thinking delimiter '%s' encodes to no tokens", o->think_end);
    s1c_ids nl;
    S1C_TRY(encode(s->tok, "\n", &nl));
    int one = nl.n == 1;
    if (one) s->newline = nl.ids[0];
    s1c_ids_free(&nl);
    if (!one) return s1c_err("tokenizer: \"\\n\" is not a single token");
    int32_t cand[3] = {s1c_tokenizer_token_id(s->tok, "<|im_end|>"), s1c_tokenizer_eos_id(s->tok), s->m.cfg.eos_token_id};
    for (int i = 0; i < 3; i++) {
        if (cand[i] < 0 || cand[i] >= s->m.cfg.vocab_size) continue;
        int dup = 0;
        for (int k = 0; k < s->n_stops; k++) dup |= s->stops[k] == cand[i];
        if (!dup) s->stops[s->n_stops++] = cand[i];
    }
    char *t = NULL;
    size_t tl = 0;
    int32_t d0 = s->delim.ids[0];
    if (s1c_tokenizer_decode(s->tok, &d0, 1, 1, &t, &tl) == S1C_OK) s->early = tl == 0;
    free(t);
    s1c_engine_opts eo = o->engine;
    eo.vocab_limit = s->vocab_limit;
    s->eng = s1c_engine_create(&s->m, &eo, sv_tok_bytes, s->tok);
    if (!s->eng) return S1C_ERR;
    s->max_context = s1c_engine_max_context(s->eng);
    s->max_batch = eo.max_batch > 0 ? (eo.max_batch > 1024 ? 1024 : eo.max_batch) : 32;
    s->kv_total = s1c_engine_kv_total_blocks(s->eng);
    s->kv_free = s1c_engine_kv_free_blocks(s->eng);
    return S1C_OK;
}

void sv_model_free(s1c_server *s) {
    s1c_engine_free(s->eng);
    if (s->model_loaded) s1c_qwen2_model_free(&s->m);
    s1c_backend_destroy(s->be);
    s1c_infer_tp_free(&s->grp);
    int fin = 1;
    MPI_Finalized(&fin);
    if (s->tp_msg != MPI_COMM_NULL && !fin) MPI_Comm_free(&s->tp_msg);
    s1c_tokenizer_free(s->tok);
    s1c_ids_free(&s->delim);
    s1c_ids_free(&s->wait);
    s1c_ids_free(&s->prefix);
}

void sv_job_free(sv_job *j) {
    if (!j) return;
    for (int i = 0; i < SV_MAX_STOP; i++) free(j->stop[i]);
    for (int p = 0; p < SV_MAX_PROMPTS; p++) s1c_ids_free(&j->prompt[p]);
    s1c_ids_free(&j->wait_ids);
    s1c_ids_free(&j->prefix_ids);
    if (j->s)
        for (int k = 0; k < j->n_prompts * j->n; k++) {
            free(j->s[k].ids);
            free(j->s[k].lp);
            free(j->s[k].error);
            free(j->s[k].text);
        }
    free(j->s);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static int job_engine_done(const sv_job *j) { return j->n_done == j->n_prompts * j->n; }

void sv_job_enqueue(s1c_server *s, sv_job *j) {
    pthread_mutex_lock(&s->mu);
    if (s->stopping) j->cancelled = 1;
    if (s->q_tail) s->q_tail->next_q = j;
    else s->q_head = j;
    s->q_tail = j;
    s->n_waiting++;
    pthread_cond_signal(&s->engine_cv);
    pthread_mutex_unlock(&s->mu);
}

void sv_job_release(s1c_server *s, sv_job *j) {
    pthread_mutex_lock(&s->mu);
    j->http_gone = 1;
    if (!job_engine_done(j)) j->cancelled = 1;
    int free_now = job_engine_done(j);
    pthread_mutex_unlock(&s->mu);
    if (free_now) sv_job_free(j);
}

// ---- the engine's feed (called on the engine thread) ----
static const s1c_gen_request *feed_next(void *ctx, int wait) {
    s1c_server *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->kv_free = s1c_engine_kv_free_blocks(s->eng);
    s->steps = s1c_engine_stats_get(s->eng)->steps;
    s->prefix_hits = s1c_engine_stats_get(s->eng)->prefix_hit_tokens;
    while (wait && !s->q_head && !s->stopping) pthread_cond_wait(&s->engine_cv, &s->mu);
    const s1c_gen_request *r = NULL;
    sv_job *j = s->q_head;
    if (j && s->running < SV_RING - 1) {
        const int p = j->n_handed++;
        j->index[p] = s->next_index;
        s->ring[s->next_index % SV_RING] = j;
        s->ring_prompt[s->next_index % SV_RING] = p;
        s->next_index = (s->next_index + 1) % (1 << 30);
        s->running++;
        r = &j->req[p];
        if (j->n_handed == j->n_prompts) {
            s->q_head = j->next_q;
            if (!s->q_head) s->q_tail = NULL;
            j->next_q = NULL;
            s->n_waiting--;
        }
    }
    pthread_mutex_unlock(&s->mu);
    sv_tp_send_next(s, r);  // the followers' engines get the same answer (tp_serve.c)
    return r;
}

// The engine numbers requests from 0 in each s1c_engine_serve call; the ring is keyed by the
// server's running count, which is the same sequence (see sv_engine_thread).
static sv_job *ring_job(s1c_server *s, int request, int *prompt) {
    const int k = request % SV_RING;
    *prompt = s->ring_prompt[k];
    return s->ring[k];
}

static int feed_cancelled(void *ctx, int request) {
    s1c_server *s = ctx;
    pthread_mutex_lock(&s->mu);
    int p;
    sv_job *j = ring_job(s, request, &p);
    int c = j ? j->cancelled : 1;
    pthread_mutex_unlock(&s->mu);
    sv_tp_send_int(s, c);
    return c;
}

static void copy_ids(sv_sample *x, const s1c_gen_result *r) {
    if (r->n_ids > x->cap) {
        x->cap = r->n_ids + 64;
        x->ids = s1c_xrealloc(x->ids, (size_t)x->cap * sizeof(int32_t));
        if (r->logprobs) x->lp = s1c_xrealloc(x->lp, (size_t)x->cap * sizeof(float));
    }
    if (r->n_ids > 0) memcpy(x->ids, r->ids, (size_t)r->n_ids * sizeof(int32_t));
    if (r->logprobs && r->n_ids > 0) {
        if (!x->lp) x->lp = s1c_xmalloc((size_t)x->cap * sizeof(float));
        memcpy(x->lp, r->logprobs, (size_t)r->n_ids * sizeof(float));
    }
    x->n_ids = r->n_ids;
}

static void feed_progress(void *ctx, const s1c_gen_result *r) {
    s1c_server *s = ctx;
    pthread_mutex_lock(&s->mu);
    int p;
    sv_job *j = ring_job(s, r->request, &p);
    if (j && j->stream && !j->cancelled) {
        sv_sample *x = &j->s[p * j->n + r->sample];
        copy_ids(x, r);
        x->phase = r->bf.phase;
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

static void on_done(void *ctx, const s1c_gen_result *r) {
    s1c_server *s = ctx;
    pthread_mutex_lock(&s->mu);
    int p;
    sv_job *j = ring_job(s, r->request, &p);
    if (!j) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    sv_sample *x = &j->s[p * j->n + r->sample];
    if (r->error) {
        free(x->error);
        x->error = s1c_xstrdup(r->error);
        x->n_ids = 0;
    } else {
        copy_ids(x, r);
        x->bf = r->bf;
        x->finish = r->finish;
        s->tokens_out += r->n_ids;
    }
    x->phase = S1C_PHASE_DONE;
    x->done = 1;
    j->n_done++;
    int last_of_prompt = 1;
    for (int k = 0; k < j->n; k++) last_of_prompt &= j->s[p * j->n + k].done;
    if (last_of_prompt) {
        s->ring[r->request % SV_RING] = NULL;
        s->running--;
    }
    int free_now = 0;
    if (job_engine_done(j)) {
        s->served++;
        free_now = j->http_gone;
    }
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&s->mu);
    if (free_now) sv_job_free(j);
}

static void *engine_main(void *arg) {
    s1c_server *s = arg;
    s1c_gen_feed feed = {.next = feed_next, .cancelled = feed_cancelled, .progress = feed_progress, .ctx = s};
    for (;;) {
        pthread_mutex_lock(&s->mu);
        const int stop = s->stopping && !s->q_head;
        s->next_index = 0;  // the engine numbers each serve call's requests from 0
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        sv_tp_send_int(s, 1);
        s1c_status st = s1c_engine_serve(s->eng, &feed, on_done, s);
        if (st == S1C_OK) continue;  // ended because the server is stopping (checked above)
        // A failed step dropped the running sequences without reporting them: fail their jobs
        // so that no client waits forever, then serve again. A tensor-parallel group cannot go
        // on: its ranks may not have failed alike, and none of them can tell.
        const char *msg = s1c_err_msg();
        if (s->tp > 1) {
            fprintf(stderr, "s1c-infer serve: engine (tensor-parallel rank 0): %s\n", msg);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        if (!s->o.quiet) fprintf(stderr, "s1c-infer serve: engine: %s\n", msg);
        pthread_mutex_lock(&s->mu);
        for (int k = 0; k < SV_RING; k++) {
            sv_job *j = s->ring[k];
            if (!j) continue;
            const int p = s->ring_prompt[k];
            for (int q = 0; q < j->n; q++) {
                sv_sample *x = &j->s[p * j->n + q];
                if (x->done) continue;
                x->error = s1c_xstrdup(msg);
                x->done = 1;
                x->phase = S1C_PHASE_DONE;
                j->n_done++;
            }
            s->ring[k] = NULL;
            s->running--;
            pthread_cond_broadcast(&j->cv);
            if (job_engine_done(j) && j->http_gone) sv_job_free(j);
        }
        pthread_mutex_unlock(&s->mu);
    }
    sv_tp_send_int(s, 0);  // followers leave their loop
    return NULL;
}

s1c_status sv_engine_thread_start(s1c_server *s) {
    if (pthread_create(&s->engine_thread, NULL, engine_main, s) != 0) return s1c_err("cannot start the engine thread");
    s->engine_started = 1;
    return S1C_OK;
}

// Cancels everything queued or running and joins the engine thread.
void sv_engine_thread_stop(s1c_server *s) {
    if (!s->engine_started) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    for (sv_job *j = s->q_head; j; j = j->next_q) j->cancelled = 1;
    for (int k = 0; k < SV_RING; k++)
        if (s->ring[k]) s->ring[k]->cancelled = 1;
    pthread_cond_broadcast(&s->engine_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->engine_thread, NULL);
    s->engine_started = 0;
}
