// rundir.h — one run per output directory (output.dir), and nothing in it lost or mixed.
//
// - Lock: rank 0 holds flock(LOCK_EX) on OUT/.lock for the whole run and writes "HOST PID" into
//   it; a second job naming the same directory is refused with that holder (the kernel drops
//   the lock when the holder dies, so a crash never leaves a stale lock). Every rank learns the
//   outcome before any rank writes.
// - Run id: a fresh run draws a 64-bit id, kept in OUT/RUN and in every checkpoint it writes;
//   --resume follows the line of checkpoints of OUT/RUN's id, pruning removes only that line's.
// - Fresh run over old checkpoints: refused unless --overwrite (which removes them first).
// - Orphan temporaries ("NAME.tmp.PID" of a killed atomic write, common/s1c_file.h) in OUT,
//   OUT/checkpoints/step-*/ and OUT/hf/ are removed at the start (under the lock, nothing else
//   writes there).
#ifndef S1C_RUNDIR_H
#define S1C_RUNDIR_H

#include <stdint.h>

#include "s1c_err.h"

typedef struct {
    int fd;  // -1 when not held
} s1c_rundir_lock;

// Creates out_dir (mkdir -p) and takes its lock. The error names the holder's host and pid.
s1c_status s1c_rundir_lock_take(const char *out_dir, s1c_rundir_lock *lk);
void s1c_rundir_lock_release(s1c_rundir_lock *lk);

// Removes orphan temporaries; *n and *bytes (may be NULL) receive what was removed.
s1c_status s1c_rundir_clean_tmp(const char *out_dir, int *n, long long *bytes);

// A fresh run: when OUT/checkpoints holds step directories, refused (naming the newest) unless
// overwrite, which removes them.
s1c_status s1c_rundir_check_fresh(const char *out_dir, int overwrite);

// A new run id (never 0): time, pid, host and /dev/urandom mixed.
uint64_t s1c_rundir_new_id(void);
// OUT/RUN: the id of the run the directory holds (written atomically). *id = 0 when absent.
s1c_status s1c_rundir_write_id(const char *out_dir, uint64_t id);
s1c_status s1c_rundir_read_id(const char *out_dir, uint64_t *id);
// Hex text of an id (17 bytes) and back (0 on a malformed text).
void s1c_run_id_str(uint64_t id, char out[17]);
uint64_t s1c_run_id_parse(const char *s);

#endif
