// backend.c — run-time choice of backend, and the small host helpers every backend shares.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

s1c_backend *s1c_cpu_backend_create(void);
s1c_backend *s1c_cpu_bf16_backend_create(void);
#ifdef S1C_HAVE_CUDA
s1c_backend *s1c_cuda_backend_create(int device);
#endif

size_t s1c_dtype_size(s1c_dtype dt) { return dt == S1C_BF16 ? 2 : 4; }

int s1c_backend_has_cuda(void) {
#ifdef S1C_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

s1c_backend *s1c_backend_create(const char *name, int device) {
    if (strcmp(name, "cpu") == 0) return s1c_cpu_backend_create();
    if (strcmp(name, "cpu-bf16") == 0) return s1c_cpu_bf16_backend_create();
    if (strcmp(name, "cuda") == 0) {
#ifdef S1C_HAVE_CUDA
        return s1c_cuda_backend_create(device);
#else
        (void)device;
        s1c_err("backend 'cuda': this build of s1c has no CUDA backend (configure with a CUDA toolkit)");
        return NULL;
#endif
    }
    s1c_err("unknown backend '%s' (expected 'cpu', 'cuda' or 'cpu-bf16')", name);
    return NULL;
}

void s1c_backend_destroy(s1c_backend *be) {
    if (be) be->destroy(be);
}

s1c_status s1c_backend_set_matmul_precision(s1c_backend *be, const char *name) {
    if (!name || !strcmp(name, "bf16")) be->wbf16_exact = 0;
    else if (!strcmp(name, "exact")) be->wbf16_exact = 1;
    else return s1c_err("--matmul-precision '%s': expected bf16 or exact", name);
    return S1C_OK;
}

void *s1c_backend_host_alloc(s1c_backend *be, size_t bytes, int *pinned) {
    *pinned = 0;
    if (be->host_alloc) {
        void *p = be->host_alloc(be, bytes);
        if (p) {
            *pinned = 1;
            return p;
        }
        s1c_err_clear();  // plain memory still works, only without overlap
    }
    const size_t a = 64, n = (bytes + a - 1) / a * a;
    return aligned_alloc(a, n ? n : a);
}

void s1c_backend_host_free(s1c_backend *be, void *p, int pinned) {
    if (!p) return;
    if (pinned) be->host_free(be, p);
    else free(p);
}

void s1c_backend_host_copy_d2h_async(s1c_backend *be, void *dst_host, int pinned, const void *src, size_t bytes) {
    if (pinned && be->copy_d2h_async) be->copy_d2h_async(be, dst_host, src, bytes);
    else be->copy_d2h(be, dst_host, src, bytes);
}

void s1c_backend_host_fence_record(s1c_backend *be, int k) {
    if (be->fence_record) be->fence_record(be, k);
}

void s1c_backend_host_fence_wait(s1c_backend *be, int k) {
    if (be->fence_wait) be->fence_wait(be, k);
    else be->synchronize(be);
}

void s1c_rope_inv_freq(float *inv_freq_host, int head_dim, float theta) {
    // Hugging Face: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), evaluated in fp32.
    for (int i = 0; i < head_dim / 2; i++) {
        float expo = (float)(2 * i) / (float)head_dim;
        inv_freq_host[i] = 1.0f / powf(theta, expo);
    }
}
