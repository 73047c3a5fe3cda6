// config.h — the training recipe: YAML file (libyaml) + `--set section.key=value` overrides +
// validation. Every key is listed in one table (config.c); an unknown key, a value of the wrong
// type, a batch that does not divide over ranks × micro-batch or a missing input file is an error
// that names the file/line (or the --set) and the key, reported before any work starts.
#ifndef S1C_TRAIN_CONFIG_H
#define S1C_TRAIN_CONFIG_H

#include "s1c_err.h"

#define S1C_PATH_MAX 1024

typedef struct {
    // model:
    char model_path[S1C_PATH_MAX];  // Hugging Face dir: config.json, *.safetensors, tokenizer files
    // data:
    char data_path[S1C_PATH_MAX];   // packed HDF5 (s1c-data pack)
    int block_size;                 // sequences are cut to this many tokens
    int balance_tokens;             // length-aware assignment of a step's samples to ranks
    int allow_tokenizer_mismatch;   // train on data packed with another tokenizer than model.path's
    // train:
    int epochs;
    int global_batch_size;  // sequences per optimizer step, all ranks together
    int micro_batch_size;   // sequences per forward/backward on one rank
    int recompute;          // per-block activation recompute
    char precision[8];      // "bf16" | "fp32": activation / gathered-weight dtype on GPU (CPU: fp32)
    char loss_norm[16];     // "seq_mean" (s1's objective) | "token_mean"
    int seed;               // data order (per-epoch shuffle)
    int max_steps;          // > 0: the run's length in optimizer steps, as HF's max_steps: the schedule is
                            // planned for it and the data cycles over as many epochs as it needs (0: epochs)
    int stop_after;         // > 0: this job ends after that step, the schedule unchanged (--resume continues)
    char device[16];        // "cpu" | "cuda" | "cpu-bf16" (the GPU's bf16 storage on the CPU, for tests)
    char comm[8];           // "mpi" | "nccl"
    char balance[16];       // "sequences": whole sequences per rank | "tokens": equal-token shares (train/cp.h)
    char reduce_dtype[8];   // "fp32" | "bf16": dtype of the gradients' reduce-scatter (bf16 backends)
    char nonfinite[16];     // "stop" (default): a non-finite loss or gradient norm ends the run, exit 4 |
                            // "skip_step": that step's update is skipped
    int offload_optimizer;  // fp32 master, gradient and AdamW m, v slices in pinned host memory (ZeRO-Offload)
    double collective_timeout_s;  // a collective that does not complete in this long aborts the job (0: never)
    // optim:
    double lr, warmup_ratio;
    char schedule[16];  // "cosine" | "constant"
    double beta1, beta2, eps, weight_decay, max_grad_norm;
    // output:
    char out_dir[S1C_PATH_MAX];
    int save_every;  // steps between checkpoints (0: only at the end)
    int keep_last;   // complete checkpoints kept (0: all)
    int export_hf;   // export a Hugging Face dir at the end
    char export_dtype[8];  // "bf16" | "f32"
    int export_shard_mb;   // safetensors shard size (0: one file)
    // log:
    double peak_tflops;  // per rank, for MFU
    int progress;        // progress bar when stdout is a terminal
    // cluster: the machine s1c-train --plan predicts for (train/plan.h; 0 = the cluster.gpu preset's value)
    int cluster_nodes, cluster_gpus_per_node, cluster_nics_per_node;
    char cluster_gpu[16];         // "h100" | "h200": preset of the GPU figures below
    double cluster_nvlink_gbs;    // in-node NVLink bandwidth per GPU and direction, GB/s
    double cluster_nic_gbps;      // per NIC, Gbit/s
    double cluster_bus_efficiency;  // fraction of the link bandwidth a ring collective reaches
    double cluster_pcie_gbs;      // host <-> GPU copy bandwidth per GPU and direction, GB/s (offload)
    double cluster_host_mem_gbs;  // host memory bandwidth per node, GB/s (host AdamW with offload)
    double cluster_host_mem_gb;   // host memory per node, GB
    double cluster_gpu_mem_gb, cluster_peak_tflops, cluster_gemm_tflops, cluster_attn_tflops, cluster_reserve_gb;
    // plan: (inputs of s1c-train --plan when the data is not at hand)
    int plan_samples;          // dataset size when the data file is not at hand
    double plan_avg_tokens;    // mean tokens per sample, same
    char plan_model_config[S1C_PATH_MAX];  // config.json to plan with when model.path has none
    int plan_context_queries;  // the GPU computes (and discards) the context rows' queries (kernels/cuda today)
} s1c_train_config;

void s1c_train_config_defaults(s1c_train_config *c);
// Reads a YAML file over the current values (call s1c_train_config_defaults first). A relative
// path value (model.path, data.path, output.dir, ...) resolves against the file's own folder and
// is stored absolute; a relative --set path resolves against the working directory (stored
// absolute too), so the recipe written into the run directory names the same files.
s1c_status s1c_train_config_load(s1c_train_config *c, const char *path);
// Applies one "section.key=value" override.
s1c_status s1c_train_config_set(s1c_train_config *c, const char *assignment);
// Checks values and, when check_files, that the inputs exist; world_size > 0 also checks that the
// global batch divides over world_size × micro_batch_size.
s1c_status s1c_train_config_validate(const s1c_train_config *c, int world_size, int check_files);
// Writes every key with its value as YAML (for the run directory and --print-config).
s1c_status s1c_train_config_write(const s1c_train_config *c, const char *path);
void s1c_train_config_print(const s1c_train_config *c, void *file /* FILE* */);

#endif
