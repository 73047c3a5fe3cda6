// response.c — OpenAI response bodies: a finished job as one JSON object, or its progress as
// server-sent events (chunks whose texts concatenate to the non-streamed text).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_internal.h"

const char *sv_finish_reason(s1c_finish f) {
    return f == S1C_FINISH_LENGTH || f == S1C_FINISH_CONTEXT ? "length" : "stop";
}

// OpenAI returns the text without the stop string: cut at the last occurrence of any of them
// (the engine stops as soon as one appears in the answer, so that one ends the text).
size_t sv_stop_cut(const sv_job *j, s1c_finish f, const char *text, size_t len) {
    if (f != S1C_FINISH_STOP_STRING) return len;
    size_t cut = len;
    int found = 0;
    for (int i = 0; i < j->n_stop; i++) {
        const size_t L = strlen(j->stop[i]);
        for (size_t p = len >= L ? len - L + 1 : 0; p-- > 0;)
            if (!memcmp(text + p, j->stop[i], L)) {
                if (!found || p > cut) cut = p;
                found = 1;
                break;
            }
    }
    return found ? cut : len;
}

char *sv_sample_text(const s1c_server *s, const sv_job *j, const sv_sample *x) {
    char *t = NULL;
    size_t tl = 0;
    if (x->error || s1c_tokenizer_decode(s->tok, x->ids, (size_t)x->n_ids, 0, &t, &tl) != S1C_OK) {
        free(t);
        return s1c_xstrdup("");
    }
    char *clean = s1c_utf8_clean(t, tl);
    free(t);
    clean[sv_stop_cut(j, x->finish, clean, strlen(clean))] = '\0';
    return clean;
}

static cJSON *thinking_json(const sv_job *j, const sv_sample *x) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "end", j->thinking ? s1c_think_end_name(x->bf.end) : "none");
    cJSON_AddNumberToObject(t, "thinking_tokens", x->bf.think_tokens);
    cJSON_AddNumberToObject(t, "answer_tokens", x->bf.answer_tokens);
    cJSON_AddNumberToObject(t, "extensions", x->bf.extensions);
    cJSON_AddNumberToObject(t, "min_extensions", x->bf.min_extensions);
    return t;
}

// usage: OpenAI's counts, reasoning tokens in completion_tokens_details, and the budget-forcing
// totals over the choices.
static cJSON *usage_json(const sv_job *j) {
    long prompt = 0, gen = 0, think = 0, answer = 0, ext = 0, minext = 0;
    for (int p = 0; p < j->n_prompts; p++) prompt += (long)j->prompt[p].n;
    for (int k = 0; k < j->n_prompts * j->n; k++) {
        gen += j->s[k].n_ids;
        think += j->s[k].bf.think_tokens;
        answer += j->s[k].bf.answer_tokens;
        ext += j->s[k].bf.extensions;
        minext += j->s[k].bf.min_extensions;
    }
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)gen);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt + gen));
    cJSON *d = cJSON_AddObjectToObject(u, "completion_tokens_details");
    cJSON_AddNumberToObject(d, "reasoning_tokens", (double)think);
    cJSON_AddNumberToObject(u, "thinking_tokens", (double)think);
    cJSON_AddNumberToObject(u, "answer_tokens", (double)answer);
    cJSON_AddNumberToObject(u, "extensions", (double)ext);
    cJSON_AddNumberToObject(u, "min_extensions", (double)minext);
    return u;
}

static char *token_text(const s1c_server *s, int32_t id) {
    size_t n = 0;
    const char *b = s1c_tokenizer_id_bytes(s->tok, id, &n);
    return s1c_utf8_clean(b ? b : "", b ? n : 0);
}

// Chosen-token log-probabilities: completions' {tokens, token_logprobs, top_logprobs, text_offset}
// or chat's {content: [{token, logprob, bytes, top_logprobs}]}; forced tokens have null.
static cJSON *logprobs_json(const s1c_server *s, const sv_job *j, const sv_sample *x) {
    cJSON *lp = cJSON_CreateObject();
    if (j->chat) {
        cJSON *content = cJSON_AddArrayToObject(lp, "content");
        for (int t = 0; t < x->n_ids; t++) {
            cJSON *e = cJSON_CreateObject();
            char *tt = token_text(s, x->ids[t]);
            cJSON_AddStringToObject(e, "token", tt);
            free(tt);
            if (x->lp && isfinite(x->lp[t])) cJSON_AddNumberToObject(e, "logprob", x->lp[t]);
            else cJSON_AddNullToObject(e, "logprob");
            size_t n = 0;
            const char *b = s1c_tokenizer_id_bytes(s->tok, x->ids[t], &n);
            cJSON *bytes = cJSON_AddArrayToObject(e, "bytes");
            for (size_t i = 0; b && i < n; i++) cJSON_AddItemToArray(bytes, cJSON_CreateNumber((unsigned char)b[i]));
            cJSON_AddArrayToObject(e, "top_logprobs");
            cJSON_AddItemToArray(content, e);
        }
        return lp;
    }
    cJSON *toks = cJSON_AddArrayToObject(lp, "tokens"), *vals = cJSON_AddArrayToObject(lp, "token_logprobs");
    cJSON *tops = cJSON_AddArrayToObject(lp, "top_logprobs"), *offs = cJSON_AddArrayToObject(lp, "text_offset");
    long off = 0;
    for (int t = 0; t < x->n_ids; t++) {
        char *tt = token_text(s, x->ids[t]);
        cJSON_AddItemToArray(toks, cJSON_CreateString(tt));
        const int ok = x->lp && isfinite(x->lp[t]);
        cJSON_AddItemToArray(vals, ok ? cJSON_CreateNumber(x->lp[t]) : cJSON_CreateNull());
        cJSON *top = cJSON_CreateObject();
        if (ok) cJSON_AddNumberToObject(top, tt, x->lp[t]);
        cJSON_AddItemToArray(tops, ok ? top : (cJSON_Delete(top), cJSON_CreateNull()));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        off += (long)strlen(tt);
        free(tt);
    }
    return lp;
}

char *sv_response_json(const s1c_server *s, const sv_job *j) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "id", j->id);
    cJSON_AddStringToObject(r, "object", j->chat ? "chat.completion" : "text_completion");
    cJSON_AddNumberToObject(r, "created", (double)j->created);
    cJSON_AddStringToObject(r, "model", s->model_name);
    cJSON *choices = cJSON_AddArrayToObject(r, "choices");
    for (int k = 0; k < j->n_prompts * j->n; k++) {
        const sv_sample *x = &j->s[k];
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "index", k);
        char *text = sv_sample_text(s, j, x);
        if (j->chat) {
            cJSON *m = cJSON_AddObjectToObject(c, "message");
            cJSON_AddStringToObject(m, "role", "assistant");
            cJSON_AddStringToObject(m, "content", text);
        } else {
            cJSON_AddStringToObject(c, "text", text);
        }
        free(text);
        if (j->logprobs) cJSON_AddItemToObject(c, "logprobs", logprobs_json(s, j, x));
        else cJSON_AddNullToObject(c, "logprobs");
        cJSON_AddStringToObject(c, "finish_reason", sv_finish_reason(x->finish));
        cJSON_AddItemToObject(c, "thinking", thinking_json(j, x));
        cJSON_AddItemToArray(choices, c);
    }
    cJSON_AddItemToObject(r, "usage", usage_json(j));
    char *js = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return js;
}

// ---- streaming ---------------------------------------------------------------------------------
static void append(char **out, size_t *len, size_t *cap, const char *b, size_t n) {
    if (*len + n + 1 > *cap) {
        *cap = 2 * (*len + n + 1);
        *out = s1c_xrealloc(*out, *cap);
    }
    memcpy(*out + *len, b, n);
    *len += n;
    (*out)[*len] = '\0';
}

static void event(char **out, size_t *len, size_t *cap, cJSON *obj) {
    char *js = cJSON_PrintUnformatted(obj);
    append(out, len, cap, "data: ", 6);
    append(out, len, cap, js, strlen(js));
    append(out, len, cap, "\n\n", 2);
    free(js);
    cJSON_Delete(obj);
}

static cJSON *chunk(const s1c_server *s, const sv_job *j) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", j->id);
    cJSON_AddStringToObject(c, "object", j->chat ? "chat.completion.chunk" : "text_completion");
    cJSON_AddNumberToObject(c, "created", (double)j->created);
    cJSON_AddStringToObject(c, "model", s->model_name);
    return c;
}

static void choice_event(const s1c_server *s, const sv_job *j, int k, const char *delta, size_t n, int role,
                         const sv_sample *fin, char **out, size_t *len, size_t *cap) {
    cJSON *c = chunk(s, j), *choices = cJSON_AddArrayToObject(c, "choices"), *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "index", k);
    char *t = s1c_utf8_clean(delta, n);
    if (j->chat) {
        cJSON *d = cJSON_AddObjectToObject(ch, "delta");
        if (role) cJSON_AddStringToObject(d, "role", "assistant");
        if (n || !role) cJSON_AddStringToObject(d, "content", t);
    } else {
        cJSON_AddStringToObject(ch, "text", t);
        cJSON_AddNullToObject(ch, "logprobs");
    }
    free(t);
    if (fin) {
        cJSON_AddStringToObject(ch, "finish_reason", sv_finish_reason(fin->finish));
        cJSON_AddItemToObject(ch, "thinking", thinking_json(j, fin));
        if (fin->error) cJSON_AddStringToObject(ch, "error", fin->error);
    } else {
        cJSON_AddNullToObject(ch, "finish_reason");
    }
    cJSON_AddItemToArray(choices, ch);
    event(out, len, cap, c);
}

static void text_push(sv_sample *x, const char *b, size_t n) { append(&x->text, &x->len, &x->tcap, b, n); }

// Decodes ids [committed, upto) into the sample's text.
static void decode_upto(sv_sample *x, int upto, char *buf, size_t bufsz) {
    for (; x->committed < upto; x->committed++) {
        int n = s1c_decode_stream_push(&x->ds, x->ids[x->committed], buf, bufsz);
        if (n > 0) text_push(x, buf, (size_t)n);
    }
}

int sv_stream_step(const s1c_server *s, sv_job *j, char **out, size_t *len, size_t *cap) {
    const size_t bufsz = s1c_decode_stream_bufsize(s->tok);
    char *buf = s1c_xmalloc(bufsz);
    size_t hold = 0;  // bytes that could still become a stop string
    for (int i = 0; i < j->n_stop; i++)
        if (strlen(j->stop[i]) > hold + 1) hold = strlen(j->stop[i]) - 1;
    int all = 1;
    for (int k = 0; k < j->n_prompts * j->n; k++) {
        sv_sample *x = &j->s[k];
        if (x->finished_sent) continue;
        if (!x->text) {  // the first chunk of a chat choice carries the role
            text_push(x, "", 0);
            if (j->chat) choice_event(s, j, k, "", 0, 1, NULL, out, len, cap);
        }
        if (x->done) {
            if (!x->error) decode_upto(x, x->n_ids, buf, bufsz);
            int n = s1c_decode_stream_flush(&x->ds, buf, bufsz);
            if (n > 0) text_push(x, buf, (size_t)n);
            size_t end = sv_stop_cut(j, x->finish, x->text, x->len);
            if (end < x->sent) end = x->sent;  // cannot happen: the hold-back covers stop strings
            choice_event(s, j, k, x->text + x->sent, end - x->sent, 0, x, out, len, cap);
            x->sent = end;
            x->finished_sent = 1;
            continue;
        }
        all = 0;
        // Budget forcing may still take back up to S1C_BF_HIST thinking tokens.
        int safe = x->n_ids - (x->phase == S1C_PHASE_THINK ? S1C_BF_HIST : 0);
        if (safe > x->committed) decode_upto(x, safe, buf, bufsz);
        size_t upto = x->len > hold ? x->len - hold : 0;
        while (upto > x->sent && ((unsigned char)x->text[upto] & 0xC0) == 0x80 && upto < x->len) upto--;
        if (upto > x->sent) {
            choice_event(s, j, k, x->text + x->sent, upto - x->sent, 0, NULL, out, len, cap);
            x->sent = upto;
        }
    }
    free(buf);
    if (!all) return 0;
    if (j->include_usage) {
        cJSON *c = chunk(s, j);
        cJSON_AddArrayToObject(c, "choices");
        cJSON_AddItemToObject(c, "usage", usage_json(j));
        event(out, len, cap, c);
    }
    append(out, len, cap, "data: [DONE]\n\n", 14);
    return 1;
}
