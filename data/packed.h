// packed.h — the packed HDF5 training file written by `s1c-data pack` and read by the trainer.
//
// Layout (all datasets 1-D, chunked, zstd-compressed through HDF5 filter id 32015):
//   /input_ids  uint32 [n_tokens]   every sample's tokens, end to end
//   /loss_mask  uint8  [n_tokens]   1 on the assistant turn (after "<|im_start|>assistant\n")
//   /offsets    uint64 [n_samples]  first token of each sample
//   /lengths    uint32 [n_samples]  tokens of each sample
// Root attributes (strings): s1c_version, tokenizer_hash, template, source_sha256, format = "s1c-packed-v1";
// (int) truncated (samples cut by --max-length), max_length.
// The first 512 bytes are HDF5's user block, holding the seal (packed_seal.h: size + SHA-256 of the
// rest), checked before the HDF5 library reads the file. h5py opens sealed files unchanged.
#ifndef S1C_PACKED_H
#define S1C_PACKED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "s1c_err.h"

typedef struct s1c_packed s1c_packed;

// Opens and validates a packed file (datasets present, types and sizes consistent, offsets in
// range); a foreign or truncated file gives an error naming the file and dataset.
s1c_packed *s1c_packed_open(const char *path);
void s1c_packed_close(s1c_packed *p);
size_t s1c_packed_n_samples(const s1c_packed *p);
size_t s1c_packed_n_tokens(const s1c_packed *p);
uint32_t s1c_packed_length(const s1c_packed *p, size_t i);
// Reads sample i: ids[len] (as int32) and mask[len]; buffers sized by s1c_packed_length.
s1c_status s1c_packed_read(s1c_packed *p, size_t i, int32_t *ids, uint8_t *mask);
// A root string attribute (NULL if absent); valid until close.
const char *s1c_packed_attr(const s1c_packed *p, const char *name);

// Every sample read once (packed_check.c).
typedef struct {
    uint64_t n_samples, n_tokens, loss_tokens;
    int64_t max_id;             // the largest token id (-1: no tokens)
    uint64_t max_id_sample;     // the first sample holding it
    uint64_t no_loss_samples;   // samples with loss_mask 0 everywhere
    uint64_t first_no_loss;     // the first of them
    // block_size > 0: as the trainer sees the samples, cut to block_size tokens, each token from
    // the second on a target predicted from those before it
    uint64_t block_targets;          // targets in the loss
    uint64_t block_no_loss_samples;  // samples with none
    uint64_t first_loss_min;         // the earliest loss target of any sample (UINT64_MAX: none)
} s1c_packed_summary;
s1c_status s1c_packed_scan(s1c_packed *p, int block_size, s1c_packed_summary *out);

// s1c-train's checks when it opens its data, before the first step (issue 13): the tokenizer
// recorded by pack (tokenizer_hash) equals model_dir/tokenizer.json's unless allowed (not compared
// when either is missing: a note); every id < vocab_size; some token in the loss, and some within
// block_size. Errors name `path` and what to change; notes (may be NULL) get the warnings.
s1c_status s1c_packed_check_train(s1c_packed *p, const char *path, int vocab_size, int block_size,
                                  const char *model_dir, int allow_tokenizer_mismatch, FILE *notes);

#endif
