#include "finite.h"

#include <math.h>
#include <stdio.h>

size_t s1c_first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

void s1c_describe_element(const s1c_qwen2_layout *lay, int u, size_t idx, char *out, size_t cap) {
    const s1c_unit_desc *ud = &lay->units[u];
    for (int p = 0; p < ud->n_params; p++) {
        const s1c_param_desc *d = &ud->params[p];
        if (idx < d->offset || idx >= d->offset + d->numel) continue;
        const size_t k = idx - d->offset;
        if (d->ndim == 2 && d->shape[1] > 0)
            snprintf(out, cap, "tensor %s element %zu [row %zu, column %zu]", d->name, k, k / (size_t)d->shape[1],
                     k % (size_t)d->shape[1]);
        else
            snprintf(out, cap, "tensor %s element %zu", d->name, k);
        return;
    }
    snprintf(out, cap, "unit %d padding element %zu", u, idx);
}
