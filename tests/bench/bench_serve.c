// bench_serve — load on a running `s1c-infer serve`: N concurrent clients, each sending R
// completion requests back to back (HTTP/1.0, one connection per request, greedy, a fixed
// max_tokens, distinct prompts); prints requests/s, generated tokens/s (from each response's
// usage.completion_tokens) and p50/p99 latency per concurrency level. Not a test.
//
//   bench_serve --port P [--host 127.0.0.1] [--clients 1,8,32] [--requests R] [--max-tokens T]
//               [--chat] [--max-thinking B]
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

static const char *g_host = "127.0.0.1";
static int g_port, g_requests = 8, g_max_tokens = 64, g_chat, g_max_thinking = -1;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// One request; returns its completion tokens, or -1 on any failure.
static int one_request(int client, int k) {
    char body[512], head[256];
    if (g_chat)
        snprintf(body, sizeof body,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"Problem %d.%d: what is %d times %d?\"}],"
                 "\"max_tokens\":%d,\"temperature\":0%s%d}", client, k, client + 3, k + 7, g_max_tokens,
                 g_max_thinking >= 0 ? ",\"max_thinking_tokens\":" : ",\"n\":", g_max_thinking >= 0 ? g_max_thinking : 1);
    else
        snprintf(body, sizeof body, "{\"prompt\":\"Problem %d.%d: what is %d times %d?\",\"max_tokens\":%d,\"temperature\":0}",
                 client, k, client + 3, k + 7, g_max_tokens);
    int n = snprintf(head, sizeof head, "POST %s HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     g_chat ? "/v1/chat/completions" : "/v1/completions", strlen(body));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    inet_pton(AF_INET, g_host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n || send(fd, body, strlen(body), MSG_NOSIGNAL) != (ssize_t)strlen(body)) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (ssize_t r; (r = recv(fd, buf + len, cap - len - 1, 0)) > 0;) {
        len += (size_t)r;
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = '\0';
    int status = 0, tokens = -1;
    sscanf(buf, "HTTP/%*s %d", &status);
    char *b = strstr(buf, "\r\n\r\n");
    cJSON *j = status == 200 && b ? cJSON_Parse(b + 4) : NULL;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "usage"), "completion_tokens");
    if (cJSON_IsNumber(u)) tokens = u->valueint;
    cJSON_Delete(j);
    free(buf);
    return tokens;
}

typedef struct {
    int id;
    double *lat;
    long tokens;
    int failed;
} client_t;

static void *client_main(void *p) {
    client_t *c = p;
    for (int k = 0; k < g_requests; k++) {
        double t0 = now_s();
        int t = one_request(c->id, k);
        c->lat[k] = now_s() - t0;
        if (t < 0) c->failed++;
        else c->tokens += t;
    }
    return NULL;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int levels[16] = {1, 8, 32}, n_levels = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) g_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--host")) g_host = argv[i + 1];
        else if (!strcmp(argv[i], "--requests")) g_requests = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-tokens")) g_max_tokens = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-thinking")) g_max_thinking = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--chat")) {
            g_chat = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--clients")) {
            n_levels = 0;
            for (char *t = strtok(argv[i + 1], ","); t && n_levels < 16; t = strtok(NULL, ",")) levels[n_levels++] = atoi(t);
        } else {
            fprintf(stderr, "bench_serve: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (g_port <= 0 || g_requests <= 0 || n_levels == 0) {
        fprintf(stderr, "usage: bench_serve --port P [--host H] [--clients 1,8,32] [--requests R] [--max-tokens T] "
                        "[--chat 0|1] [--max-thinking B]\n");
        return 2;
    }
    printf("| clients | requests | wall s | requests/s | generated tok/s | p50 latency s | p99 latency s | failed |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int l = 0; l < n_levels; l++) {
        const int N = levels[l];
        client_t *cs = calloc((size_t)N, sizeof *cs);
        pthread_t *th = calloc((size_t)N, sizeof *th);
        double *lat = calloc((size_t)N * (size_t)g_requests, sizeof *lat);
        double t0 = now_s();
        for (int i = 0; i < N; i++) {
            cs[i] = (client_t){.id = i, .lat = lat + (size_t)i * (size_t)g_requests};
            pthread_create(&th[i], NULL, client_main, &cs[i]);
        }
        long tokens = 0;
        int failed = 0;
        for (int i = 0; i < N; i++) {
            pthread_join(th[i], NULL);
            tokens += cs[i].tokens;
            failed += cs[i].failed;
        }
        const double wall = now_s() - t0;
        const int total = N * g_requests;
        qsort(lat, (size_t)total, sizeof *lat, cmp_d);
        const double p50 = lat[(total - 1) / 2], p99 = lat[(int)(0.99 * (total - 1))];
        printf("| %d | %d | %.2f | %.2f | %.1f | %.3f | %.3f | %d |\n", N, total, wall, total / wall, tokens / wall, p50,
               p99, failed);
        fflush(stdout);
        free(cs);
        free(th);
        free(lat);
    }
    return 0;
}
