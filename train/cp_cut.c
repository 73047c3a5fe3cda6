// cp_cut.c — a group's sequences end to end, cut into W equal-token shares; who sends what to
// whom in the K/V exchange; the sizes a run needs.
#include <stdlib.h>
#include <string.h>

#include "cp.h"

s1c_status s1c_cp_cut_make(const int *len, int n_seq, int W, s1c_cp_cut *c) {
    memset(c, 0, sizeof *c);
    if (W < 1 || n_seq < 0) return s1c_err("cp: %d sequences over %d ranks", n_seq, W);
    long total = 0;
    for (int i = 0; i < n_seq; i++) total += len[i] > 0 ? len[i] : 0;
    long *start = s1c_xmalloc(sizeof(long) * (size_t)(W + 1));
    for (int r = 0; r <= W; r++) start[r] = (long)((long long)total * r / W);  // total < 2^31 (a batch), r <= W
    s1c_status st = s1c_cp_cut_make_at(len, n_seq, W, start, c);
    free(start);
    return st;
}

s1c_status s1c_cp_cut_make_at(const int *len, int n_seq, int W, const long *start_in, s1c_cp_cut *c) {
    memset(c, 0, sizeof *c);
    if (W < 1 || n_seq < 0) return s1c_err("cp: %d sequences over %d ranks", n_seq, W);
    long total = 0;
    for (int i = 0; i < n_seq; i++) {
        if (len[i] < 1) return s1c_err("cp: sequence %d has %d tokens", i, len[i]);
        total += len[i];
    }
    if (start_in[0] != 0 || start_in[W] != total) return s1c_err("cp: shares must cover tokens [0, %ld)", total);
    for (int r = 0; r < W; r++)
        if (start_in[r + 1] < start_in[r]) return s1c_err("cp: share %d ends before it starts", r);
    c->W = W;
    c->n_seq = n_seq;
    c->total = total;
    c->len = s1c_xmalloc(sizeof(int) * (size_t)(n_seq ? n_seq : 1));
    memcpy(c->len, len, sizeof(int) * (size_t)n_seq);
    c->start = s1c_xmalloc(sizeof(long) * (size_t)(W + 1));
    memcpy(c->start, start_in, sizeof(long) * (size_t)(W + 1));
    // a share of n tokens meets at most n pieces; every cut adds at most one piece in all
    c->piece = s1c_xmalloc(sizeof(s1c_cp_piece) * (size_t)(n_seq + W + 1));
    c->first = s1c_xmalloc(sizeof(int) * (size_t)(W + 1));
    int np = 0, s = 0;
    long seq0 = 0;  // stream offset of sequence s
    for (int r = 0; r < W; r++) {
        c->first[r] = np;
        long at = c->start[r];
        const long end = c->start[r + 1];
        while (at < end) {
            while (seq0 + c->len[s] <= at) seq0 += c->len[s++];
            const long stop = seq0 + c->len[s] < end ? seq0 + c->len[s] : end;
            c->piece[np++] = (s1c_cp_piece){.seq = s, .begin = (int)(at - seq0), .end = (int)(stop - seq0)};
            at = stop;
        }
    }
    c->first[W] = np;
    return S1C_OK;
}

void s1c_cp_cut_free(s1c_cp_cut *c) {
    free(c->start);
    free(c->len);
    free(c->first);
    free(c->piece);
    memset(c, 0, sizeof *c);
}

void s1c_cp_links_free(s1c_cp_links *l) {
    free(l->to);
    free(l->from);
    memset(l, 0, sizeof *l);
}

void s1c_cp_links_of(const s1c_cp_cut *c, int rank, s1c_cp_links *l) {
    memset(l, 0, sizeof *l);
    l->to = s1c_xmalloc(sizeof(s1c_cp_link) * (size_t)c->W);
    l->from = s1c_xmalloc(sizeof(s1c_cp_link) * (size_t)c->W);
    const int a = c->first[rank], b = c->first[rank + 1];
    l->T = (int)(c->start[rank + 1] - c->start[rank]);
    if (a == b) return;  // an empty share
    const s1c_cp_piece *head = &c->piece[a], *tail = &c->piece[b - 1];
    l->n_ctx = head->begin;
    // context: every earlier rank's piece of the head's sequence, in rank order
    if (head->begin > 0)
        for (int q = 0; q < rank; q++) {
            if (c->first[q] == c->first[q + 1]) continue;
            const s1c_cp_piece *p = &c->piece[c->first[q + 1] - 1];  // only a last piece can go on
            if (p->seq == head->seq) l->from[l->n_from++] = (s1c_cp_link){q, p->end - p->begin, p->begin};
        }
    // tail: every later rank whose first piece continues the tail's sequence
    if (tail->end < c->len[tail->seq]) {
        l->tail = tail->end - tail->begin;
        for (int p = rank + 1; p < c->W; p++) {
            if (c->first[p] == c->first[p + 1]) continue;
            const s1c_cp_piece *h = &c->piece[c->first[p]];
            if (h->seq != tail->seq) break;
            l->to[l->n_to++] = (s1c_cp_link){p, l->tail, tail->begin};
        }
    }
}

double s1c_cp_attn_pairs(const s1c_cp_cut *c, int rank) {
    double pairs = 0;
    for (int i = c->first[rank]; i < c->first[rank + 1]; i++) {
        const double b = c->piece[i].begin, e = c->piece[i].end;
        pairs += (e * (e + 1) - b * (b + 1)) / 2;
    }
    return pairs;
}

void s1c_cp_sizes_add(s1c_cp_sizes *s, const s1c_cp_cut *c) {
    for (int r = 0; r < c->W; r++) {
        s1c_cp_links l;
        s1c_cp_links_of(c, r, &l);
        if (l.T > s->max_T) s->max_T = l.T;
        if (l.n_ctx > s->max_ctx) s->max_ctx = l.n_ctx;
        if (l.tail > s->max_tail) s->max_tail = l.tail;
        if (l.tail * l.n_to > s->max_back) s->max_back = l.tail * l.n_to;
        s1c_cp_links_free(&l);
    }
}

double s1c_cp_part_weight(int token_mean, int W, long seq_targets, int step_samples, long step_targets) {
    if (token_mean) return step_targets ? (double)W / (double)step_targets : 0.0;
    return seq_targets && step_samples ? (double)W / ((double)seq_targets * (double)step_samples) : 0.0;
}
