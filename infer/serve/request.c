// request.c — an OpenAI request body → a job: every field checked for type and range, unknown
// fields refused, the error naming the field (OpenAI's error shape: message, type, param, code).
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s1_format.h"
#include "serve_internal.h"

char *sv_error_body(const char *message, const char *type, const char *param) {
    cJSON *r = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(r, "error");
    char *clean = s1c_utf8_clean(message, strlen(message));
    cJSON_AddStringToObject(e, "message", clean);
    free(clean);
    cJSON_AddStringToObject(e, "type", type);
    if (param) cJSON_AddStringToObject(e, "param", param);
    else cJSON_AddNullToObject(e, "param");
    cJSON_AddNullToObject(e, "code");
    char *js = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return js;
}

typedef struct {
    int status;
    char param[96];
    char msg[400];
} perr;

static int fail(perr *e, const char *param, const char *fmt, ...) {
    if (e->status) return 0;  // the first error wins
    e->status = 400;
    snprintf(e->param, sizeof e->param, "%s", param);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return 0;
}

// An integer field: absent or null keeps *out. JSON numbers are doubles: 1.5 or 1e300 are refused.
static int get_int(const cJSON *o, const char *name, long lo, long hi, int *out, perr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return fail(e, name, "'%s' must be an integer", name);
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return fail(e, name, "'%s' must be in [%ld, %ld], got %.17g", name, lo, hi, v->valuedouble);
    *out = (int)v->valuedouble;
    return 1;
}

static int get_num(const cJSON *o, const char *name, double lo, double hi, float *out, perr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsNumber(v)) return fail(e, name, "'%s' must be a number", name);
    if (!(v->valuedouble >= lo && v->valuedouble <= hi))
        return fail(e, name, "'%s' must be in [%g, %g], got %.17g", name, lo, hi, v->valuedouble);
    *out = (float)v->valuedouble;
    return 1;
}

static int get_bool(const cJSON *o, const char *name, int *out, perr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsBool(v)) return fail(e, name, "'%s' must be a boolean", name);
    *out = cJSON_IsTrue(v);
    return 1;
}

// A string field (NUL bytes cannot occur: cJSON stops at them and the body check refuses them).
static int get_str(const cJSON *o, const char *name, const char **out, perr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsString(v)) return fail(e, name, "'%s' must be a string", name);
    *out = v->valuestring;
    return 1;
}

static const char *const common_fields[] = {
    "model", "n", "max_tokens", "temperature", "top_p", "top_k", "seed", "stop", "stream", "stream_options",
    "logprobs", "user", "presence_penalty", "frequency_penalty", "max_thinking_tokens", "min_thinking_tokens",
    "num_ignore", "continuation", "answer_prefix", "max_answer_tokens", NULL};
static const char *const completion_fields[] = {"prompt", "echo", "best_of", "suffix", NULL};
static const char *const chat_fields[] = {"messages", "top_logprobs", "max_completion_tokens", NULL};

static int known(const char *k, const char *const *list) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(k, list[i])) return 1;
    return 0;
}

static int tokenize(const s1c_server *s, const char *text, s1c_ids *out, perr *e, const char *param) {
    memset(out, 0, sizeof *out);
    if (s1c_tokenizer_encode(s->tok, text, strlen(text), 0, out) != S1C_OK)
        return fail(e, param, "'%s' cannot be tokenized: %s", param, s1c_err_msg());
    return 1;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !memcmp(s + a - b, suffix, b);
}

// A prompt opens a thinking phase when it ends in the thinking start, with or without its "\n".
static int opens_thinking(const char *t) { return ends_with(t, S1C_THINK_START "\n") || ends_with(t, S1C_THINK_START); }

// The s1 chat format of a message list: a single user message is exactly the eval prompt
// (the s1 format as `s1c-infer eval` builds it: s1c_eval_prompt with the default system turn);
// none is given), then the assistant turn opening its thinking.
static char *chat_prompt(const cJSON *msgs, perr *e) {
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        fail(e, "messages", "'messages' must be a non-empty array of {role, content} objects");
        return NULL;
    }
    const int n = cJSON_GetArraySize(msgs);
    const char *role[256], *content[256];
    if (n > 256) {
        fail(e, "messages", "'messages' holds %d messages; at most 256", n);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        char param[64];
        snprintf(param, sizeof param, "messages[%d]", i);
        if (!cJSON_IsObject(m)) {
            fail(e, param, "'%s' must be an object", param);
            return NULL;
        }
        for (const cJSON *f = m->child; f; f = f->next)
            if (strcmp(f->string, "role") && strcmp(f->string, "content") && strcmp(f->string, "name")) {
                snprintf(param, sizeof param, "messages[%d].%s", i, f->string);
                fail(e, param, "unknown field '%s'", param);
                return NULL;
            }
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role"), *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(r) || (strcmp(r->valuestring, "system") && strcmp(r->valuestring, "user") &&
                                   strcmp(r->valuestring, "assistant"))) {
            snprintf(param, sizeof param, "messages[%d].role", i);
            fail(e, param, "'%s' must be \"system\", \"user\" or \"assistant\"", param);
            return NULL;
        }
        if (!cJSON_IsString(c)) {
            snprintf(param, sizeof param, "messages[%d].content", i);
            fail(e, param, "'%s' must be a string", param);
            return NULL;
        }
        role[i] = r->valuestring;
        content[i] = c->valuestring;
    }
    size_t cap = 256;
    for (int i = 0; i < n; i++) cap += strlen(content[i]) + 64;
    char *p = s1c_xmalloc(cap), *w = p;
    if (strcmp(role[0], "system")) w += sprintf(w, "<|im_start|>system\n%s<|im_end|>\n", S1C_DEFAULT_SYSTEM);
    for (int i = 0; i < n; i++) w += sprintf(w, "<|im_start|>%s\n%s<|im_end|>\n", role[i], content[i]);
    // As `s1c-infer eval`'s default prompt (s1c_eval_prompt): the model writes the "\n" after
    // the thinking start itself (s1).
    sprintf(w, "<|im_start|>assistant\n%s", S1C_THINK_START);
    return p;
}

// prompt: a string, an array of strings, an array of token ids, or an array of id arrays.
static int completion_prompts(const s1c_server *s, const cJSON *pr, sv_job *j, perr *e) {
    if (!pr) return fail(e, "prompt", "'prompt' is required");
    const char *texts[SV_MAX_PROMPTS];
    const cJSON *idlists[SV_MAX_PROMPTS];
    int nt = 0, ni = 0;
    if (cJSON_IsString(pr)) texts[nt++] = pr->valuestring;
    else if (cJSON_IsArray(pr) && cJSON_GetArraySize(pr) > 0) {
        const cJSON *first = cJSON_GetArrayItem(pr, 0);
        if (cJSON_IsNumber(first)) idlists[ni++] = pr;
        else
            for (const cJSON *it = pr->child; it; it = it->next) {
                if (nt + ni == SV_MAX_PROMPTS) return fail(e, "prompt", "at most %d prompts per request", SV_MAX_PROMPTS);
                if (cJSON_IsString(it)) texts[nt++] = it->valuestring;
                else if (cJSON_IsArray(it)) idlists[ni++] = it;
                else return fail(e, "prompt", "'prompt' items must be strings or arrays of token ids");
            }
        if (nt && ni) return fail(e, "prompt", "'prompt' mixes strings and token arrays");
    } else {
        return fail(e, "prompt", "'prompt' must be a string, an array of strings, or token ids");
    }
    j->n_prompts = nt + ni;
    for (int p = 0; p < nt; p++) {
        if (!tokenize(s, texts[p], &j->prompt[p], e, "prompt")) return 0;
        const size_t L = strlen(texts[p]);
        j->prompt_ends_nl[p] = L > 0 && texts[p][L - 1] == '\n';
        const int think = opens_thinking(texts[p]);
        if (p > 0 && think != j->thinking)
            return fail(e, "prompt", "some prompts open a thinking phase and some do not; send them separately");
        j->thinking = think;
    }
    for (int p = 0; p < ni; p++) {
        const cJSON *a = idlists[p];
        if (cJSON_GetArraySize(a) == 0) return fail(e, "prompt", "'prompt' holds an empty token array");
        for (const cJSON *it = a->child; it; it = it->next) {
            if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) || it->valuedouble < 0 ||
                it->valuedouble >= s->vocab_limit)
                return fail(e, "prompt", "'prompt' token ids must be integers in [0, %d)", s->vocab_limit);
            s1c_ids_push(&j->prompt[p], (int32_t)it->valuedouble);
        }
        // The text the ids decode to tells whether they open a thinking phase and end with "\n".
        char *t = NULL;
        size_t tl = 0;
        if (s1c_tokenizer_decode(s->tok, j->prompt[p].ids, j->prompt[p].n, 0, &t, &tl) != S1C_OK)
            return fail(e, "prompt", "'prompt' token ids do not decode: %s", s1c_err_msg());
        j->prompt_ends_nl[p] = tl > 0 && t[tl - 1] == '\n';
        const int think = opens_thinking(t);
        free(t);
        if (p > 0 && think != j->thinking)
            return fail(e, "prompt", "some prompts open a thinking phase and some do not; send them separately");
        j->thinking = think;
    }
    return 1;
}

static int parse_stop(const cJSON *root, sv_job *j, perr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "stop");
    if (!v || cJSON_IsNull(v)) return 1;
    const cJSON *items[SV_MAX_STOP];
    int n = 0;
    if (cJSON_IsString(v)) items[n++] = v;
    else if (cJSON_IsArray(v)) {
        for (const cJSON *it = v->child; it; it = it->next) {
            if (n == SV_MAX_STOP) return fail(e, "stop", "'stop' holds at most %d strings", SV_MAX_STOP);
            items[n++] = it;
        }
    } else {
        return fail(e, "stop", "'stop' must be a string or an array of strings");
    }
    for (int i = 0; i < n; i++) {
        if (!cJSON_IsString(items[i])) return fail(e, "stop", "'stop' must be a string or an array of strings");
        if (!items[i]->valuestring[0]) return fail(e, "stop", "'stop' strings must not be empty");
        if (strlen(items[i]->valuestring) > 128) return fail(e, "stop", "'stop' strings are at most 128 bytes");
        j->stop[j->n_stop++] = s1c_xstrdup(items[i]->valuestring);
    }
    return 1;
}

sv_job *sv_request_parse(s1c_server *s, int chat, const char *body, size_t len, int *status, char **err_body) {
    perr e = {0};
    *status = 0;
    *err_body = NULL;
    if (memchr(body, '\0', len)) {
        *status = 400;
        *err_body = sv_error_body("the request body holds a NUL byte", "invalid_request_error", NULL);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        char msg[160];
        if (!root) snprintf(msg, sizeof msg, "the body is not valid JSON (error near byte %ld)", end ? (long)(end - body) : 0L);
        else snprintf(msg, sizeof msg, "the body must be a JSON object");
        cJSON_Delete(root);
        *status = 400;
        *err_body = sv_error_body(msg, "invalid_request_error", NULL);
        return NULL;
    }
    sv_job *j = s1c_xcalloc(1, sizeof *j);
    pthread_cond_init(&j->cv, NULL);
    j->chat = chat;
    j->n = 1;
    j->max_thinking = -1;
    j->sampling.temperature = 1.0f;  // OpenAI's default
    j->sampling.top_p = 1.0f;
    for (const cJSON *f = root->child; f; f = f->next)
        if (!known(f->string, common_fields) && !known(f->string, chat ? chat_fields : completion_fields)) {
            fail(&e, f->string, "unknown field '%s'", f->string);
            break;
        }
    const char *model = NULL;
    get_str(root, "model", &model, &e);
    if (!e.status && model && strcmp(model, s->model_name)) {
        e.status = 404;
        snprintf(e.param, sizeof e.param, "model");
        snprintf(e.msg, sizeof e.msg, "model '%.200s' does not exist; this server serves '%.150s'", model, s->model_name);
    }
    get_int(root, "n", 1, s->max_batch, &j->n, &e);
    int best_of = j->n;
    if (!chat) get_int(root, "best_of", 1, s->max_batch, &best_of, &e);
    if (!e.status && best_of != j->n) fail(&e, "best_of", "'best_of' must equal 'n' (no server-side ranking)");
    get_num(root, "temperature", 0, 2, &j->sampling.temperature, &e);
    get_num(root, "top_p", 0, 1, &j->sampling.top_p, &e);
    if (!e.status && j->sampling.top_p <= 0) fail(&e, "top_p", "'top_p' must be in (0, 1]");
    int top_k = -1;
    get_int(root, "top_k", -1, 1 << 30, &top_k, &e);
    j->sampling.top_k = top_k > 0 ? top_k : 0;
    float pen = 0;
    get_num(root, "presence_penalty", -2, 2, &pen, &e);
    if (!e.status && pen != 0) fail(&e, "presence_penalty", "'presence_penalty' is not supported (only 0)");
    get_num(root, "frequency_penalty", -2, 2, &pen, &e);
    if (!e.status && pen != 0) fail(&e, "frequency_penalty", "'frequency_penalty' is not supported (only 0)");
    const char *user = NULL;
    get_str(root, "user", &user, &e);
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (seed && !cJSON_IsNull(seed)) {
        if (!cJSON_IsNumber(seed) || seed->valuedouble != floor(seed->valuedouble) || seed->valuedouble < 0 ||
            seed->valuedouble > 9007199254740992.0)
            fail(&e, "seed", "'seed' must be a non-negative integer");
        else j->seed = (uint64_t)seed->valuedouble;
    } else {
        pthread_mutex_lock(&s->mu);
        j->seed = s->seed_counter += 0x9E3779B97F4A7C15ull;
        pthread_mutex_unlock(&s->mu);
    }
    get_bool(root, "stream", &j->stream, &e);
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) fail(&e, "stream_options", "'stream_options' must be an object");
        else {
            for (const cJSON *f = so->child; f; f = f->next)
                if (strcmp(f->string, "include_usage")) fail(&e, "stream_options", "unknown field 'stream_options.%s'", f->string);
            get_bool(so, "include_usage", &j->include_usage, &e);
        }
    }
    parse_stop(root, j, &e);
    if (chat) {
        get_bool(root, "logprobs", &j->logprobs, &e);
        int top = 0;
        get_int(root, "top_logprobs", 0, 20, &top, &e);
        if (!e.status && top > 0)
            fail(&e, "top_logprobs", "'top_logprobs' > 0 is not supported: only the chosen token's log-probability");
    } else {
        int lp = -1;
        get_int(root, "logprobs", 0, 20, &lp, &e);
        if (!e.status && lp > 1)
            fail(&e, "logprobs", "'logprobs' > 1 is not supported: only the chosen token's log-probability");
        j->logprobs = lp >= 0;
        int echo = 0;
        get_bool(root, "echo", &echo, &e);
        if (!e.status && echo) fail(&e, "echo", "'echo' is not supported");
        const char *suffix = NULL;
        get_str(root, "suffix", &suffix, &e);
        if (!e.status && suffix && suffix[0]) fail(&e, "suffix", "'suffix' is not supported");
    }
    if (!e.status && j->logprobs && j->stream) fail(&e, "logprobs", "'logprobs' is not supported with 'stream'");
    // Budget forcing.
    const char *cont = NULL, *prefix = NULL;
    int has_bf = 0;
    static const char *const bf_fields[] = {"max_thinking_tokens", "min_thinking_tokens", "num_ignore",
                                            "continuation", "answer_prefix", NULL};
    const char *bf_named = NULL;
    for (int i = 0; bf_fields[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, bf_fields[i]);
        if (v && !cJSON_IsNull(v) && !bf_named) {
            has_bf = 1;
            bf_named = bf_fields[i];
        }
    }
    get_int(root, "max_thinking_tokens", 0, 1 << 30, &j->max_thinking, &e);
    get_int(root, "min_thinking_tokens", 0, 1 << 30, &j->min_thinking, &e);
    get_int(root, "num_ignore", 0, 1 << 20, &j->num_ignore, &e);
    get_str(root, "continuation", &cont, &e);
    get_str(root, "answer_prefix", &prefix, &e);
    if (!e.status && j->max_thinking >= 0 && j->min_thinking > j->max_thinking)
        fail(&e, "min_thinking_tokens", "'min_thinking_tokens' (%d) exceeds 'max_thinking_tokens' (%d)", j->min_thinking,
             j->max_thinking);
    // Prompts.
    if (!e.status) {
        if (chat) {
            char *p = chat_prompt(cJSON_GetObjectItemCaseSensitive(root, "messages"), &e);
            if (p) {
                j->n_prompts = 1;
                j->thinking = 1;
                j->prompt_ends_nl[0] = 0;
                tokenize(s, p, &j->prompt[0], &e, "messages");
                free(p);
            }
        } else {
            completion_prompts(s, cJSON_GetObjectItemCaseSensitive(root, "prompt"), j, &e);
        }
    }
    if (!e.status && has_bf && !j->thinking)
        fail(&e, bf_named, "'%s': the prompt does not end in \"%s\", so there is no thinking phase to budget "
             "(use /v1/chat/completions, or end the prompt so)", bf_named, S1C_THINK_START);
    // Lengths: the prompt must leave room in the context, and so must max_tokens.
    int longest = 0;
    for (int p = 0; p < j->n_prompts; p++)
        if ((int)j->prompt[p].n > longest) longest = (int)j->prompt[p].n;
    const char *pname = chat ? "messages" : "prompt";
    if (!e.status && longest >= s->max_context)
        fail(&e, pname, "the prompt has %d tokens; the context holds %d (prompt and completion together)", longest,
             s->max_context);
    j->max_tokens = chat ? s->max_context - longest : 16;  // vLLM's defaults
    const char *mt_name = "max_tokens";
    if (chat && cJSON_GetObjectItemCaseSensitive(root, "max_completion_tokens")) mt_name = "max_completion_tokens";
    get_int(root, mt_name, 1, 1 << 30, &j->max_tokens, &e);
    if (!e.status && longest + j->max_tokens > s->max_context)
        fail(&e, mt_name, "'%s' is %d but the prompt has %d tokens and the context holds %d", mt_name, j->max_tokens,
             longest, s->max_context);
    j->max_answer = j->max_tokens;
    get_int(root, "max_answer_tokens", 1, 1 << 30, &j->max_answer, &e);
    if (!e.status && cJSON_GetObjectItemCaseSensitive(root, "max_answer_tokens") && !j->thinking)
        fail(&e, "max_answer_tokens", "'max_answer_tokens': the prompt has no thinking phase (use 'max_tokens')");
    if (!e.status) {
        if (cont) tokenize(s, cont, &j->wait_ids, &e, "continuation");
        else {
            for (size_t i = 0; i < s->wait.n; i++) s1c_ids_push(&j->wait_ids, s->wait.ids[i]);
        }
        if (prefix) tokenize(s, prefix, &j->prefix_ids, &e, "answer_prefix");
        else {
            for (size_t i = 0; i < s->prefix.n; i++) s1c_ids_push(&j->prefix_ids, s->prefix.ids[i]);
        }
    }
    if (!e.status && j->wait_ids.n > S1C_BF_MAX_APPEND / 2)
        fail(&e, "continuation", "'continuation' is %zu tokens; at most %d", j->wait_ids.n, S1C_BF_MAX_APPEND / 2);
    if (!e.status && j->prefix_ids.n + s->delim.n + 1 > S1C_BF_MAX_APPEND)
        fail(&e, "answer_prefix", "'answer_prefix' is %zu tokens; at most %zu", j->prefix_ids.n,
             (size_t)S1C_BF_MAX_APPEND - s->delim.n - 1);
    if (!e.status) {
        j->bf = (s1c_bf_config){.max_thinking = j->max_thinking, .min_thinking = j->min_thinking,
                                .ignore = j->num_ignore, .max_answer = j->max_answer, .no_thinking = !j->thinking,
                                .early_trigger = s->early, .delim = s->delim.ids, .n_delim = (int)s->delim.n,
                                .wait = j->wait_ids.ids, .n_wait = (int)j->wait_ids.n, .answer_prefix = j->prefix_ids.ids,
                                .n_answer_prefix = (int)j->prefix_ids.n, .newline_id = s->newline,
                                .stop_ids = s->stops, .n_stop = s->n_stops,
                                .token_bytes = sv_tok_bytes,
                                // eval's defaults (s1's behaviour): see s1c_bf_config
                                .end_on_delim_start = 1, .eos_delim_only = 1, .min_tokens = j->num_ignore > 0 ? 1 : 0,
                                .token_ctx = (void *)s->tok};
        if (!j->thinking) j->bf.max_answer = j->max_tokens;
        if (s1c_bf_config_check(&j->bf) != S1C_OK) fail(&e, bf_named ? bf_named : "max_tokens", "%s", s1c_err_msg());
    }
    cJSON_Delete(root);
    if (e.status) {
        *status = e.status;
        *err_body = sv_error_body(e.msg, e.status == 404 ? "not_found_error" : "invalid_request_error",
                                  e.param[0] ? e.param : NULL);
        sv_job_free(j);
        return NULL;
    }
    for (int p = 0; p < j->n_prompts; p++)
        j->req[p] = (s1c_gen_request){.prompt = j->prompt[p].ids, .n_prompt = (int)j->prompt[p].n, .n_samples = j->n,
                                      .seed = j->seed + (uint64_t)p * (uint64_t)j->n, .sampling = j->sampling,
                                      .bf = &j->bf, .prompt_ends_nl = j->prompt_ends_nl[p],
                                      .max_new_tokens = j->max_tokens, .stop_strings = (const char *const *)j->stop,
                                      .n_stop_strings = j->n_stop, .logprobs = j->logprobs};
    // The engine would refuse a request larger than the KV pool: say so now, streamed or not.
    for (int p = 0; p < j->n_prompts; p++) {
        const int need = s1c_engine_request_blocks(s->eng, &j->req[p]);
        if (need > s->kv_total) {
            char msg[200];
            snprintf(msg, sizeof msg, "the request needs %d KV blocks in the worst case (n x max_tokens); the server's "
                     "pool has %d (lower 'n' or 'max_tokens')", need, s->kv_total);
            *status = 400;
            *err_body = sv_error_body(msg, "invalid_request_error", j->n > 1 ? "n" : "max_tokens");
            sv_job_free(j);
            return NULL;
        }
    }
    j->s = s1c_xcalloc((size_t)(j->n_prompts * j->n), sizeof *j->s);
    for (int k = 0; k < j->n_prompts * j->n; k++) s1c_decode_stream_init(&j->s[k].ds, s->tok);
    j->created = (long)time(NULL);
    static unsigned long counter;
    pthread_mutex_lock(&s->mu);
    unsigned long id = ++counter;
    pthread_mutex_unlock(&s->mu);
    snprintf(j->id, sizeof j->id, "%s-s1c-%lx-%lu", chat ? "chatcmpl" : "cmpl", (unsigned long)j->created, id);
    return j;
}
