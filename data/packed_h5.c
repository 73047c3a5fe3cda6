#include "packed_h5.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "s1c_err.h"

void s1c_h5_quiet_begin(s1c_h5_quiet *q) {
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void s1c_h5_quiet_end(const s1c_h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

typedef struct {
    char msg[384];
    char os[128];  // the system's reason of a failed read/write ("No space left on device")
} walk_ctx;

// Walked upward the first entry is the innermost: the most specific cause ("truncated file: ...").
// The sec2 driver puts errno's text inside its description: "..., error message = 'File too large', ...".
static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    walk_ctx *w = data;
    if (n == 0 && e->desc) snprintf(w->msg, sizeof w->msg, "%s", e->desc);
    const char *m = e->desc && !w->os[0] ? strstr(e->desc, "error message = '") : NULL;
    if (m) {
        m += strlen("error message = '");
        const char *end = strchr(m, '\'');
        if (end) snprintf(w->os, sizeof w->os, "%.*s", (int)(end - m), m);
    }
    return 0;
}

int s1c_h5_err(const char *fmt, ...) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    walk_ctx w = {{0}, {0}};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
    H5Eclear2(H5E_DEFAULT);
    if (w.os[0]) return s1c_err("%s: %s", what, w.os);
    if (w.msg[0]) return s1c_err("%s (HDF5: %s)", what, w.msg);
    return s1c_err("%s", what);
}
