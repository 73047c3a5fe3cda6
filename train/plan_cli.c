// plan_cli.c — s1c-train --plan: flags onto the recipe's cluster block, the data's lengths, the
// plan printed (plan.h).
#include "plan_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "packed.h"
#include "plan.h"

const char s1c_plan_usage[] =
    "  --plan flags    --gpus N (nodes x gpus_per_node) --nodes N --gpus-per-node G --gpu h100|h200\n"
    "                  --nvlink-gbs B --nics-per-node N --nic-gbps B --gpu-mem-gb M --peak-tflops T\n"
    "                  --gemm-tflops T --attn-tflops T (sustained) --data FILE.h5 (lengths to plan with)\n";

static const struct {
    const char *flag, *key;
} FLAGS[] = {
    {"--nodes", "cluster.nodes"},          {"--gpus-per-node", "cluster.gpus_per_node"},
    {"--gpu", "cluster.gpu"},              {"--nvlink-gbs", "cluster.nvlink_gbs"},
    {"--nics-per-node", "cluster.nics_per_node"}, {"--nic-gbps", "cluster.nic_gbps"},
    {"--gpu-mem-gb", "cluster.gpu_mem_gb"}, {"--peak-tflops", "cluster.peak_tflops"},
    {"--gemm-tflops", "cluster.gemm_tflops"}, {"--attn-tflops", "cluster.attn_tflops"},
};

int s1c_plan_flag(s1c_plan_cli *o, const char *flag, const char *value) {
    const int gpus = !strcmp(flag, "--gpus"), data = !strcmp(flag, "--data");
    int k = -1;
    for (size_t i = 0; i < sizeof FLAGS / sizeof FLAGS[0]; i++)
        if (!strcmp(flag, FLAGS[i].flag)) k = (int)i;
    if (!gpus && !data && k < 0) return 0;
    if (!value) {
        s1c_err("%s needs a value", flag);
        return -1;
    }
    if (gpus) {
        char *end;
        long n = strtol(value, &end, 10);
        if (end == value || *end || n < 1 || n > 1 << 20) {
            s1c_err("--gpus: expected a positive integer, got \"%s\"", value);
            return -1;
        }
        o->gpus = (int)n;
    } else if (data) {
        o->data = value;
    } else {
        if (o->n_sets >= 16) {
            s1c_err("%s: too many --plan flags", flag);
            return -1;
        }
        snprintf(o->sets[o->n_sets++], sizeof o->sets[0], "%s=%s", FLAGS[k].key, value);
    }
    return 2;
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int s1c_plan_main(s1c_train_config *tc, const s1c_plan_cli *o) {
    s1c_status st = S1C_OK;
    for (int i = 0; i < o->n_sets && st == S1C_OK; i++) st = s1c_train_config_set(tc, o->sets[i]);
    if (st == S1C_OK && o->gpus) {  // N GPUs: one node when they fit in one, else whole nodes
        if (o->gpus <= tc->cluster_gpus_per_node) {
            tc->cluster_nodes = 1;
            tc->cluster_gpus_per_node = o->gpus;
        } else if (o->gpus % tc->cluster_gpus_per_node == 0) {
            tc->cluster_nodes = o->gpus / tc->cluster_gpus_per_node;
        } else {
            st = s1c_err("--gpus %d: not a whole number of %d-GPU nodes (cluster.gpus_per_node)", o->gpus,
                         tc->cluster_gpus_per_node);
        }
    }
    if (st == S1C_OK) st = s1c_train_config_validate(tc, 0, 0);
    s1c_cluster cl;
    if (st == S1C_OK) st = s1c_cluster_of(tc, &cl);
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train --plan: %s\n", s1c_err_msg());
        return 2;
    }
    char path[S1C_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config.json", tc->model_path);
    const char *mcp = is_file(path) ? path : tc->plan_model_config;
    if (!mcp[0]) {
        fprintf(stderr, "s1c-train --plan: %s does not exist and plan.model_config is not set\n", path);
        return 2;
    }
    s1c_qwen2_config mc;
    if (s1c_qwen2_config_load(mcp, &mc) != S1C_OK) {
        fprintf(stderr, "s1c-train --plan: %s\n", s1c_err_msg());
        return 2;
    }
    const char *data = o->data ? o->data : tc->data_path;
    if (o->data && !is_file(o->data)) {
        fprintf(stderr, "s1c-train --plan: --data %s: no such file\n", o->data);
        return 2;
    }
    uint32_t *lens = NULL;
    size_t n = 0;
    char source[S1C_PATH_MAX + 96];
    if (is_file(data)) {
        s1c_packed *pk = s1c_packed_open(data);
        if (!pk) {
            fprintf(stderr, "s1c-train --plan: %s\n", s1c_err_msg());
            return 2;
        }
        n = s1c_packed_n_samples(pk);
        lens = malloc((n ? n : 1) * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++) lens[i] = s1c_packed_length(pk, i);
        s1c_packed_close(pk);
        snprintf(source, sizeof source, "%s, %zu samples", data, n);
    } else {
        snprintf(source, sizeof source, "no data file: %d samples of plan.avg_tokens %.0f (no length variation)",
                 tc->plan_samples, tc->plan_avg_tokens);
    }
    s1c_plan_result r;
    st = s1c_plan_compute(tc, &mc, &cl, lens, n, &r);
    free(lens);
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train --plan: %s\n", s1c_err_msg());
        return 2;
    }
    printf("model config: %s\n", mcp);
    s1c_plan_print(stdout, tc, &mc, &r, source);
    s1c_plan_free(&r);
    return 0;
}
