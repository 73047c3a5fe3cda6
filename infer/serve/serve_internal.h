// serve_internal.h — private to infer/serve/: the server state, one job per HTTP request, and the
// functions the files share. Locking: every field marked (mu) is read and written under
// s1c_server.mu; the rest is fixed once the job is queued.
#ifndef S1C_SERVE_INTERNAL_H
#define S1C_SERVE_INTERNAL_H

#include <cjson/cJSON.h>
#include <mpi.h>
#include <pthread.h>
#include <stdint.h>

#include "serve.h"
#include "eval.h"  // s1c_utf8_clean
#include "tokenizer.h"
#include "tp_group.h"

#define SV_MAX_STOP 4
#define SV_MAX_PROMPTS 64     // prompts in one /v1/completions request
#define SV_RING 4096          // engine requests in flight at once (the engine holds <= max_batch + 1)

typedef struct {
    int32_t *ids;  // (mu) generated ids so far (final once done)
    float *lp;     // (mu) [n_ids] with logprobs, else NULL
    int n_ids, cap;
    s1c_phase phase;   // (mu) the budget-forcing phase after the last progress report
    s1c_bf_state bf;   // (mu) final state once done
    s1c_finish finish;
    char *error;       // (mu) engine refusal or cancellation
    int done;          // (mu)
    // Streaming (HTTP thread only): ids decoded so far, their text, bytes already sent.
    int committed;
    s1c_decode_stream ds;
    char *text;
    size_t len, tcap, sent;
    int finished_sent;
} sv_sample;

typedef struct sv_job {
    // ---- the request, fixed after parsing ----
    int chat, stream, include_usage;
    int n, n_prompts;
    int logprobs;      // return the chosen tokens' log-probabilities
    int max_tokens, max_answer;
    int thinking;      // the prompt opens a thinking phase (budget forcing applies)
    int max_thinking, min_thinking, num_ignore;
    char *stop[SV_MAX_STOP];
    int n_stop;
    s1c_sampling sampling;
    uint64_t seed;
    s1c_ids prompt[SV_MAX_PROMPTS];
    int prompt_ends_nl[SV_MAX_PROMPTS];
    s1c_ids wait_ids, prefix_ids;
    s1c_bf_config bf;
    s1c_gen_request req[SV_MAX_PROMPTS];
    char id[48];
    long created;
    // ---- shared with the engine thread ----
    int n_handed;      // (mu) engine requests handed out (the engine owns req[0..n_handed))
    int index[SV_MAX_PROMPTS];  // (mu) the engine's number of each prompt's request
    int n_done;        // (mu) samples done, out of n_prompts * n
    int cancelled;     // (mu) the client went away, or the server is stopping
    int http_gone;     // (mu) the HTTP side let go; the last of both sides frees the job
    pthread_cond_t cv; // signalled on progress and completion
    sv_sample *s;      // [n_prompts * n], choice index = prompt * n + sample
    struct sv_job *next_q;  // (mu) the waiting queue
} sv_job;

struct s1c_server {
    s1c_serve_opts o;
    char *model_name;
    // tensor parallelism (tp_serve.c): world rank and size, the group, the feed's channel
    int rank, size, tp;
    s1c_infer_tp grp;
    MPI_Comm tp_msg;
    // model and tokenizer (read-only once started)
    s1c_backend *be;
    s1c_qwen2_model m;
    int model_loaded;
    s1c_tokenizer *tok;
    s1c_engine *eng;
    s1c_ids delim, wait, prefix;
    int32_t newline;
    int32_t stops[4];
    int n_stops;
    int early;
    int vocab_limit, max_context, max_batch, kv_total;
    // the engine thread and its queue
    pthread_t engine_thread;
    int engine_started;
    pthread_mutex_t mu;
    pthread_cond_t engine_cv;
    sv_job *q_head, *q_tail;    // (mu) jobs with prompts not yet handed to the engine
    int n_waiting;              // (mu) jobs in the queue
    int next_index;             // (mu) the engine's number of the next request handed out
    sv_job *ring[SV_RING];      // (mu) engine request number % SV_RING → job
    int ring_prompt[SV_RING];   // (mu) and which of its prompts
    int stopping;               // (mu)
    int kv_free;                // (mu) free KV blocks, published by the engine thread
    int running;                // (mu) engine requests in flight
    long served, tokens_out;    // (mu)
    long steps, prefix_hits;    // (mu) engine steps, prompt tokens reused (published like kv_free)
    uint64_t seed_counter;      // (mu) seeds for requests that give none
    // HTTP
    struct MHD_Daemon *d;
    int port;
};

// runner.c: model loading, the engine thread, jobs.
const char *sv_tok_bytes(void *tok, int32_t id, size_t *len);  // s1c_token_bytes_fn
s1c_status sv_model_load(s1c_server *s);
void sv_model_free(s1c_server *s);
s1c_status sv_engine_thread_start(s1c_server *s);
void sv_engine_thread_stop(s1c_server *s);
void sv_job_enqueue(s1c_server *s, sv_job *j);
// The HTTP side is done with j (after the response or a disconnect); cancels it if unfinished.
void sv_job_release(s1c_server *s, sv_job *j);
void sv_job_free(sv_job *j);

// tp_serve.c: rank 0's side of the feed's channel (no-ops without --tp): its answers to the
// engine's next() and cancelled() questions, and 1 (serve) / 0 (quit) before each serve call.
void sv_tp_send_next(s1c_server *s, const s1c_gen_request *r);
void sv_tp_send_int(s1c_server *s, int v);

// request.c: JSON body → job. On failure returns NULL and fills *status (400 / 404) and a
// malloc'ed OpenAI-style error body.
sv_job *sv_request_parse(s1c_server *s, int chat, const char *body, size_t len, int *status, char **err_body);
char *sv_error_body(const char *message, const char *type, const char *param);

// response.c: texts and JSON of finished jobs and stream chunks.
char *sv_sample_text(const s1c_server *s, const sv_job *j, const sv_sample *x);  // final, stop cut
size_t sv_stop_cut(const sv_job *j, s1c_finish f, const char *text, size_t len);
char *sv_response_json(const s1c_server *s, const sv_job *j);
// Appends to *out the SSE events that are ready for j (under mu); returns 1 once [DONE] was added.
int sv_stream_step(const s1c_server *s, sv_job *j, char **out, size_t *len, size_t *cap);
const char *sv_finish_reason(s1c_finish f);

// http.c
s1c_status sv_http_start(s1c_server *s);
void sv_http_stop(s1c_server *s);

#endif
