// arena.h — one backend allocation per memory category, carved into aligned sub-buffers.
//
// A category (sharded state, working set, activations) is laid out twice by the same code: a
// measuring pass (no allocation, s1c_arena_take returns NULL and counts bytes), then, after
// s1c_arena_alloc made the one allocation, a carving pass that hands out the pointers. Sizes
// therefore cannot drift between what is reported, checked against free memory, and carved.
//
// Every sub-buffer starts at a multiple of S1C_ARENA_ALIGN bytes (cuBLASLt operands, float4 and
// bf16x8 vector accesses all want 16..256-byte alignment; cudaMalloc itself returns 256).
// Under AddressSanitizer on host memory each sub-buffer is followed by a poisoned redzone, so an
// overflow into the next buffer is still reported as it was with one allocation per buffer;
// `payload` (the figure the plan and the fit check use) never counts redzones.
// Header-only so model/ and train/ share it without a kernels/ library change.
#ifndef S1C_ARENA_H
#define S1C_ARENA_H

#include <stdint.h>
#include <string.h>

#include "ops.h"

#define S1C_ARENA_ALIGN ((size_t)256)

#if defined(__SANITIZE_ADDRESS__)
#define S1C_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S1C_ARENA_ASAN 1
#endif
#endif
#ifdef S1C_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#endif

typedef struct {
    const char *what;  // category, for messages ("sharded state")
    s1c_backend *be;   // NULL: measuring only
    char *base;        // the allocation; NULL while measuring
    size_t used;       // bytes laid out so far, redzones included
    size_t payload;    // bytes laid out so far, aligned sub-buffers only
    size_t size;       // bytes allocated (after s1c_arena_alloc)
    size_t redzone;    // bytes after each sub-buffer (ASan on host memory only)
    int overflow;      // a size did not fit in size_t
} s1c_arena;

// Bytes a sub-buffer of `bytes` occupies: rounded up to the alignment, at least one unit (an
// empty buffer still gets its own address). SIZE_MAX when the rounding overflows.
static inline size_t s1c_arena_round(size_t bytes) {
    if (bytes == 0) return S1C_ARENA_ALIGN;
    if (bytes > SIZE_MAX - (S1C_ARENA_ALIGN - 1)) return SIZE_MAX;
    return (bytes + S1C_ARENA_ALIGN - 1) / S1C_ARENA_ALIGN * S1C_ARENA_ALIGN;
}

// be == NULL: a measuring arena that never allocates (sizes for plans and fit checks).
static inline void s1c_arena_init(s1c_arena *a, s1c_backend *be, const char *what) {
    memset(a, 0, sizeof *a);
    a->what = what;
    a->be = be;
#ifdef S1C_ARENA_ASAN
    if (be && !be->device_memory) a->redzone = S1C_ARENA_ALIGN;
#endif
}

static inline size_t s1c_arena_add_(s1c_arena *a, size_t x, size_t y) {
    if (x > SIZE_MAX - y) {
        a->overflow = 1;
        return SIZE_MAX;
    }
    return x + y;
}

// Lays out a sub-buffer of `bytes`: NULL before s1c_arena_alloc, its address after.
static inline void *s1c_arena_take(s1c_arena *a, size_t bytes) {
    const size_t r = s1c_arena_round(bytes);
    if (r == SIZE_MAX) a->overflow = 1;
    char *p = a->base ? a->base + a->used : NULL;
    a->payload = s1c_arena_add_(a, a->payload, r);
    a->used = s1c_arena_add_(a, s1c_arena_add_(a, a->used, r), a->redzone);
    if (p) {
        S1C_ASSERT(a->used <= a->size);  // the carving pass took more than the measuring pass
#ifdef S1C_ARENA_ASAN
        if (a->redzone) ASAN_POISON_MEMORY_REGION(p + r, a->redzone);
#endif
    }
    return p;
}

// Makes the one allocation for everything measured so far (zero-filled) and rewinds for the
// carving pass. On failure the message names the category and its size.
static inline s1c_status s1c_arena_alloc(s1c_arena *a) {
    S1C_ASSERT(a->be && !a->base);
    if (a->overflow)
        return s1c_err("%s: the sizes overflow the address space (the configuration is far too large)", a->what);
    a->size = a->used;
    a->base = a->be->alloc(a->be, a->size);
    if (!a->base)
        return s1c_err_prefix("%s: one allocation of %.3f GB (%zu bytes)", a->what, (double)a->payload / 1e9,
                              a->payload);
    a->be->memset_zero(a->be, a->base, a->size);
    a->used = 0;
    a->payload = 0;
    return S1C_OK;
}

static inline void s1c_arena_free(s1c_arena *a) {
    if (a->base) {
#ifdef S1C_ARENA_ASAN
        if (a->redzone) ASAN_UNPOISON_MEMORY_REGION(a->base, a->size);
#endif
        a->be->free(a->be, a->base);
    }
    a->base = NULL;
}

#endif
