// fuzz_util.h — helpers shared by the libFuzzer harnesses: parsers that only open files get the
// input written to a per-process scratch folder under /tmp (one folder per harness process, so
// parallel fuzzers never share a file).
#ifndef S1C_FUZZ_UTIL_H
#define S1C_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// "/tmp/s1c-fuzz-<pid>", created on first use.
static inline const char *fuzz_dir(void) {
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/s1c-fuzz-%ld", (long)getpid());
        mkdir(dir, 0700);
    }
    return dir;
}

// "<fuzz_dir>/<name>" in a static buffer (valid until the next call).
static inline const char *fuzz_path(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    return path;
}

// Writes data[size] to path; aborts the process when the scratch disk is unusable (a harness
// problem, not a finding).
static inline void fuzz_write(const char *path, const void *data, size_t size) {
    FILE *fp = fopen(path, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        perror(path);
        abort();
    }
}

// A NUL-terminated copy of the input (most parsers take C strings).
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

// Oracle failures: a wrong answer from a parser is as much a finding as a crash.
#define FUZZ_CHECK(cond)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

#endif
