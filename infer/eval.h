// eval.h — `s1c-infer eval` / `sweep` / `generate`: prompts in the s1 format, generation with
// budget forcing and the paper's other controls, extraction, grading, per-sample JSONL, summary,
// and data-parallel evaluation under mpirun (problems split round-robin across ranks, results
// merged on rank 0 in problem order — byte-identical to a single-rank run with the same seeds,
// as long as every rank computes the same logits, which the CPU backend does for a given batch).
#ifndef S1C_INFER_EVAL_H
#define S1C_INFER_EVAL_H

#include <stdint.h>

#include "bench_load.h"
#include "engine.h"
#include "metrics.h"
#include "qwen2.h"
#include "tokenizer.h"

typedef enum {
    S1C_CONTROL_NONE = 0,       // budget forcing only (--max-thinking / --ignore / --min-thinking)
    S1C_CONTROL_TOKEN = 1,      // "Think for up to N tokens." in the prompt
    S1C_CONTROL_STEP = 2,       // "Think for up to N steps." (steps = occurrences of --step-delim)
    S1C_CONTROL_CLASS = 3,      // a short / long thinking instruction
    S1C_CONTROL_REJECTION = 4   // temperature 1, resample until the thinking fits the budget
} s1c_control;

typedef struct {
    const char *model_dir, *tokenizer_dir, *device;
    const char *weights_dtype;  // bf16 | fp32 | auto (default: bf16 when the checkpoint's matrices are)
    const char *matmul_precision;  // bf16 | exact: be->wbf16_exact (ops.h; default bf16)
    int tp;                     // tensor-parallel degree: groups of tp consecutive ranks hold one model (0/1: none)
    const char *think_end;      // end-of-thinking delimiter (default <|im_start|>answer)
    const char *answer_prefix;  // appended after a forced end (default "\nFinal Answer:")
    const char *wait;           // continuation for --ignore / --min-thinking (default "Wait")
    const char *stop_strings[8];
    int n_stop_strings;
    int max_thinking, min_thinking, ignore;
    int max_answer, max_new;
    s1c_sampling sampling;
    int n;
    uint64_t seed;
    s1c_control control;
    int control_budget;          // N for token/step conditional prompts (default: max_thinking)
    int class_long;              // class-conditional: 0 short, 1 long
    const char *step_delim;      // counted as thinking steps (default "\n\n")
    int rejection_tries;
    int limit;                   // first N problems (0: all)
    s1c_engine_opts engine;
    int quiet;
    int progress_every;          // seconds between progress lines when stderr is not a terminal (0: off)
    int lm_eval_output;          // also write lm-eval's results JSON and samples JSONL
    const char *system;          // system turn (NULL: Qwen's default, as s1; "": none)
    const char *template_text;   // user turn, "{question}" replaced (NULL: the format's default)
    int model_writes_newline;    // the prompt ends "<|im_start|>think" and the model writes "\n" (s1)
    int think_stop_full;         // 1: the whole delimiter must be sampled; 0: its first (special)
                                 // token ends thinking and the rest is appended (s1)
    int eos_forced_end;          // <|im_end|> in thinking: 1 the forced end; 0 the delimiter only (s1)
    int min_tokens;              // < 0: s1's (1 with --ignore, else 0)
    int max_thinking_auto;       // --max-thinking auto (s1's formula, see infer/README.md)
} s1c_eval_opts;

void s1c_eval_opts_default(s1c_eval_opts *o);

// A copy of s[0..n) that is valid UTF-8 for JSON output: each byte that does not start a complete
// sequence (a generation cut inside a character, a NUL) becomes U+FFFD. Caller frees.
char *s1c_utf8_clean(const char *s, size_t n);

// The prompt of one question: system turn, user turn from `tmpl` ("{question}" replaced; NULL
// = the bare question) and `extra` (after a blank line), assistant turn opened with the think
// start (and "\n" unless o->model_writes_newline). With the defaults it is s1c_s1_prompt's text.
char *s1c_eval_prompt(const s1c_eval_opts *o, const char *tmpl, const char *question, const char *extra);
// The default user-turn template of a benchmark format.
const char *s1c_eval_default_template(s1c_bench_format fmt);

// Model, tokenizer, engine and the MPI layout, created once and reused across sweep points.
typedef struct s1c_infer_ctx s1c_infer_ctx;
s1c_status s1c_infer_ctx_create(const s1c_eval_opts *o, int rank, int size, s1c_infer_ctx **out);
void s1c_infer_ctx_free(s1c_infer_ctx *c);

// One evaluation run; rank 0 writes out_dir/samples.jsonl and out_dir/summary.json and fills
// *pt (other ranks get it too). All ranks must call it.
s1c_status s1c_eval_run(s1c_infer_ctx *c, const s1c_eval_opts *o, const char *benchmark, s1c_bench_format fmt,
                        const char *out_dir, const char *label, s1c_run_point *pt);

// sweep --resume: 1 when out_dir holds the complete results of this setting (summary.json,
// written after samples.jsonl, with the same options, model and benchmark hashes); *pt is
// then read back from it. All ranks must call it (rank 0 decides).
int s1c_eval_load_complete(const s1c_infer_ctx *c, const s1c_eval_opts *o, const char *benchmark, const char *out_dir,
                           const char *label, s1c_run_point *pt);

// Free-form generation of questions (s1 format with forcing) or raw prompts; JSONL to `out`.
s1c_status s1c_generate_run(s1c_infer_ctx *c, const s1c_eval_opts *o, const char *const *prompts, int n_prompts,
                            int raw, const char *out_path);

#endif
