#include "checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "finite.h"
#include "rundir.h"
#include "s1c_file.h"

#define MAGIC "S1CSHRD1"
static const char *const ARRAY_NAMES[3] = {"master weights", "AdamW m", "AdamW v"};
#define VERSION 2u  // 2: run id, per-unit CRC-32C and a header CRC

static void step_dir(char *dir, size_t cap, const char *out_dir, long step) {
    snprintf(dir, cap, "%s/checkpoints/step-%08ld", out_dir, step);
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

// Every rank learns whether all ranks succeeded; the failing rank's message stays local.
static s1c_status agree(s1c_comm *c, s1c_status st, const char *what) {
    int32_t bad = st != S1C_OK;
    if (c->all_reduce(c, &bad, 1, S1C_COMM_I32, S1C_RED_MAX) != S1C_OK) return S1C_ERR;
    if (bad && st == S1C_OK) return s1c_err("%s failed on another rank", what);
    return st;
}

// Header: magic, {version, world, rank, n_units} (u32), step (i64), run id (u64), per unit
// {numel, padded, shard, crc} (u64; crc: CRC-32C of the unit's master|m|v slices), then the
// CRC-32C of all the header bytes before it (u32). The unit table is written with zero CRCs,
// the data after it, and the table rewritten in place once the CRCs are known.
static size_t header_bytes(int nu) { return 8 + 16 + 8 + 8 + (size_t)nu * 32 + 4; }

static void put_header(unsigned char *h, int world, int rank, int nu, long step, uint64_t run_id,
                       const s1c_fsdp *f, const uint32_t *crc) {
    uint32_t w[4] = {VERSION, (uint32_t)world, (uint32_t)rank, (uint32_t)nu};
    int64_t st64 = step;
    memcpy(h, MAGIC, 8);
    memcpy(h + 8, w, 16);
    memcpy(h + 24, &st64, 8);
    memcpy(h + 32, &run_id, 8);
    for (int u = 0; u < nu; u++) {
        const s1c_fsdp_unit *x = s1c_fsdp_unit_at((s1c_fsdp *)f, u);
        uint64_t g[4] = {x->g.numel, x->g.padded, x->g.shard, crc[u]};
        memcpy(h + 40 + (size_t)u * 32, g, 32);
    }
    const size_t n = header_bytes(nu) - 4;
    const uint32_t hc = s1c_crc32c(0, h, n);
    memcpy(h + n, &hc, 4);
}

static s1c_status write_rank_file(s1c_fsdp *f, const char *path, int world, int rank, long step, uint64_t run_id) {
    s1c_atomic_file af;
    S1C_TRY(s1c_atomic_open(&af, path));
    const int nu = s1c_fsdp_n_units(f);
    uint32_t *crc = s1c_xcalloc((size_t)nu, sizeof(uint32_t));
    unsigned char *hdr = s1c_xmalloc(header_bytes(nu));
    put_header(hdr, world, rank, nu, step, run_id, f, crc);
    int ok = fwrite(hdr, header_bytes(nu), 1, af.fp) == 1;
    float *host = NULL;
    size_t cap = 0;
    s1c_status st = S1C_OK;
    for (int u = 0; ok && st == S1C_OK && u < nu; u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        if (x->g.shard > cap) {
            cap = x->g.shard;
            host = s1c_xrealloc(host, cap * sizeof(float));
        }
        float *arrs[3] = {x->master, x->m, x->v};
        for (int a = 0; ok && a < 3; a++) {
            s1c_fsdp_copy_d2h(f, host, arrs[a], x->g.shard);
            // the last line of defence of "never save a non-finite state" (the trainer stops first)
            const size_t bad = s1c_first_nonfinite(host, x->g.shard);
            if (bad < x->g.shard) {
                char where[256];
                s1c_describe_element(s1c_fsdp_layout(f), u, (size_t)rank * x->g.shard + bad, where, sizeof where);
                st = s1c_err("%s: refusing to checkpoint non-finite state: unit %d %s: %s is %g", path, u,
                             ARRAY_NAMES[a], where, (double)host[bad]);
                break;
            }
            crc[u] = s1c_crc32c(crc[u], host, x->g.shard * sizeof(float));
            ok = fwrite(host, sizeof(float), x->g.shard, af.fp) == x->g.shard;
        }
    }
    free(host);
    if (st == S1C_OK && ok) {  // the table again, with the CRCs
        put_header(hdr, world, rank, nu, step, run_id, f, crc);
        ok = fseek(af.fp, 0, SEEK_SET) == 0 && fwrite(hdr, header_bytes(nu), 1, af.fp) == 1;
    }
    free(hdr);
    free(crc);
    if (st != S1C_OK || !ok) {
        if (st == S1C_OK) st = s1c_err("%s: write failed: %s", path, strerror(errno));
        s1c_atomic_abort(&af);
        return st;
    }
    return s1c_atomic_commit(&af);
}

static s1c_status write_meta(const char *path, const s1c_ckpt_meta *m, const s1c_fsdp *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "format", "s1c-train-checkpoint-v1");
    cJSON_AddNumberToObject(o, "step", (double)m->step);
    cJSON_AddNumberToObject(o, "total_steps", (double)m->total_steps);
    cJSON_AddNumberToObject(o, "epoch", m->epoch);
    cJSON_AddNumberToObject(o, "samples_seen", (double)m->samples_seen);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
    cJSON *rng = cJSON_AddObjectToObject(o, "rng");
    cJSON_AddStringToObject(rng, "sampler", "splitmix64 Fisher-Yates per epoch");
    cJSON_AddStringToObject(rng, "seed", seed);
    cJSON_AddNumberToObject(rng, "epoch", m->epoch);
    cJSON_AddNumberToObject(o, "loss", m->loss);
    cJSON_AddNumberToObject(o, "world_size", m->world);
    char rid[17];
    s1c_run_id_str(m->run_id, rid);
    cJSON_AddStringToObject(o, "run_id", rid);
    cJSON *units = cJSON_AddArrayToObject(o, "unit_numel");
    const s1c_qwen2_layout *lay = s1c_fsdp_layout(f);
    for (int u = 0; u < lay->n_units; u++) cJSON_AddItemToArray(units, cJSON_CreateNumber((double)lay->units[u].numel));
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    s1c_atomic_file af;
    s1c_status st = s1c_atomic_open(&af, path);
    if (st == S1C_OK) {
        fputs(txt, af.fp);
        fputc('\n', af.fp);
        st = s1c_atomic_commit(&af);
    }
    free(txt);
    return st;
}

static s1c_status write_text(const char *path, const char *text) {
    s1c_atomic_file af;
    S1C_TRY(s1c_atomic_open(&af, path));
    fputs(text, af.fp);
    return s1c_atomic_commit(&af);
}

static int parse_step_name(const char *name, long *step) {
    if (strncmp(name, "step-", 5) != 0) return 0;
    char *end;
    long v = strtol(name + 5, &end, 10);
    if (end == name + 5 || *end || v < 0) return 0;
    *step = v;
    return 1;
}

// Removes a checkpoint directory (its known files only, then the directory).
static void remove_ckpt(const char *dir) {
    DIR *dh = opendir(dir);
    if (!dh) return;
    struct dirent *e;
    char p[4200];
    while ((e = readdir(dh))) {
        if (e->d_name[0] == '.') continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        unlink(p);
    }
    closedir(dh);
    rmdir(dir);
}

// The run id in DIR/meta.json (0 when missing or unreadable).
static uint64_t dir_run_id(const char *dir) {
    char path[4600], *txt = NULL;
    snprintf(path, sizeof path, "%s/meta.json", dir);
    if (access(path, F_OK) != 0 || s1c_read_file(path, &txt, NULL) != S1C_OK) return 0;
    cJSON *o = cJSON_Parse(txt);
    free(txt);
    cJSON *r = o ? cJSON_GetObjectItem(o, "run_id") : NULL;
    const uint64_t id = cJSON_IsString(r) ? s1c_run_id_parse(r->valuestring) : 0;
    cJSON_Delete(o);
    return id;
}

// Complete checkpoints of run_id under out_dir (any run when 0) into steps[cap]; returns how many.
static int list_complete(const char *out_dir, uint64_t run_id, long *steps, int cap, long *other_newest) {
    char root[4200];
    snprintf(root, sizeof root, "%s/checkpoints", out_dir);
    if (other_newest) *other_newest = -1;
    DIR *dh = opendir(root);
    if (!dh) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        long s;
        char marker[4400], d[4400];
        if (snprintf(marker, sizeof marker, "%s/%s/COMPLETE", root, e->d_name) >= (int)sizeof marker) continue;
        if (!parse_step_name(e->d_name, &s) || !exists(marker)) continue;
        if (snprintf(d, sizeof d, "%s/%s", root, e->d_name) >= (int)sizeof d) continue;
        if (run_id && dir_run_id(d) != run_id) {
            if (other_newest && s > *other_newest) *other_newest = s;
            continue;
        }
        if (n < cap) steps[n++] = s;
    }
    closedir(dh);
    return n;
}

// Keeps the just-written checkpoint and the keep_last - 1 newest others of the same run. Every
// saved checkpoint holds finite weights (s1c_ckpt_save refuses others), so the newest finite one
// always survives.
static void prune(const char *out_dir, int keep_last, uint64_t run_id, long just_written) {
    enum { CAP = 65536 };
    long *steps = s1c_xmalloc(CAP * sizeof(long));
    const int n = list_complete(out_dir, run_id, steps, CAP, NULL);
    for (int i = 0; i < n; i++) {
        if (steps[i] == just_written) continue;
        int newer = 1;  // the just-written one counts as kept
        for (int j = 0; j < n; j++) newer += steps[j] != just_written && steps[j] > steps[i];
        if (newer >= keep_last) {
            char d[4200];
            step_dir(d, sizeof d, out_dir, steps[i]);
            remove_ckpt(d);
        }
    }
    free(steps);
}

s1c_status s1c_ckpt_save(s1c_fsdp *f, s1c_comm *c, const char *out_dir, const s1c_ckpt_meta *meta, int keep_last) {
    char dir[4096], path[4200];
    step_dir(dir, sizeof dir, out_dir, meta->step);
    s1c_status st = S1C_OK;
    if (c->rank == 0) {
        st = s1c_mkdirs(dir);
        // a marker left by an earlier save of this step must not vouch for the files being replaced
        snprintf(path, sizeof path, "%s/COMPLETE", dir);
        if (st == S1C_OK && exists(path) && unlink(path) != 0) st = s1c_err("%s: cannot remove: %s", path, strerror(errno));
    }
    S1C_TRY(agree(c, st, "creating the checkpoint directory"));
    snprintf(path, sizeof path, "%s/rank-%05d.bin", dir, c->rank);
    st = write_rank_file(f, path, c->size, c->rank, meta->step, meta->run_id);
    S1C_TRY(agree(c, st, "writing the checkpoint shards"));
    if (c->rank == 0) {
        snprintf(path, sizeof path, "%s/meta.json", dir);
        st = write_meta(path, meta, f);
        if (st == S1C_OK) {
            snprintf(path, sizeof path, "%s/COMPLETE", dir);
            st = write_text(path, "complete\n");
        }
        if (st == S1C_OK && keep_last > 0) prune(out_dir, keep_last, meta->run_id, meta->step);
    }
    return agree(c, st, "writing the checkpoint metadata");
}

s1c_status s1c_ckpt_find_latest(const char *out_dir, uint64_t run_id, char *dir, long *step, long *other_step) {
    enum { CAP = 65536 };
    long *steps = s1c_xmalloc(CAP * sizeof(long));
    const int n = list_complete(out_dir, run_id, steps, CAP, other_step);
    *step = -1;
    for (int i = 0; i < n; i++)
        if (steps[i] > *step) *step = steps[i];
    free(steps);
    if (*step >= 0) step_dir(dir, 4096, out_dir, *step);
    return S1C_OK;
}

typedef struct {
    FILE *fp;
    uint32_t world, rank, n_units;
    int64_t step;
    uint64_t run_id;
    uint64_t (*geom)[4];  // numel, padded, shard, crc per unit
    long data_off;        // file offset of unit 0's data
} shard_file;

// Reads and checks a shard's header: its own CRC, then every field against what the checkpoint
// and the model say, each check written so that no product or sum can wrap around.
static s1c_status open_shard(const char *dir, int q, int ow, const s1c_ckpt_meta *meta, s1c_fsdp *f, shard_file *sf) {
    char path[4200];
    snprintf(path, sizeof path, "%s/rank-%05d.bin", dir, q);
    memset(sf, 0, sizeof *sf);
    sf->fp = fopen(path, "rb");
    if (!sf->fp) return s1c_err("%s: cannot open: %s", path, strerror(errno));
    const int nu = s1c_fsdp_n_units(f);
    unsigned char fixed[40];
    if (fread(fixed, 1, 40, sf->fp) != 40 || memcmp(fixed, MAGIC, 8) != 0)
        return s1c_err("%s: not an s1c checkpoint shard (bad header)", path);
    uint32_t w[4];
    memcpy(w, fixed + 8, 16);
    if (w[0] != VERSION)
        return s1c_err("%s: shard format version %u, expected %u (checkpoints of older builds carry no checksums: "
                       "export them with that build)", path, w[0], VERSION);
    if (w[3] != (uint32_t)nu) return s1c_err("%s: header says %u units; the model has %d", path, w[3], nu);
    const size_t hb = header_bytes(nu);
    unsigned char *h = s1c_xmalloc(hb);
    memcpy(h, fixed, 40);
    if (fread(h + 40, 1, hb - 40, sf->fp) != hb - 40) {
        free(h);
        return s1c_err("%s: truncated unit table", path);
    }
    uint32_t hc;
    memcpy(&hc, h + hb - 4, 4);
    if (s1c_crc32c(0, h, hb - 4) != hc) {
        free(h);
        return s1c_err("%s: header fails its checksum (the file is damaged)", path);
    }
    sf->world = w[1];
    sf->rank = w[2];
    sf->n_units = w[3];
    memcpy(&sf->step, h + 24, 8);
    memcpy(&sf->run_id, h + 32, 8);
    sf->geom = s1c_xcalloc((size_t)nu, sizeof *sf->geom);
    memcpy(sf->geom, h + 40, (size_t)nu * 32);
    free(h);
    sf->data_off = (long)hb;
    if (sf->rank != (uint32_t)q || sf->world != (uint32_t)ow || sf->step != meta->step)
        return s1c_err("%s: header says rank %u of %u, step %lld; meta.json says rank %d of %d, step %ld", path,
                       sf->rank, sf->world, (long long)sf->step, q, ow, meta->step);
    if (sf->run_id != meta->run_id)
        return s1c_err("%s: written by run %016llx; meta.json names run %016llx (shards of two runs mixed)", path,
                       (unsigned long long)sf->run_id, (unsigned long long)meta->run_id);
    uint64_t data = 0;
    for (int u = 0; u < nu; u++) {
        const uint64_t numel = sf->geom[u][0], padded = sf->geom[u][1], shard = sf->geom[u][2];
        const size_t want = s1c_fsdp_unit_at(f, u)->g.numel;
        // padded == shard * ow, tested by division (the product could wrap); padding below ow
        if (numel != want || shard == 0 || padded % (uint64_t)ow != 0 || padded / (uint64_t)ow != shard ||
            padded < numel || padded - numel >= (uint64_t)ow)
            return s1c_err("%s: unit %d: numel %llu, padded %llu, shard %llu do not fit the model's %zu parameters "
                           "over %d ranks", path, u, (unsigned long long)numel, (unsigned long long)padded,
                           (unsigned long long)shard, want, ow);
        data += 3 * shard * sizeof(float);  // shard <= numel < 2^40: no wrap
    }
    struct stat sb;
    if (fstat(fileno(sf->fp), &sb) != 0 || (uint64_t)sb.st_size != (uint64_t)hb + data)
        return s1c_err("%s: %lld bytes; the header describes %llu (truncated or extended)", path,
                       (long long)sb.st_size, (unsigned long long)((uint64_t)hb + data));
    return S1C_OK;
}

// Reads all of shard q's data and compares each unit's CRC-32C with its header's.
static s1c_status verify_shard(const char *dir, int q, shard_file *sf) {
    if (fseek(sf->fp, sf->data_off, SEEK_SET) != 0) return s1c_err("%s/rank-%05d.bin: cannot seek", dir, q);
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = s1c_xmalloc(CHUNK);
    s1c_status st = S1C_OK;
    for (uint32_t u = 0; u < sf->n_units && st == S1C_OK; u++) {
        uint64_t left = 3 * sf->geom[u][2] * sizeof(float);
        uint32_t crc = 0;
        while (left) {
            const size_t n = left < CHUNK ? (size_t)left : CHUNK;
            if (fread(buf, 1, n, sf->fp) != n) {
                st = s1c_err("%s/rank-%05d.bin: truncated data of unit %u", dir, q, u);
                break;
            }
            crc = s1c_crc32c(crc, buf, n);
            left -= n;
        }
        if (st == S1C_OK && crc != (uint32_t)sf->geom[u][3])
            st = s1c_err("%s/rank-%05d.bin: unit %u fails its checksum (CRC-32C %08x, header %08x): the file is "
                         "damaged; resume from another checkpoint with --resume-from", dir, q, u, crc,
                         (unsigned)sf->geom[u][3]);
    }
    free(buf);
    return st;
}

static void close_shard(shard_file *sf) {
    if (sf->fp) fclose(sf->fp);
    free(sf->geom);
    memset(sf, 0, sizeof *sf);
}

// Reads this rank's new slice of unit u (array a: 0 master, 1 m, 2 v) from the old shards.
static s1c_status read_slice(shard_file *old, int old_world, int u, int a, size_t lo, size_t hi, float *dst,
                             const char *dir) {
    const uint64_t numel = old[0].geom[u][0], S = old[0].geom[u][2];
    for (size_t p = lo; p < hi;) {
        if (p >= numel) {  // padding
            dst[p - lo] = 0.0f;
            p++;
            continue;
        }
        const int q = (int)(p / S);
        if (q >= old_world) return s1c_err("%s: unit %d element %zu outside the saved shards", dir, u, p);
        size_t q_end = (size_t)(q + 1) * S;
        size_t end = hi < q_end ? hi : q_end;
        if (end > numel) end = numel;
        long off = old[q].data_off;
        for (int v = 0; v < u; v++) off += (long)(3 * old[q].geom[v][2] * sizeof(float));
        off += (long)(((size_t)a * S + (p - (size_t)q * S)) * sizeof(float));
        if (fseek(old[q].fp, off, SEEK_SET) != 0 || fread(dst + (p - lo), sizeof(float), end - p, old[q].fp) != end - p)
            return s1c_err("%s/rank-%05d.bin: truncated data of unit %d", dir, q, u);
        p = end;
    }
    return S1C_OK;
}

static s1c_status read_meta(const char *dir, s1c_ckpt_meta *m) {
    char path[4200], *txt = NULL;
    snprintf(path, sizeof path, "%s/meta.json", dir);
    S1C_TRY(s1c_read_file(path, &txt, NULL));
    cJSON *o = cJSON_Parse(txt);
    free(txt);
    if (!o) return s1c_err("%s: not valid JSON", path);
    const char *need[] = {"step", "total_steps", "epoch", "samples_seen", "loss", "world_size"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!cJSON_IsNumber(cJSON_GetObjectItem(o, need[i]))) {
            cJSON_Delete(o);
            return s1c_err("%s: missing number \"%s\"", path, need[i]);
        }
    cJSON *rng = cJSON_GetObjectItem(o, "rng");
    cJSON *seed = rng ? cJSON_GetObjectItem(rng, "seed") : NULL;
    if (!cJSON_IsString(seed)) {
        cJSON_Delete(o);
        return s1c_err("%s: missing rng.seed", path);
    }
    m->step = (long)cJSON_GetObjectItem(o, "step")->valuedouble;
    m->total_steps = (long)cJSON_GetObjectItem(o, "total_steps")->valuedouble;
    m->epoch = (int)cJSON_GetObjectItem(o, "epoch")->valuedouble;
    m->samples_seen = (long)cJSON_GetObjectItem(o, "samples_seen")->valuedouble;
    m->loss = cJSON_GetObjectItem(o, "loss")->valuedouble;
    m->world = (int)cJSON_GetObjectItem(o, "world_size")->valuedouble;
    m->seed = strtoull(seed->valuestring, NULL, 10);
    cJSON *rid = cJSON_GetObjectItem(o, "run_id");
    m->run_id = cJSON_IsString(rid) ? s1c_run_id_parse(rid->valuestring) : 0;
    if (cJSON_IsString(rid) && !m->run_id) {
        cJSON_Delete(o);
        return s1c_err("%s: run_id \"%s\" is not 16 hex digits", path, rid->valuestring);
    }
    cJSON_Delete(o);
    return S1C_OK;
}

static s1c_status load_local(s1c_fsdp *f, s1c_comm *c, const char *dir, s1c_ckpt_meta *meta) {
    // no early return before the agreement below: every rank must reach it
    s1c_status st = read_meta(dir, meta);
    if (st == S1C_OK && (meta->world < 1 || meta->world > 1 << 20))
        st = s1c_err("%s/meta.json: world_size %d", dir, meta->world);
    const int ow = st == S1C_OK ? meta->world : 0, nu = s1c_fsdp_n_units(f);
    shard_file *old = s1c_xcalloc((size_t)(ow ? ow : 1), sizeof *old);
    for (int q = 0; q < ow && st == S1C_OK; q++) st = open_shard(dir, q, ow, meta, f, &old[q]);
    // each saved shard's data is checked whole by one rank (q mod world), before anyone uses it
    for (int q = c->rank; q < ow && st == S1C_OK; q += c->size) st = verify_shard(dir, q, &old[q]);
    st = agree(c, st, "checking the checkpoint's checksums");
    float *host = NULL;
    size_t cap = 0;
    for (int u = 0; st == S1C_OK && u < nu; u++) {
        s1c_fsdp_unit *x = s1c_fsdp_unit_at(f, u);
        if (x->g.shard > cap) {
            cap = x->g.shard;
            host = s1c_xrealloc(host, cap * sizeof(float));
        }
        const size_t lo = (size_t)c->rank * x->g.shard, hi = lo + x->g.shard;
        float *arrs[3] = {x->master, x->m, x->v};
        for (int a = 0; a < 3 && st == S1C_OK; a++) {
            st = read_slice(old, ow, u, a, lo, hi, host, dir);
            const size_t bad = st == S1C_OK ? s1c_first_nonfinite(host, x->g.shard) : x->g.shard;
            if (bad < x->g.shard) {
                char where[256];
                s1c_describe_element(s1c_fsdp_layout(f), u, lo + bad, where, sizeof where);
                st = s1c_err("%s: unit %d %s: %s is %g: non-finite state is refused", dir, u, ARRAY_NAMES[a], where,
                             (double)host[bad]);
            }
            if (st == S1C_OK) s1c_fsdp_copy_h2d(f, arrs[a], host, x->g.shard);
        }
    }
    free(host);
    for (int q = 0; q < ow; q++) close_shard(&old[q]);
    free(old);
    return st;
}

s1c_status s1c_ckpt_load(s1c_fsdp *f, s1c_comm *c, const char *dir, s1c_ckpt_meta *meta) {
    s1c_status st = load_local(f, c, dir, meta);
    if (st != S1C_OK) s1c_err_prefix("resuming from %s", dir);
    S1C_TRY(agree(c, st, "loading the checkpoint"));
    s1c_fsdp_sync_act(f);
    s1c_fsdp_zero_grad(f);
    return S1C_OK;
}
