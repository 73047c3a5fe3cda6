#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "s1c_file.h"

s1c_status s1c_rundir_lock_take(const char *out_dir, s1c_rundir_lock *lk) {
    lk->fd = -1;
    S1C_TRY(s1c_mkdirs(out_dir));
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", out_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return s1c_err("%s: cannot open the output directory's lock: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        char holder[256] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        close(fd);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        if (e == EWOULDBLOCK) {
            char host[128] = "?";
            long pid = 0;
            if (sscanf(holder, "%127s %ld", host, &pid) != 2)
                return s1c_err("output.dir %s is in use by another s1c-train job (lock %s held)", out_dir, path);
            return s1c_err("output.dir %s is in use by another s1c-train job: host %s, pid %ld holds %s (one run per "
                           "output directory; wait for it or choose another output.dir)",
                           out_dir, host, pid, path);
        }
        return s1c_err("%s: cannot lock: %s (does the file system support flock?)", path, strerror(e));
    }
    char host[128] = "unknown", text[256];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    const int len = snprintf(text, sizeof text, "%s %ld\n", host, (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        const int e = errno;
        close(fd);
        return s1c_err("%s: cannot record the lock holder: %s", path, strerror(e));
    }
    lk->fd = fd;
    return S1C_OK;
}

void s1c_rundir_lock_release(s1c_rundir_lock *lk) {
    if (lk->fd >= 0) close(lk->fd);  // closing the last descriptor drops the flock
    lk->fd = -1;
}

// "NAME.tmp.DIGITS": what s1c_tmp_name makes.
static int is_orphan_tmp(const char *name) {
    const char *t = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) t = p;
    if (!t || t == name || !t[5]) return 0;
    for (const char *p = t + 5; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

static void clean_dir(const char *dir, int *n, long long *bytes) {
    DIR *dh = opendir(dir);
    if (!dh) return;
    struct dirent *e;
    char p[4400];
    while ((e = readdir(dh))) {
        if (!is_orphan_tmp(e->d_name)) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        struct stat sb;
        if (lstat(p, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (unlink(p) == 0) {
            (*n)++;
            *bytes += (long long)sb.st_size;
        }
    }
    closedir(dh);
}

s1c_status s1c_rundir_clean_tmp(const char *out_dir, int *n_out, long long *bytes_out) {
    int n = 0;
    long long bytes = 0;
    char d[4200];
    clean_dir(out_dir, &n, &bytes);
    snprintf(d, sizeof d, "%s/hf", out_dir);
    clean_dir(d, &n, &bytes);
    snprintf(d, sizeof d, "%s/checkpoints", out_dir);
    DIR *dh = opendir(d);
    if (dh) {
        struct dirent *e;
        char sd[4400];
        while ((e = readdir(dh))) {
            if (strncmp(e->d_name, "step-", 5) != 0) continue;
            if (snprintf(sd, sizeof sd, "%s/%s", d, e->d_name) >= (int)sizeof sd) continue;
            clean_dir(sd, &n, &bytes);
        }
        closedir(dh);
    }
    if (n_out) *n_out = n;
    if (bytes_out) *bytes_out = bytes;
    return S1C_OK;
}

static void remove_tree_1(const char *dir) {  // a step directory: files only, then the directory
    DIR *dh = opendir(dir);
    if (!dh) return;
    struct dirent *e;
    char p[4400];
    while ((e = readdir(dh))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p) unlink(p);
    }
    closedir(dh);
    rmdir(dir);
}

s1c_status s1c_rundir_check_fresh(const char *out_dir, int overwrite) {
    char root[4200];
    snprintf(root, sizeof root, "%s/checkpoints", out_dir);
    DIR *dh = opendir(root);
    if (!dh) return S1C_OK;
    struct dirent *e;
    char newest[256] = "";
    int n = 0;
    while ((e = readdir(dh))) {
        if (strncmp(e->d_name, "step-", 5) != 0) continue;
        n++;
        if (strcmp(e->d_name, newest) > 0) snprintf(newest, sizeof newest, "%s", e->d_name);
    }
    if (n && !overwrite) {
        closedir(dh);
        return s1c_err("%s already holds %d checkpoint%s of an earlier run (newest %s): continue it with --resume, "
                       "start over with --overwrite (removes them), or choose another output.dir",
                       root, n, n == 1 ? "" : "s", newest);
    }
    rewinddir(dh);
    char p[4400];
    while ((e = readdir(dh))) {
        if (strncmp(e->d_name, "step-", 5) != 0) continue;
        if (snprintf(p, sizeof p, "%s/%s", root, e->d_name) < (int)sizeof p) remove_tree_1(p);
    }
    closedir(dh);
    return S1C_OK;
}

static uint64_t mix64(uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t s1c_rundir_new_id(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t id = mix64((uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40));
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    for (const char *p = host; *p; p++) id = mix64(id ^ (unsigned char)*p);
    FILE *fp = fopen("/dev/urandom", "rb");
    if (fp) {
        uint64_t r = 0;
        if (fread(&r, sizeof r, 1, fp) == 1) id = mix64(id ^ r);
        fclose(fp);
    }
    return id ? id : 1;
}

void s1c_run_id_str(uint64_t id, char out[17]) { snprintf(out, 17, "%016llx", (unsigned long long)id); }

uint64_t s1c_run_id_parse(const char *s) {
    if (!s || strlen(s) != 16) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        const char c = s[i];
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return 0;
        v = v << 4 | (uint64_t)d;
    }
    return v;
}

s1c_status s1c_rundir_write_id(const char *out_dir, uint64_t id) {
    char path[4200], txt[17];
    snprintf(path, sizeof path, "%s/RUN", out_dir);
    s1c_run_id_str(id, txt);
    s1c_atomic_file af;
    S1C_TRY(s1c_atomic_open(&af, path));
    fprintf(af.fp, "%s\n", txt);
    return s1c_atomic_commit(&af);
}

s1c_status s1c_rundir_read_id(const char *out_dir, uint64_t *id) {
    *id = 0;
    char path[4200], *txt = NULL;
    snprintf(path, sizeof path, "%s/RUN", out_dir);
    if (access(path, F_OK) != 0) return S1C_OK;
    S1C_TRY(s1c_read_file(path, &txt, NULL));
    txt[strcspn(txt, "\n")] = '\0';
    *id = s1c_run_id_parse(txt);
    const int bad = *id == 0;
    free(txt);
    if (bad) return s1c_err("%s: not a run id (16 hex digits expected)", path);
    return S1C_OK;
}
