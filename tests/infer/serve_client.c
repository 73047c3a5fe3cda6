// serve_client.c — see serve_client.h.
#include "serve_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"

static void send_all(int fd, const char *b, size_t n);

int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static void send_all(int fd, const char *b, size_t n) {
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        b += w;
        n -= (size_t)w;
    }
}

void send_request(int fd, const char *method, const char *path, const char *body, const char *key) {
    char head[512];
    char auth[200] = "";
    if (key) snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", key);
    // HTTP/1.0: the server closes after the response, so no chunked decoding is needed here.
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.0\r\nHost: localhost\r\n%sContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", method, path, auth, body ? strlen(body) : (size_t)0);
    send_all(fd, head, (size_t)n);
    if (body) send_all(fd, body, strlen(body));
}

reply read_reply(int fd) {
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 4096 > cap) buf = realloc(buf, cap *= 2);
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0) break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(fd);
    reply rp = {0};
    sscanf(buf, "HTTP/%*s %d", &rp.status);
    char *b = strstr(buf, "\r\n\r\n");
    rp.body = strdup(b ? b + 4 : "");
    free(buf);
    return rp;
}

reply http(int port, const char *method, const char *path, const char *body, const char *key) {
    int fd = dial(port);
    send_request(fd, method, path, body, key);
    return read_reply(fd);
}

cJSON *post_json(int port, const char *path, const char *body, int want_status) {
    reply r = http(port, "POST", path, body, NULL);
    if (r.status != want_status) {
        fprintf(stderr, "POST %s %s: status %d, want %d: %s\n", path, body, r.status, want_status, r.body);
        exit(1);
    }
    cJSON *j = cJSON_Parse(r.body);
    CHECK(j != NULL);
    free(r.body);
    return j;
}

const cJSON *path_get(const cJSON *j, const char *a, const char *b) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

const cJSON *choice(const cJSON *resp, int k) {
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "choices"), k);
}

const char *choice_text(const cJSON *resp, int k) {
    const cJSON *c = choice(resp, k), *t = cJSON_GetObjectItemCaseSensitive(c, "text");
    if (!t) t = path_get(c, "message", "content");
    CHECK(cJSON_IsString(t));
    return t->valuestring;
}

int health_num(int port, const char *field) {
    reply r = http(port, "GET", "/health", NULL, NULL);
    CHECK(r.status == 200);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, field);
    CHECK(cJSON_IsNumber(v));
    int x = v->valueint;
    cJSON_Delete(j);
    free(r.body);
    return x;
}

// Waits (up to 20 s) until nothing runs and every KV block is free again.
void wait_idle(int port) {
    for (int t = 0; t < 2000; t++) {
        if (health_num(port, "running") == 0 && health_num(port, "waiting") == 0 &&
            health_num(port, "kv_free_blocks") == health_num(port, "kv_total_blocks"))
            return;
        usleep(10000);
    }
    fprintf(stderr, "server did not return to idle (running %d, KV free %d of %d)\n", health_num(port, "running"),
            health_num(port, "kv_free_blocks"), health_num(port, "kv_total_blocks"));
    exit(1);
}

// A streamed request: the concatenated deltas (malloc'ed), the number of content chunks, and the
// last choice chunk (its finish_reason and thinking).
char *stream(int port, const char *path, const char *body, int *n_chunks, cJSON **last) {
    reply r = http(port, "POST", path, body, NULL);
    CHECK(r.status == 200);
    size_t cap = strlen(r.body) + 1, len = 0;
    char *out = calloc(1, cap);
    *n_chunks = 0;
    *last = NULL;
    int done = 0;
    char *save = NULL;
    for (char *line = strtok_r(r.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        CHECK(!done);  // nothing after [DONE]
        CHECK(!strncmp(line, "data: ", 6));
        if (!strcmp(line + 6, "[DONE]")) {
            done = 1;
            continue;
        }
        cJSON *j = cJSON_Parse(line + 6);
        CHECK(j != NULL);
        const cJSON *c = choice(j, 0);
        if (!c) {  // the usage chunk
            cJSON_Delete(j);
            continue;
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "text");
        if (!t) t = path_get(c, "delta", "content");
        if (cJSON_IsString(t) && t->valuestring[0]) {
            size_t n = strlen(t->valuestring);
            memcpy(out + len, t->valuestring, n);
            len += n;
            ++*n_chunks;
        }
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "finish_reason"))) {
            cJSON_Delete(*last);
            *last = j;
        } else {
            cJSON_Delete(j);
        }
    }
    CHECK(done);
    free(r.body);
    return out;
}

