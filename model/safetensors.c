// safetensors.c — validating mmap reader for the safetensors format (the writer: safetensors_write.c).
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s1c_json_check.h"

static const struct {
    const char *name;
    size_t size;
} dtype_info[S1C_ST_N_DTYPES] = {
    [S1C_ST_F32] = {"F32", 4}, [S1C_ST_F16] = {"F16", 2}, [S1C_ST_BF16] = {"BF16", 2},
    [S1C_ST_F64] = {"F64", 8}, [S1C_ST_I64] = {"I64", 8}, [S1C_ST_I32] = {"I32", 4},
    [S1C_ST_I16] = {"I16", 2}, [S1C_ST_I8] = {"I8", 1},   [S1C_ST_U8] = {"U8", 1},
    [S1C_ST_BOOL] = {"BOOL", 1},
};

const char *s1c_st_dtype_name(s1c_st_dtype dt) {
    return (dt >= 0 && dt < S1C_ST_N_DTYPES) ? dtype_info[dt].name : "?";
}
size_t s1c_st_dtype_size(s1c_st_dtype dt) { return (dt >= 0 && dt < S1C_ST_N_DTYPES) ? dtype_info[dt].size : 0; }

static int dtype_parse(const char *s, s1c_st_dtype *dt) {
    for (int i = 0; i < S1C_ST_N_DTYPES; i++)
        if (strcmp(s, dtype_info[i].name) == 0) {
            *dt = (s1c_st_dtype)i;
            return 1;
        }
    return 0;
}

// ---- scalar conversions -------------------------------------------------------------------------
static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float s1c_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t s1c_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // NaN stays a quiet NaN
    u += 0x7fffu + ((u >> 16) & 1);  // round to nearest, ties to even
    return (uint16_t)(u >> 16);
}

float s1c_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, ex = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (ex == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13));  // inf / NaN
    if (ex == 0) {                                                       // zero / subnormal: man * 2^-24
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    return bits_f32(sign | ((ex + 112) << 23) | (man << 13));
}

uint16_t s1c_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00;   // NaN
    if (a >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: inf
    if (a < 0x38800000u) {                       // below 2^-14: subnormal half (or zero)
        float v = bits_f32(a) * 16777216.0f;     // in units of 2^-24, exact
        return sign | (uint16_t)lrintf(v);       // lrintf rounds half to even
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1);
    return sign | (uint16_t)((r >> 13) - (112u << 10));
}

cJSON *s1c_json_parse_all(const char *text, size_t len) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) return NULL;
    // cJSON stops after the first complete value; anything but whitespace (or the NUL padding some
    // writers add) after it means the text is not one JSON document.
    for (const char *p = end; p < text + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\0') {
            cJSON_Delete(j);
            return NULL;
        }
    return j;
}

// ---- reader -------------------------------------------------------------------------------------
static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp(((const s1c_st_tensor *)a)->name, ((const s1c_st_tensor *)b)->name);
}

typedef struct {
    size_t begin, end;
    int idx;
} span;
static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

// A JSON number that is a non-negative integer below 2^53 (exact in a double).
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0.0) || d > 9007199254740992.0 || floor(d) != d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static void free_tensors(s1c_st_file *f) {
    for (int i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    f->tensors = NULL;
    f->n_tensors = 0;
}

void s1c_st_close(s1c_st_file *f) {
    if (!f) return;
    free_tensors(f);
    s1c_mmap_close(&f->map);
    free(f->path);
    f->path = NULL;
}

// Parses one header entry into t (name already set); data pointers are filled by the caller.
static s1c_status parse_entry(const char *path, const cJSON *e, s1c_st_tensor *t, uint64_t *b, uint64_t *en) {
    if (!cJSON_IsObject(e)) return s1c_err("%s: tensor '%s': header entry is not a JSON object", path, t->name);
    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(jd)) return s1c_err("%s: tensor '%s': missing or non-string \"dtype\"", path, t->name);
    if (!dtype_parse(jd->valuestring, &t->dtype))
        return s1c_err("%s: tensor '%s': unsupported dtype \"%s\" (expected one of F32, F16, BF16, F64, I64, I32, "
                       "I16, I8, U8, BOOL)",
                       path, t->name, jd->valuestring);
    if (!cJSON_IsArray(js)) return s1c_err("%s: tensor '%s': missing or non-array \"shape\"", path, t->name);
    int nd = cJSON_GetArraySize(js);
    if (nd > S1C_ST_MAX_DIMS) return s1c_err("%s: tensor '%s': %d dimensions (at most %d)", path, t->name, nd, S1C_ST_MAX_DIMS);
    t->ndim = nd;
    uint64_t numel = 1;
    for (int d = 0; d < nd; d++) {
        uint64_t v;
        if (!json_uint(cJSON_GetArrayItem(js, d), &v) || v > ((uint64_t)1 << 40))
            return s1c_err("%s: tensor '%s': shape[%d] is not a valid dimension", path, t->name, d);
        t->shape[d] = (int64_t)v;
        if (v != 0 && numel > ((uint64_t)1 << 50) / v)
            return s1c_err("%s: tensor '%s': shape too large", path, t->name);
        numel *= v;
    }
    t->numel = (size_t)numel;
    t->nbytes = (size_t)numel * dtype_info[t->dtype].size;
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || !json_uint(cJSON_GetArrayItem(jo, 0), b) ||
        !json_uint(cJSON_GetArrayItem(jo, 1), en))
        return s1c_err("%s: tensor '%s': \"data_offsets\" must be two non-negative integers", path, t->name);
    if (*en < *b) return s1c_err("%s: tensor '%s': data_offsets [%llu, %llu] end before begin", path, t->name,
                                 (unsigned long long)*b, (unsigned long long)*en);
    if (*en - *b != t->nbytes)
        return s1c_err("%s: tensor '%s': data_offsets [%llu, %llu] span %llu bytes but shape x %s needs %zu", path,
                       t->name, (unsigned long long)*b, (unsigned long long)*en, (unsigned long long)(*en - *b),
                       dtype_info[t->dtype].name, t->nbytes);
    return S1C_OK;
}

static s1c_status parse_header(s1c_st_file *f, const char *hdr, size_t hlen, size_t data_start) {
    const char *path = f->path;
    cJSON *root = s1c_json_parse_all(hdr, hlen);
    if (!root) return s1c_err("%s: header is not valid JSON (%zu bytes at offset 8)", path, hlen);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return s1c_err("%s: header is not a JSON object", path);
    }
    int n = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        if (strcmp(e->string, "__metadata__") != 0) n++;
    f->tensors = s1c_xcalloc(n ? (size_t)n : 1, sizeof(s1c_st_tensor));
    span *sp = s1c_xcalloc(n ? (size_t)n : 1, sizeof(span));
    size_t data_size = f->map.size - data_start;
    s1c_status st = S1C_OK;
    int i = 0;
    for (const cJSON *e = root->child; e && st == S1C_OK; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!cJSON_IsObject(e)) st = s1c_err("%s: \"__metadata__\" is not a JSON object", path);
            continue;
        }
        s1c_st_tensor *t = &f->tensors[i];
        t->name = s1c_xstrdup(e->string);
        f->n_tensors = ++i;
        uint64_t b = 0, en = 0;
        st = parse_entry(path, e, t, &b, &en);
        if (st != S1C_OK) break;
        if (en > data_size)
            st = s1c_err("%s: tensor '%s': data_offsets [%llu, %llu] past the end of the data section (%zu bytes; "
                         "file truncated?)",
                         path, t->name, (unsigned long long)b, (unsigned long long)en, data_size);
        sp[i - 1] = (span){(size_t)b, (size_t)en, i - 1};
        t->data = f->map.data + data_start + b;
    }
    cJSON_Delete(root);
    if (st == S1C_OK) {
        // The format requires the tensors to tile the data section exactly: no overlap, no holes.
        qsort(sp, (size_t)n, sizeof(span), cmp_span);
        size_t at = 0;
        for (int k = 0; k < n && st == S1C_OK; k++) {
            if (sp[k].begin < at) {
                const char *prev = k > 0 ? f->tensors[sp[k - 1].idx].name : "?";
                st = s1c_err("%s: tensor '%s': data_offsets [%zu, %zu] overlap tensor '%s' (which ends at %zu)", path,
                             f->tensors[sp[k].idx].name, sp[k].begin, sp[k].end, prev, at);
            } else if (sp[k].begin > at) {
                st = s1c_err("%s: tensor '%s': data_offsets begin at %zu but the previous tensor ends at %zu (hole in "
                             "the data section)",
                             path, f->tensors[sp[k].idx].name, sp[k].begin, at);
            }
            at = sp[k].end;
        }
        if (st == S1C_OK && at != data_size)
            st = s1c_err("%s: data section is %zu bytes but the tensors cover %zu (trailing bytes or truncated)", path,
                         data_size, at);
    }
    free(sp);
    if (st == S1C_OK) {
        qsort(f->tensors, (size_t)f->n_tensors, sizeof(s1c_st_tensor), cmp_tensor_name);
        for (int k = 1; k < f->n_tensors && st == S1C_OK; k++)
            if (strcmp(f->tensors[k - 1].name, f->tensors[k].name) == 0)
                st = s1c_err("%s: tensor '%s' appears twice in the header", path, f->tensors[k].name);
    }
    return st;
}

s1c_status s1c_st_open(const char *path, s1c_st_file *f) {
    memset(f, 0, sizeof(*f));
    f->path = s1c_xstrdup(path);
    s1c_status st = s1c_mmap_open(path, &f->map);
    if (st != S1C_OK) {
        free(f->path);
        f->path = NULL;
        return st;
    }
    if (f->map.size < 8) {
        st = s1c_err("%s: %zu bytes, too short for a safetensors header length (8 bytes)", path, f->map.size);
    } else {
        uint64_t hlen = 0;
        for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | f->map.data[k];
        if (hlen > f->map.size - 8)
            st = s1c_err("%s: header length %llu goes past the end of the file (%zu bytes)", path,
                         (unsigned long long)hlen, f->map.size);
        else if (hlen < 2)
            st = s1c_err("%s: header length %llu is too short for a JSON object", path, (unsigned long long)hlen);
        else
            st = parse_header(f, (const char *)f->map.data + 8, (size_t)hlen, 8 + (size_t)hlen);
    }
    if (st != S1C_OK) s1c_st_close(f);
    return st;
}

const s1c_st_tensor *s1c_st_find(const s1c_st_file *f, const char *name) {
    s1c_st_tensor key = {.name = (char *)name};
    return bsearch(&key, f->tensors, (size_t)f->n_tensors, sizeof(s1c_st_tensor), cmp_tensor_name);
}

s1c_status s1c_st_to_f32(const s1c_st_file *f, const s1c_st_tensor *t, float *dst, size_t numel) {
    if (numel != t->numel)
        return s1c_err("%s: tensor '%s': %zu elements, expected %zu", f->path, t->name, t->numel, numel);
    return s1c_st_to_f32_range(f, t, 0, numel, dst);
}

s1c_status s1c_st_to_f32_range(const s1c_st_file *f, const s1c_st_tensor *t, size_t first, size_t numel, float *dst) {
    if (first > t->numel || numel > t->numel - first)
        return s1c_err("%s: tensor '%s': elements [%zu, %zu) outside its %zu", f->path, t->name, first, first + numel,
                       t->numel);
    const unsigned char *p = t->data + first * dtype_info[t->dtype].size;
    switch (t->dtype) {
    case S1C_ST_F32: memcpy(dst, p, numel * 4); break;
    case S1C_ST_BF16:
        for (size_t i = 0; i < numel; i++) dst[i] = s1c_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case S1C_ST_F16:
        for (size_t i = 0; i < numel; i++) dst[i] = s1c_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    default:
        return s1c_err("%s: tensor '%s': dtype %s cannot be loaded as floating point weights (expected F32, F16 or BF16)",
                       f->path, t->name, dtype_info[t->dtype].name);
    }
    return S1C_OK;
}

// ---- sets ---------------------------------------------------------------------------------------
static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = s1c_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void s1c_st_set_close(s1c_st_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) s1c_st_close(&s->files[i]);
    free(s->files);
    free(s->dir);
    free(s->index_path);
    memset(s, 0, sizeof(*s));
}

typedef struct {
    const char *name;
    int file;
} named_in;

static int cmp_named_in(const void *a, const void *b) {
    const named_in *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->file - y->file;
}

// A tensor held by two shards: which one the set returns would depend on the order the files
// were opened in, not on the index, so it is refused.
static s1c_status unique_across_shards(const s1c_st_set *s, const char *ip) {
    size_t n = 0;
    for (int k = 0; k < s->n_files; k++) n += (size_t)s->files[k].n_tensors;
    named_in *all = s1c_xmalloc((n ? n : 1) * sizeof *all);
    size_t at = 0;
    for (int k = 0; k < s->n_files; k++)
        for (int t = 0; t < s->files[k].n_tensors; t++) all[at++] = (named_in){s->files[k].tensors[t].name, k};
    qsort(all, n, sizeof *all, cmp_named_in);
    s1c_status st = S1C_OK;
    for (size_t i = 1; i < n && st == S1C_OK; i++)
        if (strcmp(all[i].name, all[i - 1].name) == 0)
            st = s1c_err("%s: tensor '%s' is held by two shards, %s and %s (one tensor, one shard)", ip, all[i].name,
                         s->files[all[i - 1].file].path, s->files[all[i].file].path);
    free(all);
    return st;
}

static s1c_status open_index(s1c_st_set *s) {
    const char *ip = s->index_path;
    char *text = NULL;
    size_t len = 0;
    S1C_TRY(s1c_read_file(ip, &text, &len));
    cJSON *root = s1c_json_parse_all(text, len);
    // a tensor named twice in weight_map: refused, not one of its two shards picked
    s1c_status st = root ? s1c_json_check(ip, text, len, 1) : S1C_OK;
    free(text);
    if (!root) return s1c_err("%s: not valid JSON", ip);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm)) st = s1c_err("%s: missing or non-object \"weight_map\"", ip);
    // Distinct shard names in first-seen order; each is opened once.
    char **names = NULL;
    int n_names = 0;
    for (const cJSON *e = wm ? wm->child : NULL; e && st == S1C_OK; e = e->next) {
        if (!cJSON_IsString(e)) {
            st = s1c_err("%s: weight_map[\"%s\"] is not a string", ip, e->string);
            break;
        }
        const char *fn = e->valuestring;
        if (fn[0] == '\0' || strchr(fn, '/') || strcmp(fn, "..") == 0 || strcmp(fn, ".") == 0) {
            st = s1c_err("%s: weight_map[\"%s\"] = \"%s\" is not a file name in the checkpoint directory", ip,
                         e->string, fn);
            break;
        }
        int found = 0;
        for (int k = 0; k < n_names && !found; k++) found = strcmp(names[k], fn) == 0;
        if (!found) {
            names = s1c_xrealloc(names, sizeof(char *) * (size_t)(n_names + 1));
            names[n_names++] = s1c_xstrdup(fn);
        }
    }
    if (st == S1C_OK && n_names == 0) st = s1c_err("%s: weight_map lists no tensors", ip);
    if (st == S1C_OK) {
        s->files = s1c_xcalloc((size_t)n_names, sizeof(s1c_st_file));
        for (int k = 0; k < n_names && st == S1C_OK; k++) {
            char *p = path_join(s->dir, names[k]);
            st = s1c_st_open(p, &s->files[k]);
            free(p);
            if (st == S1C_OK) s->n_files = k + 1;
            else s1c_err_prefix("%s", ip);
        }
    }
    if (st == S1C_OK) st = unique_across_shards(s, ip);
    for (const cJSON *e = wm ? wm->child : NULL; e && st == S1C_OK; e = e->next) {
        const s1c_st_file *f = NULL;
        for (int k = 0; k < s->n_files && !f; k++)
            if (strcmp(strrchr(s->files[k].path, '/') + 1, e->valuestring) == 0) f = &s->files[k];
        if (!f || !s1c_st_find(f, e->string))
            st = s1c_err("%s: tensor '%s' is listed in %s but that file does not hold it", ip, e->string, e->valuestring);
    }
    for (int k = 0; k < n_names; k++) free(names[k]);
    free(names);
    cJSON_Delete(root);
    return st;
}

s1c_status s1c_st_set_open(const char *dir, s1c_st_set *s) {
    memset(s, 0, sizeof(*s));
    s->dir = s1c_xstrdup(dir);
    char *ip = path_join(dir, "model.safetensors.index.json");
    s1c_status st;
    if (access(ip, F_OK) == 0) {
        s->index_path = ip;
        st = open_index(s);
    } else {
        free(ip);
        char *p = path_join(dir, "model.safetensors");
        s->files = s1c_xcalloc(1, sizeof(s1c_st_file));
        st = s1c_st_open(p, &s->files[0]);
        if (st == S1C_OK) s->n_files = 1;
        free(p);
    }
    if (st != S1C_OK) s1c_st_set_close(s);
    return st;
}

const s1c_st_tensor *s1c_st_set_find(const s1c_st_set *s, const char *name, const s1c_st_file **file) {
    for (int k = 0; k < s->n_files; k++) {
        const s1c_st_tensor *t = s1c_st_find(&s->files[k], name);
        if (t) {
            if (file) *file = &s->files[k];
            return t;
        }
    }
    return NULL;
}
