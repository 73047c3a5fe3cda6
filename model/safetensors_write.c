// safetensors_write.c — the safetensors writer, one tensor at a time.
//
// Everything a file's header holds (names, dtypes, shapes, offsets) follows from the shapes, so
// the files of a directory, which tensors each holds and their headers are fixed before any
// data is seen; the data then streams through a small conversion buffer. A caller exporting a
// large model hands over one tensor (or one unit of tensors) at a time and never holds them all.
// s1c_st_write and s1c_st_write_dir are this writer fed from an array.
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"

typedef struct {
    char *name;
    int ndim;
    int64_t shape[S1C_ST_MAX_DIMS];
    size_t numel, nbytes;  // nbytes as stored (out dtype)
} plan_entry;

typedef struct {
    char *path, *tmp;  // final name, temporary name written until finish
    char *header;      // JSON text, padded on write to a multiple of 8 bytes
    int first, last;   // entries [first, last)
    FILE *fp;          // open while its tensors arrive
    int created, done; // temporary exists; written, flushed and synced
} plan_file;

struct s1c_st_stream {
    s1c_st_dtype out;
    int n, next;  // entries, next one expected by put
    plan_entry *e;
    int n_files, cur;  // cur: the file receiving data (-1 none yet)
    plan_file *files;
    char *index_path, *index_text;  // sharded directory only
    char *stale;                    // removed after success: the other layout's single file or index
};

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = s1c_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void stream_free(s1c_st_stream *s) {
    for (int i = 0; i < s->n; i++) free(s->e[i].name);
    for (int k = 0; k < s->n_files; k++) {
        free(s->files[k].path);
        free(s->files[k].tmp);
        free(s->files[k].header);
    }
    free(s->e);
    free(s->files);
    free(s->index_path);
    free(s->index_text);
    free(s->stale);
    free(s);
}

void s1c_st_stream_abort(s1c_st_stream *s) {
    if (!s) return;
    for (int k = 0; k < s->n_files; k++) {
        plan_file *f = &s->files[k];
        if (f->fp) fclose(f->fp);
        if (f->created) unlink(f->tmp);
    }
    stream_free(s);
}

// Copies names and shapes; refuses what the format cannot hold, naming `where` and the tensor.
static s1c_status plan_entries(s1c_st_stream *s, const char *where, const s1c_st_entry *entries, int n) {
    if (n < 0) return s1c_err("%s: %d tensors", where, n);
    if (s1c_st_dtype_size(s->out) == 0) return s1c_err("%s: output dtype %d is not a safetensors dtype", where, (int)s->out);
    s->e = s1c_xcalloc(n ? (size_t)n : 1, sizeof(plan_entry));
    s->n = n;
    for (int i = 0; i < n; i++) {
        const s1c_st_entry *in = &entries[i];
        plan_entry *pe = &s->e[i];
        pe->name = s1c_xstrdup(in->name);
        if (in->ndim < 0 || in->ndim > S1C_ST_MAX_DIMS)
            return s1c_err("%s: tensor '%s': %d dimensions", where, in->name, in->ndim);
        pe->ndim = in->ndim;
        pe->numel = 1;
        for (int d = 0; d < in->ndim; d++) {
            if (in->shape[d] < 0) return s1c_err("%s: tensor '%s': shape[%d] = %lld", where, in->name, d, (long long)in->shape[d]);
            pe->shape[d] = in->shape[d];
            pe->numel *= (size_t)in->shape[d];
        }
        pe->nbytes = pe->numel * s1c_st_dtype_size(s->out);
    }
    return S1C_OK;
}

// The header of file f: "__metadata__" first, then the tensors in order with consecutive offsets.
static s1c_status plan_header(s1c_st_stream *s, plan_file *f, const char *metadata_json) {
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_Parse(metadata_json ? metadata_json : "{\"format\":\"pt\"}");
    if (!cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        cJSON_Delete(root);
        return s1c_err("%s: metadata is not a JSON object", f->path);
    }
    cJSON_AddItemToObject(root, "__metadata__", meta);
    size_t off = 0;
    for (int i = f->first; i < f->last; i++) {
        const plan_entry *e = &s->e[i];
        if (cJSON_GetObjectItemCaseSensitive(root, e->name)) {
            cJSON_Delete(root);
            return s1c_err("%s: tensor '%s' given twice", f->path, e->name);
        }
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "dtype", s1c_st_dtype_name(s->out));
        cJSON *sh = cJSON_AddArrayToObject(t, "shape");
        for (int d = 0; d < e->ndim; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e->shape[d]));
        cJSON *of = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + e->nbytes)));
        off += e->nbytes;
        cJSON_AddItemToObject(root, e->name, t);
    }
    f->header = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return S1C_OK;
}

static s1c_status stream_single(const char *path, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                                const char *metadata_json, s1c_st_stream **out) {
    *out = NULL;
    s1c_st_stream *s = s1c_xcalloc(1, sizeof(*s));
    s->out = out_dtype;
    s->cur = -1;
    s->files = s1c_xcalloc(1, sizeof(plan_file));
    s->n_files = 1;
    s->files[0] = (plan_file){.path = s1c_xstrdup(path), .tmp = s1c_tmp_name(path), .first = 0, .last = n};
    s1c_status st = plan_entries(s, path, entries, n);
    if (st == S1C_OK) st = plan_header(s, &s->files[0], metadata_json);
    if (st != S1C_OK) {
        stream_free(s);
        return st;
    }
    *out = s;
    return S1C_OK;
}

s1c_status s1c_st_stream_open(const char *dir, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                              size_t max_shard_bytes, s1c_st_stream **out) {
    *out = NULL;
    S1C_TRY(s1c_mkdirs(dir));
    char *single = path_join(dir, "model.safetensors"), *index = path_join(dir, "model.safetensors.index.json");
    s1c_st_stream *s = s1c_xcalloc(1, sizeof(*s));
    s->out = out_dtype;
    s->cur = -1;
    s1c_status st = plan_entries(s, dir, entries, n);
    size_t total = 0;
    for (int i = 0; i < s->n && st == S1C_OK; i++) total += s->e[i].nbytes;
    if (st == S1C_OK && (max_shard_bytes == 0 || total <= max_shard_bytes)) {
        stream_free(s);
        st = stream_single(single, entries, n, out_dtype, NULL, &s);
        if (st == S1C_OK) s->stale = index;  // a stale index would take precedence over the new file
        else free(index);
        free(single);
        if (st == S1C_OK) *out = s;
        return st;
    }
    if (st != S1C_OK) {
        stream_free(s);
        free(single);
        free(index);
        return st;
    }
    // Shard boundaries: greedy in tensor order; a tensor larger than the limit gets its own shard.
    int *shard_of = s1c_xmalloc(sizeof(int) * (size_t)n);
    size_t cur = 0;
    for (int i = 0; i < n; i++) {
        if (s->n_files == 0 || (cur > 0 && cur + s->e[i].nbytes > max_shard_bytes)) {
            s->n_files++;
            cur = 0;
        }
        cur += s->e[i].nbytes;
        shard_of[i] = s->n_files - 1;
    }
    s->files = s1c_xcalloc((size_t)s->n_files, sizeof(plan_file));
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    cJSON_AddNumberToObject(meta, "total_size", (double)total);
    cJSON *wm = cJSON_AddObjectToObject(root, "weight_map");
    char fname[64];
    for (int k = 0, first = 0; k < s->n_files && st == S1C_OK; k++) {
        int last = first;
        while (last < n && shard_of[last] == k) last++;
        snprintf(fname, sizeof(fname), "model-%05d-of-%05d.safetensors", k + 1, s->n_files);
        plan_file *f = &s->files[k];
        f->path = path_join(dir, fname);
        f->tmp = s1c_tmp_name(f->path);
        f->first = first;
        f->last = last;
        st = plan_header(s, f, NULL);
        for (int i = first; i < last; i++) cJSON_AddStringToObject(wm, s->e[i].name, fname);
        first = last;
    }
    s->index_text = cJSON_Print(root);
    cJSON_Delete(root);
    free(shard_of);
    s->index_path = index;
    s->stale = single;
    if (st != S1C_OK) {
        stream_free(s);
        return st;
    }
    *out = s;
    return S1C_OK;
}

int s1c_st_stream_next(const s1c_st_stream *s) { return s->next; }

static s1c_status file_start(plan_file *f) {
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) return s1c_err("%s: cannot create %s: %s", f->path, f->tmp, strerror(errno));
    f->created = 1;
    size_t hlen = strlen(f->header), padded = (hlen + 7) & ~(size_t)7;  // data section 8-byte aligned
    unsigned char len8[8];
    for (int k = 0; k < 8; k++) len8[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    if (fwrite(len8, 1, 8, f->fp) != 8 || fwrite(f->header, 1, hlen, f->fp) != hlen)
        return s1c_err("%s: write error: %s", f->path, strerror(errno));
    for (size_t k = hlen; k < padded; k++)
        if (fputc(' ', f->fp) == EOF) return s1c_err("%s: write error: %s", f->path, strerror(errno));
    return S1C_OK;
}

// Flushes, syncs and closes a complete file; it keeps its temporary name until finish.
static s1c_status file_end(plan_file *f) {
    s1c_status st = S1C_OK;
    if (fflush(f->fp) != 0 || ferror(f->fp)) st = s1c_err("%s: write error: %s", f->path, strerror(errno));
    if (st == S1C_OK && fsync(fileno(f->fp)) != 0) st = s1c_err("%s: fsync failed: %s", f->path, strerror(errno));
    if (fclose(f->fp) != 0 && st == S1C_OK) st = s1c_err("%s: close failed: %s", f->path, strerror(errno));
    f->fp = NULL;
    if (st == S1C_OK) f->done = 1;
    return st;
}

static s1c_status write_data(FILE *fp, const char *path, const plan_entry *e, const void *data, s1c_st_dtype src,
                             s1c_st_dtype out) {
    const size_t n = e->numel, osz = s1c_st_dtype_size(out);
    if (src == out) {
        if (n && fwrite(data, osz, n, fp) != n) return s1c_err("%s: write error: %s", path, strerror(errno));
        return S1C_OK;
    }
    if (src != S1C_ST_F32 || (out != S1C_ST_BF16 && out != S1C_ST_F16))
        return s1c_err("%s: tensor '%s': cannot store %s data as %s", path, e->name, s1c_st_dtype_name(src),
                       s1c_st_dtype_name(out));
    const float *x = data;
    unsigned char buf[8192];
    const size_t chunk = sizeof(buf) / 2;
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;
        for (size_t k = 0; k < m; k++) {
            uint16_t h = out == S1C_ST_BF16 ? s1c_f32_to_bf16(x[i + k]) : s1c_f32_to_f16(x[i + k]);
            buf[2 * k] = (unsigned char)(h & 0xff);
            buf[2 * k + 1] = (unsigned char)(h >> 8);
        }
        if (fwrite(buf, 2, m, fp) != m) return s1c_err("%s: write error: %s", path, strerror(errno));
    }
    return S1C_OK;
}

s1c_status s1c_st_stream_put(s1c_st_stream *s, const void *data, s1c_st_dtype src_dtype) {
    if (s->next >= s->n)
        return s1c_err("%s: all %d tensors were already written", s->files[s->n_files - 1].path, s->n);
    int k = s->cur < 0 ? 0 : s->cur;
    while (s->next >= s->files[k].last) k++;  // files never end before their first tensor
    plan_file *f = &s->files[k];
    s->cur = k;
    if (!f->created) S1C_TRY(file_start(f));
    S1C_TRY(write_data(f->fp, f->path, &s->e[s->next], data, src_dtype, s->out));
    s->next++;
    if (s->next == f->last) S1C_TRY(file_end(f));
    return S1C_OK;
}

s1c_status s1c_st_stream_finish(s1c_st_stream *s) {
    s1c_status st = S1C_OK;
    if (s->next != s->n)
        st = s1c_err("%s: only %d of %d tensors were written", s->index_path ? s->index_path : s->files[0].path,
                     s->next, s->n);
    // A file without tensors (an empty model) still gets its header.
    for (int k = 0; k < s->n_files && st == S1C_OK; k++)
        if (!s->files[k].done) {
            st = file_start(&s->files[k]);
            if (st == S1C_OK) st = file_end(&s->files[k]);
        }
    for (int k = 0; k < s->n_files && st == S1C_OK; k++) {
        plan_file *f = &s->files[k];
        if (rename(f->tmp, f->path) != 0) st = s1c_err("%s: cannot rename %s into place: %s", f->path, f->tmp, strerror(errno));
        else f->created = 0;
    }
    if (st == S1C_OK && s->index_path) {
        s1c_atomic_file af;
        st = s1c_atomic_open(&af, s->index_path);
        if (st == S1C_OK) {
            if (fputs(s->index_text, af.fp) == EOF || fputc('\n', af.fp) == EOF) {
                st = s1c_err("%s: write error: %s", s->index_path, strerror(errno));
                s1c_atomic_abort(&af);
            } else {
                st = s1c_atomic_commit(&af);
            }
        }
    }
    if (st == S1C_OK && s->stale) unlink(s->stale);
    s1c_st_stream_abort(s);  // removes whatever temporaries a failure left
    return st;
}

// Feeds an array of entries through a stream.
static s1c_status put_all(s1c_st_stream *s, const s1c_st_entry *entries, int n) {
    s1c_status st = S1C_OK;
    for (int i = 0; i < n && st == S1C_OK; i++) st = s1c_st_stream_put(s, entries[i].data, entries[i].src_dtype);
    if (st != S1C_OK) {
        s1c_st_stream_abort(s);
        return st;
    }
    return s1c_st_stream_finish(s);
}

s1c_status s1c_st_write(const char *path, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                        const char *metadata_json) {
    s1c_st_stream *s;
    S1C_TRY(stream_single(path, entries, n, out_dtype, metadata_json, &s));
    return put_all(s, entries, n);
}

s1c_status s1c_st_write_dir(const char *dir, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                            size_t max_shard_bytes) {
    s1c_st_stream *s;
    S1C_TRY(s1c_st_stream_open(dir, entries, n, out_dtype, max_shard_bytes, &s));
    return put_all(s, entries, n);
}
