// cmd_args.h — small helpers for the s1c-data subcommands' option parsing (header-only).
#ifndef S1C_CMD_ARGS_H
#define S1C_CMD_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Operands left after the options (argv[optind..]) where a command takes none: a message, 1.
static inline int s1c_args_no_operands(int argc, char **argv, const char *cmd) {
    extern int optind;
    if (optind >= argc) return 0;
    fprintf(stderr, "s1c-data %s: unexpected argument '%s' (options start with --; see --help)\n", cmd, argv[optind]);
    return 1;
}

// The value of option argv[*i] (which needs one): advances *i; NULL with a message when missing.
static inline const char *s1c_arg_value(int argc, char **argv, int *i, const char *cmd) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "s1c-data %s: option %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static inline int s1c_arg_u64(const char *s, uint64_t *out, const char *cmd, const char *opt) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-') {
        fprintf(stderr, "s1c-data %s: %s expects a non-negative integer, got '%s'\n", cmd, opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static inline int s1c_arg_double(const char *s, double *out, const char *cmd, const char *opt) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno) {
        fprintf(stderr, "s1c-data %s: %s expects a number, got '%s'\n", cmd, opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

// Splits "a,b,c" into a NULL-free array of pointers into a private copy (*store, freed by caller).
static inline size_t s1c_arg_list(const char *s, char **store, const char ***items) {
    *store = strdup(s);
    size_t n = 0, cap = 4;
    const char **v = malloc(cap * sizeof *v);
    char *save = NULL;
    for (char *t = strtok_r(*store, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = t;
    }
    *items = v;
    return n;
}

#endif
