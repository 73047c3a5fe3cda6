// cuda_attn_warp.cuh — the one-warp online-softmax attention loop shared by the own training
// kernels (cuda_attn_own.cu: keys are rows of the packed qkv buffer) and the paged decode kernel
// (cuda_attn_decode.cu: keys are cache slots found through a block table). Header-only templates,
// inlined into each kernel, so neither pays for the sharing.
#ifndef S1C_CUDA_ATTN_WARP_CUH
#define S1C_CUDA_ATTN_WARP_CUH

#include "cuda_common.cuh"

// dot(a_shared_fp32[hd], b_global_bf16[hd]); hd even, b 4-byte aligned.
__device__ __forceinline__ float dot_sh_bf16(const float *a, const bf16 *b, int hd) {
    const __nv_bfloat162 *b2 = (const __nv_bfloat162 *)b;
    float s = 0.0f;
    for (int d = 0; d < hd / 2; d++) {
        float2 f = __bfloat1622float2(b2[d]);
        s += a[2 * d] * f.x + a[2 * d + 1] * f.y;
    }
    return s;
}

// One warp attends query qs (fp32, already multiplied by the softmax scale, in shared memory) to
// the keys j_first..j_last inclusive (j_last >= j_first), 32 at a time: lane i scores key j0 + i,
// then the warp folds the chunk into the running max m, normaliser l and the output accumulator
// acc (lane holds dims lane + 32 r). key_at(j) / val_at(j) return the bf16 rows of key j.
// On return every lane holds the same m and l; the output row is acc / l, its lse m + log(l).
template <int R, typename KeyAt, typename ValAt>
__device__ __forceinline__ void warp_attend(const float *qs, int hd, int j_first, int j_last, KeyAt key_at,
                                            ValAt val_at, float (&acc)[R], float &m, float &l) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int r = 0; r < R; r++) acc[r] = 0.0f;
    m = -INFINITY;
    l = 0.0f;
    for (int j0 = j_first; j0 <= j_last; j0 += 32) {
        int j = j0 + lane;
        float sc = j <= j_last ? dot_sh_bf16(qs, key_at(j), hd) : -INFINITY;
        float mn = fmaxf(m, warp_max(sc));  // finite: lane 0's key is always valid
        float corr = expf(m - mn);          // 0 on the first chunk (m = -inf)
        float p = j <= j_last ? expf(sc - mn) : 0.0f;
        l = l * corr + warp_sum(p);
        m = mn;
#pragma unroll
        for (int r = 0; r < R; r++) acc[r] *= corr;
        int nj = min(32, j_last - j0 + 1);
        for (int jj = 0; jj < nj; jj++) {
            float pj = __shfl_sync(0xffffffffu, p, jj);
            const bf16 *v = val_at(j0 + jj);
#pragma unroll
            for (int r = 0; r < R; r++) {
                int d = lane + 32 * r;
                if (d < hd) acc[r] += pj * __bfloat162float(v[d]);
            }
        }
    }
}

// o[hd] = acc * inv (bf16), lane holding dims lane + 32 r.
template <int R>
__device__ __forceinline__ void warp_store_row(bf16 *o, const float (&acc)[R], float inv, int hd) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int r = 0; r < R; r++) {
        int d = lane + 32 * r;
        if (d < hd) o[d] = __float2bfloat16_rn(acc[r] * inv);
    }
}

#endif
