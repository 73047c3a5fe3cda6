#include "h5_zstd_filter.h"

#include <hdf5.h>
#include <pthread.h>
#include <string.h>
#include <zstd.h>

// Decompresses one chunk of unknown size by streaming into a growing buffer.
static size_t decompress_stream(const void *src, size_t n, size_t guess, void **out) {
    ZSTD_DStream *ds = ZSTD_createDStream();
    size_t cap = guess > 0 ? guess : 4 * n + 1024, got = 0;
    unsigned char *dst = H5allocate_memory(cap, 0);
    ZSTD_inBuffer in = {src, n, 0};
    size_t ret = 1;
    while (dst) {
        ZSTD_outBuffer o = {dst + got, cap - got, 0};
        ret = ZSTD_decompressStream(ds, &o, &in);
        got += o.pos;
        if (ZSTD_isError(ret)) break;
        if (in.pos == in.size && got < cap) break;  // all input consumed and output not full
        if (got == cap) {
            unsigned char *bigger = H5resize_memory(dst, cap * 2);
            if (!bigger) break;
            dst = bigger;
            cap *= 2;
        }
    }
    ZSTD_freeDStream(ds);
    if (!dst || ZSTD_isError(ret) || ret != 0) {  // ret != 0: the frame is incomplete
        if (dst) H5free_memory(dst);
        return 0;
    }
    *out = dst;
    return got;
}

// The H5Z filter function: returns the new data size (0 = failure, HDF5 reports it).
static size_t zstd_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[], size_t nbytes,
                          size_t *buf_size, void **buf) {
    void *out = NULL;
    size_t out_size;
    if (flags & H5Z_FLAG_REVERSE) {
        unsigned long long content = ZSTD_getFrameContentSize(*buf, nbytes);
        if (content == ZSTD_CONTENTSIZE_ERROR) return 0;
        if (content != ZSTD_CONTENTSIZE_UNKNOWN && content < ((size_t)1 << 40)) {
            out = H5allocate_memory(content ? (size_t)content : 1, 0);
            if (!out) return 0;
            out_size = ZSTD_decompress(out, (size_t)content, *buf, nbytes);
            if (ZSTD_isError(out_size) || out_size != content) {
                H5free_memory(out);
                // Several frames in one chunk: the first frame's size undercounts, so stream instead
                // (streaming fails on real corruption just the same).
                out = NULL;
                out_size = decompress_stream(*buf, nbytes, 2 * (size_t)content + 1024, &out);
                if (out_size == 0) return 0;
            }
        } else {
            out_size = decompress_stream(*buf, nbytes, 0, &out);
            if (out_size == 0) return 0;
        }
    } else {
        int level = cd_nelmts > 0 ? (int)cd_values[0] : ZSTD_CLEVEL_DEFAULT;
        if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) level = ZSTD_CLEVEL_DEFAULT;
        size_t bound = ZSTD_compressBound(nbytes);
        out = H5allocate_memory(bound, 0);
        if (!out) return 0;
        out_size = ZSTD_compress(out, bound, *buf, nbytes, level);
        if (ZSTD_isError(out_size)) {
            H5free_memory(out);
            return 0;
        }
    }
    H5free_memory(*buf);
    *buf = out;
    *buf_size = out_size;
    return out_size;
}

static const H5Z_class2_t zstd_class = {
    H5Z_CLASS_T_VERS, (H5Z_filter_t)S1C_H5Z_FILTER_ZSTD, 1, 1, "Zstandard compression (s1c, libzstd)", NULL, NULL,
    zstd_filter};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static herr_t reg_status = -1;
static void do_register(void) {
    // Before any other HDF5 call: no library clean-up at exit. s1c closes every id itself; after
    // a failed write (a full disk) HDF5 1.10's H5Fclose fails half-way and leaves the file id
    // valid but freed, and the exit handler then crashed in H5F__close_cb (exit 139).
    H5dont_atexit();
    reg_status = H5Zregister(&zstd_class);
}

s1c_status s1c_h5_zstd_register(void) {
    pthread_once(&once, do_register);
    if (reg_status < 0) return s1c_err("HDF5: cannot register the zstd filter (id %d)", S1C_H5Z_FILTER_ZSTD);
    return S1C_OK;
}
