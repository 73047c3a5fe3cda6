// s1c-data synth — the synthetic pool (see synth.h for the task family).
#include <stdio.h>
#include <string.h>

#include "cmd_args.h"
#include "s1c_getopt.h"
#include "commands.h"
#include "synth.h"
#include "synth_axes.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: s1c-data synth --n N --seed S --out FILE[.zst] [options]\n"
            "  --min-steps K / --max-steps K   difficulty range, uniform (1 / 24)\n"
            "  --modulus M                     arithmetic modulus (10: one-digit numbers)\n"
            "  --defects F                     share of records with a quality defect (0.05)\n"
            "  --duplicates F                  share of exact duplicate questions (0.01)\n"
            "  --heldout N --heldout-out FILE  N held-out problems, disjoint from the pool\n"
            "  --contaminate F                 share of pool records copying a held-out question (0.002)\n"
            "  --wrong F                       share of traces with an uncorrected slip: wrong attempt (0)\n"
            "  --probe-structure S             probes' difficulty weighs '*' up, max/min down, 0..1 (0)\n"
            "  --domain-mix a,b,c,d            pool shares of addsub,muladd,minmax,mixed (uniform)\n"
            "  --slips F / --rechecks F        self-verification traces: per step, a slip corrected after\n"
            "                                  \"Wait\"/\"Hmm\"/\"Alternatively\" / a right step re-checked (0 / 0)\n"
            "  --recheck-again F               after a continuation line, another one re-checking the same step\n"
            "                                  (runs of up to 6 in a row) (0)\n");
}

#define ARG(name) {name, required_argument, NULL, 0}
static const struct option OPTS[] = {
    ARG("out"), ARG("heldout-out"), ARG("n"), ARG("seed"), ARG("min-steps"), ARG("max-steps"), ARG("modulus"),
    ARG("heldout"), ARG("defects"), ARG("duplicates"), ARG("contaminate"), ARG("slips"), ARG("rechecks"),
    ARG("recheck-again"), ARG("wrong"), ARG("probe-structure"), ARG("domain-mix"),
    {"help", no_argument, NULL, 0},
    {NULL, 0, NULL, 0}};
#undef ARG

int s1c_cmd_synth(int argc, char **argv) {
    s1c_synth_opts o;
    s1c_synth_opts_default(&o);
    const char *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, OPTS, "s1c-data synth", &a, &v)) > 0) {
        uint64_t u;
        double f;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--out")) o.out = v;
        else if (!strcmp(a, "--heldout-out")) o.heldout_out = v;
        else if (!strcmp(a, "--domain-mix")) {
            if (s1c_synth_axes_parse_mix(v, o.domain_mix)) {
                fprintf(stderr, "s1c-data synth: %s\n", s1c_err_msg());
                return 2;
            }
        }
        else if (!strcmp(a, "--n") || !strcmp(a, "--seed") || !strcmp(a, "--min-steps") || !strcmp(a, "--max-steps") ||
                 !strcmp(a, "--modulus") || !strcmp(a, "--heldout")) {
            if (s1c_arg_u64(v, &u, "synth", a)) return 2;
            if (!strcmp(a, "--n")) o.n = (size_t)u;
            else if (!strcmp(a, "--seed")) o.seed = u;
            else if (!strcmp(a, "--heldout")) o.heldout = (size_t)u;
            else {
                if (u > 1000000) {
                    fprintf(stderr, "s1c-data synth: %s too large\n", a);
                    return 2;
                }
                if (!strcmp(a, "--min-steps")) o.min_steps = (int)u;
                else if (!strcmp(a, "--max-steps")) o.max_steps = (int)u;
                else o.modulus = (int)u;
            }
        } else if (!strcmp(a, "--defects") || !strcmp(a, "--duplicates") || !strcmp(a, "--contaminate") ||
                   !strcmp(a, "--slips") || !strcmp(a, "--rechecks") || !strcmp(a, "--recheck-again") || !strcmp(a, "--wrong") ||
                   !strcmp(a, "--probe-structure")) {
            if (s1c_arg_double(v, &f, "synth", a)) return 2;
            if (f < 0 || f > 1) {
                fprintf(stderr, "s1c-data synth: %s must be in [0, 1]\n", a);
                return 2;
            }
            if (!strcmp(a, "--defects")) o.defect_rate = f;
            else if (!strcmp(a, "--duplicates")) o.duplicate_rate = f;
            else if (!strcmp(a, "--slips")) o.slip_rate = f;
            else if (!strcmp(a, "--rechecks")) o.recheck_rate = f;
            else if (!strcmp(a, "--recheck-again")) o.again_rate = f;
            else if (!strcmp(a, "--wrong")) o.wrong_rate = f;
            else if (!strcmp(a, "--probe-structure")) o.probe_structure = f;
            else o.contaminate_rate = f;
        }
    }
    if (got < 0 || s1c_args_no_operands(argc, argv, "synth")) return 2;
    if (!o.out) {
        usage(stderr);
        return 2;
    }
    s1c_synth_stats st;
    if (s1c_synth_run(&o, &st) != S1C_OK) {
        fprintf(stderr, "s1c-data synth: %s\n", s1c_err_msg());
        return 1;
    }
    fprintf(stderr, "synth: wrote %zu records (%zu with defects, %zu duplicates, %zu contaminated; %.1f MB) to %s\n",
            st.records, st.defects, st.duplicates, st.contaminated, (double)st.bytes / 1e6, o.out);
    if (st.slips + st.rechecks)
        fprintf(stderr, "synth: %zu steps, %zu slips corrected, %zu right steps re-checked (Wait %zu, Hmm %zu, Alternatively %zu)\n",
                st.steps, st.slips, st.rechecks, st.words[0], st.words[1], st.words[2]);
    if (st.again) fprintf(stderr, "synth: %zu continuation lines right after another (re-checks in a row)\n", st.again);
    if (st.wrong) fprintf(stderr, "synth: %zu traces with an uncorrected slip (wrong attempt)\n", st.wrong);
    if (st.heldout) fprintf(stderr, "synth: wrote %zu held-out problems to %s\n", st.heldout, o.heldout_out);
    return 0;
}
