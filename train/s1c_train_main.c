// s1c-train: FSDP supervised fine-tuning of a Qwen2 model on a packed dataset, launched with
// mpirun/srun (one process per GPU, or per CPU rank); or --plan to size a run beforehand.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "packed.h"
#include "plan.h"
#include "qwen2.h"
#include "s1c_mpi.h"
#include "trainer.h"

static void usage(FILE *fp) {
    fputs("usage: mpirun -np N s1c-train --config FILE [--device cpu|cuda|cpu-bf16] [--set section.key=value ...]\n"
          "                 [--resume | --resume-from DIR]\n"
          "       s1c-train --plan --config FILE [--gpus N] [--gpu-tflops T] [--gpu-mem-gb M] [--link-gbps B]\n"
          "                 [--mfu F] [--set ...]\n"
          "       s1c-train --print-config --config FILE [--set ...]\n"
          "  --device        cpu (MPI collectives) or cuda (one GPU per rank by local rank, NCCL collectives):\n"
          "                  sets train.device and train.comm; cpu-bf16 (MPI) emulates the GPU's bf16 storage\n"
          "                  on the CPU, for tests (needs train.precision bf16)\n"
          "  --resume        continue from the newest complete checkpoint under output.dir\n"
          "  --plan          per-rank memory breakdown and predicted step / run time on N GPUs\n"
          "                  (link: per-GPU Gbit/s of the slowest link the collectives cross)\n",
          fp);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int run_plan(s1c_train_config *tc, const s1c_plan_hw *hw) {
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
    uint32_t *lens = NULL;
    size_t n = 0;
    char source[S1C_PATH_MAX + 64];
    if (is_file(tc->data_path)) {
        s1c_packed *pk = s1c_packed_open(tc->data_path);
        if (!pk) {
            fprintf(stderr, "s1c-train --plan: %s\n", s1c_err_msg());
            return 2;
        }
        n = s1c_packed_n_samples(pk);
        lens = malloc((n ? n : 1) * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++) lens[i] = s1c_packed_length(pk, i);
        s1c_packed_close(pk);
        snprintf(source, sizeof source, "dataset %s: %zu samples", tc->data_path, n);
    } else {
        snprintf(source, sizeof source, "dataset estimate from plan.samples %d x plan.avg_tokens %.0f", tc->plan_samples,
                 tc->plan_avg_tokens);
    }
    s1c_plan_result r;
    s1c_status st = s1c_plan_compute(tc, &mc, hw, lens, n, &r);
    free(lens);
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
        return 2;
    }
    printf("model config: %s\n", mcp);
    s1c_plan_print(stdout, tc, &mc, hw, &r, source);
    return 0;
}

int main(int argc, char **argv) {
    s1c_train_config tc;
    s1c_train_config_defaults(&tc);
    const char *config = NULL, *resume_dir = NULL, *device = NULL;
    int plan = 0, print = 0, resume = 0;
    s1c_plan_hw hw = {0};
    int hw_given[5] = {0};
    const char **sets = calloc((size_t)argc + 1, sizeof(char *));
    int n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const int has_val = i + 1 < argc;
#define VAL(name)                                                                 \
    if (!has_val) {                                                               \
        fprintf(stderr, "s1c-train: %s needs a value\n", name);                   \
        return 2;                                                                 \
    }                                                                             \
    const char *v = argv[++i]
        if (!strcmp(a, "--config")) {
            VAL(a);
            config = v;
        } else if (!strcmp(a, "--set")) {
            VAL(a);
            sets[n_sets++] = v;
        } else if (!strcmp(a, "--device")) {
            VAL(a);
            if (strcmp(v, "cpu") != 0 && strcmp(v, "cuda") != 0 && strcmp(v, "cpu-bf16") != 0) {
                fprintf(stderr, "s1c-train: --device: expected cpu, cuda or cpu-bf16, got \"%s\"\n", v);
                return 2;
            }
            device = v;
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--resume-from")) {
            VAL(a);
            resume_dir = v;
        } else if (!strcmp(a, "--plan")) {
            plan = 1;
        } else if (!strcmp(a, "--print-config")) {
            print = 1;
        } else if (!strcmp(a, "--gpus") || !strcmp(a, "--gpu-tflops") || !strcmp(a, "--gpu-mem-gb") ||
                   !strcmp(a, "--link-gbps") || !strcmp(a, "--mfu")) {
            VAL(a);
            char *end;
            double x = strtod(v, &end);
            if (end == v || *end) {
                fprintf(stderr, "s1c-train: %s: expected a number, got \"%s\"\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--gpus")) hw.gpus = (int)x, hw_given[0] = 1;
            else if (!strcmp(a, "--gpu-tflops")) hw.gpu_tflops = x, hw_given[1] = 1;
            else if (!strcmp(a, "--gpu-mem-gb")) hw.gpu_mem_gb = x, hw_given[2] = 1;
            else if (!strcmp(a, "--link-gbps")) hw.link_gbps = x, hw_given[3] = 1;
            else hw.mfu = x, hw_given[4] = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "s1c-train: unknown argument \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
#undef VAL
    }
    if (!config) {
        fprintf(stderr, "s1c-train: --config FILE is required\n");
        usage(stderr);
        return 2;
    }
    s1c_status st = s1c_train_config_load(&tc, config);
    for (int i = 0; st == S1C_OK && i < n_sets; i++) st = s1c_train_config_set(&tc, sets[i]);
    free(sets);
    if (st == S1C_OK && device) {
        const int cuda = strcmp(device, "cuda") == 0;
        char set[64];
        snprintf(set, sizeof set, "train.device=%s", device);
        st = s1c_train_config_set(&tc, set);
        if (st == S1C_OK) st = s1c_train_config_set(&tc, cuda ? "train.comm=nccl" : "train.comm=mpi");
    }
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
        return 2;
    }
    if (print) {
        s1c_train_config_print(&tc, stdout);
        return 0;
    }
    if (plan) {
        if (s1c_train_config_validate(&tc, 0, 0) != S1C_OK) {
            fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
            return 2;
        }
        hw.gpus = hw_given[0] ? hw.gpus : 16;
        hw.gpu_tflops = hw_given[1] ? hw.gpu_tflops : 989;
        hw.gpu_mem_gb = hw_given[2] ? hw.gpu_mem_gb : 80;
        hw.link_gbps = hw_given[3] ? hw.link_gbps : 400;
        hw.mfu = hw_given[4] ? hw.mfu : 0.35;
        hw.reserve_gb = 3.0;
        return run_plan(&tc, &hw);
    }

    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK) {
        fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
        return 1;
    }
    // Every rank validates the same recipe, so all stop together before any work on a bad one.
    if (s1c_train_config_validate(&tc, d.size, 1) != S1C_OK) {
        if (d.rank == 0) fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
        s1c_dist_finalize(&d);
        return 2;
    }
    s1c_train_opts o = {resume, resume_dir};
    st = s1c_train_run(&tc, &d, &o);
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train: rank %d: %s\n", d.rank, s1c_err_msg());
        // a rank that cannot go on takes the job down rather than leaving the others blocked
        if (d.size > 1) s1c_dist_abort(1);
        s1c_dist_finalize(&d);
        return 1;
    }
    s1c_dist_finalize(&d);
    return 0;
}
