// train.offload_optimizer on a device backend: three steps (forward, backward, norm, clipped
// AdamW) on the tiny model, tied and untied, offloaded vs not, same device. On "cuda" the
// offloaded step runs its real pipeline (page-locked staging, async D2H, events: the staging must
// be page-locked there); the host AdamW and the CUDA adamw kernel may differ in the last bit
// (contraction into FMA), so masters and moments must agree to 1e-5 relative L2 and the first
// step's loss (no update yet) to 1e-6. On "cpu-bf16" (bf16sim_offload, no GPU) the two are the
// same arithmetic: bit for bit, and the staging is plain memory. Device from S1C_TEST_DEVICE
// (default cuda); exits 77 with a SKIP line without a GPU. Usage: test_cuda_offload WORK_DIR
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef S1C_HAVE_CUDA
#include <cuda_runtime.h>
#endif

#include "check.h"
#include "fixture.h"
#include "s1c_mpi.h"

enum { STEPS = 3 };

int main(int argc, char **argv) {
    s1c_dist d;
    if (s1c_dist_init(&argc, &argv, &d) != S1C_OK || argc != 2) {
        fprintf(stderr, "usage: test_cuda_offload WORK_DIR\n");
        return 2;
    }
    check_set_rank(d.rank);
    const char *dev = getenv("S1C_TEST_DEVICE") && *getenv("S1C_TEST_DEVICE") ? getenv("S1C_TEST_DEVICE") : "cuda";
    const int cuda = !strcmp(dev, "cuda");
    if (cuda) {
        int n_gpu = 0;
#ifdef S1C_HAVE_CUDA
        if (cudaGetDeviceCount(&n_gpu) != cudaSuccess) n_gpu = 0;
#endif
        if (n_gpu < 1 || d.size > 1) {
            if (d.rank == 0) printf("SKIP: test_cuda_offload needs a GPU and one rank (%d visible)\n", n_gpu);
            s1c_dist_finalize(&d);
            return 77;
        }
    }
    s1c_comm *c = s1c_comm_create(&d, "mpi");  // one rank: the engine's reduce-scatter is a copy
    s1c_backend *be = s1c_backend_create(dev, 0);
    if (!c || !be) {
        fprintf(stderr, "%s\n", s1c_err_msg());
        return 1;
    }
    int32_t *ids[2];
    uint8_t *mask[2];
    int len[2] = {23, 17};
    for (int k = 0; k < 2; k++) {
        ids[k] = malloc((size_t)len[k] * sizeof(int32_t));
        mask[k] = malloc((size_t)len[k]);
        for (int t = 0; t < len[k]; t++) {
            ids[k][t] = (int32_t)((t * 5 + k * 11 + 1) % 64);
            mask[k][t] = t >= 4;
        }
    }
    for (int tied = 0; tied < 2; tied++) {
        char mdir[600], path[700];
        snprintf(mdir, sizeof mdir, "%s/model-%d", argv[1], tied);
        OK(fx_write_model(mdir, tied, 21u + (unsigned)tied));
        snprintf(path, sizeof path, "%s/config.json", mdir);
        s1c_qwen2_config cfg;
        OK(s1c_qwen2_config_load(path, &cfg));
        double la[STEPS], lb[STEPS];
        size_t na = 0, nb = 0;
        int pinned = -1;
        float *a = fx_train_steps(be, c, mdir, &cfg, ids, mask, len, STEPS, 0, la, NULL, &na);
        float *b = fx_train_steps(be, c, mdir, &cfg, ids, mask, len, STEPS, 1, lb, &pinned, &nb);
        CHECK(na == nb && na > 0, "sizes %zu / %zu", na, nb);
        CHECK(pinned == cuda, "%s: staging page-locked = %d", dev, pinned);
        double d2 = 0, r2 = 0;
        for (size_t i = 0; i < na; i++) {
            d2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            r2 += (double)a[i] * a[i];
        }
        const double rel = sqrt(d2 / (r2 > 0 ? r2 : 1));
        if (cuda) {
            CHECK(rel <= 1e-5, "tied %d: offloaded master/m differ by %.3g rel L2", tied, rel);
            CHECK(fabs(la[0] - lb[0]) <= 1e-6 * fabs(la[0]), "tied %d: step-1 loss %.9g vs %.9g", tied, la[0], lb[0]);
        } else {
            CHECK(!memcmp(a, b, na * sizeof(float)), "tied %d: offloaded master/m not bit-identical (rel %.3g)", tied,
                  rel);
            CHECK(!memcmp(la, lb, sizeof la), "tied %d: losses differ", tied);
        }
        printf("%s tied %d: %d steps offloaded vs not: master/m rel L2 %.3g, losses %.9g / %.9g; staging %s\n", dev,
               tied, STEPS, rel, la[STEPS - 1], lb[STEPS - 1], pinned ? "page-locked" : "plain");
        free(a);
        free(b);
    }
    for (int k = 0; k < 2; k++) {
        free(ids[k]);
        free(mask[k]);
    }
    s1c_backend_destroy(be);
    s1c_comm_destroy(c);
    s1c_dist_finalize(&d);
    return check_exit("test_cuda_offload");
}
