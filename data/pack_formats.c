// The record formats of `s1c-data pack` (contract: pack_formats.h).
#include "pack_formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "s1_format.h"

#define IM_START "<|im_start|>"
#define IM_END "<|im_end|>\n"
#define RESPONSE_TEMPLATE IM_START "assistant\n"
#define INSTRUCTION_TEMPLATE IM_START "user"

static const char *const names[S1C_FMT_N] = {"auto", "s1", "s1-deepseek", "s1-gemini", "messages",
                                             "prompt-completion", "text"};

s1c_status s1c_parse_format(const char *s, s1c_record_format *f) {
    for (int i = 0; i < S1C_FMT_N; i++)
        if (i != S1C_FMT_S1_DEEPSEEK && i != S1C_FMT_S1_GEMINI && !strcmp(s, names[i])) {
            *f = (s1c_record_format)i;
            return S1C_OK;
        }
    return s1c_err("--format expects auto, s1, messages, prompt-completion or text, got '%s'", s);
}

const char *s1c_format_describe(s1c_record_format f, const s1c_fields *fields) {
    static __thread char buf[256];
    switch (f) {
    case S1C_FMT_S1:
        snprintf(buf, sizeof buf, "s1 schema (question '%s', trace '%s', attempt '%s')", fields->question, fields->trace,
                 fields->attempt);
        return buf;
    case S1C_FMT_S1_DEEPSEEK:
        return "s1K-1.1, recognised by its fields (trace 'deepseek_thinking_trajectory', attempt 'deepseek_attempt')";
    case S1C_FMT_S1_GEMINI:
        return "s1K-1.1 with gemini traces only (trace 'gemini_thinking_trajectory', attempt 'gemini_attempt')";
    case S1C_FMT_MESSAGES: return "messages (Qwen2.5 chat template; loss on the assistant turns)";
    case S1C_FMT_PROMPT_COMPLETION: return "prompt/completion (loss on the completion)";
    case S1C_FMT_TEXT: return "pre-rendered text (loss after the response template)";
    default: return "?";
    }
}

typedef struct {
    unsigned char *m;
    size_t n, cap;
} mask_buf;

static void mask_put(mask_buf *b, unsigned char v, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->m = s1c_xrealloc(b->m, b->cap);
    }
    memset(b->m + b->n, v, n);
    b->n += n;
}

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *s) {
    size_t n = strlen(s);
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = s1c_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n + 1);
    b->n += n;
}

enum { LOSS_NONE, LOSS_ALL, LOSS_AFTER_HEADER };

// Appends the tokens of text (a whole chat turn when LOSS_AFTER_HEADER: its header
// "<|im_start|>role\n" stays out of the loss). Each turn starts with an added token, so turn by
// turn equals encoding the whole text. Should the content's first characters merge with the
// header's "\n" into one token, that token is in the loss.
static s1c_status piece(const s1c_tokenizer *tok, const char *text, int loss, s1c_ids *ids, mask_buf *mb) {
    size_t n0 = ids->n;
    S1C_TRY(s1c_tokenizer_encode(tok, text, strlen(text), 0, ids));
    size_t got = ids->n - n0, from = loss == LOSS_NONE ? got : 0;
    if (loss == LOSS_AFTER_HEADER) {
        const char *nl = strchr(text, '\n');
        s1c_ids h = {0};
        s1c_status st = s1c_tokenizer_encode(tok, text, nl ? (size_t)(nl - text) + 1 : strlen(text), 0, &h);
        if (st != S1C_OK) return st;
        from = h.n <= got && !memcmp(h.ids, ids->ids + n0, h.n * sizeof *h.ids) ? h.n : (h.n ? h.n - 1 : 0);
        s1c_ids_free(&h);
    }
    mask_put(mb, 0, from);
    mask_put(mb, 1, got - from);
    return S1C_OK;
}

// One chat turn "<|im_start|>role\ncontent<|im_end|>\n".
static s1c_status turn(const s1c_tokenizer *tok, const char *role, const char *content, int loss, s1c_ids *ids,
                       mask_buf *mb) {
    sbuf t = {0};
    put(&t, IM_START);
    put(&t, role);
    put(&t, "\n");
    put(&t, content);
    put(&t, IM_END);
    s1c_status st = piece(tok, t.s, loss, ids, mb);
    free(t.s);
    return st;
}

// A list of {role, content} turns; loss: on assistant turns (which = 0) or on all (which = 1,
// a completion). *n_loss counts the turns in the loss.
static s1c_status chat(const s1c_format_opts *o, const s1c_tokenizer *tok, const cJSON *list, const char *field,
                       int system_turn, int all_loss, s1c_ids *ids, mask_buf *mb, int *n_loss) {
    if (!cJSON_IsArray(list)) return s1c_err("field '%s': expected a list of {\"role\", \"content\"} messages, got %s",
                                             field, s1c_json_type_name(list));
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, list) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsObject(m) || !cJSON_IsString(role))
            return s1c_err("field '%s[%d]': expected {\"role\": string, \"content\": string}", field, i);
        if (!cJSON_IsString(content))
            return s1c_err("field '%s[%d].content': expected a string, got %s", field, i, s1c_json_type_name(content));
        if (i == 0 && system_turn && strcmp(role->valuestring, "system") != 0)
            S1C_TRY(turn(tok, "system", o->system ? o->system : S1C_DEFAULT_SYSTEM, LOSS_NONE, ids, mb));
        int loss = all_loss || !strcmp(role->valuestring, "assistant");
        *n_loss += loss;
        S1C_TRY(turn(tok, role->valuestring, content->valuestring, loss ? LOSS_AFTER_HEADER : LOSS_NONE, ids, mb));
        i++;
    }
    if (i == 0 && system_turn) return s1c_err("field '%s': an empty list", field);
    return S1C_OK;
}

// Where ids[at..] begins with pat[np] (token ids).
static int starts(const s1c_ids *ids, size_t at, const s1c_ids *pat) {
    return pat->n && at + pat->n <= ids->n && !memcmp(ids->ids + at, pat->ids, pat->n * sizeof *pat->ids);
}

static s1c_status text_format(const s1c_format_opts *o, const s1c_tokenizer *tok, const char *text, s1c_ids *ids,
                              mask_buf *mb) {
    const char *rt = o->response_template ? o->response_template : RESPONSE_TEMPLATE;
    const char *it = o->instruction_template ? o->instruction_template : INSTRUCTION_TEMPLATE;
    s1c_ids r = {0}, in = {0};
    size_t n0 = ids->n;
    s1c_status st = s1c_tokenizer_encode(tok, rt, strlen(rt), 0, &r);
    if (st == S1C_OK) st = s1c_tokenizer_encode(tok, it, strlen(it), 0, &in);
    if (st == S1C_OK) st = s1c_tokenizer_encode(tok, text, strlen(text), 0, ids);
    size_t found = 0;
    if (st == S1C_OK) {
        int on = 0;
        for (size_t k = n0; k < ids->n;) {
            if (starts(ids, k, &r)) {  // the template itself stays out of the loss
                mask_put(mb, 0, r.n);
                k += r.n;
                on = 1;
                found++;
            } else if (starts(ids, k, &in)) {
                on = 0;
                mask_put(mb, 0, 1);
                k++;
            } else {
                mask_put(mb, (unsigned char)on, 1);
                k++;
            }
        }
        if (!found)
            st = s1c_err("field 'text': the response template \"%s\" is not in the text (as tokens): nothing to train on; "
                         "--response-template names another",
                         rt);
    }
    s1c_ids_free(&r);
    s1c_ids_free(&in);
    return st;
}

static s1c_record_format detect(const s1c_format_opts *o, const cJSON *rec) {
    if (o->forced != S1C_FMT_AUTO && o->forced != S1C_FMT_S1) return o->forced;
    if (o->forced == S1C_FMT_AUTO) {
        if (cJSON_GetObjectItemCaseSensitive(rec, "messages")) return S1C_FMT_MESSAGES;
        if (cJSON_GetObjectItemCaseSensitive(rec, "prompt") && cJSON_GetObjectItemCaseSensitive(rec, "completion"))
            return S1C_FMT_PROMPT_COMPLETION;
        if (cJSON_GetObjectItemCaseSensitive(rec, "text") && !cJSON_GetObjectItemCaseSensitive(rec, o->fields.question))
            return S1C_FMT_TEXT;
    }
    if (!o->fields_given && !cJSON_GetObjectItemCaseSensitive(rec, o->fields.trace)) {
        if (cJSON_GetObjectItemCaseSensitive(rec, "deepseek_thinking_trajectory")) return S1C_FMT_S1_DEEPSEEK;
        if (cJSON_GetObjectItemCaseSensitive(rec, "gemini_thinking_trajectory")) return S1C_FMT_S1_GEMINI;
    }
    return S1C_FMT_S1;
}

static s1c_status s1_schema(const s1c_format_opts *o, const s1c_fields *f, const s1c_tokenizer *tok, const cJSON *rec,
                            s1c_ids *ids, unsigned char **mask) {
    const char *q = NULL, *a = NULL;
    const char **parts = NULL;
    size_t n_parts = 0;
    int rq = s1c_json_string(rec, f->question, &q);
    int ra = rq < 0 ? 0 : s1c_json_string(rec, f->attempt, &a);
    int rt = rq < 0 || ra < 0 ? 0 : s1c_record_trace_parts(rec, f->trace, &parts, &n_parts);
    if (rq < 0 || ra < 0 || rt < 0) {
        free(parts);
        return S1C_ERR;
    }
    if (rq == 0 || ra == 0 || rt == 0) {
        free(parts);
        return s1c_err("missing or null field '%s'", rq == 0 ? f->question : ra == 0 ? f->attempt : f->trace);
    }
    size_t loss_start;
    char *text = s1c_s1_training_text_system(o->system ? o->system : S1C_DEFAULT_SYSTEM, q, parts, n_parts, a,
                                             &loss_start);
    free(parts);
    s1c_status st = s1c_s1_tokenize(tok, text, loss_start, ids, mask);
    free(text);
    return st;
}

s1c_status s1c_format_tokenize(const s1c_format_opts *o, const s1c_tokenizer *tok, const cJSON *rec, s1c_ids *ids,
                               unsigned char **mask, s1c_record_format *used) {
    s1c_record_format f = *used = detect(o, rec);
    if (f == S1C_FMT_S1 || f == S1C_FMT_S1_DEEPSEEK || f == S1C_FMT_S1_GEMINI) {
        s1c_fields fl = o->fields;
        if (f != S1C_FMT_S1) S1C_TRY(s1c_fields_set_trace_style(&fl, f == S1C_FMT_S1_DEEPSEEK ? "deepseek" : "gemini"));
        return s1_schema(o, &fl, tok, rec, ids, mask);
    }
    mask_buf mb = {0};
    size_t n0 = ids->n;
    s1c_status st = S1C_OK;
    int n_loss = 0;
    if (f == S1C_FMT_MESSAGES) {
        st = chat(o, tok, cJSON_GetObjectItemCaseSensitive(rec, "messages"), "messages", 1, 0, ids, &mb, &n_loss);
        if (st == S1C_OK && !n_loss) st = s1c_err("field 'messages': no assistant turn: nothing to train on");
    } else if (f == S1C_FMT_PROMPT_COMPLETION) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(rec, "prompt");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "completion");
        if (cJSON_IsString(p) && cJSON_IsString(c)) {
            st = piece(tok, p->valuestring, LOSS_NONE, ids, &mb);
            if (st == S1C_OK) st = piece(tok, c->valuestring, LOSS_ALL, ids, &mb);
        } else if (cJSON_IsArray(p) && cJSON_IsArray(c)) {
            st = chat(o, tok, p, "prompt", 1, 0, ids, &mb, &n_loss);
            n_loss = 0;  // the prompt's assistant turns (few-shot) are context, not loss
            for (size_t k = 0; k < mb.n; k++) mb.m[k] = 0;
            if (st == S1C_OK) st = chat(o, tok, c, "completion", 0, 1, ids, &mb, &n_loss);
        } else
            st = s1c_err("fields 'prompt' and 'completion': expected two strings or two lists of messages, got %s and %s",
                         s1c_json_type_name(p), s1c_json_type_name(c));
    } else {
        const char *t = NULL;
        int rt = s1c_json_string(rec, "text", &t);
        if (rt == 0) st = s1c_err("missing or null field 'text'");
        else if (rt < 0) st = S1C_ERR;
        else st = text_format(o, tok, t, ids, &mb);
    }
    if (st != S1C_OK) {
        ids->n = n0;
        free(mb.m);
        return st;
    }
    if (mb.n != ids->n - n0) {
        st = s1c_err("internal: %zu mask bytes for %zu tokens", mb.n, ids->n - n0);
        ids->n = n0;
        free(mb.m);
        return st;
    }
    *mask = mb.m ? mb.m : s1c_xcalloc(1, 1);
    return S1C_OK;
}
