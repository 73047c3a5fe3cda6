// lm_eval_out.h — `--output-format lm-eval`: the results JSON and samples JSONL that
// lm-evaluation-harness writes with --log_samples (the layout the s1 repo's eval scripts, such
// as compute_sample_stats.py, read), beside s1c's own files:
//   DIR/results_<date>.json          {"results": {TASK: {"exact_match,none": acc,
//                                     "exact_match_stderr,none": se, ...}}, "configs", "versions",
//                                     "n-shot", "n-samples", "higher_is_better", "config", "date",
//                                     "model_name", "s1c": summary.json}
//   DIR/samples_<TASK>_<date>.jsonl  one line per problem: doc_id, doc (the benchmark fields
//                                     s1c kept), target, arguments (prompt + generation kwargs),
//                                     resps [[generation] per sample], filtered_resps [extracted
//                                     per sample], filter "none", metrics ["exact_match"],
//                                     exact_match (mean over samples), doc_hash / prompt_hash /
//                                     target_hash (SHA-256 hex), and s1c's per-sample token counts.
// TASK is the s1 fork's task name: aime24_nofigures, openai_math, gpqa_diamond_openai.
#ifndef S1C_INFER_LM_EVAL_OUT_H
#define S1C_INFER_LM_EVAL_OUT_H

#include <cjson/cJSON.h>

#include "s1c_err.h"

// `summary` is summary.json's object, `recs` [n] samples.jsonl's records in problem order.
s1c_status s1c_lm_eval_write(const char *dir, const cJSON *summary, cJSON *const *recs, int n);

#endif
