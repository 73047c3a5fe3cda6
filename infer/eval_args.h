// eval_args.h — the command line of `s1c-infer generate | eval | sweep` (getopt_long).
//
// Every option belongs to some of the three commands; an option of another command is refused
// as such ("--budgets is an option of sweep"), an unknown one as unknown, a missing value by
// name. `--help` prints the command's usage to stdout (exit 0).
#ifndef S1C_INFER_EVAL_ARGS_H
#define S1C_INFER_EVAL_ARGS_H

#include <stdio.h>

#include "eval.h"

#define S1C_MAX_SWEEP 64

typedef enum { S1C_CMD_GENERATE = 1, S1C_CMD_EVAL = 2, S1C_CMD_SWEEP = 4 } s1c_infer_cmd;

typedef struct {
    s1c_infer_cmd cmd;
    s1c_eval_opts o;
    const char *benchmark, *format, *out;
    const char *prompts_file;
    const char **prompts;  // [n_prompts]: argv strings or lines of the prompts file (grows by doubling)
    int n_prompts, cap_prompts, raw;
    int budgets[S1C_MAX_SWEEP], n_budgets, ignores[S1C_MAX_SWEEP], n_ignores;
    int resume;  // sweep: skip settings whose results are complete
} s1c_infer_cli;

// Parses argv[2..] of command argv[1]. Returns 0 (parsed), 1 (--help printed: exit 0) or 2 (an
// error was printed: exit 2).
int s1c_infer_cli_parse(int argc, char **argv, s1c_infer_cli *c);
void s1c_infer_cli_add_prompt(s1c_infer_cli *c, const char *p);
// The usage of every command (`s1c-infer --help`).
void s1c_infer_usage(FILE *fp);

#endif
