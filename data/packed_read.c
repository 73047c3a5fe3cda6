// Reader of the packed training file (contract: packed.h).
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_zstd_filter.h"
#include "packed.h"
#include "packed_h5.h"
#include "packed_seal.h"

typedef struct {
    char *name, *value;
} attr_kv;

struct s1c_packed {
    char *path;
    hid_t file, ids_ds, mask_ds;
    uint64_t n_tokens;
    size_t n_samples;
    uint64_t *offsets;  // [n_samples]
    uint32_t *lengths;  // [n_samples]
    attr_kv *attrs;
    size_t n_attrs;
};

// Opens a 1-D integer dataset of `size` bytes per element; *n gets its length.
static hid_t open_ds(s1c_packed *p, const char *name, size_t size, int is_signed_ok, uint64_t *n) {
    if (H5Lexists(p->file, name, H5P_DEFAULT) <= 0) {
        s1c_h5_err("%s: dataset /%s is missing (not an s1c packed file?)", p->path, name);
        return -1;
    }
    hid_t ds = H5Dopen2(p->file, name, H5P_DEFAULT);
    if (ds < 0) {
        s1c_h5_err("%s: cannot open dataset /%s", p->path, name);
        return -1;
    }
    hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
    int ok = type >= 0 && space >= 0;
    if (ok && (H5Tget_class(type) != H5T_INTEGER || H5Tget_size(type) != size ||
               (!is_signed_ok && H5Tget_sign(type) != H5T_SGN_NONE))) {
        s1c_err("%s: dataset /%s: expected unsigned %zu-bit integers", p->path, name, size * 8);
        ok = 0;
    } else if (ok && H5Sget_simple_extent_ndims(space) != 1) {
        s1c_err("%s: dataset /%s: expected a 1-D array", p->path, name);
        ok = 0;
    } else if (ok) {
        hsize_t dims;
        H5Sget_simple_extent_dims(space, &dims, NULL);
        *n = dims;
    } else
        s1c_h5_err("%s: dataset /%s: cannot read its type", p->path, name);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (!ok) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

static int read_all(s1c_packed *p, const char *name, hid_t memtype, void *buf, size_t n) {
    if (n == 0) return 0;
    hid_t ds = H5Dopen2(p->file, name, H5P_DEFAULT);
    herr_t rc = ds < 0 ? -1 : H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (ds >= 0) H5Dclose(ds);
    if (rc < 0) s1c_h5_err("%s: dataset /%s: read failed (truncated or corrupt file?)", p->path, name);
    return rc < 0 ? -1 : 0;
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    s1c_packed *p = data;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return 0;
    hid_t type = H5Aget_type(a);
    char *value = NULL;
    H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_STRING) {
        if (H5Tis_variable_str(type) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(type));
            if (H5Aread(a, mt, &s) >= 0 && s) {
                value = s1c_xstrdup(s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        } else {
            size_t size = H5Tget_size(type);
            char *s = s1c_xcalloc(size + 1, 1);
            if (H5Aread(a, type, s) >= 0) value = s;
            else free(s);
        }
    } else if (cls == H5T_INTEGER) {
        long long v;
        if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) {
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", v);
            value = s1c_xstrdup(buf);
        }
    }
    H5Tclose(type);
    H5Aclose(a);
    if (value) {
        p->attrs = s1c_xrealloc(p->attrs, (p->n_attrs + 1) * sizeof *p->attrs);
        p->attrs[p->n_attrs++] = (attr_kv){s1c_xstrdup(name), value};
    }
    return 0;
}

s1c_packed *s1c_packed_open(const char *path) {
    if (s1c_h5_zstd_register() != S1C_OK) return NULL;
    s1c_packed *p = s1c_xcalloc(1, sizeof *p);
    p->path = s1c_xstrdup(path);
    p->ids_ds = p->mask_ds = -1;
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    int ok = 0;
    uint64_t n_mask = 0, n_off = 0, n_len = 0;
    hid_t off_ds = -1, len_ds = -1;
    // Damaged files must be refused before libhdf5 parses them (packed_seal.h).
    if (s1c_packed_verify(path) != S1C_OK) {
        p->file = -1;
        goto done;
    }
    htri_t is_h5 = H5Fis_hdf5(path);
    if (is_h5 <= 0) {
        s1c_h5_err("%s: not an HDF5 file (or unreadable)", path);
        p->file = -1;
        goto done;
    }
    p->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (p->file < 0) {
        s1c_h5_err("%s: cannot open as HDF5 (truncated or corrupt?)", path);
        goto done;
    }
    if ((p->ids_ds = open_ds(p, "input_ids", 4, 0, &p->n_tokens)) < 0) goto done;
    if ((p->mask_ds = open_ds(p, "loss_mask", 1, 0, &n_mask)) < 0) goto done;
    if ((off_ds = open_ds(p, "offsets", 8, 0, &n_off)) < 0) goto done;
    if ((len_ds = open_ds(p, "lengths", 4, 0, &n_len)) < 0) goto done;
    if (n_mask != p->n_tokens) {
        s1c_err("%s: /loss_mask has %llu elements but /input_ids has %llu", path, (unsigned long long)n_mask,
                (unsigned long long)p->n_tokens);
        goto done;
    }
    if (n_off != n_len) {
        s1c_err("%s: /offsets has %llu elements but /lengths has %llu", path, (unsigned long long)n_off,
                (unsigned long long)n_len);
        goto done;
    }
    p->n_samples = (size_t)n_off;
    p->offsets = s1c_xmalloc((p->n_samples ? p->n_samples : 1) * sizeof *p->offsets);
    p->lengths = s1c_xmalloc((p->n_samples ? p->n_samples : 1) * sizeof *p->lengths);
    if (read_all(p, "offsets", H5T_NATIVE_UINT64, p->offsets, p->n_samples) ||
        read_all(p, "lengths", H5T_NATIVE_UINT32, p->lengths, p->n_samples))
        goto done;
    for (size_t i = 0; i < p->n_samples; i++)
        if (p->offsets[i] > p->n_tokens || p->lengths[i] > p->n_tokens - p->offsets[i]) {
            s1c_err("%s: /offsets, /lengths: sample %zu spans tokens %llu..%llu past the end of /input_ids (%llu)", path, i,
                    (unsigned long long)p->offsets[i], (unsigned long long)p->offsets[i] + p->lengths[i],
                    (unsigned long long)p->n_tokens);
            goto done;
        }
    hsize_t idx = 0;
    H5Aiterate2(p->file, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, p);
    H5Eclear2(H5E_DEFAULT);
    ok = 1;
done:
    if (off_ds >= 0) H5Dclose(off_ds);
    if (len_ds >= 0) H5Dclose(len_ds);
    s1c_h5_quiet_end(&q);
    if (!ok) {
        s1c_packed_close(p);
        return NULL;
    }
    return p;
}

void s1c_packed_close(s1c_packed *p) {
    if (!p) return;
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    if (p->ids_ds >= 0) H5Dclose(p->ids_ds);
    if (p->mask_ds >= 0) H5Dclose(p->mask_ds);
    if (p->file >= 0) H5Fclose(p->file);
    s1c_h5_quiet_end(&q);
    for (size_t i = 0; i < p->n_attrs; i++) {
        free(p->attrs[i].name);
        free(p->attrs[i].value);
    }
    free(p->attrs);
    free(p->offsets);
    free(p->lengths);
    free(p->path);
    free(p);
}

size_t s1c_packed_n_samples(const s1c_packed *p) { return p->n_samples; }
size_t s1c_packed_n_tokens(const s1c_packed *p) { return (size_t)p->n_tokens; }
uint32_t s1c_packed_length(const s1c_packed *p, size_t i) { return i < p->n_samples ? p->lengths[i] : 0; }

const char *s1c_packed_attr(const s1c_packed *p, const char *name) {
    for (size_t i = 0; i < p->n_attrs; i++)
        if (!strcmp(p->attrs[i].name, name)) return p->attrs[i].value;
    return NULL;
}

static herr_t read_slab(hid_t ds, hid_t memtype, uint64_t at, uint64_t n, void *buf) {
    hsize_t start = at, count = n;
    hid_t fspace = H5Dget_space(ds), mspace = H5Screate_simple(1, &count, NULL);
    herr_t rc = -1;
    if (fspace >= 0 && mspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0)
        rc = H5Dread(ds, memtype, mspace, fspace, H5P_DEFAULT, buf);
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    return rc;
}

s1c_status s1c_packed_read(s1c_packed *p, size_t i, int32_t *ids, uint8_t *mask) {
    if (i >= p->n_samples) return s1c_err("%s: sample %zu out of range (%zu samples)", p->path, i, p->n_samples);
    uint64_t at = p->offsets[i], n = p->lengths[i];
    if (n == 0) return S1C_OK;
    s1c_h5_quiet q;
    s1c_h5_quiet_begin(&q);
    s1c_status st = S1C_OK;
    // ids is int32 storage read as uint32 (same width): values are range-checked below.
    if (read_slab(p->ids_ds, H5T_NATIVE_UINT32, at, n, ids) < 0)
        st = s1c_h5_err("%s: dataset /input_ids: cannot read sample %zu (corrupt chunk?)", p->path, i);
    else if (read_slab(p->mask_ds, H5T_NATIVE_UINT8, at, n, mask) < 0)
        st = s1c_h5_err("%s: dataset /loss_mask: cannot read sample %zu (corrupt chunk?)", p->path, i);
    s1c_h5_quiet_end(&q);
    if (st != S1C_OK) return st;
    for (uint64_t k = 0; k < n; k++) {
        if (ids[k] < 0)
            return s1c_err("%s: dataset /input_ids: sample %zu has token id %u past int32", p->path, i, (uint32_t)ids[k]);
        if (mask[k] > 1)
            return s1c_err("%s: dataset /loss_mask: sample %zu has value %u (expected 0 or 1)", p->path, i, mask[k]);
    }
    return S1C_OK;
}
