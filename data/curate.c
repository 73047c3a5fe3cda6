#include "curate.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curate_decontam.h"
#include "curate_hash.h"
#include "curate_presel.h"
#include "curate_rules.h"
#include "jsonl.h"
#include "s1c_file.h"
#include "zstd_stream.h"

#define BATCH_LINES 2048
#define BATCH_BYTES ((size_t)64 << 20)
#define DOMAIN_MAX 96

static const char *default_probes[] = {"isqwen7bcorrect", "isqwen32bcorrect"};
static const char *default_required[] = {"question", "solution", "trace", "attempt"};

void s1c_curate_opts_default(s1c_curate_opts *o) {
    memset(o, 0, sizeof *o);
    o->n = 1000;
    o->select = S1C_SELECT_S1;
    s1c_fields_default(&o->fields);
    o->probe_fields = default_probes;
    o->n_probe = 2;
    o->required = default_required;
    o->n_required = 4;
    o->ngram = 8;
    o->len_mode = S1C_LEN_AUTO;
}

static const char *select_names[] = {"s1", "random", "diverse", "longest"};

s1c_status s1c_parse_select(const char *s, s1c_select_mode *m) {
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, select_names[i])) {
            *m = (s1c_select_mode)i;
            return S1C_OK;
        }
    return s1c_err("--select: expected s1, random, diverse or longest, got '%s'", s);
}

enum { IT_OK, IT_BAD, IT_MISSING, IT_RULE, IT_NEED_COUNTER };

typedef struct {
    int kind;
    long reason;  // IT_MISSING: index into required; IT_RULE: rule index
    char *err;    // IT_BAD, IT_NEED_COUNTER
    s1c_h128 qhash;
    uint64_t tokens;
    uint8_t solved, presel, contaminated, domain_missing;
    uint8_t probed;  // some difficulty probe field is present
    char domain[DOMAIN_MAX];
} item;

typedef struct {
    const s1c_curate_opts *o;
    const s1c_rules *rules;
    const s1c_presel *presel;
    const s1c_ngrams *ngrams;
} ctx;

static const char *alias_field(const s1c_fields *f, const char *a) {
    if (!strcmp(a, "question")) return f->question;
    if (!strcmp(a, "trace")) return f->trace;
    if (!strcmp(a, "attempt")) return f->attempt;
    if (!strcmp(a, "solution")) return f->solution;
    return a;
}

static void set_bad(item *it, const char *path, uint64_t lineno) {
    s1c_err_prefix("%s:%llu", path, (unsigned long long)lineno);
    it->kind = IT_BAD;
    it->err = s1c_xstrdup(s1c_err_msg());
}

// Everything curation needs from one record; runs on many threads at once.
static void process(const ctx *c, const char *line, size_t len, uint64_t lineno, item *it) {
    const s1c_curate_opts *o = c->o;
    const s1c_fields *f = &o->fields;
    memset(it, 0, sizeof *it);
    cJSON *rec = s1c_jsonl_parse(o->pool, lineno, line, len);
    if (!rec) {
        it->kind = IT_BAD;
        it->err = s1c_xstrdup(s1c_err_msg());
        return;
    }
    char *trace = NULL;
    // Type checks first, so a malformed record is reported whatever the filters would say.
    const char *question = NULL, *attempt = NULL;
    int has_q = s1c_json_string(rec, f->question, &question);
    int has_a = has_q < 0 ? 0 : s1c_json_string(rec, f->attempt, &attempt);
    int has_t = has_q < 0 || has_a < 0 ? 0 : s1c_record_trace(rec, f->trace, &trace);
    int dom = has_t < 0 ? 0 : s1c_record_domain(rec, f->domain, it->domain, sizeof it->domain);
    if (has_q < 0 || has_a < 0 || has_t < 0 || dom < 0) goto bad;
    if (dom == 0) {
        snprintf(it->domain, sizeof it->domain, "unknown");
        it->domain_missing = 1;
    }
    for (size_t p = 0; p < o->n_probe; p++) {
        int v = 0, rc = s1c_json_flag(rec, o->probe_fields[p], &v);
        if (rc < 0) goto bad;
        if (rc == 1 && v) it->solved = 1;
        if (rc == 1) it->probed = 1;
    }
    double field_len = -1;
    if (o->len_mode == S1C_LEN_AUTO || o->len_mode == S1C_LEN_FIELD) {
        int rc = s1c_json_number(rec, f->length, &field_len);
        if (rc < 0) goto bad;
        if (rc == 1 && (field_len < 0 || field_len > 1e15)) {
            s1c_err("field '%s': expected a non-negative token count, got %g", f->length, field_len);
            goto bad;
        }
        if (rc == 0 && o->len_mode == S1C_LEN_FIELD) {
            s1c_err("no trace length field '%s' (--length field)", f->length);
            goto bad;
        }
    }
    // Quality: required fields present and non-null (an empty question or trace counts as missing).
    for (size_t r = 0; r < o->n_required; r++) {
        const char *name = alias_field(f, o->required[r]);
        int missing;
        if (name == f->trace) missing = has_t == 0;
        else if (name == f->question) missing = has_q == 0 || question[0] == '\0';
        else {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(rec, name);
            missing = !x || cJSON_IsNull(x);
        }
        if (missing) {
            it->kind = IT_MISSING;
            it->reason = (long)r;
            goto done;
        }
    }
    long fired = s1c_rules_check(c->rules, rec, f, trace);
    if (fired == -2) goto bad;
    if (fired >= 0) {
        it->kind = IT_RULE;
        it->reason = fired;
        goto done;
    }
    if (field_len >= 0) it->tokens = (uint64_t)field_len;
    else if (o->len_mode == S1C_LEN_BYTES) it->tokens = strlen(trace);
    else if (o->count) {
        if (o->count(o->count_ctx, trace, strlen(trace), &it->tokens) != 0) goto bad;
    } else {
        it->kind = IT_NEED_COUNTER;
        s1c_err("%s:%llu: the record has no trace length field '%s' and no tokenizer was given: pass --tokenizer "
                "DIR (or --length bytes, or --length-field NAME)",
                o->pool, (unsigned long long)lineno, f->length);
        it->err = s1c_xstrdup(s1c_err_msg());
        goto done;
    }
    if (!s1c_presel_empty(c->presel)) {
        int m = s1c_presel_match(c->presel, rec, it->tokens);
        if (m < 0) goto bad;
        it->presel = (uint8_t)m;
    }
    it->qhash = s1c_hash128(question, strlen(question));
    it->contaminated = (uint8_t)s1c_ngrams_hit(c->ngrams, question, strlen(question));
    it->kind = IT_OK;
    goto done;
bad:
    set_bad(it, o->pool, lineno);
done:
    free(trace);
    cJSON_Delete(rec);
}

typedef struct {
    char **names;
    uint64_t *pool_count, *sel_count, *sel_tokens;
    size_t n, cap, last;
} domain_table;

static uint32_t domain_id(domain_table *t, const char *name) {
    if (t->n > 0 && !strcmp(t->names[t->last], name)) return (uint32_t)t->last;
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->names[i], name)) return (uint32_t)(t->last = i);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 32;
        t->names = s1c_xrealloc(t->names, t->cap * sizeof *t->names);
        t->pool_count = s1c_xrealloc(t->pool_count, t->cap * sizeof(uint64_t));
    }
    t->names[t->n] = s1c_xstrdup(name);
    t->pool_count[t->n] = 0;
    t->last = t->n;
    return (uint32_t)t->n++;
}

static void domain_table_free(domain_table *t) {
    for (size_t i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names);
    free(t->pool_count);
    free(t->sel_count);
    free(t->sel_tokens);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int by_lineno(const void *a, const void *b) {
    const s1c_cand *x = *(const s1c_cand *const *)a, *y = *(const s1c_cand *const *)b;
    return x->lineno < y->lineno ? -1 : x->lineno > y->lineno;
}

// Re-reads the selected records (in file order) and writes them verbatim.
static s1c_status write_selection(const s1c_curate_opts *o, const s1c_cand *cands, const size_t *sel, size_t n_sel) {
    const s1c_cand **order = s1c_xmalloc((n_sel ? n_sel : 1) * sizeof *order);
    for (size_t i = 0; i < n_sel; i++) order[i] = &cands[sel[i]];
    qsort(order, n_sel, sizeof *order, by_lineno);
    s1c_lines *r = s1c_lines_open(o->pool);
    if (!r) {
        free(order);
        return S1C_ERR;
    }
    s1c_out *out = s1c_out_open(o->out);
    if (!out) {
        s1c_lines_close(r);
        free(order);
        return S1C_ERR;
    }
    s1c_status st = S1C_OK;
    int seekable = !s1c_lines_is_zstd(r);
    for (size_t i = 0; i < n_sel && st == S1C_OK; i++) {
        const s1c_cand *c = order[i];
        if (seekable && (st = s1c_lines_seek(r, c->offset, c->lineno)) != S1C_OK) break;
        const char *line;
        size_t len;
        uint64_t off, no;
        int rc;
        while ((rc = s1c_lines_next(r, &line, &len, &off, &no)) == 1 && no < c->lineno) {
        }
        if (rc < 0) st = S1C_ERR;
        else if (rc == 0 || no != c->lineno || off != c->offset || len != c->line_len)
            st = s1c_err("%s:%llu: the record changed while curating (re-read found different bytes)", o->pool,
                         (unsigned long long)c->lineno);
        else if ((st = s1c_out_write(out, line, len)) == S1C_OK)
            st = s1c_out_write(out, "\n", 1);
    }
    s1c_lines_close(r);
    free(order);
    if (st != S1C_OK) {
        s1c_out_abort(out);
        return st;
    }
    return s1c_out_commit(out);
}

typedef struct {
    uint64_t *missing;  // [n_required]
    uint64_t *rule;     // [n_rules]
    uint64_t duplicate, contaminated, solved, domain_missing;
    uint64_t probed;  // candidates (after decontamination) with a probe field
} drops;

static s1c_status write_report(const s1c_curate_opts *o, const s1c_rules *rules, const s1c_curate_result *res,
                               const drops *d, const domain_table *dt, const s1c_badlog *bad, const char *path) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "pool", o->pool);
    cJSON_AddStringToObject(root, "select", select_names[o->select]);
    cJSON_AddNumberToObject(root, "n", (double)o->n);
    cJSON_AddNumberToObject(root, "seed", (double)o->seed);
    static const char *len_names[] = {"auto", "field", "tokens", "bytes"};
    cJSON_AddStringToObject(root, "length", len_names[o->len_mode]);
    cJSON *counts = cJSON_AddObjectToObject(root, "counts");
    cJSON_AddNumberToObject(counts, "records", (double)res->records);
    cJSON_AddNumberToObject(counts, "bad_skipped", (double)res->bad);
    cJSON_AddNumberToObject(counts, "after_quality", (double)res->after_quality);
    cJSON_AddNumberToObject(counts, "after_dedup", (double)res->after_dedup);
    cJSON_AddNumberToObject(counts, "after_decontam", (double)res->after_decontam);
    cJSON_AddNumberToObject(counts, "after_difficulty", (double)res->after_difficulty);
    cJSON_AddNumberToObject(counts, "preselected", (double)res->preselected);
    cJSON_AddNumberToObject(counts, "selected", (double)res->selected);
    cJSON *dr = cJSON_AddObjectToObject(root, "dropped");
    cJSON *miss = cJSON_AddObjectToObject(dr, "missing_field");
    for (size_t i = 0; i < o->n_required; i++)
        cJSON_AddNumberToObject(miss, alias_field(&o->fields, o->required[i]), (double)d->missing[i]);
    cJSON *rl = cJSON_AddObjectToObject(dr, "rule");
    for (size_t i = 0; i < s1c_rules_count(rules); i++)
        cJSON_AddNumberToObject(rl, s1c_rules_name(rules, i), (double)d->rule[i]);
    cJSON_AddNumberToObject(dr, "duplicate", (double)d->duplicate);
    cJSON_AddNumberToObject(dr, "contaminated", (double)d->contaminated);
    cJSON_AddNumberToObject(dr, "solved_by_probe", (double)d->solved);
    cJSON_AddNumberToObject(root, "records_without_domain", (double)d->domain_missing);
    cJSON *bl = cJSON_AddArrayToObject(root, "bad_lines");
    for (size_t i = 0; i < bad->n && i < 1000; i++) cJSON_AddItemToArray(bl, cJSON_CreateNumber((double)bad->lines[i]));
    cJSON *sel = cJSON_AddObjectToObject(root, "selection");
    cJSON_AddNumberToObject(sel, "tokens", (double)res->selected_tokens);
    cJSON_AddNumberToObject(sel, "tokens_mean", res->selected ? (double)res->selected_tokens / (double)res->selected : 0);
    cJSON *doms = cJSON_AddObjectToObject(sel, "domains");
    for (size_t i = 0; i < dt->n; i++) {
        if (dt->sel_count[i] == 0) continue;
        cJSON *x = cJSON_AddObjectToObject(doms, dt->names[i]);
        cJSON_AddNumberToObject(x, "count", (double)dt->sel_count[i]);
        cJSON_AddNumberToObject(x, "tokens", (double)dt->sel_tokens[i]);
    }
    cJSON *pd = cJSON_AddObjectToObject(root, "pool_domains");  // after decontamination, file order of first use
    for (size_t i = 0; i < dt->n; i++) cJSON_AddNumberToObject(pd, dt->names[i], (double)dt->pool_count[i]);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    s1c_atomic_file f;
    s1c_status st = s1c_atomic_open(&f, path);
    if (st == S1C_OK) {
        fputs(text, f.fp);
        fputc('\n', f.fp);
        st = s1c_atomic_commit(&f);
    }
    free(text);
    return st;
}

// A stage with nothing to act on would let the selection look like s1's while it is not.
static void warn_inactive(const s1c_curate_opts *o, const s1c_curate_result *res, const drops *d, size_t n_cand) {
    if (!o->log || n_cand == 0) return;
    const uint64_t pool = res->after_decontam;
    if (o->select == S1C_SELECT_S1 && o->n_probe > 0 && d->probed == 0) {
        fprintf(o->log, "curate: warning: no record has a difficulty probe field (");
        for (size_t i = 0; i < o->n_probe; i++) fprintf(o->log, "%s%s", i ? ", " : "", o->probe_fields[i]);
        fprintf(o->log, "): the difficulty stage is inactive (--probes names the fields; --probes '' to silence)\n");
    }
    if ((o->select == S1C_SELECT_S1 || o->select == S1C_SELECT_DIVERSE) && d->domain_missing == pool)
        fprintf(o->log, "curate: warning: no record has the domain field '%s': every record is in one domain and "
                        "the diversity stage is inactive (--domain-field names it)\n",
                o->fields.domain);
    if (o->select == S1C_SELECT_S1 && o->n_preselect > 0 && res->preselected == 0)
        fprintf(o->log, "curate: warning: no record matches the --preselect rule%s\n", o->n_preselect > 1 ? "s" : "");
    if (res->selected < o->n)
        fprintf(o->log, "curate: warning: --n %zu but only %llu record(s) left to select from (%llu after quality, "
                        "%llu after dedup, %llu after decontamination, %llu after difficulty): selected %llu\n",
                o->n, (unsigned long long)(o->select == S1C_SELECT_S1 ? res->after_difficulty : pool),
                (unsigned long long)res->after_quality, (unsigned long long)res->after_dedup,
                (unsigned long long)pool, (unsigned long long)res->after_difficulty,
                (unsigned long long)res->selected);
}

s1c_status s1c_curate_run(const s1c_curate_opts *o, s1c_curate_result *res) {
    memset(res, 0, sizeof *res);
    double t0 = now_s();
    if (!o->pool || !o->out) return s1c_err("curate: --pool and --out are required");
    s1c_rules *rules = o->rules_path ? s1c_rules_load(o->rules_path) : s1c_rules_default();
    if (!rules) return S1C_ERR;
    s1c_presel *presel = s1c_presel_new();
    s1c_ngrams ngrams;
    s1c_ngrams_init(&ngrams, o->ngram > 0 ? o->ngram : 8);
    s1c_status st = S1C_OK;
    for (size_t i = 0; i < o->n_preselect && st == S1C_OK; i++) st = s1c_presel_add(presel, o->preselect[i]);
    for (size_t i = 0; i < o->n_decontam && st == S1C_OK; i++)
        st = s1c_ngrams_add_file(&ngrams, o->decontam[i], o->decontam_field);
    s1c_lines *r = st == S1C_OK ? s1c_lines_open(o->pool) : NULL;
    if (!r) st = S1C_ERR;

    ctx c = {o, rules, presel, &ngrams};
    drops d = {s1c_xcalloc(o->n_required + 1, sizeof(uint64_t)), s1c_xcalloc(s1c_rules_count(rules) + 1, sizeof(uint64_t)),
               0, 0, 0, 0, 0};
    domain_table dt = {0};
    s1c_h128set seen = {0};
    s1c_badlog bad = {0};
    s1c_cand *cands = NULL;
    size_t n_cand = 0, cap_cand = 0;
    s1c_jsonl_batch batch = {0};
    item *items = s1c_xmalloc(BATCH_LINES * sizeof *items);
    while (st == S1C_OK) {
        long nb = s1c_jsonl_batch_read(r, &batch, BATCH_LINES, BATCH_BYTES);
        if (nb < 0) {
            st = S1C_ERR;
            break;
        }
        if (nb == 0) break;
#pragma omp parallel for schedule(dynamic, 8)
        for (long i = 0; i < nb; i++)
            process(&c, batch.arena + batch.start[i], batch.len[i], batch.lineno[i], &items[i]);
        for (long i = 0; i < nb; i++) {
            item *it = &items[i];
            if (st != S1C_OK) {
                free(it->err);
                continue;
            }
            res->records++;
            if (it->kind == IT_NEED_COUNTER || (it->kind == IT_BAD && !o->skip_bad)) {
                st = s1c_err("%s", it->err);
            } else if (it->kind == IT_BAD) {
                s1c_badlog_add(&bad, batch.lineno[i], it->err);
                res->bad++;
            } else if (it->kind == IT_MISSING) {
                d.missing[it->reason]++;
            } else if (it->kind == IT_RULE) {
                d.rule[it->reason]++;
            } else {
                res->after_quality++;
                if (!s1c_h128set_insert(&seen, it->qhash)) d.duplicate++;
                else if ((res->after_dedup++, it->contaminated)) d.contaminated++;
                else {
                    res->after_decontam++;
                    d.probed += it->probed;
                    if (it->solved) d.solved++;
                    else res->after_difficulty++;
                    if (n_cand == cap_cand) {
                        cap_cand = cap_cand ? 2 * cap_cand : 4096;
                        cands = s1c_xrealloc(cands, cap_cand * sizeof *cands);
                    }
                    res->pool_tokens += it->tokens;
                    uint32_t dom = domain_id(&dt, it->domain);
                    d.domain_missing += it->domain_missing;
                    if (o->select != S1C_SELECT_S1 || !it->solved) dt.pool_count[dom]++;
                    cands[n_cand++] = (s1c_cand){batch.offset[i], batch.lineno[i], it->tokens, (uint32_t)batch.len[i],
                                                 dom, it->solved, it->presel};
                }
            }
            free(it->err);
        }
    }
    free(items);
    s1c_jsonl_batch_free(&batch);
    if (r) {
        res->pool_bytes = s1c_lines_file_bytes(r);
        s1c_lines_close(r);
    }
    s1c_h128set_free(&seen);
    s1c_ngrams_free(&ngrams);
    s1c_presel_free(presel);

    if (st == S1C_OK) {
        size_t *sel = NULL, n_pre = 0;
        size_t n_sel = s1c_select(cands, n_cand, dt.n, o->select, o->n, o->seed, &sel, &n_pre);
        res->selected = n_sel;
        res->preselected = n_pre;
        dt.sel_count = s1c_xcalloc(dt.n + 1, sizeof(uint64_t));
        dt.sel_tokens = s1c_xcalloc(dt.n + 1, sizeof(uint64_t));
        for (size_t i = 0; i < n_sel; i++) {
            const s1c_cand *x = &cands[sel[i]];
            dt.sel_count[x->domain]++;
            dt.sel_tokens[x->domain] += x->tokens;
            res->selected_tokens += x->tokens;
        }
        warn_inactive(o, res, &d, n_cand);
        st = write_selection(o, cands, sel, n_sel);
        if (st == S1C_OK) {
            char *rp = NULL;
            if (!o->report) {
                rp = s1c_xmalloc(strlen(o->out) + 16);
                sprintf(rp, "%s.report.json", o->out);
            }
            st = write_report(o, rules, res, &d, &dt, &bad, o->report ? o->report : rp);
            free(rp);
        }
        free(sel);
        if (o->log && bad.n) s1c_badlog_print(&bad, o->pool, o->log, 50);
    }
    free(cands);
    free(d.missing);
    free(d.rule);
    domain_table_free(&dt);
    s1c_badlog_free(&bad);
    s1c_rules_free(rules);
    res->seconds = now_s() - t0;
    return st;
}
