// s1c-model-info — validates a Hugging Face Qwen2 checkpoint directory through the real loader and
// prints its shape. Exit status 0 when it loads, 1 with the loader's message on stderr otherwise.
#include <stdio.h>
#include <string.h>

#include "qwen2.h"
#include "s1c_getopt.h"

static void usage(FILE *fp) {
    fprintf(fp, "usage: s1c-model-info CHECKPOINT_DIR   (config.json + model.safetensors or its index)\n");
}

int main(int argc, char **argv) {
    static const struct option opts[] = {{"help", no_argument, NULL, 0}, {NULL, 0, NULL, 0}};
    const char *opt, *val;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, opts, "s1c-model-info", &opt, &val)) > 0) {
        usage(stdout);  // --help, the only option
        return 0;
    }
    if (got < 0) return 2;
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *dir = argv[optind];
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) {
        fprintf(stderr, "s1c-model-info: %s\n", s1c_err_msg());
        return 1;
    }
    s1c_qwen2_model m;
    if (s1c_qwen2_model_load(be, dir, &m) != S1C_OK) {
        fprintf(stderr, "s1c-model-info: %s\n", s1c_err_msg());
        s1c_backend_destroy(be);
        return 1;
    }
    const s1c_qwen2_config *c = &m.cfg;
    printf("%s: qwen2, %zu parameters (%.1fM)\n", dir, m.layout->numel, (double)m.layout->numel / 1e6);
    printf("  hidden %d, intermediate %d, layers %d, heads %d (kv %d, head_dim %d), vocab %d\n", c->hidden_size,
           c->intermediate_size, c->num_hidden_layers, c->num_attention_heads, c->num_key_value_heads, c->head_dim,
           c->vocab_size);
    printf("  rope_theta %g, rms_norm_eps %g, tied embeddings %s, stored dtype %s\n", (double)c->rope_theta,
           (double)c->rms_norm_eps, c->tie_word_embeddings ? "yes" : "no", c->torch_dtype);
    s1c_qwen2_model_free(&m);
    s1c_backend_destroy(be);
    return 0;
}
