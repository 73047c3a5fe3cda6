// s1c-model-init — writes a random-initialised Qwen2 checkpoint directory (config.json +
// model.safetensors, optionally the tokenizer files), the starting point of training from scratch.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwen2.h"
#include "qwen2_init.h"
#include "s1c_file.h"
#include "s1c_getopt.h"

static const char *const TOKENIZER_FILES[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                              "generation_config.json"};

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: s1c-model-init --config-json FILE --out DIR [--seed N] [--std X] [--dtype f32|bf16]\n"
            "                      [--tokenizer DIR]\n"
            "  --config-json  a Hugging Face Qwen2 config.json giving the shape\n"
            "  --seed         generator seed (default 0); same config + seed + std -> same weights\n"
            "  --std          standard deviation of the matrices (default: the config's initializer_range\n"
            "                 convention, 0.02); biases 0, norm weights 1\n"
            "  --tokenizer    copy tokenizer.json / tokenizer_config.json / ... from DIR into the checkpoint;\n"
            "                 its vocabulary must fit the config's vocab_size\n");
}

static int parse_u64(const char *s, unsigned long long *v) {
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *s && !*end && !errno && s[0] != '-';
}

// Copies the tokenizer files so the directory is a complete Hugging Face checkpoint. The model
// layer does not read tokenizers (data/ sits beside it), so vocabulary checks are the loaders' job.
static s1c_status copy_tokenizer(const char *tok_dir, const char *out_dir) {
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/tokenizer.json", tok_dir);
    FILE *fp = fopen(src, "rb");
    if (!fp) return s1c_err("%s: cannot open (--tokenizer needs a directory with tokenizer.json)", src);
    fclose(fp);
    for (size_t i = 0; i < sizeof TOKENIZER_FILES / sizeof *TOKENIZER_FILES; i++) {
        snprintf(src, sizeof src, "%s/%s", tok_dir, TOKENIZER_FILES[i]);
        snprintf(dst, sizeof dst, "%s/%s", out_dir, TOKENIZER_FILES[i]);
        FILE *f = fopen(src, "rb");
        if (!f) continue;  // optional files
        fclose(f);
        S1C_TRY(s1c_copy_file(src, dst));
    }
    return S1C_OK;
}

int main(int argc, char **argv) {
    const char *config_json = NULL, *out = NULL, *tok = NULL, *dtype = "f32";
    unsigned long long seed = 0;
    double std = 0.02;
    static const struct option opts[] = {
        {"config-json", required_argument, NULL, 0}, {"out", required_argument, NULL, 0},
        {"tokenizer", required_argument, NULL, 0},   {"dtype", required_argument, NULL, 0},
        {"seed", required_argument, NULL, 0},        {"std", required_argument, NULL, 0},
        {"help", no_argument, NULL, 0},              {NULL, 0, NULL, 0}};
    const char *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, opts, "s1c-model-init", &a, &v)) > 0) {
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--config-json")) config_json = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--tokenizer")) tok = v;
        else if (!strcmp(a, "--dtype")) dtype = v;
        else if (!strcmp(a, "--seed")) {
            if (!parse_u64(v, &seed)) {
                fprintf(stderr, "s1c-model-init: --seed expects a non-negative integer, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--std")) {
            char *end;
            std = strtod(v, &end);
            if (!*v || *end || !(std > 0.0 && std < 10.0)) {
                fprintf(stderr, "s1c-model-init: --std expects a number in (0, 10), got '%s'\n", v);
                return 2;
            }
        }
    }
    if (got < 0) return 2;
    if (optind < argc) {
        fprintf(stderr, "s1c-model-init: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (!config_json || !out) {
        usage(stderr);
        return 2;
    }
    if (strcmp(dtype, "f32") != 0 && strcmp(dtype, "bf16") != 0) {
        fprintf(stderr, "s1c-model-init: --dtype must be f32 or bf16, got '%s'\n", dtype);
        return 2;
    }
    s1c_qwen2_config cfg;
    if (s1c_qwen2_config_load(config_json, &cfg) != S1C_OK) {
        fprintf(stderr, "s1c-model-init: %s\n", s1c_err_msg());
        return 1;
    }
    s1c_qwen2_layout *lay = s1c_qwen2_layout_create(&cfg);
    if (!lay) {
        fprintf(stderr, "s1c-model-init: %s\n", s1c_err_msg());
        return 1;
    }
    float **units = s1c_xcalloc((size_t)lay->n_units, sizeof *units);
    for (int u = 0; u < lay->n_units; u++) units[u] = s1c_xmalloc(lay->units[u].numel * sizeof(float) + sizeof(float));
    s1c_qwen2_init_random(&cfg, lay, units, seed, std);
    snprintf(cfg.torch_dtype, sizeof cfg.torch_dtype, "%s", strcmp(dtype, "bf16") ? "float32" : "bfloat16");
    s1c_status st = s1c_mkdirs(out);
    if (st == S1C_OK) st = s1c_qwen2_weights_save(out, &cfg, lay, units, dtype, 0);
    if (st == S1C_OK && tok) st = copy_tokenizer(tok, out);
    if (st == S1C_OK)
        printf("s1c-model-init: %s: qwen2, %zu parameters (%.2fM), seed %llu, std %g, %s\n", out, lay->numel,
               (double)lay->numel / 1e6, seed, std, dtype);
    else
        fprintf(stderr, "s1c-model-init: %s\n", s1c_err_msg());
    for (int u = 0; u < lay->n_units; u++) free(units[u]);
    free(units);
    s1c_qwen2_layout_free(lay);
    return st == S1C_OK ? 0 : 1;
}
