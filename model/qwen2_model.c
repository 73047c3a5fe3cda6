// qwen2_model.c — the whole model in one process: load onto a backend, gradients, forward/backward.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2_internal.h"

void s1c_qwen2_model_free(s1c_qwen2_model *m) {
    if (!m) return;
    int n = m->layout ? m->layout->n_units : 0;
    for (int u = 0; u < n; u++) {
        if (m->params && m->params[u]) m->be->free(m->be, m->params[u]);
        if (m->grads && m->grads[u]) m->be->free(m->be, m->grads[u]);
    }
    for (int u = 0; m->vecs && u < n; u++)
        if (m->vecs[u]) m->be->free(m->be, m->vecs[u]);
    free(m->params);
    free(m->grads);
    free(m->vecs);
    s1c_qwen2_layout_free(m->layout);
    memset(m, 0, sizeof(*m));
}

// Host fp32 unit → backend act-dtype buffer (through an fp32 staging buffer when the backend's
// memory is not the host's or its act dtype is not fp32).
static s1c_status upload(s1c_backend *be, void *dst, const float *src, size_t n) {
    if (be->act_dtype == S1C_F32) {
        be->copy_h2d(be, dst, src, n * sizeof(float));
        return S1C_OK;
    }
    float *tmp = be->alloc(be, n * sizeof(float));
    if (!tmp) return S1C_ERR;
    be->copy_h2d(be, tmp, src, n * sizeof(float));
    be->f32_to_act(be, dst, tmp, n);
    be->synchronize(be);
    be->free(be, tmp);
    return S1C_OK;
}

// What both loaders start with: m zeroed, DIR/config.json read, this rank's shard planned and its
// unit layout built (the whole model's without TP).
static s1c_status model_begin(s1c_backend *be, const char *dir, const s1c_tp_group *g, s1c_qwen2_model *m) {
    memset(m, 0, sizeof(*m));
    m->be = be;
    size_t plen = strlen(dir) + 16;
    char *cpath = s1c_xmalloc(plen);
    snprintf(cpath, plen, "%s/config.json", dir);
    s1c_status st = s1c_qwen2_config_load(cpath, &m->cfg);
    free(cpath);
    S1C_TRY(st);
    if ((st = s1c_qwen2_tp_plan(&m->cfg, g ? g->rank : 0, g ? g->size : 1, &m->tp, &m->shard)) != S1C_OK)
        return s1c_err_prefix("%s/config.json", dir);
    m->group = g && g->size > 1 ? g : NULL;
    m->layout = s1c_qwen2_layout_create(&m->shard);
    return S1C_OK;
}

// Unit 0 of a shard has one more row, zero, past its vocabulary rows: the embedding of a token
// another rank holds (the group's sum then gives the token's row from the rank that has it).
static size_t unit_alloc_numel(const s1c_qwen2_model *m, int u) {
    return m->layout->units[u].numel + (u == 0 && m->tp.size > 1 ? (size_t)m->cfg.hidden_size : 0);
}

// Unit u of the model from the checkpoint, tensor by tensor (the host holds one tensor's slice
// at a time): params[u] in act dtype, or bf16 with its 1-D tensors widened into vecs[u].
static s1c_status load_unit(s1c_backend *be, const s1c_qwen2_ckpt *ck, const s1c_qwen2_layout *glay, int u,
                            int bf16, s1c_qwen2_model *m) {
    const s1c_unit_desc *ud = &m->layout->units[u];
    const size_t wsz = bf16 ? sizeof(uint16_t) : s1c_dtype_size(be->act_dtype), numel = unit_alloc_numel(m, u);
    if (!(m->params[u] = be->alloc(be, numel * wsz + 2))) return S1C_ERR;
    if (numel > ud->numel) be->memset_zero(be, (char *)m->params[u] + ud->numel * wsz, (numel - ud->numel) * wsz);
    size_t nv = 0, big = 0;
    for (int p = 0; p < ud->n_params; p++) {
        nv += ud->params[p].ndim == 1 ? ud->params[p].numel : 0;
        if (ud->params[p].numel > big) big = ud->params[p].numel;
    }
    void *h = s1c_xmalloc(big * (bf16 ? sizeof(uint16_t) : sizeof(float)) + 4);
    float *vec = bf16 && nv ? s1c_xmalloc(nv * sizeof(float)) : NULL;
    s1c_status st = S1C_OK;
    size_t at = 0;
    for (int p = 0; p < ud->n_params && st == S1C_OK; p++) {
        const s1c_param_desc *pd = &ud->params[p];
        st = s1c_qwen2_tp_read_param(ck, &m->cfg, glay, &m->tp, u, p, pd, h, bf16);
        if (st != S1C_OK) break;
        if (bf16) {
            be->copy_h2d(be, (uint16_t *)m->params[u] + pd->offset, h, pd->numel * sizeof(uint16_t));
            if (pd->ndim == 1) {
                st = s1c_qwen2_tp_read_param(ck, &m->cfg, glay, &m->tp, u, p, pd, vec + at, 0);
                at += pd->numel;
            }
        } else {
            st = upload(be, (char *)m->params[u] + pd->offset * wsz, h, pd->numel);
        }
    }
    if (st == S1C_OK && vec) {
        if (!(m->vecs[u] = be->alloc(be, nv * sizeof(float)))) st = S1C_ERR;
        else be->copy_h2d(be, m->vecs[u], vec, nv * sizeof(float));
    }
    free(vec);
    free(h);
    return st;
}

// The loaders' common part after model_begin: the checkpoint opened against the whole model's
// layout, every unit of this rank read (bf16 = 1: bf16 matrices + fp32 vecs; -1: "auto", bf16
// when every matrix is stored BF16, else fp32).
static s1c_status load_units(s1c_backend *be, const char *dir, int bf16, s1c_qwen2_model *m) {
    s1c_qwen2_layout *glay = m->tp.size > 1 ? s1c_qwen2_layout_create(&m->cfg) : m->layout;
    s1c_qwen2_ckpt *ck = NULL;
    s1c_status st = s1c_qwen2_ckpt_open(dir, &m->cfg, glay, &ck);
    if (st == S1C_OK) {
        if (bf16 < 0) bf16 = s1c_qwen2_ckpt_matrices_bf16(ck);
        const int n = m->layout->n_units;
        m->weight_dtype = bf16 ? S1C_BF16 : S1C_F32;
        m->params = s1c_xcalloc((size_t)n, sizeof(void *));
        if (bf16) m->vecs = s1c_xcalloc((size_t)n, sizeof(float *));
        for (int u = 0; u < n && st == S1C_OK; u++)
            if ((st = load_unit(be, ck, glay, u, bf16, m)) != S1C_OK) s1c_err_prefix("%s: unit %d", dir, u);
        s1c_qwen2_ckpt_close(ck);
    }
    if (glay != m->layout) s1c_qwen2_layout_free(glay);
    if (st != S1C_OK) s1c_qwen2_model_free(m);
    return st;
}

s1c_status s1c_qwen2_model_load(s1c_backend *be, const char *dir, s1c_qwen2_model *m) {
    S1C_TRY(model_begin(be, dir, NULL, m));
    return load_units(be, dir, 0, m);
}

s1c_qwen2_vec_offsets s1c_qwen2_block_vec_offsets(const s1c_qwen2_config *c) {
    const size_t C = (size_t)c->hidden_size;
    const size_t QKV = (size_t)(c->num_attention_heads + 2 * c->num_key_value_heads) * (size_t)c->head_dim;
    return (s1c_qwen2_vec_offsets){.ln1 = 0, .qkv_b = C, .ln2 = C + QKV, .numel = 2 * C + QKV};
}

s1c_status s1c_qwen2_model_load_tp(s1c_backend *be, const char *dir, const char *wd, const s1c_tp_group *g,
                                   s1c_qwen2_model *m) {
    const int want_bf16 = !strcmp(wd, "bf16"), want_auto = !strcmp(wd, "auto");
    if (!want_bf16 && !want_auto && strcmp(wd, "fp32"))
        return s1c_err("weights dtype '%s': expected bf16, fp32 or auto", wd);
    const int can = be->act_dtype == S1C_F32 && be->matmul_wbf16 && be->embedding_wbf16;
    // bf16 acts: the ordinary load already keeps bf16 weights; fp32 asked or nothing to gain: fp32.
    const int mode = be->act_dtype != S1C_F32 || !strcmp(wd, "fp32") ? 0 : want_bf16 ? 1 : can ? -1 : 0;
    if (want_bf16 && be->act_dtype == S1C_F32 && !can)
        return s1c_err("backend '%s': no bf16-weight matmul (--weights-dtype fp32)", be->name);
    S1C_TRY(model_begin(be, dir, g, m));
    return load_units(be, dir, mode, m);
}

s1c_status s1c_qwen2_model_load_weights(s1c_backend *be, const char *dir, const char *wd, s1c_qwen2_model *m) {
    return s1c_qwen2_model_load_tp(be, dir, wd, NULL, m);
}

size_t s1c_qwen2_model_weight_bytes(const s1c_qwen2_model *m) {
    size_t b = 0;
    const size_t wsz = m->weight_dtype == S1C_BF16 ? 2 : s1c_dtype_size(m->be->act_dtype);
    for (int u = 0; u < m->layout->n_units; u++) {
        const s1c_unit_desc *ud = &m->layout->units[u];
        b += unit_alloc_numel(m, u) * wsz;
        for (int p = 0; m->vecs && p < ud->n_params; p++)
            b += ud->params[p].ndim == 1 ? ud->params[p].numel * sizeof(float) : 0;
    }
    return b;
}

s1c_status s1c_qwen2_model_alloc_grads(s1c_qwen2_model *m) {
    if (m->tp.size > 1) return s1c_err("a tensor-parallel shard is for inference only");
    if (m->weight_dtype == S1C_BF16)
        return s1c_err("a model loaded with bf16 weights is for inference only (training keeps fp32 masters)");
    if (m->grads) return S1C_OK;
    const int n = m->layout->n_units;
    m->grads = s1c_xcalloc((size_t)n, sizeof(float *));
    for (int u = 0; u < n; u++) {
        m->grads[u] = m->be->alloc(m->be, m->layout->units[u].numel * sizeof(float) + 1);
        if (!m->grads[u]) return s1c_err_prefix("gradients of unit %d", u);
    }
    s1c_qwen2_model_zero_grads(m);
    return S1C_OK;
}

void s1c_qwen2_model_zero_grads(s1c_qwen2_model *m) {
    if (!m->grads) return;
    for (int u = 0; u < m->layout->n_units; u++)
        m->be->memset_zero(m->be, m->grads[u], m->layout->units[u].numel * sizeof(float));
}

const void *s1c_qwen2_lm_weight(const s1c_qwen2_model *m) {
    if (m->cfg.tie_word_embeddings) return m->params[0];
    const void *head = m->params[s1c_qwen2_unit_head(&m->cfg)];
    const size_t wsz = m->weight_dtype == S1C_BF16 ? sizeof(uint16_t) : s1c_dtype_size(m->be->act_dtype);
    return (const char *)head + (size_t)m->cfg.hidden_size * wsz;
}

float *s1c_qwen2_lm_grad(const s1c_qwen2_model *m) {
    if (!m->grads) return NULL;
    if (m->cfg.tie_word_embeddings) return m->grads[0];
    return m->grads[s1c_qwen2_unit_head(&m->cfg)] + m->cfg.hidden_size;
}

float s1c_qwen2_forward_backward(s1c_qwen2_model *m, s1c_qwen2_acts *a, const s1c_batch *b, int backward) {
    S1C_ASSERT(m->weight_dtype != S1C_BF16 || m->be->act_dtype != S1C_F32);  // bf16-weight models: decode only
    s1c_backend *be = m->be;
    const s1c_qwen2_config *cfg = &m->cfg;
    const int L = cfg->num_hidden_layers, head = s1c_qwen2_unit_head(cfg);
    const int bwd = backward && m->grads;
    be->memset_zero(be, a->loss, sizeof(float));
    s1c_qwen2_embed_fwd(be, cfg, a, m->params[0], b);
    for (int l = 0; l < L; l++) s1c_qwen2_block_fwd(be, cfg, a, l, m->params[s1c_qwen2_unit_block(l)], b);
    s1c_qwen2_head_fwd(be, cfg, a, m->params[head], s1c_qwen2_lm_weight(m), b, a->loss, bwd ? m->grads[head] : NULL,
                       bwd ? s1c_qwen2_lm_grad(m) : NULL);
    if (bwd) {
        for (int l = L - 1; l >= 0; l--)
            s1c_qwen2_block_bwd(be, cfg, a, l, m->params[s1c_qwen2_unit_block(l)], m->grads[s1c_qwen2_unit_block(l)], b);
        s1c_qwen2_embed_bwd(be, cfg, a, m->grads[0], b);
    }
    float loss = 0.0f;
    be->copy_d2h(be, &loss, a->loss, sizeof(float));
    return loss;
}
