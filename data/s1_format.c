// The s1 chat format: the exact training text (as s1's apply_chat_template call builds it with
// the Qwen2.5 template), the inference prompt, and tokenization with the loss mask.
#include "s1_format.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"
#include "utf8.h"

#define SYSTEM_TURN "<|im_start|>system\n" S1C_DEFAULT_SYSTEM "<|im_end|>\n"
#define USER_OPEN "<|im_start|>user\n"
#define TURN_END "<|im_end|>\n"
#define ASSISTANT_OPEN "<|im_start|>assistant\n"

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = s1c_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}
static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

// Python's str.isspace(): what str.strip() removes (s1 strips the joined trajectories).
static int py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Strips s[0..n) like Python's str.strip(); invalid UTF-8 bytes are never whitespace.
static void py_strip(const char *s, size_t n, size_t *a, size_t *b) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t l = s1c_utf8_seq_len(u + i, n - i);
        if (!l || !py_space(s1c_utf8_decode(u + i, l))) break;
        i += l;
    }
    size_t j = n;
    while (j > i) {
        size_t k = j - 1;
        while (k > i && (u[k] & 0xC0) == 0x80) k--;
        size_t l = s1c_utf8_seq_len(u + k, j - k);
        if (l != j - k || !py_space(s1c_utf8_decode(u + k, l))) break;
        j = k;
    }
    *a = i;
    *b = j;
}

char *s1c_s1_training_text(const char *question, const char *const *trajectories, size_t n_traj, const char *attempt,
                           size_t *loss_start) {
    return s1c_s1_training_text_system(S1C_DEFAULT_SYSTEM, question, trajectories, n_traj, attempt, loss_start);
}

char *s1c_s1_training_text_system(const char *system, const char *question, const char *const *trajectories,
                                  size_t n_traj, const char *attempt, size_t *loss_start) {
    sbuf trace = {0}, b = {0};
    put(&trace, "", 0);
    for (size_t i = 0; i < n_traj; i++) {
        if (i) puts_(&trace, "\n");
        puts_(&trace, trajectories[i]);
    }
    size_t ta, tb;
    py_strip(trace.s, trace.n, &ta, &tb);
    puts_(&b, "<|im_start|>system\n");
    puts_(&b, system);
    puts_(&b, TURN_END USER_OPEN);
    puts_(&b, question);
    puts_(&b, TURN_END ASSISTANT_OPEN);
    if (loss_start) *loss_start = b.n;
    puts_(&b, S1C_THINK_START "\n");
    put(&b, trace.s + ta, tb - ta);
    puts_(&b, "\n" S1C_THINK_END "\n");
    // s1 strips the answer after prefixing it, as it strips the trace.
    sbuf ans = {0};
    put(&ans, "", 0);
    if (!strstr(attempt, "Answer:")) puts_(&ans, "Answer: ");
    puts_(&ans, attempt);
    size_t aa, ab;
    py_strip(ans.s, ans.n, &aa, &ab);
    put(&b, ans.s + aa, ab - aa);
    puts_(&b, TURN_END);
    free(ans.s);
    free(trace.s);
    return b.s;
}

char *s1c_s1_prompt(const char *question, const char *extra) {
    sbuf b = {0};
    puts_(&b, SYSTEM_TURN USER_OPEN);
    puts_(&b, question);
    if (extra) {
        puts_(&b, "\n\n");
        puts_(&b, extra);
    }
    puts_(&b, TURN_END ASSISTANT_OPEN S1C_THINK_START "\n");
    return b.s;
}

s1c_status s1c_s1_tokenize(const s1c_tokenizer *tok, const char *text, size_t loss_start, s1c_ids *ids,
                           unsigned char **mask) {
    size_t n = strlen(text);
    if (loss_start > n) return s1c_err("s1 format: loss start %zu is past the end of the text (%zu bytes)", loss_start, n);
    // Added tokens are cut out before anything else, so encoding the two halves separately equals
    // encoding the whole exactly when the second half starts with one.
    int at_added = loss_start == n;
    for (int i = 0; i < tok->n_added && !at_added; i++)
        at_added = tok->added[i].len <= n - loss_start && !tok->added[i].lstrip &&
                   memcmp(text + loss_start, tok->added[i].content, tok->added[i].len) == 0;
    if (!at_added) return s1c_err("s1 format: the loss boundary (byte %zu) does not start at an added token", loss_start);
    size_t n0 = ids->n;
    S1C_TRY(s1c_tokenizer_encode(tok, text, loss_start, 0, ids));
    size_t n1 = ids->n;
    s1c_status st = s1c_tokenizer_encode(tok, text + loss_start, n - loss_start, 0, ids);
    if (st != S1C_OK) {
        ids->n = n0;
        return st;
    }
    unsigned char *m = s1c_xmalloc(ids->n - n0 + 1);  // one byte per token appended
    memset(m, 0, n1 - n0);
    memset(m + (n1 - n0), 1, ids->n - n1);
    *mask = m;
    return S1C_OK;
}
