// cli_run.h — what the tests that drive the s1c-train binary share (tests/train/test_train_e2e.c,
// tests/cuda/test_cuda_train_cli.c): run a command with its output captured, read a run's loss
// curve, compare two runs' exported weights, test for a file.
#ifndef S1C_TESTS_CLI_RUN_H
#define S1C_TESTS_CLI_RUN_H

#include <stddef.h>
#include <sys/types.h>

// Runs argv (argv[0] looked up in PATH; NULL-terminated) with stdout and stderr into log_path,
// after setting the NULL-terminated name/value pairs of env (may be NULL) in the child. Returns
// the exit status (128 + signal when killed); out[cap] receives the head of the log.
int cli_run(const char *const *argv, const char *const *env, const char *log_path, char *out, size_t cap);
// The same start without waiting: returns the child's pid (or -1) for the caller to wait on.
pid_t cli_spawn(const char *const *argv, const char *const *env, const char *log_path);

// Losses of OUT/metrics.jsonl in step order into loss[cap]; returns how many, or -1 (with a
// message in s1c_err_msg) when the file is missing or a step is out of order.
int cli_read_losses(const char *out_dir, double *loss, int cap);

// Relative L2 difference (|a - b| / |b|) of every unit of the fp32 weights exported under
// A/hf and B/hf into rel[cap]; returns the number of units, or -1 with a message. A non-finite
// weight in A gives an infinite difference.
int cli_export_rel_l2(const char *run_a, const char *run_b, double *rel, int cap);

// 1 when the path formatted from fmt exists.
int cli_exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
