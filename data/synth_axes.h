// synth_axes.h — the pool's selection axes for `s1c-data synth` (data/synth.h): quality (wrong
// traces), difficulty that depends on problem structure, and a domain mix. Every knob's default
// (0 / unset) draws nothing from the RNG, so a pool without them is byte-identical to before.
//   wrong_rate       share of records whose trace has one uncorrected slip: the error carries to
//                    the end and the attempt states the wrong value (the solution stays right).
//                    Curation does not compare attempt with solution (nor did s1's), so these
//                    survive the quality filter; only a selection that avoids them can do better.
//   probe_structure  s in [0, 1]: the probes' difficulty is sum over steps of 1 + s*(w_op - 1)
//                    with w = 2 for '*', 1 for '+' '-', 0.5 for max/min — multiplication steps are
//                    harder, so muladd and mixed problems are hard at equal length. s = 0: k steps.
//   domain_mix[4]    pool shares of addsub, muladd, minmax, mixed (all 0: uniform). Held-out
//                    problems stay balanced, so a skewed selection is tested on domains it lacks.
#ifndef S1C_SYNTH_AXES_H
#define S1C_SYNTH_AXES_H

#include "s1c_rng.h"

enum { S1C_SYNTH_N_DOMAINS = 4 };

// A domain drawn from mix (shares, not necessarily normalised); all-zero mix: uniform, drawn as
// the plain pool draws it.
int s1c_synth_axes_domain(s1c_rng *rng, const double mix[S1C_SYNTH_N_DOMAINS]);
// Probe difficulty of a problem with k steps, of which n_mul multiplications and n_minmax max/min.
double s1c_synth_axes_hardness(int k, int n_mul, int n_minmax, double structure);
// Parses "a,b,c,d" into mix: 0 or -1 (with the reason in s1c_err).
int s1c_synth_axes_parse_mix(const char *s, double mix[S1C_SYNTH_N_DOMAINS]);

#endif
