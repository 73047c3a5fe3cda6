// engine.c — see engine.h.
#include "engine.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv_blocks.h"
#include "qwen2_decode.h"

#define TAIL_CAP 256

typedef struct {
    int remaining;  // samples not finished
    int reserved;   // blocks reserved at admission
} req_state;

typedef struct {
    int req, sample, active, parent;
    const s1c_gen_request *r;  // the request (owned by the caller)
    req_state *rs;             // shared by the request's samples; freed with the last one
    int32_t *tok;  // [cap] prompt + generation
    float *lp;     // [cap] log-probability of each token (request.logprobs only; NaN when forced)
    int n_tok, cap, n_prompt;
    int n_cached;    // positions whose K/V is in the cache
    int32_t *table;  // [max_blocks]
    int n_table;
    s1c_bf_state bf;
    s1c_rng rng;
    s1c_finish finish;
    char tail[TAIL_CAP];  // recent answer text, for stop strings
    int n_tail;
} seq_t;

struct s1c_engine {
    s1c_qwen2_model *m;
    s1c_engine_opts o;
    int max_blocks, max_rows;
    s1c_kv_pool kv;
    s1c_kv_blocks kb;
    s1c_decode_ws *ws;
    s1c_token_bytes_fn bytes;
    void *bytes_ctx;
    seq_t *seqs;  // [max_batch]
    s1c_sample_ws sws;
    float *logits;  // [max_batch, V]
    int32_t *choice;  // [max_batch] greedy ids chosen on the backend (all-greedy steps)
    int32_t *banned;  // [max_batch, S1C_DECODE_MAX_BANNED] their banned ids, -1 padded
    int32_t *ids, *pos, *row_seq, *slot, *tables;  // [max_rows] x 4, [max_batch, max_blocks]
    int32_t *step_seq, *step_fed;                   // [max_batch]: sequences fed this step, rows each
    int32_t *out_rows, *out_seq;                    // [max_batch]: rows sampled this step, their sequences
    s1c_engine_stats stats;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

s1c_engine *s1c_engine_create(s1c_qwen2_model *m, const s1c_engine_opts *o, s1c_token_bytes_fn bytes,
                              void *bytes_ctx) {
    s1c_engine *e = s1c_xcalloc(1, sizeof *e);
    e->m = m;
    e->o = *o;
    e->bytes = bytes;
    e->bytes_ctx = bytes_ctx;
    if (e->o.block_size <= 0) e->o.block_size = 16;
    if (e->o.max_batch <= 0) e->o.max_batch = 32;
    if (e->o.max_batch > 1024) e->o.max_batch = 1024;  // the fork group bound below
    if (e->o.vocab_limit <= 0 || e->o.vocab_limit > m->cfg.vocab_size) e->o.vocab_limit = m->cfg.vocab_size;
    if (e->o.max_context <= 0 || e->o.max_context > m->cfg.max_position_embeddings)
        e->o.max_context = m->cfg.max_position_embeddings;
    const int bs = e->o.block_size, B = e->o.max_batch, V = m->cfg.vocab_size;
    e->max_blocks = (e->o.max_context + bs - 1) / bs + 1;
    // Rows per forward step: long prompts are prefilled in chunks of at most this many rows, so
    // the step's activations stay small (a 40K-token step of a 32B model would need ~9 GB).
    const int all_rows = e->o.max_context + B * (1 + S1C_BF_MAX_APPEND);
    if (e->o.step_tokens <= 0) e->o.step_tokens = 2048 + B;
    if (e->o.step_tokens > all_rows) e->o.step_tokens = all_rows;
    e->max_rows = e->o.step_tokens;
    if (s1c_decode_ops_check(m->be) != S1C_OK) {
        free(e);
        return NULL;
    }
    e->ws = s1c_decode_ws_create_model(m, e->max_rows, B, e->max_blocks, B);
    if (!e->ws) {
        free(e);
        return NULL;
    }
    // The KV pool takes what it needs for every sequence at full context, or, when the backend
    // can tell its free memory and that is less, 90 % of what is free after the weights and the
    // step workspace (admission then runs fewer sequences at once).
    if (e->o.kv_blocks <= 0) {
        const size_t block_bytes = 2 * (size_t)m->shard.num_hidden_layers * (size_t)bs *
                                   (size_t)m->shard.num_key_value_heads * (size_t)m->shard.head_dim *
                                   s1c_dtype_size(m->be->act_dtype);
        size_t want = (size_t)B * (size_t)e->max_blocks, free_b = 0, total_b = 0;
        if (m->be->mem_info && m->be->mem_info(m->be, &free_b, &total_b) == S1C_OK) {
            const size_t fit = (size_t)(0.9 * (double)free_b) / block_bytes;
            if (fit < (size_t)e->max_blocks) {
                s1c_err("KV cache: %.2f GB free on %s after the weights and the step workspace holds %zu tokens; one "
                        "context of %d tokens needs %.2f GB (lower --max-context, or use a device with more memory)",
                        (double)free_b / 1e9, m->be->name, fit * (size_t)bs, e->o.max_context,
                        (double)e->max_blocks * (double)block_bytes / 1e9);
                s1c_decode_ws_free(m->be, e->ws);
                free(e);
                return NULL;
            }
            if (fit < want) want = fit;
        }
        e->o.kv_blocks = (int)(want < (size_t)INT_MAX ? want : (size_t)INT_MAX);
    }
    // A tensor-parallel group schedules as one: every rank's pool has the group's smallest size.
    if (m->group) {
        int64_t nb = e->o.kv_blocks;
        if (m->group->min_i64(m->group->ctx, &nb, 1) != S1C_OK) {
            s1c_err_prefix("tensor parallel: agreeing on the KV pool size");
            s1c_decode_ws_free(m->be, e->ws);
            free(e);
            return NULL;
        }
        e->o.kv_blocks = (int)nb;
    }
    if (s1c_kv_pool_create(m->be, &m->shard, e->o.kv_blocks, bs, &e->kv) != S1C_OK) {
        s1c_decode_ws_free(m->be, e->ws);
        free(e);
        return NULL;
    }
    s1c_kv_blocks_init(&e->kb, e->o.kv_blocks);
    e->seqs = s1c_xcalloc((size_t)B, sizeof(seq_t));
    s1c_sample_ws_init(&e->sws, V);
    e->logits = s1c_xmalloc((size_t)B * V * sizeof(float));
    e->choice = s1c_xmalloc((size_t)B * sizeof(int32_t));
    e->banned = s1c_xmalloc((size_t)B * S1C_DECODE_MAX_BANNED * sizeof(int32_t));
    e->ids = s1c_xmalloc((size_t)e->max_rows * sizeof(int32_t));
    e->pos = s1c_xmalloc((size_t)e->max_rows * sizeof(int32_t));
    e->row_seq = s1c_xmalloc((size_t)e->max_rows * sizeof(int32_t));
    e->slot = s1c_xmalloc((size_t)e->max_rows * sizeof(int32_t));
    e->tables = s1c_xmalloc((size_t)B * e->max_blocks * sizeof(int32_t));
    e->out_rows = s1c_xmalloc((size_t)B * sizeof(int32_t));
    e->out_seq = s1c_xmalloc((size_t)B * sizeof(int32_t));
    e->step_seq = s1c_xmalloc((size_t)B * sizeof(int32_t));
    e->step_fed = s1c_xmalloc((size_t)B * sizeof(int32_t));
    return e;
}

void s1c_engine_memory_plan(const s1c_engine *e, char *buf, size_t n) {
    const s1c_qwen2_model *m = e->m;
    const double gib = 1024.0 * 1024.0 * 1024.0;
    const size_t w = s1c_qwen2_model_weight_bytes(m), ws = s1c_decode_ws_bytes(e->ws);
    const size_t kv = 2 * (size_t)m->shard.num_hidden_layers * (size_t)e->kv.n_blocks * (size_t)e->kv.block_size *
                      (size_t)m->shard.num_key_value_heads * (size_t)m->shard.head_dim * s1c_dtype_size(m->be->act_dtype);
    const char *wd = m->weight_dtype == S1C_BF16 || m->be->act_dtype == S1C_BF16 ? "bf16" : "fp32";
    int at = snprintf(buf, n, "memory plan (%s): weights %.2f GiB (%s), KV pool %.2f GiB (%d blocks x %d tokens), "
                      "workspace %.2f GiB (%d rows a step), total %.2f GiB", m->be->name, w / gib, wd, kv / gib,
                      e->kv.n_blocks, e->kv.block_size, ws / gib, e->max_rows, (w + kv + ws) / gib);
    if (m->vecs && m->be->wbf16_path && at > 0 && (size_t)at < n) {  // bf16 weights: which products (--matmul-precision)
        const char *p = m->be->wbf16_path(m->be);
        at += snprintf(buf + at, n - (size_t)at, "; bf16-weight products: %s, activations %s", p,
                       strcmp(p, "avx512bf16") ? "fp32" : "rounded to bf16");
    }
    // Per rank of a tensor-parallel group, in bytes (tests check them against their own count).
    if (m->tp.size > 1 && at > 0 && (size_t)at < n)
        snprintf(buf + at, n - (size_t)at, "; tp rank %d/%d: %d query heads, %d KV heads, weights %zu B, KV pool %zu B",
                 m->tp.rank, m->tp.size, m->shard.num_attention_heads, m->shard.num_key_value_heads, w, kv);
}

void s1c_engine_free(s1c_engine *e) {
    if (!e) return;
    for (int i = 0; i < e->o.max_batch; i++) {
        free(e->seqs[i].tok);
        free(e->seqs[i].lp);
        free(e->seqs[i].table);
    }
    free(e->seqs);
    s1c_sample_ws_free(&e->sws);
    free(e->logits);
    free(e->choice);
    free(e->banned);
    free(e->ids);
    free(e->pos);
    free(e->row_seq);
    free(e->slot);
    free(e->tables);
    free(e->out_rows);
    free(e->out_seq);
    free(e->step_seq);
    free(e->step_fed);
    s1c_kv_blocks_free(&e->kb);
    s1c_decode_ws_free(e->m->be, e->ws);
    s1c_kv_pool_free(e->m->be, &e->kv);
    free(e);
}

const s1c_engine_stats *s1c_engine_stats_get(const s1c_engine *e) { return &e->stats; }
int s1c_engine_max_context(const s1c_engine *e) { return e->o.max_context; }
int s1c_engine_kv_free_blocks(const s1c_engine *e) { return e->kb.n_free; }
int s1c_engine_kv_total_blocks(const s1c_engine *e) { return e->kb.n_blocks; }

// Worst-case blocks of a request: its prompt once, plus per sample the generation, the forced
// tokens, and one copy-on-write block.
static int request_blocks(const s1c_engine *e, const s1c_gen_request *r) {
    const int bs = e->o.block_size;
    int max_len = r->n_prompt + r->max_new_tokens + S1C_BF_MAX_APPEND;
    if (max_len > e->o.max_context) max_len = e->o.max_context;
    int total = (max_len + bs - 1) / bs, prompt = r->n_prompt / bs;
    return prompt + r->n_samples * (total - prompt + 1);
}

const char *s1c_engine_refusal(const s1c_engine *e, const s1c_gen_request *r, char *msg, size_t n) {
    if (r->n_prompt <= 0) return "empty prompt";
    if (r->n_prompt >= e->o.max_context) {
        snprintf(msg, n, "prompt of %d tokens does not fit the context of %d tokens", r->n_prompt, e->o.max_context);
        return msg;
    }
    if (r->n_samples < 1 || r->n_samples > e->o.max_batch) {
        snprintf(msg, n, "%d samples per prompt; the batch holds %d (raise --max-batch)", r->n_samples, e->o.max_batch);
        return msg;
    }
    if (request_blocks(e, r) > e->o.kv_blocks) {
        snprintf(msg, n, "needs %d KV blocks, the cache has %d (raise --kv-blocks, or lower --max-context or --max-new)",
                 request_blocks(e, r), e->o.kv_blocks);
        return msg;
    }
    return NULL;
}

int s1c_engine_request_blocks(const s1c_engine *e, const s1c_gen_request *r) { return request_blocks(e, r); }

static void seq_reserve(seq_t *s, int n) {
    if (n <= s->cap) return;
    s->cap = n + 256;
    s->tok = s1c_xrealloc(s->tok, (size_t)s->cap * sizeof(int32_t));
    s->lp = s1c_xrealloc(s->lp, (size_t)s->cap * sizeof(float));
}

static void seq_release(s1c_engine *e, seq_t *s) {
    for (int i = 0; i < s->n_table; i++) s1c_kv_blocks_unref(&e->kb, s->table[i]);
    s->n_table = 0;
    s->active = 0;
}

static int free_slot(s1c_engine *e) {
    for (int i = 0; i < e->o.max_batch; i++)
        if (!e->seqs[i].active) return i;
    return -1;
}

// Block-level prefix sharing: the full blocks another running sequence has cached for the same
// leading tokens are referenced instead of recomputed. At least one prompt token is left to feed
// (its logits start the generation). Either sequence writing into a shared block later copies it
// first (seq_prepare_blocks), so sharing never changes what a sequence reads.
static void prefix_attach(s1c_engine *e, seq_t *s) {
    const int bs = e->o.block_size;
    int best = 0;
    const seq_t *from = NULL;
    for (int i = 0; i < e->o.max_batch; i++) {
        const seq_t *o = &e->seqs[i];
        if (!o->active || o == s) continue;
        const int lim = o->n_cached < s->n_prompt - 1 ? o->n_cached : s->n_prompt - 1;
        int L = 0;
        while (L < lim && o->tok[L] == s->tok[L]) L++;
        int nb = L / bs;
        if (nb > o->n_table) nb = o->n_table;
        if (nb > best) {
            best = nb;
            from = o;
        }
    }
    for (int b = 0; b < best; b++) {
        s->table[b] = from->table[b];
        s1c_kv_blocks_ref(&e->kb, from->table[b]);
    }
    s->n_table = best;
    s->n_cached = best * bs;
    e->stats.prefix_hit_tokens += (long)best * bs;
}

// Blocks for positions [from, to) of s: new ones appended, shared ones copied before the write.
static void seq_prepare_blocks(s1c_engine *e, seq_t *s, int from, int to) {
    const int bs = e->o.block_size;
    // Blocks past the end (left over by a rollback) go back to the pool.
    int need = (to + bs - 1) / bs;
    while (s->n_table > need) s1c_kv_blocks_unref(&e->kb, s->table[--s->n_table]);
    for (int bi = from / bs; bi < need; bi++) {
        if (bi >= s->n_table) {
            int b = s1c_kv_blocks_alloc(&e->kb);
            S1C_ASSERT(b >= 0);  // admission reserved the worst case
            s->table[s->n_table++] = b;
        } else if (e->kb.ref[s->table[bi]] > 1) {
            int b = s1c_kv_blocks_alloc(&e->kb);
            S1C_ASSERT(b >= 0);
            s1c_kv_pool_copy_block(e->m->be, &e->kv, b, s->table[bi]);
            e->stats.cow_copies++;
            s1c_kv_blocks_unref(&e->kb, s->table[bi]);
            s->table[bi] = b;
        }
    }
}

static s1c_gen_result seq_result(const seq_t *s) {
    s1c_gen_result r = {.request = s->req, .sample = s->sample, .ids = s->tok + s->n_prompt,
                        .n_ids = s->n_tok - s->n_prompt, .bf = s->bf, .finish = s->finish,
                        .logprobs = s->r->logprobs ? s->lp + s->n_prompt : NULL};
    return r;
}

// The request's share of the reservation goes back with its last sample.
static void request_sample_gone(seq_t *s, int *reserved) {
    if (--s->rs->remaining == 0) {
        *reserved -= s->rs->reserved;
        free(s->rs);
    }
    s->rs = NULL;
}

static void finish_seq(s1c_engine *e, seq_t *s, int *reserved, s1c_gen_done_fn done, void *ctx) {
    s1c_gen_result r = seq_result(s);
    done(ctx, &r);
    seq_release(e, s);
    request_sample_gone(s, reserved);
}

// A cancelled sequence: before its prompt was cached (parent) it stands for all of its samples.
static void cancel_seq(s1c_engine *e, seq_t *s, int *active, int *reserved, s1c_gen_done_fn done, void *ctx) {
    const int n = s->parent ? s->r->n_samples : 1;
    for (int j = 0; j < n; j++) {
        s1c_gen_result r = {.request = s->req, .sample = s->parent ? j : s->sample, .error = "cancelled"};
        done(ctx, &r);
    }
    seq_release(e, s);
    *active -= n;
    if (s->parent) s->rs->remaining = 1;
    request_sample_gone(s, reserved);
}

static int has_stop_string(seq_t *s, const s1c_gen_request *r, const char *b, size_t len) {
    if (!r->n_stop_strings || !b) return 0;
    if (len >= TAIL_CAP) {
        b += len - (TAIL_CAP - 1);
        len = TAIL_CAP - 1;
    }
    if (s->n_tail + (int)len >= TAIL_CAP) {
        int drop = s->n_tail + (int)len - (TAIL_CAP - 1);
        memmove(s->tail, s->tail + drop, (size_t)(s->n_tail - drop));
        s->n_tail -= drop;
    }
    memcpy(s->tail + s->n_tail, b, len);
    s->n_tail += (int)len;
    s->tail[s->n_tail] = '\0';
    for (int i = 0; i < r->n_stop_strings; i++)
        if (r->stop_strings[i][0] && memmem(s->tail, (size_t)s->n_tail, r->stop_strings[i], strlen(r->stop_strings[i])))
            return 1;
    return 0;
}

// Ids s must not sample next (min-thinking suppression); at most S1C_DECODE_MAX_BANNED.
static int banned_ids(const s1c_gen_request *r, const seq_t *s, int32_t *out) {
    return r->bf->n_stop <= S1C_DECODE_MAX_BANNED - 2 ? s1c_bf_banned(r->bf, &s->bf, out) : 0;
}

// log softmax(logits)[id] over the first V entries.
static float token_logprob(const float *logits, int V, int32_t id) {
    float mx = logits[0];
    for (int v = 1; v < V; v++)
        if (logits[v] > mx) mx = logits[v];
    double sum = 0;
    for (int v = 0; v < V; v++) sum += exp((double)(logits[v] - mx));
    return (float)((double)(logits[id] - mx) - log(sum));
}

// Samples the next token of s from logits (or takes `chosen`, the backend's greedy pick under the
// same rule, when logits is NULL), runs budget forcing, applies the action.
static void advance(s1c_engine *e, seq_t *s, const s1c_gen_request *r, const float *logits, int32_t chosen) {
    int32_t banned[S1C_DECODE_MAX_BANNED];
    int32_t id = chosen;
    if (logits) {
        int nb = banned_ids(r, s, banned);
        id = (int32_t)s1c_sample(logits, e->o.vocab_limit, &r->sampling, &s->rng, &e->sws, banned, nb);
    }
    s1c_phase before = s->bf.phase;
    s1c_bf_action act;
    s1c_bf_step(r->bf, &s->bf, id, &act);
    s->n_tok -= act.rollback;
    if (s->n_tok < s->n_prompt) s->n_tok = s->n_prompt;
    if (s->n_cached > s->n_tok) s->n_cached = s->n_tok;
    seq_reserve(s, s->n_tok + act.n + 1);
    // The sampled id, when kept, is the first appended one equal to it; the others were forced.
    int lp_done = !(r->logprobs && logits);
    for (int i = 0; i < act.n; i++) {
        s->lp[s->n_tok] = NAN;
        if (!lp_done && act.ids[i] == id) {
            s->lp[s->n_tok] = token_logprob(logits, e->o.vocab_limit, id);
            lp_done = 1;
        }
        s->tok[s->n_tok++] = act.ids[i];
    }
    if (s->bf.phase == S1C_PHASE_DONE) {
        s->finish = s->bf.finish;
        return;
    }
    if (before == S1C_PHASE_ANSWER && act.n == 1) {
        size_t len = 0;
        const char *b = e->bytes(e->bytes_ctx, act.ids[0], &len);
        if (has_stop_string(s, r, b, len)) {
            s->finish = S1C_FINISH_STOP_STRING;
            return;
        }
    }
    if (s->n_tok >= e->o.max_context) {
        s->n_tok = e->o.max_context;
        s->finish = S1C_FINISH_CONTEXT;
    } else if (s->n_tok - s->n_prompt >= r->max_new_tokens) {
        s->finish = S1C_FINISH_LENGTH;
    } else if (s->n_tok == s->n_cached) {
        // Nothing new to feed (an extension that appended nothing): recompute the last position
        // to get its logits again.
        s->n_cached--;
    }
}

s1c_status s1c_engine_serve(s1c_engine *e, const s1c_gen_feed *feed, s1c_gen_done_fn done, void *ctx) {
    const int B = e->o.max_batch, V = e->m->cfg.vocab_size, bs = e->o.block_size;
    const s1c_gen_request *pend = NULL;  // handed out by the feed, not yet admitted
    int next = 0, active = 0, reserved = 0;  // next: the number of the request after pend
    double t0 = now_s();
    s1c_status st = S1C_OK;
    while (st == S1C_OK) {
        // ---- admission ----
        int rows = 0;
        for (int i = 0; i < B; i++)
            if (e->seqs[i].active) rows += e->seqs[i].n_tok - e->seqs[i].n_cached;
        while (1) {
            if (!pend) {
                pend = feed->next(feed->ctx, active == 0);
                if (!pend) break;
                next++;
            }
            const s1c_gen_request *r = pend;
            const int ri = next - 1;
            char msg[160];
            const char *why = s1c_engine_refusal(e, r, msg, sizeof msg);
            if (!why && feed->cancelled && feed->cancelled(feed->ctx, ri)) why = "cancelled";
            if (why) {
                for (int j = 0; j < (r->n_samples > 0 ? r->n_samples : 1); j++) {
                    s1c_gen_result res = {.request = ri, .sample = j, .error = why};
                    done(ctx, &res);
                }
                pend = NULL;
                continue;
            }
            int need = request_blocks(e, r);
            if (active + r->n_samples > B || reserved + need > e->o.kv_blocks) break;
            if (rows >= e->max_rows) break;  // enough prefill queued for the next step
            int si = free_slot(e);
            seq_t *s = &e->seqs[si];
            s->req = ri;
            s->r = r;
            s->rs = s1c_xmalloc(sizeof *s->rs);
            s->rs->remaining = r->n_samples;
            s->rs->reserved = need;
            s->sample = 0;
            s->active = 1;
            s->parent = 1;
            s->n_tok = 0;
            s->n_prompt = r->n_prompt;
            s->n_cached = 0;
            s->n_table = 0;
            s->n_tail = 0;
            s->finish = S1C_FINISH_NONE;
            if (!s->table) s->table = s1c_xmalloc((size_t)e->max_blocks * sizeof(int32_t));
            seq_reserve(s, r->n_prompt + 1);
            memcpy(s->tok, r->prompt, (size_t)r->n_prompt * sizeof(int32_t));
            s->n_tok = r->n_prompt;
            // The reservation stays the worst case without sharing (simple, and never short).
            if (e->o.prefix_share) prefix_attach(e, s);
            reserved += need;
            active += r->n_samples;  // the slots of the samples forked later
            rows += r->n_prompt;
            pend = NULL;
        }
        // ---- one packed forward over the pending tokens, at most max_rows of them ----
        // A sequence whose pending tokens do not all fit is fed a prefix (chunked prefill) and
        // sampled only in the step that feeds its last pending token.
        int T = 0, n_step = 0, n_out = 0;
        // Fresh prompts first: the decode step runs them through packed flash attention.
        for (int pass = 0; pass < 2 * B && T < e->max_rows; pass++) {
            const int i = pass % B;
            seq_t *s = &e->seqs[i];
            if (!s->active || s->n_tok <= s->n_cached || (pass < B) != (s->n_cached == 0)) continue;
            const int to = s->n_tok - s->n_cached <= e->max_rows - T ? s->n_tok : s->n_cached + (e->max_rows - T);
            seq_prepare_blocks(e, s, s->n_cached, to);
            for (int p = s->n_cached; p < to; p++) {
                e->ids[T] = s->tok[p];
                e->pos[T] = p;
                e->row_seq[T] = n_step;
                e->slot[T] = s->table[p / bs] * bs + p % bs;
                T++;
            }
            memcpy(e->tables + (size_t)n_step * e->max_blocks, s->table, (size_t)s->n_table * sizeof(int32_t));
            if (to == s->n_tok) {
                e->out_rows[n_out] = T - 1;
                e->out_seq[n_out++] = i;
            }
            e->step_fed[n_step] = to - s->n_cached;
            e->step_seq[n_step++] = i;
        }
        if (n_step == 0) {
            if (!pend && active == 0) break;
            st = s1c_err("engine: request %d could not be admitted (internal accounting error)", next - 1);
            break;
        }
        s1c_decode_batch b = {T, n_step, e->ids, e->pos, e->row_seq, e->slot, e->tables, e->max_blocks, n_out, e->out_rows};
        // A step whose every row samples greedily (the paper's evaluation) lets the backend pick
        // the tokens: n_out ints come back instead of n_out x V logits. Freshly prefilled
        // prompts start their budget-forcing state only after the step, so they take the
        // logits path (once per request).
        int greedy = !e->o.host_sampling && e->m->be->argmax_rows != NULL;
        for (int k = 0; k < n_out && greedy; k++) {
            const seq_t *s = &e->seqs[e->out_seq[k]];
            greedy = !s->parent && s->r->sampling.temperature <= 0.0f && !s->r->logprobs;
        }
        int max_nb = 0;
        for (int k = 0; k < n_out && greedy; k++) {
            const seq_t *s = &e->seqs[e->out_seq[k]];
            int32_t *row = e->banned + (size_t)k * S1C_DECODE_MAX_BANNED;
            int nb = banned_ids(s->r, s, row);
            for (int j = nb; j < S1C_DECODE_MAX_BANNED; j++) row[j] = -1;
            if (nb > max_nb) max_nb = nb;
        }
        if (greedy && max_nb > 0 && max_nb < S1C_DECODE_MAX_BANNED)  // pack rows to the widest list
            for (int k = 1; k < n_out; k++)
                memmove(e->banned + (size_t)k * max_nb, e->banned + (size_t)k * S1C_DECODE_MAX_BANNED,
                        (size_t)max_nb * sizeof(int32_t));
        double f0 = now_s();
        if (greedy)
            st = s1c_qwen2_decode_argmax(e->m, &e->kv, e->ws, &b, e->o.vocab_limit, e->banned, max_nb, e->choice);
        else
            st = s1c_qwen2_decode(e->m, &e->kv, e->ws, &b, e->logits);
        e->stats.forward_s += now_s() - f0;
        e->stats.steps++;
        if (st != S1C_OK) break;
        for (int k = 0; k < n_step; k++) {
            seq_t *s = &e->seqs[e->step_seq[k]];
            const int fed = e->step_fed[k];
            if (s->parent) e->stats.prefill_tokens += fed;
            else e->stats.decode_tokens += fed;
            s->n_cached += fed;
        }
        // ---- sample, fork the samples of freshly prefilled prompts, finish ----
        for (int k = 0; k < n_out; k++) {
            seq_t *s = &e->seqs[e->out_seq[k]];
            const s1c_gen_request *r = s->r;
            const float *lg = greedy ? NULL : e->logits + (size_t)k * V;
            const int32_t chosen = greedy ? e->choice[k] : -1;
            if (s->parent) {
                s->parent = 0;
                int group[1024];
                int ng = 0;
                group[ng++] = e->out_seq[k];
                for (int j = 1; j < r->n_samples && ng < 1024; j++) {
                    int ci = free_slot(e);
                    S1C_ASSERT(ci >= 0);
                    seq_t *c = &e->seqs[ci];
                    c->req = s->req;
                    c->r = s->r;
                    c->rs = s->rs;
                    c->sample = j;
                    c->active = 1;
                    c->parent = 0;
                    seq_reserve(c, s->n_tok + 1);
                    memcpy(c->tok, s->tok, (size_t)s->n_tok * sizeof(int32_t));
                    memcpy(c->lp, s->lp, (size_t)s->n_tok * sizeof(float));
                    c->n_tok = s->n_tok;
                    c->n_prompt = s->n_prompt;
                    c->n_cached = s->n_cached;
                    if (!c->table) c->table = s1c_xmalloc((size_t)e->max_blocks * sizeof(int32_t));
                    memcpy(c->table, s->table, (size_t)s->n_table * sizeof(int32_t));
                    c->n_table = s->n_table;
                    for (int t = 0; t < c->n_table; t++) s1c_kv_blocks_ref(&e->kb, c->table[t]);
                    c->n_tail = 0;
                    c->finish = S1C_FINISH_NONE;
                    group[ng++] = ci;
                }
                for (int g = 0; g < ng; g++) {
                    seq_t *x = &e->seqs[group[g]];
                    s1c_rng_seed(&x->rng, r->seed + (uint64_t)x->sample);
                    s1c_bf_action act;
                    s1c_bf_start(r->bf, &x->bf, r->prompt_ends_nl, &act);
                    // Budget 0: the forced end goes in before the first sampled token, whose
                    // logits are then those after the forced end (fed next step).
                    if (act.n > 0) {
                        seq_reserve(x, x->n_tok + act.n + 1);
                        for (int i = 0; i < act.n; i++) {
                            x->lp[x->n_tok] = NAN;
                            x->tok[x->n_tok++] = act.ids[i];
                        }
                    } else {
                        advance(e, x, r, lg, chosen);
                    }
                    if (x->finish != S1C_FINISH_NONE) {
                        finish_seq(e, x, &reserved, done, ctx);
                        active--;
                    }
                }
            } else {
                advance(e, s, r, lg, chosen);
                if (s->finish != S1C_FINISH_NONE) {
                    finish_seq(e, s, &reserved, done, ctx);
                    active--;
                }
            }
        }
        // ---- streaming progress, then the samples whose clients went away ----
        if (feed->progress)
            for (int k = 0; k < n_out; k++) {
                const seq_t *s = &e->seqs[e->out_seq[k]];
                if (!s->active || s->parent) continue;
                s1c_gen_result pr = seq_result(s);
                feed->progress(feed->ctx, &pr);
            }
        if (feed->cancelled)
            for (int i = 0; i < B; i++)
                if (e->seqs[i].active && feed->cancelled(feed->ctx, e->seqs[i].req))
                    cancel_seq(e, &e->seqs[i], &active, &reserved, done, ctx);
    }
    // On an error, sequences still running are dropped (their blocks returned).
    for (int i = 0; i < B; i++)
        if (e->seqs[i].active) {
            seq_release(e, &e->seqs[i]);
            if (e->seqs[i].parent) e->seqs[i].rs->remaining = 1;
            request_sample_gone(&e->seqs[i], &reserved);
        }
    e->stats.wall_s += now_s() - t0;
    return st;
}

// Batch mode: the feed is the array.
typedef struct {
    const s1c_gen_request *reqs;
    int n, next;
} array_feed;

static const s1c_gen_request *array_next(void *ctx, int wait) {
    array_feed *a = ctx;
    (void)wait;
    return a->next < a->n ? &a->reqs[a->next++] : NULL;
}

s1c_status s1c_engine_run(s1c_engine *e, const s1c_gen_request *reqs, int n_reqs, s1c_gen_done_fn done, void *ctx) {
    array_feed a = {reqs, n_reqs, 0};
    s1c_gen_feed feed = {.next = array_next, .ctx = &a};
    return s1c_engine_serve(e, &feed, done, ctx);
}
