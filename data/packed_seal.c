// packed_seal.c — see packed_seal.h.
#include "packed_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s1c_sha256.h"

static const char SEAL_MAGIC[] = "s1c-packed-seal v1\n";

// SHA-256 of bytes [from, size) of fd.
static s1c_status hash_from(const char *path, int fd, off_t from, off_t size, char hex[65]) {
    s1c_sha256 h;
    s1c_sha256_init(&h);
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = s1c_xmalloc(CHUNK);
    for (off_t at = from; at < size;) {
        const size_t want = size - at < CHUNK ? (size_t)(size - at) : CHUNK;
        const ssize_t got = pread(fd, buf, want, at);
        if (got <= 0) {
            free(buf);
            return s1c_err("%s: read failed at byte %lld: %s", path, (long long)at, got < 0 ? strerror(errno) : "end of file");
        }
        s1c_sha256_update(&h, buf, (size_t)got);
        at += got;
    }
    free(buf);
    s1c_sha256_hex(&h, hex);
    return S1C_OK;
}

s1c_status s1c_packed_seal(const char *path) {
    int fd = open(path, O_RDWR);
    if (fd < 0) return s1c_err("%s: cannot open to seal: %s", path, strerror(errno));
    struct stat sb;
    s1c_status st = fstat(fd, &sb) == 0 ? S1C_OK : s1c_err("%s: stat: %s", path, strerror(errno));
    if (st == S1C_OK && sb.st_size < S1C_PACKED_USERBLOCK)
        st = s1c_err("%s: %lld bytes, shorter than its user block", path, (long long)sb.st_size);
    char hex[65], block[S1C_PACKED_USERBLOCK];
    if (st == S1C_OK) st = hash_from(path, fd, S1C_PACKED_USERBLOCK, sb.st_size, hex);
    if (st == S1C_OK) {
        memset(block, 0, sizeof block);
        snprintf(block, sizeof block, "%sbytes %lld\nsha256 %s\n", SEAL_MAGIC, (long long)sb.st_size, hex);
        if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block || fsync(fd) != 0)
            st = s1c_err("%s: writing the seal: %s", path, strerror(errno));
    }
    close(fd);
    return st;
}

s1c_status s1c_packed_verify(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return s1c_err("%s: cannot open: %s", path, strerror(errno));
    char block[S1C_PACKED_USERBLOCK + 1];
    const ssize_t got = pread(fd, block, S1C_PACKED_USERBLOCK, 0);
    const size_t ml = sizeof SEAL_MAGIC - 1;
    const char *env = getenv("S1C_PACKED_VERIFY");
    if (got < (ssize_t)ml || memcmp(block, SEAL_MAGIC, ml) != 0 || (env && strcmp(env, "0") == 0)) {
        // no seal (an h5py or older file), or the user asked to read it unchecked
        close(fd);
        return S1C_OK;
    }
    block[got] = '\0';
    long long bytes = -1;
    char want[65] = "";
    s1c_status st = S1C_OK;
    if (sscanf(block + ml, "bytes %lld\nsha256 %64[0-9a-f]\n", &bytes, want) != 2 || strlen(want) != 64 || bytes < 0)
        st = s1c_err("%s: the checksum block written by s1c-data pack is damaged", path);
    struct stat sb;
    if (st == S1C_OK && fstat(fd, &sb) != 0) st = s1c_err("%s: stat: %s", path, strerror(errno));
    if (st == S1C_OK && (long long)sb.st_size != bytes)
        st = s1c_err("%s: %lld bytes, but s1c-data pack wrote %lld: the file was cut short or extended after packing "
                     "(copy it again or re-run s1c-data pack; S1C_PACKED_VERIFY=0 reads a file you changed on "
                     "purpose unchecked)", path, (long long)sb.st_size, bytes);
    if (st == S1C_OK) {
        char hex[65];
        st = hash_from(path, fd, S1C_PACKED_USERBLOCK, sb.st_size, hex);
        if (st == S1C_OK && strcmp(hex, want) != 0)
            st = s1c_err("%s: contents differ from the SHA-256 recorded by s1c-data pack: the file was damaged after "
                         "packing (copy it again or re-run s1c-data pack; S1C_PACKED_VERIFY=0 reads a file you "
                         "changed on purpose unchecked)", path);
    }
    close(fd);
    return st;
}
