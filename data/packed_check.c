// What a packed file holds, read once (s1c-data stats), and the checks s1c-train makes of it
// before its first step (contract: packed.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packed.h"
#include "tokenizer.h"

s1c_status s1c_packed_scan(s1c_packed *p, int block_size, s1c_packed_summary *out) {
    memset(out, 0, sizeof *out);
    out->max_id = -1;
    out->first_loss_min = UINT64_MAX;
    const size_t n = s1c_packed_n_samples(p);
    uint32_t longest = 0;
    for (size_t i = 0; i < n; i++)
        if (s1c_packed_length(p, i) > longest) longest = s1c_packed_length(p, i);
    int32_t *ids = s1c_xmalloc((size_t)(longest ? longest : 1) * sizeof *ids);
    uint8_t *mask = s1c_xmalloc(longest ? longest : 1);
    s1c_status st = S1C_OK;
    for (size_t i = 0; i < n && st == S1C_OK; i++) {
        const uint32_t len = s1c_packed_length(p, i);
        if ((st = s1c_packed_read(p, i, ids, mask)) != S1C_OK) break;
        uint64_t loss = 0, first_target = 0, in_block = 0;
        // the trainer's targets are tokens 1..len-1 of the sample cut to block_size (a token is
        // predicted from the ones before it)
        const uint32_t cut = block_size > 0 && len > (uint32_t)block_size ? (uint32_t)block_size : len;
        for (uint32_t k = 0; k < len; k++) {
            if (ids[k] > out->max_id) {
                out->max_id = ids[k];
                out->max_id_sample = i;
            }
            if (mask[k]) {
                loss++;
                if (k >= 1 && !first_target) first_target = k;
                if (k >= 1 && k < cut) in_block++;
            }
        }
        out->n_tokens += len;
        out->loss_tokens += loss;
        out->block_targets += in_block;
        if (!loss && out->no_loss_samples++ == 0) out->first_no_loss = i;
        if (!in_block) out->block_no_loss_samples++;
        if (first_target && first_target < out->first_loss_min) out->first_loss_min = first_target;
    }
    out->n_samples = n;
    free(ids);
    free(mask);
    return st;
}

s1c_status s1c_packed_check_train(s1c_packed *p, const char *path, int vocab_size, int block_size,
                                  const char *model_dir, int allow_tokenizer_mismatch, FILE *notes) {
    // The tokenizer first: a mismatch explains the other failures below.
    const char *packed_hash = s1c_packed_attr(p, "tokenizer_hash");
    char model_hash[65];
    int have = model_dir ? s1c_tokenizer_file_hash(model_dir, model_hash) : 0;
    if (have < 0) return S1C_ERR;
    if (packed_hash && have && strcmp(packed_hash, model_hash) != 0) {
        if (!allow_tokenizer_mismatch)
            return s1c_err("%s: packed with another tokenizer than the model's (tokenizer_hash %.12s..., %s/tokenizer.json "
                           "%.12s...): pack it again with --tokenizer %s, or set data.allow_tokenizer_mismatch: true "
                           "if the two tokenize alike",
                           path, packed_hash, model_dir, model_hash, model_dir);
        if (notes)
            fprintf(notes, "s1c-train: note: %s was packed with another tokenizer than %s/tokenizer.json "
                           "(data.allow_tokenizer_mismatch: true)\n", path, model_dir);
    } else if (notes && (!packed_hash || !have))
        fprintf(notes, "s1c-train: note: tokenizer not compared (%s)\n",
                !packed_hash ? "the data file records no tokenizer_hash" : "the model directory holds no tokenizer.json");
    s1c_packed_summary s;
    S1C_TRY(s1c_packed_scan(p, block_size, &s));
    if (s.max_id >= vocab_size)
        return s1c_err("%s: sample %llu holds token id %lld but the model's vocabulary has %d ids (config.json "
                       "vocab_size): packed with another tokenizer?",
                       path, (unsigned long long)s.max_id_sample, (long long)s.max_id, vocab_size);
    if (s.n_samples == 0) return s1c_err("%s: holds no samples", path);
    if (s.loss_tokens == 0)
        return s1c_err("%s: no token is in the loss (loss_mask is 0 in all %llu samples): nothing to train on; "
                       "was the response template found when it was packed?",
                       path, (unsigned long long)s.n_samples);
    if (s.block_targets == 0)
        return s1c_err("%s: data.block_size %d cuts every sample before its first loss token (the earliest is at "
                       "token %llu): nothing to train on; raise data.block_size",
                       path, block_size, (unsigned long long)s.first_loss_min);
    if (notes && s.block_no_loss_samples)
        fprintf(notes, "s1c-train: note: %llu of %llu samples have no token in the loss within data.block_size %d "
                       "(they add nothing to the gradient)\n",
                (unsigned long long)s.block_no_loss_samples, (unsigned long long)s.n_samples, block_size);
    return S1C_OK;
}
