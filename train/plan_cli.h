// plan_cli.h — s1c-train --plan: its flags and the run (model config, data lengths, print).
#ifndef S1C_PLAN_CLI_H
#define S1C_PLAN_CLI_H

#include "config.h"

typedef struct {
    char sets[16][S1C_PATH_MAX + 64];  // cluster.* assignments from the flags, applied after the recipe
    int n_sets;
    int gpus;          // --gpus N (0: the recipe's nodes x gpus_per_node)
    const char *data;  // --data FILE.h5 (NULL: data.path)
} s1c_plan_cli;

// One --plan flag: 2 when it took `value`, 0 when `flag` is not one of them, -1 (message) when it
// is but the value is missing or bad.
int s1c_plan_flag(s1c_plan_cli *o, const char *flag, const char *value);
// The usage lines of the flags.
extern const char s1c_plan_usage[];
// Applies the flags to the loaded recipe, plans and prints; the process exit status.
int s1c_plan_main(s1c_train_config *tc, const s1c_plan_cli *o);

#endif
