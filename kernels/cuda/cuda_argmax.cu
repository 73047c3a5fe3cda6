// cuda_argmax.cu — greedy token choice on the device (ops.h argmax_rows): a decode step then
// copies rows ints to the host instead of rows x V fp32 logits (39 MB at batch 64, V 151936).
#include <limits.h>
#include <math.h>

#include "cuda_common.cuh"

// Banned ids get NaN, which never wins below, so the reduction needs no per-element list lookup.
__global__ void k_ban(float *x, int rows, int n, int ld, const int32_t *banned, int max_banned) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * max_banned) return;
    const int r = i / max_banned, id = banned[i];
    if (id >= 0 && id < n) x[(size_t)r * ld + id] = __int_as_float(0x7fc00000);
}

// (value, index) order of ops.h: a larger value wins, NaN never wins, ties go to the lower index.
// Indices start at INT_MAX with value NaN ("no candidate yet").
__device__ __forceinline__ void better(float &bv, int &bi, float v, int i) {
    if (isnan(v)) return;
    if (isnan(bv) || v > bv || (v == bv && i < bi)) {
        bv = v;
        bi = i;
    }
}

// One block per row: a strided pass per thread (coalesced), then warp shuffles and one round
// through shared memory.
__global__ void k_argmax_rows(int32_t *ids, const float *x, int n, int ld) {
    const float *row = x + (size_t)blockIdx.x * ld;  // [n] of [ld]
    float bv = __int_as_float(0x7fc00000);
    int bi = INT_MAX;
    for (int i = threadIdx.x; i < n; i += blockDim.x) better(bv, bi, row[i], i);
    for (int off = 16; off > 0; off >>= 1) {
        const float ov = __shfl_down_sync(0xffffffffu, bv, off);
        const int oi = __shfl_down_sync(0xffffffffu, bi, off);
        better(bv, bi, ov, oi);
    }
    __shared__ float sv[32];
    __shared__ int si[32];
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) {
        sv[warp] = bv;
        si[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
        const int n_warps = blockDim.x / 32;
        bv = lane < n_warps ? sv[lane] : __int_as_float(0x7fc00000);
        bi = lane < n_warps ? si[lane] : INT_MAX;
        for (int off = 16; off > 0; off >>= 1) {
            const float ov = __shfl_down_sync(0xffffffffu, bv, off);
            const int oi = __shfl_down_sync(0xffffffffu, bi, off);
            better(bv, bi, ov, oi);
        }
        if (lane == 0) ids[blockIdx.x] = bi == INT_MAX ? 0 : bi;  // no candidate: 0, as on the host
    }
}

static void cu_argmax_rows(s1c_backend *be, int32_t *ids, float *x, int rows, int n, int ld, const int32_t *banned,
                           int max_banned) {
    if (rows <= 0) return;
    cudaStream_t st = cuda_impl_of(be)->stream;
    if (banned && max_banned > 0) {
        const int total = rows * max_banned;
        k_ban<<<(total + 255) / 256, 256, 0, st>>>(x, rows, n, ld, banned, max_banned);
        S1C_CUDA_LAUNCH_CHECK();
    }
    // rows is the decode batch (<= 1024 sequences): well inside gridDim.x.
    k_argmax_rows<<<rows, 1024, 0, st>>>(ids, x, n, ld);
    S1C_CUDA_LAUNCH_CHECK();
}

void cuda_install_sampling_ops(s1c_backend *be) { be->argmax_rows = cu_argmax_rows; }
