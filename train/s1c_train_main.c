// s1c-train: FSDP supervised fine-tuning of a Qwen2 model on a packed dataset, launched with
// mpirun/srun (one process per GPU, or per CPU rank); or --plan to size a run beforehand.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "packed.h"
#include "plan_cli.h"
#include "qwen2.h"
#include "s1c_mpi.h"
#include "trainer.h"

static void usage(FILE *fp) {
    fputs("usage: mpirun -np N s1c-train --config FILE [--device cpu|cuda|cpu-bf16] [--set section.key=value ...]\n"
          "                 [--resume | --resume-from DIR | --overwrite]\n"
          "       s1c-train --plan --config FILE [--gpus N] [--data FILE.h5] [cluster flags] [--set ...]\n"
          "       s1c-train --print-config --config FILE [--set ...]\n"
          "  --device        cpu (MPI collectives) or cuda (one GPU per rank by local rank, NCCL collectives):\n"
          "                  sets train.device and train.comm; cpu-bf16 (MPI) emulates the GPU's bf16 storage\n"
          "                  on the CPU, for tests (needs train.precision bf16)\n"
          "  --resume        continue from the newest complete checkpoint of output.dir's run\n"
          "  --overwrite     start afresh in an output.dir that holds checkpoints (removes them; refused otherwise)\n"
          "  --plan          per-rank memory and predicted step / run time on the recipe's cluster (its\n"
          "                  cluster: block, or the flags below), for both balance modes (docs/planner.md)\n",
          fp);
    fputs(s1c_plan_usage, fp);
}

int main(int argc, char **argv) {
    s1c_train_config tc;
    s1c_train_config_defaults(&tc);
    const char *config = NULL, *resume_dir = NULL, *device = NULL;
    int plan = 0, print = 0, resume = 0, overwrite = 0, k = 0;
    s1c_plan_cli pcli = {0};
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
        } else if (!strcmp(a, "--overwrite")) {
            overwrite = 1;
        } else if (!strcmp(a, "--resume-from")) {
            VAL(a);
            resume_dir = v;
        } else if (!strcmp(a, "--plan")) {
            plan = 1;
        } else if (!strcmp(a, "--print-config")) {
            print = 1;
        } else if ((k = s1c_plan_flag(&pcli, a, has_val ? argv[i + 1] : NULL)) != 0) {
            if (k < 0) {
                fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
                return 2;
            }
            i += k - 1;
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
    if (plan) return s1c_plan_main(&tc, &pcli);

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
    s1c_train_opts o = {resume, resume_dir, overwrite};
    int code = 0;
    st = s1c_train_run(&tc, &d, &o, &code);
    if (st != S1C_OK) {
        // every rank stops at the same step on a non-finite loss: one message, an orderly exit
        if (code != S1C_TRAIN_EXIT_NONFINITE || d.rank == 0) fprintf(stderr, "s1c-train: rank %d: %s\n", d.rank, s1c_err_msg());
        if (code == S1C_TRAIN_EXIT_NONFINITE) {
            s1c_dist_finalize(&d);
            return code;
        }
        // a rank that cannot go on takes the job down rather than leaving the others blocked
        if (d.size > 1) s1c_dist_abort(code);
        s1c_dist_finalize(&d);
        return code;
    }
    s1c_dist_finalize(&d);
    return code;
}
