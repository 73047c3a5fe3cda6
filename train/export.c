#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "finite.h"
#include "s1c_file.h"

// Files a Hugging Face model directory carries besides the weights and config.json.
static const char *const TOKENIZER_FILES[] = {
    "tokenizer.json",  "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
    "merges.txt",      "added_tokens.json",     "generation_config.json",
};

// Every rank learns whether all succeeded. A rank that failed keeps its own message; the others
// take the lowest failing rank's, so whichever rank's output the user reads names the cause.
static s1c_status agree_msg(s1c_comm *c, s1c_status st) {
    int32_t first = st != S1C_OK ? c->rank : c->size;
    if (c->all_reduce(c, &first, 1, S1C_COMM_I32, S1C_RED_MIN) != S1C_OK) return S1C_ERR;
    if (first == c->size) return S1C_OK;
    char msg[1024] = "";
    if (c->rank == first) snprintf(msg, sizeof msg, "%s", s1c_err_msg());
    if (c->broadcast(c, msg, sizeof msg, S1C_COMM_U8, first) != S1C_OK) return S1C_ERR;
    msg[sizeof msg - 1] = '\0';
    if (st != S1C_OK) return st;
    return s1c_err("rank %d: %s", first, msg);
}

static s1c_status copy_tokenizer(const char *src_model_dir, const char *out_dir) {
    for (size_t i = 0; i < sizeof TOKENIZER_FILES / sizeof TOKENIZER_FILES[0]; i++) {
        char src[4200], dst[4200];
        struct stat sb;
        snprintf(src, sizeof src, "%s/%s", src_model_dir, TOKENIZER_FILES[i]);
        if (stat(src, &sb) != 0) continue;  // not every model ships every file
        snprintf(dst, sizeof dst, "%s/%s", out_dir, TOKENIZER_FILES[i]);
        S1C_TRY(s1c_copy_file(src, dst));
    }
    return S1C_OK;
}

s1c_status s1c_export_hf(s1c_fsdp *f, s1c_comm *c, const s1c_qwen2_config *cfg, const char *src_model_dir,
                         const char *out_dir, const char *dtype, size_t max_shard_bytes) {
    const s1c_qwen2_layout *lay = s1c_fsdp_layout(f);
    s1c_qwen2_saver *sv = NULL;
    s1c_status st = S1C_OK;
    if (c->rank == 0) st = s1c_qwen2_save_begin(out_dir, cfg, lay, dtype, max_shard_bytes, &sv);
    st = agree_msg(c, st);
    // One unit at a time: gathered on every rank, written by rank 0, freed before the next.
    // Agreeing after each unit (one scalar) stops every rank at a write failure on rank 0.
    for (int u = 0; u < lay->n_units && st == S1C_OK; u++) {
        float *full = s1c_xmalloc(lay->units[u].numel * sizeof(float) + sizeof(float));  // [numel]
        st = s1c_fsdp_gather_master(f, u, full);
        if (st == S1C_OK && c->rank == 0) st = s1c_qwen2_save_unit(sv, u, full);
        free(full);
        st = agree_msg(c, st);
    }
    if (c->rank == 0 && sv) {
        if (st == S1C_OK) st = s1c_qwen2_save_finish(sv);
        else s1c_qwen2_save_abort(sv);
        if (st == S1C_OK) st = copy_tokenizer(src_model_dir, out_dir);
    }
    st = agree_msg(c, st);
    if (st != S1C_OK) return s1c_err_prefix("exporting to %s", out_dir);
    return S1C_OK;
}

s1c_status s1c_import_hf(s1c_fsdp *f, s1c_comm *c, const s1c_qwen2_config *cfg, const char *model_dir) {
    const s1c_qwen2_layout *lay = s1c_fsdp_layout(f);
    const int nu = s1c_fsdp_n_units(f);
    size_t cap = 1;
    for (int u = 0; u < nu; u++)
        if (s1c_fsdp_unit_at(f, u)->g.shard > cap) cap = s1c_fsdp_unit_at(f, u)->g.shard;
    s1c_qwen2_ckpt *ck = NULL;
    s1c_status st = s1c_qwen2_ckpt_open(model_dir, cfg, lay, &ck);
    float *host = st == S1C_OK ? s1c_xmalloc(cap * sizeof(float)) : NULL;  // [largest shard]
    for (int u = 0; u < nu && st == S1C_OK; u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        // This rank's elements [lo, lo + shard) of the padded unit; those past numel are padding.
        const size_t lo = (size_t)c->rank * x->g.shard;
        const size_t n = lo >= x->g.numel ? 0 : (x->g.numel - lo < x->g.shard ? x->g.numel - lo : x->g.shard);
        if (n) st = s1c_qwen2_ckpt_read(ck, u, lo, n, host);
        if (st != S1C_OK) break;
        // a NaN or Inf would train into every weight within a step: refused here, named
        const size_t bad = s1c_first_nonfinite(host, n);
        if (bad < n) {
            char where[256];
            s1c_describe_element(lay, u, lo + bad, where, sizeof where);
            st = s1c_err("%s: %s is %g: non-finite weights are refused", model_dir, where, (double)host[bad]);
            break;
        }
        memset(host + n, 0, (x->g.shard - n) * sizeof(float));
        s1c_fsdp_copy_h2d(f, x->master, host, x->g.shard);
    }
    if (st == S1C_OK) {
        memset(host, 0, cap * sizeof(float));
        for (int u = 0; u < nu; u++) {
            s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
            s1c_fsdp_copy_h2d(f, x->m, host, x->g.shard);
            s1c_fsdp_copy_h2d(f, x->v, host, x->g.shard);
        }
    }
    free(host);
    s1c_qwen2_ckpt_close(ck);
    st = agree_msg(c, st);
    if (st != S1C_OK) return s1c_err_prefix("loading the initial weights from %s", model_dir);
    s1c_fsdp_sync_act(f);
    s1c_fsdp_zero_grad(f);
    return S1C_OK;
}
