// Loading tokenizer.json (+ tokenizer_config.json): vocabulary, merges, added tokens, the
// normalizer / pre-tokenizer / decoder / post-processor checks, and the byte-level alphabet.
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "s1c_file.h"
#include "s1c_sha256.h"
#include "tokenizer_internal.h"
#include "tokenizer_json.h"
#include "utf8.h"

// ---- byte-level alphabet (GPT-2's bytes_to_unicode) ----
// Printable Latin-1 bytes stand for themselves; the other 68 bytes take U+0100.. in byte order.
static int byte_printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

static uint16_t g_byte_to_cp[256];
static int16_t g_cp_to_byte[256 + 68];
static pthread_once_t g_alphabet_once = PTHREAD_ONCE_INIT;

static void alphabet_init(void) {
    int extra = 0;
    for (int b = 0; b < 256 + 68; b++) g_cp_to_byte[b] = -1;
    for (int b = 0; b < 256; b++) {
        int cp = byte_printable(b) ? b : 256 + extra++;
        g_byte_to_cp[b] = (uint16_t)cp;
        g_cp_to_byte[cp] = (int16_t)b;
    }
}

uint32_t s1c_tok_byte_to_cp(unsigned char b) {
    pthread_once(&g_alphabet_once, alphabet_init);
    return g_byte_to_cp[b];
}

int s1c_tok_cp_to_byte(uint32_t cp) {
    pthread_once(&g_alphabet_once, alphabet_init);
    return cp < 256 + 68 ? g_cp_to_byte[cp] : -1;
}

// A token string from the file -> the bytes it stands for. Returns 1 when every character is in
// the byte-level alphabet; else 0 and `out` holds the string's own UTF-8 bytes (Hugging Face's
// ByteLevel decoder falls back to those, and BPE can never produce such a token).
static int bytelevel_to_raw(const char *s, size_t n, unsigned char *out, size_t *out_len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 0;
    pthread_once(&g_alphabet_once, alphabet_init);
    while (i < n) {
        if (u[i] >= 0x21 && u[i] <= 0x7E) {  // printable ASCII stands for itself
            out[k++] = u[i++];
            continue;
        }
        size_t l = s1c_utf8_seq_len(u + i, n - i);
        uint32_t cp = l ? s1c_utf8_decode(u + i, l) : UINT32_MAX;
        int b = cp < 256 + 68 ? g_cp_to_byte[cp] : -1;
        if (b < 0) {
            memcpy(out, s, n);
            *out_len = n;
            return 0;
        }
        out[k++] = (unsigned char)b;
        i += l;
    }
    *out_len = k;
    return 1;
}

// ---- tables ----
static size_t pow2_at_least(size_t n) {
    size_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

// Slots hold the hash's high 32 bits over id + 1, so most probes never touch the arena.
int32_t s1c_tok_vocab_find(const s1c_tokenizer *tok, const unsigned char *s, size_t n) {
    uint64_t h = s1c_tok_hash_bytes(s, n), tag = h & 0xFFFFFFFF00000000ull;
    size_t i = (size_t)h & tok->vmask;
    for (;;) {
        uint64_t v = tok->vtab[i];
        if (v == 0) return -1;
        int32_t id = (int32_t)(uint32_t)v - 1;
        if ((v & 0xFFFFFFFF00000000ull) == tag && tok->id_len[id] == n && memcmp(tok->arena + tok->id_off[id], s, n) == 0)
            return id;
        i = (i + 1) & tok->vmask;
    }
}

static void vocab_insert(s1c_tokenizer *tok, int32_t id) {
    uint64_t h = s1c_tok_hash_bytes(tok->arena + tok->id_off[id], tok->id_len[id]);
    size_t i = (size_t)h & tok->vmask;
    while (tok->vtab[i] != 0) i = (i + 1) & tok->vmask;
    tok->vtab[i] = (h & 0xFFFFFFFF00000000ull) | ((uint32_t)id + 1);
}

static inline size_t merge_slot(uint64_t key, size_t mask) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & mask;
}

static void merge_insert(s1c_tokenizer *tok, int32_t a, int32_t b, uint32_t rank, int32_t id) {
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    size_t i = merge_slot(key, tok->mmask);
    while (tok->mkey[i] != UINT64_MAX && tok->mkey[i] != key) i = (i + 1) & tok->mmask;
    tok->mkey[i] = key;  // a repeated pair keeps its last rank, as a Hugging Face HashMap collect does
    tok->mrank[i] = rank;
    tok->mnew[i] = id;
}

// ---- JSON helpers ----
static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
static int jtrue(const cJSON *o, const char *key) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key)); }
static int jnull_or_absent(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v == NULL || cJSON_IsNull(v);
}
static int jempty_str(const cJSON *o, const char *key) {
    const char *s = jstr(o, key);
    return jnull_or_absent(o, key) || (s && s[0] == '\0');
}

// ---- reading the file (plain or zstd) ----
static s1c_status read_maybe_zst(const char *path, char **out, size_t *len) {
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".zst") != 0) return s1c_read_file(path, out, len);
    char *z;
    size_t zn;
    S1C_TRY(s1c_read_file(path, &z, &zn));
    ZSTD_DStream *ds = ZSTD_createDStream();
    size_t cap = zn * 4 + 1024, got = 0;
    char *buf = s1c_xmalloc(cap);
    ZSTD_inBuffer in = {z, zn, 0};
    s1c_status st = S1C_OK;
    for (;;) {
        if (cap - got < 1 << 16) buf = s1c_xrealloc(buf, cap *= 2);
        ZSTD_outBuffer ob = {buf + got, cap - got - 1, 0};
        size_t r = ZSTD_decompressStream(ds, &ob, &in);
        got += ob.pos;
        if (ZSTD_isError(r)) {
            st = s1c_err("%s: zstd: %s", path, ZSTD_getErrorName(r));
            break;
        }
        if (r == 0 && in.pos == in.size) break;
        if (in.pos == in.size && ob.pos == 0) {
            st = s1c_err("%s: truncated zstd frame", path);
            break;
        }
    }
    ZSTD_freeDStream(ds);
    free(z);
    if (st != S1C_OK) {
        free(buf);
        return st;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return S1C_OK;
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}
static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

// ---- sections ----
static s1c_status check_normalizer(s1c_tokenizer *tok, const cJSON *n) {
    if (n == NULL || cJSON_IsNull(n)) return S1C_OK;
    const char *t = jstr(n, "type");
    if (t && strcmp(t, "NFC") == 0) {
        tok->nfc = 1;
        return S1C_OK;
    }
    if (t && strcmp(t, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "normalizers")) S1C_TRY(check_normalizer(tok, it));
        return S1C_OK;
    }
    return s1c_err("normalizer '%s' is not supported (only NFC)", t ? t : "?");
}

#define GPT2_PATTERN "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
// Oniguruma (Hugging Face's regex engine) takes \s as the Unicode White_Space property; PCRE2
// with UCP also counts U+180E. Spelling \s out keeps the two engines on the same set.
#define WS_SET "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

static char *rewrite_space_classes(const char *re) {
    size_t n = strlen(re), cap = n * 8 + 256, k = 0;
    char *out = s1c_xmalloc(cap);
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        char c = re[i];
        if (c == '\\' && i + 1 < n) {
            char e = re[i + 1];
            const char *rep = NULL;
            if (e == 's') rep = in_class ? WS_SET : "[" WS_SET "]";
            else if (e == 'S' && !in_class) rep = "[^" WS_SET "]";
            if (rep) {
                size_t rl = strlen(rep);
                memcpy(out + k, rep, rl);
                k += rl;
            } else {
                out[k++] = c;
                out[k++] = e;
            }
            i++;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            out[k++] = c;
            // A ']' right after '[' or '[^' is a literal member, not the end of the class.
            if (i + 1 < n && re[i + 1] == '^') out[k++] = re[++i];
            if (i + 1 < n && re[i + 1] == ']') out[k++] = re[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = 0;
        out[k++] = c;
    }
    out[k] = '\0';
    return out;
}

static s1c_status compile_split(s1c_tokenizer *tok, const char *pattern, int literal) {
    if (tok->re) return s1c_err("pre_tokenizer: more than one split pattern is not supported");
    char *pat = literal ? s1c_xstrdup(pattern) : rewrite_space_classes(pattern);
    int err;
    PCRE2_SIZE off;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    tok->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
    free(pat);
    if (!tok->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return s1c_err("pre_tokenizer: Split regex does not compile at offset %zu: %s", (size_t)off, (char *)msg);
    }
    return S1C_OK;  // JIT compilation waits until the rest of the file has loaded
}

static s1c_status check_pretok(s1c_tokenizer *tok, const cJSON *p, int *saw_bytelevel) {
    const char *t = p ? jstr(p, "type") : NULL;
    if (!t) return s1c_err("pre_tokenizer: missing (a byte-level BPE needs ByteLevel)");
    if (strcmp(t, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"))
            S1C_TRY(check_pretok(tok, it, saw_bytelevel));
        return S1C_OK;
    }
    if (strcmp(t, "Split") == 0) {
        if (*saw_bytelevel) return s1c_err("pre_tokenizer: Split after ByteLevel is not supported");
        const char *beh = jstr(p, "behavior");
        if (!beh || strcmp(beh, "Isolated") != 0)
            return s1c_err("pre_tokenizer: Split behavior '%s' is not supported (only Isolated)", beh ? beh : "?");
        if (jtrue(p, "invert")) return s1c_err("pre_tokenizer: Split with invert=true is not supported");
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const char *rx = jstr(pat, "Regex"), *lit = jstr(pat, "String");
        if (!rx && !lit) return s1c_err("pre_tokenizer: Split has no Regex or String pattern");
        return compile_split(tok, rx ? rx : lit, rx == NULL);
    }
    if (strcmp(t, "ByteLevel") == 0) {
        if (jtrue(p, "add_prefix_space")) return s1c_err("pre_tokenizer: ByteLevel add_prefix_space=true is not supported");
        *saw_bytelevel = 1;
        // use_regex defaults to true in Hugging Face: GPT-2's own split.
        const cJSON *ur = cJSON_GetObjectItemCaseSensitive(p, "use_regex");
        if (ur == NULL || cJSON_IsTrue(ur)) return compile_split(tok, GPT2_PATTERN, 0);
        return S1C_OK;
    }
    return s1c_err("pre_tokenizer '%s' is not supported (only Split, ByteLevel, Sequence)", t);
}

static s1c_status check_post(s1c_tokenizer *tok, const cJSON *p) {
    if (p == NULL || cJSON_IsNull(p)) return S1C_OK;
    const char *t = jstr(p, "type");
    if (t && strcmp(t, "ByteLevel") == 0) return S1C_OK;  // offsets only; adds no tokens
    if (t && strcmp(t, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "processors")) S1C_TRY(check_post(tok, it));
        return S1C_OK;
    }
    if (t && strcmp(t, "TemplateProcessing") == 0) {
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(p, "single"), *sp = cJSON_GetObjectItemCaseSensitive(p, "special_tokens");
        int seen_seq = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, single) {
            const cJSON *stok = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
            if (cJSON_GetObjectItemCaseSensitive(it, "Sequence")) {
                seen_seq = 1;
                continue;
            }
            const char *name = jstr(stok, "id");
            const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sp, name ? name : ""), "ids");
            if (!name || !cJSON_IsArray(ids)) return s1c_err("post_processor: TemplateProcessing token without ids");
            const cJSON *idv;
            cJSON_ArrayForEach(idv, ids) {
                if (!cJSON_IsNumber(idv)) return s1c_err("post_processor: non-numeric id for '%s'", name);
                int32_t **arr = seen_seq ? &tok->post_ids : &tok->pre_ids;
                int *cnt = seen_seq ? &tok->n_post : &tok->n_pre;
                *arr = s1c_xrealloc(*arr, sizeof(int32_t) * (size_t)(*cnt + 1));
                (*arr)[(*cnt)++] = (int32_t)idv->valuedouble;
            }
        }
        return S1C_OK;
    }
    return s1c_err("post_processor '%s' is not supported (only ByteLevel, TemplateProcessing)", t ? t : "?");
}

static int cmp_added_len(const void *a, const void *b) {
    const tok_added *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

// eos_token / pad_token in tokenizer_config.json: a string or {"content": ...}.
static int config_token(const s1c_tokenizer *tok, const cJSON *cfg, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : jstr(v, "content");
    return s ? s1c_tokenizer_token_id(tok, s) : -1;
}

// ---- the loader ----
typedef struct {
    const char *p;
    size_t n;
} span;

// Splits the document: every small section is parsed by cJSON into *root_out (with "model"
// holding the model's small fields); model.vocab and model.merges are left as spans for the
// scanners below.
static s1c_status split_document(const char *buf, size_t len, cJSON **root_out, span *vocab, span *merges) {
    tok_js s;
    tok_js_init(&s, buf, len);
    cJSON *root = cJSON_CreateObject();
    s1c_status st = S1C_OK;
    int in_model = 0;
    cJSON *model = NULL;
    if (!tok_js_eat(&s, '{')) {
        st = s1c_err("not a JSON object");
        goto done;
    }
    if (tok_js_eat(&s, '}')) goto done;
    for (;;) {
        if (!tok_js_string(&s) || !tok_js_eat(&s, ':')) break;
        char *key = s1c_xstrdup(s.buf);
        if (!in_model && strcmp(key, "model") == 0 && tok_js_peek(&s) == '{') {
            s.p++;
            model = cJSON_CreateObject();
            cJSON_AddItemToObject(root, "model", model);
            in_model = 1;
            free(key);
            if (tok_js_eat(&s, '}')) in_model = 0;
            else continue;
        } else {
            tok_js_peek(&s);
            const char *a = s.p;
            int ok = tok_js_skip(&s);
            span sp = {a, (size_t)(s.p - a)};
            if (ok && in_model && strcmp(key, "vocab") == 0) {
                *vocab = sp;
            } else if (ok && in_model && strcmp(key, "merges") == 0) {
                *merges = sp;
            } else {
                cJSON *item = ok ? cJSON_ParseWithLength(sp.p, sp.n) : NULL;
                if (!item) {
                    st = s1c_err("not valid JSON in \"%s\" (near byte %zu)", key, tok_js_offset(&s));
                    free(key);
                    goto done;
                }
                cJSON_AddItemToObject(in_model ? model : root, key, item);
            }
            free(key);
            if (!ok) break;
        }
        if (tok_js_eat(&s, ',')) continue;
        if (!tok_js_eat(&s, '}')) break;
        if (in_model) {
            in_model = 0;
            if (tok_js_eat(&s, ',')) continue;
            if (!tok_js_eat(&s, '}')) break;
        }
        if (tok_js_peek(&s) == 0) goto done;
        break;
    }
    st = s1c_err("not valid JSON (near byte %zu)", tok_js_offset(&s));
done:
    tok_js_free(&s);
    if (st != S1C_OK) {
        cJSON_Delete(root);
        return st;
    }
    *root_out = root;
    return S1C_OK;
}

typedef struct {
    uint32_t off, len;
    int32_t id;
    int raw;
} vocab_entry;

// Reads model.vocab: every token's bytes go into the arena; entries are returned in file order.
static s1c_status scan_vocab(s1c_tokenizer *tok, span sp, vocab_entry **out, size_t *n_out, size_t *alen, size_t *acap,
                             int *max_id) {
    tok_js s;
    tok_js_init(&s, sp.p, sp.n);
    size_t n = 0, cap = 1 << 14;
    vocab_entry *e = s1c_xmalloc(cap * sizeof *e);
    s1c_status st = S1C_OK;
    if (!tok_js_eat(&s, '{')) {
        st = s1c_err("model.vocab: expected an object");
    } else if (!tok_js_eat(&s, '}')) {
        for (;;) {
            double d;
            if (!tok_js_string(&s) || !tok_js_eat(&s, ':') || !tok_js_number(&s, &d)) {
                st = s1c_err("model.vocab: malformed entry %zu", n);
                break;
            }
            if (d < 0 || d > 1e8 || d != (double)(int)d) {
                st = s1c_err("model.vocab: token '%s' has a bad id", s.buf);
                break;
            }
            if (s.len >= 1 << 16) {
                st = s1c_err("model.vocab: token of %zu bytes is too long", s.len);
                break;
            }
            while (*alen + s.len > *acap) tok->arena = s1c_xrealloc(tok->arena, *acap *= 2);
            size_t rl;
            int raw = bytelevel_to_raw(s.buf, s.len, tok->arena + *alen, &rl);
            if (n == cap) e = s1c_xrealloc(e, (cap *= 2) * sizeof *e);
            e[n++] = (vocab_entry){(uint32_t)*alen, (uint32_t)rl, (int32_t)d, raw};
            *alen += rl;
            if ((int)d > *max_id) *max_id = (int)d;
            if (tok_js_eat(&s, ',')) continue;
            if (tok_js_eat(&s, '}')) break;
            st = s1c_err("model.vocab: expected ',' or '}' after entry %zu", n);
            break;
        }
    }
    tok_js_free(&s);
    if (st != S1C_OK) {
        free(e);
        return st;
    }
    *out = e;
    *n_out = n;
    return S1C_OK;
}

// Reads model.merges ([["a", "b"], ...] or ["a b", ...]) into the merge table, rank = position.
static s1c_status scan_merges(s1c_tokenizer *tok, span sp) {
    tok_js s;
    tok_js_init(&s, sp.p, sp.n);
    size_t tcap = 1 << 17, n_est = sp.n / 8 + 16;
    unsigned char *tmp = s1c_xmalloc(tcap);
    tok->mmask = pow2_at_least(n_est * 2) - 1;  // at least one merge per 8 bytes of the section: load <= 1/2
    tok->mkey = s1c_xmalloc(sizeof(uint64_t) * (tok->mmask + 1));
    memset(tok->mkey, 0xFF, sizeof(uint64_t) * (tok->mmask + 1));
    tok->mrank = s1c_xmalloc(sizeof(uint32_t) * (tok->mmask + 1));
    tok->mnew = s1c_xmalloc(sizeof(int32_t) * (tok->mmask + 1));
    s1c_status st = S1C_OK;
    uint32_t rank = 0;
    if (!tok_js_eat(&s, '[')) {
        st = s1c_err("model.merges: expected an array");
    } else if (!tok_js_eat(&s, ']')) {
        for (;;) {
            size_t ra = 0, rb = 0;
            int ok = 0, all_raw = 0;
            if (tok_js_peek(&s) == '[') {
                s.p++;
                if (tok_js_string(&s) && s.len < (1 << 15)) {
                    all_raw = bytelevel_to_raw(s.buf, s.len, tmp, &ra);
                    if (tok_js_eat(&s, ',') && tok_js_string(&s) && s.len < (1 << 15) && tok_js_eat(&s, ']')) {
                        all_raw &= bytelevel_to_raw(s.buf, s.len, tmp + ra, &rb);
                        ok = 1;
                    }
                }
            } else if (tok_js_string(&s) && s.len < (1 << 16)) {  // older files: "a b"
                const char *sp2 = strchr(s.buf, ' ');
                if (sp2) {
                    size_t an = (size_t)(sp2 - s.buf);
                    all_raw = bytelevel_to_raw(s.buf, an, tmp, &ra);
                    all_raw &= bytelevel_to_raw(sp2 + 1, s.len - an - 1, tmp + ra, &rb);
                    ok = 1;
                }
            }
            if (!ok) {
                st = s1c_err("model.merges[%u]: expected [\"a\", \"b\"] or \"a b\"", rank);
                break;
            }
            if (all_raw) {
                int32_t ia = s1c_tok_vocab_find(tok, tmp, ra), ib = s1c_tok_vocab_find(tok, tmp + ra, rb);
                int32_t inew = s1c_tok_vocab_find(tok, tmp, ra + rb);
                if (ia < 0 || ib < 0 || inew < 0) {
                    st = s1c_err("model.merges[%u]: '%.*s' + '%.*s' is not in the vocabulary", rank, (int)ra, (char *)tmp,
                                 (int)rb, (char *)tmp + ra);
                    break;
                }
                merge_insert(tok, ia, ib, rank, inew);
            }
            rank++;
            if (tok_js_eat(&s, ',')) continue;
            if (tok_js_eat(&s, ']')) break;
            st = s1c_err("model.merges: expected ',' or ']' after entry %u", rank);
            break;
        }
    }
    free(tmp);
    tok_js_free(&s);
    return st;
}

static s1c_status load_json(s1c_tokenizer *tok, const char *path, const char *buf, size_t len) {
    cJSON *root = NULL;
    span vocab_sp = {NULL, 0}, merges_sp = {NULL, 0};
    S1C_TRY(split_document(buf, len, &root, &vocab_sp, &merges_sp));
    s1c_status st = S1C_OK;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const char *mtype = jstr(model, "type");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(root, "decoder");
    const char *dtype = jstr(dec, "type");
    int saw_bl = 0;
    unsigned char *tmp = NULL;
    vocab_entry *ve = NULL;
    if (!model) {
        st = s1c_err("no \"model\" section");
    } else if (mtype ? strcmp(mtype, "BPE") != 0 : !merges_sp.p) {
        st = s1c_err("model type '%s' is not supported (only BPE)", mtype ? mtype : "?");
    } else if (!vocab_sp.p || !merges_sp.p) {
        st = s1c_err("model: expected a \"vocab\" object and a \"merges\" array");
    } else if (!jnull_or_absent(model, "dropout")) {
        st = s1c_err("model: BPE dropout is not supported");
    } else if (jtrue(model, "byte_fallback")) {
        st = s1c_err("model: BPE byte_fallback is not supported (byte-level BPE needs none)");
    } else if (!jempty_str(model, "continuing_subword_prefix") || !jempty_str(model, "end_of_word_suffix")) {
        st = s1c_err("model: continuing_subword_prefix / end_of_word_suffix are not supported");
    } else if (!dtype || strcmp(dtype, "ByteLevel") != 0) {
        st = s1c_err("decoder '%s' is not supported (only ByteLevel)", dtype ? dtype : "none");
    }
    if (st == S1C_OK) st = check_normalizer(tok, cJSON_GetObjectItemCaseSensitive(root, "normalizer"));
    if (st == S1C_OK) st = check_pretok(tok, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), &saw_bl);
    if (st == S1C_OK && !saw_bl) st = s1c_err("pre_tokenizer: no ByteLevel step (only byte-level BPE is supported)");
    if (st == S1C_OK && !tok->re) st = s1c_err("pre_tokenizer: no split pattern");
    if (st == S1C_OK) st = check_post(tok, cJSON_GetObjectItemCaseSensitive(root, "post_processor"));
    if (st != S1C_OK) goto done;
    tok->ignore_merges = jtrue(model, "ignore_merges");

    // Ids: the vocabulary's and the added tokens'.
    size_t acap = 1 << 20, alen = 0, nv = 0;
    tok->arena = s1c_xmalloc(acap);
    int max_id = -1;
    st = scan_vocab(tok, vocab_sp, &ve, &nv, &alen, &acap, &max_id);
    if (st != S1C_OK) goto done;
    const cJSON *it;
    cJSON_ArrayForEach(it, added) {
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (!cJSON_IsNumber(idv) || idv->valuedouble < 0 || idv->valuedouble > 1e8 || !jstr(it, "content") ||
            !jstr(it, "content")[0]) {
            st = s1c_err("added_tokens: entry without a valid id and non-empty content");
            goto done;
        }
        if ((int)idv->valuedouble > max_id) max_id = (int)idv->valuedouble;
    }
    tok->n_ids = max_id + 1;
    tok->id_off = s1c_xcalloc((size_t)tok->n_ids, sizeof(uint32_t));
    tok->id_len = s1c_xmalloc(sizeof(uint32_t) * (size_t)tok->n_ids);
    for (int i = 0; i < tok->n_ids; i++) tok->id_len[i] = UINT32_MAX;
    tok->id_special = s1c_xcalloc((size_t)tok->n_ids, 1);
    tok->vmask = pow2_at_least(nv * 2) - 1;
    tok->vtab = s1c_xcalloc(tok->vmask + 1, sizeof(uint64_t));
    for (size_t i = 0; i < nv; i++) {
        int32_t id = ve[i].id;
        if (tok->id_len[id] != UINT32_MAX) {
            st = s1c_err("model.vocab: id %d is used twice", id);
            goto done;
        }
        tok->id_off[id] = ve[i].off;
        tok->id_len[id] = ve[i].len;
        if (ve[i].raw && s1c_tok_vocab_find(tok, tok->arena + ve[i].off, ve[i].len) < 0) vocab_insert(tok, id);
    }
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        tok->byte_id[b] = s1c_tok_vocab_find(tok, &c, 1);
        if (tok->byte_id[b] < 0) {
            st = s1c_err("model.vocab: no token for byte 0x%02X (not a complete byte-level vocabulary)", b);
            goto done;
        }
    }
    st = scan_merges(tok, merges_sp);
    if (st != S1C_OK) goto done;

    // Added tokens: their decoded bytes follow Hugging Face's ByteLevel decoder rule.
    tmp = s1c_xmalloc(1 << 16);
    tok->n_added = cJSON_GetArraySize(added);
    tok->added = s1c_xcalloc((size_t)tok->n_added + 1, sizeof(tok_added));
    int k = 0;
    cJSON_ArrayForEach(it, added) {
        tok_added *t = &tok->added[k++];
        const char *c = jstr(it, "content");
        t->len = strlen(c);
        t->content = s1c_xstrdup(c);
        t->id = (int32_t)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        t->special = (uint8_t)jtrue(it, "special");
        t->lstrip = (uint8_t)jtrue(it, "lstrip");
        t->rstrip = (uint8_t)jtrue(it, "rstrip");
        t->single_word = (uint8_t)jtrue(it, "single_word");
        t->normalized = (uint8_t)(jtrue(it, "normalized") && tok->nfc);
        if (!s1c_utf8_validate((const unsigned char *)c, t->len, NULL)) {
            st = s1c_err("added_tokens: '%s' is not valid UTF-8", c);
            goto done;
        }
        tok->added_first[(unsigned char)c[0]] |= t->normalized ? 2 : 1;
        tok->any_normalized_added |= t->normalized;
        tok->id_special[t->id] = t->special;
        if (tok->id_len[t->id] == UINT32_MAX) {
            size_t rl;
            if (t->len >= 1 << 16) {
                st = s1c_err("added_tokens: token of %zu bytes is too long", t->len);
                goto done;
            }
            bytelevel_to_raw(c, t->len, tmp, &rl);
            while (alen + rl > acap) tok->arena = s1c_xrealloc(tok->arena, acap *= 2);
            memcpy(tok->arena + alen, tmp, rl);
            tok->id_off[t->id] = (uint32_t)alen;
            tok->id_len[t->id] = (uint32_t)rl;
            alen += rl;
        }
    }
    qsort(tok->added, (size_t)tok->n_added, sizeof(tok_added), cmp_added_len);
    for (int i = 0; i < tok->n_ids; i++)
        if (tok->id_len[i] != UINT32_MAX && tok->id_len[i] > tok->max_token_bytes) tok->max_token_bytes = tok->id_len[i];
    for (int i = 0; i < tok->n_pre; i++)
        if (tok->pre_ids[i] < 0 || tok->pre_ids[i] >= tok->n_ids) st = s1c_err("post_processor: id %d out of range", tok->pre_ids[i]);
    for (int i = 0; i < tok->n_post; i++)
        if (tok->post_ids[i] < 0 || tok->post_ids[i] >= tok->n_ids) st = s1c_err("post_processor: id %d out of range", tok->post_ids[i]);
    // The JIT is the costly part of the regex: only for a file that loaded completely.
    if (st == S1C_OK) tok->re_jit = pcre2_jit_compile(tok->re, PCRE2_JIT_COMPLETE) == 0;
done:
    (void)path;
    free(ve);
    free(tmp);
    cJSON_Delete(root);
    return st;
}

int s1c_tokenizer_file_hash(const char *dir, char out[65]) {
    size_t dl = strlen(dir) + 32;
    char *path = s1c_xmalloc(dl);
    snprintf(path, dl, "%s/tokenizer.json", dir);
    if (!exists(path)) snprintf(path, dl, "%s/tokenizer.json.zst", dir);
    int rc = 0;
    if (exists(path)) {
        char *buf = NULL;
        size_t len = 0;
        rc = read_maybe_zst(path, &buf, &len) == S1C_OK ? 1 : -1;
        if (rc == 1) s1c_sha256_buf(buf, len, out);  // as s1c_tokenizer_load hashes it
        free(buf);
    }
    free(path);
    return rc;
}

s1c_tokenizer *s1c_tokenizer_load(const char *dir) {
    char *path, *cfg_path;
    size_t dl = strlen(dir) + 32;
    path = s1c_xmalloc(dl);
    cfg_path = s1c_xmalloc(dl);
    if (is_dir(dir)) {
        snprintf(path, dl, "%s/tokenizer.json", dir);
        if (!exists(path)) snprintf(path, dl, "%s/tokenizer.json.zst", dir);
        snprintf(cfg_path, dl, "%s/tokenizer_config.json", dir);
    } else {
        snprintf(path, dl, "%s", dir);
        const char *slash = strrchr(dir, '/');
        snprintf(cfg_path, dl, "%.*stokenizer_config.json", slash ? (int)(slash - dir + 1) : 0, dir);
    }
    s1c_tokenizer *tok = s1c_xcalloc(1, sizeof *tok);
    tok->eos_id = tok->pad_id = -1;
    pthread_mutex_init(&tok->pool_mu, NULL);
    char *buf = NULL;
    size_t len = 0;
    s1c_status st = read_maybe_zst(path, &buf, &len);
    if (st == S1C_OK) {
        s1c_sha256_buf(buf, len, tok->hash);
        st = load_json(tok, path, buf, len);
        if (st != S1C_OK) s1c_err_prefix("%s", path);
    }
    free(buf);
    if (st == S1C_OK && exists(cfg_path)) {
        st = s1c_read_file(cfg_path, &buf, &len);
        if (st == S1C_OK) {
            cJSON *cfg = cJSON_ParseWithLength(buf, len);
            if (!cfg) st = s1c_err("%s: not valid JSON", cfg_path);
            tok->eos_id = config_token(tok, cfg, "eos_token");
            tok->pad_id = config_token(tok, cfg, "pad_token");
            cJSON_Delete(cfg);
            free(buf);
        }
    }
    free(path);
    free(cfg_path);
    if (st != S1C_OK) {
        s1c_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

void s1c_tokenizer_free(s1c_tokenizer *tok) {
    if (!tok) return;
    for (int i = 0; i < tok->n_all; i++) s1c_tok_state_free(tok->all[i]);
    free(tok->all);
    free(tok->pool);
    pthread_mutex_destroy(&tok->pool_mu);
    for (int i = 0; i < tok->n_added; i++) free(tok->added[i].content);
    free(tok->added);
    if (tok->re) pcre2_code_free(tok->re);
    free(tok->id_off);
    free(tok->id_len);
    free(tok->id_special);
    free(tok->arena);
    free(tok->vtab);
    free(tok->mkey);
    free(tok->mrank);
    free(tok->mnew);
    free(tok->pre_ids);
    free(tok->post_ids);
    free(tok);
}

// ---- small accessors ----
int s1c_tokenizer_vocab_size(const s1c_tokenizer *tok) { return tok->n_ids; }
int s1c_tokenizer_eos_id(const s1c_tokenizer *tok) { return tok->eos_id; }
int s1c_tokenizer_pad_id(const s1c_tokenizer *tok) { return tok->pad_id; }
const char *s1c_tokenizer_hash(const s1c_tokenizer *tok) { return tok->hash; }

int s1c_tokenizer_token_id(const s1c_tokenizer *tok, const char *token) {
    size_t n = strlen(token);
    for (int i = 0; i < tok->n_added; i++)
        if (tok->added[i].len == n && memcmp(tok->added[i].content, token, n) == 0) return tok->added[i].id;
    unsigned char *buf = s1c_xmalloc(n + 1);
    size_t rl;
    int32_t id = bytelevel_to_raw(token, n, buf, &rl) ? s1c_tok_vocab_find(tok, buf, rl) : -1;
    free(buf);
    return id;
}

const char *s1c_tokenizer_id_bytes(const s1c_tokenizer *tok, int id, size_t *len) {
    if (id < 0 || id >= tok->n_ids || tok->id_len[id] == UINT32_MAX) return NULL;
    if (len) *len = tok->id_len[id];
    return (const char *)tok->arena + tok->id_off[id];
}
