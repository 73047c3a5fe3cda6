// The offloaded optimizer's copy pipeline (train/fsdp.c adamw_offload) on a backend whose copies
// really are asynchronous: a "lagging" CPU backend that, like a CUDA stream, performs a copy into
// or out of its page-locked buffers only when someone waits for it (a fence, synchronize, a
// synchronous copy_d2h), in the order the copies were enqueued. If the pipeline read a staging
// buffer before its copy is known to be done, or overwrote one a pending copy still reads, the
// result would differ from the plain CPU backend's, whose copies finish when they return. Three
// training steps (forward, backward, norm, clipped AdamW) on the tiny model, tied and untied,
// fp32 and bf16 acts: master weights and AdamW moments bit-identical. A lagging backend whose
// fence_wait is a no-op must differ (the test can fail). Usage: test_train_offload_async WORK_DIR
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "fsdp.h"
#include "packed.h"
#include "s1c_mpi.h"

// ---- the lagging backend -------------------------------------------------------------------
enum { MAX_PENDING = 4096, MAX_PINNED = 8 };
typedef struct {
    void *dst;
    const void *src;
    size_t n;
} pending_copy;

static struct {
    s1c_backend *inner;  // the CPU backend whose ops do the work
    pending_copy q[MAX_PENDING];
    int n_q, done;       // enqueued, performed (a prefix of q)
    int fence_at[S1C_BACKEND_FENCES];
    void *pinned[MAX_PINNED];
    size_t pinned_n[MAX_PINNED];
    int broken_fences;   // the mutation: fence_wait performs nothing
    long deferred;       // copies that did wait (the pipeline must have used the queue)
} L;

static void flush_to(int upto) {
    for (; L.done < upto; L.done++) memcpy(L.q[L.done].dst, L.q[L.done].src, L.q[L.done].n);
}
static void flush_all(void) {
    flush_to(L.n_q);
    L.n_q = L.done = 0;
    for (int k = 0; k < S1C_BACKEND_FENCES; k++) L.fence_at[k] = 0;
}
static void enqueue(void *dst, const void *src, size_t n) {
    if (L.n_q == MAX_PENDING) flush_all();
    L.q[L.n_q++] = (pending_copy){dst, src, n};
    L.deferred++;
}
static int in_pinned(const void *p) {
    for (int i = 0; i < MAX_PINNED; i++)
        if (L.pinned[i] && (const char *)p >= (char *)L.pinned[i] && (const char *)p < (char *)L.pinned[i] + L.pinned_n[i])
            return 1;
    return 0;
}
static void *lag_host_alloc(s1c_backend *be, size_t n) {
    (void)be;
    for (int i = 0; i < MAX_PINNED; i++)
        if (!L.pinned[i]) {
            L.pinned[i] = malloc(n ? n : 1);
            L.pinned_n[i] = n;
            return L.pinned[i];
        }
    s1c_err("lagging backend: too many page-locked buffers");
    return NULL;
}
static void lag_host_free(s1c_backend *be, void *p) {
    (void)be;
    flush_all();
    for (int i = 0; i < MAX_PINNED; i++)
        if (L.pinned[i] == p) L.pinned[i] = NULL;
    free(p);
}
static void lag_copy_d2h_async(s1c_backend *be, void *dst, const void *src, size_t n) {
    (void)be;
    enqueue(dst, src, n);
}
// Like cudaMemcpyAsync: from page-locked memory the copy reads its source later; from pageable
// memory it has consumed the source when it returns.
static void lag_copy_h2d(s1c_backend *be, void *dst, const void *src, size_t n) {
    if (in_pinned(src)) enqueue(dst, src, n);
    else {
        flush_all();
        L.inner->copy_h2d(be, dst, src, n);
    }
}
static void lag_copy_d2h(s1c_backend *be, void *dst, const void *src, size_t n) {
    flush_all();
    L.inner->copy_d2h(be, dst, src, n);
}
static void lag_fence_record(s1c_backend *be, int k) {
    (void)be;
    L.fence_at[k] = L.n_q;
}
static void lag_fence_wait(s1c_backend *be, int k) {
    (void)be;
    if (!L.broken_fences) flush_to(L.fence_at[k]);
}
static void lag_synchronize(s1c_backend *be) {
    flush_all();
    L.inner->synchronize(be);
}

static s1c_backend *lagging_create(const char *inner_name) {
    memset(&L, 0, sizeof L);
    L.inner = s1c_backend_create(inner_name, 0);
    if (!L.inner) return NULL;
    s1c_backend *be = malloc(sizeof *be);
    *be = *L.inner;  // every other op is the CPU backend's (they read be->impl, shared)
    be->host_alloc = lag_host_alloc;
    be->host_free = lag_host_free;
    be->copy_d2h_async = lag_copy_d2h_async;
    be->copy_h2d = lag_copy_h2d;
    be->copy_d2h = lag_copy_d2h;
    be->fence_record = lag_fence_record;
    be->fence_wait = lag_fence_wait;
    be->synchronize = lag_synchronize;
    return be;
}
static void lagging_destroy(s1c_backend *be) {
    flush_all();
    free(be);
    s1c_backend_destroy(L.inner);
}

// ---- three offloaded steps (fixture.h fx_train_steps) ----------------------------------------
enum { G = 2, STEPS = 3 };

int main(int argc, char **argv) {
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK || argc != 2) {
        fprintf(stderr, "usage: test_train_offload_async WORK_DIR\n");
        return 2;
    }
    check_set_rank(d.rank);
    s1c_comm *c = s1c_comm_create(&d, "mpi");
    CHECK(c != NULL, "%s", s1c_err_msg());
    int32_t *ids[G];
    uint8_t *mask[G];
    int len[G] = {23, 17};
    for (int k = 0; k < G; k++) {
        ids[k] = malloc((size_t)len[k] * sizeof(int32_t));
        mask[k] = malloc((size_t)len[k]);
        for (int t = 0; t < len[k]; t++) {
            ids[k][t] = (int32_t)((t * 7 + k * 13 + 3) % 64);
            mask[k][t] = t >= 5;
        }
    }
    const char *acts[2] = {"cpu", "cpu-bf16"};
    for (int tied = 0; tied < 2; tied++) {
        char mdir[600], path[700];
        snprintf(mdir, sizeof mdir, "%s/model-%d", argv[1], tied);
        if (d.rank == 0) OK(fx_write_model(mdir, tied, 11u + (unsigned)tied));
        c->barrier(c);
        snprintf(path, sizeof path, "%s/config.json", mdir);
        s1c_qwen2_config cfg;
        OK(s1c_qwen2_config_load(path, &cfg));
        for (int a = 0; a < 2; a++) {
            s1c_backend *plain = s1c_backend_create(acts[a], 0);
            size_t n_ref = 0, n_lag = 0, n_bad = 0;
            float *ref = fx_train_steps(plain, c, mdir, &cfg, ids, mask, len, STEPS, 1, NULL, NULL, &n_ref);
            s1c_backend_destroy(plain);
            s1c_backend *lag = lagging_create(acts[a]);
            float *got = fx_train_steps(lag, c, mdir, &cfg, ids, mask, len, STEPS, 1, NULL, NULL, &n_lag);
            const long deferred = L.deferred;
            lagging_destroy(lag);
            lag = lagging_create(acts[a]);
            L.broken_fences = 1;
            float *bad = fx_train_steps(lag, c, mdir, &cfg, ids, mask, len, STEPS, 1, NULL, NULL, &n_bad);
            lagging_destroy(lag);
            CHECK(n_ref == n_lag && n_ref == n_bad && n_ref > 0, "sizes");
            CHECK(deferred >= 2L * STEPS * 4, "the pipeline deferred only %ld copies", deferred);
            CHECK(!memcmp(ref, got, n_ref * sizeof(float)), "tied %d %s: the pipelined step differs from the plain one",
                  tied, acts[a]);
            CHECK(memcmp(ref, bad, n_ref * sizeof(float)) != 0,
                  "tied %d %s: ignoring the fences gave the same result (the test cannot see a hazard)", tied, acts[a]);
            if (d.rank == 0)
                printf("tied %d, %s acts: %d steps through %ld deferred copies == plain backend (bit for bit); "
                       "no fences: differs\n", tied, acts[a], STEPS, deferred);
            free(ref);
            free(got);
            free(bad);
        }
    }
    for (int k = 0; k < G; k++) {
        free(ids[k]);
        free(mask[k]);
    }
    int32_t fails = check_failures;
    c->all_reduce(c, &fails, 1, S1C_COMM_I32, S1C_RED_SUM);
    s1c_comm_destroy(c);
    s1c_dist_finalize(&d);
    return fails ? 1 : 0;
}
