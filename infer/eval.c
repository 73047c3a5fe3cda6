// eval.c — see eval.h.
#include "eval.h"
#include "control_within.h"
#include "control_data.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grade/grade.h"
#include "s1_format.h"
#include "s1c_file.h"
#include "s1c_mpi.h"
#include "lm_eval_out.h"
#include "summary.h"
#include "tp_group.h"

void s1c_eval_opts_default(s1c_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->device = "cpu";
    o->weights_dtype = "auto";
    o->matmul_precision = "bf16";
    o->think_end = S1C_THINK_END;
    o->answer_prefix = S1C_ANSWER_PREFIX;
    o->wait = "Wait";
    o->max_thinking = -1;
    o->max_answer = 2048;
    o->max_new = 32768;
    o->n = 1;
    o->seed = 0;
    o->control_budget = -1;
    o->step_delim = "\n\n";
    o->rejection_tries = 16;
    o->progress_every = 60;
    o->model_writes_newline = 1;
    o->min_tokens = -1;
    o->sampling.temperature = 0.0f;
    o->sampling.top_p = 1.0f;
}

struct s1c_infer_ctx {
    s1c_backend *be;
    s1c_qwen2_model m;
    int model_loaded;
    s1c_tokenizer *tok;
    s1c_engine *eng;
    // Data parallelism over tensor-parallel groups: world rank = group * tp + tp_rank. rank / size
    // are the group's index and the number of groups; dp joins the ranks with the same tp_rank
    // (one "slice": one rank of every group), so each slice runs the data-parallel protocol
    // (problem shards, progress, merge) as a job without TP does; the groups' ranks compute
    // identical records (infer/README.md), and slice 0 writes them.
    int rank, size;
    int tp, tp_rank;
    MPI_Comm dp;
    s1c_infer_tp grp;  // the group's communicators and the model's hooks (tp_group.h)
    s1c_ids delim, wait, prefix;
    int32_t newline;
    int32_t stops[4];
    int n_stops;
    int early;
};

static const char *tok_bytes(void *ctx, int32_t id, size_t *len) {
    const char *b = s1c_tokenizer_id_bytes(ctx, id, len);
    if (!b) *len = 0;
    return b;
}

static s1c_status encode(const s1c_tokenizer *tok, const char *s, s1c_ids *out) {
    memset(out, 0, sizeof *out);
    return s1c_tokenizer_encode(tok, s, strlen(s), 0, out);
}

static int is_special(const s1c_tokenizer *tok, int32_t id) {
    char *t = NULL;
    size_t n = 0;
    if (s1c_tokenizer_decode(tok, &id, 1, 1, &t, &n) != S1C_OK) return 0;
    free(t);
    return n == 0;
}

void s1c_infer_ctx_free(s1c_infer_ctx *c) {
    if (!c) return;
    s1c_engine_free(c->eng);
    if (c->model_loaded) s1c_qwen2_model_free(&c->m);
    s1c_infer_tp_free(&c->grp);
    int fin = 1;
    MPI_Finalized(&fin);
    if (c->dp != MPI_COMM_NULL && c->dp != MPI_COMM_WORLD && !fin) MPI_Comm_free(&c->dp);
    s1c_backend_destroy(c->be);
    s1c_tokenizer_free(c->tok);
    s1c_ids_free(&c->delim);
    s1c_ids_free(&c->wait);
    s1c_ids_free(&c->prefix);
    free(c);
}

// Groups of o->tp consecutive ranks (tp_group.h); the data-parallel communicator of this rank's
// slice.
static s1c_status tp_setup(s1c_infer_ctx *c, const s1c_eval_opts *o, int rank, int size) {
    c->dp = MPI_COMM_NULL;
    S1C_TRY(s1c_infer_tp_init(&c->grp, o->tp, rank, size));
    c->tp = c->grp.tp;
    c->tp_rank = c->grp.tp_rank;
    c->rank = c->grp.group;
    c->size = c->grp.n_groups;
    int inited = 0;
    MPI_Initialized(&inited);
    if (c->tp == 1) {
        c->dp = inited ? MPI_COMM_WORLD : MPI_COMM_NULL;
        return S1C_OK;
    }
    if (MPI_Comm_split(MPI_COMM_WORLD, c->tp_rank, rank, &c->dp) != MPI_SUCCESS)
        return s1c_err("--tp %d: MPI_Comm_split of the data-parallel ranks failed", c->tp);
    return S1C_OK;
}

s1c_status s1c_infer_ctx_create(const s1c_eval_opts *o, int rank, int size, s1c_infer_ctx **out) {
    *out = NULL;
    if (!o->model_dir) return s1c_err("--model DIR is required");
    s1c_infer_ctx *c = s1c_xcalloc(1, sizeof *c);
    s1c_status st = tp_setup(c, o, rank, size);
    if (!st) {
        c->tok = s1c_tokenizer_load(o->tokenizer_dir ? o->tokenizer_dir : o->model_dir);
        if (!c->tok) st = S1C_ERR;
    }
    const int dev = strcmp(o->device, "cuda") == 0 ? s1c_infer_gpu_for_rank(rank, size) : 0;
    if (!st && !(c->be = s1c_backend_create(o->device, dev))) st = S1C_ERR;
    if (!st) st = s1c_backend_set_matmul_precision(c->be, o->matmul_precision);
    if (!st) st = s1c_infer_tp_device(&c->grp, c->be, rank, size);
    if (!st) {
        st = s1c_qwen2_model_load_tp(c->be, o->model_dir, o->weights_dtype ? o->weights_dtype : "auto",
                                     s1c_infer_tp_hooks(&c->grp), &c->m);
        c->model_loaded = st == S1C_OK;
    }
    if (!st && s1c_tokenizer_vocab_size(c->tok) > c->m.cfg.vocab_size)
        st = s1c_err("%s: the tokenizer has %d tokens but the checkpoint's vocab_size is %d (mismatched tokenizer "
                     "and model?)", o->model_dir, s1c_tokenizer_vocab_size(c->tok), c->m.cfg.vocab_size);
    if (!st) st = encode(c->tok, o->think_end, &c->delim);
    if (!st) st = encode(c->tok, o->wait, &c->wait);
    if (!st) st = encode(c->tok, o->answer_prefix, &c->prefix);
    if (!st && c->delim.n == 0) st = s1c_err("end-of-thinking delimiter '%s' encodes to no tokens", o->think_end);
    if (!st) {
        s1c_ids nl;
        st = encode(c->tok, "\n", &nl);
        if (!st && nl.n != 1) st = s1c_err("tokenizer: \"\\n\" is not a single token");
        if (!st) c->newline = nl.ids[0];
        s1c_ids_free(&nl);
    }
    if (!st) {
        // Ending the turn (<|im_end|>) and end-of-sequence both stop a sequence.
        int32_t cand[3] = {s1c_tokenizer_token_id(c->tok, "<|im_end|>"), s1c_tokenizer_eos_id(c->tok), c->m.cfg.eos_token_id};
        for (int i = 0; i < 3; i++) {
            if (cand[i] < 0 || cand[i] >= c->m.cfg.vocab_size) continue;
            int dup = 0;
            for (int j = 0; j < c->n_stops; j++) dup |= c->stops[j] == cand[i];
            if (!dup) c->stops[c->n_stops++] = cand[i];
        }
        c->early = is_special(c->tok, c->delim.ids[0]);
    }
    if (!st) {
        s1c_engine_opts eo = o->engine;
        eo.vocab_limit = s1c_tokenizer_vocab_size(c->tok);
        c->eng = s1c_engine_create(&c->m, &eo, tok_bytes, c->tok);
        if (!c->eng) st = S1C_ERR;
        // Every rank of the first group: the shards' sizes (the other groups' are the same).
        if (c->eng && !o->quiet && rank < c->tp) {
            char plan[512];
            s1c_engine_memory_plan(c->eng, plan, sizeof plan);
            fprintf(stderr, "s1c-infer: %s\n", plan);
        }
    }
    if (st) {
        s1c_infer_ctx_free(c);
        return st;
    }
    *out = c;
    return S1C_OK;
}

static s1c_bf_config bf_config(const s1c_infer_ctx *c, const s1c_eval_opts *o, int max_thinking) {
    s1c_bf_config b = {.max_thinking = max_thinking, .min_thinking = o->min_thinking, .ignore = o->ignore,
                       .max_answer = o->max_answer, .early_trigger = c->early, .delim = c->delim.ids,
                       .n_delim = (int)c->delim.n, .wait = c->wait.ids, .n_wait = (int)c->wait.n,
                       .answer_prefix = c->prefix.ids, .n_answer_prefix = (int)c->prefix.n, .newline_id = c->newline,
                       .stop_ids = c->stops, .n_stop = c->n_stops, .token_bytes = tok_bytes,
                       .token_ctx = (void *)c->tok, .end_on_delim_start = !o->think_stop_full,
                       .eos_delim_only = !o->eos_forced_end,
                       .min_tokens = o->min_tokens >= 0 ? o->min_tokens : o->ignore > 0 ? 1 : 0};
    return b;
}

char *s1c_utf8_clean(const char *s, size_t n) {
    char *o = s1c_xmalloc(3 * n + 1), *w = o;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        int ok = len > 0 && i + (size_t)len <= n && c != 0;
        for (int k = 1; ok && k < len; k++) ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
        if (ok) {
            memcpy(w, s + i, (size_t)len);
            w += len;
            i += (size_t)len;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
            i++;
        }
    }
    *w = '\0';
    return o;
}

static char *utf8_clean(const char *s) { return s1c_utf8_clean(s, strlen(s)); }

static char *control_extra(const s1c_eval_opts *o) {
    char buf[256];
    int budget = o->control_budget >= 0 ? o->control_budget : o->max_thinking;
    switch (o->control) {
    case S1C_CONTROL_TOKEN: snprintf(buf, sizeof buf, "Think for up to %d tokens.", budget); break;
    case S1C_CONTROL_STEP: snprintf(buf, sizeof buf, "Think for up to %d steps.", budget); break;
    case S1C_CONTROL_CLASS:
        // The s1 harness's two generic instructions (PROMPTLONG / PROMPTSHORT), the strings the
        // class-conditional training records carry (data/control_data.h).
        snprintf(buf, sizeof buf, "%s", o->class_long ? S1C_CTL_CLASS_LONG : S1C_CTL_CLASS_SHORT);
        break;
    default: return NULL;
    }
    return s1c_xstrdup(buf);
}

static void sb_put(char **b, size_t *n, size_t *cap, const char *s, size_t k) {
    if (*n + k + 1 > *cap) *b = s1c_xrealloc(*b, *cap = 2 * (*n + k + 1) + 256);
    memcpy(*b + *n, s, k);
    *n += k;
    (*b)[*n] = '\0';
}

const char *s1c_eval_default_template(s1c_bench_format fmt) {
    // GPQA: the letter instruction of the s1 eval's gpqa_diamond_openai task (OpenAI
    // simple-evals' zero-shot prompt) in substance, worded here; --template gives any exact text.
    if (fmt == S1C_BENCH_GPQA)
        return "Answer this multiple-choice question. Think step by step, then give your final choice on the last "
               "line as 'Answer: X', where X is one of A, B, C or D.\n\n{question}";
    return "{question}";  // AIME / MATH: the problem as it is (s1's aime24_nofigures / openai_math)
}

char *s1c_eval_prompt(const s1c_eval_opts *o, const char *tmpl, const char *question, const char *extra) {
    const char *sys = o->system ? o->system : S1C_DEFAULT_SYSTEM;
    char *b = NULL;
    size_t n = 0, cap = 0;
    sb_put(&b, &n, &cap, "", 0);
    if (*sys) {  // "" leaves the system turn out
        sb_put(&b, &n, &cap, "<|im_start|>system\n", 19);
        sb_put(&b, &n, &cap, sys, strlen(sys));
        sb_put(&b, &n, &cap, "<|im_end|>\n", 11);
    }
    sb_put(&b, &n, &cap, "<|im_start|>user\n", 17);
    for (const char *t = tmpl ? tmpl : "{question}"; *t;) {
        const char *q = strstr(t, "{question}");
        size_t k = q ? (size_t)(q - t) : strlen(t);
        sb_put(&b, &n, &cap, t, k);
        if (!q) break;
        sb_put(&b, &n, &cap, question, strlen(question));
        t = q + 10;
    }
    if (extra) {
        sb_put(&b, &n, &cap, "\n\n", 2);
        sb_put(&b, &n, &cap, extra, strlen(extra));
    }
    sb_put(&b, &n, &cap, "<|im_end|>\n<|im_start|>assistant\n" S1C_THINK_START,
           strlen("<|im_end|>\n<|im_start|>assistant\n" S1C_THINK_START));
    if (!o->model_writes_newline) sb_put(&b, &n, &cap, "\n", 1);
    return b;
}

// ---- per-sample records ------------------------------------------------------------------------
typedef struct {
    int done;
    int32_t *ids;
    int n_ids;
    s1c_bf_state bf;
    s1c_finish finish;
    char *error;
    int tries;
} sample_raw;

typedef struct {
    sample_raw *raw;  // [n_local * n]
    int n;
    int *req_to_slot;  // request index → first raw slot of its samples (rejection reruns: 1 sample)
    long done, total;
    long gen_tokens;
    double t0;
    int progress;  // 0 off, 1 terminal (\r), 2 a line every `every` seconds
    int every, ranks;
    double last_line;
    const char *label;
    const s1c_engine *eng;
    // All-rank progress under mpirun: ranks > 0 send {done, total, tokens, end} to rank 0 every
    // `every` seconds (point to point, tag PROGRESS_TAG, so nobody waits on a collective); rank 0
    // reads what has arrived whenever one of its own samples finishes.
    int mpi_progress, rank;
    MPI_Comm comm;    // the data-parallel ranks (of one tensor-parallel slice, eval.h)
    long (*peer)[4];  // rank 0: [ranks] the latest message of each rank
    long msg[4];
    MPI_Request req;
    int req_live;
    double last_send;
} collector;

#define PROGRESS_TAG 7177

static void progress_send(collector *col, int end) {
    if (col->req_live) MPI_Wait(&col->req, MPI_STATUS_IGNORE);
    col->msg[0] = col->done;
    col->msg[1] = col->total;
    col->msg[2] = col->gen_tokens;
    col->msg[3] = end;
    if (end) {
        MPI_Send(col->msg, 4, MPI_LONG, 0, PROGRESS_TAG, col->comm);
        col->req_live = 0;
    } else {
        MPI_Isend(col->msg, 4, MPI_LONG, 0, PROGRESS_TAG, col->comm, &col->req);
        col->req_live = 1;
    }
}

// Rank 0: takes in every progress message that has arrived (block = 1: until every rank has
// sent its end message, so that none is left over for the next run).
static void progress_recv(collector *col, int block) {
    for (;;) {
        int flag = 0, open = 0;
        for (int r = 1; r < col->ranks; r++) open += !col->peer[r][3];
        if (!open) return;
        MPI_Status stt;
        if (block) MPI_Probe(MPI_ANY_SOURCE, PROGRESS_TAG, col->comm, &stt);
        else MPI_Iprobe(MPI_ANY_SOURCE, PROGRESS_TAG, col->comm, &flag, &stt);
        if (!block && !flag) return;
        long m[4];
        MPI_Recv(m, 4, MPI_LONG, stt.MPI_SOURCE, PROGRESS_TAG, col->comm, MPI_STATUS_IGNORE);
        if (stt.MPI_SOURCE > 0 && stt.MPI_SOURCE < col->ranks) memcpy(col->peer[stt.MPI_SOURCE], m, sizeof m);
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_done(void *ctx, const s1c_gen_result *r) {
    collector *col = ctx;
    sample_raw *s = &col->raw[col->req_to_slot[r->request] + r->sample];
    free(s->ids);
    free(s->error);
    s->ids = NULL;
    s->error = NULL;
    s->done = 1;
    s->tries++;
    if (r->error) {
        s->error = s1c_xstrdup(r->error);
        s->n_ids = 0;
    } else {
        s->n_ids = r->n_ids;
        s->ids = s1c_xmalloc((size_t)r->n_ids * sizeof(int32_t) + 1);
        memcpy(s->ids, r->ids, (size_t)r->n_ids * sizeof(int32_t));
        s->bf = r->bf;
        s->finish = r->finish;
        col->gen_tokens += r->n_ids;
    }
    col->done++;
    if (col->mpi_progress && col->rank > 0) {
        double t = now_s();
        if (t - col->last_send >= col->every) {
            col->last_send = t;
            progress_send(col, 0);
        }
        return;
    }
    if (col->mpi_progress) progress_recv(col, 0);
    if (col->progress) {
        double t = now_s(), el = t - col->t0;
        long done = col->done, total = col->total, tokens = col->gen_tokens;
        for (int k = 1; col->mpi_progress && k < col->ranks; k++) {
            done += col->peer[k][0];
            total += col->peer[k][1];
            tokens += col->peer[k][2];
        }
        double rate = el > 0 ? (double)tokens / el : 0;
        double eta = done ? el * (double)(total - done) / (double)done : 0;
        const char *scope = col->ranks > 1 ? (col->mpi_progress ? " (all ranks)" : " (rank 0)") : "";
        if (col->progress == 1) {  // a terminal: one line redrawn
            fprintf(stderr, "\r[s1c-infer] %ld/%ld samples%s  %.1f tok/s  elapsed %.0fs  ETA %.0fs   ", done, total,
                    scope, rate, el, eta);
            if (col->done == col->total) fputc('\n', stderr);
        } else if (t - col->last_line >= col->every || col->done == col->total) {
            // A log file: a whole line every `every` seconds (figures of other ranks as of
            // their last message, at most `every` seconds old).
            col->last_line = t;
            fprintf(stderr, "[s1c-infer] %s: %ld/%ld samples%s  %.1f tok/s  elapsed %.0fs  ETA %.0fs\n", col->label,
                    done, total, scope, rate, el, eta);
        }
    }
}

typedef struct {
    int32_t problem, sample, correct, think, answer, within, extracted, json_len;
} rec_head;

// JSON record of one sample (and its numeric summary).
static char *sample_json(const s1c_infer_ctx *c, const s1c_eval_opts *o, const s1c_problem *pb, int global, int j,
                         const sample_raw *s, const char *prompt, s1c_bench_format fmt, int budget_max, rec_head *h) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", pb->id);
    cJSON_AddNumberToObject(r, "index", global);
    cJSON_AddNumberToObject(r, "sample", j);
    cJSON_AddNumberToObject(r, "seed", (double)(o->seed + (uint64_t)global * (uint64_t)o->n + (uint64_t)j));
    char *cp = utf8_clean(prompt);
    cJSON_AddStringToObject(r, "prompt", cp);
    free(cp);
    char *text = NULL;
    size_t tlen = 0;
    if (!s->error && s1c_tokenizer_decode(c->tok, s->ids, (size_t)s->n_ids, 0, &text, &tlen) != S1C_OK) {
        text = NULL;
        cJSON_AddStringToObject(r, "decode_error", s1c_err_msg());
    }
    char *gen = utf8_clean(text ? text : "");
    free(text);
    char *ans = s->error ? NULL : s1c_extract_answer(gen, o->think_end, fmt);
    int correct = s1c_grade(fmt, pb->gold, ans);
    cJSON_AddStringToObject(r, "generation", gen);
    if (ans) cJSON_AddStringToObject(r, "extracted", ans);
    else cJSON_AddNullToObject(r, "extracted");
    cJSON_AddStringToObject(r, "gold", pb->gold);
    cJSON_AddBoolToObject(r, "correct", correct);
    cJSON_AddNumberToObject(r, "thinking_tokens", s->bf.think_tokens);
    cJSON_AddNumberToObject(r, "answer_tokens", s->bf.answer_tokens);
    cJSON_AddNumberToObject(r, "generated_tokens", s->n_ids);
    cJSON_AddStringToObject(r, "thinking_end", s1c_think_end_name(s->bf.end));
    cJSON_AddNumberToObject(r, "extensions", s->bf.extensions);
    cJSON_AddNumberToObject(r, "min_extensions", s->bf.min_extensions);
    cJSON_AddStringToObject(r, "finish", s1c_finish_name(s->finish));
    int steps = 0;
    if (o->control == S1C_CONTROL_STEP) {
        const char *d = strstr(gen, o->think_end);
        char *think = d ? strndup(gen, (size_t)(d - gen)) : s1c_xstrdup(gen);
        steps = s1c_thinking_steps(think, o->step_delim);
        cJSON_AddNumberToObject(r, "thinking_steps", steps);
        free(think);
    }
    // Table 3's Control judges each method by its own budget: a conditional prompt's N (tokens or
    // steps) as well as --max-thinking. The record keeps the verdict; the summary counts it.
    const int within = !s->error && s1c_control_within(o->control, o->control_budget, o->min_thinking, budget_max,
                                                       s->bf.think_tokens, steps);
    if (o->control == S1C_CONTROL_TOKEN || o->control == S1C_CONTROL_STEP) {
        cJSON_AddNumberToObject(r, "control_budget", o->control_budget >= 0 ? o->control_budget : o->max_thinking);
        cJSON_AddBoolToObject(r, "within_budget", within);
    }
    if (o->control == S1C_CONTROL_REJECTION) {
        cJSON_AddNumberToObject(r, "rejection_tries", s->tries);
        cJSON_AddBoolToObject(r, "accepted", s->bf.end != S1C_END_FORCED);
    }
    if (pb->subject) cJSON_AddStringToObject(r, "subject", pb->subject);
    if (pb->level > 0) cJSON_AddNumberToObject(r, "level", pb->level);
    if (fmt == S1C_BENCH_GPQA) {
        cJSON *perm = cJSON_CreateIntArray(pb->perm, 4);
        cJSON_AddItemToObject(r, "choice_permutation", perm);
    }
    if (s->error) cJSON_AddStringToObject(r, "error", s->error);
    char *json = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    h->problem = global;
    h->sample = j;
    h->correct = correct;
    h->think = s->bf.think_tokens;
    h->answer = s->bf.answer_tokens;
    h->within = within;
    h->extracted = ans != NULL;
    h->json_len = (int32_t)strlen(json);
    free(ans);
    free(gen);
    return json;
}

// Records are padded to 4 bytes in the blob so every rec_head stays aligned.
static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static int cmp_head(const void *a, const void *b) {
    const rec_head *x = *(rec_head *const *)a, *y = *(rec_head *const *)b;
    if (x->problem != y->problem) return x->problem < y->problem ? -1 : 1;
    return (x->sample > y->sample) - (x->sample < y->sample);
}

static int count_extracted(cJSON *const *recs, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) k += cJSON_IsString(cJSON_GetObjectItemCaseSensitive(recs[i], "extracted"));
    return k;
}

// What the numbers were computed with, as the run resolved it (the options hold what was asked:
// "auto", the default precision): the weights' storage, and on bf16 weights the CPU's product
// path (which depends on the machine: AVX512-BF16 rounds the activations to bf16).
static void add_numerics(cJSON *prov, const s1c_infer_ctx *c) {
    const s1c_qwen2_model *m = &c->m;
    cJSON_AddStringToObject(prov, "backend", c->be->name);
    cJSON_AddStringToObject(prov, "weights_dtype",
                            m->weight_dtype == S1C_BF16 || c->be->act_dtype == S1C_BF16 ? "bf16" : "fp32");
    if (m->vecs && c->be->wbf16_path) cJSON_AddStringToObject(prov, "bf16_weight_products", c->be->wbf16_path(c->be));
    else cJSON_AddNullToObject(prov, "bf16_weight_products");
}

static s1c_status write_outputs(const s1c_infer_ctx *c, const char *out_dir, const char *label, const char *benchmark, s1c_bench_format fmt,
                                const s1c_eval_opts *o, char *blob, size_t blob_len, int n_problems, s1c_run_point *pt) {
    // The blob is a sequence of (rec_head, json bytes); order them by problem, then sample.
    int cap = 64, n = 0;
    rec_head **heads = s1c_xmalloc((size_t)cap * sizeof *heads);
    for (size_t off = 0; off + sizeof(rec_head) <= blob_len;) {
        rec_head *h = (rec_head *)(blob + off);
        if (n == cap) heads = s1c_xrealloc(heads, (size_t)(cap *= 2) * sizeof *heads);
        heads[n++] = h;
        off += sizeof(rec_head) + pad4((size_t)h->json_len);
    }
    qsort(heads, (size_t)n, sizeof *heads, cmp_head);
    S1C_TRY(s1c_mkdirs(out_dir));
    size_t plen = strlen(out_dir) + 32;
    char *path = s1c_xmalloc(plen);
    snprintf(path, plen, "%s/samples.jsonl", out_dir);
    s1c_atomic_file f;
    s1c_status st = s1c_atomic_open(&f, path);
    cJSON **recs = s1c_xcalloc((size_t)n + 1, sizeof *recs);
    for (int i = 0; st == S1C_OK && i < n; i++) {
        const char *js = (const char *)(heads[i] + 1);
        fwrite(js, 1, (size_t)heads[i]->json_len, f.fp);
        fputc('\n', f.fp);
        if (!(recs[i] = cJSON_ParseWithLength(js, (size_t)heads[i]->json_len)))
            st = s1c_err("internal: sample record %d is not JSON", i);
    }
    if (st == S1C_OK) st = s1c_atomic_commit(&f);
    else if (f.fp) s1c_atomic_abort(&f);
    memset(pt, 0, sizeof *pt);
    snprintf(pt->label, sizeof pt->label, "%s", label ? label : "run");
    pt->max_thinking = o->max_thinking;
    pt->min_thinking = o->min_thinking;
    pt->ignore = o->ignore;
    if (st == S1C_OK) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "label", pt->label);
        cJSON_AddStringToObject(s, "benchmark", benchmark);
        cJSON_AddStringToObject(s, "format", s1c_bench_format_name(fmt));
        cJSON_AddStringToObject(s, "model", o->model_dir);
        s1c_summary_add_metrics(s, fmt, recs, n, o->min_thinking, o->max_thinking, pt);
        if (n_problems != cJSON_GetObjectItemCaseSensitive(s, "problems")->valueint)
            st = s1c_err("internal: %d problems evaluated, %d in the records", n_problems,
                         cJSON_GetObjectItemCaseSensitive(s, "problems")->valueint);
        // The main options stay at the top level too (scripts read them there).
        cJSON_AddNumberToObject(s, "max_thinking", o->max_thinking);
        cJSON_AddNumberToObject(s, "min_thinking", o->min_thinking);
        cJSON_AddNumberToObject(s, "ignore", o->ignore);
        cJSON_AddItemToObject(s, "options", s1c_summary_options(o, c->stops, c->n_stops));
        cJSON *prov = s1c_summary_provenance(o->model_dir, benchmark);
        add_numerics(prov, c);
        cJSON_AddItemToObject(s, "provenance", prov);
        if (st == S1C_OK) st = s1c_summary_write(out_dir, s);
        if (st == S1C_OK && o->lm_eval_output) st = s1c_lm_eval_write(out_dir, s, recs, n);
        cJSON_Delete(s);
        if (st == S1C_OK && !o->quiet)
            printf("%-16s problems %4d  samples %5d  accuracy %6.2f%% +- %.2f  mean thinking %8.1f  max thinking "
                   "%6d  unextractable %d\n",
                   pt->label, n_problems, n, 100.0 * pt->accuracy, 100.0 * pt->accuracy_stderr, pt->mean_thinking,
                   pt->max_thinking_seen, n - count_extracted(recs, n));
    }
    for (int i = 0; i < n; i++) cJSON_Delete(recs[i]);
    free(recs);
    free(path);
    free(heads);
    return st;
}

s1c_status s1c_eval_run(s1c_infer_ctx *c, const s1c_eval_opts *o, const char *benchmark, s1c_bench_format fmt,
                        const char *out_dir, const char *label, s1c_run_point *pt) {
    if (o->n < 1) return s1c_err("--n %d: must be >= 1", o->n);
    s1c_eval_opts resolved = *o;  // --max-thinking auto is resolved below, once prompts are known
    o = &resolved;
    if (resolved.max_thinking_auto) resolved.max_thinking = -1;
    s1c_benchmark bench;
    S1C_TRY(s1c_bench_load(benchmark, fmt, o->seed, &bench));
    int n_problems = o->limit > 0 && o->limit < bench.n ? o->limit : bench.n;
    const int rejection = o->control == S1C_CONTROL_REJECTION;
    if (rejection && o->max_thinking < 0 && !o->max_thinking_auto) {
        s1c_bench_free(&bench);
        return s1c_err("--control rejection needs --max-thinking (the budget a sample must fit)");
    }
    // Rejection sampling generates uncapped but stops one token past the budget: such a sample is
    // rejected anyway, and the rest of it would be wasted work.
    s1c_bf_config bf = bf_config(c, o, rejection ? o->max_thinking + 1 : o->max_thinking);
    s1c_status st = s1c_bf_config_check(&bf);
    if (st) {
        s1c_bench_free(&bench);
        return st;
    }
    s1c_sampling sp = o->sampling;
    if (rejection) sp.temperature = 1.0f;
    // This rank's problems: global index g with g % size == rank.
    int n_local = 0;
    int *global = s1c_xmalloc(((size_t)n_problems / (size_t)c->size + 2) * sizeof(int));
    for (int g = c->rank; g < n_problems; g += c->size) global[n_local++] = g;
    char *extra = control_extra(o);
    char **prompt_text = s1c_xcalloc((size_t)n_local + 1, sizeof(char *));
    s1c_ids *pids = s1c_xcalloc((size_t)n_local + 1, sizeof(s1c_ids));
    s1c_gen_request *reqs = s1c_xcalloc((size_t)n_local * (size_t)o->n + 1, sizeof *reqs);
    collector col = {.n = o->n, .t0 = now_s(), .eng = c->eng, .ranks = c->size};
    col.last_line = col.t0;
    col.raw = s1c_xcalloc((size_t)n_local * (size_t)o->n + 1, sizeof(sample_raw));
    col.req_to_slot = s1c_xcalloc((size_t)n_local * (size_t)o->n + 1, sizeof(int));
    col.progress = o->quiet || c->rank != 0 || c->tp_rank != 0 ? 0 : isatty(2) ? 1 : o->progress_every > 0 ? 2 : 0;
    col.every = o->progress_every > 0 ? o->progress_every : 60;
    col.label = label;
    col.rank = c->rank;
    col.comm = c->dp;
    col.mpi_progress = c->size > 1 && !o->quiet && o->progress_every > 0;  // the same on every rank
    if (col.mpi_progress && c->rank == 0) {
        col.peer = s1c_xcalloc((size_t)c->size, sizeof *col.peer);
        for (int r = 1; r < c->size; r++)  // until rank r reports: its share of the problems
            col.peer[r][1] = (long)((n_problems - r + c->size - 1) / c->size) * o->n;
    }
    col.last_send = col.t0;
    for (int i = 0; i < n_local && st == S1C_OK; i++) {
        prompt_text[i] = s1c_eval_prompt(o, o->template_text ? o->template_text : s1c_eval_default_template(fmt),
                                         bench.items[global[i]].question, extra);
        st = s1c_tokenizer_encode(c->tok, prompt_text[i], strlen(prompt_text[i]), 0, &pids[i]);
        if (st) s1c_err_prefix("%s: problem %s", benchmark, bench.items[global[i]].id);
        reqs[i] = (s1c_gen_request){.prompt = pids[i].ids, .n_prompt = (int)pids[i].n, .n_samples = o->n,
                                    .seed = o->seed + (uint64_t)global[i] * (uint64_t)o->n, .sampling = sp, .bf = &bf,
                                    .prompt_ends_nl = !o->model_writes_newline, .max_new_tokens = o->max_new, .stop_strings = o->stop_strings,
                                    .n_stop_strings = o->n_stop_strings};
        col.req_to_slot[i] = i * o->n;
    }
    col.total = (long)n_local * o->n;
    if (st == S1C_OK && resolved.max_thinking_auto) {
        // s1: max_gen_toks - longest prompt - len(thinking start) - len(delimiter + "\nFinal
        // Answer:") - 100 (vllm_causallms.py); our prompts include the thinking start already.
        int longest = 0, all = 0;
        for (int i = 0; i < n_local; i++)
            if ((int)pids[i].n > longest) longest = (int)pids[i].n;
        all = longest;
        if (c->size > 1) MPI_Allreduce(&longest, &all, 1, MPI_INT, MPI_MAX, c->dp);
        size_t el = strlen(o->think_end) + strlen(o->answer_prefix) + 1;
        char *end_text = s1c_xmalloc(el);
        snprintf(end_text, el, "%s%s", o->think_end, o->answer_prefix);
        s1c_ids end_ids;
        st = encode(c->tok, end_text, &end_ids);
        free(end_text);
        if (st == S1C_OK) {
            resolved.max_thinking = o->max_new - all - (int)end_ids.n - 100;
            if (resolved.max_thinking < 0) st = s1c_err("--max-thinking auto: --max-new %d leaves no thinking budget "
                                                        "after the longest prompt (%d tokens)", o->max_new, all);
            bf.max_thinking = resolved.max_thinking + rejection;
            if (st == S1C_OK && !o->quiet && c->rank == 0 && c->tp_rank == 0)
                fprintf(stderr, "[s1c-infer] --max-thinking auto: %d (max-new %d - longest prompt %d - forced end %d - 100)\n",
                        resolved.max_thinking, o->max_new, all, (int)end_ids.n);
        }
        s1c_ids_free(&end_ids);
    }
    // Refused at start: a configuration under which not one sample can run (--n above
    // --max-batch, a KV cache smaller than one request) would otherwise "finish" all-wrong.
    // Probed with a one-token prompt: what fails it fails every prompt. (A prompt longer than
    // the context is the problem's, not the configuration's: reported in its samples.)
    if (st == S1C_OK && n_local > 0) {
        char msg[160];
        s1c_gen_request probe = reqs[0];
        probe.n_prompt = 1;
        const char *why = s1c_engine_refusal(c->eng, &probe, msg, sizeof msg);
        if (why) st = s1c_err("no sample can run under this configuration: %s", why);
    }
    if (st == S1C_OK) st = s1c_engine_run(c->eng, reqs, n_local, on_done, &col);
    // Rejection sampling: resample (fresh seeds) every sample whose thinking went past the budget.
    for (int t = 1; st == S1C_OK && rejection && t < o->rejection_tries; t++) {
        int nr = 0;
        for (int i = 0; i < n_local * o->n; i++) nr += !col.raw[i].error && col.raw[i].bf.end == S1C_END_FORCED;
        if (nr == 0) break;
        for (int k = 0, i = 0; i < n_local; i++)
            for (int j = 0; j < o->n; j++) {
                sample_raw *s = &col.raw[i * o->n + j];
                if (s->error || s->bf.end != S1C_END_FORCED) continue;
                reqs[k] = (s1c_gen_request){.prompt = pids[i].ids, .n_prompt = (int)pids[i].n, .n_samples = 1,
                                            .seed = o->seed + ((uint64_t)global[i] * (uint64_t)o->n + (uint64_t)j) +
                                                    (uint64_t)t * 1000003ull,
                                            .sampling = sp, .bf = &bf, .prompt_ends_nl = !o->model_writes_newline, .max_new_tokens = o->max_new,
                                            .stop_strings = o->stop_strings, .n_stop_strings = o->n_stop_strings};
                col.req_to_slot[k++] = i * o->n + j;
            }
        col.total += nr;
        st = s1c_engine_run(c->eng, reqs, nr, on_done, &col);
    }
    // Progress messages end before the merge: none is left over for the next run.
    if (col.mpi_progress && c->rank > 0) progress_send(&col, 1);
    if (col.mpi_progress && c->rank == 0) {
        progress_recv(&col, 1);
        long done = col.done, total = col.total, tokens = col.gen_tokens;
        for (int r = 1; r < c->size; r++) {
            done += col.peer[r][0];
            total += col.peer[r][1];
            tokens += col.peer[r][2];
        }
        double el = now_s() - col.t0;
        if (col.progress)
            fprintf(stderr, "[s1c-infer] %s: %ld/%ld samples (all ranks)  %.1f tok/s  elapsed %.0fs\n", label, done,
                    total, el > 0 ? (double)tokens / el : 0.0, el);
    }
    free(col.peer);
    // Records of this rank, then merged on rank 0.
    char *blob = NULL;
    size_t blob_len = 0, blob_cap = 0;
    int budget_max = o->max_thinking;
    for (int i = 0; st == S1C_OK && i < n_local; i++)
        for (int j = 0; j < o->n; j++) {
            rec_head h;
            char *js = sample_json(c, o, &bench.items[global[i]], global[i], j, &col.raw[i * o->n + j], prompt_text[i],
                                   fmt, budget_max, &h);
            size_t need = blob_len + sizeof h + pad4((size_t)h.json_len);
            if (need > blob_cap) {
                blob_cap = need * 2;
                blob = s1c_xrealloc(blob, blob_cap);
            }
            memcpy(blob + blob_len, &h, sizeof h);
            memcpy(blob + blob_len + sizeof h, js, (size_t)h.json_len);
            memset(blob + blob_len + sizeof h + h.json_len, 0, pad4((size_t)h.json_len) - (size_t)h.json_len);
            blob_len = need;
            free(js);
        }
    // Every rank takes part in the merge even after a local error, so nobody waits forever.
    int ok_local = st == S1C_OK, ok_all = ok_local;
    if (c->size > 1) MPI_Allreduce(&ok_local, &ok_all, 1, MPI_INT, MPI_MIN, c->dp);
    if (ok_all) {
        char *all = blob;
        size_t all_len = blob_len;
        if (c->size > 1) {
            int mine = (int)blob_len;
            int *lens = s1c_xcalloc((size_t)c->size, sizeof(int)), *displs = s1c_xcalloc((size_t)c->size, sizeof(int));
            MPI_Gather(&mine, 1, MPI_INT, lens, 1, MPI_INT, 0, c->dp);
            long total = 0;
            for (int r = 0; r < c->size; r++) {
                displs[r] = (int)total;
                total += lens[r];
            }
            all = c->rank == 0 ? s1c_xmalloc((size_t)total + 1) : NULL;
            MPI_Gatherv(blob, mine, MPI_BYTE, all, lens, displs, MPI_BYTE, 0, c->dp);
            all_len = (size_t)total;
            free(lens);
            free(displs);
        }
        // Every tensor-parallel slice holds the same records: the first one's rank 0 writes them.
        if (c->rank == 0 && c->tp_rank == 0) st = write_outputs(c, out_dir, label, benchmark, fmt, o, all, all_len, n_problems, pt);
        if (all != blob) free(all);
        if (c->size > 1) {
            int ok0 = st == S1C_OK;
            MPI_Bcast(&ok0, 1, MPI_INT, 0, c->dp);
            MPI_Bcast(pt, (int)sizeof *pt, MPI_BYTE, 0, c->dp);
            if (!ok0 && st == S1C_OK) st = s1c_err("rank 0 failed to write the results");
        }
        // Throughput of this rank, kept out of the merged results so they stay rank-independent.
        const s1c_engine_stats *es = s1c_engine_stats_get(c->eng);
        if (!o->quiet && c->rank == 0 && c->tp_rank == 0)
            fprintf(stderr, "[s1c-infer] rank 0: %ld prefill + %ld decode tokens in %ld steps, %.1f s in forward, "
                            "%.1f tok/s generated, KV cache of %d blocks\n",
                    es->prefill_tokens, es->decode_tokens, es->steps, es->forward_s,
                    es->forward_s > 0 ? (double)col.gen_tokens / (now_s() - col.t0) : 0.0,
                    s1c_engine_kv_total_blocks(c->eng));
    } else if (st == S1C_OK) {
        st = s1c_err("another rank failed");
    }
    free(blob);
    for (int i = 0; i < n_local * o->n; i++) {
        free(col.raw[i].ids);
        free(col.raw[i].error);
    }
    free(col.raw);
    free(col.req_to_slot);
    for (int i = 0; i < n_local; i++) {
        free(prompt_text[i]);
        s1c_ids_free(&pids[i]);
    }
    free(prompt_text);
    free(pids);
    free(reqs);
    free(global);
    free(extra);
    s1c_bench_free(&bench);
    return st;
}

s1c_status s1c_generate_run(s1c_infer_ctx *c, const s1c_eval_opts *o, const char *const *prompts, int n_prompts,
                            int raw, const char *out_path) {
    s1c_bf_config bf = bf_config(c, o, o->max_thinking);
    if (raw) {
        bf.no_thinking = 1;
        bf.max_answer = o->max_new;
    }
    S1C_TRY(s1c_bf_config_check(&bf));
    char *extra = control_extra(o);
    char **text = s1c_xcalloc((size_t)n_prompts + 1, sizeof(char *));
    s1c_ids *pids = s1c_xcalloc((size_t)n_prompts + 1, sizeof(s1c_ids));
    s1c_gen_request *reqs = s1c_xcalloc((size_t)n_prompts + 1, sizeof *reqs);
    collector col = {.n = o->n, .t0 = now_s(), .total = (long)n_prompts * o->n};
    col.raw = s1c_xcalloc((size_t)n_prompts * (size_t)o->n + 1, sizeof(sample_raw));
    col.req_to_slot = s1c_xcalloc((size_t)n_prompts + 1, sizeof(int));
    col.progress = o->quiet ? 0 : isatty(2) ? 1 : o->progress_every > 0 ? 2 : 0;
    col.every = o->progress_every;
    col.label = "generate";
    s1c_status st = S1C_OK;
    for (int i = 0; i < n_prompts && st == S1C_OK; i++) {
        text[i] = raw ? s1c_xstrdup(prompts[i]) : s1c_eval_prompt(o, o->template_text, prompts[i], extra);
        st = s1c_tokenizer_encode(c->tok, text[i], strlen(text[i]), 0, &pids[i]);
        size_t n = strlen(text[i]);
        reqs[i] = (s1c_gen_request){.prompt = pids[i].ids, .n_prompt = (int)pids[i].n, .n_samples = o->n,
                                    .seed = o->seed + (uint64_t)i * (uint64_t)o->n, .sampling = o->sampling, .bf = &bf,
                                    .prompt_ends_nl = n > 0 && text[i][n - 1] == '\n', .max_new_tokens = o->max_new,
                                    .stop_strings = o->stop_strings, .n_stop_strings = o->n_stop_strings};
        col.req_to_slot[i] = i * o->n;
    }
    if (st == S1C_OK) st = s1c_engine_run(c->eng, reqs, n_prompts, on_done, &col);
    FILE *fp = stdout;
    s1c_atomic_file f = {0};
    if (st == S1C_OK && out_path) {
        st = s1c_atomic_open(&f, out_path);
        fp = f.fp;
    }
    for (int i = 0; st == S1C_OK && i < n_prompts; i++)
        for (int j = 0; j < o->n; j++) {
            sample_raw *s = &col.raw[i * o->n + j];
            char *t = NULL;
            size_t tl = 0;
            if (!s->error) st = s1c_tokenizer_decode(c->tok, s->ids, (size_t)s->n_ids, 0, &t, &tl);
            if (st) break;
            char *clean = utf8_clean(t ? t : "");
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "prompt_index", i);
            cJSON_AddNumberToObject(r, "sample", j);
            cJSON_AddStringToObject(r, "generation", clean);
            // The generated ids too: text does not round-trip to ids (tests/infer/test_infer_s1_replay.c).
            cJSON *ids = cJSON_AddArrayToObject(r, "ids");
            for (int k = 0; k < s->n_ids; k++) cJSON_AddItemToArray(ids, cJSON_CreateNumber(s->ids[k]));
            cJSON_AddNumberToObject(r, "thinking_tokens", s->bf.think_tokens);
            cJSON_AddNumberToObject(r, "answer_tokens", s->bf.answer_tokens);
            cJSON_AddStringToObject(r, "thinking_end", s1c_think_end_name(s->bf.end));
            cJSON_AddNumberToObject(r, "extensions", s->bf.extensions);
            cJSON_AddStringToObject(r, "finish", s1c_finish_name(s->finish));
            if (s->error) cJSON_AddStringToObject(r, "error", s->error);
            char *js = cJSON_PrintUnformatted(r);
            fprintf(fp, "%s\n", js);
            free(js);
            cJSON_Delete(r);
            free(clean);
            free(t);
        }
    if (out_path && f.fp) {
        if (st == S1C_OK) st = s1c_atomic_commit(&f);
        else s1c_atomic_abort(&f);
    }
    for (int i = 0; i < n_prompts * o->n; i++) {
        free(col.raw[i].ids);
        free(col.raw[i].error);
    }
    free(col.raw);
    free(col.req_to_slot);
    for (int i = 0; i < n_prompts; i++) {
        free(text[i]);
        s1c_ids_free(&pids[i]);
    }
    free(text);
    free(pids);
    free(reqs);
    free(extra);
    return st;
}

int s1c_eval_load_complete(const s1c_infer_ctx *c, const s1c_eval_opts *o, const char *benchmark, const char *out_dir,
                           const char *label, s1c_run_point *pt) {
    int done = 0;
    if (c->rank == 0) {
        size_t n = strlen(out_dir) + 32;
        char *path = s1c_xmalloc(n), *text = NULL;
        size_t len = 0;
        snprintf(path, n, "%s/summary.json", out_dir);
        cJSON *s = NULL;
        // summary.json is written (atomically) after samples.jsonl: its presence means complete.
        if (access(path, R_OK) == 0 && s1c_read_file(path, &text, &len) == S1C_OK) s = cJSON_ParseWithLength(text, len);
        cJSON *want = s1c_summary_options(o, c->stops, c->n_stops), *prov = s1c_summary_provenance(o->model_dir, benchmark);
        const cJSON *sp = s ? cJSON_GetObjectItemCaseSensitive(s, "provenance") : NULL;
        const char *keys[] = {"benchmark_sha256", "model_config_sha256", "model_dir"};
        done = s && cJSON_Compare(cJSON_GetObjectItemCaseSensitive(s, "options"), want, 1) && sp;
        for (int k = 0; done && k < 3; k++)
            done = cJSON_Compare(cJSON_GetObjectItemCaseSensitive(sp, keys[k]), cJSON_GetObjectItemCaseSensitive(prov, keys[k]), 1);
        if (done) {
            memset(pt, 0, sizeof *pt);
            snprintf(pt->label, sizeof pt->label, "%s", label);
            pt->max_thinking = o->max_thinking;
            pt->min_thinking = o->min_thinking;
            pt->ignore = o->ignore;
#define NUM(k) (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, k)) ? cJSON_GetObjectItemCaseSensitive(s, k)->valuedouble : 0)
            pt->n_samples = (int)NUM("samples");
            pt->accuracy = NUM("accuracy");
            pt->mean_thinking = NUM("mean_thinking_tokens");
            pt->max_thinking_seen = (int)NUM("max_thinking_tokens");
            pt->mean_answer = NUM("mean_answer_tokens");
            pt->within_frac = NUM("within_budget");
            pt->n_per_problem = (int)NUM("samples_per_problem");
            pt->accuracy_stderr = NUM("accuracy_stderr");
            pt->maj_at_n = NUM("maj_at_k");
#undef NUM
            const cJSON *pk = cJSON_GetObjectItemCaseSensitive(s, "pass_at_k");
            const cJSON *last = pk && pk->child ? pk->child : NULL;
            while (last && last->next) last = last->next;
            pt->pass_at_n = cJSON_IsNumber(last) ? last->valuedouble : 0;
        }
        cJSON_Delete(want);
        cJSON_Delete(prov);
        cJSON_Delete(s);
        free(text);
        free(path);
    }
    if (c->size > 1) {
        MPI_Bcast(&done, 1, MPI_INT, 0, c->dp);
        if (done) MPI_Bcast(pt, (int)sizeof *pt, MPI_BYTE, 0, c->dp);
    }
    return done;
}
