// packed_pack.h — `s1c-data pack`: tokenize s1-schema records in the s1 chat format and write the
// packed HDF5 training file (packed.h). Records are tokenized in parallel batches and appended in
// input order, so the output does not depend on the thread count.
#ifndef S1C_PACKED_PACK_H
#define S1C_PACKED_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "curate_record.h"
#include "pack_formats.h"
#include "s1c_err.h"
#include "tokenizer.h"

typedef enum { S1C_OVERFLOW_TRUNCATE, S1C_OVERFLOW_DROP } s1c_overflow;

typedef struct {
    const char *in, *out;
    const s1c_tokenizer *tok;
    s1c_fields fields;
    const char *trace_style;  // recorded in the attributes
    size_t max_length;        // 0: no limit
    s1c_overflow overflow;
    s1c_record_format format;  // S1C_FMT_AUTO: by each record's fields (pack_formats.h)
    int fields_given;          // field names or a trace style given: no s1K-1.1 detection
    const char *system;        // system prompt (NULL: Qwen's default)
    const char *response_template;  // text format (NULL: "<|im_start|>assistant\n")
    int level;  // zstd level (3)
    int skip_bad;
    FILE *log;
} s1c_pack_opts;

typedef struct {
    uint64_t records, samples, tokens, loss_tokens, truncated, dropped, bad, in_bytes;
    uint64_t formats[S1C_FMT_N];  // samples read as each format
    uint64_t no_loss;  // samples kept with no token in the loss (e.g. cut by max_length before the response)
    double seconds;
} s1c_pack_result;

void s1c_pack_opts_default(s1c_pack_opts *o);
s1c_status s1c_pack_run(const s1c_pack_opts *o, s1c_pack_result *res);

#endif
