// fuzz_pool — the JSONL data pool as `s1c-data curate` reads it: the line reader (plain or zstd),
// per-line UTF-8 + JSON parsing, the s1 record field helpers, the quality rules and pre-selection
// rules, then the whole curation run (skip-bad on, byte lengths, every selection mode in turn
// picked by the input's length) over the same file.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "curate.h"
#include "curate_presel.h"
#include "curate_record.h"
#include "curate_rules.h"
#include "fuzz_util.h"
#include "jsonl.h"
#include "zstd_stream.h"

static s1c_rules *rules;
static s1c_presel *presel;

static void check_record(const cJSON *rec) {
    s1c_fields f;
    s1c_fields_default(&f);
    const char *q = NULL;
    double d;
    int flag;
    (void)s1c_json_string(rec, "question", &q);
    (void)s1c_json_number(rec, "trace_tokens", &d);
    (void)s1c_json_flag(rec, "isqwen7bcorrect", &flag);
    char *trace = NULL;
    int rc = s1c_record_trace(rec, f.trace, &trace);
    FUZZ_CHECK(rc >= -1 && rc <= 1);
    FUZZ_CHECK((rc == 1) == (trace != NULL));
    const char **parts = NULL;
    size_t n = 0;
    int rp = s1c_record_trace_parts(rec, f.trace, &parts, &n);
    FUZZ_CHECK(rp >= -1 && rp <= 1);
    for (size_t i = 0; rp == 1 && i < n; i++) FUZZ_CHECK(parts[i] != NULL);
    free(parts);
    char dom[64];
    if (s1c_record_domain(rec, "domain", dom, sizeof dom) == 1) FUZZ_CHECK(strlen(dom) < sizeof dom);
    long r = s1c_rules_check(rules, rec, &f, trace);
    FUZZ_CHECK(r >= -2 && r < (long)s1c_rules_count(rules));
    (void)s1c_presel_match(presel, rec, trace ? strlen(trace) : 0);
    free(trace);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!rules) {
        rules = s1c_rules_default();
        presel = s1c_presel_new();
        if (!rules || !presel || s1c_presel_add(presel, "source_type~(?i)aime|gpqa&isgeminicorrect") != S1C_OK ||
            s1c_presel_add(presel, "source_type~(?i)math&tokens>5600&!bad") != S1C_OK) {
            fprintf(stderr, "fuzz_pool: %s\n", s1c_err_msg());
            abort();
        }
    }
    char pool[256];
    snprintf(pool, sizeof pool, "%s", fuzz_path("pool.jsonl"));
    fuzz_write(pool, data, size);

    s1c_lines *r = s1c_lines_open(pool);
    FUZZ_CHECK(r != NULL);
    s1c_jsonl_batch b = {0};
    long got;
    while ((got = s1c_jsonl_batch_read(r, &b, 64, 1 << 16)) > 0) {
        for (size_t i = 0; i < b.n; i++) {
            const char *line = b.arena + b.start[i];
            FUZZ_CHECK(b.start[i] + b.len[i] < b.arena_len && line[b.len[i]] == '\0');
            cJSON *rec = s1c_jsonl_parse(pool, b.lineno[i], line, b.len[i]);
            if (!rec) continue;
            FUZZ_CHECK(cJSON_IsObject(rec));
            check_record(rec);
            cJSON_Delete(rec);
        }
    }
    s1c_jsonl_batch_free(&b);
    s1c_lines_close(r);

    char out[256];
    snprintf(out, sizeof out, "%s", fuzz_path("selected.jsonl"));
    s1c_curate_opts o;
    s1c_curate_opts_default(&o);
    o.pool = pool;
    o.out = out;
    o.n = 3;
    o.seed = size;
    o.select = (s1c_select_mode)(size % 4);
    o.len_mode = S1C_LEN_BYTES;
    o.skip_bad = 1;
    o.log = NULL;
    static const char *const pre[] = {"source_type~(?i)aime"};
    if (o.select == S1C_SELECT_S1) o.preselect = pre, o.n_preselect = 1;
    s1c_curate_result res;
    if (s1c_curate_run(&o, &res) == S1C_OK) {
        FUZZ_CHECK(res.selected <= o.n);
        FUZZ_CHECK(res.selected <= res.after_quality);
    }
    return 0;
}
