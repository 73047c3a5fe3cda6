// `s1c-infer serve` over loopback, on the tiny fixture model: the server runs in this process
// (ephemeral port), requests go over plain sockets. Checks: greedy chat and raw completions equal
// `s1c-infer generate` for the same prompt and caps (budget forcing included: a thinking cap, and
// an ignored end replaced by "Wait" on a server whose delimiter is the tiny model's favourite
// token: min_thinking_tokens turns its end into "Wait"); the usage fields; stop strings; SSE chunks concatenating to the non-streamed text;
// OpenAI-style 400s naming the field (and the server keeps serving); a body over the limit (413);
// the API key; clients that disconnect (mid-stream and while waiting) free their sequences and KV
// blocks; 32 concurrent clients (half streaming) are batched together and each gets its sequential
// answer; a prompt a running request has cached reuses its KV blocks.
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "serve_client.h"
#include "serve.h"
#include "tokenizer.h"

static const char *g_bin, *g_model;

// `s1c-infer generate` for one prompt: its "generation" (malloc'ed).
static char *generate(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' generate --model '%s' --quiet %s", g_bin, g_model, args);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char line[65536];
    CHECK(fgets(line, sizeof line, p) != NULL);
    CHECK(pclose(p) == 0);
    cJSON *j = cJSON_Parse(line);
    CHECK(j && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "generation")));
    char *g = strdup(cJSON_GetObjectItemCaseSensitive(j, "generation")->valuestring);
    cJSON_Delete(j);
    return g;
}

static void check_error(int port, const char *path, const char *body, int status, const char *param) {
    reply r = http(port, "POST", path, body, NULL);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *p = path_get(cJSON_GetObjectItemCaseSensitive(j, "error"), "param", NULL);
    const int ok = r.status == status && j && cJSON_IsString(path_get(path_get(j, "error", NULL), "message", NULL)) &&
                   (param ? cJSON_IsString(p) && !strcmp(p->valuestring, param) : 1);
    if (!ok) {
        fprintf(stderr, "%s: want %d naming '%s', got %d: %s\n", body, status, param ? param : "-", r.status, r.body);
        exit(1);
    }
    cJSON_Delete(j);
    free(r.body);
    CHECK(health_num(port, "kv_free_blocks") >= 0);  // still serving
}

#define Q "What is 2 + 2?"
#define CHAT(extra) "{\"messages\":[{\"role\":\"user\",\"content\":\"" Q "\"}],\"temperature\":0" extra "}"

static void greedy_equals_generate(int port) {
    // A thinking cap: thinking ends forced at <= 8 tokens, the answer is capped at 6.
    cJSON *r = post_json(port, "/v1/chat/completions", CHAT(",\"max_tokens\":40,\"max_thinking_tokens\":8,\"max_answer_tokens\":6"), 200);
    char *g = generate("--prompt '" Q "' --max-thinking 8 --max-answer 6 --max-new 40");
    CHECK(!strcmp(choice_text(r, 0), g));
    const cJSON *th = path_get(choice(r, 0), "thinking", NULL);
    CHECK(!strcmp(path_get(th, "end", NULL)->valuestring, "forced"));
    const int think = path_get(th, "thinking_tokens", NULL)->valueint;
    CHECK(think > 0 && think <= 8);
    CHECK(path_get(r, "usage", "thinking_tokens")->valueint == think);
    CHECK(path_get(path_get(r, "usage", "completion_tokens_details"), "reasoning_tokens", NULL)->valueint == think);
    CHECK(strstr(choice_text(r, 0), "<|im_start|>answer\nFinal Answer:") != NULL);
    const int completion = path_get(r, "usage", "completion_tokens")->valueint;
    CHECK(completion > think && path_get(r, "usage", "prompt_tokens")->valueint > 10);
    printf("chat with max_thinking_tokens 8 == generate (%d thinking, %d completion tokens)\n", think, completion);
    cJSON_Delete(r);
    free(g);
    // A raw completion (no thinking phase), and the chosen tokens' logprobs.
    r = post_json(port, "/v1/completions", "{\"prompt\":\"" Q "\",\"max_tokens\":12,\"temperature\":0,\"logprobs\":1}", 200);
    g = generate("--raw --prompt '" Q "' --max-new 12");
    CHECK(!strcmp(choice_text(r, 0), g));
    const cJSON *lp = path_get(path_get(choice(r, 0), "logprobs", NULL), "token_logprobs", NULL);
    CHECK(cJSON_GetArraySize(lp) == 12);
    for (int t = 0; t < 12; t++) CHECK(cJSON_IsNumber(cJSON_GetArrayItem(lp, t)) && cJSON_GetArrayItem(lp, t)->valuedouble < 0);
    CHECK(!strcmp(path_get(choice(r, 0), "finish_reason", NULL)->valuestring, "length"));
    printf("raw completion of 12 tokens == generate --raw, with logprobs\n");
    cJSON_Delete(r);
    // Token-id prompts (as lm-eval's tokenized requests send) give the same text.
    s1c_tokenizer *tok = s1c_tokenizer_load(g_model);
    s1c_ids ids = {0};
    CHECK(tok && s1c_tokenizer_encode(tok, Q, strlen(Q), 0, &ids) == S1C_OK && ids.n > 1);
    char body[1024], *w = body;
    w += sprintf(w, "{\"prompt\":[[");
    for (size_t i = 0; i < ids.n; i++) w += sprintf(w, "%s%d", i ? "," : "", ids.ids[i]);
    sprintf(w, "]],\"max_tokens\":12,\"temperature\":0}");
    cJSON *b = post_json(port, "/v1/completions", body, 200);
    CHECK(!strcmp(choice_text(b, 0), g));
    CHECK(path_get(b, "usage", "prompt_tokens")->valueint == (int)ids.n);
    cJSON_Delete(b);
    s1c_ids_free(&ids);
    s1c_tokenizer_free(tok);
    free(g);
}

static void forced_wait(int port) {
    // Server B's delimiter is "k", the tiny model's favourite token after the s1 prompt: its
    // first attempt to end thinking before min_thinking_tokens becomes the continuation ("Wait").
    cJSON *r = post_json(port, "/v1/chat/completions", CHAT(",\"max_tokens\":64,\"min_thinking_tokens\":6,\"max_answer_tokens\":2"), 200);
    char *g = generate("--think-end k --prompt '" Q "' --min-thinking 6 --max-answer 2 --max-new 64");
    CHECK(!strcmp(choice_text(r, 0), g));
    CHECK(strstr(choice_text(r, 0), "Wait") != NULL);
    const cJSON *th = path_get(choice(r, 0), "thinking", NULL);
    CHECK(path_get(th, "min_extensions", NULL)->valueint > 0);
    CHECK(path_get(r, "usage", "min_extensions")->valueint == path_get(th, "min_extensions", NULL)->valueint);
    printf("min_thinking_tokens 6: a forced \"Wait\", %d in usage.min_extensions, == generate --min-thinking 6\n",
           path_get(th, "min_extensions", NULL)->valueint);
    cJSON_Delete(r);
    free(g);
    // num_ignore with a custom continuation: the same text as generate --ignore --wait.
    r = post_json(port, "/v1/chat/completions", CHAT(",\"max_tokens\":48,\"num_ignore\":1,\"continuation\":\" Hmm\",\"max_answer_tokens\":4"), 200);
    g = generate("--think-end k --prompt '" Q "' --ignore 1 --wait ' Hmm' --max-answer 4 --max-new 48");
    CHECK(!strcmp(choice_text(r, 0), g));
    cJSON_Delete(r);
    free(g);
}

static void streaming(int port) {
    const char *bodies[3] = {
        CHAT(",\"max_tokens\":80,\"max_thinking_tokens\":40,\"max_answer_tokens\":12"),
        CHAT(",\"max_tokens\":80,\"max_thinking_tokens\":30,\"stop\":[\":::\"]"),
        "{\"prompt\":\"" Q "\",\"max_tokens\":30,\"temperature\":0}"};
    const char *paths[3] = {"/v1/chat/completions", "/v1/chat/completions", "/v1/completions"};
    for (int i = 0; i < 3; i++) {
        cJSON *r = post_json(port, paths[i], bodies[i], 200);
        char sb[600];
        snprintf(sb, sizeof sb, "%.*s,\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
                 (int)strlen(bodies[i]) - 1, bodies[i]);
        int chunks = 0;
        cJSON *last = NULL;
        char *text = stream(port, paths[i], sb, &chunks, &last);
        if (strcmp(text, choice_text(r, 0))) {
            fprintf(stderr, "stream %d: '%s' != '%s'\n", i, text, choice_text(r, 0));
            exit(1);
        }
        CHECK(chunks >= 1);  // how many depends on scheduling: the engine may finish between two reads
        CHECK(last && !strcmp(path_get(choice(last, 0), "finish_reason", NULL)->valuestring,
                              path_get(choice(r, 0), "finish_reason", NULL)->valuestring));
        CHECK(path_get(path_get(choice(last, 0), "thinking", NULL), "thinking_tokens", NULL)->valueint ==
              path_get(path_get(choice(r, 0), "thinking", NULL), "thinking_tokens", NULL)->valueint);
        if (i == 1) {  // the stop string ends the answer and is not returned
            CHECK(!strcmp(path_get(choice(r, 0), "finish_reason", NULL)->valuestring, "stop"));
            CHECK(strstr(text, ":::") == NULL && strstr(text, "Final Answer:") != NULL);
        }
        printf("stream %d: %d chunks concatenate to the non-streamed text (%zu bytes)\n", i, chunks, strlen(text));
        free(text);
        cJSON_Delete(last);
        cJSON_Delete(r);
    }
}

static void bad_requests(int port) {
    const char *cm = "/v1/completions", *ch = "/v1/chat/completions";
    check_error(port, cm, "{\"prompt\":\"hi\",", 400, NULL);
    check_error(port, cm, "[1,2]", 400, NULL);
    check_error(port, cm, "{\"prompt\":\"hi\",\"max_tokens\":\"5\"}", 400, "max_tokens");
    check_error(port, cm, "{\"prompt\":\"hi\",\"max_tokens\":2.5}", 400, "max_tokens");
    check_error(port, cm, "{\"prompt\":\"hi\",\"temperature\":\"hot\"}", 400, "temperature");
    check_error(port, cm, "{\"prompt\":\"hi\",\"temperature\":3}", 400, "temperature");
    check_error(port, cm, "{\"prompt\":\"hi\",\"stream\":1}", 400, "stream");
    check_error(port, cm, "{\"prompt\":\"hi\",\"stop\":[1]}", 400, "stop");
    check_error(port, cm, "{\"prompt\":\"hi\",\"n\":0}", 400, "n");
    check_error(port, cm, "{\"prompt\":\"hi\",\"bogus\":true}", 400, "bogus");
    check_error(port, cm, "{\"prompt\":7}", 400, "prompt");
    check_error(port, cm, "{\"max_tokens\":3}", 400, "prompt");
    check_error(port, cm, "{\"prompt\":[[1,2,999999]]}", 400, "prompt");
    check_error(port, cm, "{\"prompt\":\"hi\",\"max_thinking_tokens\":5}", 400, "max_thinking_tokens");
    check_error(port, cm, "{\"prompt\":\"hi\",\"model\":\"gpt-4\"}", 404, "model");
    check_error(port, ch, "{\"messages\":[]}", 400, "messages");
    check_error(port, ch, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", 400, "messages[0].role");
    check_error(port, ch, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", 400, "messages[0].content");
    check_error(port, ch, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"extra\":1}]}", 400, "messages[0].extra");
    check_error(port, ch, CHAT(",\"min_thinking_tokens\":9,\"max_thinking_tokens\":3"), 400, "min_thinking_tokens");
    check_error(port, ch, CHAT(",\"max_thinking_tokens\":-1"), 400, "max_thinking_tokens");
    check_error(port, ch, CHAT(",\"num_ignore\":\"2\""), 400, "num_ignore");
    check_error(port, ch, CHAT(",\"continuation\":5"), 400, "continuation");
    check_error(port, ch, CHAT(",\"max_tokens\":5000"), 400, "max_tokens");
    check_error(port, ch, CHAT(",\"max_tokens\":900,\"n\":32,\"stream\":true"), 400, "n");  // > the KV pool
    // A prompt longer than the context (1024 tokens): 1100 token ids.
    char *big = malloc(16 * 1100 + 64), *w = big;
    w += sprintf(w, "{\"prompt\":[");
    for (int i = 0; i < 1100; i++) w += sprintf(w, "%s%d", i ? "," : "", 100 + i % 50);
    sprintf(w, "],\"max_tokens\":1}");
    check_error(port, cm, big, 400, "prompt");
    free(big);
    // A body over the server's limit (64 KiB here): 413.
    char *huge = malloc(100000);
    memset(huge, ' ', 99999);
    huge[99999] = '\0';
    memcpy(huge, "{\"prompt\":\"", 11);
    memcpy(huge + 99990, "\"}", 3);
    check_error(port, cm, huge, 413, NULL);
    free(huge);
    reply r = http(port, "GET", "/nope", NULL, NULL);
    CHECK(r.status == 404);
    free(r.body);
    r = http(port, "GET", "/v1/models", NULL, NULL);
    CHECK(r.status == 200 && strstr(r.body, "\"object\":\"list\"") && strstr(r.body, "\"max_model_len\":1024"));
    free(r.body);
    wait_idle(port);
    printf("bad requests: 400/404/413 with the field named, server still serving, KV pool empty\n");
}

static void disconnects(int port) {
    const int before = health_num(port, "tokens_generated");
    // Mid-stream: read the first bytes of a long generation, then hang up.
    int fd = dial(port);
    send_request(fd, "POST", "/v1/completions", "{\"prompt\":\"" Q "\",\"max_tokens\":1000,\"temperature\":0,\"stream\":true}", NULL);
    char buf[256];
    CHECK(recv(fd, buf, sizeof buf, 0) > 0);
    CHECK(health_num(port, "running") == 1);
    close(fd);
    wait_idle(port);
    // While a non-streamed completion is computed.
    fd = dial(port);
    send_request(fd, "POST", "/v1/chat/completions", CHAT(",\"max_tokens\":900,\"n\":3,\"temperature\":0.8"), NULL);
    for (int t = 0; t < 500 && health_num(port, "running") == 0; t++) usleep(2000);
    close(fd);
    wait_idle(port);
    // Cancelled samples report no tokens: far fewer than the 1000 + 3 x 900 asked for were made.
    const int made = health_num(port, "tokens_generated") - before;
    CHECK(made == 0);
    printf("disconnects: both requests cancelled, KV pool back to %d free blocks\n", health_num(port, "kv_total_blocks"));
}

// A request whose prompt a running one has cached reuses its full KV blocks and still gives the
// text it gives alone.
static void prefix_sharing(int port) {
    const char *body = CHAT(",\"max_tokens\":24,\"max_thinking_tokens\":10");
    cJSON *alone = post_json(port, "/v1/chat/completions", body, 200);
    const int hits0 = health_num(port, "prefix_hit_tokens");
    int fd = dial(port);
    send_request(fd, "POST", "/v1/chat/completions", CHAT(",\"max_tokens\":900,\"stream\":true"), NULL);
    for (int t = 0; t < 2000 && health_num(port, "running") == 0; t++) usleep(2000);
    const int s0 = health_num(port, "engine_steps");
    for (int t = 0; t < 2000 && health_num(port, "engine_steps") < s0 + 2; t++) usleep(2000);  // prefilled
    cJSON *shared = post_json(port, "/v1/chat/completions", body, 200);
    const int hits = health_num(port, "prefix_hit_tokens") - hits0;
    close(fd);
    wait_idle(port);
    CHECK(hits >= 64);  // the 78-token prompt: 4 full blocks of 16
    CHECK(!strcmp(choice_text(alone, 0), choice_text(shared, 0)));
    printf("prefix sharing: %d prompt tokens reused from a running request, same text as alone\n", hits);
    cJSON_Delete(alone);
    cJSON_Delete(shared);
}

typedef struct {
    int port, i, stream;
    char text[4096];
} client_arg;

static void *client(void *p) {
    client_arg *a = p;
    char body[256];
    snprintf(body, sizeof body, "{\"prompt\":\"Question %d: what is %d + %d?\",\"max_tokens\":24,\"temperature\":0%s}",
             a->i, a->i, 2 * a->i, a->stream ? ",\"stream\":true" : "");
    if (a->stream) {
        int chunks = 0;
        cJSON *last = NULL;
        char *t = stream(a->port, "/v1/completions", body, &chunks, &last);
        snprintf(a->text, sizeof a->text, "%s", t);
        free(t);
        cJSON_Delete(last);
        return NULL;
    }
    reply r = http(a->port, "POST", "/v1/completions", body, NULL);
    cJSON *j = cJSON_Parse(r.body);
    if (r.status == 200 && j) snprintf(a->text, sizeof a->text, "%s", choice_text(j, 0));
    else snprintf(a->text, sizeof a->text, "<status %d>", r.status);
    cJSON_Delete(j);
    free(r.body);
    return NULL;
}

static void concurrent(int port) {
    enum { N = 32 };
    static client_arg seq[N], par[N];
    for (int i = 0; i < N; i++) {
        seq[i] = (client_arg){.port = port, .i = i};
        client(&seq[i]);
    }
    const int steps0 = health_num(port, "engine_steps");
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        par[i] = (client_arg){.port = port, .i = i, .stream = i % 2};  // half of them stream
        CHECK(pthread_create(&th[i], NULL, client, &par[i]) == 0);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    wait_idle(port);
    const int steps = health_num(port, "engine_steps") - steps0;
    for (int i = 0; i < N; i++) CHECK(!strcmp(seq[i].text, par[i].text));
    // One at a time the 32 requests take >= 16 x 24 steps; batched, a few more than 24.
    CHECK(steps < N * 24 / 2);
    printf("%d concurrent clients (half streaming): answers equal the sequential ones, %d engine steps (sequential >= %d)\n", N, steps,
           N * 24);
}

static void auth(void) {
    s1c_serve_opts o;
    s1c_serve_opts_default(&o);
    o.model_dir = g_model;
    o.port = 0;
    o.quiet = 1;
    o.api_key = "sekrit";
    o.engine.max_batch = 2;
    s1c_server *s = NULL;
    CHECK(s1c_server_start(&o, &s) == S1C_OK);
    const int port = s1c_server_port(s);
    reply r = http(port, "GET", "/v1/models", NULL, NULL);
    CHECK(r.status == 401);
    free(r.body);
    r = http(port, "GET", "/v1/models", NULL, "sekrix");
    CHECK(r.status == 401);
    free(r.body);
    r = http(port, "GET", "/v1/models", NULL, "sekrit");
    CHECK(r.status == 200);
    free(r.body);
    s1c_server_stop(s);
    printf("api key: 401 without or with a wrong key, 200 with it\n");
}

static s1c_server *start(const char *think_end) {
    s1c_serve_opts o;
    s1c_serve_opts_default(&o);
    o.model_dir = g_model;
    o.port = 0;
    o.quiet = 1;
    o.max_body = 64 * 1024;
    o.engine.kv_blocks = 512;  // small enough that a huge n x max_tokens does not fit
    if (think_end) o.think_end = think_end;
    s1c_server *s = NULL;
    if (s1c_server_start(&o, &s) != S1C_OK) {
        fprintf(stderr, "server: %s\n", s1c_err_msg());
        exit(1);
    }
    return s;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_serve S1C_INFER_BINARY SOURCE_DIR\n");
        return 2;
    }
    g_bin = argv[1];
    static char model[4096];
    snprintf(model, sizeof model, "%s/tests/fixtures/infer/tiny", argv[2]);
    g_model = model;
    s1c_server *a = start(NULL), *b = start("k");
    const int pa = s1c_server_port(a), pb = s1c_server_port(b);
    greedy_equals_generate(pa);
    forced_wait(pb);
    streaming(pa);
    bad_requests(pa);
    disconnects(pa);
    concurrent(pa);
    prefix_sharing(pa);
    wait_idle(pa);
    wait_idle(pb);
    s1c_server_stop(a);
    s1c_server_stop(b);
    auth();
    return check_exit("test_serve");
}
