// fuzz_qwen2_config — Hugging Face config.json for Qwen2 (s1c_qwen2_config_load). An accepted
// config is laid out (parameter table) and saved and loaded again: the round trip must agree.
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "qwen2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_path("config.json");
    fuzz_write(path, data, size);
    s1c_qwen2_config cfg;
    if (s1c_qwen2_config_load(path, &cfg) != S1C_OK) return 0;
    FUZZ_CHECK(cfg.hidden_size > 0 && cfg.num_attention_heads > 0 && cfg.num_key_value_heads > 0);
    FUZZ_CHECK(cfg.num_hidden_layers > 0 && cfg.vocab_size > 0 && cfg.head_dim > 0);
    // The parameter table of any accepted config: its element counts must be exact (a count that
    // wrapped around size_t would size every buffer after it wrongly).
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&cfg);
    FUZZ_CHECK(lay->n_units == cfg.num_hidden_layers + 2);
    unsigned __int128 C = (unsigned)cfg.hidden_size, I = (unsigned)cfg.intermediate_size;
    unsigned __int128 V = (unsigned)cfg.vocab_size, L = (unsigned)cfg.num_hidden_layers;
    unsigned __int128 Q = (unsigned)cfg.num_attention_heads * (unsigned __int128)cfg.head_dim;
    unsigned __int128 KV = (unsigned)cfg.num_key_value_heads * (unsigned __int128)cfg.head_dim;
    unsigned __int128 block = 2 * C + Q * C + 2 * KV * C + Q + 2 * KV + C * Q + 3 * I * C;
    unsigned __int128 total = V * C + L * block + C + (cfg.tie_word_embeddings ? 0 : V * C);
    FUZZ_CHECK(total == (unsigned __int128)lay->numel);
    s1c_qwen2_layout_free(lay);
    const char *out = fuzz_path("config_out.json");
    FUZZ_CHECK(s1c_qwen2_config_save(out, &cfg) == S1C_OK);
    s1c_qwen2_config back;
    FUZZ_CHECK(s1c_qwen2_config_load(out, &back) == S1C_OK);
    FUZZ_CHECK(back.hidden_size == cfg.hidden_size && back.num_hidden_layers == cfg.num_hidden_layers);
    FUZZ_CHECK(back.vocab_size == cfg.vocab_size && back.head_dim == cfg.head_dim);
    FUZZ_CHECK(back.tie_word_embeddings == cfg.tie_word_embeddings);
    return 0;
}
