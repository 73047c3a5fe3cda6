// The recipe's keys in one table; YAML loading through libyaml events; overrides; validation.
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "jsonl.h"  // s1c_utf8_first_invalid
#include "s1c_file.h"

typedef enum { K_INT, K_DOUBLE, K_BOOL, K_STR, K_PATH } key_type;

typedef struct {
    const char *key;  // "section.name"
    key_type type;
    size_t off, cap;  // offset in s1c_train_config; buffer size for strings
    const char *choices;  // "a|b|c" for enumerated strings, NULL otherwise
} key_desc;

#define KI(k, f) {k, K_INT, offsetof(s1c_train_config, f), 0, NULL}
#define KD(k, f) {k, K_DOUBLE, offsetof(s1c_train_config, f), 0, NULL}
#define KB(k, f) {k, K_BOOL, offsetof(s1c_train_config, f), 0, NULL}
#define KS(k, f, ch) {k, K_STR, offsetof(s1c_train_config, f), sizeof(((s1c_train_config *)0)->f), ch}
#define KP(k, f) {k, K_PATH, offsetof(s1c_train_config, f), sizeof(((s1c_train_config *)0)->f), NULL}

static const key_desc KEYS[] = {
    KP("model.path", model_path),
    KP("data.path", data_path),
    KI("data.block_size", block_size),
    KB("data.balance_tokens", balance_tokens),
    KB("data.allow_tokenizer_mismatch", allow_tokenizer_mismatch),
    KI("train.epochs", epochs),
    KI("train.global_batch_size", global_batch_size),
    KI("train.micro_batch_size", micro_batch_size),
    KB("train.recompute", recompute),
    KS("train.precision", precision, "bf16|fp32"),
    KS("train.loss_norm", loss_norm, "seq_mean|token_mean"),
    KI("train.seed", seed),
    KI("train.max_steps", max_steps),
    KI("train.stop_after", stop_after),
    KS("train.device", device, "cpu|cuda|cpu-bf16"),
    KS("train.comm", comm, "mpi|nccl"),
    KS("train.balance", balance, "sequences|tokens"),
    KS("train.reduce_dtype", reduce_dtype, "fp32|bf16"),
    KS("train.nonfinite", nonfinite, "stop|skip_step"),
    KB("train.offload_optimizer", offload_optimizer),
    KD("train.collective_timeout_s", collective_timeout_s),
    KD("optim.lr", lr),
    KD("optim.warmup_ratio", warmup_ratio),
    KS("optim.schedule", schedule, "cosine|constant"),
    KD("optim.beta1", beta1),
    KD("optim.beta2", beta2),
    KD("optim.eps", eps),
    KD("optim.weight_decay", weight_decay),
    KD("optim.max_grad_norm", max_grad_norm),
    KP("output.dir", out_dir),
    KI("output.save_every", save_every),
    KI("output.keep_last", keep_last),
    KB("output.export", export_hf),
    KS("output.export_dtype", export_dtype, "bf16|f32"),
    KI("output.export_shard_mb", export_shard_mb),
    KD("log.peak_tflops", peak_tflops),
    KB("log.progress", progress),
    KI("cluster.nodes", cluster_nodes),
    KI("cluster.gpus_per_node", cluster_gpus_per_node),
    KS("cluster.gpu", cluster_gpu, "h100|h200"),
    KD("cluster.nvlink_gbs", cluster_nvlink_gbs),
    KI("cluster.nics_per_node", cluster_nics_per_node),
    KD("cluster.nic_gbps", cluster_nic_gbps),
    KD("cluster.bus_efficiency", cluster_bus_efficiency),
    KD("cluster.pcie_gbs", cluster_pcie_gbs),
    KD("cluster.host_mem_gbs", cluster_host_mem_gbs),
    KD("cluster.host_mem_gb", cluster_host_mem_gb),
    KD("cluster.gpu_mem_gb", cluster_gpu_mem_gb),
    KD("cluster.peak_tflops", cluster_peak_tflops),
    KD("cluster.gemm_tflops", cluster_gemm_tflops),
    KD("cluster.attn_tflops", cluster_attn_tflops),
    KD("cluster.reserve_gb", cluster_reserve_gb),
    KI("plan.samples", plan_samples),
    KD("plan.avg_tokens", plan_avg_tokens),
    KP("plan.model_config", plan_model_config),
    KB("plan.context_queries", plan_context_queries),
};
enum { N_KEYS = sizeof KEYS / sizeof KEYS[0] };

void s1c_train_config_defaults(s1c_train_config *c) {
    memset(c, 0, sizeof *c);
    c->block_size = 32768;
    c->balance_tokens = 1;
    c->epochs = 1;
    c->global_batch_size = 16;
    c->micro_batch_size = 1;
    c->recompute = 1;
    strcpy(c->precision, "bf16");
    strcpy(c->loss_norm, "seq_mean");
    c->seed = 42;
    strcpy(c->device, "cpu");
    strcpy(c->comm, "mpi");
    c->lr = 1e-5;
    c->warmup_ratio = 0.0;
    strcpy(c->schedule, "cosine");
    // torch.optim.AdamW / Hugging Face defaults where a recipe is silent
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->eps = 1e-8;
    c->weight_decay = 0.0;
    c->max_grad_norm = 1.0;
    strcpy(c->out_dir, "runs/out");
    c->save_every = 0;
    c->keep_last = 0;
    c->export_hf = 1;
    strcpy(c->export_dtype, "bf16");
    c->export_shard_mb = 5000;
    c->peak_tflops = 989.0;  // H100 SXM dense bf16
    c->progress = 1;
    strcpy(c->balance, "sequences");
    strcpy(c->reduce_dtype, "fp32");
    strcpy(c->nonfinite, "stop");
    c->collective_timeout_s = 1800.0;  // PyTorch's default process-group timeout
    // the documented example cluster: 2 nodes x 8 H100 SXM, NVLink 4, 8 x 400 Gbit/s NICs per node
    c->cluster_nodes = 2;
    c->cluster_gpus_per_node = 8;
    strcpy(c->cluster_gpu, "h100");
    c->cluster_nvlink_gbs = 450.0;
    c->cluster_nics_per_node = 8;
    c->cluster_nic_gbps = 400.0;
    c->cluster_bus_efficiency = 0.9;
    // DGX H100-class node (docs/planner.md: sources; ASSUMPTIONS until measured): PCIe Gen5 x16
    // pinned copies ~50 GB/s, halved because two GPUs share a switch uplink to the CPU; 2 x 8
    // channels DDR5-4800 (614 GB/s peak) sustaining ~400 GB/s; 2 TB of host memory
    c->cluster_pcie_gbs = 25.0;
    c->cluster_host_mem_gbs = 400.0;
    c->cluster_host_mem_gb = 2048.0;
    c->plan_samples = 0;
    c->plan_avg_tokens = 0.0;
    c->plan_context_queries = 1;
}

static const key_desc *find_key(const char *key) {
    for (int i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].key, key) == 0) return &KEYS[i];
    return NULL;
}

static int in_choices(const char *v, const char *choices) {
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        p += len + (bar ? 1 : 0);
    }
    return 0;
}

// `where` names the source ("file.yaml:12" or "--set") for the message.
static s1c_status assign(s1c_train_config *c, const char *where, const char *key, const char *val) {
    const key_desc *k = find_key(key);
    if (!k) return s1c_err("%s: unknown key \"%s\" (see configs/ for the keys a recipe may set)", where, key);
    char *base = (char *)c + k->off;
    char *end = NULL;
    errno = 0;
    switch (k->type) {
        case K_INT: {
            long v = strtol(val, &end, 10);
            if (end == val || *end || errno || v < -2147483647L || v > 2147483647L)
                return s1c_err("%s: %s: expected an integer, got \"%s\"", where, key, val);
            *(int *)base = (int)v;
            return S1C_OK;
        }
        case K_DOUBLE: {
            double v = strtod(val, &end);
            if (end == val || *end || errno || !isfinite(v))
                return s1c_err("%s: %s: expected a number, got \"%s\"", where, key, val);
            *(double *)base = v;
            return S1C_OK;
        }
        case K_BOOL:
            if (!strcmp(val, "true") || !strcmp(val, "True") || !strcmp(val, "1") || !strcmp(val, "yes") ||
                !strcmp(val, "on"))
                *(int *)base = 1;
            else if (!strcmp(val, "false") || !strcmp(val, "False") || !strcmp(val, "0") || !strcmp(val, "no") ||
                     !strcmp(val, "off"))
                *(int *)base = 0;
            else
                return s1c_err("%s: %s: expected true or false, got \"%s\"", where, key, val);
            return S1C_OK;
        case K_STR:
        case K_PATH: {
            // The recipe is written back as YAML (run dir, --print-config), and YAML holds only
            // UTF-8 text: a value it cannot hold would make that copy unreadable.
            size_t bad = s1c_utf8_first_invalid(val, strlen(val));
            if (bad != strlen(val))
                return s1c_err("%s: %s: value is not valid UTF-8 at byte offset %zu", where, key, bad);
            if (strlen(val) >= k->cap)
                return s1c_err("%s: %s: value longer than %zu characters", where, key, k->cap - 1);
            if (k->choices && !in_choices(val, k->choices))
                return s1c_err("%s: %s: expected one of %s, got \"%s\"", where, key, k->choices, val);
            memcpy(base, val, strlen(val) + 1);
            return S1C_OK;
        }
    }
    return s1c_err("%s: %s: internal: bad key type", where, key);
}

// A recipe file's value: a relative path is taken relative to the file's folder (`base`, absolute),
// so the recipe means the same files from any working directory.
static s1c_status assign_from_file(s1c_train_config *c, const char *where, const char *key, const char *val,
                                   const char *base) {
    const key_desc *k = find_key(key);
    if (!k || k->type != K_PATH || !val[0] || val[0] == '/' || !base) return assign(c, where, key, val);
    char full[2 * S1C_PATH_MAX + 2];
    if (strcmp(val, ".") == 0) snprintf(full, sizeof full, "%s", base);
    else snprintf(full, sizeof full, "%s/%s", base, val);
    return assign(c, where, key, full);
}

s1c_status s1c_train_config_set(s1c_train_config *c, const char *assignment) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) return s1c_err("--set %s: expected section.key=value", assignment);
    char key[128];
    size_t kl = (size_t)(eq - assignment);
    if (kl >= sizeof key) return s1c_err("--set %s: key too long", assignment);
    memcpy(key, assignment, kl);
    key[kl] = '\0';
    // a relative path is the working directory's: stored absolute, so the run directory's copy of
    // the recipe (which resolves against its own folder) still names the same file
    char *cwd = getcwd(NULL, 0);
    s1c_status st = assign_from_file(c, "--set", key, eq + 1, cwd);
    free(cwd);
    return st;
}

typedef struct {
    char (*keys)[160];
    size_t *lines, n;
} seen_keys;

static s1c_status seen_add(seen_keys *s, const char *key, size_t line, const char *path) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i], key))
            return s1c_err("%s:%zu: duplicate key \"%s\" (first on line %zu)", path, line, key, s->lines[i]);
    s->keys = s1c_xrealloc(s->keys, (s->n + 1) * sizeof *s->keys);
    s->lines = s1c_xrealloc(s->lines, (s->n + 1) * sizeof *s->lines);
    snprintf(s->keys[s->n], sizeof s->keys[s->n], "%s", key);
    s->lines[s->n++] = line;
    return S1C_OK;
}

// The accepted shape: a mapping of sections, each a mapping of scalar values (comments free).
s1c_status s1c_train_config_load(s1c_train_config *c, const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return s1c_err("%s: cannot open config: %s", path, strerror(errno));
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(fp);
        return s1c_err("%s: cannot initialise the YAML parser", path);
    }
    yaml_parser_set_input_file(&p, fp);
    // the recipe's folder, absolute (the file opened, so it exists)
    char *base = NULL;
    {
        char *copy = s1c_xstrdup(path), *slash = strrchr(copy, '/');
        if (slash == copy) slash[1] = '\0';
        else if (slash) *slash = '\0';
        base = realpath(slash ? copy : ".", NULL);
        free(copy);
    }
    s1c_status st = S1C_OK;
    int depth = 0;  // mapping depth: 1 = top level, 2 = inside a section
    char section[64] = "", key[64] = "";
    int have_key = 0;
    size_t key_line = 0;
    // Keys already set ("section" and "section.key") with their lines: a second one is an error
    // (YAML loaders keep the last value, so the recipe would not mean what its first line says).
    seen_keys seen = {0};
    int documents = 0;
    for (int done = 0; !done && st == S1C_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            st = s1c_err("%s:%zu: YAML syntax error: %s", path, p.problem_mark.line + 1,
                         p.problem ? p.problem : "unknown");
            break;
        }
        size_t line = ev.start_mark.line + 1;
        char where[S1C_PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%zu", path, line);
        switch (ev.type) {
            case YAML_STREAM_END_EVENT: done = 1; break;
            case YAML_DOCUMENT_START_EVENT:
                if (++documents > 1)
                    st = s1c_err("%s: a second YAML document (after \"---\"): a recipe is one document", where);
                break;
            case YAML_MAPPING_START_EVENT:
                if (depth == 0) {
                    depth = 1;
                } else if (depth == 1 && have_key) {
                    if ((st = seen_add(&seen, key, key_line, path)) != S1C_OK) break;
                    snprintf(section, sizeof section, "%s", key);
                    have_key = 0;
                    depth = 2;
                } else {
                    st = s1c_err("%s: %s%s%s: expected a scalar value, got a mapping", where, section,
                                 *section ? "." : "", key);
                }
                break;
            case YAML_MAPPING_END_EVENT:
                depth--;
                if (depth == 1) section[0] = '\0';
                break;
            case YAML_SEQUENCE_START_EVENT:
                st = s1c_err("%s: %s%s%s: lists are not part of a recipe", where, section, *section ? "." : "",
                             have_key ? key : "");
                break;
            case YAML_ALIAS_EVENT: st = s1c_err("%s: YAML aliases are not supported in recipes", where); break;
            case YAML_SCALAR_EVENT: {
                const char *v = (const char *)ev.data.scalar.value;
                if (depth == 0) {
                    if (ev.data.scalar.length) st = s1c_err("%s: expected a mapping of sections at the top", where);
                } else if (!have_key) {
                    if (strlen(v) >= sizeof key) {
                        st = s1c_err("%s: key too long", where);
                        break;
                    }
                    snprintf(key, sizeof key, "%s", v);
                    key_line = line;
                    have_key = 1;
                } else if (depth == 1) {
                    st = s1c_err("%s: \"%s\" is a section and must hold keys (e.g. %s.<key>: value)", where, key,
                                 key);
                } else {
                    char full[160];
                    snprintf(full, sizeof full, "%s.%s", section, key);
                    st = seen_add(&seen, full, key_line, path);
                    if (st == S1C_OK) st = assign_from_file(c, where, full, v, base);
                    have_key = 0;
                }
                break;
            }
            default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    fclose(fp);
    free(base);
    free(seen.keys);
    free(seen.lines);
    return st;
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

s1c_status s1c_train_config_validate(const s1c_train_config *c, int world, int check_files) {
#define NEED(cond, ...) \
    if (!(cond)) return s1c_err(__VA_ARGS__)
    NEED(c->epochs >= 1, "train.epochs: must be >= 1 (got %d)", c->epochs);
    NEED(c->global_batch_size >= 1, "train.global_batch_size: must be >= 1 (got %d)", c->global_batch_size);
    NEED(c->micro_batch_size >= 1, "train.micro_batch_size: must be >= 1 (got %d)", c->micro_batch_size);
    NEED(c->block_size >= 2, "data.block_size: must be >= 2 (got %d)", c->block_size);
    NEED(c->max_steps >= 0, "train.max_steps: must be >= 0 (got %d)", c->max_steps);
    NEED(c->stop_after >= 0, "train.stop_after: must be >= 0 (got %d)", c->stop_after);
    NEED(c->lr > 0, "optim.lr: must be > 0 (got %g)", c->lr);
    NEED(c->warmup_ratio >= 0 && c->warmup_ratio < 1, "optim.warmup_ratio: must be in [0, 1) (got %g)",
         c->warmup_ratio);
    NEED(c->beta1 >= 0 && c->beta1 < 1, "optim.beta1: must be in [0, 1) (got %g)", c->beta1);
    NEED(c->beta2 >= 0 && c->beta2 < 1, "optim.beta2: must be in [0, 1) (got %g)", c->beta2);
    NEED(c->eps > 0, "optim.eps: must be > 0 (got %g)", c->eps);
    NEED(c->weight_decay >= 0, "optim.weight_decay: must be >= 0 (got %g)", c->weight_decay);
    NEED(c->max_grad_norm >= 0, "optim.max_grad_norm: must be >= 0 (0 disables clipping; got %g)",
         c->max_grad_norm);
    NEED(c->collective_timeout_s >= 0, "train.collective_timeout_s: must be >= 0 (0: no timeout; got %g)",
         c->collective_timeout_s);
    NEED(c->save_every >= 0, "output.save_every: must be >= 0 (got %d)", c->save_every);
    NEED(c->keep_last >= 0, "output.keep_last: must be >= 0 (got %d)", c->keep_last);
    NEED(c->export_shard_mb >= 0, "output.export_shard_mb: must be >= 0 (got %d)", c->export_shard_mb);
    NEED(c->peak_tflops > 0, "log.peak_tflops: must be > 0 (got %g)", c->peak_tflops);
    NEED((strcmp(c->device, "cuda") == 0) == (strcmp(c->comm, "nccl") == 0),
         "train.device %s needs train.comm %s (got %s): device buffers move over NCCL, host buffers over MPI "
         "(s1c-train --device sets both)", c->device, strcmp(c->device, "cuda") == 0 ? "nccl" : "mpi", c->comm);
    NEED((strcmp(c->device, "cuda") != 0 && strcmp(c->device, "cpu-bf16") != 0) || strcmp(c->precision, "bf16") == 0,
         "train.precision %s: the %s backend computes in bf16 only (master weights and optimizer state are fp32 "
         "either way)", c->precision, strcmp(c->device, "cuda") == 0 ? "CUDA" : "cpu-bf16");
    NEED(strcmp(c->reduce_dtype, "bf16") != 0 || strcmp(c->device, "cuda") == 0 || strcmp(c->device, "cpu-bf16") == 0,
         "train.reduce_dtype bf16: gradients are reduced in bf16 on bf16 backends only (train.device cuda or "
         "cpu-bf16; got %s)", c->device);
    NEED(c->cluster_nodes >= 1 && c->cluster_gpus_per_node >= 1 && c->cluster_nics_per_node >= 0,
         "cluster.nodes (%d) and cluster.gpus_per_node (%d) must be >= 1, cluster.nics_per_node (%d) >= 0",
         c->cluster_nodes, c->cluster_gpus_per_node, c->cluster_nics_per_node);
    NEED(c->cluster_nvlink_gbs > 0 && c->cluster_nic_gbps >= 0 && c->cluster_bus_efficiency > 0 &&
             c->cluster_bus_efficiency <= 1,
         "cluster: nvlink_gbs (%g) must be > 0, nic_gbps (%g) >= 0, bus_efficiency (%g) in (0, 1]",
         c->cluster_nvlink_gbs, c->cluster_nic_gbps, c->cluster_bus_efficiency);
    NEED(c->cluster_gpu_mem_gb >= 0 && c->cluster_peak_tflops >= 0 && c->cluster_gemm_tflops >= 0 &&
             c->cluster_attn_tflops >= 0 && c->cluster_reserve_gb >= 0,
         "cluster: gpu_mem_gb, peak_tflops, gemm_tflops, attn_tflops and reserve_gb must be >= 0 (0: the %s preset)",
         c->cluster_gpu);
    NEED(c->cluster_pcie_gbs > 0 && c->cluster_host_mem_gbs > 0 && c->cluster_host_mem_gb > 0,
         "cluster: pcie_gbs (%g), host_mem_gbs (%g) and host_mem_gb (%g) must be > 0", c->cluster_pcie_gbs,
         c->cluster_host_mem_gbs, c->cluster_host_mem_gb);
    NEED(c->out_dir[0], "output.dir: must be set");
    NEED(c->model_path[0], "model.path: must be set (a Hugging Face model directory)");
    NEED(c->data_path[0], "data.path: must be set (a packed HDF5 file from s1c-data pack)");
    if (world > 0) {
        long per = (long)world * c->micro_batch_size;
        NEED(c->global_batch_size % per == 0,
             "train.global_batch_size %d is not divisible by ranks (%d) x train.micro_batch_size (%d)",
             c->global_batch_size, world, c->micro_batch_size);
    }
    if (check_files) {
        char cfgjson[S1C_PATH_MAX + 16];
        snprintf(cfgjson, sizeof cfgjson, "%s/config.json", c->model_path);
        NEED(is_file(cfgjson), "model.path: %s: no such file (expected a Hugging Face model directory)", cfgjson);
        NEED(is_file(c->data_path), "data.path: %s: no such file", c->data_path);
    }
#undef NEED
    return S1C_OK;
}

// A YAML double-quoted scalar that reads back as the same bytes for any UTF-8 value (a path from
// --set may hold quotes, backslashes, newlines): '"' and '\\' escaped, and so is every character
// YAML does not allow raw (C0/C1 controls, U+FFFE/U+FFFF) or would fold as a line break or drop
// as a byte-order mark (U+0085, U+2028, U+2029, U+FEFF).
static void write_quoted(FILE *fp, const char *s) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp = *p;
        int n = cp < 0x80 ? 1 : cp >= 0xf0 ? 4 : cp >= 0xe0 ? 3 : 2;
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) {  // not UTF-8 (assign refuses it): copy the byte as is
                n = 1;
                break;
            }
        }
        if (n > 1) {
            cp &= 0xffu >> (n + 1);
            for (int i = 1; i < n; i++) cp = (cp << 6) | (p[i] & 0x3fu);
        }
        if (cp == '"' || cp == '\\') fprintf(fp, "\\%c", (int)cp);
        else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
                 cp == 0xfffe || cp == 0xffff)
            fprintf(fp, "\\u%04x", cp);
        else fwrite(p, 1, (size_t)n, fp);
        p += n;
    }
    fputc('"', fp);
}

static void write_value(FILE *fp, const s1c_train_config *c, const key_desc *k) {
    const char *base = (const char *)c + k->off;
    switch (k->type) {
        case K_INT: fprintf(fp, "%d", *(const int *)base); break;
        case K_DOUBLE: fprintf(fp, "%.17g", *(const double *)base); break;
        case K_BOOL: fprintf(fp, "%s", *(const int *)base ? "true" : "false"); break;
        case K_STR:
        case K_PATH: write_quoted(fp, base); break;
    }
}

void s1c_train_config_print(const s1c_train_config *c, void *file) {
    FILE *fp = file;
    char section[64] = "";
    for (int i = 0; i < N_KEYS; i++) {
        const char *dot = strchr(KEYS[i].key, '.');
        size_t sl = (size_t)(dot - KEYS[i].key);
        if (strlen(section) != sl || strncmp(section, KEYS[i].key, sl) != 0) {
            memcpy(section, KEYS[i].key, sl);
            section[sl] = '\0';
            fprintf(fp, "%s:\n", section);
        }
        fprintf(fp, "  %s: ", dot + 1);
        write_value(fp, c, &KEYS[i]);
        fputc('\n', fp);
    }
}

s1c_status s1c_train_config_write(const s1c_train_config *c, const char *path) {
    s1c_atomic_file f;
    S1C_TRY(s1c_atomic_open(&f, path));
    s1c_train_config_print(c, f.fp);
    return s1c_atomic_commit(&f);
}
