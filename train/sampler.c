#include "sampler.h"

#include <stdlib.h>
#include <string.h>

#include "s1c_rng.h"  // splitmix64: small, well mixed, trivial to reproduce in any language


// Uniform in [0, bound) without modulo bias (rejection of the short top range).
static uint64_t below(uint64_t *x, uint64_t bound) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % bound;
    for (;;) {
        uint64_t r = s1c_splitmix64(x);
        if (r < lim) return r % bound;
    }
}

void s1c_sampler_permutation(uint64_t seed, int epoch, size_t n, size_t *perm) {
    uint64_t st = seed * 0xD1342543DE82EF95ull + (uint64_t)epoch * 0x2545F4914F6CDD1Dull + 1;
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n; i > 1; i--) {  // Fisher-Yates
        size_t j = (size_t)below(&st, i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

s1c_status s1c_sampler_init(s1c_sampler *s, const uint32_t *lengths, size_t n, int block_size, int global_batch,
                            int epochs, uint64_t seed) {
    memset(s, 0, sizeof *s);
    if (n == 0) return s1c_err("sampler: the dataset has no samples");
    if (global_batch < 1 || epochs < 1) return s1c_err("sampler: batch %d and epochs %d must be >= 1", global_batch, epochs);
    s->n = n;
    s->lengths = s1c_xmalloc(n * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        if (lengths[i] == 0) {
            free(s->lengths);
            s->lengths = NULL;
            return s1c_err("sampler: sample %zu is empty", i);
        }
        s->lengths[i] = lengths[i] > (uint32_t)block_size ? (uint32_t)block_size : lengths[i];
    }
    s->global_batch = global_batch;
    s->epochs = epochs;
    s->seed = seed;
    s->steps_per_epoch = (long)((n + (size_t)global_batch - 1) / (size_t)global_batch);
    s->total_steps = s->steps_per_epoch * epochs;
    s->cached_epoch = -1;
    s->perm = s1c_xmalloc(n * sizeof(size_t));
    return S1C_OK;
}

void s1c_sampler_free(s1c_sampler *s) {
    free(s->lengths);
    free(s->perm);
    memset(s, 0, sizeof *s);
}

void s1c_step_plan_free(s1c_step_plan *p) {
    free(p->count);
    free(p->sample);
    memset(p, 0, sizeof *p);
}

s1c_status s1c_sampler_step(s1c_sampler *s, long step, int world, int rank, int mb, int balance, s1c_step_plan *out) {
    memset(out, 0, sizeof *out);
    const int G = s->global_batch;
    if (step < 0 || step >= s->total_steps) return s1c_err("sampler: step %ld outside [0, %ld)", step, s->total_steps);
    if (world < 1 || rank < 0 || rank >= world || mb < 1 || G % (world * mb) != 0)
        return s1c_err("sampler: batch %d does not split over %d ranks x micro-batch %d", G, world, mb);
    const int epoch = (int)(step / s->steps_per_epoch);
    const long j = step % s->steps_per_epoch;
    if (s->cached_epoch != epoch) {
        s1c_sampler_permutation(s->seed, epoch, s->n, s->perm);
        s->cached_epoch = epoch;
    }
    const size_t first = (size_t)j * (size_t)G;
    const int g = (int)((s->n - first) < (size_t)G ? (s->n - first) : (size_t)G);
    const size_t *batch = s->perm + first;  // [g] sample ids of the step
    const int per_rank = G / world, n_micro = per_rank / mb;

    // owner[i]: rank of the step's i-th sample; slot[i]: its position within that rank's list
    int *owner = s1c_xmalloc((size_t)g * sizeof(int)), *slot = s1c_xmalloc((size_t)g * sizeof(int));
    int *filled = s1c_xcalloc((size_t)world, sizeof(int));
    long step_tokens = 0;
    double step_attn = 0;
    for (int i = 0; i < g; i++) {
        step_tokens += s->lengths[batch[i]];
        step_attn += (double)s->lengths[batch[i]] * ((double)s->lengths[batch[i]] + 1.0);
    }
    if (!balance) {
        // Spread a short batch evenly: sample i to rank i mod world keeps rank loads within one.
        for (int i = 0; i < g; i++) {
            owner[i] = i % world;
            slot[i] = filled[owner[i]]++;
        }
    } else {
        int *order = s1c_xmalloc((size_t)g * sizeof(int));
        long *load = s1c_xcalloc((size_t)world, sizeof(long));
        for (int i = 0; i < g; i++) order[i] = i;
        // insertion sort, longest first, ties by position in the batch (stable, deterministic)
        for (int a = 1; a < g; a++) {
            int v = order[a], b = a - 1;
            while (b >= 0 && s->lengths[batch[order[b]]] < s->lengths[batch[v]]) {
                order[b + 1] = order[b];
                b--;
            }
            order[b + 1] = v;
        }
        for (int k = 0; k < g; k++) {
            int i = order[k], best = -1;
            for (int r = 0; r < world; r++)
                if (filled[r] < per_rank && (best < 0 || load[r] < load[best])) best = r;
            owner[i] = best;
            slot[i] = filled[best]++;
            load[best] += s->lengths[batch[i]];
        }
        free(order);
        free(load);
    }
    out->n_micro = n_micro;
    out->micro_batch = mb;
    out->step_samples = g;
    out->epoch = epoch;
    out->step_tokens = step_tokens;
    out->step_attn = step_attn;
    out->count = s1c_xcalloc((size_t)n_micro, sizeof(int));
    out->sample = s1c_xcalloc((size_t)n_micro * (size_t)mb, sizeof(size_t));
    // This rank's list in slot order, dealt round-robin over its micro-batches (so a short list
    // still uses every micro-batch once before doubling up).
    const int mine = filled[rank];
    size_t *list = s1c_xmalloc((size_t)(mine ? mine : 1) * sizeof(size_t));
    for (int i = 0; i < g; i++)
        if (owner[i] == rank) list[slot[i]] = batch[i];
    for (int k = 0; k < mine; k++) {
        int m = k % n_micro;
        out->sample[(size_t)m * (size_t)mb + (size_t)out->count[m]++] = list[k];
    }
    free(list);
    free(owner);
    free(slot);
    free(filled);
    return S1C_OK;
}

s1c_status s1c_sampler_batch(s1c_sampler *s, long step, const size_t **ids, int *n) {
    if (step < 0 || step >= s->total_steps) return s1c_err("sampler: step %ld outside [0, %ld)", step, s->total_steps);
    const int epoch = (int)(step / s->steps_per_epoch);
    if (s->cached_epoch != epoch) {
        s1c_sampler_permutation(s->seed, epoch, s->n, s->perm);
        s->cached_epoch = epoch;
    }
    const size_t first = (size_t)(step % s->steps_per_epoch) * (size_t)s->global_batch;
    *ids = s->perm + first;
    *n = (int)((s->n - first) < (size_t)s->global_batch ? (s->n - first) : (size_t)s->global_batch);
    return S1C_OK;
}
