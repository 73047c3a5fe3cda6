// s1c-infer — generation with budget forcing, evaluation, sweeps, grader self-test.
//
//   s1c-infer --selftest
//   s1c-infer generate --model DIR (--prompt TEXT ... | --prompts FILE) [--raw] [options] [--out FILE]
//   s1c-infer eval  --model DIR --benchmark FILE --format aime|math|gpqa --out DIR [options]
//   s1c-infer sweep --model DIR --benchmark FILE --format F --out DIR (--budgets B1,B2,.. | --ignores N1,N2,..)
//
// Under mpirun, eval and sweep split the problems across ranks and rank 0 writes merged results.
#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_grade.h"
#include "eval.h"
#include "grade/grade.h"
#include "prompts.h"
#include "s1c_file.h"

static void usage(void) {
    fprintf(stderr,
            "usage:\n"
            "  s1c-infer --selftest\n"
            "  s1c-infer generate --model DIR (--prompt TEXT ... | --prompts FILE) [--raw] [--out FILE] [options]\n"
            "  s1c-infer eval  --model DIR --benchmark FILE --format aime|math|gpqa --out DIR [options]\n"
            "  s1c-infer sweep --model DIR --benchmark FILE --format F --out DIR (--budgets LIST | --ignores LIST) [options]\n"
            "options:\n"
            "  --tokenizer DIR   tokenizer.json location (default: the model dir)\n"
            "  --device cpu|cuda|cpu-bf16   (cpu-bf16: the GPU's bf16 storage emulated on the CPU, for tests)\n"
            "  --weights-dtype bf16|fp32|auto  matrix weights on the CPU (default auto: bf16 when the checkpoint's are)\n"
            "  --max-thinking B  cap thinking at B tokens, then force the answer (0 = answer at once; default none)\n"
            "  --min-thinking M  suppress the end of thinking before M tokens\n"
            "  --ignore N        replace the first N attempts to end thinking by --wait (default 0)\n"
            "  --wait STR        continuation string (default \"Wait\"; \"\" allowed)\n"
            "  --think-end STR   end-of-thinking delimiter (default \"<|im_start|>answer\")\n"
            "  --answer-prefix STR  after a forced end (default \"\\nFinal Answer:\")\n"
            "  --stop STR        stop string for the answer (repeatable, up to 8)\n"
            "  --temperature T --top-p P --top-k K --n N --seed S   sampling (default greedy, n 1, seed 0)\n"
            "  --control token|step|class|rejection  the paper's other length controls\n"
            "  --control-budget N  N in the token/step-conditional prompt (default --max-thinking)\n"
            "  --class short|long  class-conditional instruction (default short)\n"
            "  --step-delim STR  counted as a thinking step (default \"\\n\\n\")\n"
            "  --rejection-tries K  resampling cap of --control rejection (default 16)\n"
            "  --max-answer N    answer tokens (default 2048)   --max-new N  all generated tokens (default 32768)\n"
            "  --limit N         first N problems only\n"
            "  --max-batch N --kv-blocks N --block-size N --max-context N   engine sizes (KV blocks default:\n"
            "                   every sequence at full context, or 90%% of free device memory if less)\n"
            "  --step-tokens N  rows per forward step; longer prompts are prefilled in chunks (default 2048 + max-batch)\n"
            "  --quiet\n");
}

static int parse_int(const char *flag, const char *v, long lo, long hi, int *out) {
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "s1c-infer: %s '%s': expected an integer in [%ld, %ld]\n", flag, v ? v : "", lo, hi);
        return 0;
    }
    *out = (int)x;
    return 1;
}

static int parse_float(const char *flag, const char *v, double lo, double hi, float *out) {
    char *end = NULL;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end != '\0' || !(x >= lo && x <= hi)) {
        fprintf(stderr, "s1c-infer: %s '%s': expected a number in [%g, %g]\n", flag, v ? v : "", lo, hi);
        return 0;
    }
    *out = (float)x;
    return 1;
}

static int parse_list(const char *flag, const char *v, int *out, int cap) {
    int n = 0;
    char *copy = s1c_xstrdup(v ? v : "");
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        if (n == cap || !parse_int(flag, tok, 0, 100000000, &out[n])) {
            free(copy);
            return -1;
        }
        n++;
    }
    free(copy);
    if (n == 0) fprintf(stderr, "s1c-infer: %s: empty list\n", flag);
    return n;
}

typedef struct {
    s1c_eval_opts o;
    const char *benchmark, *format, *out;
    const char *prompts_file;
    const char **prompts;  // [n_prompts]: argv strings or lines of the prompts file (grows by doubling)
    int n_prompts, cap_prompts, raw;
    int budgets[64], n_budgets, ignores[64], n_ignores;
} cli;

static void add_prompt(cli *c, const char *p) {
    if (c->n_prompts == c->cap_prompts) {
        c->cap_prompts = c->cap_prompts ? 2 * c->cap_prompts : 16;
        c->prompts = s1c_xrealloc(c->prompts, (size_t)c->cap_prompts * sizeof *c->prompts);
    }
    c->prompts[c->n_prompts++] = p;
}

static int parse(int argc, char **argv, cli *c) {
    s1c_eval_opts_default(&c->o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
#define FLAG(name) (strcmp(a, name) == 0)
        if (FLAG("--raw")) {
            c->raw = 1;
            used = 0;
        } else if (FLAG("--quiet")) {
            c->o.quiet = 1;
            used = 0;
        } else if (!v) {
            fprintf(stderr, "s1c-infer: %s needs a value\n", a);
            return 0;
        } else if (FLAG("--model")) c->o.model_dir = v;
        else if (FLAG("--tokenizer")) c->o.tokenizer_dir = v;
        else if (FLAG("--device")) c->o.device = v;
        else if (FLAG("--weights-dtype")) c->o.weights_dtype = v;
        else if (FLAG("--benchmark")) c->benchmark = v;
        else if (FLAG("--format")) c->format = v;
        else if (FLAG("--out")) c->out = v;
        else if (FLAG("--prompts")) c->prompts_file = v;
        else if (FLAG("--prompt")) {
            add_prompt(c, v);
        } else if (FLAG("--max-thinking")) {
            if (v[0] == '-') {
                fprintf(stderr, "s1c-infer: --max-thinking %s: a budget must be >= 0 (omit the flag for no cap; 0 "
                                "answers at once)\n", v);
                return 0;
            }
            if (!parse_int(a, v, 0, 100000000, &c->o.max_thinking)) return 0;
        } else if (FLAG("--min-thinking")) {
            if (!parse_int(a, v, 0, 100000000, &c->o.min_thinking)) return 0;
        } else if (FLAG("--ignore")) {
            if (!parse_int(a, v, 0, 1000000, &c->o.ignore)) return 0;
        } else if (FLAG("--wait")) c->o.wait = v;
        else if (FLAG("--think-end")) c->o.think_end = v;
        else if (FLAG("--answer-prefix")) c->o.answer_prefix = v;
        else if (FLAG("--stop")) {
            if (c->o.n_stop_strings == 8) {
                fprintf(stderr, "s1c-infer: at most 8 --stop strings\n");
                return 0;
            }
            c->o.stop_strings[c->o.n_stop_strings++] = v;
        } else if (FLAG("--temperature")) {
            if (!parse_float(a, v, 0, 100, &c->o.sampling.temperature)) return 0;
        } else if (FLAG("--top-p")) {
            if (!parse_float(a, v, 0, 1, &c->o.sampling.top_p)) return 0;
        } else if (FLAG("--top-k")) {
            if (!parse_int(a, v, 0, 100000000, &c->o.sampling.top_k)) return 0;
        } else if (FLAG("--n")) {
            if (!parse_int(a, v, 1, 1024, &c->o.n)) return 0;
        } else if (FLAG("--seed")) {
            char *end = NULL;
            unsigned long long s = strtoull(v, &end, 10);
            if (end == v || *end || v[0] == '-') {
                fprintf(stderr, "s1c-infer: --seed '%s': expected a non-negative integer\n", v);
                return 0;
            }
            c->o.seed = s;
        } else if (FLAG("--control")) {
            if (!strcmp(v, "token")) c->o.control = S1C_CONTROL_TOKEN;
            else if (!strcmp(v, "step")) c->o.control = S1C_CONTROL_STEP;
            else if (!strcmp(v, "class")) c->o.control = S1C_CONTROL_CLASS;
            else if (!strcmp(v, "rejection")) c->o.control = S1C_CONTROL_REJECTION;
            else if (!strcmp(v, "none")) c->o.control = S1C_CONTROL_NONE;
            else {
                fprintf(stderr, "s1c-infer: --control '%s': expected token, step, class, rejection or none\n", v);
                return 0;
            }
        } else if (FLAG("--control-budget")) {
            if (!parse_int(a, v, 0, 100000000, &c->o.control_budget)) return 0;
        } else if (FLAG("--class")) {
            if (strcmp(v, "short") && strcmp(v, "long")) {
                fprintf(stderr, "s1c-infer: --class '%s': expected short or long\n", v);
                return 0;
            }
            c->o.class_long = !strcmp(v, "long");
        } else if (FLAG("--step-delim")) c->o.step_delim = v;
        else if (FLAG("--rejection-tries")) {
            if (!parse_int(a, v, 1, 100000, &c->o.rejection_tries)) return 0;
        } else if (FLAG("--max-answer")) {
            if (!parse_int(a, v, 1, 100000000, &c->o.max_answer)) return 0;
        } else if (FLAG("--max-new")) {
            if (!parse_int(a, v, 1, 100000000, &c->o.max_new)) return 0;
        } else if (FLAG("--limit")) {
            if (!parse_int(a, v, 0, 100000000, &c->o.limit)) return 0;
        } else if (FLAG("--max-batch")) {
            if (!parse_int(a, v, 1, 1024, &c->o.engine.max_batch)) return 0;
        } else if (FLAG("--kv-blocks")) {
            if (!parse_int(a, v, 1, 100000000, &c->o.engine.kv_blocks)) return 0;
        } else if (FLAG("--step-tokens")) {
            if (!parse_int(a, v, 1, 100000000, &c->o.engine.step_tokens)) return 0;
        } else if (FLAG("--block-size")) {
            if (!parse_int(a, v, 1, 4096, &c->o.engine.block_size)) return 0;
        } else if (FLAG("--max-context")) {
            if (!parse_int(a, v, 2, 100000000, &c->o.engine.max_context)) return 0;
        } else if (FLAG("--budgets")) {
            if ((c->n_budgets = parse_list(a, v, c->budgets, 64)) <= 0) return 0;
        } else if (FLAG("--ignores")) {
            if ((c->n_ignores = parse_list(a, v, c->ignores, 64)) <= 0) return 0;
        } else {
            fprintf(stderr, "s1c-infer: unknown option '%s'\n", a);
            return 0;
        }
#undef FLAG
        i += used;
    }
    if (c->o.max_thinking >= 0 && c->o.min_thinking > c->o.max_thinking) {
        fprintf(stderr, "s1c-infer: --min-thinking %d exceeds --max-thinking %d\n", c->o.min_thinking, c->o.max_thinking);
        return 0;
    }
    return 1;
}

// Prompts file: see prompts.h. The returned buffer owns the texts.
static int load_prompts(const char *path, cli *c, char **keep) {
    char *text = NULL;
    size_t len;
    const char **lines = NULL;
    int n = 0;
    if (s1c_read_file(path, &text, &len) != S1C_OK || s1c_prompts_parse(path, text, len, &lines, &n) != S1C_OK) {
        fprintf(stderr, "s1c-infer: %s\n", s1c_err_msg());
        free(text);
        return 0;
    }
    *keep = text;
    for (int i = 0; i < n; i++) add_prompt(c, lines[i]);
    free(lines);
    return 1;
}

static int launched_by_mpi(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "grade")) return s1c_cmd_grade(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--selftest") || !strcmp(argv[1], "selftest")))
        return s1c_grade_selftest(argc > 2 && !strcmp(argv[2], "-v")) ? 1 : 0;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "generate") && strcmp(cmd, "eval") && strcmp(cmd, "sweep")) {
        fprintf(stderr, "s1c-infer: unknown command '%s'\n", cmd);
        usage();
        return 2;
    }
    static cli c;
    if (!parse(argc, argv, &c)) return 2;
    int rank = 0, size = 1, mpi = launched_by_mpi();
    if (mpi) {
        MPI_Init(&argc, &argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
    if (size > 1 && !strcmp(cmd, "generate")) {
        if (rank == 0) fprintf(stderr, "s1c-infer: generate runs on one rank\n");
        MPI_Finalize();
        return 2;
    }
    s1c_status st = S1C_OK;
    char *prompts_text = NULL;
    s1c_bench_format fmt = S1C_BENCH_MATH;
    if (strcmp(cmd, "generate")) {
        if (!c.benchmark || !c.format || !c.out) st = s1c_err("%s needs --benchmark FILE --format F --out DIR", cmd);
        else st = s1c_bench_parse_format(c.format, &fmt);
        if (!st && !strcmp(cmd, "sweep") && !c.n_budgets && !c.n_ignores)
            st = s1c_err("sweep needs --budgets LIST or --ignores LIST");
    } else if (c.prompts_file && !load_prompts(c.prompts_file, &c, &prompts_text)) {
        st = S1C_ERR;
        s1c_err("%s: cannot use the prompts file", c.prompts_file);
    } else if (!c.n_prompts) {
        st = s1c_err("generate needs --prompt TEXT or --prompts FILE");
    }
    s1c_infer_ctx *ctx = NULL;
    if (!st) st = s1c_infer_ctx_create(&c.o, rank, size, &ctx);
    if (!st && !strcmp(cmd, "generate")) {
        st = s1c_generate_run(ctx, &c.o, c.prompts, c.n_prompts, c.raw, c.out);
    } else if (!st && !strcmp(cmd, "eval")) {
        s1c_run_point pt;
        st = s1c_eval_run(ctx, &c.o, c.benchmark, fmt, c.out, "eval", &pt);
    } else if (!st) {
        // sweep: one eval per budget (or ignore count), then CSV, metrics and the plot.
        int np = c.n_budgets ? c.n_budgets : c.n_ignores;
        s1c_run_point *pts = s1c_xcalloc((size_t)np, sizeof *pts);
        size_t dl = strlen(c.out) + 64;
        char *dir = s1c_xmalloc(dl), *label = s1c_xmalloc(64);
        for (int k = 0; k < np && !st; k++) {
            s1c_eval_opts o = c.o;
            if (c.n_budgets) {
                o.max_thinking = c.budgets[k];
                if (o.min_thinking > o.max_thinking) o.min_thinking = o.max_thinking;
                snprintf(label, 64, "budget=%d", c.budgets[k]);
                snprintf(dir, dl, "%s/budget_%d", c.out, c.budgets[k]);
            } else {
                o.ignore = c.ignores[k];
                snprintf(label, 64, "ignore=%d", c.ignores[k]);
                snprintf(dir, dl, "%s/ignore_%d", c.out, c.ignores[k]);
            }
            st = s1c_eval_run(ctx, &o, c.benchmark, fmt, dir, label, &pts[k]);
        }
        if (!st && rank == 0) {
            s1c_scaling_metrics m = s1c_metrics_compute(pts, np);
            snprintf(dir, dl, "%s/sweep.csv", c.out);
            st = s1c_metrics_write_csv(dir, pts, np, &m);
            if (!st) {
                printf("control %.4f  scaling %.6g (accuracy per thinking token)  performance %.4f\n", m.control,
                       m.scaling, m.performance);
                char *png = s1c_xmalloc(dl);
                snprintf(png, dl, "%s/sweep.png", c.out);
                if (s1c_metrics_plot(png, dir, "accuracy vs thinking tokens") != S1C_OK)
                    fprintf(stderr, "s1c-infer: warning: %s\n", s1c_err_msg());
                free(png);
            }
        }
        free(dir);
        free(label);
        free(pts);
    }
    s1c_infer_ctx_free(ctx);
    free(prompts_text);
    free(c.prompts);
    if (st) {
        fprintf(stderr, "s1c-infer: %s\n", s1c_err_msg());
        if (size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (mpi) MPI_Finalize();
    return st ? 1 : 0;
}
