// The backend selection point of the collective interface.
#include <string.h>

#include "comm_impl.h"

size_t s1c_comm_dtype_size(s1c_comm_dtype dt) {
    switch (dt) {
        case S1C_COMM_F32: return 4;
        case S1C_COMM_F64: return 8;
        case S1C_COMM_BF16: return 2;
        case S1C_COMM_I32: return 4;
        case S1C_COMM_I64: return 8;
        case S1C_COMM_U8: return 1;
    }
    return 0;
}

s1c_comm *s1c_comm_create(const s1c_dist *d, const char *backend) {
    if (!backend || strcmp(backend, "mpi") == 0) return s1c_comm_mpi_create(d);
    if (strcmp(backend, "nccl") == 0) {
#ifdef S1C_HAVE_NCCL
        return s1c_comm_nccl_create(d);
#else
        s1c_err("collective backend \"nccl\": not compiled into this build (host backend \"mpi\" only)");
        return NULL;
#endif
    }
    s1c_err("collective backend \"%s\": unknown (expected \"mpi\" or \"nccl\")", backend);
    return NULL;
}

void s1c_comm_destroy(s1c_comm *c) {
    if (c) c->destroy(c);
}

s1c_comm *s1c_comm_split(s1c_comm *c, int color, int key) {
    if (!c->split) {
        s1c_err("collective backend \"%s\": no sub-communicators yet (one group over every rank only)", c->backend);
        return NULL;
    }
    return c->split(c, color, key);
}
