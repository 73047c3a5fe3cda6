// qwen2_config.c — Hugging Face config.json ⇄ s1c_qwen2_config.
//
// Defaults for optional fields are Qwen2Config's defaults in transformers, so a config that omits
// them means the same model here as there. Features s1c does not implement are refused rather than
// silently ignored: they would change the model's outputs.
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2.h"
#include "s1c_file.h"
#include "s1c_json_check.h"
#include "safetensors.h"

typedef struct {
    const char *path;
    const cJSON *root;
} cfg_src;

// Returns 1 and *out when the field is present as an integer, 0 when absent; S1C_ERR-style -1 when mistyped.
static int get_int(const cfg_src *c, const char *field, int required, long lo, long hi, int *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(c->root, field);
    if (!j || cJSON_IsNull(j)) {
        if (required) {
            s1c_err("%s: field \"%s\" is missing (expected an integer)", c->path, field);
            return -1;
        }
        return 0;
    }
    double d = j->valuedouble;
    if (!cJSON_IsNumber(j) || floor(d) != d) {
        s1c_err("%s: field \"%s\" must be an integer", c->path, field);
        return -1;
    }
    if (d < (double)lo || d > (double)hi) {
        s1c_err("%s: field \"%s\" = %.0f is out of range [%ld, %ld]", c->path, field, d, lo, hi);
        return -1;
    }
    *out = (int)d;
    return 1;
}

static int get_float(const cfg_src *c, const char *field, double lo, double hi, float *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(c->root, field);
    if (!j || cJSON_IsNull(j)) return 0;
    if (!cJSON_IsNumber(j)) {
        s1c_err("%s: field \"%s\" must be a number", c->path, field);
        return -1;
    }
    // The range holds for the float the model computes with: 1e-46 is > 0 as a double but 0 as a
    // float (an rms_norm_eps of 0 divides by zero on an all-zero row).
    float f = (float)j->valuedouble;
    if (!(j->valuedouble > lo && j->valuedouble <= hi) || !((double)f > lo && (double)f <= hi)) {
        s1c_err("%s: field \"%s\" = %g is out of range (%g, %g] as a 32-bit float", c->path, field, j->valuedouble, lo,
                hi);
        return -1;
    }
    *out = f;
    return 1;
}

static int get_bool(const cfg_src *c, const char *field, int *out) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(c->root, field);
    if (!j || cJSON_IsNull(j)) return 0;
    if (!cJSON_IsBool(j)) {
        s1c_err("%s: field \"%s\" must be true or false", c->path, field);
        return -1;
    }
    *out = cJSON_IsTrue(j);
    return 1;
}

// bos/eos: an integer, or a list of integers (first one kept), or absent / null (-1).
static int get_token_id(const cfg_src *c, const char *field, int *out) {
    *out = -1;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(c->root, field);
    if (!j || cJSON_IsNull(j)) return 0;
    if (cJSON_IsArray(j)) j = cJSON_GetArrayItem(j, 0);
    if (!j) return 0;
    if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 2147483647.0 || floor(j->valuedouble) != j->valuedouble) {
        s1c_err("%s: field \"%s\" must be a non-negative integer token id", c->path, field);
        return -1;
    }
    *out = (int)j->valuedouble;
    return 1;
}

static s1c_status parse(const cfg_src *c, s1c_qwen2_config *cfg) {
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(c->root, "model_type");
    if (!cJSON_IsString(mt)) return s1c_err("%s: field \"model_type\" is missing or not a string (expected \"qwen2\")", c->path);
    if (strcmp(mt->valuestring, "qwen2") != 0)
        return s1c_err("%s: field \"model_type\" = \"%s\" is not supported (expected \"qwen2\")", c->path, mt->valuestring);

    const long big = 1L << 30;
    if (get_int(c, "hidden_size", 1, 1, big, &cfg->hidden_size) < 0) return S1C_ERR;
    if (get_int(c, "intermediate_size", 1, 1, big, &cfg->intermediate_size) < 0) return S1C_ERR;
    if (get_int(c, "num_hidden_layers", 1, 1, 100000, &cfg->num_hidden_layers) < 0) return S1C_ERR;
    if (get_int(c, "num_attention_heads", 1, 1, 100000, &cfg->num_attention_heads) < 0) return S1C_ERR;
    if (get_int(c, "vocab_size", 1, 1, big, &cfg->vocab_size) < 0) return S1C_ERR;
    cfg->num_key_value_heads = cfg->num_attention_heads;
    if (get_int(c, "num_key_value_heads", 0, 1, 100000, &cfg->num_key_value_heads) < 0) return S1C_ERR;
    cfg->max_position_embeddings = 32768;
    if (get_int(c, "max_position_embeddings", 0, 1, big, &cfg->max_position_embeddings) < 0) return S1C_ERR;
    cfg->rope_theta = 10000.0f;
    int got_theta = get_float(c, "rope_theta", 0.0, 1e12, &cfg->rope_theta);
    if (got_theta < 0) return S1C_ERR;
    // transformers 5 writes RoPE settings as {"rope_parameters": {"rope_type": ..., "rope_theta": ...}}.
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(c->root, "rope_parameters");
    if (rp && !cJSON_IsNull(rp)) {
        if (!cJSON_IsObject(rp)) return s1c_err("%s: field \"rope_parameters\" must be an object", c->path);
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rp, "rope_type");
        if (rt && !(cJSON_IsString(rt) && strcmp(rt->valuestring, "default") == 0))
            return s1c_err("%s: field \"rope_parameters.rope_type\" must be \"default\" (scaled RoPE is not supported)",
                           c->path);
        cfg_src sub = {c->path, rp};
        float th = cfg->rope_theta;
        int got = get_float(&sub, "rope_theta", 0.0, 1e12, &th);
        if (got < 0) return s1c_err_prefix("rope_parameters");
        if (got && got_theta && th != cfg->rope_theta)
            return s1c_err("%s: \"rope_theta\" = %g disagrees with \"rope_parameters.rope_theta\" = %g", c->path,
                           (double)cfg->rope_theta, (double)th);
        cfg->rope_theta = th;
    }
    cfg->rms_norm_eps = 1e-6f;
    if (get_float(c, "rms_norm_eps", 0.0, 1.0, &cfg->rms_norm_eps) < 0) return S1C_ERR;
    cfg->tie_word_embeddings = 0;
    if (get_bool(c, "tie_word_embeddings", &cfg->tie_word_embeddings) < 0) return S1C_ERR;
    if (get_token_id(c, "bos_token_id", &cfg->bos_token_id) < 0) return S1C_ERR;
    if (get_token_id(c, "eos_token_id", &cfg->eos_token_id) < 0) return S1C_ERR;

    if (cfg->hidden_size % cfg->num_attention_heads != 0)
        return s1c_err("%s: field \"hidden_size\" = %d is not a multiple of num_attention_heads = %d", c->path,
                       cfg->hidden_size, cfg->num_attention_heads);
    cfg->head_dim = cfg->hidden_size / cfg->num_attention_heads;
    if (cfg->head_dim % 2 != 0)
        return s1c_err("%s: head_dim = hidden_size / num_attention_heads = %d must be even for RoPE", c->path, cfg->head_dim);
    int hd = cfg->head_dim;
    if (get_int(c, "head_dim", 0, 1, big, &hd) < 0) return S1C_ERR;
    if (hd != cfg->head_dim)
        return s1c_err("%s: field \"head_dim\" = %d differs from hidden_size / num_attention_heads = %d (not supported)",
                       c->path, hd, cfg->head_dim);
    if (cfg->num_attention_heads % cfg->num_key_value_heads != 0)
        return s1c_err("%s: field \"num_key_value_heads\" = %d does not divide num_attention_heads = %d", c->path,
                       cfg->num_key_value_heads, cfg->num_attention_heads);

    // Every size downstream is derived from these in int (fused q|k|v rows: (nh + 2 nkv) hd) or size_t
    // (a unit's element count): a config whose counts cannot be represented is refused here rather
    // than wrapping around there. 2^48 parameters is ~10^5 times the largest Qwen2.
    double C = cfg->hidden_size, I = cfg->intermediate_size, V = cfg->vocab_size;
    double KV = (double)cfg->num_key_value_heads * cfg->head_dim;
    double block = 2 * C + 2 * C * C + 2 * KV * C + C + 2 * KV + 3 * I * C;
    double params = V * C * (cfg->tie_word_embeddings ? 1 : 2) + C + cfg->num_hidden_layers * block;
    if (3 * C > 2147483647.0 || 2 * I > 2147483647.0 || params > 281474976710656.0)
        return s1c_err("%s: hidden_size %d, intermediate_size %d, %d layers, vocab_size %d: %.3g parameters is more "
                       "than s1c can address (at most 2^48 parameters, 3 x hidden_size and 2 x intermediate_size "
                       "below 2^31)",
                       c->path, cfg->hidden_size, cfg->intermediate_size, cfg->num_hidden_layers, cfg->vocab_size, params);

    int sliding = 0;
    if (get_bool(c, "use_sliding_window", &sliding) < 0) return S1C_ERR;
    if (sliding)
        return s1c_err("%s: field \"use_sliding_window\" = true is not supported (s1c implements full causal attention)",
                       c->path);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(c->root, "rope_scaling");
    if (rs && !cJSON_IsNull(rs)) {
        // transformers ≥ 4.5x may write {"rope_type": "default", ...}: plain RoPE, accepted.
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
        if (!cJSON_IsString(rt)) rt = cJSON_GetObjectItemCaseSensitive(rs, "type");
        if (!(cJSON_IsString(rt) && strcmp(rt->valuestring, "default") == 0))
            return s1c_err("%s: field \"rope_scaling\" is set (only plain RoPE is supported)", c->path);
    }
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c->root, "layer_types");
    if (lt && !cJSON_IsNull(lt)) {
        if (!cJSON_IsArray(lt)) return s1c_err("%s: field \"layer_types\" must be a list", c->path);
        int k = 0;
        for (const cJSON *e = lt->child; e; e = e->next, k++)
            if (!cJSON_IsString(e) || strcmp(e->valuestring, "full_attention") != 0)
                return s1c_err("%s: field \"layer_types\"[%d] is not \"full_attention\" (sliding-window layers are not "
                               "supported)",
                               c->path, k);
    }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(c->root, "hidden_act");
    if (act && !(cJSON_IsString(act) && strcmp(act->valuestring, "silu") == 0))
        return s1c_err("%s: field \"hidden_act\" must be \"silu\"", c->path);

    memset(cfg->torch_dtype, 0, sizeof(cfg->torch_dtype));
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(c->root, "torch_dtype");
    if (!dt) dt = cJSON_GetObjectItemCaseSensitive(c->root, "dtype");  // newer transformers' spelling
    if (cJSON_IsString(dt)) snprintf(cfg->torch_dtype, sizeof(cfg->torch_dtype), "%s", dt->valuestring);
    else snprintf(cfg->torch_dtype, sizeof(cfg->torch_dtype), "float32");
    return S1C_OK;
}

s1c_status s1c_qwen2_config_load(const char *path, s1c_qwen2_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    char *text = NULL;
    size_t len = 0;
    S1C_TRY(s1c_read_file(path, &text, &len));
    cJSON *root = s1c_json_parse_all(text, len);
    if (!root) {
        const char *err = cJSON_GetErrorPtr();  // where cJSON stopped, when it failed inside the text
        size_t at = err && err >= text && err <= text + len ? (size_t)(err - text) : len;
        free(text);
        return s1c_err("%s: malformed JSON near byte %zu", path, at);
    }
    s1c_status st;
    if (!cJSON_IsObject(root)) st = s1c_err("%s: not a JSON object", path);
    // a key twice: cJSON would read the first value, transformers (Python's json) the last
    else st = s1c_json_check(path, text, len, 1);
    if (st == S1C_OK) {
        cfg_src c = {path, root};
        st = parse(&c, cfg);
    }
    cJSON_Delete(root);
    free(text);
    return st;
}

s1c_status s1c_qwen2_config_save(const char *path, const s1c_qwen2_config *cfg) {
    cJSON *r = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(r, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("Qwen2ForCausalLM"));
    cJSON_AddStringToObject(r, "model_type", "qwen2");
    cJSON_AddNumberToObject(r, "attention_dropout", 0.0);
    if (cfg->bos_token_id >= 0) cJSON_AddNumberToObject(r, "bos_token_id", cfg->bos_token_id);
    if (cfg->eos_token_id >= 0) cJSON_AddNumberToObject(r, "eos_token_id", cfg->eos_token_id);
    cJSON_AddStringToObject(r, "hidden_act", "silu");
    cJSON_AddNumberToObject(r, "hidden_size", cfg->hidden_size);
    cJSON_AddNumberToObject(r, "initializer_range", 0.02);
    cJSON_AddNumberToObject(r, "intermediate_size", cfg->intermediate_size);
    cJSON_AddNumberToObject(r, "max_position_embeddings", cfg->max_position_embeddings);
    cJSON_AddNumberToObject(r, "max_window_layers", cfg->num_hidden_layers);
    cJSON_AddNumberToObject(r, "num_attention_heads", cfg->num_attention_heads);
    cJSON_AddNumberToObject(r, "num_hidden_layers", cfg->num_hidden_layers);
    cJSON_AddNumberToObject(r, "num_key_value_heads", cfg->num_key_value_heads);
    cJSON_AddNumberToObject(r, "rms_norm_eps", (double)cfg->rms_norm_eps);
    cJSON_AddNullToObject(r, "rope_scaling");
    cJSON_AddNumberToObject(r, "rope_theta", (double)cfg->rope_theta);  // transformers 4 reads this
    cJSON *rp = cJSON_AddObjectToObject(r, "rope_parameters");            // transformers 5 reads this
    cJSON_AddStringToObject(rp, "rope_type", "default");
    cJSON_AddNumberToObject(rp, "rope_theta", (double)cfg->rope_theta);
    cJSON_AddNullToObject(r, "sliding_window");
    cJSON_AddBoolToObject(r, "tie_word_embeddings", cfg->tie_word_embeddings != 0);
    cJSON_AddStringToObject(r, "torch_dtype", cfg->torch_dtype[0] ? cfg->torch_dtype : "float32");
    cJSON_AddBoolToObject(r, "use_cache", 1);
    cJSON_AddBoolToObject(r, "use_sliding_window", 0);
    cJSON_AddNumberToObject(r, "vocab_size", cfg->vocab_size);
    char *text = cJSON_Print(r);
    cJSON_Delete(r);
    s1c_atomic_file af;
    s1c_status st = s1c_atomic_open(&af, path);
    if (st == S1C_OK) {
        if (fputs(text, af.fp) == EOF || fputc('\n', af.fp) == EOF) {
            st = s1c_err("%s: write error: %s", path, strerror(errno));
            s1c_atomic_abort(&af);
        } else {
            st = s1c_atomic_commit(&af);
        }
    }
    free(text);
    return st;
}
