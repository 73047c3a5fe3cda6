// s1c_bf16.h — bf16 <-> fp32 on the host with the GPU's rounding (round to nearest even, a NaN
// stays a quiet NaN of the same sign), for code below kernels/ (mpi/'s host bf16 reductions).
#ifndef S1C_BF16_H
#define S1C_BF16_H

#include <stdint.h>
#include <string.h>

static inline uint16_t s1c_bf16_from_f32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float s1c_bf16_to_f32(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

#endif
