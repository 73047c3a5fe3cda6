// Curation: the s1 rules, decontamination, the selection draws (statistically), and whole runs on
// a hand-made pool whose count after every stage is known: determinism, .zst input, pre-selection,
// bad records (error with file:line, or --skip-bad with the lines reported), atomic outputs.
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "curate.h"
#include "curate_decontam.h"
#include "curate_presel.h"
#include "curate_rules.h"
#include "dp_test.h"
#include "jsonl.h"
#include "s1c_file.h"
#include "zstd_stream.h"

static long rule_on_question(const s1c_rules *rs, const char *q, const char *source) {
    char line[1024];
    snprintf(line, sizeof line, "{\"question\": \"%s\", \"source_type\": \"%s\", \"thinking_trajectories\": [\"ok\"]}",
             q, source);
    cJSON *o = s1c_jsonl_parse("t", 1, line, strlen(line));
    CHECK(o != NULL);
    s1c_fields f;
    s1c_fields_default(&f);
    long r = s1c_rules_check(rs, o, &f, NULL);
    cJSON_Delete(o);
    return r;
}

static const char *fired(const s1c_rules *rs, long r) { return r >= 0 ? s1c_rules_name(rs, (size_t)r) : "none"; }

static void test_rules(void) {
    s1c_rules *rs = s1c_rules_default();
#define RULE(q, src, want) CHECK(!strcmp(fired(rs, rule_on_question(rs, q, src)), want))
    RULE("Find x if 2x = 4.", "MATH", "none");
    RULE("[asy] draw((0,0)--(1,1)); [/asy] Find the area.", "MATH", "asy");
    RULE("[asy] draw((0,0)--(1,1)); [/asy] Find the area.", "AIME 2021", "none");  // allowed for AIME
    RULE("See ![Image](x.png) and answer.", "MATH", "image");
    RULE("p1. Show that ... p2. Prove that ...", "olympiad", "enumeration");
    RULE("Solve p999. now", "olympiad", "enumeration");
    RULE("Use the top1. value", "olympiad", "none");     // p must start a word
    RULE("Compute **12** squared", "MATH", "bold_digit");
    RULE("The **bold** word and 3 apples", "MATH", "bold_digit");  // lookahead sees a digit later on the line
    RULE("The **bold** word only", "MATH", "none");
    RULE("Two ** stars ** 5", "MATH", "none");  // whitespace right after ** breaks the pattern
#undef RULE
    // API error in the trace.
    const char *line = "{\"question\": \"q\", \"thinking_trajectories\": [\"  Error: rate limit exceeded\"]}";
    cJSON *o = s1c_jsonl_parse("t", 1, line, strlen(line));
    s1c_fields f;
    s1c_fields_default(&f);
    CHECK(!strcmp(fired(rs, s1c_rules_check(rs, o, &f, NULL)), "api_error"));
    CHECK(!strcmp(fired(rs, s1c_rules_check(rs, o, &f, "a trace that mentions an error: later")), "none"));
    cJSON_Delete(o);
    s1c_rules_free(rs);
    // A custom rule list and a bad pattern.
    rs = s1c_rules_new();
    CHECK(s1c_rules_add(rs, "foo", "question", "(?i)foo", NULL) == S1C_OK);
    CHECK(!strcmp(fired(rs, rule_on_question(rs, "a FOO b", "x")), "foo"));
    CHECK(s1c_rules_add(rs, "broken", "question", "(unclosed", NULL) != S1C_OK);
    CHECK_ERR_HAS("quality rule 'broken': bad pattern");
    s1c_rules_free(rs);
}

static void test_decontam(void) {
    s1c_ngrams g;
    s1c_ngrams_init(&g, 8);
    const char *bench = "The Quick  brown fox JUMPS over the lazy dog today, said Ana.";
    s1c_ngrams_add_text(&g, bench, strlen(bench));
    s1c_ngrams_add_text(&g, "Short Question Here", 19);
    const char *q1 = "yesterday the quick brown fox jumps\tover the\nlazy dog again";  // 8 shared words
    const char *q2 = "yesterday quick brown fox jumps over the lazy cat";              // 7 shared words
    CHECK(s1c_ngrams_hit(&g, q1, strlen(q1)) == 1);
    CHECK(s1c_ngrams_hit(&g, q2, strlen(q2)) == 0);
    CHECK(s1c_ngrams_hit(&g, "short   question HERE", 21) == 1);  // short texts compare whole
    CHECK(s1c_ngrams_hit(&g, "short question", 14) == 0);
    const char *u = "\xc3\x89T\xc3\x89 one two three four five six seven";  // "ÉTÉ": Unicode lower-casing
    s1c_ngrams_add_text(&g, u, strlen(u));
    const char *ul = "\xc3\xa9t\xc3\xa9 one two three four five six seven";
    CHECK(s1c_ngrams_hit(&g, ul, strlen(ul)) == 1);
    s1c_ngrams_free(&g);
}

// Selection draws, checked against their distributions (tolerances: > 5 binomial sd at 20000 draws).
static void test_select_stats(void) {
    s1c_cand c[14];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 4; i++) c[i].tokens = (uint64_t)(10 * (i + 1));  // domain 0: 10, 20, 30, 40 tokens
    for (int i = 4; i < 14; i++) {
        c[i].domain = 1;
        c[i].tokens = 5;
    }
    int rank_hits[4] = {0}, dom0 = 0, draws = 20000;
    for (int s = 0; s < draws; s++) {
        size_t *sel, np;
        // Only domain 0 (domain 1 solved): the 2^-rank draw inside one domain.
        for (int i = 4; i < 14; i++) c[i].solved = 1;
        CHECK(s1c_select(c, 14, 2, S1C_SELECT_S1, 1, (uint64_t)s, &sel, &np) == 1);
        rank_hits[3 - (int)(c[sel[0]].tokens / 10 - 1)]++;  // 40 tokens = rank 0
        free(sel);
        for (int i = 4; i < 14; i++) c[i].solved = 0;
        CHECK(s1c_select(c, 14, 2, S1C_SELECT_DIVERSE, 1, (uint64_t)s, &sel, &np) == 1);
        dom0 += c[sel[0]].domain == 0;
        free(sel);
    }
    const double p[4] = {8 / 15.0, 4 / 15.0, 2 / 15.0, 1 / 15.0};  // 2^-r normalised over 4 ranks
    for (int r = 0; r < 4; r++) CHECK(fabs(rank_hits[r] / (double)draws - p[r]) < 0.02);
    CHECK(fabs(dom0 / (double)draws - 0.5) < 0.02);  // domains uniform, not items (4 vs 10)

    // s1 over the whole pool: every pick is distinct, and with n = pool size all are taken.
    size_t *sel, np;
    CHECK(s1c_select(c, 14, 2, S1C_SELECT_S1, 100, 7, &sel, &np) == 14);
    int seen[14] = {0};
    for (int i = 0; i < 14; i++) seen[sel[i]]++;
    for (int i = 0; i < 14; i++) CHECK(seen[i] == 1);
    free(sel);
    // longest: the top-2 by length, ties by position.
    CHECK(s1c_select(c, 14, 2, S1C_SELECT_LONGEST, 2, 0, &sel, &np) == 2 && sel[0] == 3 && sel[1] == 2);
    free(sel);
    // Pre-selected items come first; more of them than n are sampled.
    c[5].presel = c[9].presel = c[12].presel = 1;
    CHECK(s1c_select(c, 14, 2, S1C_SELECT_S1, 2, 1, &sel, &np) == 2 && np == 2);
    CHECK(c[sel[0]].presel && c[sel[1]].presel && sel[0] != sel[1]);
    free(sel);
    CHECK(s1c_select(c, 14, 2, S1C_SELECT_S1, 5, 1, &sel, &np) == 5 && np == 3);
    free(sel);
}

// The pool: line -> fate (see the comments); 15 records and one blank line.
static const char *POOL[] = {
    "{\"question\":\"alpha one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"alg\",\"trace_tokens\":100,\"isqwen7bcorrect\":false}",
    "{\"question\":\"beta one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"alg\",\"trace_tokens\":300}",
    "{\"question\":\"gamma one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"alg\",\"trace_tokens\":200}",
    "{\"question\":\"delta one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":\"t\",\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":50}",
    "",
    "{\"question\":\"epsilon one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":400}",
    // solved by a probe: out at difficulty (still in the random/longest pools)
    "{\"question\":\"zeta one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":999,\"isqwen32bcorrect\":true}",
    // exact duplicate of the first question
    "{\"question\":\"alpha one two three four five six seven eight\",\"solution\":\"2\",\"thinking_trajectories\":[\"u\"],\"attempt\":\"b\",\"domain\":\"alg\",\"trace_tokens\":5000}",
    // contaminated: shares 8 words with the benchmark file
    "{\"question\":\"we know the quick brown fox jumps over the lazy dog\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"alg\",\"trace_tokens\":7000}",
    "{\"question\":\"eta one two three four five six seven eight\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":null,\"domain\":\"alg\",\"trace_tokens\":10}",
    "{\"question\":\"[asy] theta\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"geo\",\"source_type\":\"MATH\",\"trace_tokens\":10}",
    // [asy] allowed for AIME; pre-selection target
    "{\"question\":\"[asy] iota\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":17,\"source_type\":\"AIME 2020\",\"trace_tokens\":10}",
    "{\"question\":\"kappa ![Image]\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":10}",
    "{\"question\":\"p3. lambda\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":10}",
    "{\"question\":\"mu **12**\",\"solution\":\"1\",\"thinking_trajectories\":[\"t\"],\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":10}",
    "{\"question\":\"nu\",\"solution\":\"1\",\"thinking_trajectories\":[\"Error: rate limit\"],\"attempt\":\"a\",\"domain\":\"geo\",\"trace_tokens\":10}",
};
#define N_POOL (sizeof POOL / sizeof *POOL)

static void write_pool(const char *path, const char *extra_line, size_t extra_at) {
    s1c_out *o = s1c_out_open(path);
    for (size_t i = 0; i < N_POOL; i++) {
        if (extra_line && i == extra_at) {
            s1c_out_write(o, extra_line, strlen(extra_line));
            s1c_out_write(o, "\n", 1);
        }
        s1c_out_write(o, POOL[i], strlen(POOL[i]));
        s1c_out_write(o, "\n", 1);
    }
    CHECK(s1c_out_commit(o) == S1C_OK);
}

static char *slurp(const char *path) {
    char *s = NULL;
    size_t n;
    if (s1c_read_file(path, &s, &n) != S1C_OK) return NULL;
    return s;
}

static size_t count_lines(const char *s) {
    size_t n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static void test_runs(const char *dir) {
    char pool[512], poolz[512], bench[512], out[512], out2[512], rep[512], rep2[512];
    snprintf(pool, sizeof pool, "%s/pool.jsonl", dir);
    snprintf(poolz, sizeof poolz, "%s/pool.jsonl.zst", dir);
    snprintf(bench, sizeof bench, "%s/bench.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    snprintf(out2, sizeof out2, "%s/out2.jsonl", dir);
    snprintf(rep, sizeof rep, "%s/out.jsonl.report.json", dir);
    snprintf(rep2, sizeof rep2, "%s/rep2.json", dir);
    write_pool(pool, NULL, 0);
    write_pool(poolz, NULL, 0);
    const char *b = "{\"problem\": \"The quick brown fox jumps over the lazy dog twice.\"}\n";
    dp_write_file(bench, b, strlen(b));

    s1c_curate_opts o;
    s1c_curate_opts_default(&o);
    const char *dec[] = {bench};
    o.pool = pool;
    o.out = out;
    o.n = 100;
    o.decontam = dec;
    o.n_decontam = 1;
    s1c_curate_result r;
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    CHECK_EQ_U(r.records, 15);
    CHECK_EQ_U(r.after_quality, 9);
    CHECK_EQ_U(r.after_dedup, 8);
    CHECK_EQ_U(r.after_decontam, 7);
    CHECK_EQ_U(r.after_difficulty, 6);
    CHECK_EQ_U(r.selected, 6);
    CHECK_EQ_U(r.selected_tokens, 100 + 300 + 200 + 50 + 400 + 10);
    char *a = slurp(out), *rp = slurp(rep);
    CHECK(a && count_lines(a) == 6);
    CHECK(a && strncmp(a, POOL[0], strlen(POOL[0])) == 0);  // verbatim, in file order
    CHECK(rp && strstr(rp, "\"api_error\":\t1") && strstr(rp, "\"asy\":\t1") && strstr(rp, "\"bold_digit\":\t1"));
    CHECK(rp && strstr(rp, "\"attempt\":\t1") && strstr(rp, "\"duplicate\":\t1") && strstr(rp, "\"contaminated\":\t1"));
    CHECK(rp && strstr(rp, "\"17\":\t{") != NULL);  // integer domain code
    free(rp);

    // Same seed: byte-identical; .zst pool: same output.
    o.out = out2;
    o.report = rep2;
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    char *a2 = slurp(out2);
    CHECK(a && a2 && !strcmp(a, a2));
    free(a2);
    o.pool = poolz;
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    a2 = slurp(out2);
    CHECK(a && a2 && !strcmp(a, a2));
    free(a2);
    free(a);

    // n = 1 with pre-selection of the AIME record: exactly that record.
    const char *pre[] = {"source_type~(?i)aime&tokens>=10"};
    o.preselect = pre;
    o.n_preselect = 1;
    o.n = 1;
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    CHECK_EQ_U(r.preselected, 1);
    a = slurp(out2);
    CHECK(a && strstr(a, "iota") && count_lines(a) == 1);
    free(a);
    o.preselect = NULL;
    o.n_preselect = 0;

    // longest: the solved record (999) is in its pool, the duplicate and contaminated ones are not.
    o.select = S1C_SELECT_LONGEST;
    o.n = 2;
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    a = slurp(out2);
    CHECK(a && strstr(a, "zeta") && strstr(a, "epsilon") && count_lines(a) == 2);
    free(a);
    // random: seeds give different (deterministic) subsets of the 7 post-quality records.
    o.select = S1C_SELECT_RANDOM;
    o.n = 3;
    int differ = 0;
    char *first = NULL;
    for (uint64_t seed = 0; seed < 6; seed++) {
        o.seed = seed;
        CHECK(s1c_curate_run(&o, &r) == S1C_OK && r.selected == 3);
        a = slurp(out2);
        if (!first) first = a;
        else {
            differ |= strcmp(first, a) != 0;
            free(a);
        }
    }
    CHECK(differ);
    free(first);
    o.select = S1C_SELECT_S1;
    o.seed = 0;
    o.n = 100;
    o.pool = pool;
}

static int count_words(void *ctx, const char *text, size_t len, uint64_t *count) {
    (void)ctx;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) n += text[i] == 't';
    *count = n + 1000;
    return 0;
}

static void test_bad(const char *dir) {
    char pool[512], out[512], rep[512];
    snprintf(pool, sizeof pool, "%s/bad.jsonl", dir);
    snprintf(out, sizeof out, "%s/bad_out.jsonl", dir);
    snprintf(rep, sizeof rep, "%s/bad_out.jsonl.report.json", dir);
    s1c_curate_opts o;
    s1c_curate_opts_default(&o);
    o.pool = pool;
    o.out = out;
    s1c_curate_result r;
    struct {
        const char *line, *msg;
    } cases[] = {
        {"{\"question\": \"broken", "bad.jsonl:4: malformed JSON"},
        {"{\"question\": 5, \"attempt\": \"a\"}", "bad.jsonl:4: field 'question': expected a string, got a number"},
        {"{\"question\": \"caf\xe9\"}", "bad.jsonl:4: invalid UTF-8"},
        {"{\"question\": \"q\", \"isqwen7bcorrect\": \"maybe\"}", "bad.jsonl:4: field 'isqwen7bcorrect'"},
        {"{\"question\": \"q\", \"trace_tokens\": \"many\"}", "bad.jsonl:4: field 'trace_tokens': expected a number"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        write_pool(pool, cases[k].line, 3);  // lines 1-3 are records, 4 the bad one
        o.skip_bad = 0;
        CHECK(s1c_curate_run(&o, &r) != S1C_OK);
        CHECK_ERR_HAS(cases[k].msg);
        CHECK(access(out, F_OK) != 0);  // nothing written on failure
        o.skip_bad = 1;
        CHECK(s1c_curate_run(&o, &r) == S1C_OK);
        CHECK_EQ_U(r.bad, 1);
        CHECK_EQ_U(r.records, 16);
        CHECK_EQ_U(r.after_quality, 9);
        char *rp = slurp(rep);
        CHECK(rp && strstr(rp, "\"bad_lines\":\t[4]"));
        free(rp);
        remove(out);
    }
    // No length field and no counter: a clear error; with a counter, its counts are used.
    write_pool(pool, "{\"question\":\"no length here one two three four five six\",\"solution\":\"1\",\"thinking_trajectories\":[\"ttt\"],\"attempt\":\"a\",\"domain\":\"x\"}", 0);
    o.skip_bad = 0;
    CHECK(s1c_curate_run(&o, &r) != S1C_OK);
    CHECK_ERR_HAS("bad.jsonl:1: the record has no trace length field 'trace_tokens'");
    o.count = count_words;
    o.select = S1C_SELECT_LONGEST;  // all 9 post-quality records: the field where present, else the counter
    o.n = 100;
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    CHECK_EQ_U(r.selected_tokens, 100 + 300 + 200 + 50 + 400 + 999 + 7000 + 10 + 1003);
    o.len_mode = S1C_LEN_BYTES;  // bytes ignore the field: eight traces "t" and one "ttt"
    CHECK(s1c_curate_run(&o, &r) == S1C_OK);
    CHECK_EQ_U(r.selected_tokens, 8 + 3);
    // Missing pool / benchmark files name the file.
    o.pool = "/nonexistent/pool.jsonl";
    CHECK(s1c_curate_run(&o, &r) != S1C_OK);
    CHECK_ERR_HAS("/nonexistent/pool.jsonl: cannot open");
}

// Found by tests/fuzz/fuzz_rules: a refused --preselect rule (here a pattern that does not
// compile after a valid condition) stayed in the set with no compiled pattern, and the next match
// dereferenced NULL. A refused rule must leave the set as it was.
static void test_presel_refused(void) {
    s1c_presel *p = s1c_presel_new();
    CHECK(s1c_presel_add(p, "tokens>5600&source_type~(?type~(?i)math&!bad") != S1C_OK);
    CHECK_ERR_HAS("bad pattern");
    CHECK(s1c_presel_empty(p));
    CHECK(s1c_presel_add(p, "tokens<=10&") == S1C_OK);  // strtok skips the empty tail
    CHECK(s1c_presel_add(p, "source_type~(?i)aime&") == S1C_OK);
    CHECK(s1c_presel_add(p, "!") != S1C_OK);
    CHECK_ERR_HAS("empty condition");
    CHECK(s1c_presel_add(p, "tokens>x") != S1C_OK);
    CHECK_ERR_HAS("bad number");
    CHECK(s1c_presel_add(p, "~aime") != S1C_OK);
    CHECK_ERR_HAS("no field name");
    const char *line = "{\"source_type\": \"AIME\"}";
    cJSON *rec = s1c_jsonl_parse("t", 1, line, strlen(line));
    CHECK(rec != NULL);
    CHECK(s1c_presel_match(p, rec, 100) == 1);  // the aime rule; the refused ones are gone
    cJSON_Delete(rec);
    line = "{\"source_type\": \"math\"}";
    rec = s1c_jsonl_parse("t", 1, line, strlen(line));
    CHECK(s1c_presel_match(p, rec, 100) == 0 && s1c_presel_match(p, rec, 10) == 1);
    cJSON_Delete(rec);
    s1c_presel_free(p);
}

int main(void) {
    const char *dir = dp_tmpdir("curate");
    test_presel_refused();
    test_rules();
    test_decontam();
    test_select_stats();
    test_runs(dir);
    test_bad(dir);
    return check_exit("test_data_curate");
}
