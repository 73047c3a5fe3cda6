// The synthetic pool: every clean record's trace is a correct step-by-step computation of its
// question, answers match, difficulty drives trace length and probe success, defects and held-out
// contamination appear at the configured rates, output is deterministic per seed, and curation
// removes exactly the planted problems. Self-verification traces: deterministic per seed, every
// slip corrected right after its continuation word, slip / re-check / word rates as configured.
#include <stdint.h>

#include "curate.h"
#include "dp_test.h"
#include "jsonl.h"
#include "s1c_file.h"
#include "synth.h"
#include "zstd_stream.h"

static void test_solver(void) {
    CHECK(s1c_synth_solve("mod 10: 7 +5 *3") == 6);
    CHECK(s1c_synth_solve("mod 10: 7 +5 *3 -8 max4 min2") == 2);
    CHECK(s1c_synth_solve("mod 100: 95 +7 max50") == 50);
    CHECK(s1c_synth_solve("hello") == -1);
    CHECK(s1c_synth_solve("mod 10: 7") == -1);       // no step
    CHECK(s1c_synth_solve("mod 10: 7 +12") == -1);   // operand past the modulus
    CHECK(s1c_synth_solve("mod 10: 7 /2") == -1);
    CHECK(s1c_synth_check_trace("mod 10: 7 +5 *3", "7+5=2\n2*3=6") == 1);
    CHECK(s1c_synth_check_trace("mod 10: 7 +5 *3", "7+5=2\n2*3=7") == 0);
    CHECK(s1c_synth_check_trace("mod 10: 7 +5 *3", "7+5=2") == 0);
}

static void test_verify_checker(void) {
    s1c_synth_trace_info in;
    const char *q = "mod 10: 7 +5 *3";
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*3=6", &in) == 1 && in.steps == 2 && in.slips == 0 && in.rechecks == 0);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*4=8\nWait 2*3=6", &in) == 1 && in.slips == 1 && in.words[0] == 1);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=3\nHmm 7+5=2\n2*3=6", &in) == 1 && in.slips == 1 && in.words[1] == 1);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\nAlternatively 7+5=2\n2*3=6", &in) == 1 && in.rechecks == 1 &&
          in.slips == 0 && in.words[2] == 1);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*4=8\n8*3=4", &in) == 0);         // a slip left standing
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*4=8\nWait 2*4=8", &in) == 0);    // "corrected" wrong
    // Re-checks in a row (--recheck-again): each repeats the right step; at most S1C_SYNTH_MAX_RUN.
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*4=8\nWait 2*3=6\nHmm 2*3=6", &in) == 1 && in.slips == 1 &&
          in.again == 1 && in.words[0] == 1 && in.words[1] == 1);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\nWait 7+5=2\nWait 7+5=2\nWait 7+5=2\n2*3=6", &in) == 1 &&
          in.rechecks == 1 && in.again == 2 && in.steps == 2);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*4=8\nWait 2*3=6\nWait 2*3=7", &in) == 0);    // second look wrong
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*4=8\nWait 2*3=6\nWait 2*4=8", &in) == 0);    // back to the slip
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*3=6\nWait 2*3=6\nWait 2*3=6\nWait 2*3=6\nWait 2*3=6\nWait "
                                          "2*3=6\nWait 2*3=6",
                                       &in) == 1 &&
          in.again == 5);
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*3=6\nWait 2*3=6\nWait 2*3=6\nWait 2*3=6\nWait 2*3=6\nWait "
                                          "2*3=6\nWait 2*3=6\nWait 2*3=6",
                                       &in) == 0);  // 7 in a row
    CHECK(s1c_synth_check_verify_trace(q, "Wait 7+5=2\n2*3=6", &in) == 0);            // nothing to re-check
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2", &in) == 0);                         // a step missing
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*3=6\n6*3=8", &in) == 0);         // a step too many
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2+3=5\nWait 2*3=6", &in) == 0);    // operation changed
    CHECK(s1c_synth_check_verify_trace(q, "7+5=2\n2*3=6\nWait, 2*3=6", &in) == 0);   // malformed line
    CHECK(s1c_synth_check_verify_trace("hello", "7+5=2", &in) == 0);
}

// The self-verification style: structure, rates and determinism; again > 0: runs of re-checks.
static void test_verify_pool(const char *dir, double again) {
    char pool[512], pool2[512];
    snprintf(pool, sizeof pool, "%s/verify.jsonl", dir);
    snprintf(pool2, sizeof pool2, "%s/verify2.jsonl", dir);
    s1c_synth_opts o;
    s1c_synth_opts_default(&o);
    o.n = 3000;
    o.seed = 11;
    o.max_steps = 8;
    o.slip_rate = 0.10;
    o.recheck_rate = 0.05;
    o.again_rate = again;
    o.defect_rate = 0;  // every record has a trace to check (the defects are tested below)
    o.out = pool;
    s1c_synth_stats st, st2;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    o.out = pool2;
    CHECK(s1c_synth_run(&o, &st2) == S1C_OK);
    char *a, *b;
    size_t na, nb;
    CHECK(s1c_read_file(pool, &a, &na) == S1C_OK && s1c_read_file(pool2, &b, &nb) == S1C_OK);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);

    s1c_lines *r = s1c_lines_open(pool);
    CHECK(r != NULL);
    const char *line;
    size_t len, steps = 0, slips = 0, rechecks = 0, runs = 0, words[S1C_SYNTH_N_WORDS] = {0}, traces = 0, last_rechecked = 0;
    uint64_t off, no;
    while (r && s1c_lines_next(r, &line, &len, &off, &no) == 1) {
        cJSON *rec = s1c_jsonl_parse(pool, no, line, len);
        CHECK(rec != NULL);
        if (!rec) continue;
        const char *q = cJSON_GetObjectItem(rec, "question")->valuestring;
        const char *trace = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "thinking_trajectories"), 0)->valuestring;
        const cJSON *att = cJSON_GetObjectItem(rec, "attempt");
        if (strncmp(q, "mod ", 4) || strstr(q, "**") || strstr(q, "![Image]") || !strncmp(trace, "API Error", 9) ||
            cJSON_IsNull(att)) {  // defects
            cJSON_Delete(rec);
            continue;
        }
        s1c_synth_trace_info in;
        // Every slip is corrected at once and the trace reaches the right answer.
        CHECK(s1c_synth_check_verify_trace(q, trace, &in) == 1);
        char want[32];
        snprintf(want, sizeof want, "Answer: %d", s1c_synth_solve(q));
        CHECK(!strcmp(att->valuestring, want));
        traces++;
        steps += (size_t)in.steps;
        slips += (size_t)in.slips;
        rechecks += (size_t)in.rechecks;
        runs += (size_t)in.again;
        for (int w = 0; w < S1C_SYNTH_N_WORDS; w++) words[w] += (size_t)in.words[w];
        // The last step is re-checked too (what a forced "Wait" at the end of thinking asks for).
        const char *nl = strrchr(trace, '\n');
        if (nl && !strncmp(nl + 1, "Wait ", 5)) last_rechecked++;
        cJSON_Delete(rec);
    }
    s1c_lines_close(r);
    // The checker's counts over the written traces are the generator's own.
    CHECK_EQ_U(steps, st.steps);
    CHECK_EQ_U(slips, st.slips);
    CHECK_EQ_U(rechecks, st.rechecks);
    CHECK_EQ_U(runs, st.again);
    for (int w = 0; w < S1C_SYNTH_N_WORDS; w++) CHECK_EQ_U(words[w], st.words[w]);
    // Extra lines per continuation line: sum of again^j for j = 1..5 (~0.66 at 0.4, over ~1,900 of them).
    double want_runs = 0, pw = 1;
    for (int j = 1; j < S1C_SYNTH_MAX_RUN; j++) want_runs += (pw *= again);
    double got_runs = (double)runs / (double)(slips + rechecks);
    CHECK(again == 0 ? runs == 0 : got_runs > want_runs - 0.1 && got_runs < want_runs + 0.1);
    CHECK(traces > 2700 && steps > 10000);
    // Rates as configured: ~13,000 steps, so sd(slip share) ~0.003 and sd(re-check share) ~0.002.
    double slip_share = (double)slips / (double)steps, recheck_share = (double)rechecks / (double)(steps - slips);
    CHECK(slip_share > 0.085 && slip_share < 0.115);
    CHECK(recheck_share > 0.038 && recheck_share < 0.062);
    for (int w = 0; w < S1C_SYNTH_N_WORDS; w++) {
        double share;
        CHECK(s1c_synth_word(w, &share) != NULL);
        double got = (double)words[w] / (double)(slips + rechecks + runs);
        CHECK(got > share - 0.05 && got < share + 0.05);
    }
    CHECK(last_rechecked > 0);
    CHECK(s1c_synth_word(S1C_SYNTH_N_WORDS, NULL) == NULL);
    o.slip_rate = 1.5;
    CHECK(s1c_synth_run(&o, &st) != S1C_OK);
    CHECK_ERR_HAS("slip");
    o.slip_rate = 0.1;
    o.again_rate = -0.5;
    CHECK(s1c_synth_run(&o, &st) != S1C_OK);
    CHECK_ERR_HAS("recheck-again");
}

typedef struct {
    size_t records, clean, image, asy, asy_aime, enumer, bold, null_attempt, api_error, heldout_copies;
    double trace_len_by_k[64];
    size_t n_by_k[64], strong_by_k[64];
} tally;

static void scan(const char *pool, const char *held, tally *t) {
    memset(t, 0, sizeof *t);
    // Held-out questions, to count pool copies of them.
    char *htext = NULL;
    size_t hn;
    CHECK(s1c_read_file(held, &htext, &hn) == S1C_OK);
    s1c_lines *r = s1c_lines_open(pool);
    CHECK(r != NULL);
    const char *line;
    size_t len;
    uint64_t off, no;
    while (s1c_lines_next(r, &line, &len, &off, &no) == 1) {
        cJSON *o = s1c_jsonl_parse(pool, no, line, len);
        CHECK(o != NULL);
        if (!o) continue;
        t->records++;
        const char *q = cJSON_GetObjectItem(o, "question")->valuestring;
        const char *sol = cJSON_GetObjectItem(o, "solution")->valuestring;
        const cJSON *att = cJSON_GetObjectItem(o, "attempt");
        const char *trace = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "thinking_trajectories"), 0)->valuestring;
        int k = (int)cJSON_GetObjectItem(o, "difficulty")->valuedouble;
        int strong = cJSON_IsTrue(cJSON_GetObjectItem(o, "isqwen32bcorrect"));
        char needle[512];
        snprintf(needle, sizeof needle, "\"problem\":\"%s\"", q);
        if (strstr(htext, needle)) t->heldout_copies++;
        if (strstr(q, "![Image]")) t->image++;
        else if (strstr(q, "[asy]")) {
            t->asy++;
            t->asy_aime += !strcmp(cJSON_GetObjectItem(o, "source_type")->valuestring, "AIME");
        }
        else if (!strncmp(q, "p1. ", 4)) t->enumer++;
        else if (strstr(q, "**")) t->bold++;
        else if (cJSON_IsNull(att)) t->null_attempt++;
        else if (!strncmp(trace, "API Error", 9)) t->api_error++;
        else {
            t->clean++;
            CHECK(s1c_synth_check_trace(q, trace) == 1);
            CHECK(s1c_synth_solve(q) == atoi(sol));
            char want[32];
            snprintf(want, sizeof want, "Answer: %s", sol);
            CHECK(!strcmp(att->valuestring, want));
            if (k > 0 && k < 64) {
                t->trace_len_by_k[k] += (double)strlen(trace);
                t->n_by_k[k]++;
                t->strong_by_k[k] += (size_t)strong;
            }
        }
        cJSON_Delete(o);
    }
    s1c_lines_close(r);
    free(htext);
}

int main(void) {
    const char *dir = dp_tmpdir("synth");
    char pool[512], pool2[512], held[512], out[512];
    snprintf(pool, sizeof pool, "%s/pool.jsonl", dir);
    snprintf(pool2, sizeof pool2, "%s/pool2.jsonl", dir);
    snprintf(held, sizeof held, "%s/held.jsonl", dir);
    snprintf(out, sizeof out, "%s/s1k.jsonl", dir);
    test_solver();
    test_verify_checker();
    test_verify_pool(dir, 0);
    test_verify_pool(dir, 0.4);

    s1c_synth_opts o;
    s1c_synth_opts_default(&o);
    o.n = 4000;
    o.seed = 5;
    o.heldout = 200;
    o.heldout_out = held;
    o.contaminate_rate = 0.01;
    o.out = pool;
    s1c_synth_stats st;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    CHECK_EQ_U(st.records, 4000);
    CHECK(st.defects > 120 && st.defects < 290);  // 5% of 4000 = 200, sd ~14
    tally t;
    scan(pool, held, &t);
    CHECK_EQ_U(t.records, 4000);
    CHECK_EQ_U(t.heldout_copies, st.contaminated);  // held-out problems appear only as planted copies
    CHECK(st.contaminated > 15);
    CHECK_EQ_U(t.image + t.asy + t.enumer + t.bold + t.null_attempt + t.api_error, st.defects);
    CHECK(t.asy_aime > 0 && t.asy_aime < t.asy);
    CHECK(t.image > 0 && t.asy > 0 && t.enumer > 0 && t.bold > 0 && t.null_attempt > 0 && t.api_error > 0);
    // Difficulty: traces grow linearly in k; the strong probe solves short chains, fails long ones.
    CHECK(t.n_by_k[2] > 0 && t.n_by_k[20] > 0);
    CHECK(t.trace_len_by_k[20] / t.n_by_k[20] > 8 * (t.trace_len_by_k[2] / t.n_by_k[2]));
    size_t easy = 0, easy_ok = 0, hard = 0, hard_ok = 0;
    for (int k = 1; k <= 3; k++) easy += t.n_by_k[k], easy_ok += t.strong_by_k[k];
    for (int k = 14; k <= 24; k++) hard += t.n_by_k[k], hard_ok += t.strong_by_k[k];
    CHECK(easy_ok > 0.85 * (double)easy);
    CHECK(hard_ok < 0.05 * (double)hard);

    s1c_synth_stats st_main = st;
    // Deterministic per seed (reruns write their held-out set elsewhere).
    char held2[512];
    snprintf(held2, sizeof held2, "%s/held2.jsonl", dir);
    o.heldout_out = held2;
    o.out = pool2;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    char *a, *b;
    size_t na, nb;
    CHECK(s1c_read_file(pool, &a, &na) == S1C_OK && s1c_read_file(pool2, &b, &nb) == S1C_OK);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(b);
    o.seed = 6;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    CHECK(s1c_read_file(pool2, &b, &nb) == S1C_OK);
    CHECK(na != nb || memcmp(a, b, na) != 0);
    free(a);
    free(b);

    // The whole curation runs on it and removes the planted problems.
    s1c_curate_opts c;
    s1c_curate_opts_default(&c);
    const char *dec[] = {held};
    c.pool = pool;
    c.out = out;
    c.n = 500;
    c.len_mode = S1C_LEN_BYTES;
    c.decontam = dec;
    c.n_decontam = 1;
    s1c_curate_result r;
    CHECK(s1c_curate_run(&c, &r) == S1C_OK);
    CHECK_EQ_U(r.records, 4000);
    CHECK_EQ_U(r.records - r.after_quality, st_main.defects - t.asy_aime);  // "[asy]" is allowed for AIME
    CHECK_EQ_U(r.selected, 500);
    CHECK(r.after_dedup - r.after_decontam > 0 && r.after_dedup - r.after_decontam <= st_main.contaminated);
    // Difficulty removes most easy problems: the selection's mean trace is far above the pool's.
    CHECK((double)r.selected_tokens / 500.0 > 100.0);
    CHECK(s1c_synth_run(&(s1c_synth_opts){.n = 1, .modulus = 1, .min_steps = 1, .max_steps = 2, .out = out}, &st) != S1C_OK);
    CHECK_ERR_HAS("--modulus");
    return check_exit("test_data_synth");
}
