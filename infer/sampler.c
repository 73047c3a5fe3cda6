// sampler.c — see sampler.h.
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

#include "s1c_err.h"

void s1c_sample_ws_init(s1c_sample_ws *ws, int V) {
    ws->cap = V;
    ws->idx = s1c_xmalloc((size_t)V * sizeof *ws->idx);
    ws->prob = s1c_xmalloc((size_t)V * sizeof *ws->prob);
}

void s1c_sample_ws_free(s1c_sample_ws *ws) {
    free(ws->idx);
    free(ws->prob);
    ws->idx = NULL;
    ws->prob = NULL;
    ws->cap = 0;
}

static int is_banned(int id, const int32_t *banned, int n_banned) {
    for (int i = 0; i < n_banned; i++)
        if (banned[i] == id) return 1;
    return 0;
}

int s1c_argmax(const float *logits, int V) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

// Orders candidates by probability, descending; ties by id so the order is deterministic.
static int cmp_desc(const void *a, const void *b, void *ctx) {
    const float *p = ctx;
    int32_t ia = *(const int32_t *)a, ib = *(const int32_t *)b;
    if (p[ia] > p[ib]) return -1;
    if (p[ia] < p[ib]) return 1;
    return (ia > ib) - (ia < ib);
}

int s1c_sample(const float *logits, int V, const s1c_sampling *sp, s1c_rng *rng, s1c_sample_ws *ws,
               const int32_t *banned, int n_banned) {
    S1C_ASSERT(ws->cap >= V && V > 0);
    if (sp->temperature <= 0.0f) {
        // The rule of the backends' argmax_rows (kernels/ops.h), which the engine uses instead
        // when a step is all greedy: lowest id on ties, NaN never wins, 0 when nothing is left.
        int best = -1;
        for (int i = 0; i < V; i++) {
            if (isnan(logits[i]) || (n_banned && is_banned(i, banned, n_banned))) continue;
            if (best < 0 || logits[i] > logits[best]) best = i;
        }
        return best < 0 ? 0 : best;
    }
    // Softmax at temperature over the allowed ids (probabilities indexed by id in ws->prob).
    float mx = -INFINITY;
    for (int i = 0; i < V; i++)
        if (!(n_banned && is_banned(i, banned, n_banned)) && logits[i] > mx) mx = logits[i];
    if (mx == -INFINITY) return 0;
    float inv_t = 1.0f / sp->temperature;
    double sum = 0.0;
    int n = 0;
    for (int i = 0; i < V; i++) {
        float p = 0.0f;
        if (!(n_banned && is_banned(i, banned, n_banned))) p = expf((logits[i] - mx) * inv_t);
        ws->prob[i] = p;
        sum += p;
        if (p > 0.0f) ws->idx[n++] = i;
    }
    int use_k = sp->top_k > 0 && sp->top_k < n;
    int use_p = sp->top_p > 0.0f && sp->top_p < 1.0f;
    if (use_k || use_p) {
        // Only the head of the order matters: keep the candidates above a threshold that is
        // lowered (x1/16 each pass) until they hold at least top_k ids and top_p of the mass;
        // the truncated set lies inside them, so sorting them alone (qsort_r: reentrant
        // comparator, ties by id) gives the same result as sorting all V at a fraction of the cost.
        float pmax = 0.0f;
        for (int j = 0; j < n; j++)
            if (ws->prob[ws->idx[j]] > pmax) pmax = ws->prob[ws->idx[j]];
        const double need_mass = use_p ? sp->top_p * sum : 0.0;
        const int need_k = use_k ? sp->top_k : 1;
        for (float thr = pmax / 16.0f; thr > 0.0f; thr /= 16.0f) {
            int m = 0;
            double mass = 0.0;
            for (int j = 0; j < n; j++) {
                float p = ws->prob[ws->idx[j]];
                if (p >= thr) {
                    m++;
                    mass += p;
                }
            }
            if (m >= need_k && mass >= need_mass) {
                int w = 0;
                for (int j = 0; j < n; j++)
                    if (ws->prob[ws->idx[j]] >= thr) ws->idx[w++] = ws->idx[j];
                n = w;
                break;
            }
            if (m == n) break;  // everything is in already
        }
        qsort_r(ws->idx, (size_t)n, sizeof *ws->idx, cmp_desc, ws->prob);
        if (use_k) n = sp->top_k;
        double kept = 0.0;
        for (int j = 0; j < n; j++) kept += ws->prob[ws->idx[j]];
        if (use_p) {
            // Smallest prefix whose mass (renormalised over the top-k set) reaches top_p.
            double acc = 0.0, target = sp->top_p * kept;
            int m = 0;
            while (m < n) {
                acc += ws->prob[ws->idx[m++]];
                if (acc >= target) break;
            }
            n = m;
            kept = acc;
        }
        sum = kept;
    }
    double u = s1c_rng_uniform(rng) * sum, acc = 0.0;
    for (int j = 0; j < n; j++) {
        acc += ws->prob[ws->idx[j]];
        if (u < acc) return ws->idx[j];
    }
    return ws->idx[n - 1];
}
