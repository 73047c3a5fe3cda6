// test_model_batch.c — packed batches: targets, positions, offsets, and the loss weights that carry
// the mask and both normalisations (s1's per-sequence mean, global token mean), plus refusals.
#include "mt.h"
#include "qwen2.h"

static void check_batch(s1c_backend *be) {
    // Three sequences: lengths 4, 1, 5; masks mark targets (index t = token t is a target).
    const int32_t s0[] = {5, 6, 7, 8}, s1[] = {9}, s2[] = {1, 2, 3, 4, 40};
    const uint8_t m0[] = {0, 1, 1, 1}, m1[] = {1}, m2[] = {0, 0, 1, 0, 1};
    const int32_t *ids[] = {s0, s1, s2};
    const uint8_t *masks[] = {m0, m1, m2};
    const int lens[] = {4, 1, 5};
    s1c_batch b;
    MT_OK(s1c_batch_create(be, &b, 3, ids, masks, lens, S1C_LOSS_SEQ_MEAN, 2.0));
    CHECK(b.T == 10 && b.n_seq == 3 && b.max_id == 40 && b.max_seqlen == 5, "T %d n_seq %d max_id %d max_seqlen %d",
          b.T, b.n_seq, b.max_id, b.max_seqlen);
    int32_t ids_h[10], tg[10], pos[10], cu[4];
    float w[10];
    be->copy_d2h(be, ids_h, b.ids, sizeof(ids_h));
    be->copy_d2h(be, tg, b.targets, sizeof(tg));
    be->copy_d2h(be, pos, b.pos, sizeof(pos));
    be->copy_d2h(be, cu, b.cu_seqlens, sizeof(cu));
    be->copy_d2h(be, w, b.weight, sizeof(w));
    const int32_t want_ids[10] = {5, 6, 7, 8, 9, 1, 2, 3, 4, 40}, want_pos[10] = {0, 1, 2, 3, 0, 0, 1, 2, 3, 4};
    const int32_t want_cu[4] = {0, 4, 5, 10};
    CHECK(memcmp(ids_h, want_ids, sizeof(ids_h)) == 0, "ids packed end to end");
    CHECK(memcmp(pos, want_pos, sizeof(pos)) == 0, "positions restart per sequence");
    CHECK(memcmp(cu, want_cu, sizeof(cu)) == 0, "cu_seqlens");
    const int32_t want_tg[10] = {6, 7, 8, 0, 0, 2, 3, 4, 40, 0};
    for (int t = 0; t < 10; t++)
        if (w[t] != 0) CHECK(tg[t] == want_tg[t], "target %d: %d vs %d", t, tg[t], want_tg[t]);
    // seq 0: 3 targets → 1/(3·3·2) each; seq 1: none; seq 2: targets at tokens 2 and 4 → positions 1, 3: 1/(2·3·2).
    const float a = (float)(1.0 / 18.0), c = (float)(1.0 / 12.0);
    const float want_w[10] = {a, a, a, 0, 0, 0, c, 0, c, 0};
    for (int t = 0; t < 10; t++) CHECK(fabsf(w[t] - want_w[t]) <= 1e-7f, "seq-mean weight %d: %g vs %g", t, w[t], want_w[t]);
    s1c_batch_free(be, &b);

    MT_OK(s1c_batch_create(be, &b, 3, ids, masks, lens, S1C_LOSS_TOKEN_MEAN, 1.0));
    be->copy_d2h(be, w, b.weight, sizeof(w));
    const float d = 0.2f;  // 5 targets in all
    const float want_t[10] = {d, d, d, 0, 0, 0, d, 0, d, 0};
    for (int t = 0; t < 10; t++) CHECK(fabsf(w[t] - want_t[t]) <= 1e-7f, "token-mean weight %d: %g", t, w[t]);
    s1c_batch_free(be, &b);

    // NULL masks: every next token is a target.
    MT_OK(s1c_batch_create(be, &b, 1, ids, NULL, lens, S1C_LOSS_TOKEN_MEAN, 1.0));
    be->copy_d2h(be, w, b.weight, 4 * sizeof(float));
    CHECK(fabsf(w[0] - 1.0f / 3) < 1e-7f && fabsf(w[2] - 1.0f / 3) < 1e-7f && w[3] == 0.0f, "unmasked weights");
    s1c_batch_free(be, &b);

    const int bad_len[] = {4, 0, 5};
    CHECK(s1c_batch_create(be, &b, 3, ids, masks, bad_len, S1C_LOSS_SEQ_MEAN, 1.0) != S1C_OK &&
              mt_contains(s1c_err_msg(), "sequence 1"),
          "empty sequence refused: %s", s1c_err_msg());
    const int32_t neg[] = {1, -3};
    const int32_t *nids[] = {neg};
    const int nlen[] = {2};
    CHECK(s1c_batch_create(be, &b, 1, nids, NULL, nlen, S1C_LOSS_SEQ_MEAN, 1.0) != S1C_OK &&
              mt_contains(s1c_err_msg(), "negative id"),
          "negative id refused: %s", s1c_err_msg());
    CHECK(s1c_batch_create(be, &b, 0, ids, masks, lens, S1C_LOSS_SEQ_MEAN, 1.0) != S1C_OK, "no sequences refused");
    CHECK(s1c_batch_create(be, &b, 1, ids, masks, lens, S1C_LOSS_SEQ_MEAN, 0.0) != S1C_OK, "scale 0 refused");
}

// Batches carved from a slot (sized once for max_T tokens): the same contents as an allocated
// batch, no backend allocation of their own, every (T, n_seq <= T <= max_T) fits the reservation,
// and a larger batch is refused naming both sizes.
static void check_slot(s1c_backend *be) {
    const int max_T = 300;
    s1c_batch_slot slot;
    MT_OK(s1c_batch_slot_alloc(be, &slot, max_T));
    CHECK(slot.bytes == s1c_batch_block_bytes(max_T, max_T) && slot.block, "slot of %zu bytes", slot.bytes);
    for (int T = 1; T <= max_T; T++)
        for (int n = 1; n <= T; n++)
            if (s1c_batch_block_bytes(T, n) > slot.bytes) {
                CHECK(0, "batch of %d tokens in %d sequences: %zu bytes > slot %zu", T, n, s1c_batch_block_bytes(T, n),
                      slot.bytes);
                n = T;
            }
    CHECK(s1c_batch_block_bytes(2 * max_T, 1) > slot.bytes, "slot of %zu bytes holds %d tokens", slot.bytes, 2 * max_T);
    // the same three sequences as above, built both ways, twice through the slot (it is reused)
    const int32_t s0[] = {5, 6, 7, 8}, s1[] = {9}, s2[] = {1, 2, 3, 4, 40};
    const uint8_t m0[] = {0, 1, 1, 1}, m1[] = {1}, m2[] = {0, 0, 1, 0, 1};
    const int32_t *ids[] = {s0, s1, s2};
    const uint8_t *masks[] = {m0, m1, m2};
    const int lens[] = {4, 1, 5};
    s1c_batch a, b;
    MT_OK(s1c_batch_create(be, &a, 3, ids, masks, lens, S1C_LOSS_SEQ_MEAN, 2.0));
    for (int rep = 0; rep < 2; rep++) {
        MT_OK(s1c_batch_create_in(be, &b, &slot, 3, ids, masks, lens, S1C_LOSS_SEQ_MEAN, 2.0));
        CHECK(b.block == slot.block && b.borrowed && !a.borrowed, "carved from the slot");
        CHECK(b.T == a.T && b.n_seq == a.n_seq && b.max_id == a.max_id && b.max_seqlen == a.max_seqlen, "header");
        char ha[2048], hb[2048];
        const size_t nb = s1c_batch_block_bytes(a.T, a.n_seq);
        S1C_ASSERT(nb <= sizeof ha);
        be->copy_d2h(be, ha, a.block, nb);
        be->copy_d2h(be, hb, b.block, nb);
        CHECK(memcmp(ha, hb, nb) == 0, "slot batch %d: contents differ from the allocated one", rep);
        s1c_batch_free(be, &b);  // leaves the slot's block
        CHECK(slot.block != NULL && b.block == NULL);
    }
    s1c_batch_free(be, &a);
    // too large for the slot: refused with both sizes named
    int32_t *big = s1c_xcalloc((size_t)2 * max_T, sizeof(int32_t));
    const int32_t *bids[] = {big};
    const int blen[] = {2 * max_T};
    CHECK(s1c_batch_create_in(be, &b, &slot, 1, bids, NULL, blen, S1C_LOSS_TOKEN_MEAN, 1.0) != S1C_OK &&
              mt_contains(s1c_err_msg(), "slot sized for 300 tokens"),
          "oversized batch refused: %s", s1c_err_msg());
    const int ok_len[] = {max_T};  // exactly max_T tokens fits
    MT_OK(s1c_batch_create_in(be, &b, &slot, 1, bids, NULL, ok_len, S1C_LOSS_TOKEN_MEAN, 1.0));
    s1c_batch_free(be, &b);
    free(big);
    s1c_batch_slot_free(be, &slot);
    CHECK(slot.block == NULL && slot.bytes == 0);
    CHECK(s1c_batch_slot_alloc(be, &slot, 0) != S1C_OK && mt_contains(s1c_err_msg(), "max_T 0"), "max_T 0 refused");
}

// The deterministic embedding backward's index (s1c_embed_order): positions sorted by (id, t),
// runs of one id, and summing the rows run by run in that order gives the sequential loop's bits.
static void check_embed_order(s1c_backend *be) {
    {  // by hand: ids 3 1 3 0 1 -> id 0: {3}; id 1: {1, 4}; id 3: {0, 2}
        const int32_t ids[] = {3, 1, 3, 0, 1};
        int32_t order[5], seg[6];
        const int n = s1c_embed_order(ids, 5, order, seg);
        const int32_t want_o[] = {3, 1, 4, 0, 2}, want_s[] = {0, 1, 3, 5};
        CHECK(n == 3 && memcmp(order, want_o, sizeof want_o) == 0 && memcmp(seg, want_s, sizeof want_s) == 0,
              "hand case: n %d", n);
        int32_t one_seg[1];
        CHECK(s1c_embed_order(ids, 0, order, one_seg) == 0 && one_seg[0] == 0, "empty batch");
    }
    // random ids with many repeats (and one id repeated a lot, like a frequent token)
    enum { T = 700, V = 37, C = 5 };
    int32_t ids[T], order[T], seg[T + 1];
    uint32_t r = 12345u;
    for (int t = 0; t < T; t++) {
        r = r * 1664525u + 1013904223u;
        ids[t] = (r >> 8) % 3 == 0 ? 7 : (int32_t)((r >> 12) % V);
    }
    const int n = s1c_embed_order(ids, T, order, seg);
    int seen[T] = {0}, distinct[V] = {0}, n_distinct = 0;
    for (int t = 0; t < T; t++) n_distinct += !distinct[ids[t]]++;
    CHECK(n == n_distinct && seg[0] == 0 && seg[n] == T, "%d runs for %d distinct ids", n, n_distinct);
    for (int j = 0; j < T; j++) {
        CHECK(order[j] >= 0 && order[j] < T && !seen[order[j]]++, "order is not a permutation at %d", j);
        if (j > 0)
            CHECK(ids[order[j - 1]] < ids[order[j]] || (ids[order[j - 1]] == ids[order[j]] && order[j - 1] < order[j]),
                  "order not sorted by (id, position) at %d", j);
    }
    for (int s = 0; s < n; s++) {
        CHECK(seg[s] < seg[s + 1], "run %d empty", s);
        for (int j = seg[s]; j < seg[s + 1]; j++) CHECK(ids[order[j]] == ids[order[seg[s]]], "run %d mixes ids", s);
    }
    // run-by-run sums (what the CUDA kernel does per block) equal the sequential scatter bit for bit
    static float dout[T][C], want[V][C], got[V][C];
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) dout[t][c] = (float)((t * 31 + c * 17) % 101) / 7.0f - 7.0f;
    for (int v = 0; v < V; v++)
        for (int c = 0; c < C; c++) want[v][c] = got[v][c] = 0.1f * (float)(v + c);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) want[ids[t]][c] += dout[t][c];
    for (int s = 0; s < n; s++)
        for (int c = 0; c < C; c++) {
            float acc = got[ids[order[seg[s]]]][c];
            for (int j = seg[s]; j < seg[s + 1]; j++) acc += dout[order[j]][c];
            got[ids[order[seg[s]]]][c] = acc;
        }
    CHECK(memcmp(want, got, sizeof want) == 0, "run sums differ from the sequential scatter");
    // and a batch carries the same index for its ids
    const int32_t s0[] = {4, 2, 4, 4}, s1[] = {2, 9};
    const int32_t *bids[] = {s0, s1};
    const int lens[] = {4, 2};
    s1c_batch b;
    MT_OK(s1c_batch_create(be, &b, 2, bids, NULL, lens, S1C_LOSS_TOKEN_MEAN, 1.0));
    int32_t bo[6], bs[7];
    be->copy_d2h(be, bo, b.emb_order, sizeof bo);
    be->copy_d2h(be, bs, b.emb_seg, sizeof(int32_t) * (size_t)(b.n_emb_seg + 1));
    const int32_t want_bo[] = {1, 4, 0, 2, 3, 5}, want_bs[] = {0, 2, 5, 6};
    CHECK(b.n_emb_seg == 3 && memcmp(bo, want_bo, sizeof bo) == 0 && memcmp(bs, want_bs, sizeof want_bs) == 0,
          "batch index: %d runs", b.n_emb_seg);
    s1c_batch_free(be, &b);
}

int main(void) {
    s1c_backend *be = s1c_backend_create("cpu", 0);
    if (!be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    check_batch(be);
    check_slot(be);
    check_embed_order(be);
    s1c_backend_destroy(be);
    return check_exit("test_model_batch");
}
