// s1c-train refuses bad data when it opens it, before the first step (issue 13 §5): token ids
// past the model's vocabulary (found at step 8 of 24 before), a file packed with another
// tokenizer (unless data.allow_tokenizer_mismatch), no token in the loss, and a block size that
// cuts every sample before its first loss token. The binary runs alone (an MPI singleton).
// usage: test_train_data_check S1C_TRAIN SOURCE_DIR WORK_DIR
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli_run.h"
#include "fixture.h"
#include "packed_write.h"
#include "s1c_sha256.h"

static const char *TRAIN, *SRC, *WORK;
static char out_text[1 << 16];

enum { N = 8, LEN = 24, VOCAB = 64 };

// N samples of LEN tokens, ids below `id_limit` except one of sample N-1 = `big_id` (when > 0);
// loss on tokens >= loss_from (LEN: none); tokenizer_hash attribute when hash != NULL.
static void write_data(const char *path, int big_id, int loss_from, const char *hash) {
    s1c_packed_writer *w = s1c_packed_writer_create(path, 3);
    CHECK(w != NULL, "%s", s1c_err_msg());
    if (!w) return;
    int32_t ids[LEN];
    uint8_t mask[LEN];
    for (int i = 0; i < N; i++) {
        for (int t = 0; t < LEN; t++) {
            ids[t] = (i * 7 + t * 3) % VOCAB;
            mask[t] = t >= loss_from;
        }
        if (i == N - 1 && big_id > 0) ids[LEN - 2] = big_id;
        OK(s1c_packed_writer_add(w, ids, mask, LEN));
    }
    if (hash) OK(s1c_packed_writer_attr_str(w, "tokenizer_hash", hash));
    OK(s1c_packed_writer_commit(w));
}

// s1c-train on the tiny recipe with data `data`, extra "--set" assignments (NULL-terminated).
static int train(const char *model, const char *data, const char *out, const char *set1, const char *set2) {
    char cfg[700], ms[700], ds[700], os[700], log[700];
    snprintf(cfg, sizeof cfg, "%s/configs/tiny.yaml", SRC);
    snprintf(ms, sizeof ms, "model.path=%s", model);
    snprintf(ds, sizeof ds, "data.path=%s", data);
    snprintf(os, sizeof os, "output.dir=%s", out);
    snprintf(log, sizeof log, "%s/last.log", WORK);
    const char *argv[16] = {TRAIN, "--config", cfg, "--set", ms, "--set", ds, "--set", os};
    int n = 9;
    if (set1) argv[n++] = "--set", argv[n++] = set1;
    if (set2) argv[n++] = "--set", argv[n++] = set2;
    argv[n] = NULL;
    return cli_run(argv, NULL, log, out_text, sizeof out_text);
}

static void expect_refused(const char *what, const char *model, const char *data, const char *set, const char *needle) {
    char out[700];
    snprintf(out, sizeof out, "%s/out_%s", WORK, what);
    int rc = train(model, data, out, set, NULL);
    CHECK(rc != 0 && strstr(out_text, needle), "%s: exit %d, want '%s' in:\n%s", what, rc, needle, out_text);
    CHECK(!strstr(out_text, "step 1/"), "%s: a step ran before the refusal:\n%s", what, out_text);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: test_train_data_check S1C_TRAIN SOURCE_DIR WORK_DIR\n");
        return 2;
    }
    TRAIN = argv[1];
    SRC = argv[2];
    WORK = argv[3];
    char cmd[1400], model[700], tok[760], hash[65], p[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", WORK, WORK);
    if (system(cmd) != 0) return 2;
    snprintf(model, sizeof model, "%s/model", WORK);
    OK(fx_write_model(model, 1, 3));  // vocab 64, a stand-in tokenizer.json
    snprintf(tok, sizeof tok, "%s/tokenizer.json", model);
    OK(s1c_sha256_file(tok, hash));

    snprintf(p, sizeof p, "%s/big_id.h5", WORK);
    write_data(p, 70, 8, hash);
    expect_refused("big_id", model, p, NULL, "sample 7 holds token id 70 but the model's vocabulary has 64 ids");

    snprintf(p, sizeof p, "%s/other_tok.h5", WORK);
    write_data(p, 0, 8, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    expect_refused("other_tok", model, p, NULL, "packed with another tokenizer than the model's");
    // allowed: the check passes and one step trains, with a note
    char out[700];
    snprintf(out, sizeof out, "%s/out_allowed", WORK);
    int rc = train(model, p, out, "data.allow_tokenizer_mismatch=true", "train.max_steps=1");
    CHECK(rc == 0 && strstr(out_text, "note:") && strstr(out_text, "another tokenizer") && strstr(out_text, "step 1/"),
          "allow_tokenizer_mismatch: exit %d:\n%s", rc, out_text);

    snprintf(p, sizeof p, "%s/no_loss.h5", WORK);
    write_data(p, 0, LEN, hash);
    expect_refused("no_loss", model, p, NULL, "no token is in the loss");

    snprintf(p, sizeof p, "%s/late_loss.h5", WORK);
    write_data(p, 0, 20, hash);
    expect_refused("block", model, p, "data.block_size=12", "data.block_size 12 cuts every sample before its first loss token");

    printf("test_train_data_check: %s (%d failures)\n", check_failures ? "FAIL" : "ok", check_failures);
    return check_failures ? 1 : 0;
}
