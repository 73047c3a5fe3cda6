// cuda_plan.c — host-side geometry of the CUDA backend (see cuda_plan.h). Plain C on purpose: it
// is compiled into the CUDA backend and, on its own, into a CPU unit test.
#include "cuda_plan.h"

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

static int64_t pow2_at_least(int64_t x, int64_t lo) {
    int64_t p = lo;
    while (p < x) p <<= 1;
    return p;
}

s1c_cuda_attn_layout s1c_cuda_attn_plan(int T, int n_seq, int max_seqlen, int n_head, int n_kv_head, int head_dim,
                                        int bwd, int64_t plan_ws) {
    s1c_cuda_attn_layout L = {0};
    if (T <= 0 || n_seq <= 0 || n_head <= 0 || n_kv_head <= 0 || head_dim <= 0 || n_head % n_kv_head != 0) {
        L.why = "empty or inconsistent shape";
        return L;
    }
    int mx = max_seqlen > 0 ? max_seqlen : T;
    // Buckets: a handful of plans serve a whole run (b and s vary from step to step).
    int64_t b = pow2_at_least(n_seq, 1), s = pow2_at_least(mx, 64);
    if (b > (1 << 24) || s > (1 << 30)) {
        L.why = "batch or sequence too large to bucket";
        return L;
    }
    L.b = (int)b;
    L.s = (int)s;
    L.pad_rows = (size_t)b * (size_t)n_head * (size_t)s;
    const int acc = bwd == 1;  // the fp32 dQ accumulator exists
    size_t pad_bytes = L.pad_rows * sizeof(float) * (bwd ? 2 + (acc ? (size_t)head_dim : 0) : 1);
    // The ragged offsets are int32 elements of the qkv buffer.
    int64_t qkv_elems = (int64_t)T * (n_head + 2 * n_kv_head) * head_dim;
    if (head_dim > 256 || head_dim % 8 != 0) {
        L.why = "head_dim must be a multiple of 8 and at most 256";
        L.by_design = 1;
        return L;
    }
    if (pad_bytes > S1C_CUDA_ATTN_PAD_LIMIT) {
        L.why = "padded per-sequence buffers above the limit";
        return L;
    }
    if (qkv_elems >= INT32_MAX) {
        L.why = "qkv offsets do not fit int32";
        L.by_design = 1;
        return L;
    }
    // aux: three int32 arrays, each starting on a 256-byte boundary (64 int32).
    L.aux_seq = 0;
    L.aux_off_qkv = align_up((size_t)b, 64);
    L.aux_off_o = L.aux_off_qkv + align_up((size_t)b + 1, 64);
    L.aux_bytes = align_up((L.aux_off_o + (size_t)b + 1) * sizeof(int32_t), 256);
    size_t st_bytes = align_up(L.pad_rows * sizeof(float), 256);
    L.stats = L.aux_bytes;
    size_t off = L.stats + st_bytes;
    if (bwd) {
        L.softmax_sum = off;
        off += st_bytes;
        L.dq_accum = off;
        L.dq_accum_bytes = acc ? L.pad_rows * (size_t)head_dim * sizeof(float) : 0;
        off += align_up(L.dq_accum_bytes, 256);
    }
    L.cudnn_ws = off;
    L.total = off + (size_t)(plan_ws > 0 ? plan_ws : 0);
    L.ok = 1;
    return L;
}

int s1c_cuda_ce_chunk(int T, int V, int want_grad, size_t chunk_bytes) {
    if (T <= 0) return 1;
    (void)want_grad;
    size_t per_tok = (size_t)(V > 0 ? V : 1) * 2u;  // bf16 logits, dlogits in place
    size_t tc = chunk_bytes / per_tok;
    if (tc >= (size_t)T) return T;    // one chunk
    if (tc >= 64) tc = tc / 64 * 64;  // whole GEMM tiles per chunk
    if (tc < 1) tc = 1;
    return (int)tc;
}

size_t s1c_cuda_ce_chunk_bytes(int tc, int V) {
    return align_up((size_t)(tc > 0 ? tc : 1) * (size_t)(V > 0 ? V : 1) * 2u, 256);
}

int s1c_cuda_bias_grad_rows(int T, int min_rows) {
    if (min_rows < 1) min_rows = 1;
    if (T <= 0) return min_rows;
    int64_t need = ((int64_t)T + S1C_CUDA_GRID_YZ_MAX - 1) / S1C_CUDA_GRID_YZ_MAX;  // rows per block at least
    int64_t rows = (need + min_rows - 1) / min_rows * min_rows;
    if (rows < min_rows) rows = min_rows;
    return (int)rows;
}

s1c_cuda_bands s1c_cuda_col_bands(int T, int C, int min_rows, size_t max_floats) {
    s1c_cuda_bands b = {0, min_rows > 0 ? min_rows : 1, 1};
    if (T <= 0 || C <= 0 || (size_t)C > max_floats) return b;
    int64_t max_bands = (int64_t)(max_floats / (size_t)C);
    if (max_bands > S1C_CUDA_GRID_YZ_MAX) max_bands = S1C_CUDA_GRID_YZ_MAX;
    const int64_t unit = b.rows, units = ((int64_t)T + unit - 1) / unit;  // bands of min_rows
    const int64_t per = (units + max_bands - 1) / max_bands;               // units per band
    if (per * unit > INT32_MAX) return b;  // one band would pass int: not a real shape
    b.rows = (int)(per * unit);
    b.bands = (int)(((int64_t)T + b.rows - 1) / b.rows);
    b.ok = 1;
    return b;
}

const char *s1c_cuda_cudnn_refusal(long runtime, long compiled) {
    if (runtime <= 0) return "cuDNN reports no version (library not loaded?)";
    if (runtime / 10000 != compiled / 10000) return "cuDNN major version at run time differs from the headers built against";
    if (runtime < S1C_CUDNN_MIN_VERSION)
        return "cuDNN older than 9.10.0: the SDPA graphs are the ones cudnn-frontend builds for 9.10+ "
               "(older releases need a second padding mask in the backward and refuse these graphs)";
    return NULL;
}

s1c_decode_split s1c_decode_split_plan(int T, int n_kv_head, int max_ctx, int n_sm, int force_splits) {
    s1c_decode_split d = {1, 32};
    if (max_ctx <= 0 || T <= 0 || n_kv_head <= 0) return d;
    d.split_len = (int)(((int64_t)max_ctx + 31) / 32 * 32);
    int64_t n;
    if (force_splits > 0) {
        n = force_splits;
    } else {
        int64_t items = (int64_t)T * n_kv_head, target = 2 * (int64_t)(n_sm > 0 ? n_sm : 1);
        if (items >= target || max_ctx < 2 * S1C_DECODE_SPLIT_MIN) return d;
        n = (target + items - 1) / items;
        int64_t by_len = max_ctx / S1C_DECODE_SPLIT_MIN;  // every split at least the minimum
        if (n > by_len) n = by_len;
    }
    if (n > S1C_DECODE_MAX_SPLITS) n = S1C_DECODE_MAX_SPLITS;
    if (n > max_ctx) n = max_ctx;
    if (n < 1) n = 1;
    int64_t len = ((int64_t)max_ctx + n - 1) / n;
    len = (len + 31) / 32 * 32;
    d.split_len = (int)len;
    d.n_splits = (int)(((int64_t)max_ctx + len - 1) / len);  // rounding up the length may drop a split
    return d;
}

size_t s1c_decode_split_ws_floats(int T, int n_head, int head_dim, int n_splits) {
    return (size_t)(T > 0 ? T : 0) * (size_t)(n_head > 0 ? n_head : 0) * (size_t)(n_splits > 0 ? n_splits : 0) *
           ((size_t)(head_dim > 0 ? head_dim : 0) + 2);
}

size_t s1c_decode_split_ws_reserve(int n_head, int n_kv_head, int head_dim, int n_sm) {
    if (n_head <= 0 || n_kv_head <= 0 || head_dim <= 0) return 0;
    const int64_t target = 2 * (int64_t)(n_sm > 0 ? n_sm : 1);
    size_t best = 0;
    for (int64_t T = 1; T * n_kv_head < target; T++) {  // more rows than this never split
        int64_t n = (target + T * n_kv_head - 1) / (T * n_kv_head);
        if (n > S1C_DECODE_MAX_SPLITS) n = S1C_DECODE_MAX_SPLITS;
        if (n < 2) continue;  // the plain kernel runs: no partials
        size_t b = s1c_decode_split_ws_floats((int)T, n_head, head_dim, (int)n) * sizeof(float);
        if (b > best) best = b;
    }
    return best;
}

s1c_cuda_vec_grid s1c_cuda_vec_grid_plan(size_t n, int width, int threads, unsigned max_blocks) {
    s1c_cuda_vec_grid g = {0, 0, 1};
    if (width < 1) width = 1;
    if (threads < 1) threads = 1;
    if (max_blocks < 1) max_blocks = 1;
    if (n > S1C_CUDA_VEC_CHUNK) n = S1C_CUDA_VEC_CHUNK;  // the caller loops over chunks
    g.n_vec = (unsigned)(n / (size_t)width);
    g.tail = (unsigned)(n % (size_t)width);
    size_t work = g.n_vec > g.tail ? g.n_vec : g.tail;
    size_t b = (work + (size_t)threads - 1) / (size_t)threads;
    if (b < 1) b = 1;
    g.blocks = (unsigned)(b < max_blocks ? b : max_blocks);
    return g;
}

static unsigned threads_for(unsigned units, unsigned cap) {
    unsigned t = (units + 31u) / 32u * 32u;
    if (t < 32u) t = 32u;
    return t < cap ? t : cap;
}

s1c_cuda_rope_geom s1c_cuda_rope_plan(int T, int n_rot_heads, int half_hd, int aligned16) {
    s1c_cuda_rope_geom g = {1, 0, 32, 1, 1};
    if (T <= 0 || n_rot_heads <= 0 || half_hd <= 0) return g;
    g.vec = aligned16 && half_hd % 8 == 0 ? 8 : 1;
    g.units_per_row = (unsigned)((int64_t)n_rot_heads * half_hd / g.vec);
    g.threads = threads_for(g.units_per_row, 256u);
    g.grid_x = (g.units_per_row + g.threads - 1) / g.threads;
    g.grid_y = (unsigned)(T < S1C_CUDA_GRID_YZ_MAX ? T : S1C_CUDA_GRID_YZ_MAX);
    return g;
}

s1c_cuda_rmsnorm_bwd_geom s1c_cuda_rmsnorm_bwd_plan(int T, int C, int aligned16) {
    s1c_cuda_rmsnorm_bwd_geom g = {0, 1, 32, 1, 0, S1C_CUDA_RMS_ROWS};
    if (T <= 0 || C <= 0) return g;
    g.vec = aligned16 && C % 8 == 0 ? 8 : 1;
    g.threads = threads_for((unsigned)(C / g.vec), 256u);
    s1c_cuda_bands bands = s1c_cuda_col_bands(T, C, S1C_CUDA_RMS_ROWS, S1C_CUDA_RED_FLOATS);
    g.rows = bands.rows;
    g.blocks = (unsigned)bands.bands;
    g.shmem = (size_t)C * sizeof(float);
    g.ok = bands.ok && g.shmem + 32 * sizeof(float) <= 48 * 1024;
    return g;
}
