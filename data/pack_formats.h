// pack_formats.h — the record formats `s1c-data pack` reads, and each one's training text and
// loss mask. Detected per record (auto) or forced with --format:
//   s1        the s1 schema: question, thinking_trajectories, attempt (s1_format.h); an s1K-1.1
//             record (no thinking_trajectories, deepseek_thinking_trajectory/deepseek_attempt, or
//             only gemini_*) is recognised by its fields and packed with the deepseek (else gemini) trace
//   messages  TRL's conversational format: "messages": [{"role", "content"}, ...] rendered with the
//             Qwen2.5 chat template (the system turn from --system when the list has none); loss on
//             every assistant turn, through its <|im_end|>\n
//   prompt-completion  TRL's: "prompt" and "completion", strings (prompt + completion, no template;
//             loss on the completion, tokenized apart as TRL does) or lists of messages (the chat
//             template; loss on the completion's turns)
//   text      pre-rendered text: "text"; loss from after each response template
//             ("<|im_start|>assistant\n") up to the next instruction template ("<|im_start|>user"),
//             as TRL's DataCollatorForCompletionOnlyLM (what s1's training script used)
// Template matching is on token ids, so the loss starts exactly where TRL's would.
#ifndef S1C_PACK_FORMATS_H
#define S1C_PACK_FORMATS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "curate_record.h"
#include "s1c_err.h"
#include "tokenizer.h"

typedef enum { S1C_FMT_AUTO, S1C_FMT_S1, S1C_FMT_S1_DEEPSEEK, S1C_FMT_S1_GEMINI, S1C_FMT_MESSAGES,
               S1C_FMT_PROMPT_COMPLETION, S1C_FMT_TEXT, S1C_FMT_N } s1c_record_format;

// "auto", "s1", "messages", "prompt-completion", "text" (the s1K-1.1 variants are detected only).
s1c_status s1c_parse_format(const char *s, s1c_record_format *f);
// A description for the pack summary: "s1K-1.1 (trace field 'deepseek_thinking_trajectory', ...)".
const char *s1c_format_describe(s1c_record_format f, const s1c_fields *fields);

typedef struct {
    s1c_record_format forced;  // S1C_FMT_AUTO: by the record's fields
    s1c_fields fields;         // the s1 schema's field names
    int fields_given;          // the user named fields or a --trace style: no s1K-1.1 detection
    const char *system;        // system prompt (NULL: Qwen's default)
    const char *response_template, *instruction_template;  // text format (NULL: the defaults)
} s1c_format_opts;

// Tokenizes one record: ids appended to *ids, *mask (malloc'd) one byte per token, *used the
// format it was read as. -1 with the message set (the field at fault named; callers add file:line).
s1c_status s1c_format_tokenize(const s1c_format_opts *o, const s1c_tokenizer *tok, const cJSON *rec, s1c_ids *ids,
                               unsigned char **mask, s1c_record_format *used);

#endif
