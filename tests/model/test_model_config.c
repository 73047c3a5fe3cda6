// test_model_config.c — config.json parsing (transformers 4 and 5 spellings), defaults, refusals of
// mistyped fields, save → load round trip, and the parameter layout's sizes.
#include "mt.h"
#include "qwen2.h"
#include "s1c_file.h"

static const char *g_tmp;

static const char *write_cfg(const char *name, const char *json) {
    static char p[1024];
    snprintf(p, sizeof(p), "%s/%s.json", g_tmp, name);
    FILE *fp = fopen(p, "w");
    fputs(json, fp);
    fclose(fp);
    return p;
}

static void expect_refused(const char *name, const char *json, const char *needle) {
    s1c_qwen2_config c;
    const char *p = write_cfg(name, json);
    s1c_status st = s1c_qwen2_config_load(p, &c);
    CHECK(st != S1C_OK, "%s: accepted", name);
    if (st == S1C_OK) return;
    CHECK(mt_contains(s1c_err_msg(), p) && mt_contains(s1c_err_msg(), needle), "%s: message should name %s and '%s': %s",
          name, p, needle, s1c_err_msg());
}

#define BASE "\"model_type\":\"qwen2\",\"hidden_size\":64,\"intermediate_size\":96,\"num_hidden_layers\":3,"  \
             "\"num_attention_heads\":8,\"vocab_size\":1000"

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    g_tmp = argv[2];
    MT_OK(s1c_mkdirs(g_tmp));
    char p[1024];

    // transformers 5 config (rope_parameters, dtype, layer_types) of fixture a.
    s1c_qwen2_config a;
    snprintf(p, sizeof(p), "%s/a/config.json", argv[1]);
    MT_OK(s1c_qwen2_config_load(p, &a));
    CHECK(a.hidden_size == 32 && a.intermediate_size == 64 && a.num_hidden_layers == 2 && a.num_attention_heads == 4 &&
              a.num_key_value_heads == 2 && a.head_dim == 8 && a.vocab_size == 256 && a.tie_word_embeddings == 1 &&
              a.max_position_embeddings == 128 && a.rope_theta == 10000.0f && a.rms_norm_eps == 1e-6f,
          "fixture a fields");
    CHECK(strcmp(a.torch_dtype, "bfloat16") == 0, "dtype %s", a.torch_dtype);
    snprintf(p, sizeof(p), "%s/b/config.json", argv[1]);
    s1c_qwen2_config b;
    MT_OK(s1c_qwen2_config_load(p, &b));
    CHECK(b.rope_theta == 1000000.0f && b.head_dim == 12 && b.tie_word_embeddings == 0 && b.rms_norm_eps == 1e-5f,
          "fixture b fields");

    // Defaults are Qwen2Config's; the transformers 4 spelling (top-level rope_theta) is read.
    s1c_qwen2_config d;
    MT_OK(s1c_qwen2_config_load(write_cfg("defaults", "{" BASE "}"), &d));
    CHECK(d.num_key_value_heads == 8 && d.rope_theta == 10000.0f && d.rms_norm_eps == 1e-6f &&
              d.max_position_embeddings == 32768 && d.tie_word_embeddings == 0 && d.bos_token_id == -1 &&
              d.head_dim == 8,
          "defaults");
    MT_OK(s1c_qwen2_config_load(write_cfg("v4", "{" BASE ",\"rope_theta\":500000.0,\"num_key_value_heads\":2,"
                                                  "\"eos_token_id\":[7,8],\"rope_scaling\":null,\"torch_dtype\":\"float16\"}"),
                                &d));
    CHECK(d.rope_theta == 500000.0f && d.num_key_value_heads == 2 && d.eos_token_id == 7 &&
              strcmp(d.torch_dtype, "float16") == 0,
          "transformers 4 spelling");

    // Save → load gives the same config (and the layout sizes follow).
    a.bos_token_id = 3;
    a.eos_token_id = 5;
    snprintf(p, sizeof(p), "%s/saved.json", g_tmp);
    MT_OK(s1c_qwen2_config_save(p, &a));
    s1c_qwen2_config a2;
    MT_OK(s1c_qwen2_config_load(p, &a2));
    CHECK(memcmp(&a, &a2, sizeof(a)) == 0, "config round trip");
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&a);
    // a: embed 256*32; block: 2 norms 64 + qkv (32+16+16)*32 + bias 64 + o 32*32 + mlp 3*64*32; head: norm 32.
    size_t block = 64 + 64 * 32 + 64 + 32 * 32 + 3 * 64 * 32;
    CHECK(lay->n_units == 4 && lay->units[0].numel == 256 * 32 && lay->units[1].numel == block &&
              lay->units[3].numel == 32 && lay->numel == 256 * 32 + 2 * block + 32,
          "layout sizes (tied)");
    CHECK(lay->units[1].params[2].offset == 32 + 32 * 32 && strcmp(lay->units[1].params[2].name,
                                                                   "model.layers.0.self_attn.k_proj.weight") == 0,
          "k_proj follows q_proj in the fused qkv matrix");
    CHECK(lay->units[1].params[0].decay == 0 && lay->units[1].params[1].decay == 1 && lay->units[1].params[4].decay == 0,
          "no weight decay on norms and biases");
    s1c_qwen2_layout_free(lay);
    lay = s1c_qwen2_layout_create(&b);
    CHECK(lay->units[3].n_params == 2 && lay->units[3].numel == 48 + 300 * 48, "untied head holds lm_head");
    s1c_qwen2_layout_free(lay);

    // Refusals, each naming the file and the field.
    expect_refused("missing", "{\"model_type\":\"qwen2\",\"hidden_size\":64}", "intermediate_size");
    expect_refused("mistyped", "{" BASE ",\"num_key_value_heads\":\"two\"}", "num_key_value_heads");
    expect_refused("fraction", "{" BASE ",\"num_key_value_heads\":2.5}", "num_key_value_heads");
    expect_refused("gqa", "{" BASE ",\"num_key_value_heads\":3}", "num_key_value_heads");
    expect_refused("heads", "{\"model_type\":\"qwen2\",\"hidden_size\":60,\"intermediate_size\":96,"
                            "\"num_hidden_layers\":3,\"num_attention_heads\":8,\"vocab_size\":1000}",
                   "hidden_size");
    expect_refused("negative", "{" BASE ",\"max_position_embeddings\":-4}", "max_position_embeddings");
    expect_refused("eps", "{" BASE ",\"rms_norm_eps\":\"small\"}", "rms_norm_eps");
    expect_refused("tie", "{" BASE ",\"tie_word_embeddings\":1}", "tie_word_embeddings");
    expect_refused("scaling", "{" BASE ",\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4}}", "rope_scaling");
    expect_refused("rope5", "{" BASE ",\"rope_parameters\":{\"rope_type\":\"linear\",\"rope_theta\":1e4}}",
                   "rope_type");
    expect_refused("layer_types", "{" BASE ",\"layer_types\":[\"full_attention\",\"sliding_attention\"]}", "layer_types");
    expect_refused("act", "{" BASE ",\"hidden_act\":\"gelu\"}", "hidden_act");
    expect_refused("headdim", "{" BASE ",\"head_dim\":16}", "head_dim");
    expect_refused("notobject", "[1,2]", "not a JSON object");
    // Found by tests/fuzz/fuzz_qwen2_config: 1e-46 passed the "> 0" check as a double but is 0 as
    // the float the model uses, and the saved config then failed to load.
    expect_refused("eps_underflow", "{" BASE ",\"rms_norm_eps\":1e-46}", "rms_norm_eps");
    expect_refused("theta_underflow", "{" BASE ",\"rope_theta\":1e-50}", "32-bit float");
    // Counts whose layout would wrap size_t (or int for the fused q|k|v rows) are refused up front.
    expect_refused("huge", "{\"model_type\":\"qwen2\",\"hidden_size\":1073741824,\"intermediate_size\":1073741824,"
                   "\"num_hidden_layers\":100000,\"num_attention_heads\":16,\"vocab_size\":1073741824}",
                   "more than s1c can address");
    expect_refused("wide", "{\"model_type\":\"qwen2\",\"hidden_size\":1073741824,\"intermediate_size\":64,"
                   "\"num_hidden_layers\":1,\"num_attention_heads\":16,\"vocab_size\":2}",
                   "3 x hidden_size");
    // A key twice (issue 13): cJSON reads the first value, transformers the last; refused, naming
    // the key and the line of the second one.
    expect_refused("dupkey", "{" BASE ",\n\"num_key_value_heads\":2,\n\"num_key_value_heads\":4}",
                   ":3: duplicate key \"num_key_value_heads\" (first on line 2)");
    expect_refused("dupnested", "{" BASE ",\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":1e4,"
                                "\"rope_theta\":1e6}}",
                   "duplicate key \"rope_theta\" in rope_parameters");
    snprintf(p, sizeof(p), "%s/absent.json", g_tmp);
    CHECK(s1c_qwen2_config_load(p, &d) != S1C_OK && mt_contains(s1c_err_msg(), p), "absent file named: %s",
          s1c_err_msg());
    return check_exit("test_model_config");
}
