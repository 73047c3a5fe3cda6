// fixture.h — test inputs generated in C (no committed binaries): a tiny random Qwen2 model
// written with s1c_qwen2_weights_save and a small packed dataset written with the packed writer.
#ifndef S1C_TRAIN_FIXTURE_H
#define S1C_TRAIN_FIXTURE_H

#include "qwen2.h"
#include "s1c_mpi.h"

// The tiny shape: hidden 32, intermediate 64, 2 layers, 4 heads, 2 KV heads, vocab 64.
void fx_tiny_config(s1c_qwen2_config *c, int tied);
// Writes DIR/config.json, DIR/model.safetensors (fp32) and a stand-in DIR/tokenizer.json.
s1c_status fx_write_model(const char *dir, int tied, unsigned seed);
// The same with another vocabulary size (vocab > 0): at 384 the embedding (and the untied head)
// outgrow a block, the shape of a real model, where the engine's large-unit buffers matter.
s1c_status fx_write_model_vocab(const char *dir, int tied, unsigned seed, int vocab);
// Writes a packed file of n samples, lengths in [min_len, max_len], a prompt (mask 0) then an
// answer (mask 1) that follows a learnable rule, token ids below vocab.
s1c_status fx_write_data(const char *path, int n, int min_len, int max_len, int vocab, unsigned seed);

// A few training steps through the ZeRO-3 engine (train/fsdp.h) on backend be: the tiny model in
// mdir (written by fx_write_model), two sequences ids/mask/len as two micro-batches, forward,
// backward, norm, clipped AdamW (lr 3e-3, wd 0.1, max norm 0.5) per step. Returns this rank's
// master and AdamW m slices, unit by unit, concatenated (malloc'ed, *n_out floats), and each
// step's loss in losses[steps] (may be NULL). offload: train.offload_optimizer; *pinned (may be
// NULL): whether its staging buffers were page-locked.
float *fx_train_steps(s1c_backend *be, s1c_comm *c, const char *mdir, const s1c_qwen2_config *cfg,
                      int32_t *const *ids, uint8_t *const *mask, const int *len, int steps, int offload,
                      double *losses, int *pinned, size_t *n_out);

#endif
