// Greedy token choice on the CPU backend (ops.h argmax_rows): the reference the CUDA kernel and
// infer/sampler.c's greedy path are tested against.
#include <math.h>

#include "cpu_internal.h"

void s1c_cpu_argmax_rows(s1c_backend *be, int32_t *ids, float *x, int rows, int n, int ld, const int32_t *banned,
                         int max_banned) {
    (void)be;
    // x: [rows, ld], only the first n of each row are candidates; banned: [rows, max_banned]
#pragma omp parallel for schedule(static) if ((long)rows * n > 262144)
    for (int r = 0; r < rows; r++) {
        const float *row = x + (size_t)r * (size_t)ld;
        const int32_t *ban = banned ? banned + (size_t)r * (size_t)max_banned : NULL;
        int best = -1;
        for (int i = 0; i < n; i++) {
            const float v = row[i];
            if (isnan(v) || (best >= 0 && !(v > row[best]))) continue;
            int is_banned = 0;
            for (int j = 0; ban && j < max_banned && !is_banned; j++) is_banned = ban[j] == i;
            if (!is_banned) best = i;
        }
        ids[r] = best < 0 ? 0 : best;
    }
}
