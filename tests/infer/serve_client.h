// serve_client.h — a minimal HTTP/1.0 client over loopback for the `s1c-infer serve` tests
// (test_serve, test_serve_tp): plain sockets, one connection per request, the server closes.
#ifndef S1C_TEST_SERVE_CLIENT_H
#define S1C_TEST_SERVE_CLIENT_H

#include <cjson/cJSON.h>

typedef struct {
    int status;
    char *body;  // after the headers (malloc'ed)
} reply;

int dial(int port);  // connects to 127.0.0.1:port (60 s receive timeout); exits on failure
void send_request(int fd, const char *method, const char *path, const char *body, const char *key);
reply read_reply(int fd);  // reads to EOF and closes fd
reply http(int port, const char *method, const char *path, const char *body, const char *key);
// POST, the status must be want_status; the parsed body.
cJSON *post_json(int port, const char *path, const char *body, int want_status);
const cJSON *path_get(const cJSON *j, const char *a, const char *b);
const cJSON *choice(const cJSON *resp, int k);
const char *choice_text(const cJSON *resp, int k);  // "text" or message.content
int health_num(int port, const char *field);       // a number of GET /health
void wait_idle(int port);  // until nothing runs and every KV block is free (20 s, else exits)
// A streamed request: the concatenated deltas (malloc'ed), the number of content chunks, and the
// last choice chunk (its finish_reason and thinking).
char *stream(int port, const char *path, const char *body, int *n_chunks, cJSON **last);

#endif
