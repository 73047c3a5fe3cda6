#include "packed_write.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_zstd_filter.h"
#include "packed_h5.h"
#include "packed_seal.h"
#include "s1c_file.h"

#define FLUSH_TOKENS ((size_t)S1C_PACKED_CHUNK * 16)

struct s1c_packed_writer {
    char *path, *tmp;
    hid_t file, ids_ds, mask_ds;
    int level;
    uint32_t *ids;  // [FLUSH_TOKENS] pending tokens
    uint8_t *mask;  // [FLUSH_TOKENS]
    size_t pending;
    uint64_t written;        // tokens already in the datasets
    uint64_t *offsets;       // [n_samples]
    uint32_t *lengths;       // [n_samples]
    size_t n_samples, cap_samples;
};

// An extendible, chunked, zstd-compressed 1-D dataset of `type`, current size n.
static hid_t make_dataset(hid_t file, const char *name, hid_t type, hsize_t n, hsize_t chunk, int level) {
    hsize_t dims = n, maxdims = H5S_UNLIMITED;
    hid_t space = H5Screate_simple(1, &dims, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    unsigned cd = (unsigned)level;
    hid_t ds = -1;
    // No object timestamps: the same input then gives a byte-identical file.
    if (space >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
        H5Pset_filter(dcpl, (H5Z_filter_t)S1C_H5Z_FILTER_ZSTD, H5Z_FLAG_MANDATORY, 1, &cd) >= 0)
        ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hid_t err = ds < 0 ? H5Eget_current_stack() : -1;  // the closes below clear the stack
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (err >= 0) H5Eset_current_stack(err);
    return ds;
}

// Appends n elements to a 1-D extendible dataset that currently holds `at`.
static herr_t append(hid_t ds, hid_t memtype, const void *data, hsize_t at, hsize_t n) {
    if (n == 0) return 0;
    hsize_t size = at + n;
    if (H5Dset_extent(ds, &size) < 0) return -1;
    hid_t fspace = H5Dget_space(ds);
    hid_t mspace = H5Screate_simple(1, &n, NULL);
    herr_t rc = -1;
    if (fspace >= 0 && mspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &at, NULL, &n, NULL) >= 0)
        rc = H5Dwrite(ds, memtype, mspace, fspace, H5P_DEFAULT, data);
    // every API call clears the error stack: keep the write's (its cause names errno) over the closes
    hid_t err = rc < 0 ? H5Eget_current_stack() : -1;
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    if (err >= 0) H5Eset_current_stack(err);
    return rc;
}

s1c_packed_writer *s1c_packed_writer_create(const char *path, int level) {
    if (s1c_h5_zstd_register() != S1C_OK) return NULL;
    s1c_packed_writer *w = s1c_xcalloc(1, sizeof *w);
    w->path = s1c_xstrdup(path);
    w->tmp = s1c_tmp_name(path);
    w->level = level;
    w->ids_ds = w->mask_ds = -1;
    w->file = -1;
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    // The user block holds the seal (packed_seal.h), written after the file is closed.
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0 && H5Pset_userblock(fcpl, S1C_PACKED_USERBLOCK) >= 0)
        w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    hid_t err = w->file < 0 ? H5Eget_current_stack() : -1;
    if (fcpl >= 0) H5Pclose(fcpl);
    if (err >= 0) H5Eset_current_stack(err);
    if (w->file < 0) s1c_h5_err("%s: cannot create %s", path, w->tmp);
    else {
        w->ids_ds = make_dataset(w->file, "input_ids", H5T_STD_U32LE, 0, S1C_PACKED_CHUNK, level);
        w->mask_ds = w->ids_ds < 0 ? -1 : make_dataset(w->file, "loss_mask", H5T_STD_U8LE, 0, S1C_PACKED_CHUNK, level);
        if (w->mask_ds < 0) s1c_h5_err("%s: cannot create the token datasets", path);
    }
    s1c_h5_quiet_end(&q);
    if (w->mask_ds < 0) {
        s1c_packed_writer_abort(w);
        return NULL;
    }
    w->ids = s1c_xmalloc(FLUSH_TOKENS * sizeof *w->ids);
    w->mask = s1c_xmalloc(FLUSH_TOKENS);
    return w;
}

static s1c_status flush(s1c_packed_writer *w) {
    if (w->pending == 0) return S1C_OK;
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    s1c_status st = S1C_OK;
    if (append(w->ids_ds, H5T_NATIVE_UINT32, w->ids, w->written, w->pending) < 0 ||
        append(w->mask_ds, H5T_NATIVE_UINT8, w->mask, w->written, w->pending) < 0)
        st = s1c_h5_err("%s: cannot write tokens %llu..%llu", w->path, (unsigned long long)w->written,
                        (unsigned long long)(w->written + w->pending));
    s1c_h5_quiet_end(&q);
    w->written += w->pending;
    w->pending = 0;
    return st;
}

s1c_status s1c_packed_writer_add(s1c_packed_writer *w, const int32_t *ids, const uint8_t *mask, size_t n) {
    if (n > UINT32_MAX) return s1c_err("%s: sample of %zu tokens is too long", w->path, n);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0) return s1c_err("%s: negative token id %d in sample %zu", w->path, ids[i], w->n_samples);
    if (w->n_samples == w->cap_samples) {
        w->cap_samples = w->cap_samples ? 2 * w->cap_samples : 1024;
        w->offsets = s1c_xrealloc(w->offsets, w->cap_samples * sizeof *w->offsets);
        w->lengths = s1c_xrealloc(w->lengths, w->cap_samples * sizeof *w->lengths);
    }
    w->offsets[w->n_samples] = w->written + w->pending;
    w->lengths[w->n_samples] = (uint32_t)n;
    w->n_samples++;
    size_t done = 0;
    while (done < n) {
        size_t take = FLUSH_TOKENS - w->pending < n - done ? FLUSH_TOKENS - w->pending : n - done;
        for (size_t i = 0; i < take; i++) {
            w->ids[w->pending + i] = (uint32_t)ids[done + i];
            w->mask[w->pending + i] = mask[done + i] ? 1 : 0;
        }
        w->pending += take;
        done += take;
        if (w->pending == FLUSH_TOKENS) S1C_TRY(flush(w));
    }
    return S1C_OK;
}

s1c_status s1c_packed_writer_attr_str(s1c_packed_writer *w, const char *name, const char *value) {
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) > 0 ? strlen(value) : 1);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    H5Tset_cset(type, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(w->file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    s1c_status st = S1C_OK;
    if (attr < 0 || H5Awrite(attr, type, strlen(value) > 0 ? value : "") < 0)
        st = s1c_h5_err("%s: cannot write attribute %s", w->path, name);
    if (attr >= 0) H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    s1c_h5_quiet_end(&q);
    return st;
}

s1c_status s1c_packed_writer_attr_int(s1c_packed_writer *w, const char *name, long long value) {
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(w->file, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    int64_t v = value;
    s1c_status st = S1C_OK;
    if (attr < 0 || H5Awrite(attr, H5T_NATIVE_INT64, &v) < 0)
        st = s1c_h5_err("%s: cannot write attribute %s", w->path, name);
    if (attr >= 0) H5Aclose(attr);
    H5Sclose(space);
    s1c_h5_quiet_end(&q);
    return st;
}

// Closes every HDF5 id of w; returns the first failure. discard: an error already happened and
// the file is thrown away: the closes' own failures are not reported over it.
static s1c_status close_all(s1c_packed_writer *w, int discard) {
    s1c_status st = S1C_OK;
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    // Everything pending (chunk caches, metadata) is written by one flush first, so that a full
    // disk is reported by a flush, which leaves the ids intact, rather than by a close.
    if (!discard && w->file >= 0 && H5Fflush(w->file, H5F_SCOPE_LOCAL) < 0) {
        st = s1c_h5_err("%s: cannot write the file", w->path);
        discard = 1;
    }
    if (w->ids_ds >= 0 && H5Dclose(w->ids_ds) < 0 && !discard && st == S1C_OK)
        st = s1c_h5_err("%s: cannot close /input_ids", w->path);
    if (w->mask_ds >= 0 && H5Dclose(w->mask_ds) < 0 && !discard && st == S1C_OK)
        st = s1c_h5_err("%s: cannot close /loss_mask", w->path);
    w->ids_ds = w->mask_ds = -1;
    if (w->file >= 0 && H5Fclose(w->file) < 0 && !discard && st == S1C_OK)
        st = s1c_h5_err("%s: cannot close", w->path);
    w->file = -1;
    H5Eclear2(H5E_DEFAULT);
    s1c_h5_quiet_end(&q);
    return st;
}

static void writer_free(s1c_packed_writer *w) {
    free(w->path);
    free(w->tmp);
    free(w->ids);
    free(w->mask);
    free(w->offsets);
    free(w->lengths);
    free(w);
}

s1c_status s1c_packed_writer_commit(s1c_packed_writer *w) {
    s1c_status st = flush(w);
    if (st == S1C_OK) st = s1c_packed_writer_attr_str(w, "format", "s1c-packed-v1");
    if (st == S1C_OK) {
        s1c_h5_quiet q;
        s1c_h5_quiet_begin(&q);
        hsize_t n = w->n_samples, chunk = n < S1C_PACKED_CHUNK ? (n ? n : 1) : S1C_PACKED_CHUNK;
        hid_t off = make_dataset(w->file, "offsets", H5T_STD_U64LE, 0, chunk, w->level);
        hid_t len = off < 0 ? -1 : make_dataset(w->file, "lengths", H5T_STD_U32LE, 0, chunk, w->level);
        if (len < 0 || append(off, H5T_NATIVE_UINT64, w->offsets, 0, n) < 0 ||
            append(len, H5T_NATIVE_UINT32, w->lengths, 0, n) < 0)
            st = s1c_h5_err("%s: cannot write offsets/lengths", w->path);
        if (off >= 0) H5Dclose(off);
        if (len >= 0) H5Dclose(len);
        s1c_h5_quiet_end(&q);
    }
    s1c_status cst = close_all(w, st != S1C_OK);
    if (st == S1C_OK) st = cst;
    if (st == S1C_OK) st = s1c_packed_seal(w->tmp);
    if (st == S1C_OK) st = s1c_commit_tmp(w->tmp, w->path);
    else unlink(w->tmp);
    writer_free(w);
    return st;
}

void s1c_packed_writer_abort(s1c_packed_writer *w) {
    if (!w) return;
    close_all(w, 1);
    unlink(w->tmp);
    writer_free(w);
}
