// fuzz_tokenizer_load — tokenizer.json loading (s1c_tokenizer_load) on mutations of a small
// valid file (seeds: the byte-level toy tokenizers in the repository). An accepted tokenizer
// must also encode and decode a fixed text, and the streaming decoder must agree with decode.
// Input: tokenizer.json, optionally followed by a NUL and a tokenizer_config.json (eos/pad roles).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "tokenizer.h"

static const char kText[] = "Hello, world! 12345 <|im_start|>user\n\xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80<|im_end|>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t tok_len = nul ? (size_t)(nul - data) : size;
    if (nul) fuzz_write(fuzz_path("tokenizer_config.json"), nul + 1, size - tok_len - 1);
    else unlink(fuzz_path("tokenizer_config.json"));
    char path[256];
    snprintf(path, sizeof path, "%s", fuzz_path("tokenizer.json"));
    fuzz_write(path, data, tok_len);
    s1c_tokenizer *tok = s1c_tokenizer_load(path);
    if (!tok) return 0;
    int V = s1c_tokenizer_vocab_size(tok);
    FUZZ_CHECK(V >= 0);
    FUZZ_CHECK(s1c_tokenizer_eos_id(tok) >= -1 && s1c_tokenizer_eos_id(tok) < V);
    FUZZ_CHECK(s1c_tokenizer_pad_id(tok) >= -1 && s1c_tokenizer_pad_id(tok) < V);
    s1c_ids ids = {0};
    if (s1c_tokenizer_encode(tok, kText, sizeof kText - 1, 1, &ids) == S1C_OK) {
        for (size_t i = 0; i < ids.n; i++) FUZZ_CHECK(ids.ids[i] >= 0 && ids.ids[i] < V);
        char *text = NULL;
        size_t len = 0;
        if (s1c_tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &len) == S1C_OK) {
            FUZZ_CHECK(strlen(text) <= len);
            // The streaming decoder yields the same text in pieces.
            size_t cap = s1c_decode_stream_bufsize(tok);
            char *buf = malloc(cap);
            char *acc = malloc(len + 8);
            size_t n_acc = 0;
            s1c_decode_stream ds;
            s1c_decode_stream_init(&ds, tok);
            int ok = 1;
            for (size_t i = 0; i < ids.n && ok; i++) {
                int k = s1c_decode_stream_push(&ds, ids.ids[i], buf, cap);
                if (k < 0 || n_acc + (size_t)k > len) ok = 0;
                else memcpy(acc + n_acc, buf, (size_t)k), n_acc += (size_t)k;
            }
            if (ok) {
                int k = s1c_decode_stream_flush(&ds, buf, cap);
                FUZZ_CHECK(k >= 0 && n_acc + (size_t)k <= len);
                memcpy(acc + n_acc, buf, (size_t)k);
                n_acc += (size_t)k;
                FUZZ_CHECK(n_acc == len && memcmp(acc, text, len) == 0);
            }
            FUZZ_CHECK(ok);
            free(acc);
            free(buf);
            free(text);
        }
    }
    for (int id = 0; id < V && id < 512; id++) {
        size_t n = 0;
        const char *b = s1c_tokenizer_id_bytes(tok, id, &n);
        if (b && n) FUZZ_CHECK(b[0] == b[0] && b[n - 1] == b[n - 1]);  // readable: ASan checks the span
    }
    s1c_ids_free(&ids);
    s1c_tokenizer_free(tok);
    return 0;
}
