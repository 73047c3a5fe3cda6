// serve.h — `s1c-infer serve`: an OpenAI-compatible HTTP server (libmicrohttpd) in front of the
// engine, with budget forcing as request fields.
//
// Endpoints: POST /v1/completions, POST /v1/chat/completions (the s1 chat format), GET /v1/models,
// GET /health. One engine thread runs every client's requests in one continuous batch over one
// paged KV cache; each HTTP connection has its own thread that enqueues its request and waits for
// it (or streams it as server-sent events). The request fields are documented in infer/README.md.
#ifndef S1C_INFER_SERVE_H
#define S1C_INFER_SERVE_H

#include <stddef.h>

#include "engine.h"
#include "s1c_err.h"

typedef struct {
    const char *model_dir, *tokenizer_dir, *device;
    const char *matmul_precision;  // bf16 | exact (ops.h wbf16_exact; NULL: bf16)
    const char *model_name;  // the id /v1/models lists and responses carry (default: the model dir)
    const char *host;        // default 127.0.0.1
    int port;                // 0: an ephemeral port (s1c_server_port tells which)
    const char *api_key;     // NULL: no authentication; else "Authorization: Bearer KEY" is required
    size_t max_body;         // request bodies above this many bytes are refused (413)
    int max_connections;     // connections served at once (each holds a thread)
    const char *think_end, *default_wait, *default_answer_prefix;
    const char *weights_dtype;  // "auto" (default), "bf16", "fp32": as s1c-infer eval --weights-dtype
    int tp;                     // ranks the model is split over (under mpirun: the job's size); 0/1: none
    s1c_engine_opts engine;
    int quiet;
} s1c_serve_opts;

void s1c_serve_opts_default(s1c_serve_opts *o);

typedef struct s1c_server s1c_server;
// Loads the model, starts the engine thread and the HTTP daemon. Errors name what failed.
s1c_status s1c_server_start(const s1c_serve_opts *o, s1c_server **out);
int s1c_server_port(const s1c_server *s);
// Stops accepting, cancels what is running, joins the threads, frees everything.
void s1c_server_stop(s1c_server *s);
// With --tp under mpirun, ranks other than 0: load this rank's shards and run the engine as rank
// 0's server feeds it, until rank 0 stops (tp_serve.c). Rank 0 calls s1c_server_start.
s1c_status s1c_server_follow(const s1c_serve_opts *o);

// The `serve` command: s1c_serve_main(argc, argv) with argv[0] = "serve". Returns the exit code.
int s1c_serve_main(int argc, char **argv);

#endif
