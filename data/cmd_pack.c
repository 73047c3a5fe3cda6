// s1c-data pack — s1-format tokenization into the packed HDF5 training file (packed.h).
// The result also reads in Python (the zstd filter id and cd_values match hdf5plugin's):
//   python3 -c "import h5py, hdf5plugin; f = h5py.File('s1k.h5'); print(f['input_ids'][:16], dict(f.attrs))"
#include <stdio.h>
#include <string.h>

#include "cmd_args.h"
#include "s1c_getopt.h"
#include "commands.h"
#include "packed_pack.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: s1c-data pack --tokenizer DIR --in FILE[.zst] --out FILE.h5 [options]\n"
            "  --max-length N           limit samples to N tokens\n"
            "  --overflow truncate|drop what to do with longer samples (truncate; both are counted)\n"
            "  --format auto|s1|messages|prompt-completion|text   record format (auto: by the fields;\n"
            "                           s1K-1.1 files are recognised by their deepseek_*/gemini_* fields)\n"
            "  --system TEXT            system prompt (default: Qwen's); a messages list's own wins\n"
            "  --response-template T    text format: loss after T (<|im_start|>assistant\\n)\n"
            "  --trace s1|deepseek|gemini   which trace/attempt fields (s1K-1.1 styles)\n"
            "  --question-field F, --trace-field F, --attempt-field F\n"
            "  --level L                zstd level of the HDF5 filter (3)\n"
            "  --skip-bad               skip malformed records (reported) instead of failing\n");
}

static const struct option OPTS[] = {
    {"in", required_argument, NULL, 0},          {"out", required_argument, NULL, 0},
    {"tokenizer", required_argument, NULL, 0},   {"max-length", required_argument, NULL, 0},
    {"overflow", required_argument, NULL, 0},    {"trace", required_argument, NULL, 0},
    {"question-field", required_argument, NULL, 0}, {"trace-field", required_argument, NULL, 0},
    {"attempt-field", required_argument, NULL, 0}, {"level", required_argument, NULL, 0},
    {"format", required_argument, NULL, 0},      {"system", required_argument, NULL, 0},
    {"response-template", required_argument, NULL, 0},
    {"skip-bad", no_argument, NULL, 0},          {"help", no_argument, NULL, 0},
    {NULL, 0, NULL, 0}};

int s1c_cmd_pack(int argc, char **argv) {
    s1c_pack_opts o;
    s1c_pack_opts_default(&o);
    o.log = stderr;
    const char *tok_dir = NULL, *a, *v;
    int got;
    s1c_getopt_begin();
    while ((got = s1c_getopt_next(argc, argv, OPTS, "s1c-data pack", &a, &v)) > 0) {
        uint64_t u;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--skip-bad")) o.skip_bad = 1;
        else if (!strcmp(a, "--in")) o.in = v;
        else if (!strcmp(a, "--out")) o.out = v;
        else if (!strcmp(a, "--tokenizer")) tok_dir = v;
        else if (!strcmp(a, "--max-length")) {
            if (s1c_arg_u64(v, &u, "pack", a)) return 2;
            o.max_length = (size_t)u;
        } else if (!strcmp(a, "--level")) {
            if (s1c_arg_u64(v, &u, "pack", a)) return 2;
            if (u < 1 || u > 22) {
                fprintf(stderr, "s1c-data pack: --level must be in 1..22\n");
                return 2;
            }
            o.level = (int)u;
        } else if (!strcmp(a, "--overflow")) {
            if (!strcmp(v, "truncate")) o.overflow = S1C_OVERFLOW_TRUNCATE;
            else if (!strcmp(v, "drop")) o.overflow = S1C_OVERFLOW_DROP;
            else {
                fprintf(stderr, "s1c-data pack: --overflow expects truncate or drop, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--trace")) {
            if (s1c_fields_set_trace_style(&o.fields, v) != S1C_OK) {
                fprintf(stderr, "s1c-data pack: %s\n", s1c_err_msg());
                return 2;
            }
            o.trace_style = v;
            o.fields_given = 1;
        } else if (!strcmp(a, "--question-field")) o.fields.question = v, o.fields_given = 1;
        else if (!strcmp(a, "--trace-field")) o.fields.trace = v, o.fields_given = 1;
        else if (!strcmp(a, "--attempt-field")) o.fields.attempt = v, o.fields_given = 1;
        else if (!strcmp(a, "--system")) o.system = v;
        else if (!strcmp(a, "--response-template")) o.response_template = v;
        else if (!strcmp(a, "--format")) {
            if (s1c_parse_format(v, &o.format) != S1C_OK) {
                fprintf(stderr, "s1c-data pack: %s\n", s1c_err_msg());
                return 2;
            }
        }
    }
    if (got < 0 || s1c_args_no_operands(argc, argv, "pack")) return 2;
    if (!o.in || !o.out || !tok_dir) {
        usage(stderr);
        return 2;
    }
    s1c_tokenizer *tok = s1c_tokenizer_load(tok_dir);
    if (!tok) {
        fprintf(stderr, "s1c-data pack: %s\n", s1c_err_msg());
        return 1;
    }
    o.tok = tok;
    s1c_pack_result r;
    s1c_status st = s1c_pack_run(&o, &r);
    s1c_tokenizer_free(tok);
    if (st != S1C_OK) {
        fprintf(stderr, "s1c-data pack: %s\n", s1c_err_msg());
        return 1;
    }
    fprintf(stderr,
            "pack: %llu records -> %llu samples, %llu tokens (%.1f%% in the loss); %llu truncated, %llu dropped at "
            "--max-length %zu; %llu bad skipped; %.2f s, %.0f records/s, %.1f MB/s -> %s\n",
            (unsigned long long)r.records, (unsigned long long)r.samples, (unsigned long long)r.tokens,
            r.tokens ? 100.0 * (double)r.loss_tokens / (double)r.tokens : 0.0, (unsigned long long)r.truncated,
            (unsigned long long)r.dropped, o.max_length, (unsigned long long)r.bad, r.seconds,
            r.seconds > 0 ? (double)r.records / r.seconds : 0.0, r.seconds > 0 ? (double)r.in_bytes / 1e6 / r.seconds : 0.0,
            o.out);
    for (int f = 0; f < S1C_FMT_N; f++)
        if (r.formats[f])
            fprintf(stderr, "pack: %llu record(s) read as %s\n", (unsigned long long)r.formats[f],
                    s1c_format_describe((s1c_record_format)f, &o.fields));
    if (r.no_loss)
        fprintf(stderr, "pack: warning: %llu of %llu samples have no token in the loss%s; s1c-train refuses a file "
                        "with none\n",
                (unsigned long long)r.no_loss, (unsigned long long)r.samples,
                r.truncated ? " (cut by --max-length before the response?)" : "");
    return 0;
}
