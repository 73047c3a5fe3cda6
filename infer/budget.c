// budget.c — see budget.h.
#include "budget.h"

#include <string.h>

const char *s1c_think_end_name(s1c_think_end e) {
    switch (e) {
    case S1C_END_NATURAL: return "natural";
    case S1C_END_FORCED: return "forced";
    case S1C_END_EOS: return "eos";
    default: return "none";
    }
}

const char *s1c_finish_name(s1c_finish f) {
    switch (f) {
    case S1C_FINISH_STOP: return "stop";
    case S1C_FINISH_STOP_STRING: return "stop_string";
    case S1C_FINISH_LENGTH: return "length";
    case S1C_FINISH_CONTEXT: return "context";
    default: return "none";
    }
}

s1c_status s1c_bf_config_check(const s1c_bf_config *c) {
    if (c->min_thinking < 0) return s1c_err("--min-thinking %d: must be >= 0", c->min_thinking);
    if (c->ignore < 0) return s1c_err("--ignore %d: must be >= 0", c->ignore);
    if (c->max_thinking >= 0 && c->min_thinking > c->max_thinking)
        return s1c_err("--min-thinking %d exceeds --max-thinking %d", c->min_thinking, c->max_thinking);
    if (c->max_answer <= 0) return s1c_err("max answer tokens %d: must be > 0", c->max_answer);
    if (c->n_delim < 1 && !c->no_thinking) return s1c_err("end-of-thinking delimiter: encodes to no tokens");
    if (c->n_wait < 0 || c->n_answer_prefix < 0) return s1c_err("budget forcing: negative string length");
    if (1 + c->n_delim + c->n_answer_prefix > S1C_BF_MAX_APPEND || c->n_wait > S1C_BF_MAX_APPEND)
        return s1c_err("budget forcing: delimiter + answer prefix (%d tokens) or wait string (%d tokens) longer "
                       "than %d tokens", c->n_delim + c->n_answer_prefix, c->n_wait, S1C_BF_MAX_APPEND - 1);
    if (!c->token_bytes) return s1c_err("budget forcing: no token text source");
    return S1C_OK;
}

static int cur_nl(const s1c_bf_state *st) { return st->n_hist ? st->hist_nl[st->n_hist - 1] : st->nl0; }
static int cur_utf8(const s1c_bf_state *st) { return st->n_hist ? st->hist_utf8[st->n_hist - 1] : st->utf80; }

static void hist_push(const s1c_bf_config *c, s1c_bf_state *st, int32_t id) {
    int nl = cur_nl(st), need = cur_utf8(st);
    size_t len = 0;
    const char *b = c->token_bytes(c->token_ctx, id, &len);
    for (size_t i = 0; b && i < len; i++) {
        unsigned char x = (unsigned char)b[i];
        if (need > 0 && (x & 0xC0) == 0x80) need--;
        else if ((x & 0xE0) == 0xC0) need = 1;
        else if ((x & 0xF0) == 0xE0) need = 2;
        else if ((x & 0xF8) == 0xF0) need = 3;
        else need = 0;
    }
    if (b && len) nl = b[len - 1] == '\n';
    if (st->n_hist == S1C_BF_HIST) {
        st->nl0 = st->hist_nl[0];
        st->utf80 = st->hist_utf8[0];
        memmove(st->hist_id, st->hist_id + 1, (S1C_BF_HIST - 1) * sizeof st->hist_id[0]);
        memmove(st->hist_nl, st->hist_nl + 1, S1C_BF_HIST - 1);
        memmove(st->hist_utf8, st->hist_utf8 + 1, S1C_BF_HIST - 1);
        st->n_hist--;
    }
    st->hist_id[st->n_hist] = id;
    st->hist_nl[st->n_hist] = (uint8_t)nl;
    st->hist_utf8[st->n_hist] = (uint8_t)need;
    st->n_hist++;
}

static void emit(s1c_bf_action *act, int32_t id) {
    if (act->n < S1C_BF_MAX_APPEND) act->ids[act->n++] = id;
}

// Removes the newest token: one not yet in the sequence (pending in the action) or one that is.
static int pop_token(s1c_bf_state *st, s1c_bf_action *act) {
    if (st->n_hist == 0) return 0;
    st->n_hist--;
    if (act->n > 0) act->n--;
    else act->rollback++;
    return 1;
}

static void append_think(const s1c_bf_config *c, s1c_bf_state *st, s1c_bf_action *act, int32_t id) {
    emit(act, id);
    hist_push(c, st, id);
    st->think_tokens++;
}

// Thinking tokens that are surely thinking: the unconfirmed first tokens of a delimiter being
// matched are not (they may turn out to be the end of thinking, which vLLM counts inside
// max_tokens as the stop token, so s1 ends naturally at a cap one above the natural length).
static int confirmed(const s1c_bf_state *st) { return st->think_tokens - st->match; }

static void force_end(const s1c_bf_config *c, s1c_bf_state *st, s1c_bf_action *act, s1c_think_end why) {
    // A partial delimiter at the end would read as a broken delimiter: take it back.
    for (; st->match > 0; st->match--)
        if (pop_token(st, act)) st->think_tokens--;
    // A partial delimiter that broke on this step became thinking and may have carried the count
    // past the cap (by at most n_delim tokens): take back to the cap, and a delimiter start left
    // dangling at the end too (s1 stops on that token and never shows it as thinking).
    while (c->max_thinking >= 0 && st->think_tokens > c->max_thinking && pop_token(st, act)) st->think_tokens--;
    if (why == S1C_END_FORCED && st->n_hist > 0 && st->hist_id[st->n_hist - 1] == c->delim[0] && pop_token(st, act))
        st->think_tokens--;
    // Never cut a multi-byte character in two.
    while (cur_utf8(st) != 0 && pop_token(st, act)) st->think_tokens--;
    if (!cur_nl(st)) emit(act, c->newline_id);
    for (int i = 0; i < c->n_delim; i++) emit(act, c->delim[i]);
    for (int i = 0; i < c->n_answer_prefix; i++) emit(act, c->answer_prefix[i]);
    st->phase = S1C_PHASE_ANSWER;
    st->end = why;
    st->n_hist = 0;
}

// Ends thinking with the delimiter from token `from` on (s1: the stop token is cut and the
// delimiter appended): an end that is not forced, so no newline and no answer prefix.
static void end_with_delim(const s1c_bf_config *c, s1c_bf_state *st, s1c_bf_action *act, int from, s1c_think_end why) {
    for (; st->match > 0; st->match--)
        if (pop_token(st, act)) st->think_tokens--;
    for (int i = from; i < c->n_delim; i++) emit(act, c->delim[i]);
    st->phase = S1C_PHASE_ANSWER;
    st->end = why;
    st->n_hist = 0;
}

static int can_extend(const s1c_bf_config *c, const s1c_bf_state *st) {
    if (confirmed(st) >= c->min_thinking && st->ignores_left <= 0) return 0;
    // An extension that would itself hit the cap is pointless: the forced end follows anyway.
    return c->max_thinking < 0 || confirmed(st) + c->n_wait < c->max_thinking;
}

// Replaces an attempted end (already dropped from the action) by the wait string.
static void extend(const s1c_bf_config *c, s1c_bf_state *st, s1c_bf_action *act) {
    for (; st->match > 0; st->match--)
        if (pop_token(st, act)) st->think_tokens--;
    if (st->think_tokens < c->min_thinking) st->min_extensions++;
    else {
        st->ignores_left--;
        st->extensions++;
    }
    for (int i = 0; i < c->n_wait; i++) append_think(c, st, act, c->wait[i]);
    if (act->n == 0) st->ban_next = 1;
    st->ban_left = c->min_tokens;  // a new segment starts after the continuation
}

void s1c_bf_start(const s1c_bf_config *c, s1c_bf_state *st, int prompt_ends_nl, s1c_bf_action *act) {
    memset(st, 0, sizeof *st);
    act->rollback = 0;
    act->n = 0;
    st->phase = S1C_PHASE_THINK;
    st->ignores_left = c->ignore;
    st->nl0 = (uint8_t)(prompt_ends_nl != 0);
    st->ban_left = c->min_tokens;
    if (c->no_thinking) st->phase = S1C_PHASE_ANSWER;
    else if (c->max_thinking == 0) force_end(c, st, act, S1C_END_FORCED);
}

static int is_stop(const s1c_bf_config *c, int32_t id) {
    for (int i = 0; i < c->n_stop; i++)
        if (c->stop_ids[i] == id) return 1;
    return 0;
}

int s1c_bf_banned(const s1c_bf_config *c, const s1c_bf_state *st, int32_t *out) {
    if ((!st->ban_next && st->ban_left <= 0) || st->phase != S1C_PHASE_THINK || c->n_delim < 1) return 0;
    int n = 0;
    out[n++] = c->delim[0];
    for (int i = 0; i < c->n_stop; i++) out[n++] = c->stop_ids[i];
    return n;
}

void s1c_bf_step(const s1c_bf_config *c, s1c_bf_state *st, int32_t sampled, s1c_bf_action *act) {
    act->rollback = 0;
    act->n = 0;
    st->ban_next = 0;
    if (st->ban_left > 0) st->ban_left--;
    if (st->phase == S1C_PHASE_DONE) return;
    if (st->phase == S1C_PHASE_ANSWER) {
        if (is_stop(c, sampled)) {
            st->phase = S1C_PHASE_DONE;
            st->finish = S1C_FINISH_STOP;
            return;
        }
        emit(act, sampled);
        if (++st->answer_tokens >= c->max_answer) {
            st->phase = S1C_PHASE_DONE;
            st->finish = S1C_FINISH_LENGTH;
        }
        return;
    }
    if (is_stop(c, sampled)) {
        if (can_extend(c, st)) extend(c, st, act);
        else if (c->eos_delim_only) end_with_delim(c, st, act, 0, S1C_END_EOS);
        else force_end(c, st, act, S1C_END_EOS);
    } else if (sampled == c->delim[0] && c->early_trigger && c->end_on_delim_start && !can_extend(c, st)) {
        st->match = 0;  // (a partial delimiter before this one stays as text)
        emit(act, sampled);
        end_with_delim(c, st, act, 1, S1C_END_NATURAL);
        return;
    } else if (st->match > 0 && sampled == c->delim[st->match]) {
        if (st->match + 1 == c->n_delim) {
            if (!c->early_trigger && can_extend(c, st)) {
                extend(c, st, act);
            } else {
                // Natural end: the delimiter tokens were counted as thinking while unconfirmed.
                st->think_tokens -= st->match;
                st->match = 0;
                emit(act, sampled);
                st->phase = S1C_PHASE_ANSWER;
                st->end = S1C_END_NATURAL;
                st->n_hist = 0;
                return;
            }
        } else {
            append_think(c, st, act, sampled);
            st->match++;
        }
    } else {
        st->match = 0;  // a broken partial delimiter stays as ordinary thinking text
        if (sampled == c->delim[0] && (c->n_delim == 1 || c->early_trigger) && can_extend(c, st)) {
            extend(c, st, act);
        } else if (sampled == c->delim[0] && c->n_delim == 1) {
            emit(act, sampled);
            st->phase = S1C_PHASE_ANSWER;
            st->end = S1C_END_NATURAL;
            st->n_hist = 0;
            return;
        } else {
            append_think(c, st, act, sampled);
            if (sampled == c->delim[0]) st->match = 1;
        }
    }
    // The cap counts confirmed thinking only: a delimiter start at the cap may still complete.
    if (st->phase == S1C_PHASE_THINK && c->max_thinking >= 0 && confirmed(st) >= c->max_thinking)
        force_end(c, st, act, S1C_END_FORCED);
}
