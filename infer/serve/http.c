// http.c — the HTTP side (libmicrohttpd, one thread per connection): routing, the API key,
// body limits, and waiting for a job while watching the client's socket, so that a client that
// disconnects (mid-stream or while its completion is computed) cancels its job and frees its
// sequences and KV blocks.
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "serve_internal.h"

#define WATCH_MS 50  // how often a waiting connection looks at its socket

typedef struct {
    char *body;
    size_t len, cap;
    int too_large;
} upload;

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, char *json) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg, const char *type,
                                  const char *param) {
    return send_json(c, status, sv_error_body(msg, type, param));
}

// Constant time in the key's contents: every byte of the longer string is looked at.
static int key_matches(const char *given, const char *key) {
    const size_t a = strlen(given), b = strlen(key), n = a > b ? a : b;
    unsigned char diff = (unsigned char)(a != b);
    for (size_t i = 0; i < n; i++) {
        const unsigned char x = i < a ? (unsigned char)given[i] : 0, y = i < b ? (unsigned char)key[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

static int authorized(const s1c_server *s, struct MHD_Connection *c) {
    if (!s->o.api_key) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7)) return 0;
    return key_matches(h + 7, s->o.api_key);
}

// 0 once the peer has closed (or reset) the connection.
static int client_alive(int fd) {
    if (fd < 0) return 1;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return 1;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return 0;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return !(n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR));
}

static int conn_fd(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static void deadline_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_nsec += (long)ms * 1000000L;
    ts->tv_sec += ts->tv_nsec / 1000000000L;
    ts->tv_nsec %= 1000000000L;
}

// ---- streaming ----
typedef struct {
    s1c_server *s;
    sv_job *j;
    int fd;
    char *out;
    size_t len, cap, off;
    int ended;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    stream_ctx *sc = cls;
    s1c_server *s = sc->s;
    while (sc->off == sc->len) {
        if (sc->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        sc->off = sc->len = 0;
        pthread_mutex_lock(&s->mu);
        sc->ended = sv_stream_step(s, sc->j, &sc->out, &sc->len, &sc->cap);
        if (sc->len == 0 && !sc->ended) {
            struct timespec ts;
            deadline_in(&ts, WATCH_MS);
            pthread_cond_timedwait(&sc->j->cv, &s->mu, &ts);
        }
        const int stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (sc->len == 0 && !sc->ended && (stopping || !client_alive(sc->fd)))
            return MHD_CONTENT_READER_END_WITH_ERROR;  // stream_free cancels the job
    }
    size_t n = sc->len - sc->off < max ? sc->len - sc->off : max;
    memcpy(buf, sc->out + sc->off, n);
    sc->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    stream_ctx *sc = cls;
    sv_job_release(sc->s, sc->j);
    free(sc->out);
    free(sc);
}

static enum MHD_Result start_stream(s1c_server *s, struct MHD_Connection *c, sv_job *j) {
    stream_ctx *sc = s1c_xcalloc(1, sizeof *sc);
    sc->s = s;
    sc->j = j;
    sc->fd = conn_fd(c);
    sv_job_enqueue(s, j);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, sc, stream_free);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

// ---- one completion, not streamed: wait for it here (this connection's own thread) ----
static enum MHD_Result run_blocking(s1c_server *s, struct MHD_Connection *c, sv_job *j) {
    const int fd = conn_fd(c);
    sv_job_enqueue(s, j);
    pthread_mutex_lock(&s->mu);
    while (j->n_done < j->n_prompts * j->n) {
        struct timespec ts;
        deadline_in(&ts, WATCH_MS);
        pthread_cond_timedwait(&j->cv, &s->mu, &ts);
        if (j->n_done == j->n_prompts * j->n) break;
        pthread_mutex_unlock(&s->mu);
        const int alive = client_alive(fd);
        pthread_mutex_lock(&s->mu);
        if (!alive || s->stopping) {
            pthread_mutex_unlock(&s->mu);
            sv_job_release(s, j);
            return MHD_NO;  // closes the connection
        }
    }
    // A refused sample (a request larger than the KV cache) makes the whole request a 400.
    const char *refused = NULL;
    for (int k = 0; k < j->n_prompts * j->n && !refused; k++) refused = j->s[k].error;
    char *body = refused ? sv_error_body(refused, "invalid_request_error", NULL) : sv_response_json(s, j);
    pthread_mutex_unlock(&s->mu);
    sv_job_release(s, j);
    return send_json(c, refused ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_OK, body);
}

static enum MHD_Result health(s1c_server *s, struct MHD_Connection *c) {
    cJSON *r = cJSON_CreateObject();
    pthread_mutex_lock(&s->mu);
    cJSON_AddStringToObject(r, "status", "ok");
    cJSON_AddNumberToObject(r, "kv_free_blocks", s->kv_free);
    cJSON_AddNumberToObject(r, "kv_total_blocks", s->kv_total);
    cJSON_AddNumberToObject(r, "running", s->running);
    cJSON_AddNumberToObject(r, "waiting", s->n_waiting);
    cJSON_AddNumberToObject(r, "requests_served", (double)s->served);
    cJSON_AddNumberToObject(r, "tokens_generated", (double)s->tokens_out);
    cJSON_AddNumberToObject(r, "engine_steps", (double)s->steps);
    cJSON_AddNumberToObject(r, "prefix_hit_tokens", (double)s->prefix_hits);
    pthread_mutex_unlock(&s->mu);
    char *js = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return send_json(c, MHD_HTTP_OK, js);
}

static enum MHD_Result models(s1c_server *s, struct MHD_Connection *c) {
    cJSON *r = cJSON_CreateObject(), *data = cJSON_CreateArray(), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "object", "list");
    cJSON_AddStringToObject(m, "id", s->model_name);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", 0);
    cJSON_AddStringToObject(m, "owned_by", "s1c");
    cJSON_AddNumberToObject(m, "max_model_len", s->max_context);
    cJSON_AddItemToArray(data, m);
    cJSON_AddItemToObject(r, "data", data);
    char *js = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return send_json(c, MHD_HTTP_OK, js);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **con_cls) {
    s1c_server *s = cls;
    const int post = !strcmp(method, MHD_HTTP_METHOD_POST);
    if (!*con_cls) {  // first call: headers only
        upload *u = s1c_xcalloc(1, sizeof *u);
        *con_cls = u;
        if (post) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > s->o.max_body) u->too_large = 1;
            else return MHD_YES;
        } else {
            return MHD_YES;
        }
    }
    upload *u = *con_cls;
    if (*data_size) {  // more of the body
        if (u->len + *data_size > s->o.max_body) u->too_large = 1;
        if (!u->too_large) {
            if (u->len + *data_size + 1 > u->cap) {
                u->cap = 2 * (u->len + *data_size + 1);
                u->body = s1c_xrealloc(u->body, u->cap);
            }
            memcpy(u->body + u->len, data, *data_size);
            u->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (u->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body exceeds the limit of %zu bytes (--max-body)", s->o.max_body);
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, msg, "invalid_request_error", NULL);
    }
    if (!strcmp(url, "/health")) {
        if (strcmp(method, MHD_HTTP_METHOD_GET)) return send_error(c, 405, "use GET", "invalid_request_error", NULL);
        return health(s, c);
    }
    const int is_models = !strcmp(url, "/v1/models"), is_cmpl = !strcmp(url, "/v1/completions"),
              is_chat = !strcmp(url, "/v1/chat/completions");
    if (!is_models && !is_cmpl && !is_chat) {
        char msg[160];
        snprintf(msg, sizeof msg, "no route %.100s", url);
        return send_error(c, MHD_HTTP_NOT_FOUND, msg, "not_found_error", NULL);
    }
    if (!authorized(s, c))
        return send_error(c, MHD_HTTP_UNAUTHORIZED, "a valid API key is required (Authorization: Bearer KEY)",
                          "authentication_error", NULL);
    if (is_models) {
        if (strcmp(method, MHD_HTTP_METHOD_GET)) return send_error(c, 405, "use GET", "invalid_request_error", NULL);
        return models(s, c);
    }
    if (!post) return send_error(c, 405, "use POST", "invalid_request_error", NULL);
    int status = 0;
    char *err = NULL;
    sv_job *j = sv_request_parse(s, is_chat, u->body ? u->body : "", u->len, &status, &err);
    if (!j) return send_json(c, (unsigned)status, err);
    return j->stream ? start_stream(s, c, j) : run_blocking(s, c, j);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    upload *u = *con_cls;
    if (u) {
        free(u->body);
        free(u);
    }
    *con_cls = NULL;
}

s1c_status sv_http_start(s1c_server *s) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->o.port)};
    if (inet_pton(AF_INET, s->o.host, &addr.sin_addr) != 1)
        return s1c_err("--host '%s': expected an IPv4 address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)",
                       s->o.host);
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)s->o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!s->d) return s1c_err("cannot listen on %s:%d (%s)", s->o.host, s->o.port, strerror(errno));
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : s->o.port;
    return S1C_OK;
}

void sv_http_stop(s1c_server *s) {
    if (s->d) MHD_stop_daemon(s->d);
    s->d = NULL;
}
