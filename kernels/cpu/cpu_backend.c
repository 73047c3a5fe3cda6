// cpu_backend.c — the CPU reference backend: the op table, host memory, conversions.
// fp32 everywhere (act_dtype = S1C_F32); the ops live in the other cpu_*.c files.
#include <stdio.h>
#include <stdlib.h>

#include "cpu_internal.h"

s1c_backend *s1c_cpu_backend_create(void);

// 64-byte alignment: one cache line, and a full AVX-512 vector for every buffer's first element.
#define CPU_ALIGN 64

static void *cpu_alloc(s1c_backend *be, size_t bytes) {
    (void)be;
    if (bytes > SIZE_MAX - CPU_ALIGN) {
        s1c_err("cpu backend: allocation of %zu bytes is too large", bytes);
        return NULL;
    }
    size_t rounded = (bytes + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN;
    if (rounded == 0) rounded = CPU_ALIGN;  // a valid, freeable pointer for empty buffers
    void *p = aligned_alloc(CPU_ALIGN, rounded);
    if (!p) s1c_err("cpu backend: out of host memory allocating %zu bytes", bytes);
    return p;
}

static void cpu_free(s1c_backend *be, void *p) {
    (void)be;
    free(p);
}

static void cpu_memset_zero(s1c_backend *be, void *p, size_t bytes) {
    (void)be;
    if (bytes) memset(p, 0, bytes);
}

static void cpu_copy(s1c_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    if (bytes && dst != src) memmove(dst, src, bytes);
}

static void cpu_copy_2d(s1c_backend *be, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                        size_t rows) {
    (void)be;
    for (size_t r = 0; r < rows; r++) memmove((char *)dst + r * dpitch, (const char *)src + r * spitch, width);
}

static void cpu_synchronize(s1c_backend *be) { (void)be; }

static void cpu_f32_to_act(s1c_backend *be, void *act, const float *f32, size_t n) {
    cpu_copy(be, act, f32, n * sizeof(float));
}

static void cpu_act_to_f32(s1c_backend *be, float *f32, const void *act, size_t n) {
    cpu_copy(be, f32, act, n * sizeof(float));
}

static void cpu_add_inplace(s1c_backend *be, void *x_, const void *y_, size_t n) {
    (void)be;
    float *x = x_;        // [n]
    const float *y = y_;  // [n]
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

// One "Key: value kB" figure of /proc/meminfo, in bytes; 0 when absent.
static size_t meminfo_bytes(const char *text, const char *key) {
    const char *p = strstr(text, key);
    if (!p) return 0;
    unsigned long long kb = 0;
    if (sscanf(p + strlen(key), " %llu", &kb) != 1) return 0;
    return (size_t)kb * 1024;
}

// A cgroup v2 limit file's value in bytes; SIZE_MAX when absent or "max".
static size_t cgroup_bytes(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) return SIZE_MAX;
    unsigned long long v = 0;
    int ok = fscanf(fp, "%llu", &v) == 1;
    fclose(fp);
    return ok ? (size_t)v : SIZE_MAX;
}

// Host memory this process may still take: MemAvailable (page cache it can reclaim included),
// capped by the container's cgroup v2 limit when there is one (MemAvailable sees the whole host).
static s1c_status cpu_mem_info(s1c_backend *be, size_t *free_bytes, size_t *total_bytes) {
    (void)be;
    char text[4096];
    FILE *fp = fopen("/proc/meminfo", "r");
    if (!fp) return s1c_err("cpu backend: /proc/meminfo: cannot open it to read the free host memory");
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = 0;
    size_t avail = meminfo_bytes(text, "MemAvailable:"), total = meminfo_bytes(text, "MemTotal:");
    if (!total || !avail) return s1c_err("cpu backend: /proc/meminfo: no MemTotal / MemAvailable line");
    const size_t limit = cgroup_bytes("/sys/fs/cgroup/memory.max");
    if (limit != SIZE_MAX) {
        const size_t cur = cgroup_bytes("/sys/fs/cgroup/memory.current");
        const size_t left = cur == SIZE_MAX ? limit : cur < limit ? limit - cur : 0;
        if (left < avail) avail = left;
        if (limit < total) total = limit;
    }
    *free_bytes = avail;
    *total_bytes = total;
    return S1C_OK;
}

static void cpu_destroy(s1c_backend *be) { free(be); }

s1c_backend *s1c_cpu_backend_create(void) {
    s1c_backend *be = calloc(1, sizeof *be);
    if (!be) {
        s1c_err("cpu backend: out of host memory");
        return NULL;
    }
    cpu_threads_init();
    be->name = "cpu";
    be->act_dtype = S1C_F32;
    be->device_memory = 0;
    be->impl = NULL;
    be->alloc = cpu_alloc;
    be->free = cpu_free;
    be->memset_zero = cpu_memset_zero;
    be->copy_d2d = cpu_copy;
    be->copy_h2d = cpu_copy;
    be->copy_d2h = cpu_copy;
    be->copy_2d = cpu_copy_2d;
    be->synchronize = cpu_synchronize;
    be->f32_to_act = cpu_f32_to_act;
    be->act_to_f32 = cpu_act_to_f32;
    be->add_inplace = cpu_add_inplace;
    be->embedding_fwd = cpu_embedding_fwd;
    be->embedding_bwd = cpu_embedding_bwd;
    be->rmsnorm_fwd = cpu_rmsnorm_fwd;
    be->rmsnorm_bwd = cpu_rmsnorm_bwd;
    be->rope_fwd = cpu_rope_fwd;
    be->rope_bwd = cpu_rope_bwd;
    be->attention_fwd = cpu_attention_fwd;
    be->attention_bwd = cpu_attention_bwd;
    be->matmul_fwd = cpu_matmul_fwd;
    be->matmul_bwd = cpu_matmul_bwd;
    be->swiglu_fwd = cpu_swiglu_fwd;
    be->swiglu_bwd = cpu_swiglu_bwd;
    be->lmhead_ce = cpu_lmhead_ce;
    be->adamw = cpu_adamw;
    be->sumsq_accumulate = cpu_sumsq_accumulate;
    be->kv_cache_write = s1c_cpu_kv_cache_write;
    be->attention_decode = s1c_cpu_attention_decode;
    be->matmul_decode = s1c_cpu_matmul_decode;
    be->add_f32 = s1c_cpu_add_f32;
    be->argmax_rows = s1c_cpu_argmax_rows;
    be->mem_info = cpu_mem_info;
    be->matmul_wbf16 = s1c_cpu_matmul_wbf16;
    be->embedding_wbf16 = s1c_cpu_embedding_wbf16;
    be->wbf16_path = s1c_cpu_wbf16_gemm_path;
    be->destroy = cpu_destroy;
    return be;
}
