// fuzz_tokenizer_encode — encoding arbitrary bytes with the real Qwen2.5 tokenizer (the
// committed fixture, read from its .zst). Encode must succeed exactly on valid UTF-8 (it refuses
// the rest, appending nothing); every id must be in the vocabulary; decoding the ids must give the
// NFC form of the input, i.e. decode(encode(x)) is stable under a second round trip.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "jsonl.h"
#include "tokenizer.h"

#ifndef S1C_TOKENIZER_DIR
#error "S1C_TOKENIZER_DIR must name tests/fixtures/tokenizer"
#endif

static s1c_tokenizer *tok;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok) {
        tok = s1c_tokenizer_load(S1C_TOKENIZER_DIR);
        if (!tok) {
            fprintf(stderr, "fuzz_tokenizer_encode: %s\n", s1c_err_msg());
            abort();
        }
    }
    const char *text = (const char *)data;
    int valid = s1c_utf8_first_invalid(text, size) == size;
    s1c_ids ids = {0};
    s1c_ids_push(&ids, 7);  // encode appends: what is there must stay
    s1c_status st = s1c_tokenizer_encode(tok, text, size, 0, &ids);
    FUZZ_CHECK((st == S1C_OK) == valid);
    FUZZ_CHECK(ids.n >= 1 && ids.ids[0] == 7);
    if (st != S1C_OK) {
        FUZZ_CHECK(ids.n == 1);
        FUZZ_CHECK(strstr(s1c_err_msg(), "not valid UTF-8") != NULL);
        s1c_ids_free(&ids);
        return 0;
    }
    int V = s1c_tokenizer_vocab_size(tok);
    for (size_t i = 0; i < ids.n; i++) FUZZ_CHECK(ids.ids[i] >= 0 && ids.ids[i] < V);
    char *out = NULL;
    size_t len = 0;
    FUZZ_CHECK(s1c_tokenizer_decode(tok, ids.ids + 1, ids.n - 1, 0, &out, &len) == S1C_OK);
    // decode(encode(x)) = NFC(x) with no loss, so encoding it again gives the same ids.
    FUZZ_CHECK(s1c_utf8_first_invalid(out, len) == len);
    s1c_ids again = {0};
    FUZZ_CHECK(s1c_tokenizer_encode(tok, out, len, 0, &again) == S1C_OK);
    char *out2 = NULL;
    size_t len2 = 0;
    FUZZ_CHECK(s1c_tokenizer_decode(tok, again.ids, again.n, 0, &out2, &len2) == S1C_OK);
    FUZZ_CHECK(len2 == len && memcmp(out, out2, len) == 0);
    free(out2);
    free(out);
    s1c_ids_free(&again);
    s1c_ids_free(&ids);
    return 0;
}
