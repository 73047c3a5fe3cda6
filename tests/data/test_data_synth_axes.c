// The pool's selection axes (data/synth_axes.h), checked against an independent recomputation of
// each record: wrong traces are consistent step-by-step computations with exactly one wrong result,
// whose attempt states the trace's (wrong) final value, at the configured rate; the domain mix
// skews the pool but not the held-out set; probe structure makes '*'-heavy problems harder for the
// probes at equal length; all-default knobs leave the pool unchanged; bad --domain-mix is refused.
#include <stdint.h>

#include "dp_test.h"
#include "jsonl.h"
#include "s1c_file.h"
#include "synth.h"
#include "synth_axes.h"

static int domain_index(const char *d) {
    static const char *names[] = {"addsub", "muladd", "minmax", "mixed"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(d, names[i])) return i;
    return -1;
}

// Independent step evaluation of "v op d" (mod m).
static int step(const char *op, int v, int d, int m) {
    if (*op == '+') return (v + d) % m;
    if (*op == '-') return ((v - d) % m + m) % m;
    if (*op == '*') return (v * d) % m;
    if (!strncmp(op, "max", 3)) return v > d ? v : d;
    return v < d ? v : d;
}

// Plain trace "v op d=r" lines: the number of lines whose r is not step(v, op, d), or -1 when a line
// does not carry the previous line's value; *last = the final r.
static int wrong_lines(const char *trace, int start, int m, int *last) {
    int bad = 0, cur = start;
    const char *p = trace;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v != cur) return -1;
        const char *op = end;
        const char *q = op + (*op == 'm' ? 3 : 1);
        long d = strtol(q, &end, 10);
        if (*end != '=') return -1;
        long r = strtol(end + 1, &end, 10);
        bad += r != step(op, (int)v, (int)d, m);
        cur = (int)r;
        p = *end == '\n' ? end + 1 : end;
    }
    *last = cur;
    return bad;
}

int main(void) {
    const char *dir = dp_tmpdir("synth_axes");
    char pool[512], held[512], plain[512], zero[512];
    snprintf(pool, sizeof pool, "%s/pool.jsonl", dir);
    snprintf(held, sizeof held, "%s/held.jsonl", dir);
    snprintf(plain, sizeof plain, "%s/plain.jsonl", dir);
    snprintf(zero, sizeof zero, "%s/zero.jsonl", dir);

    // Defaults leave the pool byte-identical: the knobs at 0 / uniform draw nothing.
    s1c_synth_opts o;
    s1c_synth_opts_default(&o);
    o.n = 500;
    o.seed = 3;
    o.max_steps = 8;
    o.out = plain;
    s1c_synth_stats st;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    o.out = zero;
    o.wrong_rate = 0;
    o.probe_structure = 0;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    char *a, *b;
    size_t na, nb;
    CHECK(s1c_read_file(plain, &a, &na) == S1C_OK && s1c_read_file(zero, &b, &nb) == S1C_OK);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);

    s1c_synth_opts_default(&o);
    o.n = 6000;
    o.seed = 5;
    o.max_steps = 8;
    o.defect_rate = 0;
    o.duplicate_rate = 0;
    o.wrong_rate = 0.2;
    o.probe_structure = 1;
    o.domain_mix[0] = 0.55, o.domain_mix[1] = 0.15, o.domain_mix[2] = 0.15, o.domain_mix[3] = 0.15;
    o.heldout = 400;
    o.heldout_out = held;
    o.contaminate_rate = 0;
    o.out = pool;
    CHECK(s1c_synth_run(&o, &st) == S1C_OK);
    s1c_lines *r = s1c_lines_open(pool);
    CHECK(r != NULL);
    const char *line;
    size_t len, n = 0, wrong = 0, dom[4] = {0};
    // Strong-probe success at 6 steps: muladd (about 3 '*' steps) vs minmax (about 4 max/min).
    size_t n6[4] = {0}, ok6[4] = {0};
    uint64_t off, no;
    while (r && s1c_lines_next(r, &line, &len, &off, &no) == 1) {
        cJSON *rec = s1c_jsonl_parse(pool, no, line, len);
        CHECK(rec != NULL);
        if (!rec) continue;
        const char *q = cJSON_GetObjectItem(rec, "question")->valuestring;
        const char *trace = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "thinking_trajectories"), 0)->valuestring;
        const char *att = cJSON_GetObjectItem(rec, "attempt")->valuestring;
        const char *sol = cJSON_GetObjectItem(rec, "solution")->valuestring;
        int d = domain_index(cJSON_GetObjectItem(rec, "domain")->valuestring);
        CHECK(d >= 0);
        int k = cJSON_GetObjectItem(rec, "difficulty")->valueint;
        int m = 0, start = 0;
        CHECK(sscanf(q, "mod %d: %d", &m, &start) == 2);
        CHECK(s1c_synth_solve(q) == atoi(sol));
        int stated = atoi(att + strlen("Answer: ")), last = -1;
        // Pool traces here are plain or self-verifying; a wrong one is plain with one bad line.
        int bad = strchr(trace, 'W') || strchr(trace, 'H') || strchr(trace, 'A') ? 0 : wrong_lines(trace, start, m, &last);
        CHECK(bad == 0 || bad == 1);
        CHECK((bad == 1) == (stated != atoi(sol)));
        if (bad == 1) {
            // A wrong record: a plain trace with exactly one wrong result, carried to the attempt.
            CHECK(last == stated);
            wrong++;
        }
        if (d >= 0) dom[d]++;
        if (k == 6 && d >= 0) {
            n6[d]++;
            ok6[d] += cJSON_IsTrue(cJSON_GetObjectItem(rec, "isqwen32bcorrect"));
        }
        n++;
        cJSON_Delete(rec);
    }
    s1c_lines_close(r);
    CHECK_EQ_U(n, 6000);
    CHECK_EQ_U(wrong, st.wrong);
    // 6,000 records: sd(wrong share) ~0.005; a slip of +-1 always changes the value mod 10.
    CHECK(wrong > 0.18 * 6000 && wrong < 0.22 * 6000, "wrong %zu", wrong);
    CHECK(dom[0] > 0.52 * 6000 && dom[0] < 0.58 * 6000, "addsub %zu", dom[0]);
    for (int d = 1; d < 4; d++) CHECK(dom[d] > 0.12 * 6000 && dom[d] < 0.18 * 6000, "domain %d: %zu", d, dom[d]);
    // Strong probe at k = 6: minmax hardness ~4 -> p ~0.88; muladd ~7.5 -> p ~0.42 (n ~110 each).
    CHECK(n6[1] > 50 && n6[2] > 50);
    double p_mul = (double)ok6[1] / (double)n6[1], p_mm = (double)ok6[2] / (double)n6[2];
    CHECK(p_mm - p_mul > 0.25, "strong probe at 6 steps: minmax %.2f, muladd %.2f", p_mm, p_mul);
    // Held-out stays balanced (it cycles the domains).
    r = s1c_lines_open(held);
    CHECK(r != NULL);
    size_t hdom[4] = {0};
    while (r && s1c_lines_next(r, &line, &len, &off, &no) == 1) {
        cJSON *rec = s1c_jsonl_parse(held, no, line, len);
        CHECK(rec != NULL);
        if (!rec) continue;
        int d = domain_index(cJSON_GetObjectItem(rec, "domain")->valuestring);
        if (d >= 0) hdom[d]++;
        cJSON_Delete(rec);
    }
    s1c_lines_close(r);
    for (int d = 0; d < 4; d++) CHECK_EQ_U(hdom[d], 100);

    // Bad input: named, refused.
    double mix[4];
    CHECK(s1c_synth_axes_parse_mix("1,2,3", mix) != 0);
    CHECK_ERR_HAS("--domain-mix");
    CHECK(s1c_synth_axes_parse_mix("1,2,3,-1", mix) != 0);
    CHECK(s1c_synth_axes_parse_mix("0,0,0,0", mix) != 0);
    CHECK(s1c_synth_axes_parse_mix("1,2,3,4x", mix) != 0);
    CHECK(s1c_synth_axes_parse_mix("0.5,0.2,0.2,0.1", mix) == 0 && mix[0] == 0.5 && mix[3] == 0.1);
    o.wrong_rate = 1.5;
    CHECK(s1c_synth_run(&o, &st) != S1C_OK);
    CHECK_ERR_HAS("--wrong");
    return check_exit("test_data_synth_axes");
}
