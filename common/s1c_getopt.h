// s1c_getopt.h — getopt_long with s1c's messages, for the command lines (header-only).
//
//   s1c_getopt_begin();
//   const char *a, *v;
//   int r;
//   while ((r = s1c_getopt_next(argc, argv, OPTS, "s1c-data pack", &a, &v)) > 0)
//       if (!strcmp(a, "--in")) ...
//   if (r < 0) return 2;   // the message is printed
//   operands: argv[optind .. argc)
//
// GNU conventions follow: "--name value" and "--name=value", unambiguous prefixes of a name,
// options and operands in any order, "--" ends the options. -h is --help. A mistyped flag is
// reported as unknown wherever it stands (a hand-rolled loop said "needs a value" at the end).
#ifndef S1C_GETOPT_H
#define S1C_GETOPT_H

#include <getopt.h>
#include <stdio.h>

// Before the first s1c_getopt_next of a command line (resets getopt's state).
static inline void s1c_getopt_begin(void) {
    optind = 0;  // glibc: a full re-initialisation
    opterr = 0;  // the messages below instead of getopt's
}

// The next option: 1 with *name = "--NAME" (valid until the next call) and *value (NULL for a
// no_argument option); 0 at the end; -1 after printing "PROG: unknown option X (see --help)" or
// "PROG: option X needs a value" on stderr. opts: every entry's flag NULL and val 0.
static inline int s1c_getopt_next(int argc, char **argv, const struct option *opts, const char *prog,
                                  const char **name, const char **value) {
    static __thread char buf[80];
    int idx = -1;
    int c = getopt_long(argc, argv, ":h", opts, &idx);
    if (c == -1) return 0;
    *value = optarg;
    if (c == 'h') {
        *name = "--help";
        *value = NULL;
        return 1;
    }
    const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : "?";
    if (c == ':') {
        fprintf(stderr, "%s: option %s needs a value\n", prog, arg);
        return -1;
    }
    if (c != 0 || idx < 0) {
        if (optopt > 0 && optopt < 128 && optopt != 'h' && arg[0] == '-' && arg[1] != '-')
            fprintf(stderr, "%s: unknown option -%c (see --help)\n", prog, optopt);
        else
            fprintf(stderr, "%s: unknown option %s (see --help)\n", prog, arg);
        return -1;
    }
    snprintf(buf, sizeof buf, "--%s", opts[idx].name);
    *name = buf;
    return 1;
}

#endif
