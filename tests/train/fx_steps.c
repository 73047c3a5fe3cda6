// fx_steps.c — fx_train_steps (fixture.h): a few engine steps for the tests that compare runs.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "fsdp.h"
#include "packed.h"
#include "s1c_mpi.h"

float *fx_train_steps(s1c_backend *be, s1c_comm *c, const char *mdir, const s1c_qwen2_config *cfg,
                      int32_t *const *ids, uint8_t *const *mask, const int *len, int steps, int offload,
                      double *losses, int *pinned, size_t *n_out) {
    enum { G = 2 };
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(cfg);
    float **units = calloc((size_t)lay->n_units, sizeof(float *));
    OK(s1c_qwen2_weights_load(mdir, cfg, lay, units));
    const s1c_fsdp_opts o = {.max_T = len[0] > len[1] ? len[0] : len[1], .offload_optimizer = offload};
    s1c_fsdp *f = s1c_fsdp_create_opts(be, c, cfg, &o);
    CHECK(f != NULL, "fsdp: %s", s1c_err_msg());
    if (!f) exit(1);
    if (pinned) *pinned = s1c_fsdp_offload_pinned(f);
    OK(s1c_fsdp_set_weights(f, units, 0));
    s1c_batch *mb[G];
    for (int k = 0; k < G; k++) {
        mb[k] = calloc(1, sizeof(s1c_batch));
        OK(s1c_batch_create(be, mb[k], 1, (const int32_t *const *)&ids[k], (const uint8_t *const *)&mask[k], &len[k],
                            S1C_LOSS_SEQ_MEAN, (double)G));
    }
    for (int step = 1; step <= steps; step++) {
        double loss = 0, norm = 0;
        s1c_fsdp_zero_grad(f);
        OK(s1c_fsdp_forward_backward(f, mb, G, &loss));
        if (losses) losses[step - 1] = loss;
        OK(s1c_fsdp_grad_norm(f, &norm));
        const float clip = (float)fmin(1.0, 0.5 / (norm + 1e-6));
        s1c_fsdp_adamw(f, 3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, clip, step);
    }
    size_t n = 0;
    for (int u = 0; u < lay->n_units; u++) n += 2 * s1c_fsdp_unit_at(f, u)->g.shard;
    float *out = malloc(n * sizeof(float)), *w = out;
    for (int u = 0; u < lay->n_units; u++) {  // master and m where they live (device or host)
        const s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        s1c_fsdp_copy_d2h(f, w, x->master, x->g.shard);
        s1c_fsdp_copy_d2h(f, w + x->g.shard, x->m, x->g.shard);
        w += 2 * x->g.shard;
    }
    *n_out = n;
    for (int k = 0; k < G; k++) {
        s1c_batch_free(be, mb[k]);
        free(mb[k]);
    }
    s1c_fsdp_free(f);
    for (int u = 0; u < lay->n_units; u++) free(units[u]);
    free(units);
    s1c_qwen2_layout_free(lay);
    return out;
}
