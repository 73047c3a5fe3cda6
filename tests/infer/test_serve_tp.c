// `mpirun -np 2 s1c-infer serve --tp 2` against a one-rank server in this process, on the tiny
// fixture model (4 heads: 2 per rank): every response the same text, finish reason and usage
// (greedy chat with a thinking cap, a raw completion with logprobs within 1e-4, seeded top-p
// sampling with n = 3, a stop string, two prompts in one request, a forced "Wait" and an ignored
// end with a custom continuation); 12 concurrent clients batched together each get the one-rank
// answer; a client that hangs up mid-stream is cancelled on every rank (the next request still
// agrees, and the pool is whole again); a bad request never reaches the engine; SIGTERM to
// rank 0 stops every rank with exit status 0. A desynchronised follower would hang (the test's
// timeout) or change the texts.
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "serve.h"
#include "serve_client.h"

static int g_ref, g_tp;  // ports: the one-rank server, the tensor-parallel one
static pid_t g_job;       // mpirun, the leader of its own process group (its ranks are in it)

// A failed check exits at once: take the job down with it, or its ranks would outlive the test
// and hold ctest's output open until the timeout.
static void stop_job(void) {
    if (g_job <= 0) return;
    kill(-g_job, SIGTERM);
    for (int t = 0; t < 50 && waitpid(g_job, NULL, WNOHANG) == 0; t++) usleep(100000);
    kill(-g_job, SIGKILL);
    waitpid(g_job, NULL, WNOHANG);
    g_job = 0;
}

#define Q "What is 2 + 2?"
#define CHAT(extra) "{\"messages\":[{\"role\":\"user\",\"content\":\"" Q "\"}]" extra "}"

// The two servers' answers to one body agree on everything but ids and timestamps.
static void same_answer(const char *path, const char *body) {
    cJSON *a = post_json(g_ref, path, body, 200), *b = post_json(g_tp, path, body, 200);
    const int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "choices"));
    CHECK(n >= 1 && n == cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "choices")));
    for (int k = 0; k < n; k++) {
        if (strcmp(choice_text(a, k), choice_text(b, k))) {
            fprintf(stderr, "%s choice %d: one rank '%s', tp 2 '%s'\n", body, k, choice_text(a, k), choice_text(b, k));
            exit(1);
        }
        const cJSON *fa = path_get(choice(a, k), "finish_reason", NULL), *fb = path_get(choice(b, k), "finish_reason", NULL);
        CHECK(cJSON_IsString(fa) && cJSON_IsString(fb) && !strcmp(fa->valuestring, fb->valuestring));
        char *ta = cJSON_PrintUnformatted(path_get(choice(a, k), "thinking", NULL));
        char *tb = cJSON_PrintUnformatted(path_get(choice(b, k), "thinking", NULL));
        CHECK(ta && tb && !strcmp(ta, tb));
        free(ta);
        free(tb);
        const cJSON *la = path_get(path_get(choice(a, k), "logprobs", NULL), "token_logprobs", NULL);
        const cJSON *lb = path_get(path_get(choice(b, k), "logprobs", NULL), "token_logprobs", NULL);
        CHECK(cJSON_GetArraySize(la) == cJSON_GetArraySize(lb));
        for (int t = 0; t < cJSON_GetArraySize(la); t++)
            CHECK(fabs(cJSON_GetArrayItem(la, t)->valuedouble - cJSON_GetArrayItem(lb, t)->valuedouble) < 1e-4);
    }
    char *ua = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(a, "usage"));
    char *ub = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(b, "usage"));
    CHECK(ua && ub && !strcmp(ua, ub));
    free(ua);
    free(ub);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static const char *const g_cases[][2] = {
    {"/v1/chat/completions", CHAT(",\"temperature\":0,\"max_tokens\":40,\"max_thinking_tokens\":8,\"max_answer_tokens\":6")},
    {"/v1/completions", "{\"prompt\":\"" Q "\",\"max_tokens\":12,\"temperature\":0,\"logprobs\":1}"},
    {"/v1/completions", "{\"prompt\":\"Count to ten:\",\"max_tokens\":24,\"temperature\":0.8,\"top_p\":0.9,\"seed\":5,\"n\":3}"},
    {"/v1/chat/completions", CHAT(",\"temperature\":0,\"max_tokens\":80,\"max_thinking_tokens\":30,\"stop\":[\":::\"]")},
    {"/v1/completions", "{\"prompt\":[\"One\",\"Two three\"],\"max_tokens\":10,\"temperature\":0}"},
    // The servers' delimiter is "k", the tiny model's favourite token after the s1 prompt: an
    // early end becomes the continuation.
    {"/v1/chat/completions", CHAT(",\"temperature\":0,\"max_tokens\":64,\"min_thinking_tokens\":6,\"max_answer_tokens\":2")},
    {"/v1/chat/completions", CHAT(",\"temperature\":0,\"max_tokens\":48,\"num_ignore\":1,\"continuation\":\" Hmm\",\"max_answer_tokens\":4")},
};
#define N_CASES (int)(sizeof g_cases / sizeof g_cases[0])

typedef struct {
    int port, k;
    char *text;
} job;

static void *client(void *p) {
    job *j = p;
    char body[256];
    snprintf(body, sizeof body, "{\"prompt\":\"Client %d says\",\"max_tokens\":%d,\"temperature\":0}", j->k, 8 + j->k % 5 * 4);
    cJSON *r = post_json(j->port, "/v1/completions", body, 200);
    j->text = strdup(choice_text(r, 0));
    cJSON_Delete(r);
    return NULL;
}

static void concurrent(void) {
    enum { N = 12 };
    job ref[N], tp[N];
    pthread_t th[N];
    for (int k = 0; k < N; k++) {  // one at a time on the reference
        ref[k] = (job){.port = g_ref, .k = k};
        client(&ref[k]);
    }
    for (int k = 0; k < N; k++) {
        tp[k] = (job){.port = g_tp, .k = k};
        pthread_create(&th[k], NULL, client, &tp[k]);
    }
    for (int k = 0; k < N; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < N; k++) {
        CHECK(!strcmp(ref[k].text, tp[k].text));
        free(ref[k].text);
        free(tp[k].text);
    }
    wait_idle(g_tp);
    printf("%d concurrent clients on tp 2: each the one-rank sequential answer\n", N);
}

static void hang_up(void) {
    int fd = dial(g_tp);
    send_request(fd, "POST", "/v1/completions", "{\"prompt\":\"" Q "\",\"max_tokens\":900,\"temperature\":0,\"stream\":true}", NULL);
    char buf[256];
    CHECK(recv(fd, buf, sizeof buf, 0) > 0);
    close(fd);
    wait_idle(g_tp);
    same_answer(g_cases[0][0], g_cases[0][1]);
    // A request the parser refuses never reaches the engine: the followers see nothing of it.
    reply r = http(g_tp, "POST", "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":\"5\"}", NULL);
    CHECK(r.status == 400 && strstr(r.body, "max_tokens"));
    free(r.body);
    same_answer(g_cases[1][0], g_cases[1][1]);
    printf("a client hung up mid-stream: cancelled on both ranks, pool whole, the next answers agree\n");
}

// Rank 0 of the job mpirun `launcher` started: its child whose environment says so (Linux /proc).
static pid_t rank0_of(pid_t launcher) {
    DIR *d = opendir("/proc");
    CHECK(d != NULL);
    pid_t found = 0;
    for (struct dirent *e; (e = readdir(d)) && !found;) {
        const pid_t p = (pid_t)atoi(e->d_name);
        if (p <= 0) continue;
        char path[64], buf[8192];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int ppid = 0;
        const int ok = fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) == 1;
        fclose(f);
        if (!ok || ppid != launcher) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", (int)p);
        f = fopen(path, "r");
        if (!f) continue;
        const size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < n;) {
            if (!strcmp(buf + i, "OMPI_COMM_WORLD_RANK=0")) found = p;
            i += strnlen(buf + i, n - i) + 1;
        }
    }
    closedir(d);
    return found;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_serve_tp MPIEXEC S1C_INFER_BINARY SOURCE_DIR\n");
        return 2;
    }
    char model[4096];
    snprintf(model, sizeof model, "%s/tests/fixtures/infer/tiny", argv[3]);
    s1c_serve_opts o;
    s1c_serve_opts_default(&o);
    o.model_dir = model;
    o.port = 0;
    o.quiet = 1;
    o.think_end = "k";
    // Both servers keep fp32 activations: this test is about the protocol, and the default bf16
    // rounding on AVX512-BF16 CPUs rounds a TP rank's partial sums at other places than one
    // rank's, which can move a seeded sample across a near-tie (infer/README.md, --matmul-precision).
    o.matmul_precision = "exact";
    s1c_server *ref = NULL;
    if (s1c_server_start(&o, &ref) != S1C_OK) {
        fprintf(stderr, "server: %s\n", s1c_err_msg());
        return 1;
    }
    g_ref = s1c_server_port(ref);
    int out[2];
    CHECK(pipe(out) == 0);
    const pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execlp(argv[1], argv[1], "-np", "2", "--oversubscribe", argv[2], "serve", "--tp", "2", "--port", "0",
               "--model", model, "--think-end", "k", "--matmul-precision", "exact", "--quiet", (char *)NULL);
        perror("exec mpirun");
        _exit(127);
    }
    setpgid(pid, pid);  // also here: whichever runs first
    g_job = pid;
    atexit(stop_job);
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[1024] = "";
    CHECK(f && fgets(line, sizeof line, f));
    const char *at = strstr(line, "http://127.0.0.1:");
    CHECK(at && strstr(line, "tensor parallel"));
    g_tp = atoi(at + strlen("http://127.0.0.1:"));
    CHECK(g_tp > 0);
    printf("tp 2 server: %s", line);
    for (int i = 0; i < N_CASES; i++) same_answer(g_cases[i][0], g_cases[i][1]);
    printf("%d requests (greedy, logprobs, seeded top-p n=3, stop, 2 prompts, forced Wait, ignore): tp 2 == one rank\n",
           N_CASES);
    concurrent();
    hang_up();
    // SIGTERM to rank 0 (mpirun itself reports 1 after forwarding a SIGTERM, whatever the ranks
    // did): it stops serving and tells the follower to leave; every rank exits 0.
    const pid_t r0 = rank0_of(pid);
    CHECK(r0 > 0);
    kill(r0, SIGTERM);
    int status = -1;
    pid_t w = 0;
    for (int t = 0; t < 300 && (w = waitpid(pid, &status, WNOHANG)) == 0; t++) usleep(100000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fprintf(stderr, "mpirun did not exit within 30 s of SIGTERM\n");
        exit(1);
    }
    g_job = 0;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("SIGTERM: every rank stopped, exit status 0\n");
    fclose(f);
    s1c_server_stop(ref);
    return check_exit("test_serve_tp");
}
