// Harness units: benchmark loaders (field spellings, GPQA shuffling, bad files), the sampler
// (greedy ties, top-k / top-p support, reproducibility, bans), and the scaling metrics.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_load.h"
#include "check.h"
#include "ops.h"
#include "metrics.h"
#include "sampler.h"

static void loaders(void) {
    s1c_benchmark b;
    // AIME: lower-case and capitalised spellings, numeric answers, blank lines.
    const char *aime = "{\"id\": 7, \"problem\": \"P1\", \"answer\": 33}\n\n"
                       "{\"ID\": \"2024-II-4\", \"Problem\": \"P2\", \"Answer\": \"042\"}\n";
    CHECK(s1c_bench_parse("aime", aime, S1C_BENCH_AIME, 0, &b) == S1C_OK);
    CHECK(b.n == 2 && !strcmp(b.items[0].id, "7") && !strcmp(b.items[0].gold, "33"));
    CHECK(!strcmp(b.items[1].id, "2024-II-4") && !strcmp(b.items[1].question, "P2"));
    s1c_bench_free(&b);
    // Missing field / bad JSON / empty file / non-integer AIME answer: errors naming the line.
    CHECK(s1c_bench_parse("x", "{\"problem\": \"P\"}\n", S1C_BENCH_AIME, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "x:1") && strstr(s1c_err_msg(), "answer"));
    CHECK(s1c_bench_parse("x", "{\"problem\": \"P\", \"answer\": \"1\"}\nnot json\n", S1C_BENCH_MATH, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "x:2") != NULL);
    CHECK(s1c_bench_parse("x", "\n  \n", S1C_BENCH_MATH, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "empty") != NULL);
    CHECK(s1c_bench_parse("x", "{\"problem\": \"P\", \"answer\": \"12.5\"}", S1C_BENCH_AIME, 0, &b) != S1C_OK);
    CHECK(s1c_bench_parse("x", "{\"problem\": \"P\", \"answer\": [1]}", S1C_BENCH_MATH, 0, &b) != S1C_OK);
    CHECK(s1c_bench_load("/nonexistent/file.jsonl", S1C_BENCH_MATH, 0, &b) != S1C_OK);
    // MATH metadata.
    CHECK(s1c_bench_parse("m", "{\"problem\": \"P\", \"answer\": \"\\\\frac{1}{2}\", \"subject\": \"Algebra\", "
                               "\"level\": 3, \"unique_id\": \"test/a/1.json\"}", S1C_BENCH_MATH, 0, &b) == S1C_OK);
    CHECK(b.items[0].level == 3 && !strcmp(b.items[0].subject, "Algebra") && !strcmp(b.items[0].id, "test/a/1.json"));
    s1c_bench_free(&b);
    // GPQA: the stored permutation puts the correct answer at the gold letter; same seed, same
    // lettering; the permutations vary across problems and seeds.
    char text[4096] = "";
    for (int i = 0; i < 8; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"Question\": \"Q%d\", \"Correct Answer\": \"right%d\", \"Incorrect Answer 1\": \"w1\", "
                                    "\"Incorrect Answer 2\": \"w2\", \"Incorrect Answer 3\": \"w3\"}\n", i, i);
        strcat(text, line);
    }
    s1c_benchmark g1, g2, g3;
    CHECK(s1c_bench_parse("g", text, S1C_BENCH_GPQA, 5, &g1) == S1C_OK);
    CHECK(s1c_bench_parse("g", text, S1C_BENCH_GPQA, 5, &g2) == S1C_OK);
    CHECK(s1c_bench_parse("g", text, S1C_BENCH_GPQA, 6, &g3) == S1C_OK);
    int differ_problem = 0, differ_seed = 0;
    for (int i = 0; i < 8; i++) {
        int k = g1.items[i].gold[0] - 'A';
        CHECK(k >= 0 && k < 4 && g1.items[i].perm[k] == 0);
        char want[32];
        snprintf(want, sizeof want, "(%c) right%d", 'A' + k, i);
        CHECK(strstr(g1.items[i].question, want) != NULL);
        CHECK(memcmp(g1.items[i].perm, g2.items[i].perm, sizeof g1.items[i].perm) == 0);
        differ_seed |= memcmp(g1.items[i].perm, g3.items[i].perm, sizeof g1.items[i].perm) != 0;
        if (i) differ_problem |= memcmp(g1.items[i].perm, g1.items[0].perm, sizeof g1.items[0].perm) != 0;
    }
    CHECK(differ_problem && differ_seed);
    s1c_bench_free(&g1);
    s1c_bench_free(&g2);
    s1c_bench_free(&g3);
    CHECK(s1c_bench_parse("g", "{\"Question\": \"Q\", \"Correct Answer\": \"a\"}", S1C_BENCH_GPQA, 0, &g1) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "Incorrect Answer 1") != NULL);
}

// Benchmark files as users download them (issue 12 §4): GPQA Diamond CSV, JSON arrays, s1's
// aime24_nofigures rows, \u0000 refused with line and field.
static void file_layouts(void) {
    s1c_benchmark b;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/infer/bench/gpqa_diamond.csv", S1C_SOURCE_DIR);
    CHECK(s1c_bench_load(path, S1C_BENCH_GPQA, 0, &b) == S1C_OK, "%s", s1c_err_msg());
    CHECK(b.n == 2);
    if (b.n == 2) {
        CHECK(!strcmp(b.items[0].id, "recA") && !strcmp(b.items[1].id, "recB"));
        // The multi-line question survives whole; the correct choice is where the letter says.
        CHECK(strstr(b.items[0].question, "electromagnetic force?\nGive the name of the boson.") != NULL);
        char want[64];
        snprintf(want, sizeof want, "(%s) photon", b.items[0].gold);
        CHECK(strstr(b.items[0].question, want) != NULL, "%s", b.items[0].question);
        snprintf(want, sizeof want, "(%s) 10^-3\n", b.items[1].gold);
        CHECK(strstr(b.items[1].question, want) != NULL || b.items[1].gold[0] == 'D', "%s", b.items[1].question);
    }
    s1c_bench_free(&b);
    // RFC 4180 details: "" is a quote, a quoted comma / CRLF stays in the field, an empty quoted field.
    const char *csv = "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\r\n"
                      "\"He said \"\"hi\"\", then\r\nleft\",\"a,b\",x,y,\"\"\r\n";
    CHECK(s1c_bench_parse("t.csv", csv, S1C_BENCH_GPQA, 0, &b) == S1C_OK, "%s", s1c_err_msg());  // "" is an empty field
    if (b.n == 1) CHECK(strstr(b.items[0].question, "He said \"hi\", then\r\nleft") != NULL);
    s1c_bench_free(&b);
    const char *csv2 = "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\n"
                       "\"He said \"\"hi\"\", then\r\nleft\",\"a,b\",x,y,z\n";
    CHECK(s1c_bench_parse("t.csv", csv2, S1C_BENCH_GPQA, 0, &b) == S1C_OK, "%s", s1c_err_msg());
    if (b.n == 1) {
        CHECK(strstr(b.items[0].question, "He said \"hi\", then\r\nleft") != NULL, "%s", b.items[0].question);
        CHECK(strstr(b.items[0].question, ") a,b") != NULL);
        s1c_bench_free(&b);
    }
    // Errors name the file and the line a record starts on.
    CHECK(s1c_bench_parse("u.csv", "Question,Correct Answer\n\"never closed,x\n", S1C_BENCH_GPQA, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "u.csv:2") && strstr(s1c_err_msg(), "never closed"), "%s", s1c_err_msg());
    CHECK(s1c_bench_parse("u.csv", "a,b\n1,2\n\"x\ny\",2\n1,2,3\n", S1C_BENCH_GPQA, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "u.csv:5") && strstr(s1c_err_msg(), "3 fields"), "%s", s1c_err_msg());
    CHECK(s1c_bench_parse("u.csv", "a,b\n\"x\"y,2\n", S1C_BENCH_GPQA, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "after a closing quote") != NULL, "%s", s1c_err_msg());
    // A bad header after good fields (fuzz_bench found its fields leaked).
    CHECK(s1c_bench_parse("u.csv", "Question,Incorrect \"x\"y,z\n1,2,3\n", S1C_BENCH_GPQA, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "u.csv:1") && strstr(s1c_err_msg(), "quote"), "%s", s1c_err_msg());
    CHECK(s1c_bench_parse("u.csv", "Question,Question\n1,2\n", S1C_BENCH_GPQA, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "twice") != NULL);
    CHECK(s1c_bench_parse("u.csv", "Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3\n",
                          S1C_BENCH_GPQA, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "empty") != NULL);
    // A JSON array (pandas' to_json(orient="records")); errors name the element.
    const char *arr = "[{\"problem\": \"P1\", \"answer\": \"1/2\", \"subject\": \"Algebra\", \"level\": 3},\n"
                      " {\"problem\": \"P2\", \"answer\": \"4\"}]\n";
    CHECK(s1c_bench_parse("m.json", arr, S1C_BENCH_MATH, 0, &b) == S1C_OK, "%s", s1c_err_msg());
    CHECK(b.n == 2 && b.items[0].level == 3 && !strcmp(b.items[1].gold, "4"));
    s1c_bench_free(&b);
    CHECK(s1c_bench_parse("m.json", "[{\"problem\": \"P\"}]", S1C_BENCH_MATH, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "m.json: element 0") && strstr(s1c_err_msg(), "answer"), "%s", s1c_err_msg());
    CHECK(s1c_bench_parse("m.json", "[{\"problem\": \"P\", ", S1C_BENCH_MATH, 0, &b) != S1C_OK);
    // s1's aime24_nofigures rows (simplescaling/aime24_nofigures: id, problem, solution, answer, url, year).
    const char *s1aime = "{\"id\": 60, \"problem\": \"Every morning Aya ...\", \"solution\": \"...\", \"answer\": \"204\", "
                         "\"url\": \"https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_1\", "
                         "\"year\": 2024}\n";
    CHECK(s1c_bench_parse("aime24_nofigures.jsonl", s1aime, S1C_BENCH_AIME, 0, &b) == S1C_OK, "%s", s1c_err_msg());
    CHECK(b.n == 1 && !strcmp(b.items[0].id, "60") && !strcmp(b.items[0].gold, "204"));
    s1c_bench_free(&b);
    // \u0000 in a string: refused with the line and the field; an escaped backslash before u0000 is text.
    CHECK(s1c_bench_parse("z.jsonl", "{\"problem\": \"P\", \"answer\": \"1\"}\n\n{\"answer\": \"2\", \"problem\": \"a\\u0000b\"}\n",
                          S1C_BENCH_MATH, 0, &b) != S1C_OK);
    CHECK(strstr(s1c_err_msg(), "z.jsonl:3") && strstr(s1c_err_msg(), "'problem'") && strstr(s1c_err_msg(), "u0000"),
          "%s", s1c_err_msg());
    CHECK(s1c_bench_parse("z.jsonl", "{\"problem\": \"a\\\\u0000b\", \"answer\": \"1\"}\n", S1C_BENCH_MATH, 0, &b) == S1C_OK,
          "%s", s1c_err_msg());
    if (b.n == 1) CHECK(!strcmp(b.items[0].question, "a\\u0000b"));
    s1c_bench_free(&b);
}

static void sampler(void) {
    const int V = 6;
    float logits[6] = {1.0f, 3.0f, 3.0f, 0.5f, -1.0f, 2.0f};
    s1c_sample_ws ws;
    s1c_sample_ws_init(&ws, V);
    s1c_rng r;
    s1c_rng_seed(&r, 1);
    s1c_sampling greedy = {0};
    CHECK(s1c_sample(logits, V, &greedy, &r, &ws, NULL, 0) == 1);  // lowest id on a tie
    int32_t ban[1] = {1};
    CHECK(s1c_sample(logits, V, &greedy, &r, &ws, ban, 1) == 2);
    // top-k 2 only ever returns the two best ids; top-p 0.5 only the top tie pair.
    s1c_sampling k2 = {.temperature = 1.0f, .top_k = 2}, p5 = {.temperature = 1.0f, .top_p = 0.5f};
    int seen[6] = {0};
    for (int i = 0; i < 2000; i++) seen[s1c_sample(logits, V, &k2, &r, &ws, NULL, 0)]++;
    CHECK(seen[1] > 800 && seen[2] > 800 && seen[0] + seen[3] + seen[4] + seen[5] == 0);
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 2000; i++) seen[s1c_sample(logits, V, &p5, &r, &ws, NULL, 0)]++;
    CHECK(seen[1] + seen[2] == 2000);
    // Plain temperature sampling follows softmax: P(id 5) = e^2 / sum.
    s1c_sampling t1 = {.temperature = 1.0f};
    double z = 0;
    for (int i = 0; i < V; i++) z += exp(logits[i]);
    memset(seen, 0, sizeof seen);
    const int N = 20000;
    for (int i = 0; i < N; i++) seen[s1c_sample(logits, V, &t1, &r, &ws, NULL, 0)]++;
    double p5x = exp(2.0) / z;
    CHECK(fabs(seen[5] / (double)N - p5x) < 4 * sqrt(p5x * (1 - p5x) / N));
    // Same seed, same stream.
    s1c_rng a, b;
    s1c_rng_seed(&a, 42);
    s1c_rng_seed(&b, 42);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= s1c_sample(logits, V, &t1, &a, &ws, NULL, 0) == s1c_sample(logits, V, &t1, &b, &ws, NULL, 0);
    CHECK(same);
    s1c_sample_ws_free(&ws);
}

static void metrics(void) {
    // Three runs: budgets 100 / 200 / 400 with mean thinking 90 / 180 / 300 and accuracy .2 / .4 / .5.
    s1c_run_point p[3] = {
        {.max_thinking = 100, .accuracy = 0.2, .mean_thinking = 90, .max_thinking_seen = 100},
        {.max_thinking = 200, .accuracy = 0.4, .mean_thinking = 180, .max_thinking_seen = 200},
        {.max_thinking = 400, .accuracy = 0.5, .mean_thinking = 300, .max_thinking_seen = 401},  // one sample over
    };
    s1c_scaling_metrics m = s1c_metrics_compute(p, 3);
    double s01 = 0.2 / 90, s02 = 0.3 / 210, s12 = 0.1 / 120;
    CHECK(fabs(m.scaling - (s01 + s02 + s12) / 3) < 1e-12);
    CHECK(fabs(m.control - 2.0 / 3.0) < 1e-12);
    CHECK(m.performance == 0.5);
    // A single point has no slope; an uncapped run is within control.
    p[0].max_thinking = -1;
    m = s1c_metrics_compute(p, 1);
    CHECK(m.scaling == 0 && m.control == 1 && m.performance == 0.2);
}

// The decode linear (GEMV / register tiles / GEMM by row count) against matmul_fwd on awkward
// sizes: partial 4-row tiles on both sides, IC below, at and past the vector width with a ragged
// tail, row counts on both sides of the tile/GEMM cut-over (16 without AVX-512, 64 with), bias or not.
static void matmul_decode(void) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    enum { MAXT = 65, MAXIC = 133, MAXOC = 23 };
    float *w = malloc(sizeof(float) * MAXIC * MAXOC), *x = malloc(sizeof(float) * MAXT * MAXIC);
    float *bias = malloc(sizeof(float) * MAXOC);
    float *a = malloc(sizeof(float) * MAXT * MAXOC), *b = malloc(sizeof(float) * MAXT * MAXOC);
    s1c_rng r;
    s1c_rng_seed(&r, 3);
    for (int i = 0; i < MAXIC * MAXOC; i++) w[i] = (float)s1c_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < MAXT * MAXIC; i++) x[i] = (float)s1c_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < MAXOC; i++) bias[i] = (float)s1c_rng_uniform(&r);
    const int Ts[] = {1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33, 40, 63, 64, 65};
    const int ICs[] = {5, 16, 37, 133}, OCs[] = {1, 8, 23};
    int cases = 0;
    for (size_t k = 0; k < sizeof Ts / sizeof Ts[0]; k++)
        for (size_t ic = 0; ic < sizeof ICs / sizeof ICs[0]; ic++)
            for (size_t oc = 0; oc < sizeof OCs / sizeof OCs[0]; oc++)
                for (int wb = 0; wb < 2; wb++) {
                    const int T = Ts[k], IC = ICs[ic], OC = OCs[oc];
                    be->matmul_fwd(be, a, x, w, wb ? bias : NULL, T, IC, OC);
                    for (int i = 0; i < T * OC; i++) b[i] = 1e30f;  // every output must be written
                    be->matmul_decode(be, b, x, w, wb ? bias : NULL, T, IC, OC);
                    double md = 0;
                    for (int i = 0; i < T * OC; i++) md = fmax(md, fabs((double)a[i] - b[i]));
                    cases++;
                    if (!(md <= 1e-5 * (1 + IC / 37))) {  // fp32 sums of IC products of size <= 1
                        fprintf(stderr, "matmul_decode T=%d IC=%d OC=%d bias=%d: max diff %.3g\n", T, IC, OC, wb, md);
                        check_failures++;
                    }
                }
    CHECK(cases == 15 * 4 * 3 * 2);
    free(w);
    free(x);
    free(bias);
    free(a);
    free(b);
    s1c_backend_destroy(be);
}

// The backend's greedy op (kernels/ops.h argmax_rows, what the engine uses on all-greedy steps)
// against the host sampler's greedy path: same id on random rows with small-integer logits (many
// ties), NaNs, banned ids (sometimes the maximum), rows with everything banned, and n < ld.
static void argmax_rows_vs_sampler(void) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    enum { ROWS = 40, LD = 53, MB = 4 };
    float x[ROWS * LD];
    int32_t ban[ROWS * MB], ids[ROWS];
    s1c_sample_ws ws;
    s1c_sample_ws_init(&ws, LD);
    s1c_rng r;
    s1c_rng_seed(&r, 11);
    const s1c_sampling greedy = {0};
    int rounds = 0;
    for (int round = 0; round < 50; round++) {
        const int n = 1 + (int)(s1c_rng_next(&r) % LD);
        for (int i = 0; i < ROWS * LD; i++) {
            x[i] = (float)(s1c_rng_next(&r) % 5);
            if (s1c_rng_next(&r) % 17 == 0) x[i] = NAN;
        }
        for (int i = 0; i < ROWS * MB; i++) ban[i] = s1c_rng_next(&r) % 3 ? -1 : (int32_t)(s1c_rng_next(&r) % (uint64_t)n);
        for (int i = 0; i < MB && i < n; i++) ban[7 * MB + i] = i;  // row 7: all banned when n <= MB
        float copy[ROWS * LD];
        memcpy(copy, x, sizeof x);  // the op may overwrite banned positions
        be->argmax_rows(be, ids, copy, ROWS, n, LD, ban, MB);
        for (int row = 0; row < ROWS; row++) {
            int32_t b[MB];
            int nb = 0;
            for (int j = 0; j < MB; j++)
                if (ban[row * MB + j] >= 0) b[nb++] = ban[row * MB + j];
            int want = s1c_sample(x + row * LD, n, &greedy, &r, &ws, b, nb);
            if (ids[row] != want) {
                fprintf(stderr, "argmax_rows: round %d row %d n %d: %d, sampler %d\n", round, row, n, ids[row], want);
                check_failures++;
            }
        }
        rounds++;
    }
    CHECK(rounds == 50);
    s1c_sample_ws_free(&ws);
    s1c_backend_destroy(be);
}

int main(void) {
    matmul_decode();
    argmax_rows_vs_sampler();
    loaders();
    file_layouts();
    sampler();
    metrics();
    return check_exit("test_infer_harness");
}
