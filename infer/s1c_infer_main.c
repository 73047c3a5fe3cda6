// s1c-infer — generation with budget forcing, evaluation, sweeps, grader self-test.
//
//   s1c-infer --selftest
//   s1c-infer grade --format F [--in FILE] [--out FILE]
//   s1c-infer regrade --samples samples.jsonl [--out DIR]
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
#include "cmd_regrade.h"
#include "cmd_sweep.h"
#include "eval_plan.h"
#include "eval.h"
#include "eval_args.h"
#include "grade/grade.h"
#include "prompts.h"
#include "s1c_file.h"
#include "s1c_mpi.h"
#include "serve/serve.h"

// Prompts file: see prompts.h. The returned buffer owns the texts.
static int load_prompts(const char *path, s1c_infer_cli *c, char **keep) {
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
    for (int i = 0; i < n; i++) s1c_infer_cli_add_prompt(c, lines[i]);
    free(lines);
    return 1;
}

int main(int argc, char **argv) {
    // A cluster job's log: every result line reaches the file when it is printed.
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "grade")) return s1c_cmd_grade(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "regrade")) return s1c_cmd_regrade(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "plan")) return s1c_eval_plan_main(argc - 1, argv + 1);  // eval_plan.h
    if (argc >= 2 && !strcmp(argv[1], "serve")) return s1c_serve_main(argc - 1, argv + 1);  // infer/serve/
    if (argc >= 2 && (!strcmp(argv[1], "--selftest") || !strcmp(argv[1], "selftest")))
        return s1c_grade_selftest(argc > 2 && !strcmp(argv[2], "-v")) ? 1 : 0;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        s1c_infer_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "generate") && strcmp(cmd, "eval") && strcmp(cmd, "sweep")) {
        fprintf(stderr, "s1c-infer: unknown command '%s'\n", cmd);
        s1c_infer_usage(stderr);
        return 2;
    }
    static s1c_infer_cli c;
    int pr = s1c_infer_cli_parse(argc, argv, &c);
    if (pr) return pr == 1 ? 0 : 2;
    int rank = 0, size = 1, mpi = s1c_dist_launched();
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
        st = s1c_sweep_run(ctx, &c, fmt, rank);
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
