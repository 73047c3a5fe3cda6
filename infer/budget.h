// budget.h — budget forcing (the s1 method) as a per-sequence state machine over token ids.
//
// Phases: THINK → ANSWER → DONE. The engine feeds every sampled id to s1c_bf_step, which answers
// with an action: roll back r tokens from the end of the sequence (their KV slots are simply
// overwritten later), then append these ids. The sampled id itself is one of the appended ids
// unless it was dropped. Nothing is ever re-prefilled.
//
// THINK:
//  - The end-of-thinking delimiter may span several tokens; it is matched token by token.
//  - An attempt to end thinking is the delimiter's first token (early_trigger = 1, right when
//    that token is a special token such as <|im_start|>) or the whole delimiter (early_trigger =
//    0), or a stop id (<|im_end|>, eos). While thinking tokens < min_thinking, or ignores are
//    left, the attempt is dropped (any partial delimiter rolled back) and the wait string is
//    appended instead ("extension"; a min-thinking suppression uses the same continuation).
//  - Otherwise a full delimiter ends thinking naturally and the answer follows it; a stop id
//    during thinking ends thinking as EOS and the forced end below is appended so an answer
//    still follows.
//  - max_thinking B: when thinking tokens reach B the forced end is appended: "\n" if the text
//    does not end with one, the delimiter, the answer prefix. A partial delimiter and any tokens
//    ending in an incomplete UTF-8 character are rolled back first, so a character is never
//    split and thinking never exceeds B. The unconfirmed tokens of a partial delimiter do not
//    count towards B (s1/vLLM count the stop token inside max_tokens): a sample whose thinking
//    ends naturally after L tokens is forced at B = L and ends naturally at B >= L + 1.
//  - B = 0 forces the end before the first sampled token (answer at once). B < 0: no cap.
// ANSWER: a stop id finishes (finish = STOP); max_answer tokens finish with LENGTH.
#ifndef S1C_INFER_BUDGET_H
#define S1C_INFER_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "s1c_err.h"

#define S1C_BF_MAX_APPEND 96
#define S1C_BF_HIST 16

typedef enum { S1C_PHASE_THINK = 0, S1C_PHASE_ANSWER = 1, S1C_PHASE_DONE = 2 } s1c_phase;
typedef enum { S1C_END_NONE = 0, S1C_END_NATURAL = 1, S1C_END_FORCED = 2, S1C_END_EOS = 3 } s1c_think_end;
typedef enum {
    S1C_FINISH_NONE = 0,
    S1C_FINISH_STOP = 1,         // a stop id in the answer
    S1C_FINISH_STOP_STRING = 2,  // a stop string in the answer (set by the engine)
    S1C_FINISH_LENGTH = 3,       // max answer tokens
    S1C_FINISH_CONTEXT = 4       // the context window is full (set by the engine)
} s1c_finish;

const char *s1c_think_end_name(s1c_think_end e);
const char *s1c_finish_name(s1c_finish f);

// Token bytes (decoded text) for newline and UTF-8 checks.
typedef const char *(*s1c_token_bytes_fn)(void *ctx, int32_t id, size_t *len);

typedef struct {
    int max_thinking;  // < 0: no cap
    int min_thinking;  // 0: none
    int ignore;        // attempted ends replaced by the wait string
    int max_answer;    // answer tokens before LENGTH (> 0)
    int no_thinking;   // plain generation: start in the answer phase (no delimiter needed)
    int early_trigger;
    // s1 (its lm-eval fork, vllm_causallms.py) behaviours; all 0 is s1c's original machine:
    int end_on_delim_start;  // with early_trigger: the delimiter's first token ends thinking and
                             // the rest of the delimiter is appended (s1 stops on "<|im_start|>"
                             // and appends "<|im_start|>answer"); 0: the whole delimiter must follow
    int eos_delim_only;      // a stop id during thinking is dropped and only the delimiter is
                             // appended (s1); 0: the forced end (newline, delimiter, answer prefix)
    int min_tokens;          // the first N tokens of each thinking segment (after the prompt and
                             // after every continuation) cannot end thinking (s1: vLLM min_tokens=1
                             // when ignoring); an empty wait string bans at least one token
    const int32_t *delim;
    int n_delim;  // >= 1
    const int32_t *wait;
    int n_wait;  // may be 0 (the paper's empty-string ablation)
    const int32_t *answer_prefix;
    int n_answer_prefix;
    int32_t newline_id;
    const int32_t *stop_ids;
    int n_stop;
    s1c_token_bytes_fn token_bytes;
    void *token_ctx;
} s1c_bf_config;

// Checks sizes and values; budgets < 0 for min/ignore or min > max are refused.
s1c_status s1c_bf_config_check(const s1c_bf_config *c);

typedef struct {
    s1c_phase phase;
    int think_tokens, answer_tokens;
    int extensions;  // wait strings appended for ignore
    int min_extensions;  // wait strings appended because thinking was under min_thinking
    int ignores_left;
    int match;  // delimiter tokens matched at the end of the sequence
    s1c_think_end end;
    s1c_finish finish;
    // Set when an extension appended nothing (empty wait string): the next sampling must ban the
    // ending ids (s1c_bf_banned), or a greedy decoder would pick the same end forever.
    int ban_next;
    int ban_left;  // tokens of the current thinking segment that still cannot end it (min_tokens)
    // The last appended thinking ids, with the text state after each (for rollbacks).
    int n_hist;
    int32_t hist_id[S1C_BF_HIST];
    uint8_t hist_nl[S1C_BF_HIST];    // text ended with '\n' after this token
    uint8_t hist_utf8[S1C_BF_HIST];  // continuation bytes still missing after this token
    uint8_t nl0, utf80;              // the same before the oldest entry
} s1c_bf_state;

typedef struct {
    int rollback;
    int n;
    int32_t ids[S1C_BF_MAX_APPEND];
} s1c_bf_action;

// Starts a sequence whose prompt text ends with a newline or not. The action holds the forced
// end when max_thinking == 0 (else nothing).
void s1c_bf_start(const s1c_bf_config *c, s1c_bf_state *st, int prompt_ends_nl, s1c_bf_action *act);
void s1c_bf_step(const s1c_bf_config *c, s1c_bf_state *st, int32_t sampled, s1c_bf_action *act);
// Ids the next sampling must not produce (writes up to 1 + n_stop ids, returns the count).
int s1c_bf_banned(const s1c_bf_config *c, const s1c_bf_state *st, int32_t *out);

#endif
