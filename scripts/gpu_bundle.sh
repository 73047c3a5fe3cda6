#!/usr/bin/env bash
# gpu_bundle.sh — the one command that prepares a GPU session, run here (no GPU needed): builds the
# CUDA binaries gpu_check.sh runs (build-gpu/, sm_90, no -march=native) and packs them with the
# non-system shared libraries they need (ldd) and Open MPI's runtime into
# build-gpu-carry/s1c-gpu-bundle.tar.gz. Refuses a bundle above 40 MiB (the device call carries the
# working tree and the carried paths, 64 MiB in all). Then, on the device tool:
#   run(command="scripts/gpu_check.sh", carry=["build-gpu-carry"], timeout_s=600)
exec "$(dirname "$0")/gpu_check.sh" --bundle
