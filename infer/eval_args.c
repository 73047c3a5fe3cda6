// eval_args.c — see eval_args.h. One table holds every option: its name, the commands that take
// it and its help line, so the usage text and the parser cannot disagree.
#include "eval_args.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "s1c_file.h"

enum { G = S1C_CMD_GENERATE, E = S1C_CMD_EVAL, S = S1C_CMD_SWEEP, ALL = G | E | S };

typedef enum {
    O_HELP, O_QUIET, O_RAW, O_MODEL, O_TOKENIZER, O_DEVICE, O_BENCHMARK, O_FORMAT, O_OUT, O_PROMPT, O_PROMPTS,
    O_MAX_THINKING, O_MIN_THINKING, O_IGNORE, O_WAIT, O_THINK_END, O_ANSWER_PREFIX, O_STOP, O_TEMPERATURE, O_TOP_P,
    O_TOP_K, O_N, O_SEED, O_CONTROL, O_CONTROL_BUDGET, O_CLASS, O_STEP_DELIM, O_REJECTION_TRIES, O_MAX_ANSWER,
    O_MAX_NEW, O_LIMIT, O_MAX_BATCH, O_KV_BLOCKS, O_STEP_TOKENS, O_BLOCK_SIZE, O_MAX_CONTEXT, O_BUDGETS, O_IGNORES,
    O_RESUME, O_OUTPUT_FORMAT, O_PROGRESS, O_SYSTEM, O_TEMPLATE, O_THINK_STOP, O_EOS_IN_THINKING, O_MIN_TOKENS,
    O_THINK_NEWLINE, O_WEIGHTS_DTYPE, O_MATMUL_PRECISION, O_TP, O_COUNT
} opt_id;

typedef struct {
    const char *name;
    int has_arg;
    int cmds;
    const char *help;  // "ARG  text" (NULL: not listed)
} opt_def;

static const opt_def defs[O_COUNT] = {
    [O_HELP] = {"help", 0, ALL, "  print this help"},
    [O_QUIET] = {"quiet", 0, ALL, "  no per-run lines, no progress"},
    [O_RAW] = {"raw", 0, G, "  send the prompt text as is, no thinking phase"},
    [O_MODEL] = {"model", 1, ALL, "DIR  checkpoint directory (config.json, safetensors)"},
    [O_TOKENIZER] = {"tokenizer", 1, ALL, "DIR  tokenizer.json location (default: the model dir)"},
    [O_DEVICE] = {"device", 1, ALL, "cpu|cuda|cpu-bf16  (cpu-bf16: the GPU's bf16 storage emulated on the CPU)"},
    [O_WEIGHTS_DTYPE] = {"weights-dtype", 1, ALL,
                         "bf16|fp32|auto  matrix weights on the CPU (default auto: bf16 when the checkpoint's are)"},
    [O_MATMUL_PRECISION] = {"matmul-precision", 1, ALL,
                            "bf16|exact  CPU, bf16 weights, steps of more than 8 rows (prefill, batches): bf16 "
                            "(default) rounds the activations to bf16 where the CPU has AVX512-BF16 (vdpbf16ps: "
                            "twice the multiply-adds per instruction, each product off by up to 2^-8 relative), "
                            "exact keeps them fp32 (transformers' fp32 computation to round-off)"},
    [O_TP] = {"tp", 1, E | S, "N  tensor parallelism: groups of N consecutive mpirun ranks hold one model, split "
                              "by heads / MLP columns / vocabulary (default 1)"},
    [O_BENCHMARK] = {"benchmark", 1, E | S, "FILE  benchmark (JSONL)"},
    [O_FORMAT] = {"format", 1, E | S, "aime|math|gpqa  benchmark format"},
    [O_OUT] = {"out", 1, ALL, "DIR  results directory (generate: a JSONL FILE, default stdout)"},
    [O_PROMPT] = {"prompt", 1, G, "TEXT  a question (repeatable)"},
    [O_PROMPTS] = {"prompts", 1, G, "FILE  questions, one per line (text or JSON with \"prompt\")"},
    [O_MAX_THINKING] = {"max-thinking", 1, ALL, "B|auto  cap thinking at B tokens, then force the answer (0 = "
                                                "answer at once; auto = s1's max-new - longest prompt - forced end "
                                                "- 100; default none)"},
    [O_MIN_THINKING] = {"min-thinking", 1, ALL, "M  suppress the end of thinking before M tokens"},
    [O_IGNORE] = {"ignore", 1, ALL, "N  replace the first N attempts to end thinking by --wait (default 0)"},
    [O_WAIT] = {"wait", 1, ALL, "STR  continuation string (default \"Wait\"; \"\" allowed)"},
    [O_THINK_END] = {"think-end", 1, ALL, "STR  end-of-thinking delimiter (default \"<|im_start|>answer\")"},
    [O_ANSWER_PREFIX] = {"answer-prefix", 1, ALL, "STR  after a forced end (default \"\\nFinal Answer:\")"},
    [O_STOP] = {"stop", 1, ALL, "STR  stop string for the answer (repeatable, up to 8)"},
    [O_TEMPERATURE] = {"temperature", 1, ALL, "T  sampling temperature (default 0: greedy)"},
    [O_TOP_P] = {"top-p", 1, ALL, "P  nucleus sampling (default 1)"},
    [O_TOP_K] = {"top-k", 1, ALL, "K  top-k sampling (default 0: off)"},
    [O_N] = {"n", 1, ALL, "N  samples per problem (default 1)"},
    [O_SEED] = {"seed", 1, ALL, "S  seed (default 0)"},
    [O_CONTROL] = {"control", 1, ALL, "token|step|class|rejection|none  the paper's other length controls"},
    [O_CONTROL_BUDGET] = {"control-budget", 1, ALL, "N  N in the token/step-conditional prompt (default --max-thinking)"},
    [O_CLASS] = {"class", 1, ALL, "short|long  class-conditional instruction (default short)"},
    [O_STEP_DELIM] = {"step-delim", 1, ALL, "STR  counted as a thinking step (default \"\\n\\n\")"},
    [O_REJECTION_TRIES] = {"rejection-tries", 1, ALL, "K  resampling cap of --control rejection (default 16)"},
    [O_MAX_ANSWER] = {"max-answer", 1, ALL, "N  answer tokens (default 2048)"},
    [O_MAX_NEW] = {"max-new", 1, ALL, "N  all generated tokens (default 32768)"},
    [O_LIMIT] = {"limit", 1, E | S, "N  first N problems only"},
    [O_MAX_BATCH] = {"max-batch", 1, ALL, "N  sequences decoding together (default 32)"},
    [O_KV_BLOCKS] = {"kv-blocks", 1, ALL, "N  KV blocks (default: every sequence at full context, or 90% of free "
                                          "device memory if less)"},
    [O_STEP_TOKENS] = {"step-tokens", 1, ALL, "N  rows per forward step (default 2048 + max-batch)"},
    [O_BLOCK_SIZE] = {"block-size", 1, ALL, "N  positions per KV block (default 16)"},
    [O_MAX_CONTEXT] = {"max-context", 1, ALL, "N  context length (default: the model's)"},
    [O_BUDGETS] = {"budgets", 1, S, "B1,B2,..  one run per thinking cap"},
    [O_IGNORES] = {"ignores", 1, S, "N1,N2,..  one run per ignore count"},
    [O_RESUME] = {"resume", 0, S, "  skip settings whose results in --out are complete"},
    [O_OUTPUT_FORMAT] = {"output-format", 1, E | S, "s1c|lm-eval  also write lm-eval's results JSON and samples "
                                                    "JSONL (default s1c)"},
    [O_SYSTEM] = {"system", 1, ALL, "STR  system turn (default Qwen's \"You are Qwen, created by Alibaba Cloud. You are a "
                                    "helpful assistant.\", as s1; \"\" = none)"},
    [O_TEMPLATE] = {"template", 1, ALL, "STR  user turn with {question} in it (default: the question; gpqa: a "
                                        "\"give the letter\" instruction, see infer/README.md)"},
    [O_THINK_STOP] = {"think-stop", 1, ALL, "first|full  first: the delimiter's first (special) token ends thinking "
                                            "and the rest is appended (s1, default); full: the whole delimiter "
                                            "must be sampled"},
    [O_EOS_IN_THINKING] = {"eos-in-thinking", 1, ALL, "delimiter|forced  <|im_end|> while thinking: append the "
                                                      "delimiter (s1, default) or the forced end with --answer-prefix"},
    [O_MIN_TOKENS] = {"min-tokens", 1, ALL, "N  the first N tokens after the prompt and after each --wait cannot end "
                                            "thinking (default: 1 with --ignore, else 0: s1's vLLM min_tokens)"},
    [O_THINK_NEWLINE] = {"think-newline", 1, ALL, "model|prompt  the newline after <|im_start|>think: written by the "
                                                  "model and counted as thinking (s1, default) or put in the prompt"},
    [O_PROGRESS] = {"progress-every", 1, ALL, "S  progress line every S seconds when stderr is not a terminal "
                                              "(default 60; 0 = off)"},
};

static const char *cmd_name(int cmd) { return cmd == G ? "generate" : cmd == E ? "eval" : "sweep"; }

static void cmds_text(int mask, char *buf, size_t n) {
    buf[0] = '\0';
    for (int c = G; c <= S; c <<= 1)
        if (mask & c) snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? " and " : "", cmd_name(c));
}

static void usage_cmd(FILE *fp, int cmd) {
    static const char *const head[] = {
        [G] = "s1c-infer generate --model DIR (--prompt TEXT ... | --prompts FILE) [--raw] [--out FILE] [options]",
        [E] = "s1c-infer eval  --model DIR --benchmark FILE --format aime|math|gpqa --out DIR [options]",
        [S] = "s1c-infer sweep --model DIR --benchmark FILE --format F --out DIR (--budgets LIST | --ignores LIST) "
              "[--resume] [options]"};
    fprintf(fp, "usage: %s\noptions:\n", head[cmd]);
    for (int i = 0; i < O_COUNT; i++) {
        if (!(defs[i].cmds & cmd) || !defs[i].help) continue;
        const char *sp = strstr(defs[i].help, "  ");
        int arg_len = (int)(sp - defs[i].help);
        char left[64];
        snprintf(left, sizeof left, "--%s%s%.*s", defs[i].name, arg_len ? " " : "", arg_len, defs[i].help);
        fprintf(fp, "  %-22s %s\n", left, sp + 2);
    }
}

void s1c_infer_usage(FILE *fp) {
    fprintf(fp, "usage:\n"
                "  s1c-infer --selftest                grader regression table\n"
                "  s1c-infer grade --format F ...      grade {gold, prediction} JSONL lines, no model\n"
                "  s1c-infer regrade --samples FILE [--out DIR]   re-grade saved generations, rewrite the summary\n"
                "  s1c-infer generate --model DIR (--prompt TEXT ... | --prompts FILE) [options]\n"
                "  s1c-infer eval  --model DIR --benchmark FILE --format aime|math|gpqa --out DIR [options]\n"
                "  s1c-infer sweep --model DIR --benchmark FILE --format F --out DIR (--budgets LIST | --ignores LIST)\n"
                "`s1c-infer COMMAND --help` lists the options of a command.\n");
}

static int parse_int(const char *flag, const char *v, long lo, long hi, int *out) {
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end != '\0' || x < lo || x > hi) {
        fprintf(stderr, "s1c-infer: --%s '%s': expected an integer in [%ld, %ld]\n", flag, v ? v : "", lo, hi);
        return 0;
    }
    *out = (int)x;
    return 1;
}

static int parse_float(const char *flag, const char *v, double lo, double hi, float *out) {
    char *end = NULL;
    double x = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end != '\0' || !(x >= lo && x <= hi)) {
        fprintf(stderr, "s1c-infer: --%s '%s': expected a number in [%g, %g]\n", flag, v ? v : "", lo, hi);
        return 0;
    }
    *out = (float)x;
    return 1;
}

static int parse_list(const char *flag, const char *v, int *out, int cap) {
    int n = 0;
    char *copy = s1c_xstrdup(v ? v : "");
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        if (n == cap) {
            fprintf(stderr, "s1c-infer: --%s: at most %d values\n", flag, cap);
            free(copy);
            return -1;
        }
        if (!parse_int(flag, tok, 0, 100000000, &out[n])) {
            free(copy);
            return -1;
        }
        n++;
    }
    free(copy);
    if (n == 0) fprintf(stderr, "s1c-infer: --%s: empty list\n", flag);
    return n;
}

void s1c_infer_cli_add_prompt(s1c_infer_cli *c, const char *p) {
    if (c->n_prompts == c->cap_prompts) {
        c->cap_prompts = c->cap_prompts ? 2 * c->cap_prompts : 16;
        c->prompts = s1c_xrealloc(c->prompts, (size_t)c->cap_prompts * sizeof *c->prompts);
    }
    c->prompts[c->n_prompts++] = p;
}

// One option with its value; 0 on a bad value (message printed).
static int apply(s1c_infer_cli *c, opt_id id, const char *v) {
    s1c_eval_opts *o = &c->o;
    const char *a = defs[id].name;
    switch (id) {
    case O_QUIET: o->quiet = 1; return 1;
    case O_RAW: c->raw = 1; return 1;
    case O_MODEL: o->model_dir = v; return 1;
    case O_TOKENIZER: o->tokenizer_dir = v; return 1;
    case O_DEVICE: o->device = v; return 1;
    case O_WEIGHTS_DTYPE: o->weights_dtype = v; return 1;
    case O_MATMUL_PRECISION:
        if (strcmp(v, "bf16") && strcmp(v, "exact")) {
            fprintf(stderr, "--matmul-precision %s: expected bf16 or exact\n", v);
            return 0;
        }
        o->matmul_precision = v;
        return 1;
    case O_TP: return parse_int(a, v, 1, 1024, &o->tp);
    case O_BENCHMARK: c->benchmark = v; return 1;
    case O_FORMAT: c->format = v; return 1;
    case O_OUT: c->out = v; return 1;
    case O_PROMPTS: c->prompts_file = v; return 1;
    case O_PROMPT: s1c_infer_cli_add_prompt(c, v); return 1;
    case O_MAX_THINKING:
        if (!strcmp(v, "auto")) {
            o->max_thinking_auto = 1;
            return 1;
        }
        if (v[0] == '-') {
            fprintf(stderr, "s1c-infer: --max-thinking %s: a budget must be >= 0 (omit the flag for no cap; 0 "
                            "answers at once)\n", v);
            return 0;
        }
        return parse_int(a, v, 0, 100000000, &o->max_thinking);
    case O_MIN_THINKING: return parse_int(a, v, 0, 100000000, &o->min_thinking);
    case O_IGNORE: return parse_int(a, v, 0, 1000000, &o->ignore);
    case O_WAIT: o->wait = v; return 1;
    case O_THINK_END: o->think_end = v; return 1;
    case O_ANSWER_PREFIX: o->answer_prefix = v; return 1;
    case O_STOP:
        if (o->n_stop_strings == 8) {
            fprintf(stderr, "s1c-infer: at most 8 --stop strings\n");
            return 0;
        }
        o->stop_strings[o->n_stop_strings++] = v;
        return 1;
    case O_TEMPERATURE: return parse_float(a, v, 0, 100, &o->sampling.temperature);
    case O_TOP_P: return parse_float(a, v, 0, 1, &o->sampling.top_p);
    case O_TOP_K: return parse_int(a, v, 0, 100000000, &o->sampling.top_k);
    case O_N: return parse_int(a, v, 1, 1024, &o->n);
    case O_SEED: {
        char *end = NULL;
        unsigned long long s = strtoull(v, &end, 10);
        if (end == v || *end || v[0] == '-') {
            fprintf(stderr, "s1c-infer: --seed '%s': expected a non-negative integer\n", v);
            return 0;
        }
        o->seed = s;
        return 1;
    }
    case O_CONTROL:
        if (!strcmp(v, "token")) o->control = S1C_CONTROL_TOKEN;
        else if (!strcmp(v, "step")) o->control = S1C_CONTROL_STEP;
        else if (!strcmp(v, "class")) o->control = S1C_CONTROL_CLASS;
        else if (!strcmp(v, "rejection")) o->control = S1C_CONTROL_REJECTION;
        else if (!strcmp(v, "none")) o->control = S1C_CONTROL_NONE;
        else {
            fprintf(stderr, "s1c-infer: --control '%s': expected token, step, class, rejection or none\n", v);
            return 0;
        }
        return 1;
    case O_CONTROL_BUDGET: return parse_int(a, v, 0, 100000000, &o->control_budget);
    case O_CLASS:
        if (strcmp(v, "short") && strcmp(v, "long")) {
            fprintf(stderr, "s1c-infer: --class '%s': expected short or long\n", v);
            return 0;
        }
        o->class_long = !strcmp(v, "long");
        return 1;
    case O_STEP_DELIM: o->step_delim = v; return 1;
    case O_REJECTION_TRIES: return parse_int(a, v, 1, 100000, &o->rejection_tries);
    case O_MAX_ANSWER: return parse_int(a, v, 1, 100000000, &o->max_answer);
    case O_MAX_NEW: return parse_int(a, v, 1, 100000000, &o->max_new);
    case O_LIMIT: return parse_int(a, v, 0, 100000000, &o->limit);
    case O_MAX_BATCH: return parse_int(a, v, 1, 1024, &o->engine.max_batch);
    case O_KV_BLOCKS: return parse_int(a, v, 1, 100000000, &o->engine.kv_blocks);
    case O_STEP_TOKENS: return parse_int(a, v, 1, 100000000, &o->engine.step_tokens);
    case O_BLOCK_SIZE: return parse_int(a, v, 1, 4096, &o->engine.block_size);
    case O_MAX_CONTEXT: return parse_int(a, v, 2, 100000000, &o->engine.max_context);
    case O_BUDGETS: return (c->n_budgets = parse_list(a, v, c->budgets, S1C_MAX_SWEEP)) > 0;
    case O_IGNORES: return (c->n_ignores = parse_list(a, v, c->ignores, S1C_MAX_SWEEP)) > 0;
    case O_RESUME: c->resume = 1; return 1;
    case O_OUTPUT_FORMAT:
        if (strcmp(v, "s1c") && strcmp(v, "lm-eval")) {
            fprintf(stderr, "s1c-infer: --output-format '%s': expected s1c or lm-eval\n", v);
            return 0;
        }
        o->lm_eval_output = !strcmp(v, "lm-eval");
        return 1;
    case O_PROGRESS: return parse_int(a, v, 0, 1000000, &o->progress_every);
    case O_SYSTEM: o->system = v; return 1;
    case O_THINK_STOP:
        if (strcmp(v, "first") && strcmp(v, "full")) {
            fprintf(stderr, "s1c-infer: --think-stop '%s': expected first or full\n", v);
            return 0;
        }
        o->think_stop_full = !strcmp(v, "full");
        return 1;
    case O_EOS_IN_THINKING:
        if (strcmp(v, "delimiter") && strcmp(v, "forced")) {
            fprintf(stderr, "s1c-infer: --eos-in-thinking '%s': expected delimiter or forced\n", v);
            return 0;
        }
        o->eos_forced_end = !strcmp(v, "forced");
        return 1;
    case O_MIN_TOKENS: return parse_int(a, v, 0, 1000, &o->min_tokens);
    case O_THINK_NEWLINE:
        if (strcmp(v, "model") && strcmp(v, "prompt")) {
            fprintf(stderr, "s1c-infer: --think-newline '%s': expected model or prompt\n", v);
            return 0;
        }
        o->model_writes_newline = !strcmp(v, "model");
        return 1;
    case O_TEMPLATE:
        if (!strstr(v, "{question}")) {
            fprintf(stderr, "s1c-infer: --template '%s': must contain {question}\n", v);
            return 0;
        }
        o->template_text = v;
        return 1;
    default: return 0;
    }
}

int s1c_infer_cli_parse(int argc, char **argv, s1c_infer_cli *c) {
    const char *cmd = argv[1];
    c->cmd = !strcmp(cmd, "generate") ? S1C_CMD_GENERATE : !strcmp(cmd, "eval") ? S1C_CMD_EVAL : S1C_CMD_SWEEP;
    s1c_eval_opts_default(&c->o);
    struct option lo[O_COUNT + 1];
    for (int i = 0; i < O_COUNT; i++)
        lo[i] = (struct option){defs[i].name, defs[i].has_arg ? required_argument : no_argument, NULL, 256 + i};
    lo[O_COUNT] = (struct option){0, 0, 0, 0};
    opterr = 0;
    optind = 2;
    for (;;) {
        int r = getopt_long(argc, argv, ":h", lo, NULL);
        if (r == -1) break;
        const char *arg = argv[optind - 1];
        if (r == 'h') r = 256 + O_HELP;
        if (r == '?') {
            fprintf(stderr, "s1c-infer %s: unknown option '%s' (see s1c-infer %s --help)\n", cmd, arg, cmd);
            return 2;
        }
        if (r == ':') {
            fprintf(stderr, "s1c-infer %s: %s needs a value\n", cmd, arg);
            return 2;
        }
        opt_id id = (opt_id)(r - 256);
        if (!(defs[id].cmds & c->cmd)) {
            char which[64];
            cmds_text(defs[id].cmds, which, sizeof which);
            fprintf(stderr, "s1c-infer %s: --%s is an option of %s, not of %s\n", cmd, defs[id].name, which, cmd);
            return 2;
        }
        if (id == O_HELP) {
            usage_cmd(stdout, c->cmd);
            return 1;
        }
        if (!apply(c, id, optarg)) return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "s1c-infer %s: unexpected argument '%s'\n", cmd, argv[optind]);
        return 2;
    }
    if (c->o.max_thinking >= 0 && c->o.min_thinking > c->o.max_thinking) {
        fprintf(stderr, "s1c-infer: --min-thinking %d exceeds --max-thinking %d\n", c->o.min_thinking, c->o.max_thinking);
        return 2;
    }
    if (c->n_budgets && c->n_ignores) {
        fprintf(stderr, "s1c-infer sweep: --budgets and --ignores together: a sweep varies one of them (run two "
                        "sweeps)\n");
        return 2;
    }
    return 0;
}
