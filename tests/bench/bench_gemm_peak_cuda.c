// The GPU reference GEMM rate: cuBLASLt's best bf16 plan; see bench_gemm_peak.h. Host C against
// the CUDA runtime and cuBLASLt C APIs, compiled only into CUDA builds.
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <stdlib.h>

#include "bench_gemm_peak.h"
#include "s1c_err.h"
#include "s1c_rng.h"

enum { MAX_ALGOS = 16 };
#define WS_BYTES ((size_t)64 << 20)

// Random bf16 in [-0.5, 0.5): zeros would let the tensor cores idle on power and flatter the rate.
static int fill_bf16(void *dev, size_t n, uint64_t seed) {
    uint16_t *h = malloc(n * sizeof(uint16_t));
    if (!h) return 0;
    for (size_t i = 0; i < n; i++) {
        float f = (float)((s1c_splitmix64(&seed) >> 40) * (1.0 / 16777216.0)) - 0.5f;
        union { float f; uint32_t u; } v = {f};
        h[i] = (uint16_t)(v.u >> 16);  // truncation is fine for benchmark data
    }
    int ok = cudaMemcpy(dev, h, n * sizeof(uint16_t), cudaMemcpyHostToDevice) == cudaSuccess;
    free(h);
    return ok;
}

double s1c_bench_cublaslt_best_tflops(int m, int n, int k, int reps, int *n_algos) {
    if (n_algos) *n_algos = 0;
    if (m < 1 || n < 1 || k < 1 || reps < 1) {
        s1c_err("cuBLASLt GEMM %dx%dx%d, %d reps: sizes and reps must be >= 1", m, n, k, reps);
        return -1;
    }
    double best = -1;
    void *x = NULL, *w = NULL, *y = NULL, *ws = NULL;
    cublasLtHandle_t lt = NULL;
    cublasLtMatmulDesc_t op = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, lc = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    cudaStream_t st = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    const char *what = "allocating device buffers";
    if (cudaMalloc(&x, (size_t)n * k * 2) != cudaSuccess || cudaMalloc(&w, (size_t)m * k * 2) != cudaSuccess ||
        cudaMalloc(&y, (size_t)n * m * 2) != cudaSuccess || cudaMalloc(&ws, WS_BYTES) != cudaSuccess)
        goto fail;
    what = "filling inputs";
    if (!fill_bf16(x, (size_t)n * k, 1) || !fill_bf16(w, (size_t)m * k, 2)) goto fail;
    what = "creating the stream, events and cuBLASLt handle";
    if (cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking) != cudaSuccess || cudaEventCreate(&e0) != cudaSuccess ||
        cudaEventCreate(&e1) != cudaSuccess || cublasLtCreate(&lt) != CUBLAS_STATUS_SUCCESS)
        goto fail;
    // Column-major view of the row-major layout: y (m x n, ld m) = wᵀ-stored (k x m, ld k)ᵀ · x (k x n, ld k).
    what = "describing the GEMM";
    const cublasOperation_t tA = CUBLAS_OP_T, tB = CUBLAS_OP_N;
    size_t wsb = WS_BYTES;
    if (cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &tA, sizeof tA) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tB, sizeof tB) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, (uint64_t)k, (uint64_t)m, k) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, (uint64_t)k, (uint64_t)n, k) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, (uint64_t)m, (uint64_t)n, m) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulPreferenceCreate(&pref) != CUBLAS_STATUS_SUCCESS ||
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb) !=
            CUBLAS_STATUS_SUCCESS)
        goto fail;
    cublasLtMatmulHeuristicResult_t res[MAX_ALGOS];
    int got = 0;
    what = "asking the heuristic for algorithms";
    if (cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, MAX_ALGOS, res, &got) != CUBLAS_STATUS_SUCCESS ||
        got < 1)
        goto fail;
    const float alpha = 1.0f, beta = 0.0f;
    int tried = 0;
    for (int i = 0; i < got; i++) {
        if (res[i].state != CUBLAS_STATUS_SUCCESS || res[i].workspaceSize > WS_BYTES) continue;
        int ok = 1;
        for (int r = -2; r < reps && ok; r++) {  // two warm-up calls, then timed one by one
            if (r >= 0) ok = cudaEventRecord(e0, st) == cudaSuccess;
            ok = ok && cublasLtMatmul(lt, op, &alpha, w, la, x, lb, &beta, y, lc, y, lc, &res[i].algo, ws, WS_BYTES,
                                      st) == CUBLAS_STATUS_SUCCESS;
            if (r < 0 || !ok) continue;
            float ms = 0;
            ok = cudaEventRecord(e1, st) == cudaSuccess && cudaEventSynchronize(e1) == cudaSuccess &&
                 cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess;
            double tf = ok && ms > 0 ? 2.0 * m * (double)n * k / (ms * 1e-3) / 1e12 : -1;
            if (tf > best) best = tf;
        }
        if (cudaStreamSynchronize(st) != cudaSuccess) {  // a failed launch must not poison the next candidate
            what = "running a candidate";
            best = -1;
            goto fail;
        }
        tried++;
    }
    if (n_algos) *n_algos = tried;
    what = "timing: no candidate ran";
    if (best <= 0) goto fail;
    goto done;
fail:
    s1c_err("cuBLASLt bf16 GEMM %dx%dx%d: %s (CUDA: %s)", m, n, k, what, cudaGetErrorString(cudaGetLastError()));
    best = -1;
done:
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (lc) cublasLtMatrixLayoutDestroy(lc);
    if (op) cublasLtMatmulDescDestroy(op);
    if (lt) cublasLtDestroy(lt);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    if (st) cudaStreamDestroy(st);
    cudaFree(x), cudaFree(w), cudaFree(y), cudaFree(ws);
    return best;
}
