// synth.h — `s1c-data synth`: a synthetic pool in the s1 schema where thinking longer helps.
//
// Task family: left-to-right chains of small operations modulo M (M = 10 by default, so every
// number is one digit). A problem is a start value and k operations; difficulty = k steps.
//   question  "mod 10: 7 +5 *3 -8 max4 min2"
//   trace     "7+5=2\n2*3=6\n6-8=8\n8max4=8\n8min2=2"      (thinking_trajectories: one string)
//   attempt   "Answer: 2"                                  solution "2"
// Each trace line is one operation on two short numbers, so a small model can compute step by
// step; the final value is only available after k such lines, and the trace grows linearly with
// k. Without the trace a model must compose k operations in one go, which gets harder with k —
// so on held-out problems, accuracy rises with the thinking tokens allowed. The vocabulary is
// digits, "+-*=:", "max", "min", "mod", "Answer" and newline/space: a byte-level tokenizer fits.
//
// Domains (operation families, the diversity stage's "domains"):
//   addsub  +d -d        muladd  *d +d        minmax  max d, min d, +d        mixed  all five
// Annotations: domain, source_type "synth/<domain>", cot_type "math", metadata (JSON text with
// steps and modulus), difficulty probes isqwen7bcorrect / isqwen32bcorrect drawn with success
// probability falling with k (a weak probe solves up to ~3 steps, a strong one up to ~7), and a
// share of quality defects: null attempt, API-error trace, "![Image]", "[asy]" (half of those
// with source_type "AIME", which the rules allow), "p1." enumerations, bold digits, exact
// duplicates of an earlier question, and (with --heldout) copies of held-out questions, which
// decontamination must catch. Held-out problems never occur in the pool otherwise.
//
// Self-verification traces (slip_rate / recheck_rate > 0; `--slips F --rechecks F`): each step
// independently slips with probability slip_rate: the teacher misreads the operand by one or
// loses one in the result, writes the wrong line, then "<word> " and the step re-derived from the
// question, right, and carries on from the right value. A step that did not slip is re-checked
// and confirmed with probability recheck_rate. <word> is "Wait" (60%), "Hmm" (25%) or
// "Alternatively" (15%), the continuation strings of the paper's Table 4. The answer is always
// the right one:
//   "7+5=2\n2*4=8\nWait 2*3=6\n6-8=8\nHmm 6-8=8\n8max4=8"      (a slip at step 2, a re-check at 3)
// With again_rate > 0 (`--recheck-again F`), each continuation line is followed by another one that
// re-derives the same step right with probability F (a second look after the first, as real traces'
// "Wait, ... Wait, let me check again"), up to S1C_SYNTH_MAX_RUN in a row: "6-8=8\nWait 6-8=8\nHmm 6-8=8".
//
// Selection axes (data/synth_axes.h, synth_pool_axes.c; `--wrong F --probe-structure S
// --domain-mix a,b,c,d`, all off by default): traces with one uncorrected slip and a wrong attempt
// (quality that curation cannot see), probe difficulty from the operations as well as k
// (difficulty), and a skewed domain mix against the balanced held-out set (diversity).
#ifndef S1C_SYNTH_H
#define S1C_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "s1c_err.h"

typedef struct {
    size_t n;
    uint64_t seed;
    int modulus;                 // 10
    int min_steps, max_steps;    // 1, 24; k is uniform in [min, max]
    double defect_rate;          // 0.05: share of records with a quality defect
    double duplicate_rate;       // 0.01
    double contaminate_rate;     // 0.002 (only with heldout > 0)
    double slip_rate;            // 0: per step, a slip followed by its correction
    double recheck_rate;         // 0: per right step, a re-check that confirms it
    double again_rate;           // 0: after a continuation line, another one re-deriving the same
                                 //    step (runs of up to S1C_SYNTH_MAX_RUN lines, as 6x "Wait" asks)
    double wrong_rate;           // 0: share of records with an uncorrected slip (data/synth_axes.h)
    double probe_structure;      // 0: probes' difficulty weighs '*' up, max/min down (synth_axes.h)
    double domain_mix[4];        // all 0 = uniform: pool shares of the four domains (synth_axes.h)
    size_t heldout;              // problems written to heldout_out, disjoint from the pool
    const char *out, *heldout_out;
} s1c_synth_opts;

enum { S1C_SYNTH_N_WORDS = 3 };  // continuation words: Wait, Hmm, Alternatively
enum { S1C_SYNTH_MAX_RUN = 6 };  // the most continuation lines in a row (--recheck-again)

typedef struct {
    size_t records, defects, duplicates, contaminated, heldout, wrong;
    uint64_t bytes;
    size_t steps, slips, rechecks;       // over the written traces
    size_t again;                        // continuation lines after a continuation line
    size_t words[S1C_SYNTH_N_WORDS];     // continuation lines per word
} s1c_synth_stats;

// What s1c_synth_check_verify_trace found in a trace.
typedef struct {
    int steps, slips, rechecks, again;
    int words[S1C_SYNTH_N_WORDS];
} s1c_synth_trace_info;

void s1c_synth_opts_default(s1c_synth_opts *o);
s1c_status s1c_synth_run(const s1c_synth_opts *o, s1c_synth_stats *stats);

// Solves a question in the format above: the final value, or -1 when it does not parse.
// Used by tests and by evaluation on held-out problems.
int s1c_synth_solve(const char *question);
// Checks a trace against its question (every line well-formed and correct, k lines): 1 or 0.
int s1c_synth_check_trace(const char *question, const char *trace);
// Checks a self-verification trace: every step line carries the previous value and the question's
// operation; a wrong line (operand or result) is followed at once by a continuation-word line that
// re-derives the step right; a continuation line after a right line repeats it; k steps, right
// answer; further continuation lines in a row (--recheck-again) repeat the right step too (at most
// S1C_SYNTH_MAX_RUN in a row). 1 or 0; *info counts steps, slips, re-checks, runs' extra lines
// (again) and words. A plain trace passes with no slips.
int s1c_synth_check_verify_trace(const char *question, const char *trace, s1c_synth_trace_info *info);
// The continuation word w (0..S1C_SYNTH_N_WORDS-1) and its configured share of continuation lines.
const char *s1c_synth_word(int w, double *share);

#endif
