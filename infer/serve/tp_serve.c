// tp_serve.c — `mpirun -np N s1c-infer serve --tp N`: one model split over N ranks (tensor
// parallel, model/qwen2_tp.c). Rank 0 is the server (HTTP, queue, engine thread); ranks 1..N-1
// run the same engine over their shards, fed by rank 0.
//
// Why this is enough: the engine's decisions (admission, batching, sampling, budget forcing) are
// a function of what its feed answers — which request comes next, whether a request was
// cancelled — and of the logits, which the group computes together and every rank sees alike
// (the property eval --tp relies on, infer/README.md). So rank 0 broadcasts exactly its feed's
// answers, in the order its engine asks; each follower's engine asks the same questions in the
// same order and gets the same answers, and every rank runs the same steps. Before each
// s1c_engine_serve call rank 0 broadcasts 1 (serve) or 0 (quit).
//
// Messages go over their own duplicate of MPI_COMM_WORLD (never mixed with the model's
// collectives) as non-blocking broadcasts: a follower waits by testing with a growing sleep, so an
// idle server's followers do not spin a core each (a blocking MPI_Bcast busy-polls).
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve_internal.h"

// ---- the channel -------------------------------------------------------------------------------
static void bcast_wait(s1c_server *s, void *buf, int bytes) {
    MPI_Request rq;
    MPI_Ibcast(buf, bytes, MPI_BYTE, 0, s->tp_msg, &rq);
    if (s->rank == 0) {
        MPI_Wait(&rq, MPI_STATUS_IGNORE);
        return;
    }
    // Spin briefly (a message inside a step arrives within microseconds), then sleep up to 1 ms.
    long ns = 0;
    for (int spins = 0;; spins++) {
        int done = 0;
        MPI_Test(&rq, &done, MPI_STATUS_IGNORE);
        if (done) return;
        if (spins < 2000) continue;
        ns = ns < 1000000 ? ns + 20000 : 1000000;
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
    }
}

void sv_tp_send_int(s1c_server *s, int v) {
    if (s->tp > 1) bcast_wait(s, &v, (int)sizeof v);
}

static int recv_int(s1c_server *s) {
    int v = 0;
    bcast_wait(s, &v, (int)sizeof v);
    return v;
}

// ---- requests on the wire ----------------------------------------------------------------------
// Header: [has request, payload bytes]; payload: the fixed fields, then prompt, wait and answer
// prefix ids, then the stop strings (NUL-terminated). The delimiter, newline, stop ids and token
// bytes are the server's own on every rank (same tokenizer, same options), not sent.
typedef struct {
    uint64_t seed;
    s1c_sampling sampling;
    int n_prompt, n_samples, prompt_ends_nl, max_new_tokens, n_stop_strings, logprobs;
    int max_thinking, min_thinking, ignore, max_answer, no_thinking, early_trigger;
    int end_on_delim_start, eos_delim_only, min_tokens, n_wait, n_answer_prefix;
} wire_fixed;

typedef struct {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void put(wbuf *b, const void *x, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->p = s1c_xrealloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->len, x, n);
    b->len += n;
}

void sv_tp_send_next(s1c_server *s, const s1c_gen_request *r) {
    if (s->tp <= 1) return;
    int64_t head[2] = {r != NULL, 0};
    wbuf b = {0};
    if (r) {
        const s1c_bf_config *bf = r->bf;
        wire_fixed f = {.seed = r->seed, .sampling = r->sampling, .n_prompt = r->n_prompt, .n_samples = r->n_samples,
                        .prompt_ends_nl = r->prompt_ends_nl, .max_new_tokens = r->max_new_tokens,
                        .n_stop_strings = r->n_stop_strings, .logprobs = r->logprobs,
                        .max_thinking = bf->max_thinking, .min_thinking = bf->min_thinking, .ignore = bf->ignore,
                        .max_answer = bf->max_answer, .no_thinking = bf->no_thinking, .early_trigger = bf->early_trigger,
                        .end_on_delim_start = bf->end_on_delim_start, .eos_delim_only = bf->eos_delim_only,
                        .min_tokens = bf->min_tokens, .n_wait = bf->n_wait, .n_answer_prefix = bf->n_answer_prefix};
        put(&b, &f, sizeof f);
        put(&b, r->prompt, (size_t)r->n_prompt * sizeof(int32_t));
        put(&b, bf->wait, (size_t)bf->n_wait * sizeof(int32_t));
        put(&b, bf->answer_prefix, (size_t)bf->n_answer_prefix * sizeof(int32_t));
        for (int i = 0; i < r->n_stop_strings; i++) put(&b, r->stop_strings[i], strlen(r->stop_strings[i]) + 1);
        head[1] = (int64_t)b.len;
    }
    bcast_wait(s, head, (int)sizeof head);
    if (r) bcast_wait(s, b.p, (int)b.len);
    free(b.p);
}

// A follower's copy of a request: the engine holds it until every sample is reported.
typedef struct {
    s1c_gen_request req;
    s1c_bf_config bf;
    int32_t *ids;  // prompt | wait | answer prefix
    char *strings; // the stop strings, back to back
    const char *stop[SV_MAX_STOP];
    int reports_left;
} follower_req;

typedef struct {
    s1c_server *s;
    follower_req *held[SV_RING];  // by engine request number % SV_RING
    int next_index;
} follower;

static void bad_message(const char *what) {
    fprintf(stderr, "s1c-infer serve: tensor-parallel follower: malformed message from rank 0 (%s)\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static const s1c_gen_request *follower_next(void *ctx, int wait) {
    (void)wait;
    follower *fw = ctx;
    s1c_server *s = fw->s;
    int64_t head[2];
    bcast_wait(s, head, (int)sizeof head);
    if (!head[0]) return NULL;
    if (head[1] < (int64_t)sizeof(wire_fixed) || head[1] > ((int64_t)1 << 30)) bad_message("payload size");
    uint8_t *p = s1c_xmalloc((size_t)head[1]);
    bcast_wait(s, p, (int)head[1]);
    wire_fixed f;
    memcpy(&f, p, sizeof f);
    const size_t n_ids = (size_t)f.n_prompt + (size_t)f.n_wait + (size_t)f.n_answer_prefix;
    const size_t fixed_and_ids = sizeof f + n_ids * sizeof(int32_t);
    if (f.n_prompt < 0 || f.n_wait < 0 || f.n_answer_prefix < 0 || f.n_stop_strings < 0 ||
        f.n_stop_strings > SV_MAX_STOP || fixed_and_ids > (size_t)head[1])
        bad_message("field counts");
    follower_req *q = s1c_xcalloc(1, sizeof *q);
    q->ids = s1c_xmalloc((n_ids ? n_ids : 1) * sizeof(int32_t));
    memcpy(q->ids, p + sizeof f, n_ids * sizeof(int32_t));
    const size_t n_str = (size_t)head[1] - fixed_and_ids;
    q->strings = s1c_xmalloc(n_str + 1);
    memcpy(q->strings, p + fixed_and_ids, n_str);
    q->strings[n_str] = '\0';
    free(p);
    const char *at = q->strings;
    for (int i = 0; i < f.n_stop_strings; i++) {
        if (at >= q->strings + n_str) bad_message("stop strings");
        q->stop[i] = at;
        at += strlen(at) + 1;
    }
    const int32_t *wait_ids = q->ids + f.n_prompt, *prefix_ids = wait_ids + f.n_wait;
    q->bf = (s1c_bf_config){.max_thinking = f.max_thinking, .min_thinking = f.min_thinking, .ignore = f.ignore,
                            .max_answer = f.max_answer, .no_thinking = f.no_thinking, .early_trigger = f.early_trigger,
                            .end_on_delim_start = f.end_on_delim_start, .eos_delim_only = f.eos_delim_only,
                            .min_tokens = f.min_tokens, .delim = s->delim.ids, .n_delim = (int)s->delim.n,
                            .wait = wait_ids, .n_wait = f.n_wait, .answer_prefix = prefix_ids,
                            .n_answer_prefix = f.n_answer_prefix, .newline_id = s->newline, .stop_ids = s->stops,
                            .n_stop = s->n_stops, .token_bytes = sv_tok_bytes, .token_ctx = (void *)s->tok};
    q->req = (s1c_gen_request){.prompt = q->ids, .n_prompt = f.n_prompt, .n_samples = f.n_samples, .seed = f.seed,
                               .sampling = f.sampling, .bf = &q->bf, .prompt_ends_nl = f.prompt_ends_nl,
                               .max_new_tokens = f.max_new_tokens, .stop_strings = q->stop,
                               .n_stop_strings = f.n_stop_strings, .logprobs = f.logprobs};
    // The engine reports max(n_samples, 1) results per request (a refusal reports one per sample
    // or one when n_samples is 0), each once.
    q->reports_left = f.n_samples > 0 ? f.n_samples : 1;
    const int k = fw->next_index % SV_RING;
    if (fw->held[k]) bad_message("more requests in flight than the ring holds");
    fw->held[k] = q;
    fw->next_index++;
    return &q->req;
}

static int follower_cancelled(void *ctx, int request) {
    (void)request;
    return recv_int(((follower *)ctx)->s);
}

static void follower_done(void *ctx, const s1c_gen_result *r) {
    follower *fw = ctx;
    const int k = r->request % SV_RING;
    follower_req *q = fw->held[k];
    if (!q) return;
    if (--q->reports_left > 0) return;
    free(q->ids);
    free(q->strings);
    free(q);
    fw->held[k] = NULL;
}

s1c_status s1c_server_follow(const s1c_serve_opts *o) {
    s1c_server *s = s1c_xcalloc(1, sizeof *s);
    s->o = *o;
    s1c_status st = sv_model_load(s);
    if (st) {
        sv_model_free(s);
        free(s);
        return st;
    }
    follower fw = {.s = s};
    s1c_gen_feed feed = {.next = follower_next, .cancelled = follower_cancelled, .ctx = &fw};
    while (st == S1C_OK && recv_int(s) == 1) {
        fw.next_index = 0;  // the engine numbers each serve call's requests from 0
        st = s1c_engine_serve(s->eng, &feed, follower_done, &fw);
    }
    for (int k = 0; k < SV_RING; k++)
        if (fw.held[k]) {
            free(fw.held[k]->ids);
            free(fw.held[k]->strings);
            free(fw.held[k]);
        }
    sv_model_free(s);
    free(s);
    return st;
}
