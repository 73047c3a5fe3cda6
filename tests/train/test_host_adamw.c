// test_host_adamw.c — the host AdamW (train/host_adamw.c) against the backends' adamw op: the
// master, m, v and the narrowed weights must agree bit for bit over several steps, on "cpu"
// (fp32 act copy) and "cpu-bf16" (bf16 act copy), with sizes on both sides of the OpenMP cutoff.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_adamw.h"
#include "ops.h"

static int fail(const char *be, size_t n, int step, const char *what, size_t i) {
    fprintf(stderr, "FAIL: backend %s n=%zu step %d: %s differs at element %zu\n", be, n, step, what, i);
    return 1;
}

static float rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

static int check(const char *name, size_t n) {
    s1c_backend *be = s1c_backend_create(name, 0);
    if (!be) {
        fprintf(stderr, "FAIL: cannot create backend %s\n", name);
        return 1;
    }
    int bf16 = strcmp(name, "cpu-bf16") == 0;
    size_t fb = n * sizeof(float);
    float *dp = be->alloc(be, fb), *dm = be->alloc(be, fb), *dv = be->alloc(be, fb), *dg = be->alloc(be, fb);
    void *dact = be->alloc(be, bf16 ? n * 2 : fb);
    float *hp = malloc(fb), *hm = malloc(fb), *hv = malloc(fb), *hg = malloc(fb), *hf = malloc(fb);
    uint16_t *hb = malloc(n * 2);
    if (!dp || !dm || !dv || !dg || !dact || !hp || !hm || !hv || !hg || !hf || !hb) {
        fprintf(stderr, "FAIL: out of memory\n");
        return 1;
    }
    uint64_t s = 12345 + n;
    for (size_t i = 0; i < n; i++) hp[i] = rnd(&s) * 0.1f;
    memset(hm, 0, fb);
    memset(hv, 0, fb);
    memcpy(dp, hp, fb);  // CPU backends: alloc returns host memory
    memset(dm, 0, fb);
    memset(dv, 0, fb);
    int bad = 0;
    for (int step = 1; step <= 4 && !bad; step++) {
        for (size_t i = 0; i < n; i++) hg[i] = rnd(&s) * (i % 7 == 0 ? 1e-6f : 1.0f);
        hg[0] = 0.0f;  // a zero gradient: v stays 0 on the first step, denom = eps
        memcpy(dg, hg, fb);
        float lr = 1e-3f * (float)step, gs = step == 3 ? 0.5f : 1.0f;
        be->adamw(be, dp, dact, dg, dm, dv, n, lr, 0.9f, 0.95f, 1e-8f, 1e-4f, gs, step);
        s1c_host_adamw(hp, bf16 ? hb : NULL, bf16 ? NULL : hf, hg, hm, hv, n, lr, 0.9f, 0.95f, 1e-8f, 1e-4f, gs,
                       step);
        for (size_t i = 0; i < n && !bad; i++) {
            if (memcmp(&hp[i], &dp[i], 4)) bad = fail(name, n, step, "master", i);
            else if (memcmp(&hm[i], &dm[i], 4)) bad = fail(name, n, step, "m", i);
            else if (memcmp(&hv[i], &dv[i], 4)) bad = fail(name, n, step, "v", i);
            else if (bf16 && hb[i] != ((uint16_t *)dact)[i]) bad = fail(name, n, step, "bf16 weights", i);
            else if (!bf16 && memcmp(&hf[i], &((float *)dact)[i], 4)) bad = fail(name, n, step, "fp32 weights", i);
        }
    }
    be->free(be, dp);
    be->free(be, dm);
    be->free(be, dv);
    be->free(be, dg);
    be->free(be, dact);
    free(hp), free(hm), free(hv), free(hg), free(hf), free(hb);
    s1c_backend_destroy(be);
    return bad;
}

int main(void) {
    const char *names[] = {"cpu", "cpu-bf16"};
    const size_t sizes[] = {1, 37, 70001};
    int bad = 0;
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 3; k++) bad |= check(names[b], sizes[k]);
    if (!bad) printf("host_adamw: bit-identical to the backend adamw op (cpu, cpu-bf16)\n");
    return bad;
}
