// test_cuda_plan.c — the CUDA backend's host-side geometry (kernels/cuda/cuda_plan.c) on the CPU:
// cuDNN attention buckets, refusals and workspace layout (alignment of every sub-buffer, no
// overlap, sizes), LM-head chunking, the bias-gradient grid and the vector elementwise / RoPE /
// RMSNorm-backward geometry. Runs without a GPU and without the
// CUDA toolkit: these numbers decide what the never-run GPU code indexes.
#include <limits.h>
#include <stdint.h>

#include "../check.h"
#include "cuda_plan.h"

static int64_t pow2_ref(int64_t x, int64_t lo) {
    int64_t p = lo;
    while (p < x) p *= 2;
    return p;
}

// Every invariant the .cu code relies on, for one accepted layout.
static void check_layout(const s1c_cuda_attn_layout *L, int T, int n_seq, int mx, int nh, int hd, int bwd,
                         int64_t plan_ws) {
    const char *dir = bwd ? "bwd" : "fwd";
    CHECK(L->ok, "%s T=%d n_seq=%d: refused (%s)", dir, T, n_seq, L->why ? L->why : "?");
    if (!L->ok) return;
    int want_s = (int)pow2_ref(mx > 0 ? mx : T, 64);
    CHECK(L->b == (int)pow2_ref(n_seq, 1) && L->b >= n_seq, "%s n_seq=%d: b=%d", dir, n_seq, L->b);
    CHECK(L->s == want_s, "%s mx=%d T=%d: s=%d, want %d", dir, mx, T, L->s, want_s);
    CHECK(L->pad_rows == (size_t)L->b * nh * L->s);
    // aux: seq[b], off_qkv[b+1], off_o[b+1], each 256-byte aligned (cuDNN is told 16), disjoint
    size_t b = (size_t)L->b;
    CHECK(L->aux_seq * 4 % 256 == 0 && L->aux_off_qkv * 4 % 256 == 0 && L->aux_off_o * 4 % 256 == 0,
          "%s b=%zu: aux offsets %zu %zu %zu (int32) not 256-byte aligned", dir, b, L->aux_seq, L->aux_off_qkv,
          L->aux_off_o);
    CHECK(L->aux_seq + b <= L->aux_off_qkv && L->aux_off_qkv + b + 1 <= L->aux_off_o, "%s b=%zu: aux arrays overlap",
          dir, b);
    CHECK((L->aux_off_o + b + 1) * 4 <= L->aux_bytes && L->aux_bytes % 256 == 0, "%s b=%zu: aux_bytes %zu", dir, b,
          L->aux_bytes);
    // float buffers after aux, 256-byte aligned, disjoint, sized for the padded rows
    size_t st = L->pad_rows * sizeof(float);
    CHECK(L->stats >= L->aux_bytes && L->stats % 256 == 0);
    if (bwd) {
        CHECK(L->softmax_sum % 256 == 0 && L->softmax_sum >= L->stats + st, "softmax_sum at %zu", L->softmax_sum);
        CHECK(L->dq_accum % 256 == 0 && L->dq_accum >= L->softmax_sum + st, "dq_accum at %zu", L->dq_accum);
        CHECK(L->dq_accum_bytes == (bwd == 1 ? L->pad_rows * (size_t)hd * sizeof(float) : 0), "dq_accum_bytes %zu",
              L->dq_accum_bytes);
        CHECK(L->cudnn_ws % 256 == 0 && L->cudnn_ws >= L->dq_accum + L->dq_accum_bytes, "cudnn_ws at %zu",
              L->cudnn_ws);
    } else {
        CHECK(L->softmax_sum == 0 && L->dq_accum == 0 && L->dq_accum_bytes == 0);
        CHECK(L->cudnn_ws % 256 == 0 && L->cudnn_ws >= L->stats + st, "cudnn_ws at %zu", L->cudnn_ws);
    }
    CHECK(L->total == L->cudnn_ws + (size_t)plan_ws, "%s: total %zu, cudnn_ws %zu + plan %lld", dir, L->total,
          L->cudnn_ws, (long long)plan_ws);
}

int main(void) {
    // ---- attention layouts over many batch shapes
    int n_ok = 0;
    for (int n_seq = 1; n_seq <= 70; n_seq++)
        for (int bwd = 0; bwd <= S1C_ATTN_BWD_DET; bwd++) {
            int T = n_seq * 37 + 5, mx = (n_seq % 3) ? 37 + 5 : 0;  // mx 0: unknown, T is used
            int64_t ws = (n_seq % 4) * 4096 + 17;
            s1c_cuda_attn_layout L = s1c_cuda_attn_plan(T, n_seq, mx, 8, 2, 64, bwd, ws);
            check_layout(&L, T, n_seq, mx, 8, 64, bwd, ws);
            n_ok += L.ok;
        }
    CHECK(n_ok == 210, "%d of 210 layouts accepted", n_ok);

    // buckets at the edges
    s1c_cuda_attn_layout L = s1c_cuda_attn_plan(1, 1, 1, 4, 4, 128, 0, 0);
    CHECK(L.ok && L.b == 1 && L.s == 64, "T=1: b=%d s=%d", L.b, L.s);
    L = s1c_cuda_attn_plan(65, 1, 65, 4, 4, 128, 0, 0);
    CHECK(L.ok && L.s == 128, "s=%d", L.s);
    L = s1c_cuda_attn_plan(32768, 8, 4096, 40, 8, 128, 1, 1 << 20);
    CHECK(L.ok && L.b == 8 && L.s == 4096, "b=%d s=%d", L.b, L.s);
    check_layout(&L, 32768, 8, 4096, 40, 128, 1, 1 << 20);
    // s1-32B's 32K-token sequence, backward: 40 heads x 32768 x (2 + 128) floats = 682 MB, accepted
    L = s1c_cuda_attn_plan(32768, 1, 32768, 40, 8, 128, 1, 0);
    CHECK(L.ok && L.total > (size_t)600 << 20, "32K bwd: ok=%d total=%zu", L.ok, L.total);
    // the deterministic backward has no dQ accumulator: 40 x 32768 x 2 floats of stats / sums
    s1c_cuda_attn_layout D = s1c_cuda_attn_plan(32768, 1, 32768, 40, 8, 128, S1C_ATTN_BWD_DET, 0);
    CHECK(D.ok && D.b == L.b && D.s == L.s && D.dq_accum_bytes == 0 && D.total < (size_t)12 << 20 &&
              L.total - D.total == L.dq_accum_bytes,
          "32K deterministic bwd: total %zu vs %zu", D.total, L.total);
    check_layout(&D, 32768, 1, 32768, 40, 128, S1C_ATTN_BWD_DET, 0);

    // ---- refusals
    L = s1c_cuda_attn_plan(128, 1, 0, 4, 4, 12, 0, 0);
    CHECK(!L.ok && L.why && L.by_design, "head_dim 12 accepted (or not marked a cuDNN limit)");
    L = s1c_cuda_attn_plan(128, 1, 0, 4, 4, 264, 0, 0);
    CHECK(!L.ok && L.by_design, "head_dim 264 accepted");
    L = s1c_cuda_attn_plan(128, 1, 0, 6, 4, 64, 0, 0);
    CHECK(!L.ok && !L.by_design, "n_head not a multiple of n_kv_head accepted");
    L = s1c_cuda_attn_plan(128, 1, 0, 4, 2, 64, 1, 0);
    CHECK(L.ok && !L.by_design, "a Qwen2 head_dim refused");
    L = s1c_cuda_attn_plan(0, 1, 0, 4, 4, 64, 0, 0);
    CHECK(!L.ok, "T=0 accepted");
    // padding above the limit in backward only: 1 x 40 x 262144 x 130 floats = 5.4 GB
    L = s1c_cuda_attn_plan(262144, 1, 262144, 40, 8, 128, 1, 0);
    CHECK(!L.ok && !L.by_design, "5.4 GB of backward padding accepted (or called a cuDNN limit: it is our cap)");
    L = s1c_cuda_attn_plan(262144, 1, 262144, 40, 8, 128, S1C_ATTN_BWD_DET, 0);
    CHECK(L.ok, "deterministic backward at 256K refused (no accumulator: 84 MB of stats)");
    L = s1c_cuda_attn_plan(262144, 1, 262144, 40, 8, 128, 0, 0);
    CHECK(L.ok, "forward at 256K refused (%s)", L.why ? L.why : "?");
    // qkv offsets beyond int32: 2^20 tokens x (64 + 16) heads x 128
    L = s1c_cuda_attn_plan(1 << 20, 1024, 1024, 64, 8, 128, 0, 0);
    CHECK(!L.ok && L.by_design, "int32-overflowing offsets accepted");
    L = s1c_cuda_attn_plan((1 << 20) - 1, 1024, 1024, 8, 8, 64, 0, 0);  // 2^20 x 24 x 64 = 1.6e9 < 2^31
    CHECK(L.ok, "offsets below 2^31 refused (%s)", L.why ? L.why : "?");

    // ---- LM-head chunks
    const size_t budget = (size_t)192 << 20;
    int tc = s1c_cuda_ce_chunk(100000, 151936, 1, budget);  // a 192 MiB budget, bf16 in place
    CHECK(tc == 640 && s1c_cuda_ce_chunk_bytes(tc, 151936) <= budget, "192 MiB: tc=%d, want 640", tc);
    CHECK(s1c_cuda_ce_chunk(100000, 151936, 0, budget) == tc, "no grad: same chunk");
    CHECK(s1c_cuda_ce_chunk(50, 151936, 1, budget) == 50, "small T is one chunk");
    CHECK(s1c_cuda_ce_chunk(100, 384, 1, budget) == 100, "tiny vocab: T");
    CHECK(s1c_cuda_ce_chunk(1000, 200000000, 1, budget) == 1, "huge vocab: at least one token");
    CHECK(s1c_cuda_ce_chunk(0, 100, 1, budget) == 1);

    // the backend's budget at Qwen's vocab: >= 2048 tokens per chunk (issue 15), the bytes the code
    // requests within it, and dW_lm traffic (one fp32 read + write of dW_lm per chunk) at most a
    // tenth of the former 192-token chunks for the 1.5B / 8192-token step
    for (int vi = 0; vi < 2; vi++) {
        const int V = vi ? 152064 : 151936;
        const int tcb = s1c_cuda_ce_chunk(1 << 20, V, 1, S1C_CE_CHUNK_BYTES);
        CHECK(tcb >= 2048 && tcb % 64 == 0 && s1c_cuda_ce_chunk_bytes(tcb, V) <= S1C_CE_CHUNK_BYTES,
              "V=%d: chunk %d tokens, %zu bytes", V, tcb, s1c_cuda_ce_chunk_bytes(tcb, V));
        CHECK(s1c_cuda_ce_chunk_bytes(tcb, V) % 256 == 0 && s1c_cuda_ce_chunk_bytes(tcb, V) >= (size_t)tcb * V * 2);
        const int T8 = 8192, old_chunks = (T8 + 191) / 192, new_chunks = (T8 + tcb - 1) / tcb;
        CHECK(new_chunks * 10 <= old_chunks, "dW_lm passes %d vs %d before", new_chunks, old_chunks);
    }

    // ---- bias gradient grid
    int rows_cases[] = {1, 255, 256, 1000, 65535 * 256, 65535 * 256 + 1, 40000000, INT_MAX};
    for (size_t i = 0; i < sizeof rows_cases / sizeof rows_cases[0]; i++) {
        int T = rows_cases[i];
        int rows = s1c_cuda_bias_grad_rows(T, 256);
        long long gy = ((long long)T + rows - 1) / rows;
        CHECK(rows >= 256 && rows % 256 == 0 && gy <= 65535, "T=%d: rows=%d grid.y=%lld", T, rows, gy);
    }
    CHECK(s1c_cuda_bias_grad_rows(65535 * 256, 256) == 256 && s1c_cuda_bias_grad_rows(65535 * 256 + 1, 256) == 512);

    // ---- split-KV decode plan
    {
        // s1's budget-forced evaluation: batch 1-8 at 32K context, H100 (132 SMs)
        const int Ts[] = {1, 2, 4, 8, 16, 64, 300};
        const int ctxs[] = {1, 31, 32, 33, 255, 511, 512, 1000, 4096, 32768, 131072};
        const int nkvs[] = {2, 8};
        for (size_t a = 0; a < sizeof Ts / sizeof Ts[0]; a++)
            for (size_t c = 0; c < sizeof ctxs / sizeof ctxs[0]; c++)
                for (size_t k = 0; k < 2; k++)
                    for (int force = 0; force <= 5; force += 5) {
                        int T = Ts[a], ctx = ctxs[c], nkv = nkvs[k];
                        s1c_decode_split d = s1c_decode_split_plan(T, nkv, ctx, 132, force);
                        CHECK(d.n_splits >= 1 && d.n_splits <= S1C_DECODE_MAX_SPLITS && d.split_len % 32 == 0 &&
                                  d.split_len > 0,
                              "T=%d ctx=%d nkv=%d force=%d: n=%d len=%d", T, ctx, nkv, force, d.n_splits, d.split_len);
                        CHECK((int64_t)d.n_splits * d.split_len >= ctx && (int64_t)(d.n_splits - 1) * d.split_len < ctx,
                              "T=%d ctx=%d: %d x %d does not tile the context exactly once", T, ctx, d.n_splits,
                              d.split_len);
                        if (!force && d.n_splits > 1)
                            CHECK(d.split_len >= S1C_DECODE_SPLIT_MIN, "ctx=%d: split of %d positions", ctx, d.split_len);
                        if (!force && (int64_t)T * nkv >= 264) CHECK(d.n_splits == 1, "T=%d fills the GPU unsplit", T);
                    }
        s1c_decode_split d = s1c_decode_split_plan(1, 8, 32768, 132, 0);  // 32B, batch 1, 32K
        CHECK(d.n_splits * 8 >= 2 * 132 - 8 && d.n_splits <= 64, "32B b1 32K: %d splits", d.n_splits);
        d = s1c_decode_split_plan(1, 2, 32768, 132, 0);  // 1.5B: 2 KV heads -> capped at 64
        CHECK(d.n_splits == 64 && d.split_len == 512, "1.5B b1 32K: %d x %d", d.n_splits, d.split_len);
        d = s1c_decode_split_plan(8, 8, 32768, 132, 0);  // 32B batch 8: 64 items -> 5 splits
        CHECK(d.n_splits == 5 && (int64_t)d.n_splits * 64 >= 264, "32B b8 32K: %d splits", d.n_splits);
        CHECK(s1c_decode_split_plan(1, 8, 400, 132, 0).n_splits == 1, "short context split");
        CHECK(s1c_decode_split_plan(1, 8, 100, 132, 7).n_splits == 4, "forced 7 on 100 positions: 4 of 32");
        CHECK(s1c_decode_split_ws_floats(3, 12, 128, 5) == (size_t)3 * 12 * 5 * 130);
    }

    // ---- split-KV workspace reservation: covers every planned decode call of a model, and is not
    // larger than the largest of them (the reservation is the max, not a blanket bound)
    {
        const int models[][3] = {{12, 2, 128}, {40, 8, 128}, {14, 2, 64}, {4, 2, 16}, {28, 4, 128}};
        const int sms[] = {1, 78, 132};
        for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++)
            for (size_t si = 0; si < sizeof sms / sizeof sms[0]; si++) {
                const int nh = models[mi][0], nkv = models[mi][1], hd = models[mi][2], sm = sms[si];
                size_t res = s1c_decode_split_ws_reserve(nh, nkv, hd, sm), worst = 0;
                for (int T = 1; T <= 300; T++)
                    for (int ctx = 1; ctx <= 140000; ctx = ctx < 600 ? ctx + 37 : ctx * 3 / 2) {
                        s1c_decode_split d = s1c_decode_split_plan(T, nkv, ctx, sm, 0);
                        if (d.n_splits < 2) continue;
                        size_t b = s1c_decode_split_ws_floats(T, nh, hd, d.n_splits) * sizeof(float);
                        if (b > worst) worst = b;
                        CHECK(b <= res, "split ws nh=%d nkv=%d sm=%d T=%d ctx=%d: %zu bytes > reserve %zu", nh, nkv,
                              sm, T, ctx, b, res);
                    }
                for (int n = 2; n <= S1C_DECODE_MAX_SPLITS; n++)  // contexts long enough for every split count
                    for (int T = 1; T <= 300; T++) {
                        s1c_decode_split d = s1c_decode_split_plan(T, nkv, n * 8192, sm, 0);
                        if (d.n_splits < 2) continue;
                        size_t b = s1c_decode_split_ws_floats(T, nh, hd, d.n_splits) * sizeof(float);
                        if (b > worst) worst = b;
                        CHECK(b <= res, "split ws nh=%d sm=%d T=%d ctx=%d: %zu > reserve %zu", nh, sm, T, n * 8192, b,
                              res);
                    }
                CHECK(worst == res, "split reserve nh=%d nkv=%d hd=%d sm=%d: %zu, largest plan %zu", nh, nkv, hd, sm,
                      res, worst);
            }
        CHECK(s1c_decode_split_ws_reserve(12, 2, 128, 1) == 0, "1 SM: nothing splits");
        CHECK(s1c_decode_split_ws_reserve(40, 8, 128, 132) < ((size_t)2 << 20), "32B on an H100: under 2 MiB");
    }


    // ---- vectorised elementwise grid (AdamW): vectors + tail cover the chunk exactly once
    {
        const size_t ns[] = {1, 3, 4, 5, 255, 1024, 1027, 3001, (size_t)1 << 20, S1C_CUDA_VEC_CHUNK - 1,
                             S1C_CUDA_VEC_CHUNK, S1C_CUDA_VEC_CHUNK + 7, (size_t)5 << 30};
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
            for (int width = 4; width <= 8; width += 4) {
                size_t n = ns[a], covered = 0;
                int launches = 0;
                for (size_t off = 0; off < n; off += S1C_CUDA_VEC_CHUNK, launches++) {  // the launcher's loop
                    size_t len = n - off < S1C_CUDA_VEC_CHUNK ? n - off : S1C_CUDA_VEC_CHUNK;
                    s1c_cuda_vec_grid g = s1c_cuda_vec_grid_plan(len, width, 256, 65535u * 8u);
                    CHECK((size_t)g.n_vec * width + g.tail == len && g.tail < (unsigned)width,
                          "n=%zu w=%d off=%zu: %u vectors + %u tail != %zu", n, width, off, g.n_vec, g.tail, len);
                    CHECK(g.blocks >= 1 && g.blocks <= 65535u * 8u && (size_t)g.blocks * 256 >= g.tail,
                          "n=%zu: %u blocks", n, g.blocks);
                    CHECK(off % (size_t)(width * 4) == 0, "chunk start %zu loses 16-byte alignment", off);
                    CHECK(g.tail == 0 || off + len == n, "n=%zu: a tail before the last chunk", n);
                    // 32-bit index math: the last element index and the grid-stride step fit unsigned
                    CHECK((uint64_t)g.n_vec * width + g.tail <= UINT32_MAX &&
                              (uint64_t)g.n_vec + (uint64_t)g.blocks * 256 <= UINT32_MAX,
                          "n=%zu: 32-bit overflow", n);
                    covered += len;
                }
                CHECK(covered == n && launches == (int)((n + S1C_CUDA_VEC_CHUNK - 1) / S1C_CUDA_VEC_CHUNK),
                      "n=%zu covered %zu in %d launches", n, covered, launches);
            }
        s1c_cuda_vec_grid g = s1c_cuda_vec_grid_plan(3001, 4, 256, 65535u * 8u);
        CHECK(g.n_vec == 750 && g.tail == 1 && g.blocks == 3, "3001: %u %u %u", g.n_vec, g.tail, g.blocks);
        g = s1c_cuda_vec_grid_plan(3, 4, 256, 65535u * 8u);
        CHECK(g.n_vec == 0 && g.tail == 3 && g.blocks == 1, "3: a tail-only launch");
    }

    // ---- RoPE geometry: every (head, pair) of a row exactly once, rows on y within the limit
    {
        const int Ts[] = {1, 23, 65535, 65536, 200000};
        const int heads[] = {1, 4, 3 + 1, 12 + 2, 40 + 8};
        const int halves[] = {6, 8, 10, 16, 20, 32, 64};
        for (size_t a = 0; a < sizeof Ts / sizeof Ts[0]; a++)
            for (size_t b = 0; b < sizeof heads / sizeof heads[0]; b++)
                for (size_t c = 0; c < sizeof halves / sizeof halves[0]; c++)
                    for (int al = 0; al <= 1; al++) {
                        int T = Ts[a], nr = heads[b], half = halves[c];
                        s1c_cuda_rope_geom g = s1c_cuda_rope_plan(T, nr, half, al);
                        int want_vec = al && half % 8 == 0 ? 8 : 1;
                        CHECK(g.vec == want_vec, "half=%d aligned=%d: vec %d", half, al, g.vec);
                        CHECK(g.units_per_row * (unsigned)g.vec == (unsigned)(nr * half), "units %u", g.units_per_row);
                        CHECK(g.threads % 32 == 0 && g.threads >= 32 && g.threads <= 256, "threads %u", g.threads);
                        CHECK((uint64_t)g.grid_x * g.threads >= g.units_per_row &&
                                  (uint64_t)(g.grid_x - 1) * g.threads < g.units_per_row,
                              "grid_x %u x %u for %u units", g.grid_x, g.threads, g.units_per_row);
                        CHECK(g.grid_y >= 1 && g.grid_y <= S1C_CUDA_GRID_YZ_MAX &&
                                  (T <= S1C_CUDA_GRID_YZ_MAX ? (int)g.grid_y == T : 1),
                              "T=%d: grid_y %u", T, g.grid_y);
                        if (g.vec == 8) CHECK((half / 8) * 8 == half, "a vector crosses the half");
                    }
        // Qwen2.5-32B: 40 q + 8 k heads, hd 128: 8 pairs per thread, 384 units in 2 blocks of 256
        s1c_cuda_rope_geom g = s1c_cuda_rope_plan(8192, 48, 64, 1);
        CHECK(g.vec == 8 && g.units_per_row == 384 && g.threads == 256 && g.grid_x == 2 && g.grid_y == 8192,
              "32B rope: vec %d units %u threads %u grid %u x %u", g.vec, g.units_per_row, g.threads, g.grid_x,
              g.grid_y);
        CHECK(s1c_cuda_rope_plan(0, 4, 8, 1).units_per_row == 0, "T=0 launches nothing");
    }

    // ---- RMSNorm backward geometry
    {
        const int Cs[] = {8, 64, 200, 203, 896, 1536, 5120, 8192, 12256, 12264};
        for (size_t a = 0; a < sizeof Cs / sizeof Cs[0]; a++)
            for (int al = 0; al <= 1; al++) {
                int C = Cs[a];
                s1c_cuda_rmsnorm_bwd_geom g = s1c_cuda_rmsnorm_bwd_plan(29, C, al);
                CHECK(g.vec == (al && C % 8 == 0 ? 8 : 1), "C=%d aligned=%d: vec %d", C, al, g.vec);
                CHECK(g.threads % 32 == 0 && g.threads >= 32 && g.threads <= 256, "C=%d threads %u", C, g.threads);
                CHECK(g.threads >= 256 || g.threads * (unsigned)g.vec >= (unsigned)C,
                      "C=%d: %u threads too few for the column groups", C, g.threads);
                CHECK(g.blocks == (29 + S1C_CUDA_RMS_ROWS - 1) / S1C_CUDA_RMS_ROWS && g.shmem == (size_t)C * 4);
                CHECK(g.ok == (C <= 12256), "C=%d: ok %d", C, g.ok);
            }
        s1c_cuda_rmsnorm_bwd_geom g = s1c_cuda_rmsnorm_bwd_plan(8192, 1536, 1);  // 1.5B: 192 groups of 8
        CHECK(g.vec == 8 && g.threads == 192 && g.blocks == 512, "1.5B rmsnorm_bwd: %d %u %u", g.vec, g.threads,
              g.blocks);
        // blocks * C partials fit the reduction scratch; every row in exactly one block
        const int Ts[] = {1, 16, 17, 8192, 32768, 1 << 20, INT_MAX};
        for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++)
            for (size_t a = 0; a < sizeof Cs / sizeof Cs[0]; a++) {
                const int T = Ts[i], C = Cs[a];
                s1c_cuda_rmsnorm_bwd_geom q = s1c_cuda_rmsnorm_bwd_plan(T, C, 1);
                CHECK((size_t)q.blocks * (size_t)C <= S1C_CUDA_RED_FLOATS && q.rows % S1C_CUDA_RMS_ROWS == 0 &&
                          (int64_t)q.blocks * q.rows >= T && (int64_t)(q.blocks - 1) * q.rows < T,
                      "T=%d C=%d: %u blocks of %d rows", T, C, q.blocks, q.rows);
            }
        CHECK(s1c_cuda_rmsnorm_bwd_plan(8192, 5120, 1).rows == 16, "32B, 8K tokens: 16 rows per block");
    }

    // ---- deterministic column-sum bands (RMSNorm dw, bias gradient)
    {
        const int Ts[] = {1, 255, 256, 257, 8192, 65535 * 256 + 1, INT_MAX};
        const int Cs[] = {1, 8, 256, 7168, 152064};
        const size_t caps[] = {S1C_CUDA_RED_FLOATS, 1000000, 152064};
        for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++)
            for (size_t a = 0; a < sizeof Cs / sizeof Cs[0]; a++)
                for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
                    const int T = Ts[i], C = Cs[a];
                    s1c_cuda_bands b = s1c_cuda_col_bands(T, C, 256, caps[c]);
                    if (T == INT_MAX && (size_t)C == caps[c]) {  // one band of INT_MAX rows rounded up: refused
                        CHECK(!b.ok, "T=%d C=%d: one band past int accepted", T, C);
                        continue;
                    }
                    CHECK(b.ok && b.rows >= 256 && b.rows % 256 == 0 && b.bands >= 1 &&
                              b.bands <= S1C_CUDA_GRID_YZ_MAX && (size_t)b.bands * C <= caps[c] &&
                              (int64_t)b.bands * b.rows >= T && (int64_t)(b.bands - 1) * b.rows < T,
                          "T=%d C=%d cap %zu: %d bands of %d rows", T, C, caps[c], b.bands, b.rows);
                }
        CHECK(s1c_cuda_col_bands(8192, 7168, 256, S1C_CUDA_RED_FLOATS).rows == 256, "small T keeps 256-row bands");
        CHECK(!s1c_cuda_col_bands(10, 1001, 256, 1000).ok, "a row wider than the scratch is refused");
        CHECK(!s1c_cuda_col_bands(0, 8, 256, 1000).ok && !s1c_cuda_col_bands(8, 0, 256, 1000).ok);
    }

    // ---- cuDNN run-time version policy (the graphs need 9.10+, same major as the headers)
    CHECK(s1c_cuda_cudnn_refusal(91000, 91900) == NULL, "9.10.0 refused");
    CHECK(s1c_cuda_cudnn_refusal(91900, 91900) == NULL, "9.19.0 refused");
    CHECK(s1c_cuda_cudnn_refusal(92300, 91900) == NULL, "a newer 9.x refused");
    CHECK(s1c_cuda_cudnn_refusal(90902, 91900) != NULL, "9.9.2 accepted");
    CHECK(s1c_cuda_cudnn_refusal(90600, 91900) != NULL, "9.6.0 accepted");
    CHECK(s1c_cuda_cudnn_refusal(8907, 91900) != NULL, "cuDNN 8.9.7 accepted");
    CHECK(s1c_cuda_cudnn_refusal(100000, 91900) != NULL, "cuDNN 10 accepted with 9.x headers");
    CHECK(s1c_cuda_cudnn_refusal(0, 91900) != NULL, "no version accepted");

    return check_exit("test_cuda_plan");
}
