// cmd_sweep.h — `s1c-infer sweep`: one eval per budget (or ignore count) under DIR/budget_B/
// (DIR/ignore_N/), DIR/sweep.csv rewritten (atomically) after every setting so that a killed
// job keeps what it finished, the paper's metrics and the plot at the end. --resume skips the
// settings whose results are complete (s1c_eval_load_complete).
#ifndef S1C_INFER_CMD_SWEEP_H
#define S1C_INFER_CMD_SWEEP_H

#include "eval_args.h"

s1c_status s1c_sweep_run(s1c_infer_ctx *ctx, const s1c_infer_cli *c, s1c_bench_format fmt, int rank);

#endif
