// summary.h — summary.json of an evaluation run, built from its sample records, so that `eval`,
// `sweep` and `regrade` write the same thing: counts and token statistics, the field's metrics
// (metrics.h: accuracy ± stderr, pass@k, maj@k, MATH-500 per subject / level), every generation
// option and the provenance (s1c version, model directory with the hashes of config.json and of
// the weights index, the benchmark file's hash, the date).
//
// The date is the current UTC time, or SOURCE_DATE_EPOCH when set (the reproducible-builds
// convention: tests compare summaries byte for byte).
#ifndef S1C_INFER_SUMMARY_H
#define S1C_INFER_SUMMARY_H

#include <cjson/cJSON.h>

#include "eval.h"

// Appends the counts and metrics of records [n] (samples.jsonl objects in problem order) to
// `s`; a sample is within budget when its thinking is in [min_thinking, max_thinking] (< 0: no
// cap) and it has no error, or, when the record has a "within_budget" boolean (conditional
// controls: control_within.h), as that says. Fills *pt (label untouched).
void s1c_summary_add_metrics(cJSON *s, s1c_bench_format fmt, cJSON *const *records, int n, int min_thinking,
                             int max_thinking, s1c_run_point *pt);
// Every generation option, as summary.json's "options".
cJSON *s1c_summary_options(const s1c_eval_opts *o, const int32_t *stop_ids, int n_stop_ids);
// "provenance": version, model dir and hashes, benchmark hash (NULL benchmark: omitted), date.
cJSON *s1c_summary_provenance(const char *model_dir, const char *benchmark);
// "2026-12-03T15:40:00Z" (SOURCE_DATE_EPOCH when set).
void s1c_summary_date(char out[32]);
// Writes `s` to dir/summary.json atomically.
s1c_status s1c_summary_write(const char *dir, const cJSON *s);

#endif
