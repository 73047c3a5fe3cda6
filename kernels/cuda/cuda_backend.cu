// cuda_backend.cu — CUDA backend: creation, memory ops, the workspace arena, the op table.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "cuda_plan.h"

// cuBLASLt's recommended workspace on Hopper (enough for every split-K / stream-K algorithm).
#define S1C_LT_WORKSPACE_BYTES ((size_t)32 << 20)

void *cuda_ws_get(cuda_impl *ci, size_t bytes) {
    if (bytes <= ci->ws_bytes) return ci->ws;
    // Grow with headroom so a slightly larger later shape does not re-grow.
    size_t want = cuda_align_up(bytes + bytes / 8, (size_t)1 << 20);
    if (ci->ws) S1C_CUDA_CHECK(cudaFree(ci->ws));  // synchronises: only while warming up
    ci->ws = NULL;
    cudaError_t e = cudaMalloc(&ci->ws, want);
    if (e != cudaSuccess) {
        size_t free_b = 0, total_b = 0;
        cudaGetLastError();
        cudaMemGetInfo(&free_b, &total_b);
        s1c_fatal_at(__FILE__, __LINE__,
                     "cuda: the op workspace needs %zu MiB but only %zu MiB of device memory are free "
                     "(short by %zu MiB): reduce the micro-batch tokens",
                     want >> 20, free_b >> 20, want > free_b ? (want - free_b) >> 20 : 0);
    }
    ci->ws_bytes = want;
    if (want > ci->ws_peak) ci->ws_peak = want;
    return ci->ws;
}

static void *cu_alloc(s1c_backend *be, size_t bytes) {
    (void)be;
    void *p = NULL;
    if (bytes == 0) bytes = 1;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        s1c_err("cuda: cannot allocate %zu MiB of device memory (%zu MiB free of %zu MiB; short by %zu MiB): %s",
                bytes >> 20, free_b >> 20, total_b >> 20, bytes > free_b ? (bytes - free_b) >> 20 : 0,
                cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

static s1c_status cu_mem_info(s1c_backend *be, size_t *free_b, size_t *total_b) {
    (void)be;
    cudaError_t e = cudaMemGetInfo(free_b, total_b);
    return e == cudaSuccess ? S1C_OK : s1c_err("cuda: cudaMemGetInfo: %s", cudaGetErrorString(e));
}

static void cu_free(s1c_backend *be, void *p) {
    (void)be;
    if (p) S1C_CUDA_CHECK(cudaFree(p));
}

static void cu_memset_zero(s1c_backend *be, void *p, size_t bytes) {
    if (bytes) S1C_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, cuda_impl_of(be)->stream));
}

static void cu_copy_d2d(s1c_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes) S1C_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda_impl_of(be)->stream));
}

static void cu_copy_2d(s1c_backend *be, void *dst, size_t dpitch, const void *src, size_t spitch, size_t width,
                       size_t rows) {
    if (width && rows)
        S1C_CUDA_CHECK(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, rows, cudaMemcpyDeviceToDevice,
                                         cuda_impl_of(be)->stream));
}

// Host memory is pageable here; cudaMemcpyAsync from pageable memory is staged by the driver and
// returns once the source has been consumed, so the caller may reuse its buffer at once.
static void cu_copy_h2d(s1c_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes) S1C_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cuda_impl_of(be)->stream));
}

static void cu_copy_d2h(s1c_backend *be, void *dst, const void *src, size_t bytes) {
    cuda_impl *ci = cuda_impl_of(be);
    if (bytes) S1C_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ci->stream));
    S1C_CUDA_CHECK(cudaStreamSynchronize(ci->stream));
}

static void cu_synchronize(s1c_backend *be) { S1C_CUDA_CHECK(cudaStreamSynchronize(cuda_impl_of(be)->stream)); }

// Page-locked host buffers: the DMA engines read and write them while the host computes
// (copies from or to pageable memory are staged through the driver's buffers and block).
static void *cu_host_alloc(s1c_backend *be, size_t bytes) {
    (void)be;
    void *p = NULL;
    cudaError_t e = cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocDefault);
    if (e != cudaSuccess) {
        cudaGetLastError();
        s1c_err("cuda: cudaHostAlloc of %.1f MiB of page-locked host memory: %s", (double)bytes / (1 << 20),
                cudaGetErrorString(e));
        return NULL;
    }
    return p;
}

static void cu_host_free(s1c_backend *be, void *p) {
    (void)be;
    if (p) S1C_CUDA_CHECK(cudaFreeHost(p));
}

static void cu_copy_d2h_async(s1c_backend *be, void *dst, const void *src, size_t bytes) {
    if (bytes) S1C_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cuda_impl_of(be)->stream));
}

static void cu_fence_record(s1c_backend *be, int k) {
    cuda_impl *ci = cuda_impl_of(be);
    S1C_CUDA_CHECK(cudaEventRecord(ci->fence[k], ci->stream));
}

static void cu_fence_wait(s1c_backend *be, int k) { S1C_CUDA_CHECK(cudaEventSynchronize(cuda_impl_of(be)->fence[k])); }

static void cu_destroy(s1c_backend *be) {
    if (!be) return;
    cuda_impl *ci = cuda_impl_of(be);
    if (ci) {
        cudaStreamSynchronize(ci->stream);
        for (int k = 0; k < S1C_BACKEND_FENCES; k++)
            if (ci->fence[k]) cudaEventDestroy(ci->fence[k]);
        cuda_attn_cudnn_destroy(ci);
        cuda_mm_destroy(ci);
        if (ci->dnn) cudnnDestroy(ci->dnn);
        if (ci->lt) cublasLtDestroy(ci->lt);
        cudaFree(ci->lt_ws);
        cudaFree(ci->ws);
        cudaFree(ci->loss_scratch);
        cudaFree(ci->red);
        cudaStreamDestroy(ci->stream);
        free(ci);
    }
    free(be);
}

// s1c_backend.prepare: the plans and the arena the first step would otherwise create mid-step.
// vocab > 0 (training): attention forward and backward plans and the LM-head chunk; vocab 0
// (inference: s1c_decode_ws_create): the forward plans only. Both: the split-KV decode partials
// (s1c_decode_split_ws_reserve, at most a few MiB; the arena is one buffer sized for the largest
// need, so this costs training nothing).
static void cu_prepare(s1c_backend *be, int max_T, int n_head, int n_kv_head, int head_dim, int vocab) {
    cuda_impl *ci = cuda_impl_of(be);
    if (max_T <= 0) return;
    size_t need = cuda_attn_cudnn_prepare(ci, max_T, 1, max_T, n_head, n_kv_head, head_dim, vocab > 0);
    const size_t split = s1c_decode_split_ws_reserve(n_head, n_kv_head, head_dim, ci->sm_count);
    if (split > need) need = split;
    if (vocab > 0) {
        size_t lm = s1c_cuda_ce_chunk_bytes(s1c_cuda_ce_chunk(max_T, vocab, 1, S1C_CE_CHUNK_BYTES), vocab);
        if (lm > need) need = lm;
    }
    if (need) cuda_ws_get(ci, need);
    S1C_CUDA_CHECK(cudaStreamSynchronize(ci->stream));
}

// s1c_backend.prepare_attn: one micro-batch's bucket, when its batch is built (before the step).
static void cu_prepare_attn(s1c_backend *be, const s1c_attn_shape *s) {
    cuda_impl *ci = cuda_impl_of(be);
    size_t need = cuda_attn_cudnn_prepare(ci, s->T, s->n_seq, s->max_seqlen, s->n_head, s->n_kv_head, s->head_dim, 1);
    if (need) cuda_ws_get(ci, need);  // grows at most once per larger bucket; a no-op once prepared
}

static int parse_attn_mode(void) {
    const char *e = getenv("S1C_CUDA_ATTN");
    if (!e || !*e || strcmp(e, "auto") == 0) return S1C_ATTN_AUTO;
    if (strcmp(e, "cudnn") == 0) return S1C_ATTN_CUDNN;
    if (strcmp(e, "own") == 0) return S1C_ATTN_OWN;
    fprintf(stderr, "s1c: S1C_CUDA_ATTN='%s' is not auto|cudnn|own; using auto\n", e);
    return S1C_ATTN_AUTO;
}

extern "C" s1c_backend *s1c_cuda_backend_create(int device) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        cudaGetLastError();
        s1c_err("backend 'cuda': no CUDA device visible (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return NULL;
    }
    if (device < 0 || device >= n) {
        s1c_err("backend 'cuda': device %d requested but %d device(s) are visible", device, n);
        return NULL;
    }
    if ((e = cudaSetDevice(device)) != cudaSuccess) {
        s1c_err("backend 'cuda': cudaSetDevice(%d): %s", device, cudaGetErrorString(e));
        return NULL;
    }
    cudaDeviceProp prop;
    if ((e = cudaGetDeviceProperties(&prop, device)) != cudaSuccess) {
        s1c_err("backend 'cuda': cudaGetDeviceProperties(%d): %s", device, cudaGetErrorString(e));
        return NULL;
    }
    if (prop.major < 8) {
        s1c_err("backend 'cuda': device %d (%s) has compute capability %d.%d; bf16 kernels need 8.0 or newer",
                device, prop.name, prop.major, prop.minor);
        return NULL;
    }
    cuda_impl *ci = (cuda_impl *)calloc(1, sizeof *ci);
    s1c_backend *be = (s1c_backend *)calloc(1, sizeof *be);
    if (!ci || !be) {
        free(ci);
        free(be);
        s1c_err("backend 'cuda': out of host memory");
        return NULL;
    }
    ci->device = device;
    ci->sm_count = prop.multiProcessorCount;
    ci->cc_major = prop.major;
    ci->cc_minor = prop.minor;
    ci->attn_mode = parse_attn_mode();
    // 0: cuDNN's faster dQ-accumulator backward (atomics: the last bits of dQ vary run to run)
    const char *det = getenv("S1C_CUDA_ATTN_DETERMINISTIC");
    ci->attn_det = !(det && strcmp(det, "0") == 0);
    const char *ds = getenv("S1C_CUDA_DECODE_SPLITS");  // tests: force the split-KV path (N) or off (-1)
    ci->decode_force_splits = ds && *ds ? atoi(ds) : 0;
    be->name = "cuda";
    be->act_dtype = S1C_BF16;
    be->device_memory = 1;
    be->impl = ci;
    be->destroy = cu_destroy;

    if ((e = cudaStreamCreateWithFlags(&ci->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        s1c_err("backend 'cuda': cudaStreamCreate: %s", cudaGetErrorString(e));
        cu_destroy(be);
        return NULL;
    }
    for (int k = 0; k < S1C_BACKEND_FENCES; k++)
        if ((e = cudaEventCreateWithFlags(&ci->fence[k], cudaEventDisableTiming)) != cudaSuccess) {
            s1c_err("backend 'cuda': cudaEventCreate: %s", cudaGetErrorString(e));
            cu_destroy(be);
            return NULL;
        }
    if (cublasLtCreate(&ci->lt) != CUBLAS_STATUS_SUCCESS) {
        s1c_err("backend 'cuda': cublasLtCreate failed");
        cu_destroy(be);
        return NULL;
    }
    ci->lt_ws_bytes = S1C_LT_WORKSPACE_BYTES;
    if ((e = cudaMalloc(&ci->lt_ws, ci->lt_ws_bytes)) != cudaSuccess ||
        (e = cudaMalloc((void **)&ci->loss_scratch, sizeof(float))) != cudaSuccess ||
        (e = cudaMalloc((void **)&ci->red, S1C_CUDA_RED_SCRATCH_BYTES)) != cudaSuccess) {
        s1c_err("backend 'cuda': cannot allocate the %zu MiB GEMM workspace and the %zu MiB reduction scratch: %s",
                ci->lt_ws_bytes >> 20, S1C_CUDA_RED_SCRATCH_BYTES >> 20, cudaGetErrorString(e));
        cu_destroy(be);
        return NULL;
    }
    // cuDNN is optional at run time: without it attention runs on the own kernels.
    if (cudnnCreate(&ci->dnn) != CUDNN_STATUS_SUCCESS) {
        ci->dnn = NULL;
        if (ci->attn_mode == S1C_ATTN_CUDNN) {
            s1c_err("backend 'cuda': S1C_CUDA_ATTN=cudnn but cudnnCreate failed");
            cu_destroy(be);
            return NULL;
        }
    } else if (cudnnSetStream(ci->dnn, ci->stream) != CUDNN_STATUS_SUCCESS) {
        s1c_err("backend 'cuda': cudnnSetStream failed");
        cu_destroy(be);
        return NULL;
    }
    // The SDPA graphs need cuDNN >= 9.10 of the major built against; below that every shape would
    // be refused one by one. Say so once, loudly, and either stop (S1C_CUDA_ATTN=cudnn) or run the
    // own kernels (auto), which attn_report counts as a fallback at teardown.
    ci->cudnn_version = (long)cudnnGetVersion();
    if (ci->dnn) {
        const char *why = s1c_cuda_cudnn_refusal(ci->cudnn_version, (long)CUDNN_VERSION);
        if (why && ci->attn_mode == S1C_ATTN_CUDNN) {
            s1c_err("backend 'cuda': S1C_CUDA_ATTN=cudnn but cuDNN %ld (built against %d) cannot run the SDPA "
                    "graphs: %s", ci->cudnn_version, (int)CUDNN_VERSION, why);
            cu_destroy(be);
            return NULL;
        }
        if (why && ci->attn_mode == S1C_ATTN_AUTO) {
            fprintf(stderr, "s1c cuda: WARNING cuDNN %ld at run time (built against %d): %s; attention runs on "
                    "the own kernels (40-100x slower)\n", ci->cudnn_version, (int)CUDNN_VERSION, why);
            ci->attn_cudnn_off = 1;
        }
    }
    cuda_mm_init(ci);
    cuda_attn_cudnn_init(ci);

    be->alloc = cu_alloc;
    be->free = cu_free;
    be->mem_info = cu_mem_info;
    be->memset_zero = cu_memset_zero;
    be->copy_d2d = cu_copy_d2d;
    be->copy_2d = cu_copy_2d;
    be->copy_h2d = cu_copy_h2d;
    be->copy_d2h = cu_copy_d2h;
    be->synchronize = cu_synchronize;
    be->host_alloc = cu_host_alloc;
    be->host_free = cu_host_free;
    be->copy_d2h_async = cu_copy_d2h_async;
    be->fence_record = cu_fence_record;
    be->fence_wait = cu_fence_wait;
    be->prepare = cu_prepare;
    be->prepare_attn = cu_prepare_attn;
    cuda_install_pointwise_ops(be);
    cuda_install_matmul_ops(be);
    cuda_install_attention_ops(be);
    cuda_install_lmhead_ops(be);
    cuda_install_decode_ops(be);
    cuda_install_trainer_ops(be);
    cuda_install_sampling_ops(be);
    return be;
}
