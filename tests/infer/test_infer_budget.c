// Budget-forcing state machine driven by a scripted fake token source: natural end, cap,
// extension (ignore), min-thinking, multi-token delimiter, UTF-8 safety, budget 0, empty wait.
#include <stdio.h>
#include <string.h>

#include "budget.h"
#include "check.h"

enum { A = 0, B = 1, NL = 2, IMS = 3, ANS = 4, IME = 5, WAIT = 6, FA = 7, U8LEAD = 8, U8CONT2 = 9, THINK = 10, U8CONT1 = 11 };
static const char *const vocab[] = {"a", "b", "\n", "<|im_start|>", "answer", "<|im_end|>", "Wait", "\nFinal Answer:",
                                    "\xe4", "\xb8\xad", "think", "\xb8"};

static const char *bytes(void *ctx, int32_t id, size_t *len) {
    (void)ctx;
    if (id < 0 || id > 11) return NULL;
    *len = strlen(vocab[id]);
    return vocab[id];
}

static const int32_t delim[] = {IMS, ANS}, waitv[] = {WAIT}, prefix[] = {FA}, stops[] = {IME};

static s1c_bf_config config(int max, int min, int ignore, int early) {
    s1c_bf_config c = {.max_thinking = max, .min_thinking = min, .ignore = ignore, .max_answer = 5,
                       .early_trigger = early, .delim = delim, .n_delim = 2, .wait = waitv, .n_wait = 1,
                       .answer_prefix = prefix, .n_answer_prefix = 1, .newline_id = NL, .stop_ids = stops,
                       .n_stop = 1, .token_bytes = bytes};
    return c;
}

// A simulated sequence (the generated part) the actions are applied to.
typedef struct {
    int32_t ids[256];
    int n;
} seq;

static void apply(seq *s, const s1c_bf_action *a) {
    s->n -= a->rollback;
    for (int i = 0; i < a->n; i++) s->ids[s->n++] = a->ids[i];
}

static void run(const s1c_bf_config *c, s1c_bf_state *st, seq *s, const int32_t *script, int n) {
    s1c_bf_action act;
    s1c_bf_start(c, st, 1, &act);
    s->n = 0;
    apply(s, &act);
    for (int i = 0; i < n && st->phase != S1C_PHASE_DONE; i++) {
        s1c_bf_step(c, st, script[i], &act);
        apply(s, &act);
    }
}

static int seq_eq(const seq *s, const int32_t *want, int n) {
    if (s->n != n) return 0;
    for (int i = 0; i < n; i++)
        if (s->ids[i] != want[i]) return 0;
    return 1;
}
#define SEQ_EQ(s, ...) seq_eq(&(s), (const int32_t[]){__VA_ARGS__}, (int)(sizeof((const int32_t[]){__VA_ARGS__}) / 4))

int main(void) {
    s1c_bf_state st;
    seq s;
    {  // natural end, then the answer stops on <|im_end|>
        s1c_bf_config c = config(-1, 0, 0, 1);
        const int32_t script[] = {A, B, IMS, ANS, A, IME};
        run(&c, &st, &s, script, 6);
        CHECK(SEQ_EQ(s, A, B, IMS, ANS, A));
        CHECK(st.think_tokens == 2 && st.answer_tokens == 1 && st.end == S1C_END_NATURAL);
        CHECK(st.phase == S1C_PHASE_DONE && st.finish == S1C_FINISH_STOP);
    }
    {  // cap: forced end with newline, delimiter and answer prefix
        s1c_bf_config c = config(3, 0, 0, 1);
        const int32_t script[] = {A, B, A, B};
        run(&c, &st, &s, script, 4);
        CHECK(SEQ_EQ(s, A, B, A, NL, IMS, ANS, FA, B));
        CHECK(st.think_tokens == 3 && st.end == S1C_END_FORCED && st.answer_tokens == 1);
    }
    {  // cap after a newline: no extra newline
        s1c_bf_config c = config(2, 0, 0, 1);
        const int32_t script[] = {A, NL};
        run(&c, &st, &s, script, 2);
        CHECK(SEQ_EQ(s, A, NL, IMS, ANS, FA));
    }
    {  // cap inside a multi-byte character: the incomplete character is taken back (one token
       // from an earlier step → rollback, one from this step → dropped)
        s1c_bf_config c = config(4, 0, 0, 1);
        const int32_t script[] = {A, B, U8LEAD, U8CONT1};
        run(&c, &st, &s, script, 4);
        CHECK(SEQ_EQ(s, A, B, NL, IMS, ANS, FA));
        CHECK(st.think_tokens == 2);
        // A complete character at the cap stays.
        const int32_t script2[] = {A, B, U8LEAD, U8CONT2};
        run(&c, &st, &s, script2, 4);
        CHECK(SEQ_EQ(s, A, B, U8LEAD, U8CONT2, NL, IMS, ANS, FA));
        CHECK(st.think_tokens == 4);
    }
    {  // cap on a partial delimiter that breaks: the broken partial and the dangling delimiter
       // start are rolled back (s1 stops on <|im_start|> and never shows it as thinking)
        for (int early = 0; early <= 1; early++) {
            s1c_bf_config c = config(3, 0, 0, early);
            const int32_t script[] = {A, B, IMS, THINK};
            run(&c, &st, &s, script, 4);
            CHECK(SEQ_EQ(s, A, B, NL, IMS, ANS, FA));
            CHECK(st.think_tokens == 2 && st.end == S1C_END_FORCED);
        }
    }
    {  // a delimiter start exactly at the cap is not yet thinking: it may complete the delimiter
        s1c_bf_config c = config(3, 0, 0, 1);
        const int32_t script[] = {A, B, A, IMS, ANS, B, IME};
        run(&c, &st, &s, script, 7);
        CHECK(SEQ_EQ(s, A, B, A, NL, IMS, ANS, FA, IMS, ANS, B));  // cap 3 reached by A B A: forced
        c = config(4, 0, 0, 1);
        run(&c, &st, &s, script, 7);
        CHECK(SEQ_EQ(s, A, B, A, IMS, ANS, B));
        CHECK(st.end == S1C_END_NATURAL && st.think_tokens == 3);
    }
    // The cap boundary (issue 12): a sample whose thinking ends naturally after L tokens is forced
    // at cap L (vLLM: max_tokens reached before the stop token) and left alone at caps L+1 and
    // L+2 (vLLM counts the stop token inside max_tokens). Every natural length 1..6, both
    // delimiter matching modes, and a one-token delimiter.
    for (int L = 1; L <= 6; L++)
        for (int mode = 0; mode < 3; mode++)
            for (int cap = L; cap <= L + 2; cap++) {
                s1c_bf_config c = config(cap, 0, 0, mode == 1);
                if (mode == 2) c.n_delim = 1;
                int32_t script[16];
                int n = 0;
                for (int i = 0; i < L; i++) script[n++] = (i % 2) ? B : A;
                script[n++] = IMS;
                if (mode != 2) script[n++] = ANS;
                script[n++] = A;
                script[n++] = IME;
                run(&c, &st, &s, script, n);
                int forced = cap == L;
                CHECK(st.end == (forced ? S1C_END_FORCED : S1C_END_NATURAL));
                CHECK(st.think_tokens == L);
                CHECK(st.finish == S1C_FINISH_STOP);
                // The natural text: thinking, delimiter, answer — exactly the script minus the stop.
                if (!forced) CHECK(seq_eq(&s, script, n - 1));
                else CHECK(s.n == L + 1 + c.n_delim + 1 + (n - 1 - L) && s.ids[L] == NL && s.ids[L + 1] == IMS);
                if (check_failures) {
                    fprintf(stderr, "  at L=%d mode=%d cap=%d\n", L, mode, cap);
                    return check_exit("test_infer_budget");
                }
            }
    {  // ignore 2 (early trigger): two ends replaced by Wait, the third ends naturally
        s1c_bf_config c = config(-1, 0, 2, 1);
        const int32_t script[] = {A, IMS, B, IMS, IMS, ANS};
        run(&c, &st, &s, script, 6);
        CHECK(SEQ_EQ(s, A, WAIT, B, WAIT, IMS, ANS));
        CHECK(st.extensions == 2 && st.end == S1C_END_NATURAL && st.think_tokens == 4);
    }
    {  // min thinking: <|im_end|> before 4 thinking tokens becomes Wait; after it, EOS → forced answer
        s1c_bf_config c = config(-1, 4, 0, 1);
        const int32_t script[] = {A, IME, B, A, IME};
        run(&c, &st, &s, script, 5);
        CHECK(SEQ_EQ(s, A, WAIT, B, A, NL, IMS, ANS, FA));
        CHECK(st.min_extensions == 1 && st.extensions == 0 && st.end == S1C_END_EOS);
    }
    {  // multi-token delimiter matched token by token (no early trigger): a broken partial stays
       // as text; a full delimiter with an ignore left is rolled back and replaced by Wait
        s1c_bf_config c = config(-1, 0, 1, 0);
        const int32_t script[] = {A, IMS, THINK, IMS, ANS, B, IMS, ANS};
        run(&c, &st, &s, script, 8);
        CHECK(SEQ_EQ(s, A, IMS, THINK, WAIT, B, IMS, ANS));
        CHECK(st.extensions == 1 && st.end == S1C_END_NATURAL && st.think_tokens == 5);
    }
    {  // budget 0: answer at once (prompt ends with a newline)
        s1c_bf_config c = config(0, 0, 0, 1);
        run(&c, &st, &s, (const int32_t[]){A}, 1);
        CHECK(SEQ_EQ(s, IMS, ANS, FA, A));
        CHECK(st.think_tokens == 0 && st.end == S1C_END_FORCED);
    }
    {  // an extension never crosses the cap: with 1 token left the end is forced instead
        s1c_bf_config c = config(2, 0, 5, 1);
        run(&c, &st, &s, (const int32_t[]){A, IMS, B}, 3);  // the delimiter breaks: forced at the cap
        CHECK(SEQ_EQ(s, A, NL, IMS, ANS, FA));
        CHECK(st.extensions == 0 && st.end == S1C_END_FORCED && st.think_tokens == 1);
        run(&c, &st, &s, (const int32_t[]){A, IMS, ANS}, 3);  // it completes: a natural end
        CHECK(SEQ_EQ(s, A, IMS, ANS));
        CHECK(st.extensions == 0 && st.end == S1C_END_NATURAL && st.think_tokens == 1);
    }
    {  // empty wait string: the end is dropped and the next sampling bans the ending ids
        s1c_bf_config c = config(-1, 0, 1, 1);
        c.n_wait = 0;
        s1c_bf_action act;
        s1c_bf_start(&c, &st, 1, &act);
        s1c_bf_step(&c, &st, A, &act);
        s1c_bf_step(&c, &st, IMS, &act);
        CHECK(act.n == 0 && act.rollback == 0 && st.ban_next == 1);
        int32_t banned[4];
        int nb = s1c_bf_banned(&c, &st, banned);
        CHECK(nb == 2 && banned[0] == IMS && banned[1] == IME);
        s1c_bf_step(&c, &st, B, &act);
        CHECK(s1c_bf_banned(&c, &st, banned) == 0);
    }
    // s1's behaviours (issue 12 §2). The delimiter's first token ends thinking and the rest is
    // appended (s1 stops on <|im_start|> and appends <|im_start|>answer), at caps L, L+1, L+2.
    for (int L = 1; L <= 6; L++)
        for (int cap = L; cap <= L + 2; cap++) {
            s1c_bf_config c = config(cap, 0, 0, 1);
            c.end_on_delim_start = 1;
            int32_t script[16];
            int n = 0;
            for (int i = 0; i < L; i++) script[n++] = (i % 2) ? B : A;
            script[n++] = IMS;
            script[n++] = A;  // an answer token (the delimiter's "answer" is appended, not sampled)
            script[n++] = IME;
            run(&c, &st, &s, script, n);
            CHECK(st.end == (cap == L ? S1C_END_FORCED : S1C_END_NATURAL) && st.think_tokens == L, "L=%d cap=%d", L, cap);
            if (cap > L) CHECK(s.n == L + 3 && s.ids[L] == IMS && s.ids[L + 1] == ANS && s.ids[L + 2] == A, "L=%d cap=%d", L, cap);
        }
    {  // ... and with ignores left the first token is the attempt, replaced by Wait
        s1c_bf_config c = config(-1, 0, 1, 1);
        c.end_on_delim_start = 1;
        run(&c, &st, &s, (const int32_t[]){A, IMS, B, IMS, A, IME}, 6);
        CHECK(SEQ_EQ(s, A, WAIT, B, IMS, ANS, A));
        CHECK(st.extensions == 1 && st.end == S1C_END_NATURAL && st.think_tokens == 3);
    }
    {  // <|im_end|> during thinking: dropped, the delimiter alone follows (no newline, no prefix)
        s1c_bf_config c = config(-1, 0, 0, 1);
        c.eos_delim_only = 1;
        run(&c, &st, &s, (const int32_t[]){A, B, IME, A, IME}, 5);
        CHECK(SEQ_EQ(s, A, B, IMS, ANS, A));
        CHECK(st.end == S1C_END_EOS && st.think_tokens == 2 && st.finish == S1C_FINISH_STOP);
    }
    {  // min_tokens 1 (vLLM's min_tokens=1 of s1's ignore loop): the first token of the thinking
       // and the first after every Wait cannot end thinking; the others can
        s1c_bf_config c = config(-1, 0, 1, 1);
        c.min_tokens = 1;
        s1c_bf_action act;
        int32_t banned[4];
        s1c_bf_start(&c, &st, 1, &act);
        CHECK(s1c_bf_banned(&c, &st, banned) == 2 && banned[0] == IMS && banned[1] == IME);
        s1c_bf_step(&c, &st, A, &act);
        CHECK(s1c_bf_banned(&c, &st, banned) == 0);
        s1c_bf_step(&c, &st, IMS, &act);  // the ignore: Wait appended, a new segment
        CHECK(act.n == 1 && act.ids[0] == WAIT && s1c_bf_banned(&c, &st, banned) == 2);
        s1c_bf_step(&c, &st, B, &act);
        CHECK(s1c_bf_banned(&c, &st, banned) == 0);
    }
    {  // answer length limit
        s1c_bf_config c = config(-1, 0, 0, 1);
        const int32_t script[] = {IMS, ANS, A, A, A, A, A, A, A};
        run(&c, &st, &s, script, 9);
        CHECK(st.finish == S1C_FINISH_LENGTH && st.answer_tokens == 5);
    }
    {  // bad configurations are refused with a message
        s1c_bf_config c = config(10, 20, 0, 1);
        CHECK(s1c_bf_config_check(&c) != S1C_OK);
        c = config(10, 0, -1, 1);
        CHECK(s1c_bf_config_check(&c) != S1C_OK);
        c = config(-5, 0, 0, 1);
        CHECK(s1c_bf_config_check(&c) == S1C_OK);  // negative cap = no cap (the CLI refuses it earlier)
    }
    return check_exit("test_infer_budget");
}
