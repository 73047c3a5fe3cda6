// safetensors.h — a generic reader and writer for the safetensors format (Hugging Face), usable
// by model/ for weights and by train/ for checkpoints.
//
// File format: u64 little-endian header length N, N bytes of JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}
// then the data section; offsets are relative to the data section start.
//
// The reader maps the file read-only and validates everything before any tensor is used: the header
// length against the file size, the JSON, each dtype, shape and offset pair (in range, matching
// numel × dtype size, no two tensors overlapping). Tensors then point into the mapping (no copy);
// conversion to fp32 happens on request. A "set" joins a directory's single file or its shards
// listed in model.safetensors.index.json behind one lookup.
#ifndef S1C_SAFETENSORS_H
#define S1C_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "s1c_err.h"
#include "s1c_file.h"

typedef enum {
    S1C_ST_F32 = 0,
    S1C_ST_F16,
    S1C_ST_BF16,
    S1C_ST_F64,
    S1C_ST_I64,
    S1C_ST_I32,
    S1C_ST_I16,
    S1C_ST_I8,
    S1C_ST_U8,
    S1C_ST_BOOL,
    S1C_ST_N_DTYPES
} s1c_st_dtype;

#define S1C_ST_MAX_DIMS 8

// Name as written in headers ("F32", "BF16", ...) and element size in bytes.
const char *s1c_st_dtype_name(s1c_st_dtype dt);
size_t s1c_st_dtype_size(s1c_st_dtype dt);

typedef struct {
    char *name;
    s1c_st_dtype dtype;
    int ndim;
    int64_t shape[S1C_ST_MAX_DIMS];
    size_t numel;
    size_t nbytes;
    const unsigned char *data;  // into the mapping; nbytes long, no alignment guarantee
} s1c_st_tensor;

typedef struct {
    char *path;
    s1c_mmap map;
    int n_tensors;
    s1c_st_tensor *tensors;  // sorted by name (binary search in s1c_st_find)
} s1c_st_file;

// Opens and validates one file. On failure nothing stays open and the message names the file
// (and the tensor, where one is at fault).
s1c_status s1c_st_open(const char *path, s1c_st_file *f);
void s1c_st_close(s1c_st_file *f);
const s1c_st_tensor *s1c_st_find(const s1c_st_file *f, const char *name);

// dst[numel] <- tensor converted to fp32 (F32, F16, BF16 only; other dtypes are refused naming
// the file and tensor). `numel` must equal the tensor's element count.
s1c_status s1c_st_to_f32(const s1c_st_file *f, const s1c_st_tensor *t, float *dst, size_t numel);

// dst[n] <- elements [first, first + n) of the tensor (flat, row-major) as fp32: reads only that
// part of the mapping, so a rank can load just its slice.
s1c_status s1c_st_to_f32_range(const s1c_st_file *f, const s1c_st_tensor *t, size_t first, size_t n, float *dst);

// ---- a directory's tensors: model.safetensors, or the shards of model.safetensors.index.json ----
typedef struct {
    char *dir;
    int n_files;
    s1c_st_file *files;
    char *index_path;  // NULL for a single file
} s1c_st_set;

// Opens DIR/model.safetensors.index.json when it exists (every shard it names; each name in its
// weight_map must be present in that shard), else DIR/model.safetensors.
s1c_status s1c_st_set_open(const char *dir, s1c_st_set *s);
void s1c_st_set_close(s1c_st_set *s);
// Finds a tensor across the set; *file (optional) receives the file holding it.
const s1c_st_tensor *s1c_st_set_find(const s1c_st_set *s, const char *name, const s1c_st_file **file);

// ---- writer -------------------------------------------------------------------------------------
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[S1C_ST_MAX_DIMS];
    const void *data;      // host memory, src_dtype elements
    s1c_st_dtype src_dtype;  // dtype of `data`
} s1c_st_entry;

// Writes `n` tensors atomically to `path`, each stored as `out_dtype`. Conversions: identical
// dtypes are copied; F32 sources can be stored as F32, BF16 (round to nearest even) or F16.
// metadata_json: NULL or a JSON object of string values for "__metadata__" ({"format":"pt"} when NULL).
s1c_status s1c_st_write(const char *path, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                        const char *metadata_json);

// Writes the entries into DIR as one "model.safetensors" when their stored size is at most
// max_shard_bytes (0 = never shard), else as "model-0000k-of-0000n.safetensors" shards (tensors in
// order, a new shard when the next one would overflow) plus "model.safetensors.index.json"
// ({"metadata": {"total_size": bytes}, "weight_map": {name: shard}}), the layout transformers reads.
// Every file is written atomically; the index last. A stale single file or index of the other kind
// is removed so the directory never holds both.
s1c_status s1c_st_write_dir(const char *dir, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                            size_t max_shard_bytes);

// ---- streaming writer: the output of s1c_st_write_dir without holding every tensor at once ----
// open creates DIR and plans the files (which tensors each shard holds) and their headers from
// the entries' names and shapes alone (their data is not read and may be NULL); the data then
// arrives one tensor at a time, in entry order, through put. Files are written under temporary
// names; finish renames them into place, then writes the index (sharded), then removes a stale
// file of the other layout. The bytes equal those of s1c_st_write_dir for the same tensors.
typedef struct s1c_st_stream s1c_st_stream;
s1c_status s1c_st_stream_open(const char *dir, const s1c_st_entry *entries, int n, s1c_st_dtype out_dtype,
                              size_t max_shard_bytes, s1c_st_stream **out);
// Index of the next tensor put expects (n once all arrived).
int s1c_st_stream_next(const s1c_st_stream *s);
// Writes the next tensor from data (its numel elements of src_dtype; conversions as s1c_st_write).
// After a failure the stream can only be given up with s1c_st_stream_abort.
s1c_status s1c_st_stream_put(s1c_st_stream *s, const void *data, s1c_st_dtype src_dtype);
// Puts the files into place and frees s; refuses (removing the temporaries) unless every tensor was put.
s1c_status s1c_st_stream_finish(s1c_st_stream *s);
// Removes the temporaries and frees s; the final names are never touched. NULL is ignored.
void s1c_st_stream_abort(s1c_st_stream *s);

// Parses exactly one JSON document from text[len] (trailing whitespace allowed, trailing garbage
// refused, unlike plain cJSON_ParseWithLength). NULL when malformed. The result is a cJSON *.
struct cJSON;
struct cJSON *s1c_json_parse_all(const char *text, size_t len);

// Scalar conversions (exposed for tests and for writers in other layers).
float s1c_bf16_to_f32(uint16_t h);
uint16_t s1c_f32_to_bf16(float f);
float s1c_f16_to_f32(uint16_t h);
uint16_t s1c_f32_to_f16(float f);

#endif
