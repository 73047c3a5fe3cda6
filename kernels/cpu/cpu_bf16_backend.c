// cpu_bf16_backend.c — the "cpu-bf16" backend: host memory, act_dtype bf16, the fp32 CPU ops
// wrapped so every act operand is widened on the way in and rounded (RNE) on the way out.
// It runs the bf16 code paths of model/, train/ and infer/ (2-byte act elements, act copies of
// weights, bf16 KV cache, bf16 gathers) without a GPU, for tests; see cpu_bf16.h.
#include <stdio.h>
#include <stdlib.h>

#include "cpu_bf16.h"

s1c_backend *s1c_cpu_backend_create(void);
s1c_backend *s1c_cpu_bf16_backend_create(void);

void bf16_widen(float *dst, const void *src_, size_t n) {
    const uint16_t *src = src_;  // [n]
#pragma omp parallel for simd schedule(static) if (n > 262144)
    for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

void bf16_narrow(void *dst_, const float *src, size_t n) {
    uint16_t *dst = dst_;  // [n]
#pragma omp parallel for schedule(static) if (n > 262144)
    for (size_t i = 0; i < n; i++) dst[i] = bf16_from_f32(src[i]);
}

static void *grow(void **p, size_t *cap, size_t n, size_t elem) {
    if (n <= *cap && *p) return *p;
    if (n > SIZE_MAX / elem - 64) {
        fprintf(stderr, "cpu-bf16 backend: scratch of %zu elements is too large\n", n);
        abort();
    }
    free(*p);
    // rounded up to a cache line; at least one element so an empty operand still has an address
    const size_t bytes = ((n ? n : 1) * elem + 63) / 64 * 64;
    *p = aligned_alloc(64, bytes);
    if (!*p) {
        // ops cannot report errors (ops.h); this backend is a test instrument, so stop loudly
        fprintf(stderr, "cpu-bf16 backend: out of host memory for %zu bytes of scratch\n", bytes);
        abort();
    }
    *cap = n;
    return *p;
}

float *bf16_scratch(s1c_backend *be, int k, size_t n) {
    bf16_state *st = bf16_st(be);
    S1C_ASSERT(k >= 0 && k < BF16_SLOTS);
    return grow((void **)&st->buf[k], &st->cap[k], n, sizeof(float));
}

int32_t *bf16_iscratch(s1c_backend *be, int k, size_t n) {
    bf16_state *st = bf16_st(be);
    S1C_ASSERT(k >= 0 && k < BF16_ISLOTS);
    return grow((void **)&st->ibuf[k], &st->icap[k], n, sizeof(int32_t));
}

const float *bf16_in(s1c_backend *be, int k, const void *src, size_t n) {
    if (!src) return NULL;
    float *d = bf16_scratch(be, k, n);
    bf16_widen(d, src, n);
    return d;
}

static void f32_to_act(s1c_backend *be, void *act, const float *f32, size_t n) {
    (void)be;
    bf16_narrow(act, f32, n);
}

static void act_to_f32(s1c_backend *be, float *f32, const void *act, size_t n) {
    (void)be;
    bf16_widen(f32, act, n);
}

static void bf16_destroy(s1c_backend *be) {
    bf16_state *st = bf16_st(be);
    for (int k = 0; k < BF16_SLOTS; k++) free(st->buf[k]);
    for (int k = 0; k < BF16_ISLOTS; k++) free(st->ibuf[k]);
    s1c_backend_destroy(st->f32);
    free(st);
    free(be);
}

s1c_backend *s1c_cpu_bf16_backend_create(void) {
    s1c_backend *f32 = s1c_cpu_backend_create();
    if (!f32) return NULL;
    s1c_backend *be = malloc(sizeof *be);
    bf16_state *st = calloc(1, sizeof *st);
    if (!be || !st) {
        free(be);
        free(st);
        s1c_backend_destroy(f32);
        s1c_err("cpu-bf16 backend: out of host memory");
        return NULL;
    }
    st->f32 = f32;
    // Memory, fp32-only ops (add_f32, sumsq, argmax_rows) and mem_info are the CPU backend's own:
    // they never see an act buffer.
    *be = *f32;
    be->name = "cpu-bf16";
    be->act_dtype = S1C_BF16;
    be->device_memory = 0;
    be->impl = st;
    be->f32_to_act = f32_to_act;
    be->act_to_f32 = act_to_f32;
    be->add_inplace = bf16_add_inplace;
    be->embedding_fwd = bf16_embedding_fwd;
    be->embedding_bwd = bf16_embedding_bwd;
    be->rmsnorm_fwd = bf16_rmsnorm_fwd;
    be->rmsnorm_bwd = bf16_rmsnorm_bwd;
    be->rope_fwd = bf16_rope_fwd;
    be->rope_bwd = bf16_rope_bwd;
    be->attention_fwd = bf16_attention_fwd;
    be->attention_bwd = bf16_attention_bwd;
    be->matmul_fwd = bf16_matmul_fwd;
    be->matmul_bwd = bf16_matmul_bwd;
    be->swiglu_fwd = bf16_swiglu_fwd;
    be->swiglu_bwd = bf16_swiglu_bwd;
    be->lmhead_ce = bf16_lmhead_ce;
    be->adamw = bf16_adamw;
    be->kv_cache_write = bf16_kv_cache_write;
    be->attention_decode = bf16_attention_decode;
    be->matmul_decode = bf16_matmul_decode;
    // Its acts are bf16 already, so its weights are too: the fp32-act bf16-weight ops do not apply.
    be->matmul_wbf16 = NULL;
    be->embedding_wbf16 = NULL;
    be->wbf16_path = NULL;
    be->destroy = bf16_destroy;
    return be;
}
