// End to end through the library on the committed tiny checkpoint (tests/fixtures/infer/tiny):
// eval for each benchmark format with budget forcing, reproducibility, budget 0, rejection
// sampling, sweep metrics + plot, and bad input (vocab mismatch, prompt longer than the context,
// missing / empty benchmark files).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "eval.h"
#include "s1c_file.h"

static char root[1024], work[1024];

static char *path(const char *a, const char *b) {
    char *p = s1c_xmalloc(2048);
    snprintf(p, 2048, "%s/%s", a, b);
    return p;
}

// Reads samples.jsonl into cJSON objects; returns the count.
static int read_samples(const char *dir, cJSON **out, int cap) {
    char *p = path(dir, "samples.jsonl"), *text;
    size_t len;
    int n = 0;
    if (s1c_read_file(p, &text, &len) == S1C_OK) {
        for (char *line = strtok(text, "\n"); line && n < cap; line = strtok(NULL, "\n")) out[n++] = cJSON_Parse(line);
        free(text);
    }
    free(p);
    return n;
}

static int num(const cJSON *o, const char *k) { return cJSON_GetObjectItem(o, k)->valueint; }
static const char *str(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(x) ? x->valuestring : "";
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    setenv("SOURCE_DATE_EPOCH", "1733200000", 1);  // summary.json's date: runs compared byte for byte
    snprintf(root, sizeof root, "%s", argv[1]);
    snprintf(work, sizeof work, "%s", argv[2]);
    s1c_mkdirs(work);
    char *model = path(root, "tests/fixtures/infer/tiny");
    char *aime = path(root, "tests/fixtures/infer/bench/aime.jsonl");
    char *math = path(root, "tests/fixtures/infer/bench/math.jsonl");
    char *gpqa = path(root, "tests/fixtures/infer/bench/gpqa.jsonl");
    s1c_eval_opts o;
    s1c_eval_opts_default(&o);
    o.model_dir = model;
    o.quiet = 1;
    o.max_answer = 6;
    o.max_thinking = 12;
    o.n = 2;
    o.sampling.temperature = 0.8f;
    o.engine.max_batch = 4;
    s1c_infer_ctx *c = NULL;
    if (s1c_infer_ctx_create(&o, 0, 1, &c) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    cJSON *rec[64];
    s1c_run_point pts[3];
    {  // AIME: capped thinking, records complete, a rerun gives identical files.
        char *d1 = path(work, "aime1"), *d2 = path(work, "aime2");
        CHECK(s1c_eval_run(c, &o, aime, S1C_BENCH_AIME, d1, "budget=12", &pts[0]) == S1C_OK);
        CHECK(s1c_eval_run(c, &o, aime, S1C_BENCH_AIME, d2, "budget=12", &pts[0]) == S1C_OK);
        char *a = path(d1, "samples.jsonl"), *b = path(d2, "samples.jsonl");
        CHECK(check_same_file(a, b));
        int n = read_samples(d1, rec, 64);
        CHECK(n == 6 && pts[0].n_samples == 6);
        for (int i = 0; i < n; i++) {
            CHECK(num(rec[i], "thinking_tokens") <= 12);
            CHECK(num(rec[i], "index") == i / 2 && num(rec[i], "sample") == i % 2);
            CHECK(strcmp(str(rec[i], "thinking_end"), "none") != 0);
            CHECK(cJSON_GetObjectItem(rec[i], "correct") && cJSON_GetObjectItem(rec[i], "extracted"));
            cJSON_Delete(rec[i]);
        }
        free(a);
        free(b);
        free(d1);
        free(d2);
    }
    {  // MATH with budget 0: the answer starts at once after the forced delimiter.
        s1c_eval_opts z = o;
        z.max_thinking = 0;
        char *d = path(work, "math0");
        CHECK(s1c_eval_run(c, &z, math, S1C_BENCH_MATH, d, "budget=0", &pts[1]) == S1C_OK);
        int n = read_samples(d, rec, 64);
        CHECK(n == 4);
        for (int i = 0; i < n; i++) {
            CHECK(num(rec[i], "thinking_tokens") == 0);
            // The prompt ends "<|im_start|>think" (s1: the model writes the newline), so the
            // forced end starts with one.
            CHECK(strncmp(str(rec[i], "generation"), "\n<|im_start|>answer\nFinal Answer:", 33) == 0);
            cJSON_Delete(rec[i]);
        }
        free(d);
    }
    {  // GPQA with rejection sampling: accepted samples fit the budget; permutation stored.
        s1c_eval_opts r = o;
        r.control = S1C_CONTROL_REJECTION;
        r.max_thinking = 6;
        r.rejection_tries = 3;
        char *d = path(work, "gpqa_rej");
        CHECK(s1c_eval_run(c, &r, gpqa, S1C_BENCH_GPQA, d, "rejection", &pts[2]) == S1C_OK);
        int n = read_samples(d, rec, 64);
        CHECK(n == 4);
        for (int i = 0; i < n; i++) {
            const cJSON *acc = cJSON_GetObjectItem(rec[i], "accepted");
            CHECK(acc && num(rec[i], "rejection_tries") >= 1 && num(rec[i], "rejection_tries") <= 3);
            if (cJSON_IsTrue(acc)) CHECK(num(rec[i], "thinking_tokens") <= 6);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(rec[i], "choice_permutation")) == 4);
            cJSON_Delete(rec[i]);
        }
        free(d);
    }
    {  // Sweep outputs: CSV with the metrics line, and the plot.
        s1c_scaling_metrics m = s1c_metrics_compute(pts, 2);
        char *csv = path(work, "sweep.csv"), *png = path(work, "sweep.png");
        CHECK(s1c_metrics_write_csv(csv, pts, 2, &m) == S1C_OK);
        char *t;
        size_t len;
        CHECK(s1c_read_file(csv, &t, &len) == S1C_OK && strstr(t, "# control=") && strstr(t, "budget=12,12,"));
        free(t);
        if (s1c_metrics_plot(png, csv, "test") == S1C_OK) {
            struct stat sb;
            CHECK(stat(png, &sb) == 0 && sb.st_size > 1000);
        } else {
            fprintf(stderr, "note: plot skipped: %s\n", s1c_err_msg());
        }
        free(csv);
        free(png);
    }
    {  // Bad input.
        s1c_run_point pt;
        char *d = path(work, "bad");
        CHECK(s1c_eval_run(c, &o, "/nonexistent.jsonl", S1C_BENCH_AIME, d, "x", &pt) != S1C_OK);
        char *empty = path(work, "empty.jsonl");
        FILE *f = fopen(empty, "w");
        if (f) fclose(f);
        CHECK(s1c_eval_run(c, &o, empty, S1C_BENCH_AIME, d, "x", &pt) != S1C_OK);
        CHECK(strstr(s1c_err_msg(), "empty") != NULL);
        CHECK(s1c_eval_run(c, &o, gpqa, S1C_BENCH_AIME, d, "x", &pt) != S1C_OK);  // GPQA fields read as AIME
        free(empty);
        free(d);
    }
    s1c_infer_ctx_free(c);
    {  // A prompt longer than the context: reported in the sample, the run still completes.
        s1c_eval_opts s = o;
        s.engine.max_context = 40;
        CHECK(s1c_infer_ctx_create(&s, 0, 1, &c) == S1C_OK);
        char *d = path(work, "ctx");
        s1c_run_point pt;
        CHECK(s1c_eval_run(c, &s, aime, S1C_BENCH_AIME, d, "x", &pt) == S1C_OK);
        int n = read_samples(d, rec, 64);
        CHECK(n == 6);
        for (int i = 0; i < n; i++) {
            CHECK(strstr(str(rec[i], "error"), "does not fit the context") != NULL);
            CHECK(cJSON_IsFalse(cJSON_GetObjectItem(rec[i], "correct")));
            cJSON_Delete(rec[i]);
        }
        free(d);
        s1c_infer_ctx_free(c);
    }
    {  // Refused at start: a configuration under which no sample can run (issue 12 §5).
        s1c_eval_opts s = o;
        s.n = 4;
        s.engine.max_batch = 2;
        CHECK(s1c_infer_ctx_create(&s, 0, 1, &c) == S1C_OK);
        char *d = path(work, "refused");
        s1c_run_point pt;
        CHECK(s1c_eval_run(c, &s, aime, S1C_BENCH_AIME, d, "x", &pt) != S1C_OK);
        CHECK(strstr(s1c_err_msg(), "no sample can run") && strstr(s1c_err_msg(), "--max-batch"), "%s", s1c_err_msg());
        s1c_infer_ctx_free(c);
        s = o;
        s.engine.kv_blocks = 1;
        CHECK(s1c_infer_ctx_create(&s, 0, 1, &c) == S1C_OK);
        CHECK(s1c_eval_run(c, &s, aime, S1C_BENCH_AIME, d, "x", &pt) != S1C_OK);
        CHECK(strstr(s1c_err_msg(), "no sample can run") && strstr(s1c_err_msg(), "KV blocks"), "%s", s1c_err_msg());
        s1c_infer_ctx_free(c);
        free(d);
    }
    {  // A checkpoint whose vocab is smaller than the tokenizer's.
        s1c_eval_opts v = o;
        v.model_dir = path(root, "tests/fixtures/model/a");
        v.tokenizer_dir = model;
        CHECK(s1c_infer_ctx_create(&v, 0, 1, &c) != S1C_OK);
        CHECK(strstr(s1c_err_msg(), "vocab") != NULL);
        free((char *)v.model_dir);
    }
    free(model);
    free(aime);
    free(math);
    free(gpqa);
    return check_exit("test_infer_eval");
}
