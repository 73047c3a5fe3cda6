// s1c-train: FSDP supervised fine-tuning of a Qwen2 model on a packed dataset, launched with
// mpirun/srun (one process per GPU, or per CPU rank); --plan to size a run beforehand; `export`
// to turn a checkpoint into a Hugging Face directory.
#include <getopt.h>
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
          "       [mpirun -np N] s1c-train export --checkpoint DIR --out DIR [--config FILE] [--dtype bf16|f32]\n"
          "  --device        cpu (MPI collectives) or cuda (one GPU per rank by local rank, NCCL collectives):\n"
          "                  sets train.device and train.comm; cpu-bf16 (MPI) emulates the GPU's bf16 storage\n"
          "                  on the CPU, for tests (needs train.precision bf16)\n"
          "  --resume        continue from the newest complete checkpoint of output.dir's run\n"
          "  --overwrite     start afresh in an output.dir that holds checkpoints (removes them; refused otherwise)\n"
          "  --plan          per-rank memory and predicted step / run time on the recipe's cluster (its\n"
          "                  cluster: block, or the flags below), for both balance modes (docs/planner.md)\n"
          "  export          a complete checkpoint (OUT/checkpoints/step-N) to a Hugging Face directory; the\n"
          "                  recipe defaults to the run's own copy, DIR/../../config.yaml (model.path: config.json\n"
          "                  and tokenizer files); --dtype defaults to the recipe's output.export_dtype\n"
          "Exit statuses: 0 done, 1 error, 2 bad command line or recipe, 4 non-finite loss, 5 collective timeout,\n"
          "75 stopped by SIGTERM/SIGUSR1 after a checkpoint (requeue), 130 SIGINT (train/README.md).\n",
          fp);
    fputs(s1c_plan_usage, fp);
}

// Long options: ids >= 256 are s1c-train's own; the --plan flags map onto s1c_plan_flag.
enum { O_CONFIG = 256, O_SET, O_DEVICE, O_RESUME, O_RESUME_FROM, O_OVERWRITE, O_PLAN, O_PRINT, O_HELP, O_PLANFLAG };
static const char *const PLAN_FLAGS[] = {"gpus",      "data",          "nodes",      "gpus-per-node", "gpu",
                                         "nvlink-gbs", "nics-per-node", "nic-gbps",   "gpu-mem-gb",    "peak-tflops",
                                         "gemm-tflops", "attn-tflops"};
enum { N_PLAN_FLAGS = sizeof PLAN_FLAGS / sizeof PLAN_FLAGS[0] };

// getopt's own messages are off (opterr = 0): these name the flag as the user wrote it.
static int bad_flag(const char *prog, char **argv, int at, int missing_value) {
    const char *a = at > 0 ? argv[at - 1] : "?";
    if (missing_value) fprintf(stderr, "%s: %s needs a value\n", prog, a);
    else fprintf(stderr, "%s: unknown option \"%s\" (see --help)\n", prog, a);
    return S1C_TRAIN_EXIT_USAGE;
}

static int export_main(int argc, char **argv) {
    const char *ckpt = NULL, *out = NULL, *config = NULL, *dtype = NULL;
    static const struct option opts[] = {{"checkpoint", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
                                         {"config", required_argument, 0, 'r'},     {"dtype", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    for (int ch; (ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        switch (ch) {
            case 'c': ckpt = optarg; break;
            case 'o': out = optarg; break;
            case 'r': config = optarg; break;
            case 'd': dtype = optarg; break;
            case 'h': usage(stdout); return 0;
            case ':': return bad_flag("s1c-train export", argv, optind, 1);
            default: return bad_flag("s1c-train export", argv, optind, 0);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "s1c-train export: unexpected argument \"%s\"\n", argv[optind]);
        return S1C_TRAIN_EXIT_USAGE;
    }
    if (!ckpt || !out) {
        fprintf(stderr, "s1c-train export: --checkpoint DIR and --out DIR are required\n");
        return S1C_TRAIN_EXIT_USAGE;
    }
    char run_cfg[S1C_PATH_MAX + 32];
    if (!config) {
        snprintf(run_cfg, sizeof run_cfg, "%s/../../config.yaml", ckpt);
        config = run_cfg;
    }
    s1c_train_config tc;
    s1c_train_config_defaults(&tc);
    s1c_status st = s1c_train_config_load(&tc, config);
    if (st == S1C_OK && dtype) {
        char set[64];
        snprintf(set, sizeof set, "output.export_dtype=%s", dtype);
        st = s1c_train_config_set(&tc, set);
    }
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train export: %s%s\n", s1c_err_msg(),
                config == run_cfg ? " (the run's recipe next to its checkpoints; name one with --config)" : "");
        return S1C_TRAIN_EXIT_USAGE;
    }
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK) {
        fprintf(stderr, "s1c-train export: %s\n", s1c_err_msg());
        return S1C_TRAIN_EXIT_ERROR;
    }
    st = s1c_train_export(&tc, &d, ckpt, out, tc.export_dtype);
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-train export: rank %d: %s\n", d.rank, s1c_err_msg());
        if (d.size > 1) s1c_dist_abort(S1C_TRAIN_EXIT_ERROR);
    }
    s1c_dist_finalize(&d);
    return st == S1C_OK ? 0 : S1C_TRAIN_EXIT_ERROR;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "export")) return export_main(argc - 1, argv + 1);
    s1c_train_config tc;
    s1c_train_config_defaults(&tc);
    const char *config = NULL, *resume_dir = NULL, *device = NULL;
    int plan = 0, print = 0, resume = 0, overwrite = 0;
    s1c_plan_cli pcli = {0};
    const char **sets = calloc((size_t)argc + 1, sizeof(char *));
    int n_sets = 0;
    struct option opts[10 + N_PLAN_FLAGS + 1] = {
        {"config", required_argument, 0, O_CONFIG},   {"set", required_argument, 0, O_SET},
        {"device", required_argument, 0, O_DEVICE},   {"resume", no_argument, 0, O_RESUME},
        {"resume-from", required_argument, 0, O_RESUME_FROM}, {"overwrite", no_argument, 0, O_OVERWRITE},
        {"plan", no_argument, 0, O_PLAN},             {"print-config", no_argument, 0, O_PRINT},
        {"help", no_argument, 0, O_HELP},
    };
    int n_opts = 9;
    for (int i = 0; i < N_PLAN_FLAGS; i++) opts[n_opts++] = (struct option){PLAN_FLAGS[i], required_argument, 0, O_PLANFLAG + i};
    opts[n_opts] = (struct option){0, 0, 0, 0};
    opterr = 0;
    int rc = -1;
    for (int ch; rc < 0 && (ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        switch (ch) {
            case O_CONFIG: config = optarg; break;
            case O_SET: sets[n_sets++] = optarg; break;
            case O_DEVICE:
                if (strcmp(optarg, "cpu") != 0 && strcmp(optarg, "cuda") != 0 && strcmp(optarg, "cpu-bf16") != 0) {
                    fprintf(stderr, "s1c-train: --device: expected cpu, cuda or cpu-bf16, got \"%s\"\n", optarg);
                    rc = S1C_TRAIN_EXIT_USAGE;
                }
                device = optarg;
                break;
            case O_RESUME: resume = 1; break;
            case O_RESUME_FROM: resume_dir = optarg; break;
            case O_OVERWRITE: overwrite = 1; break;
            case O_PLAN: plan = 1; break;
            case O_PRINT: print = 1; break;
            case 'h':
            case O_HELP:
                usage(stdout);
                rc = 0;
                break;
            case ':': rc = bad_flag("s1c-train", argv, optind, 1); break;
            case '?': rc = bad_flag("s1c-train", argv, optind, 0); break;
            default: {
                char flag[64];
                snprintf(flag, sizeof flag, "--%s", PLAN_FLAGS[ch - O_PLANFLAG]);
                if (s1c_plan_flag(&pcli, flag, optarg) < 0) {
                    fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
                    rc = S1C_TRAIN_EXIT_USAGE;
                }
            }
        }
    }
    if (rc < 0 && optind < argc) {
        fprintf(stderr, "s1c-train: unexpected argument \"%s\" (options start with --; see --help)\n", argv[optind]);
        rc = S1C_TRAIN_EXIT_USAGE;
    }
    if (rc < 0 && !config) {
        fprintf(stderr, "s1c-train: --config FILE is required\n");
        usage(stderr);
        rc = S1C_TRAIN_EXIT_USAGE;
    }
    if (rc >= 0) {
        free(sets);
        return rc;
    }
    if (resume && overwrite) {
        fprintf(stderr, "s1c-train: --resume and --overwrite contradict each other\n");
        free(sets);
        return S1C_TRAIN_EXIT_USAGE;
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
        return S1C_TRAIN_EXIT_USAGE;
    }
    if (print) {
        s1c_train_config_print(&tc, stdout);
        return 0;
    }
    if (plan) return s1c_plan_main(&tc, &pcli);

    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK) {
        fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
        return S1C_TRAIN_EXIT_ERROR;
    }
    // Every rank validates the same recipe, so all stop together before any work on a bad one.
    if (s1c_train_config_validate(&tc, d.size, 1) != S1C_OK) {
        if (d.rank == 0) fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
        s1c_dist_finalize(&d);
        return S1C_TRAIN_EXIT_USAGE;
    }
    s1c_train_opts o = {resume, resume_dir, overwrite};
    int code = 0;
    st = s1c_train_run(&tc, &d, &o, &code);
    if (st != S1C_OK) {
        // every rank stops at the same step on a non-finite loss: one message, an orderly exit
        if (code == S1C_TRAIN_EXIT_NONFINITE) {
            if (d.rank == 0) fprintf(stderr, "s1c-train: %s\n", s1c_err_msg());
            s1c_dist_finalize(&d);
            return code;
        }
        fprintf(stderr, "s1c-train: rank %d: %s\n", d.rank, s1c_err_msg());
        // a rank that cannot go on takes the job down rather than leaving the others blocked
        if (d.size > 1) s1c_dist_abort(code);
    }
    s1c_dist_finalize(&d);
    return code;
}
