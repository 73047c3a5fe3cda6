// Engine tests on the fixture checkpoints: greedy generation of 64 tokens equals transformers'
// generate token for token (tests/fixtures/infer/greedy_*.json, from make_infer_fixtures.py),
// whether prompts run together (continuous batching) or one by one; n samples sharing a prompt
// (copy-on-write of its last block) reproduce single-sample runs with seeds seed + j; budget
// forcing caps thinking inside the running sequence; bad requests are reported, and no KV block
// leaks.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine.h"
#include "s1c_file.h"

static const char *fake_bytes(void *ctx, int32_t id, size_t *len) {
    (void)ctx;
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
    if (id == 10) {
        *len = 1;
        return "\n";
    }
    *len = 1;
    return letters + (id % 26);
}

#define MAXR 16
typedef struct {
    int32_t ids[MAXR][512];
    int n[MAXR];
    s1c_bf_state bf[MAXR];
    s1c_finish finish[MAXR];
    int errors;
    int stride;  // results indexed request * stride + sample
} collect;

static void on_done(void *ctx, const s1c_gen_result *r) {
    collect *c = ctx;
    if (r->error) {
        c->errors++;
        return;
    }
    int k = r->request * c->stride + r->sample;
    if (k >= MAXR) return;
    c->n[k] = r->n_ids < 512 ? r->n_ids : 512;
    memcpy(c->ids[k], r->ids, (size_t)c->n[k] * sizeof(int32_t));
    c->bf[k] = r->bf;
    c->finish[k] = r->finish;
}

static s1c_bf_config plain(int max_new) {
    s1c_bf_config c = {.max_thinking = -1, .max_answer = max_new, .no_thinking = 1, .token_bytes = fake_bytes};
    return c;
}

// weights: "fp32" or "bf16" (s1c_qwen2_model_load_weights): the fixture's model a is a BF16
// file, so both see the same weights as transformers did. precision: "exact" or "bf16"
// (--matmul-precision; bf16 weights only): with bf16 the prefill steps of more than 8 rows round
// the activations to bf16 on a CPU with AVX512-BF16, and fixture a's greedy ids still equal
// transformers' (its margins along these paths exceed the ~0.02 logits error there;
// test_model_wbf16_gemm checks the bound teacher-forced).
static void greedy_parity(const char *model_dir, const char *fixture, const char *weights, const char *precision) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be || s1c_backend_set_matmul_precision(be, precision) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        exit(1);
    }
    s1c_qwen2_model m;
    if (s1c_qwen2_model_load_weights(be, model_dir, weights, &m) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        exit(1);
    }
    char *text;
    size_t len;
    if (s1c_read_file(fixture, &text, &len) != S1C_OK) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        exit(1);
    }
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *prompts = cJSON_GetObjectItem(j, "prompts"), *outputs = cJSON_GetObjectItem(j, "outputs");
    int np = cJSON_GetArraySize(prompts), new_tokens = cJSON_GetObjectItem(j, "new_tokens")->valueint;
    int32_t pr[8][64];
    s1c_gen_request reqs[8];
    s1c_bf_config bf = plain(new_tokens);
    for (int i = 0; i < np && i < 8; i++) {
        cJSON *p = cJSON_GetArrayItem(prompts, i);
        int n = cJSON_GetArraySize(p);
        for (int t = 0; t < n; t++) pr[i][t] = cJSON_GetArrayItem(p, t)->valueint;
        reqs[i] = (s1c_gen_request){.prompt = pr[i], .n_prompt = n, .n_samples = 1, .seed = 0, .bf = &bf,
                                    .max_new_tokens = new_tokens + 8};
    }
    // batch 1: one prompt at a time; 2: prompts join while others decode (mixed prefill/decode
    // steps); 4: all at once; 4 with a 60-block cache: admission waits for freed blocks. Then
    // chunked prefill: at most 5, 1 or 3 rows a step, so prompts are cached over several steps
    // (first chunk through the packed attention, the rest through the paged one), and decode
    // rows wait their turn.
    const int batches[7] = {1, 2, 4, 4, 4, 2, 4}, blocks[7] = {0, 0, 0, 60, 0, 0, 60}, steps[7] = {0, 0, 0, 0, 5, 1, 3};
    for (int v = 0; v < 7; v++) {
        const int batch = batches[v];
        s1c_engine_opts o = {.block_size = 4, .max_batch = batch, .kv_blocks = blocks[v], .step_tokens = steps[v]};
        s1c_engine *e = s1c_engine_create(&m, &o, fake_bytes, NULL);
        CHECK(e != NULL);
        static collect c;
        memset(&c, 0, sizeof c);
        c.stride = 1;
        CHECK(s1c_engine_run(e, reqs, np, on_done, &c) == S1C_OK);
        for (int i = 0; i < np; i++) {
            cJSON *o2 = cJSON_GetArrayItem(outputs, i);
            int same = c.n[i] == new_tokens && c.finish[i] == S1C_FINISH_LENGTH;
            for (int t = 0; same && t < new_tokens; t++) same = c.ids[i][t] == cJSON_GetArrayItem(o2, t)->valueint;
            if (!same) {
                fprintf(stderr, "%s prompt %d (batch %d): greedy output differs from transformers (n %d, finish %d, errors %d)\n",
                        model_dir, i, batch, c.n[i], (int)c.finish[i], c.errors);
                check_failures++;
            }
        }
        CHECK(s1c_engine_kv_free_blocks(e) == s1c_engine_kv_total_blocks(e));
        printf("%s (%s weights, %s): batch %d, kv blocks %d, step rows %s: %d prompts x %d greedy tokens compared (%ld steps)\n",
               model_dir, weights, precision, batch, s1c_engine_kv_total_blocks(e), steps[v] ? (steps[v] == 1 ? "1" : steps[v] == 3 ? "3" : "5") : "all",
               np, new_tokens, s1c_engine_stats_get(e)->steps);
        s1c_engine_free(e);
    }
    cJSON_Delete(j);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
}

static void samples_and_forcing(const char *model_dir) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    s1c_qwen2_model m;
    if (s1c_qwen2_model_load(be, model_dir, &m) != S1C_OK) exit(1);
    s1c_engine_opts o = {.block_size = 4, .max_batch = 8};
    s1c_engine *e = s1c_engine_create(&m, &o, fake_bytes, NULL);
    const int32_t prompt[7] = {3, 14, 15, 92, 65, 35, 89};  // 7 tokens: the last block is shared and partial
    static collect c;
    // n = 3 sampled at temperature 1 equals three single-sample requests with seeds 100, 101, 102.
    s1c_bf_config bf = plain(24);
    s1c_gen_request r[4];
    r[0] = (s1c_gen_request){.prompt = prompt, .n_prompt = 7, .n_samples = 3, .seed = 100, .bf = &bf,
                             .max_new_tokens = 1000, .sampling = {.temperature = 1.0f, .top_k = 50, .top_p = 0.95f}};
    for (int j = 0; j < 3; j++) {
        r[1 + j] = r[0];
        r[1 + j].n_samples = 1;
        r[1 + j].seed = 100 + (uint64_t)j;
    }
    memset(&c, 0, sizeof c);
    c.stride = 3;
    long cow0 = s1c_engine_stats_get(e)->cow_copies;
    CHECK(s1c_engine_run(e, r, 4, on_done, &c) == S1C_OK);
    // The 3 samples share the prompt's 2 blocks; the partly filled second block is copied by the
    // first two samples that write into it (the last one then owns the original).
    CHECK(s1c_engine_stats_get(e)->cow_copies - cow0 == 2);
    for (int j = 0; j < 3; j++) {
        CHECK(c.n[j] == 24 && c.n[3 * (1 + j)] == 24);
        CHECK(memcmp(c.ids[j], c.ids[3 * (1 + j)], 24 * sizeof(int32_t)) == 0);
    }
    CHECK(memcmp(c.ids[0], c.ids[1], 24 * sizeof(int32_t)) != 0);  // different seeds, different text
    CHECK(s1c_engine_kv_free_blocks(e) == s1c_engine_kv_total_blocks(e));

    // Budget forcing in the running sequence: thinking capped at 10 tokens, then the forced end.
    const int32_t delim[2] = {1, 2}, wait[1] = {7}, prefix[2] = {4, 5}, stops[1] = {0};
    s1c_bf_config f = {.max_thinking = 10, .max_answer = 6, .delim = delim, .n_delim = 2, .wait = wait, .n_wait = 1,
                       .answer_prefix = prefix, .n_answer_prefix = 2, .newline_id = 10, .stop_ids = stops, .n_stop = 1,
                       .early_trigger = 1, .token_bytes = fake_bytes};
    CHECK(s1c_bf_config_check(&f) == S1C_OK);
    s1c_gen_request fr = {.prompt = prompt, .n_prompt = 7, .n_samples = 2, .seed = 5, .bf = &f, .max_new_tokens = 1000,
                          .sampling = {.temperature = 0.8f}};
    memset(&c, 0, sizeof c);
    c.stride = 2;
    CHECK(s1c_engine_run(e, &fr, 1, on_done, &c) == S1C_OK);
    for (int j = 0; j < 2; j++) {
        CHECK(c.bf[j].think_tokens <= 10);
        if (c.bf[j].end == S1C_END_FORCED) {
            // ... delimiter then answer prefix right after the (≤ 10) thinking tokens (+ newline).
            int k = c.bf[j].think_tokens;
            if (c.ids[j][k] == 10) k++;
            CHECK(c.ids[j][k] == 1 && c.ids[j][k + 1] == 2 && c.ids[j][k + 2] == 4 && c.ids[j][k + 3] == 5);
        }
        CHECK(c.bf[j].end != S1C_END_NONE);
    }
    // Budget 0: the answer starts at once.
    f.max_thinking = 0;
    memset(&c, 0, sizeof c);
    CHECK(s1c_engine_run(e, &fr, 1, on_done, &c) == S1C_OK);
    CHECK(c.bf[0].think_tokens == 0 && c.ids[0][0] == 10 && c.ids[0][1] == 1 && c.ids[0][2] == 2);

    // Stop strings end the answer: stop at the text of the 3rd greedy token ("c" and the like
    // come from fake_bytes), so the sample finishes there with STOP_STRING.
    {
        s1c_bf_config g = plain(24);
        s1c_gen_request q = {.prompt = prompt, .n_prompt = 7, .n_samples = 1, .bf = &g, .max_new_tokens = 100};
        memset(&c, 0, sizeof c);
        c.stride = 1;
        CHECK(s1c_engine_run(e, &q, 1, on_done, &c) == S1C_OK);
        size_t len;
        int k = 0;
        char stop[2] = {0, 0};
        // The first position whose letter did not occur before, so the match is there and not earlier.
        for (; k < c.n[0]; k++) {
            stop[0] = fake_bytes(NULL, c.ids[0][k], &len)[0];
            int seen = 0;
            for (int j = 0; j < k; j++) seen |= fake_bytes(NULL, c.ids[0][j], &len)[0] == stop[0];
            if (!seen && k >= 2) break;
        }
        const char *stops_s[1] = {stop};
        q.stop_strings = stops_s;
        q.n_stop_strings = 1;
        memset(&c, 0, sizeof c);
        c.stride = 1;
        CHECK(s1c_engine_run(e, &q, 1, on_done, &c) == S1C_OK);
        CHECK(c.finish[0] == S1C_FINISH_STOP_STRING && c.n[0] == k + 1);
    }
    // Bad requests are reported, the rest still runs.
    int32_t longp[300];
    for (int i = 0; i < 300; i++) longp[i] = i % 50;
    s1c_gen_request bad[3] = {
        {.prompt = longp, .n_prompt = 300, .n_samples = 1, .bf = &bf, .max_new_tokens = 8},  // longer than the context
        {.prompt = prompt, .n_prompt = 0, .n_samples = 1, .bf = &bf, .max_new_tokens = 8},   // empty
        {.prompt = prompt, .n_prompt = 7, .n_samples = 1, .bf = &bf, .max_new_tokens = 8},
    };
    memset(&c, 0, sizeof c);
    c.stride = 1;
    CHECK(s1c_engine_run(e, bad, 3, on_done, &c) == S1C_OK);
    CHECK(c.errors == 2 && c.n[2] == 8);
    CHECK(s1c_engine_kv_free_blocks(e) == s1c_engine_kv_total_blocks(e));
    s1c_engine_free(e);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
}

// Greedy steps choose on the backend (argmax_rows, only ids come back) unless host_sampling asks
// for the logits: both paths must give the same tokens, also where budget forcing bans ids. The
// delimiter is the token the model emits most often, so thinking keeps trying to end: with
// min_thinking and an empty wait string every attempt is dropped and the next choice must skip
// the banned ids (delimiter and stop id); a second case uses a real wait string and a cap.
static void device_greedy_matches_host(const char *model_dir) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    s1c_qwen2_model m;
    if (s1c_qwen2_model_load(be, model_dir, &m) != S1C_OK) exit(1);
    const int32_t prompts[3][5] = {{3, 14, 15, 92, 65}, {35, 89, 79, 32, 38}, {46, 26, 43, 38, 32}};
    static collect c, ref;
    s1c_bf_config g = plain(48);
    s1c_gen_request q[3];
    for (int i = 0; i < 3; i++)
        q[i] = (s1c_gen_request){.prompt = prompts[i], .n_prompt = 5, .n_samples = 1, .bf = &g, .max_new_tokens = 64};
    s1c_engine_opts o = {.block_size = 4, .max_batch = 4, .host_sampling = 1};
    s1c_engine *e = s1c_engine_create(&m, &o, fake_bytes, NULL);
    memset(&c, 0, sizeof c);
    c.stride = 1;
    CHECK(s1c_engine_run(e, q, 3, on_done, &c) == S1C_OK);
    s1c_engine_free(e);
    int count[512] = {0}, top = 0;
    for (int i = 0; i < 3; i++)
        for (int t = 0; t < c.n[i]; t++)
            if (c.ids[i][t] >= 0 && c.ids[i][t] < 512 && ++count[c.ids[i][t]] > count[top]) top = c.ids[i][t];
    const int32_t delim[2] = {top, 2}, wait[1] = {7}, prefix[2] = {4, 5}, stops[1] = {0};
    for (int variant = 0; variant < 2; variant++) {
        s1c_bf_config f = {.max_thinking = variant ? 30 : -1, .min_thinking = variant ? 0 : 20, .ignore = variant ? 2 : 0,
                           .max_answer = 8, .delim = delim, .n_delim = 2, .wait = wait, .n_wait = variant ? 1 : 0,
                           .answer_prefix = prefix, .n_answer_prefix = 2, .newline_id = 10, .stop_ids = stops,
                           .n_stop = 1, .early_trigger = 1, .token_bytes = fake_bytes};
        CHECK(s1c_bf_config_check(&f) == S1C_OK);
        for (int i = 0; i < 3; i++) q[i].bf = &f;
        for (int host = 1; host >= 0; host--) {
            collect *out = host ? &ref : &c;
            memset(out, 0, sizeof *out);
            out->stride = 1;
            o.host_sampling = host;
            e = s1c_engine_create(&m, &o, fake_bytes, NULL);
            CHECK(s1c_engine_run(e, q, 3, on_done, out) == S1C_OK);
            CHECK(s1c_engine_kv_free_blocks(e) == s1c_engine_kv_total_blocks(e));
            s1c_engine_free(e);
        }
        int extensions = 0;
        for (int i = 0; i < 3; i++) {
            extensions += ref.bf[i].extensions + ref.bf[i].min_extensions;
            CHECK(c.n[i] == ref.n[i] && c.n[i] > 0 && c.finish[i] == ref.finish[i]);
            CHECK(memcmp(c.ids[i], ref.ids[i], (size_t)c.n[i] * sizeof(int32_t)) == 0);
            CHECK(c.bf[i].think_tokens == ref.bf[i].think_tokens && c.bf[i].end == ref.bf[i].end &&
                  c.bf[i].extensions == ref.bf[i].extensions && c.bf[i].min_extensions == ref.bf[i].min_extensions);
        }
        CHECK(extensions > 0);  // the suppression (and its banned ids) really happened
        printf("%s: device greedy == host greedy, budget forcing variant %d (%d extensions)\n", model_dir, variant,
               extensions);
    }
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
}

// The KV pool sized from the backend's free memory: mem_info is replaced by one that reports a
// chosen amount. Enough for everything: the full pool; less: 90 % of it, and generation still
// matches; less than one context: creation fails with a message that names the sizes.
static size_t fake_free;
static s1c_status fake_mem_info(s1c_backend *be, size_t *free_bytes, size_t *total_bytes) {
    (void)be;
    *free_bytes = fake_free;
    *total_bytes = fake_free;
    return S1C_OK;
}

static void kv_pool_from_free_memory(const char *model_dir) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    s1c_qwen2_model m;
    if (s1c_qwen2_model_load(be, model_dir, &m) != S1C_OK) exit(1);
    be->mem_info = fake_mem_info;
    const s1c_qwen2_config *cfg = &m.cfg;
    const size_t block_bytes = 2 * (size_t)cfg->num_hidden_layers * 4 * cfg->num_key_value_heads * cfg->head_dim * 4;
    s1c_engine_opts o = {.block_size = 4, .max_batch = 4, .max_context = 64};
    const int per_ctx = 64 / 4 + 1, full = 4 * per_ctx;
    fake_free = (size_t)1 << 40;
    s1c_engine *e = s1c_engine_create(&m, &o, fake_bytes, NULL);
    CHECK(e && s1c_engine_kv_total_blocks(e) == full);
    s1c_engine_free(e);
    fake_free = (size_t)(2.5 * per_ctx) * block_bytes;  // two and a half contexts
    e = s1c_engine_create(&m, &o, fake_bytes, NULL);
    const int want = (int)((size_t)(0.9 * (double)fake_free) / block_bytes);
    CHECK(e && s1c_engine_kv_total_blocks(e) == want, "%d blocks, expected %d", e ? s1c_engine_kv_total_blocks(e) : -1,
          want);
    const int32_t prompts[4][5] = {{3, 14, 15, 92, 65}, {35, 89, 79, 32, 38}, {46, 26, 43, 38, 32}, {7, 9, 5, 1, 8}};
    s1c_bf_config g = plain(40);
    s1c_gen_request q[4];
    for (int i = 0; i < 4; i++)
        q[i] = (s1c_gen_request){.prompt = prompts[i], .n_prompt = 5, .n_samples = 1, .bf = &g, .max_new_tokens = 40};
    static collect c, ref;
    memset(&c, 0, sizeof c);
    c.stride = 1;
    CHECK(e && s1c_engine_run(e, q, 4, on_done, &c) == S1C_OK && c.errors == 0);
    s1c_engine_free(e);
    fake_free = (size_t)1 << 40;
    e = s1c_engine_create(&m, &o, fake_bytes, NULL);
    memset(&ref, 0, sizeof ref);
    ref.stride = 1;
    CHECK(e && s1c_engine_run(e, q, 4, on_done, &ref) == S1C_OK);
    s1c_engine_free(e);
    for (int i = 0; i < 4; i++)
        CHECK(c.n[i] == 40 && ref.n[i] == 40 && memcmp(c.ids[i], ref.ids[i], 40 * sizeof(int32_t)) == 0,
              "prompt %d: a smaller pool changed the output", i);
    fake_free = (size_t)(0.5 * per_ctx) * block_bytes;
    e = s1c_engine_create(&m, &o, fake_bytes, NULL);
    CHECK(e == NULL && strstr(s1c_err_msg(), "KV cache") && strstr(s1c_err_msg(), "--max-context"), "%s",
          e ? "created" : s1c_err_msg());
    s1c_engine_free(e);
    printf("%s: KV pool from free memory: %d blocks at full size, %d with 2.5 contexts free\n", model_dir, full, want);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *root = argv[1];
    char md[1024], fx[1024];
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "b" : "a";
        snprintf(md, sizeof md, "%s/tests/fixtures/model/%s", root, name);
        snprintf(fx, sizeof fx, "%s/tests/fixtures/infer/greedy_%s.json", root, name);
        greedy_parity(md, fx, "fp32", "exact");
        if (k == 0) {  // a BF16 checkpoint: its weights as stored
            greedy_parity(md, fx, "bf16", "exact");
            greedy_parity(md, fx, "bf16", "bf16");
        }
    }
    snprintf(md, sizeof md, "%s/tests/fixtures/model/a", root);
    samples_and_forcing(md);
    for (int k = 0; k < 2; k++) {
        snprintf(md, sizeof md, "%s/tests/fixtures/model/%s", root, k ? "b" : "a");
        device_greedy_matches_host(md);
    }
    kv_pool_from_free_memory(md);
    return check_exit("test_infer_engine");
}
