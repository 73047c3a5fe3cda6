// export.h — Hugging Face checkpoint directories in and out of the FSDP slices, never holding
// the whole model on one host.
// Out: the trained weights as config.json, safetensors (sharded with model.safetensors.index.json
// when large) and the tokenizer files copied from the source model directory; loads in
// transformers and vLLM unchanged. In: the initial weights, each rank reading only its slices.
#ifndef S1C_EXPORT_H
#define S1C_EXPORT_H

#include <stddef.h>

#include "fsdp.h"

// Collective: every rank takes part in the gathers; rank 0 writes. dtype "bf16" or "f32".
// Units travel one at a time and rank 0 writes each as it arrives (s1c_qwen2_save_unit), so its
// host holds one gathered unit (fp32) at a time; files appear under their names only when all
// are written.
s1c_status s1c_export_hf(s1c_fsdp *f, s1c_comm *c, const s1c_qwen2_config *cfg, const char *src_model_dir,
                         const char *out_dir, const char *dtype, size_t max_shard_bytes);

// Collective: fills the master slices from the checkpoint in model_dir (validated against cfg
// and the engine's layout). Every rank maps the checkpoint itself and converts only its own
// slice of each unit (padding zero) through one host buffer the size of the largest slice;
// AdamW moments and gradients are zeroed. Bit-equal to s1c_qwen2_weights_load on one rank
// followed by s1c_fsdp_set_weights. A failure on any rank fails every rank, each with the
// message of the lowest failing rank (it names the file and tensor).
s1c_status s1c_import_hf(s1c_fsdp *f, s1c_comm *c, const s1c_qwen2_config *cfg, const char *model_dir);

#endif
