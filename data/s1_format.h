// s1_format.h — the s1 chat format (Qwen2.5 chat template with think/answer sections).
//
// Training text of one example:
//   <|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n
//   <|im_start|>user\n{question}<|im_end|>\n
//   <|im_start|>assistant\n<|im_start|>think\n{trace}\n<|im_start|>answer\n{answer}<|im_end|>\n
// trace = thinking trajectories joined with "\n" and stripped; answer = attempt, prefixed with
// "Answer: " unless it already contains "Answer:", then stripped (s1's own script strips it too;
// stripping = Python's str.strip()). Loss starts right after "<|im_start|>assistant\n".
#ifndef S1C_S1_FORMAT_H
#define S1C_S1_FORMAT_H

#include <stddef.h>

#include "s1c_err.h"
#include "tokenizer.h"

#define S1C_DEFAULT_SYSTEM "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
#define S1C_THINK_START "<|im_start|>think"
#define S1C_THINK_END "<|im_start|>answer"
#define S1C_ANSWER_PREFIX "\nFinal Answer:"

// The full training text; *loss_start is the byte offset where the loss begins. Caller frees.
char *s1c_s1_training_text(const char *question, const char *const *trajectories, size_t n_traj,
                           const char *attempt, size_t *loss_start);
// The same with another system prompt (pack --system).
char *s1c_s1_training_text_system(const char *system, const char *question, const char *const *trajectories,
                                  size_t n_traj, const char *attempt, size_t *loss_start);
// The inference prompt, ending in "<|im_start|>assistant\n<|im_start|>think\n". `extra` (may be
// NULL) is appended to the user turn after a blank line (token-/step-/class-conditional controls).
char *s1c_s1_prompt(const char *question, const char *extra);

// Tokenizes a training text: appends its ids to *ids and returns in *mask (caller frees) one byte
// per appended token, 1 from the first token at or after loss_start. Tokenizing the prefix and the
// rest separately is exact because the rest starts with an added token ("<|im_start|>think");
// the implementation checks that and fails otherwise. On failure *ids is left as it was.
s1c_status s1c_s1_tokenize(const s1c_tokenizer *tok, const char *text, size_t loss_start, s1c_ids *ids,
                           unsigned char **mask);

#endif
