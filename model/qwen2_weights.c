// qwen2_weights.c — Qwen2 weights between Hugging Face safetensors checkpoints and fp32 unit buffers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2.h"
#include "s1c_bf16.h"
#include "safetensors.h"

static void shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
    size_t at = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && at < n; d++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (at < n) snprintf(buf + at, n - at, "]");
}

// Tensors a checkpoint may hold beyond the layout without changing the model.
static int harmless_extra(const s1c_qwen2_config *cfg, const char *name) {
    size_t n = strlen(name), k = strlen("rotary_emb.inv_freq");
    if (n >= k && strcmp(name + n - k, "rotary_emb.inv_freq") == 0) return 1;  // older exports keep RoPE's buffer
    return cfg->tie_word_embeddings && strcmp(name, "lm_head.weight") == 0;  // a tied copy of the embedding
}

static int layout_has(const s1c_qwen2_layout *lay, const char *name) {
    for (int u = 0; u < lay->n_units; u++)
        for (int p = 0; p < lay->units[u].n_params; p++)
            if (strcmp(lay->units[u].params[p].name, name) == 0) return 1;
    return 0;
}

struct s1c_qwen2_ckpt {
    s1c_st_set set;
    const s1c_qwen2_layout *lay;
    const s1c_st_file ***file;     // [unit][param]
    const s1c_st_tensor ***tensor; // [unit][param]
};

void s1c_qwen2_ckpt_close(s1c_qwen2_ckpt *c) {
    if (!c) return;
    for (int u = 0; c->file && u < c->lay->n_units; u++) {
        free(c->file[u]);
        free(c->tensor[u]);
    }
    free(c->file);
    free(c->tensor);
    s1c_st_set_close(&c->set);
    free(c);
}

static s1c_status validate(s1c_qwen2_ckpt *c, const s1c_qwen2_config *cfg) {
    const s1c_st_set *set = &c->set;
    const s1c_qwen2_layout *lay = c->lay;
    const char *where = set->index_path ? set->index_path : set->files[0].path;
    for (int u = 0; u < lay->n_units; u++) {
        const s1c_unit_desc *ud = &lay->units[u];
        for (int p = 0; p < ud->n_params; p++) {
            const s1c_param_desc *pd = &ud->params[p];
            char want[64], got[64];
            shape_str(want, sizeof(want), pd->ndim, pd->shape);
            const s1c_st_file *f = NULL;
            const s1c_st_tensor *t = s1c_st_set_find(set, pd->name, &f);
            if (!t) return s1c_err("%s: tensor '%s' is missing (config.json expects shape %s)", where, pd->name, want);
            int same = t->ndim == pd->ndim;
            for (int d = 0; same && d < pd->ndim; d++) same = t->shape[d] == pd->shape[d];
            if (!same) {
                shape_str(got, sizeof(got), t->ndim, t->shape);
                return s1c_err("%s: tensor '%s' has shape %s but config.json (hidden_size %d, intermediate_size %d, "
                               "heads %d/%d, vocab_size %d) implies %s",
                               f->path, pd->name, got, cfg->hidden_size, cfg->intermediate_size,
                               cfg->num_attention_heads, cfg->num_key_value_heads, cfg->vocab_size, want);
            }
            if (t->dtype != S1C_ST_F32 && t->dtype != S1C_ST_BF16 && t->dtype != S1C_ST_F16)
                return s1c_err("%s: tensor '%s': dtype %s cannot be loaded as floating point weights (expected F32, "
                               "F16 or BF16)",
                               f->path, pd->name, s1c_st_dtype_name(t->dtype));
            c->file[u][p] = f;
            c->tensor[u][p] = t;
        }
    }
    // A tensor the layout does not know means config.json describes a different model (e.g. fewer
    // layers): loading part of it would silently give another network.
    for (int k = 0; k < set->n_files; k++) {
        const s1c_st_file *f = &set->files[k];
        for (int i = 0; i < f->n_tensors; i++)
            if (!layout_has(lay, f->tensors[i].name) && !harmless_extra(cfg, f->tensors[i].name))
                return s1c_err("%s: tensor '%s' is not part of the Qwen2 model that config.json describes "
                               "(num_hidden_layers %d, tie_word_embeddings %d)",
                               f->path, f->tensors[i].name, cfg->num_hidden_layers, cfg->tie_word_embeddings);
    }
    return S1C_OK;
}

s1c_status s1c_qwen2_ckpt_open(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                               s1c_qwen2_ckpt **out) {
    *out = NULL;
    s1c_qwen2_ckpt *c = s1c_xcalloc(1, sizeof(*c));
    c->lay = lay;
    s1c_status st = s1c_st_set_open(dir, &c->set);
    if (st != S1C_OK) {
        free(c);
        return st;
    }
    c->file = s1c_xcalloc((size_t)lay->n_units, sizeof(*c->file));
    c->tensor = s1c_xcalloc((size_t)lay->n_units, sizeof(*c->tensor));
    for (int u = 0; u < lay->n_units; u++) {
        c->file[u] = s1c_xcalloc((size_t)lay->units[u].n_params + 1, sizeof(**c->file));
        c->tensor[u] = s1c_xcalloc((size_t)lay->units[u].n_params + 1, sizeof(**c->tensor));
    }
    st = validate(c, cfg);
    if (st != S1C_OK) {
        s1c_qwen2_ckpt_close(c);
        return st;
    }
    *out = c;
    return S1C_OK;
}

s1c_status s1c_qwen2_ckpt_read(const s1c_qwen2_ckpt *c, int unit, size_t begin, size_t count, float *dst) {
    if (unit < 0 || unit >= c->lay->n_units) return s1c_err("%s: unit %d does not exist", c->set.dir, unit);
    const s1c_unit_desc *ud = &c->lay->units[unit];
    if (begin > ud->numel || count > ud->numel - begin)
        return s1c_err("%s: unit %d: elements [%zu, %zu) outside its %zu", c->set.dir, unit, begin, begin + count,
                       ud->numel);
    const size_t end = begin + count;
    for (int p = 0; p < ud->n_params; p++) {
        const s1c_param_desc *pd = &ud->params[p];
        size_t lo = pd->offset > begin ? pd->offset : begin;
        size_t hi = pd->offset + pd->numel < end ? pd->offset + pd->numel : end;
        if (lo >= hi) continue;
        S1C_TRY(s1c_st_to_f32_range(c->file[unit][p], c->tensor[unit][p], lo - pd->offset, hi - lo, dst + (lo - begin)));
    }
    return S1C_OK;
}

int s1c_qwen2_ckpt_matrices_bf16(const s1c_qwen2_ckpt *c) {
    for (int u = 0; u < c->lay->n_units; u++)
        for (int p = 0; p < c->lay->units[u].n_params; p++)
            if (c->lay->units[u].params[p].ndim == 2 && c->tensor[u][p]->dtype != S1C_ST_BF16) return 0;
    return 1;
}

s1c_status s1c_qwen2_ckpt_read_bf16(const s1c_qwen2_ckpt *c, int unit, size_t begin, size_t count, uint16_t *dst) {
    if (unit < 0 || unit >= c->lay->n_units) return s1c_err("%s: unit %d does not exist", c->set.dir, unit);
    const s1c_unit_desc *ud = &c->lay->units[unit];
    if (begin > ud->numel || count > ud->numel - begin)
        return s1c_err("%s: unit %d: elements [%zu, %zu) outside its %zu", c->set.dir, unit, begin, begin + count,
                       ud->numel);
    const size_t end = begin + count, chunk = 1 << 16;
    float *stage = NULL;  // [chunk] for tensors stored in another dtype
    s1c_status st = S1C_OK;
    for (int p = 0; p < ud->n_params && st == S1C_OK; p++) {
        const s1c_param_desc *pd = &ud->params[p];
        size_t lo = pd->offset > begin ? pd->offset : begin;
        size_t hi = pd->offset + pd->numel < end ? pd->offset + pd->numel : end;
        if (lo >= hi) continue;
        const s1c_st_tensor *t = c->tensor[unit][p];
        if (t->dtype == S1C_ST_BF16) {  // the file's bytes, as they are (little-endian, as x86 is)
            memcpy(dst + (lo - begin), t->data + (lo - pd->offset) * 2, (hi - lo) * 2);
            continue;
        }
        if (!stage) stage = s1c_xmalloc(chunk * sizeof(float));
        for (size_t k = lo; k < hi && st == S1C_OK; k += chunk) {
            const size_t n = hi - k < chunk ? hi - k : chunk;
            st = s1c_st_to_f32_range(c->file[unit][p], t, k - pd->offset, n, stage);
            for (size_t i = 0; st == S1C_OK && i < n; i++) dst[k - begin + i] = s1c_bf16_from_f32(stage[i]);
        }
    }
    free(stage);
    return st;
}

s1c_status s1c_qwen2_weights_load(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                                  float **units_f32) {
    s1c_qwen2_ckpt *c;
    S1C_TRY(s1c_qwen2_ckpt_open(dir, cfg, lay, &c));
    s1c_status st = S1C_OK;
    for (int u = 0; u < lay->n_units; u++) units_f32[u] = NULL;
    for (int u = 0; u < lay->n_units && st == S1C_OK; u++) {
        units_f32[u] = s1c_xmalloc(lay->units[u].numel * sizeof(float) + 1);
        st = s1c_qwen2_ckpt_read(c, u, 0, lay->units[u].numel, units_f32[u]);
    }
    s1c_qwen2_ckpt_close(c);
    if (st != S1C_OK)
        for (int u = 0; u < lay->n_units; u++) {
            free(units_f32[u]);
            units_f32[u] = NULL;
        }
    return st;
}

struct s1c_qwen2_saver {
    char *dir;
    s1c_qwen2_config cfg;  // torch_dtype set to the output dtype
    const s1c_qwen2_layout *lay;
    s1c_st_stream *st;
    int next_unit;
};

void s1c_qwen2_save_abort(s1c_qwen2_saver *s) {
    if (!s) return;
    s1c_st_stream_abort(s->st);
    free(s->dir);
    free(s);
}

s1c_status s1c_qwen2_save_begin(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                                const char *dtype, size_t max_shard_bytes, s1c_qwen2_saver **out) {
    *out = NULL;
    s1c_st_dtype odt;
    const char *torch_dtype;
    if (strcmp(dtype, "bf16") == 0) {
        odt = S1C_ST_BF16;
        torch_dtype = "bfloat16";
    } else if (strcmp(dtype, "f32") == 0) {
        odt = S1C_ST_F32;
        torch_dtype = "float32";
    } else {
        return s1c_err("%s: unsupported output dtype '%s' (expected 'bf16' or 'f32')", dir, dtype);
    }
    // The tensors in layout order, shapes only: the writer plans every file from them.
    int n = 0;
    for (int u = 0; u < lay->n_units; u++) n += lay->units[u].n_params;
    s1c_st_entry *e = s1c_xcalloc(n ? (size_t)n : 1, sizeof(s1c_st_entry));
    int i = 0;
    for (int u = 0; u < lay->n_units; u++)
        for (int p = 0; p < lay->units[u].n_params; p++, i++) {
            const s1c_param_desc *pd = &lay->units[u].params[p];
            e[i].name = pd->name;
            e[i].ndim = pd->ndim;
            e[i].shape[0] = pd->shape[0];
            e[i].shape[1] = pd->shape[1];
            e[i].src_dtype = S1C_ST_F32;
        }
    s1c_st_stream *stream;
    s1c_status st = s1c_st_stream_open(dir, e, n, odt, max_shard_bytes, &stream);
    free(e);
    S1C_TRY(st);
    s1c_qwen2_saver *s = s1c_xcalloc(1, sizeof(*s));
    s->dir = s1c_xstrdup(dir);
    s->cfg = *cfg;
    snprintf(s->cfg.torch_dtype, sizeof(s->cfg.torch_dtype), "%s", torch_dtype);
    s->lay = lay;
    s->st = stream;
    *out = s;
    return S1C_OK;
}

s1c_status s1c_qwen2_save_unit(s1c_qwen2_saver *s, int unit, const float *unit_f32) {
    if (unit != s->next_unit)
        return s1c_err("%s: unit %d given while unit %d is next (units are written in order)", s->dir, unit,
                       s->next_unit);
    const s1c_unit_desc *ud = &s->lay->units[unit];
    for (int p = 0; p < ud->n_params; p++)
        S1C_TRY(s1c_st_stream_put(s->st, unit_f32 + ud->params[p].offset, S1C_ST_F32));
    s->next_unit++;
    return S1C_OK;
}

s1c_status s1c_qwen2_save_finish(s1c_qwen2_saver *s) {
    s1c_status st = S1C_OK;
    if (s->next_unit != s->lay->n_units)
        st = s1c_err("%s: only %d of %d units were written", s->dir, s->next_unit, s->lay->n_units);
    if (st == S1C_OK) {
        st = s1c_st_stream_finish(s->st);
        s->st = NULL;  // finish frees it either way
    }
    if (st == S1C_OK) {
        size_t plen = strlen(s->dir) + 16;
        char *path = s1c_xmalloc(plen);
        snprintf(path, plen, "%s/config.json", s->dir);
        st = s1c_qwen2_config_save(path, &s->cfg);
        free(path);
    }
    s1c_qwen2_save_abort(s);
    return st;
}

s1c_status s1c_qwen2_weights_save(const char *dir, const s1c_qwen2_config *cfg, const s1c_qwen2_layout *lay,
                                  float *const *units_f32, const char *dtype, size_t max_shard_bytes) {
    s1c_qwen2_saver *s;
    S1C_TRY(s1c_qwen2_save_begin(dir, cfg, lay, dtype, max_shard_bytes, &s));
    for (int u = 0; u < lay->n_units; u++) {
        s1c_status st = s1c_qwen2_save_unit(s, u, units_f32[u]);
        if (st != S1C_OK) {
            s1c_qwen2_save_abort(s);
            return st;
        }
    }
    return s1c_qwen2_save_finish(s);
}
