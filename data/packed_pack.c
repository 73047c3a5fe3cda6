#include "packed_pack.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonl.h"
#include "pack_formats.h"
#include "s1c_sha256.h"
#include "packed_write.h"
#include "s1_format.h"
#include "zstd_stream.h"

#define BATCH_LINES 256
#define BATCH_BYTES ((size_t)32 << 20)

static const char *S1_TEMPLATE =
    "<|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n{question}<|im_end|>\\n<|im_start|>assistant\\n"
    "<|im_start|>think\\n{trace}\\n<|im_start|>answer\\n{answer}<|im_end|>\\n";

// The "template" attribute: how the samples were rendered, per format found, and the system prompt.
static char *template_attr(const s1c_pack_opts *o, const s1c_pack_result *res) {
    size_t cap = 4096, n = 0;
    char *t = s1c_xmalloc(cap);
    t[0] = '\0';
    for (int f = S1C_FMT_S1; f < S1C_FMT_N; f++) {
        if (!res->formats[f]) continue;
        const char *d = f <= S1C_FMT_S1_GEMINI ? S1_TEMPLATE : s1c_format_describe((s1c_record_format)f, &o->fields);
        n += (size_t)snprintf(t + n, cap - n, "%s%s", n ? " | " : "", d);
        if (n >= cap) break;
        if (f <= S1C_FMT_S1_GEMINI) f = S1C_FMT_S1_GEMINI;  // one entry for the s1 schema variants
    }
    if (n < cap)
        snprintf(t + n, cap - n, "; system=%s; loss from the assistant turn", o->system ? o->system : S1C_DEFAULT_SYSTEM);
    return t;
}

void s1c_pack_opts_default(s1c_pack_opts *o) {
    memset(o, 0, sizeof *o);
    s1c_fields_default(&o->fields);
    o->trace_style = "s1";
    o->level = 3;
    o->overflow = S1C_OVERFLOW_TRUNCATE;
}

typedef struct {
    int bad;
    char *err;
    s1c_ids ids;
    unsigned char *mask;
    s1c_record_format format;
} sample;

static void tokenize_one(const s1c_pack_opts *o, const s1c_format_opts *fo, const char *line, size_t len,
                         uint64_t lineno, sample *s) {
    memset(s, 0, sizeof *s);
    cJSON *rec = s1c_jsonl_parse(o->in, lineno, line, len);
    if (!rec) goto bad_noprefix;
    if (s1c_format_tokenize(fo, o->tok, rec, &s->ids, &s->mask, &s->format) != S1C_OK) goto bad;
    goto done;
bad:
    s1c_err_prefix("%s:%llu", o->in, (unsigned long long)lineno);
bad_noprefix:
    s->bad = 1;
    s->err = s1c_xstrdup(s1c_err_msg());
    s1c_ids_free(&s->ids);
    free(s->mask);
    s->mask = NULL;
done:
    cJSON_Delete(rec);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

s1c_status s1c_pack_run(const s1c_pack_opts *o, s1c_pack_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = now_s();
    if (!o->in || !o->out || !o->tok) return s1c_err("pack: --in, --out and --tokenizer are required");
    char sha[65];
    S1C_TRY(s1c_sha256_file(o->in, sha));
    s1c_lines *r = s1c_lines_open(o->in);
    if (!r) return S1C_ERR;
    s1c_packed_writer *w = s1c_packed_writer_create(o->out, o->level);
    if (!w) {
        s1c_lines_close(r);
        return S1C_ERR;
    }
    s1c_status st = S1C_OK;
    s1c_jsonl_batch batch = {0};
    s1c_badlog bad = {0};
    sample *smp = s1c_xmalloc(BATCH_LINES * sizeof *smp);
    s1c_format_opts fo = {.forced = o->format, .fields = o->fields, .fields_given = o->fields_given,
                          .system = o->system, .response_template = o->response_template};
    while (st == S1C_OK) {
        long nb = s1c_jsonl_batch_read(r, &batch, BATCH_LINES, BATCH_BYTES);
        if (nb < 0) st = S1C_ERR;
        if (nb <= 0) break;
#pragma omp parallel for schedule(dynamic, 1)
        for (long i = 0; i < nb; i++)
            tokenize_one(o, &fo, batch.arena + batch.start[i], batch.len[i], batch.lineno[i], &smp[i]);
        for (long i = 0; i < nb; i++) {
            sample *s = &smp[i];
            if (st == S1C_OK) {
                res->records++;
                if (s->bad && !o->skip_bad) st = s1c_err("%s", s->err);
                else if (s->bad) {
                    s1c_badlog_add(&bad, batch.lineno[i], s->err);
                    res->bad++;
                } else {
                    size_t n = s->ids.n;
                    int keep = 1;
                    if (o->max_length && n > o->max_length) {
                        if (o->overflow == S1C_OVERFLOW_DROP) {
                            keep = 0;
                            res->dropped++;
                        } else {
                            n = o->max_length;
                            res->truncated++;
                        }
                    }
                    res->formats[s->format]++;
                    if (keep) {
                        st = s1c_packed_writer_add(w, s->ids.ids, s->mask, n);
                        res->samples++;
                        res->tokens += n;
                        uint64_t loss = 0;
                        for (size_t k = 0; k < n; k++) loss += s->mask[k] != 0;
                        res->loss_tokens += loss;
                        res->no_loss += loss == 0;
                    }
                }
            }
            free(s->err);
            s1c_ids_free(&s->ids);
            free(s->mask);
        }
    }
    free(smp);
    s1c_jsonl_batch_free(&batch);
    res->in_bytes = s1c_lines_file_bytes(r);
    s1c_lines_close(r);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "s1c_version", S1C_VERSION);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "tokenizer_hash", s1c_tokenizer_hash(o->tok));
    char *tmpl = template_attr(o, res);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "template", tmpl);
    free(tmpl);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "source_sha256", sha);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "source", o->in);
    const char *trace = o->trace_style ? o->trace_style : "s1";
    if (!o->fields_given && res->formats[S1C_FMT_S1_DEEPSEEK]) trace = "deepseek";
    else if (!o->fields_given && res->formats[S1C_FMT_S1_GEMINI]) trace = "gemini";
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "trace", trace);
    if (st == S1C_OK) st = s1c_packed_writer_attr_int(w, "truncated", (long long)res->truncated);
    if (st == S1C_OK) st = s1c_packed_writer_attr_int(w, "dropped", (long long)res->dropped);
    if (st == S1C_OK) st = s1c_packed_writer_attr_int(w, "max_length", (long long)o->max_length);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "overflow", o->overflow == S1C_OVERFLOW_DROP ? "drop" : "truncate");
    if (st == S1C_OK) st = s1c_packed_writer_commit(w);
    else s1c_packed_writer_abort(w);
    if (st == S1C_OK && o->log && bad.n) s1c_badlog_print(&bad, o->in, o->log, 50);
    s1c_badlog_free(&bad);
    res->seconds = now_s() - t0;
    return st;
}
