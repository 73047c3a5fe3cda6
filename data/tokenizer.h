// tokenizer.h — Hugging Face tokenizer.json byte-level BPE (Qwen2 / Qwen2.5 / Qwen3, GPT-2 style).
//
// Pipeline of encode: added tokens are matched first (longest match, Hugging Face rules for
// special / non-special and lstrip/rstrip), then each remaining span is NFC-normalised, split by
// the Split pre-tokenizer regex taken from the file (PCRE2, UTF + UCP, JIT), mapped bytes→unicode,
// and merged by BPE rank.
//
// Invalid UTF-8 input (overlong forms, surrogates, > U+10FFFF, truncated or stray bytes) is
// rejected: encode fails with "input is not valid UTF-8 at byte offset N" (N = first bad byte)
// and appends nothing. Decoding never fails on byte content: token bytes that do not form valid
// UTF-8 become U+FFFD, one per maximal ill-formed subpart (Hugging Face's from_utf8_lossy).
// Decoding an id that is not in the vocabulary is an error (Hugging Face silently drops it).
// `tokenizer.json.zst` is read directly when DIR has no plain tokenizer.json.
#ifndef S1C_TOKENIZER_H
#define S1C_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "s1c_err.h"

typedef struct s1c_tokenizer s1c_tokenizer;

// Loads DIR/tokenizer.json (and DIR/tokenizer_config.json when present, for eos/pad roles).
// `dir` may also name a tokenizer.json file directly. Refuses unsupported model types,
// normalizers or pre-tokenizers with a message naming what is unsupported.
s1c_tokenizer *s1c_tokenizer_load(const char *dir);
void s1c_tokenizer_free(s1c_tokenizer *tok);

int s1c_tokenizer_vocab_size(const s1c_tokenizer *tok);  // 1 + the largest id (added tokens included)
int s1c_tokenizer_eos_id(const s1c_tokenizer *tok);      // -1 when unknown
int s1c_tokenizer_pad_id(const s1c_tokenizer *tok);      // -1 when unknown
// Id of a token string (vocab or added token), or -1.
int s1c_tokenizer_token_id(const s1c_tokenizer *tok, const char *token);
// A token's bytes as decoded text (bytes→unicode mapping undone). Returns NULL for a bad id.
const char *s1c_tokenizer_id_bytes(const s1c_tokenizer *tok, int id, size_t *len);

// A growable id list.
typedef struct {
    int32_t *ids;
    size_t n, cap;
} s1c_ids;
void s1c_ids_push(s1c_ids *v, int32_t id);
void s1c_ids_free(s1c_ids *v);

// Encodes `len` bytes of UTF-8 text, appending to *out. add_special_tokens follows Hugging Face
// (for Qwen's tokenizer.json it adds nothing; honoured if a post-processor template adds tokens).
// Thread-safe for concurrent calls on one tokenizer.
s1c_status s1c_tokenizer_encode(const s1c_tokenizer *tok, const char *text, size_t len, int add_special_tokens,
                                s1c_ids *out);
// Decodes ids to UTF-8 text (NUL-terminated, caller frees). skip_special drops special tokens.
s1c_status s1c_tokenizer_decode(const s1c_tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                                char **text, size_t *len);

// Streaming decoder for generation: push one id at a time, receive the text that is complete
// (an incomplete UTF-8 sequence is held back until its last byte arrives).
typedef struct {
    const s1c_tokenizer *tok;
    unsigned char pending[8];
    int n_pending;
} s1c_decode_stream;
void s1c_decode_stream_init(s1c_decode_stream *ds, const s1c_tokenizer *tok);
// Writes complete text into buf (up to cap bytes, NUL-terminated), returns its length, or -1 on a bad id
// or a buffer smaller than s1c_decode_stream_bufsize(tok).
int s1c_decode_stream_push(s1c_decode_stream *ds, int32_t id, char *buf, size_t cap);

// A stable hash of the tokenizer file (hex sha-256-like digest string, for provenance attributes).
const char *s1c_tokenizer_hash(const s1c_tokenizer *tok);
// The same hash of DIR/tokenizer.json (or .json.zst, decompressed) without loading it: 1 with
// out[65] set, 0 when DIR holds no tokenizer file, -1 on a read error (message set).
int s1c_tokenizer_file_hash(const char *dir, char out[65]);

// A buffer size that every s1c_decode_stream_push accepts (3 bytes per held or token byte + NUL).
size_t s1c_decode_stream_bufsize(const s1c_tokenizer *tok);
// End of stream: a held-back incomplete sequence becomes one U+FFFD (as decoding the whole id list
// would give). Writes at most 3 bytes + NUL into buf (cap >= 4); returns the length.
int s1c_decode_stream_flush(s1c_decode_stream *ds, char *buf, size_t cap);

#endif
