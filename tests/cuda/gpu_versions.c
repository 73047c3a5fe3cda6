// gpu_versions.c — the first thing a GPU session runs (scripts/gpu_check.sh step 1): which driver,
// CUDA runtime, cuDNN, NCCL and cuBLASLt this process actually loaded, against the versions the
// binaries were built with, and the verdict of the cuDNN version policy (s1c_cuda_cudnn_refusal).
// One "name: value" line each, so the script can copy them into the summary.
// Exit: 0 all usable, 1 a library is too old / mismatched (each such line says FAIL), 77 no GPU.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <nccl.h>
#include <stdio.h>

#include "cuda_plan.h"

static void ver3(char *buf, size_t n, long v, long div_major, long div_minor) {
    snprintf(buf, n, "%ld.%ld.%ld", v / div_major, (v % div_major) / div_minor, v % div_minor);
}

int main(void) {
    int rc = 0;
    char a[32], b[32];
    int drv = 0, rt = 0;
    cudaError_t e1 = cudaDriverGetVersion(&drv), e2 = cudaRuntimeGetVersion(&rt);
    printf("cuda driver API: %d.%d%s\n", drv / 1000, (drv % 1000) / 10, e1 == cudaSuccess ? "" : " (query failed)");
    printf("cuda runtime: %d.%d (built with %d.%d)\n", rt / 1000, (rt % 1000) / 10, CUDART_VERSION / 1000,
           (CUDART_VERSION % 1000) / 10);
    if (e2 != cudaSuccess) rc = 1;
    if (drv && drv < rt) {
        printf("FAIL driver: the driver supports CUDA %d.%d, older than the runtime %d.%d\n", drv / 1000,
               (drv % 1000) / 10, rt / 1000, (rt % 1000) / 10);
        rc = 1;
    }
    long dnn = (long)cudnnGetVersion();
    ver3(a, sizeof a, dnn, 10000, 100);
    ver3(b, sizeof b, CUDNN_VERSION, 10000, 100);
    const char *why = s1c_cuda_cudnn_refusal(dnn, CUDNN_VERSION);
    printf("cudnn: %s (built with %s): %s\n", a, b, why ? why : "the SDPA graphs can be built");
    if (why) {
        printf("FAIL cudnn: %s\n", why);
        rc = 1;
    }
    int nv = 0;
    if (ncclGetVersion(&nv) == ncclSuccess) {
        ver3(a, sizeof a, nv, 10000, 100);
        ver3(b, sizeof b, NCCL_VERSION_CODE, 10000, 100);
        printf("nccl: %s (built with %s)\n", a, b);
    } else {
        printf("FAIL nccl: ncclGetVersion failed\n");
        rc = 1;
    }
    size_t lt = cublasLtGetVersion();
    ver3(a, sizeof a, (long)lt, 10000, 100);
    ver3(b, sizeof b, CUBLAS_VERSION, 10000, 100);
    printf("cublasLt: %s (built with %s)\n", a, b);
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        cudaGetLastError();
        printf("SKIP: no CUDA device\n");
        return rc ? rc : 77;
    }
    for (int d = 0; d < n; d++) {
        struct cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
        printf("device %d: %s, sm_%d%d, %d SMs, %.1f GiB, L2 %d MiB\n", d, p.name, p.major, p.minor,
               p.multiProcessorCount, (double)p.totalGlobalMem / (1 << 30), p.l2CacheSize >> 20);
    }
    return rc;
}
