// MPI bootstrap: world rank/size and the node-local rank (for GPU selection).
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "s1c_mpi.h"

s1c_status s1c_dist_init(int *argc, char ***argv, s1c_dist *d) {
    d->initialized_here = 0;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        // FUNNELED: only the main thread calls MPI; OpenMP threads do compute only.
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return s1c_err("MPI_Init_thread failed");
        d->initialized_here = 1;
    }
    // Errors come back as codes so every collective can report which operation failed.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return s1c_err("MPI_Comm_split_type(SHARED) failed: cannot find the node-local rank");
    MPI_Comm_rank(node, &d->local_rank);
    MPI_Comm_size(node, &d->local_size);
    MPI_Comm_free(&node);
    return S1C_OK;
}

void s1c_dist_finalize(s1c_dist *d) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (d->initialized_here && !fin) MPI_Finalize();
    d->initialized_here = 0;
}

void s1c_dist_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);  // MPI_Abort does not return; this keeps the noreturn promise if it ever did
}

int s1c_dist_launched(void) { return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK"); }
