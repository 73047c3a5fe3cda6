// s1c-data curate — s1K-style selection from a pool (see curate.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_args.h"
#include "s1c_getopt.h"
#include "commands.h"
#include "curate.h"
#include "tokenizer.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: s1c-data curate --pool FILE[.zst] --n N --seed S --out FILE [options]\n"
            "  --select s1|random|diverse|longest  selection (s1: quality, difficulty, diversity)\n"
            "  --report FILE          JSON report (default OUT.report.json)\n"
            "  --tokenizer DIR        count trace tokens with this tokenizer.json\n"
            "  --length auto|field|tokens|bytes    trace length source (auto: field, else tokenizer)\n"
            "  --trace s1|deepseek|gemini          which trace/attempt fields (s1K-1.1 styles)\n"
            "  --question-field F, --trace-field F, --attempt-field F, --solution-field F,\n"
            "  --source-field F, --domain-field F, --length-field F   field names\n"
            "  --probes a,b           difficulty probe fields (isqwen7bcorrect,isqwen32bcorrect; '' for none)\n"
            "  --require a,b          required fields (question,solution,trace,attempt)\n"
            "  --rules FILE           quality rules JSON (default: the s1 rules, see curate_rules.h)\n"
            "  --decontam FILE        benchmark JSONL to decontaminate against (repeatable)\n"
            "  --decontam-field F     its question field (default: auto)   --ngram N (8)\n"
            "  --preselect RULE       s1 pre-selection rule (repeatable), e.g. 'source_type~(?i)math&tokens>5600'\n"
            "  --skip-bad             skip malformed records (reported) instead of failing\n");
}

static int count_tokens(void *ctx, const char *text, size_t len, uint64_t *count) {
    s1c_ids ids = {0};
    if (s1c_tokenizer_encode(ctx, text, len, 0, &ids) != S1C_OK) return 1;
    *count = ids.n;
    s1c_ids_free(&ids);
    return 0;
}

#define ARG(name) {name, required_argument, NULL, 0}
static const struct option OPTS[] = {
    ARG("pool"), ARG("out"), ARG("report"), ARG("n"), ARG("seed"), ARG("ngram"), ARG("select"), ARG("trace"),
    ARG("length"), ARG("question-field"), ARG("trace-field"), ARG("attempt-field"), ARG("solution-field"),
    ARG("source-field"), ARG("domain-field"), ARG("length-field"), ARG("probes"), ARG("require"), ARG("rules"),
    ARG("decontam"), ARG("decontam-field"), ARG("preselect"), ARG("tokenizer"),
    {"skip-bad", no_argument, NULL, 0}, {"help", no_argument, NULL, 0}, {NULL, 0, NULL, 0}};
#undef ARG

int s1c_cmd_curate(int argc, char **argv) {
    s1c_curate_opts o;
    s1c_curate_opts_default(&o);
    o.log = stderr;
    const char *tok_dir = NULL;
    const char **decontam = NULL, **presel = NULL;
    size_t n_decontam = 0, n_presel = 0;
    char *probe_store = NULL, *req_store = NULL;
    const char **probes = NULL, **req = NULL;
    int rc = 2;
    s1c_tokenizer *tok = NULL;
    const char *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, OPTS, "s1c-data curate", &a, &v)) > 0) {
        uint64_t u;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (!strcmp(a, "--skip-bad")) o.skip_bad = 1;
        else if (!strcmp(a, "--pool")) o.pool = v;
        else if (!strcmp(a, "--out")) o.out = v;
        else if (!strcmp(a, "--report")) o.report = v;
        else if (!strcmp(a, "--n") || !strcmp(a, "--seed") || !strcmp(a, "--ngram")) {
            if (s1c_arg_u64(v, &u, "curate", a)) goto out;
            if (!strcmp(a, "--n")) o.n = (size_t)u;
            else if (!strcmp(a, "--seed")) o.seed = u;
            else if (u < 1 || u > 64) {
                fprintf(stderr, "s1c-data curate: --ngram must be in 1..64\n");
                goto out;
            } else
                o.ngram = (int)u;
        } else if (!strcmp(a, "--select")) {
            if (s1c_parse_select(v, &o.select) != S1C_OK) {
                fprintf(stderr, "s1c-data curate: %s\n", s1c_err_msg());
                goto out;
            }
        } else if (!strcmp(a, "--trace")) {
            if (s1c_fields_set_trace_style(&o.fields, v) != S1C_OK) {
                fprintf(stderr, "s1c-data curate: %s\n", s1c_err_msg());
                goto out;
            }
        } else if (!strcmp(a, "--length")) {
            static const char *names[] = {"auto", "field", "tokens", "bytes"};
            int k = 0;
            while (k < 4 && strcmp(v, names[k])) k++;
            if (k == 4) {
                fprintf(stderr, "s1c-data curate: --length expects auto, field, tokens or bytes, got '%s'\n", v);
                goto out;
            }
            o.len_mode = (s1c_len_mode)k;
        } else if (!strcmp(a, "--question-field")) o.fields.question = v;
        else if (!strcmp(a, "--trace-field")) o.fields.trace = v;
        else if (!strcmp(a, "--attempt-field")) o.fields.attempt = v;
        else if (!strcmp(a, "--solution-field")) o.fields.solution = v;
        else if (!strcmp(a, "--source-field")) o.fields.source = v;
        else if (!strcmp(a, "--domain-field")) o.fields.domain = v;
        else if (!strcmp(a, "--length-field")) o.fields.length = v;
        else if (!strcmp(a, "--probes")) {
            free(probe_store);
            free(probes);
            o.n_probe = s1c_arg_list(v, &probe_store, &probes);
            o.probe_fields = probes;
        } else if (!strcmp(a, "--require")) {
            free(req_store);
            free(req);
            o.n_required = s1c_arg_list(v, &req_store, &req);
            o.required = req;
        } else if (!strcmp(a, "--rules")) o.rules_path = v;
        else if (!strcmp(a, "--decontam")) {
            decontam = realloc(decontam, (n_decontam + 1) * sizeof *decontam);
            decontam[n_decontam++] = v;
        } else if (!strcmp(a, "--decontam-field")) o.decontam_field = v;
        else if (!strcmp(a, "--preselect")) {
            presel = realloc(presel, (n_presel + 1) * sizeof *presel);
            presel[n_presel++] = v;
        } else if (!strcmp(a, "--tokenizer")) tok_dir = v;
    }
    if (got < 0 || s1c_args_no_operands(argc, argv, "curate")) goto out;
    if (!o.pool || !o.out) {
        usage(stderr);
        goto out;
    }
    o.decontam = decontam;
    o.n_decontam = n_decontam;
    o.preselect = presel;
    o.n_preselect = n_presel;
    if (tok_dir) {
        if (!(tok = s1c_tokenizer_load(tok_dir))) {
            fprintf(stderr, "s1c-data curate: %s\n", s1c_err_msg());
            rc = 1;
            goto out;
        }
        o.count = count_tokens;
        o.count_ctx = tok;
    } else if (o.len_mode == S1C_LEN_TOKENS) {
        fprintf(stderr, "s1c-data curate: --length tokens needs --tokenizer DIR\n");
        goto out;
    }
    s1c_curate_result res;
    if (s1c_curate_run(&o, &res) != S1C_OK) {
        fprintf(stderr, "s1c-data curate: %s\n", s1c_err_msg());
        rc = 1;
        goto out;
    }
    fprintf(stderr,
            "curate: %llu records -> quality %llu -> dedup %llu -> decontam %llu -> difficulty %llu -> selected %llu "
            "(%llu pre-selected, %llu trace tokens); %llu bad skipped; %.2f s, %.1f MB/s\n",
            (unsigned long long)res.records, (unsigned long long)res.after_quality, (unsigned long long)res.after_dedup,
            (unsigned long long)res.after_decontam, (unsigned long long)res.after_difficulty,
            (unsigned long long)res.selected, (unsigned long long)res.preselected,
            (unsigned long long)res.selected_tokens, (unsigned long long)res.bad, res.seconds,
            res.seconds > 0 ? (double)res.pool_bytes / 1e6 / res.seconds : 0.0);
    rc = 0;
out:
    s1c_tokenizer_free(tok);
    free(decontam);
    free(presel);
    free(probe_store);
    free(probes);
    free(req_store);
    free(req);
    return rc;
}
