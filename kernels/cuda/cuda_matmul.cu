// cuda_matmul.cu — GEMMs through cuBLASLt: bf16 inputs, fp32 compute, bf16 or fp32 output,
// bias fused in the epilogue, weight gradients accumulated into fp32 with beta = 1.
//
// Row-major PyTorch layouts map onto cuBLASLt's column-major view without copies: a row-major
// [R, K] matrix is a column-major [K, R] matrix with ld = K.
//   forward  out[T, OC] = inp[T, IC] w[OC, IC]^T  ->  D[OC, T] = w^T(op T)[OC, IC] · inp[IC, T]
//   dinp     dinp[T, IC] = dout[T, OC] w[OC, IC]  ->  D[IC, T] = w[IC, OC] · dout[OC, T]
//   dw       dw[OC, IC] += dout^T inp             ->  D[IC, OC] = inp[IC, T] · dout^T(op T)[T, OC]
// Plans (descriptors + the heuristic's algorithm) are cached per shape, type and pointer alignment,
// so a training step after the first does no heuristic queries.
#include <stdlib.h>
#include <string.h>

#include "cuda_common.cuh"
#include "cuda_plan.h"

typedef struct {
    int ta, tb, m, n, k, lda, ldb, ldd, d_f32, has_bias, beta_nonzero;
    int align_a, align_b, align_d, align_bias;  // bytes (power of two <= 256)
} mm_key;

typedef struct {
    mm_key key;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, ld;
    cublasLtMatmulAlgo_t algo;
    int used;
    unsigned long long last;
} mm_plan;

#define MM_CACHE 128
struct cuda_mm_cache {
    mm_plan plans[MM_CACHE];
    unsigned long long clock;
};

static int ptr_align(const void *p) {
    uintptr_t a = (uintptr_t)p;
    int al = 256;
    while (al > 1 && (a % (uintptr_t)al) != 0) al >>= 1;
    return al;
}

void cuda_mm_init(cuda_impl *ci) {
    ci->mm = (struct cuda_mm_cache *)calloc(1, sizeof(struct cuda_mm_cache));
    if (!ci->mm) s1c_fatal_at(__FILE__, __LINE__, "out of host memory");
}

static void plan_free(mm_plan *p) {
    if (!p->used) return;
    cublasLtMatmulDescDestroy(p->desc);
    cublasLtMatrixLayoutDestroy(p->la);
    cublasLtMatrixLayoutDestroy(p->lb);
    cublasLtMatrixLayoutDestroy(p->ld);
    p->used = 0;
}

void cuda_mm_destroy(cuda_impl *ci) {
    if (!ci->mm) return;
    for (int i = 0; i < MM_CACHE; i++) plan_free(&ci->mm->plans[i]);
    free(ci->mm);
    ci->mm = NULL;
}

static mm_plan *plan_get(cuda_impl *ci, const mm_key *key) {
    struct cuda_mm_cache *c = ci->mm;
    mm_plan *victim = &c->plans[0];
    c->clock++;
    for (int i = 0; i < MM_CACHE; i++) {
        mm_plan *p = &c->plans[i];
        if (p->used && memcmp(&p->key, key, sizeof *key) == 0) {
            p->last = c->clock;
            return p;
        }
        if (!p->used || (victim->used && p->last < victim->last)) victim = p;
    }
    plan_free(victim);
    mm_plan *p = victim;
    memset(p, 0, sizeof *p);
    p->key = *key;
    cudaDataType_t dtype = key->d_f32 ? CUDA_R_32F : CUDA_R_16BF;
    S1C_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t opa = key->ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = key->tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    S1C_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
    S1C_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
    if (key->has_bias) {
        cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        cudaDataType_t bt = CUDA_R_16BF;
        S1C_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
        S1C_CUBLAS_CHECK(
            cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof bt));
    }
    // Stored shapes: A is [m, k] when not transposed else [k, m]; B is [k, n] or [n, k].
    int ar = key->ta ? key->k : key->m, ac = key->ta ? key->m : key->k;
    int br = key->tb ? key->n : key->k, bc = key->tb ? key->k : key->n;
    S1C_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->la, CUDA_R_16BF, ar, ac, key->lda));
    S1C_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->lb, CUDA_R_16BF, br, bc, key->ldb));
    S1C_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->ld, dtype, key->m, key->n, key->ldd));

    cublasLtMatmulPreference_t pref;
    S1C_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
    size_t ws = ci->lt_ws_bytes;
    S1C_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                          sizeof ws));
    uint32_t al;
    al = (uint32_t)key->align_a;
    S1C_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al, sizeof al));
    al = (uint32_t)key->align_b;
    S1C_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al, sizeof al));
    al = (uint32_t)key->align_d;
    S1C_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al, sizeof al));
    S1C_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al, sizeof al));
    cublasLtMatmulHeuristicResult_t res;
    int nres = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(ci->lt, p->desc, p->la, p->lb, p->ld, p->ld, pref, 1, &res, &nres);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS || nres == 0)
        s1c_fatal_at(__FILE__, __LINE__,
                     "cuBLASLt has no algorithm for m=%d n=%d k=%d ta=%d tb=%d lda=%d ldb=%d ldd=%d out=%s bias=%d "
                     "(status %d)",
                     key->m, key->n, key->k, key->ta, key->tb, key->lda, key->ldb, key->ldd,
                     key->d_f32 ? "f32" : "bf16", key->has_bias, (int)st);
    p->algo = res.algo;
    p->used = 1;
    p->last = c->clock;
    return p;
}

void cuda_gemm(cuda_impl *ci, int trans_a, int trans_b, int m, int n, int k, const bf16 *A, int lda, const bf16 *B,
               int ldb, void *D, int ldd, int d_f32, const bf16 *bias, float beta) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        // An empty reduction: D = beta D. Only beta == 0 (overwrite) or 1 (accumulate) occur.
        if (beta == 0.0f) {
            S1C_ASSERT(ldd == m && !bias);
            S1C_CUDA_CHECK(cudaMemsetAsync(D, 0, (size_t)m * n * (d_f32 ? 4 : 2), ci->stream));
        }
        return;
    }
    mm_key key;
    memset(&key, 0, sizeof key);
    key.ta = trans_a;
    key.tb = trans_b;
    key.m = m;
    key.n = n;
    key.k = k;
    key.lda = lda;
    key.ldb = ldb;
    key.ldd = ldd;
    key.d_f32 = d_f32;
    key.has_bias = bias != NULL;
    key.beta_nonzero = beta != 0.0f;
    key.align_a = ptr_align(A);
    key.align_b = ptr_align(B);
    key.align_d = ptr_align(D);
    key.align_bias = bias ? ptr_align(bias) : 0;
    mm_plan *p = plan_get(ci, &key);
    if (bias)
        S1C_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    float alpha = 1.0f;
    S1C_CUBLAS_CHECK(cublasLtMatmul(ci->lt, p->desc, &alpha, A, p->la, B, p->lb, &beta, D, p->ld, D, p->ld, &p->algo,
                                    ci->lt_ws, ci->lt_ws_bytes, ci->stream));
}

// Column sums of dout[T, OC] per band of rows: part[band][OC] (the reduction scratch). Blocks
// tile 32 columns x one band (8 warps striding its rows, combined in warp order); the bands are
// then added to dbias in band order (cuda_colsum_bands): no atomics, the same bits every run.
__global__ void k_bias_grad(float *part, const bf16 *dout, int T, int OC, int rows_per_block) {
    __shared__ float sums[8][33];
    int col = blockIdx.x * 32 + (threadIdx.x & 31);
    int w = threadIdx.x >> 5;
    int r0 = blockIdx.y * rows_per_block;
    int r1 = min(r0 + rows_per_block, T);
    float s = 0.0f;
    if (col < OC)
        for (int r = r0 + w; r < r1; r += 8) s += __bfloat162float(dout[(size_t)r * OC + col]);
    sums[w][threadIdx.x & 31] = s;
    __syncthreads();
    if (w == 0 && col < OC) {
        float tot = 0.0f;
        for (int i = 0; i < 8; i++) tot += sums[i][threadIdx.x];
        part[(size_t)blockIdx.y * OC + col] = tot;
    }
}

// out[T, OC] += bias[OC] (used when the bias is too poorly aligned for the fused epilogue).
__global__ void k_add_bias(bf16 *out, const bf16 *bias, int T, int OC) {
    size_t n = (size_t)T * OC;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __float2bfloat16_rn(__bfloat162float(out[i]) + __bfloat162float(bias[i % OC]));
}

static void cu_matmul_fwd(s1c_backend *be, void *out, const void *inp, const void *w, const void *bias, int T, int IC,
                          int OC) {
    cuda_impl *ci = cuda_impl_of(be);
    // The epilogue reads the bias with vector loads; keep it for 16-byte aligned biases only.
    int fuse = bias && ptr_align(bias) >= 16;
    cuda_gemm(ci, 1, 0, OC, T, IC, (const bf16 *)w, IC, (const bf16 *)inp, IC, out, OC, 0,
              fuse ? (const bf16 *)bias : NULL, 0.0f);
    if (bias && !fuse && T > 0) {
        size_t n = (size_t)T * OC;
        k_add_bias<<<cuda_blocks(n, 256), 256, 0, ci->stream>>>((bf16 *)out, (const bf16 *)bias, T, OC);
        S1C_CUDA_LAUNCH_CHECK();
    }
}

static void cu_matmul_bwd(s1c_backend *be, void *dinp, float *dw, float *dbias, const void *dout, const void *inp,
                          const void *w, int T, int IC, int OC, int accumulate_dinp) {
    cuda_impl *ci = cuda_impl_of(be);
    if (dinp)
        cuda_gemm(ci, 0, 0, IC, T, OC, (const bf16 *)w, IC, (const bf16 *)dout, OC, dinp, IC, 0, NULL,
                  accumulate_dinp ? 1.0f : 0.0f);
    if (dw) cuda_gemm(ci, 0, 1, IC, OC, T, (const bf16 *)inp, IC, (const bf16 *)dout, OC, dw, IC, 1, NULL, 1.0f);
    if (dbias && T > 0) {
        // bands of >= 256 rows; gridDim.y <= 65535 and bands * OC partials fit the scratch
        s1c_cuda_bands b = s1c_cuda_col_bands(T, OC, 256, S1C_CUDA_RED_FLOATS);
        S1C_ASSERT(b.ok);
        dim3 grid((unsigned)((OC + 31) / 32), (unsigned)b.bands);
        k_bias_grad<<<grid, 256, 0, ci->stream>>>(ci->red, (const bf16 *)dout, T, OC, b.rows);
        S1C_CUDA_LAUNCH_CHECK();
        cuda_colsum_bands(ci, dbias, ci->red, b.bands, OC);
    }
}

void cuda_install_matmul_ops(s1c_backend *be) {
    be->matmul_fwd = cu_matmul_fwd;
    be->matmul_bwd = cu_matmul_bwd;
}
