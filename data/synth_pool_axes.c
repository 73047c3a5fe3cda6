// The pool's selection axes (see synth_axes.h).
#include "synth_axes.h"

#include <stdlib.h>

#include "s1c_err.h"

int s1c_synth_axes_domain(s1c_rng *rng, const double mix[S1C_SYNTH_N_DOMAINS]) {
    double total = 0;
    for (int d = 0; d < S1C_SYNTH_N_DOMAINS; d++) total += mix[d];
    if (!(total > 0)) return (int)s1c_rng_below(rng, S1C_SYNTH_N_DOMAINS);
    double u = s1c_rng_uniform(rng) * total, c = 0;
    for (int d = 0; d < S1C_SYNTH_N_DOMAINS - 1; d++)
        if (u < (c += mix[d])) return d;
    return S1C_SYNTH_N_DOMAINS - 1;
}

double s1c_synth_axes_hardness(int k, int n_mul, int n_minmax, double structure) {
    // Per step 1 + s*(w - 1): '*' adds s, max/min subtract s/2, '+' '-' stay at 1.
    return k + structure * (n_mul - 0.5 * n_minmax);
}

int s1c_synth_axes_parse_mix(const char *s, double mix[S1C_SYNTH_N_DOMAINS]) {
    const char *p = s;
    for (int d = 0; d < S1C_SYNTH_N_DOMAINS; d++) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !(x >= 0)) {
            s1c_err("--domain-mix: expected 4 shares >= 0 \"a,b,c,d\" (addsub, muladd, minmax, mixed), got '%s'", s);
            return -1;
        }
        mix[d] = x;
        p = end;
        if (d < S1C_SYNTH_N_DOMAINS - 1) {
            if (*p != ',') {
                s1c_err("--domain-mix: expected 4 comma-separated shares, got '%s'", s);
                return -1;
            }
            p++;
        }
    }
    if (*p) {
        s1c_err("--domain-mix: trailing text after 4 shares in '%s'", s);
        return -1;
    }
    if (!(mix[0] + mix[1] + mix[2] + mix[3] > 0)) {
        s1c_err("--domain-mix: shares sum to 0 in '%s'", s);
        return -1;
    }
    return 0;
}
