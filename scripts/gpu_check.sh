#!/usr/bin/env bash
# gpu_check.sh — the one command of a GPU session (issue 15): ONE device call of at most 9 minutes
# on one H100/H200 that gives a verdict on every risky part, most informative first, each step
# under its own `timeout`, every figure into $OUT (gpu_check.log, summary.txt, versions.txt,
# cudnn_dbg.log). docs/cuda.md lists the steps and what each FAIL line means.
#
#   scripts/gpu_bundle.sh           here (no GPU): build the CUDA binaries (sm_90) and pack them with
#                                   the non-system shared libraries they need into
#                                   build-gpu-carry/s1c-gpu-bundle.tar.gz (refused above 40 MiB)
#   device tool: run(command="scripts/gpu_check.sh", carry=["build-gpu-carry"], timeout_s=600)
#   scripts/gpu_check.sh            on the GPU machine: unpack the bundle (or build when there is none)
#                                   and run the steps below
#
# Steps (order of information):
#   1 versions     driver / runtime / cuDNN / NCCL / cuBLASLt loaded vs built, missing libraries;
#                  test_cuda_plan (the host-side geometry, CPU only)
#   2 ops          test_cuda_ops with cuDNN's debug log (CUDNN_LOGLEVEL_DBG=2 -> cudnn_dbg.log)
#   3 attention    test_cuda_attn_real (cuDNN forced vs own kernels at 1.5B/32B/0.5B heads, 4K
#                  tokens) and bench_cuda_attn with S1C_CUDA_ATTN=cudnn (a refusal is fatal)
#   4 nccl / fsdp  test_nccl_collectives, test_cuda_train, test_cuda_train_cli (one GPU: one rank),
#                  test_cuda_offload (the offloaded step's pinned, asynchronous copies)
#   5 mfu          bench_train_step 1.5b at 8192 tokens (2 x 4096)
#   6 decode       test_cuda_decode, test_cuda_decode_split, bench_decode 0.5b
#   7 the rest     bench_cuda_gemm, own-kernel attention timing, cuDNN's dQ-accumulator backward
#                  (S1C_CUDA_ATTN_DETERMINISTIC=0) against the deterministic default (attention and
#                  the 1.5B step), 0.5b / other token counts, while time is left; the summary ends
#                  with the seconds left
# Any cuDNN refusal, any fallback to the own attention kernels (the backend's "attention FALLBACK"
# line at teardown, "cuDNN refused", a start-up "WARNING cuDNN"), any nonzero exit (every test
# exits 1 on a tolerance miss), any timeout is a FAIL line in the summary, never a pass. Calls
# the backend counts as "own kernels by design" (a head_dim cuDNN cannot run) get an info line.
# Without a GPU it prints "no GPU: skipped" and exits 0. S1C_GPU_BUDGET_S (default 530) bounds
# the whole run; a step that no longer fits is reported as NOT RUN.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=${S1C_GPU_BUILD:-build-gpu}
BUNDLE_TGZ=build-gpu-carry/s1c-gpu-bundle.tar.gz
BUNDLE_DIR=build-gpu-bundle  # where the tarball unpacks on the GPU machine
export PATH="/usr/local/cuda/bin:$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TARGETS=(gpu_versions test_cuda_plan test_cuda_ops test_cuda_attn_real test_cuda_add_f32 test_cuda_decode test_cuda_decode_split
         test_nccl_collectives test_cuda_train test_cuda_train_cli test_cuda_offload s1c-train bench_cuda_gemm bench_cuda_attn
         bench_train_step bench_decode)
BUNDLE_MAX_MB=40  # the device call carries the tree + carried paths, 64 MiB in all

# Bounded: a stuck compiler must not eat the device call (480 s there); the --bundle build on a
# small build machine gets S1C_GPU_BUILD_TIMEOUT_S (default an hour).
BUILD_TIMEOUT=480
configure_build() {  # extra cmake args...
    timeout 120 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DS1C_WERROR=ON -DS1C_CUDA=ON "$@" >/dev/null &&
        timeout "$BUILD_TIMEOUT" cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}"
}
case "${1:-}" in
--bundle | "") ;;
*) echo "usage: $0 [--bundle]   (scripts/gpu_bundle.sh = $0 --bundle)" >&2; exit 2 ;;
esac

# ---- --bundle: build here, collect the non-system shared libraries next to the binaries ---------
if [ "${1:-}" = "--bundle" ]; then
    BUILD_TIMEOUT=${S1C_GPU_BUILD_TIMEOUT_S:-3600}
    # sm_90 only (H100 / H200: half the fatbin), no -march=native (the GPU host's CPU is unknown).
    configure_build -DCMAKE_CUDA_ARCHITECTURES=90 -DS1C_NATIVE=OFF || { echo "gpu_check --bundle: build failed"; exit 1; }
    stage=$BUILD/bundle
    rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib" "$stage/ompi"
    for t in "${TARGETS[@]}"; do cp "$BUILD/bin/$t" "$stage/bin/"; done
    # The machine provides libc, the compiler runtime and the large CUDA libraries (driver,
    # cuBLAS/Lt, cuDNN, NCCL); cudart is small and carried so the runtime matches the build.
    skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|librt\.|libpthread\.|libresolv\.|libstdc\+\+|libgcc_s|libcuda\.|libcublas|libcudnn|libnccl|libnvrtc|libnvJitLink)'
    objs=("$stage"/bin/*)
    # Open MPI's runtime: mpirun (orterun) and its MCA / PMIx components, found through the
    # environment gpu_check sets. Network transports for clusters (UCX, OFI, PSM, verbs) and
    # OpenSHMEM stay behind: one node, shared memory and TCP are all a single-GPU run uses.
    ompi_comp=$(ls -d /usr/lib/*/openmpi/lib/openmpi3 2>/dev/null | head -1)
    pmix_comp=$(ls -d /usr/lib/*/pmix2/lib/pmix 2>/dev/null | head -1)
    if command -v orterun >/dev/null && [ -n "$ompi_comp" ]; then
        cp -L "$(command -v orterun)" "$stage/ompi/mpirun"
        mkdir -p "$stage/ompi/components" "$stage/ompi/pmix-components"
        for c in "$ompi_comp"/*; do
            case ${c##*/} in *ucx* | *ofi* | *psm* | *openib* | *usnic* | *uct* | *verbs* | *spml* | *sshmem* | \
                *atomic* | *memheap* | *scoll* | *portals* | *hcoll* | *fca* | *cuda*) continue ;; esac
            cp -L "$c" "$stage/ompi/components/"
        done
        [ -n "$pmix_comp" ] && cp -rL "$pmix_comp"/. "$stage/ompi/pmix-components/"
        objs+=("$stage/ompi/mpirun" "$stage"/ompi/components/*.so "$stage"/ompi/pmix-components/*.so)
    fi
    for o in "${objs[@]}"; do
        [ -f "$o" ] || continue
        ldd "$o" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
    done | sort -u | while read -r name path; do
        [[ $name =~ $skip ]] || cp -L "$path" "$stage/lib/$name"
    done
    echo "$ROOT $(git rev-parse --short HEAD 2>/dev/null)" >"$stage/.bundle"
    mkdir -p "${BUNDLE_TGZ%/*}"
    tar czf "$BUNDLE_TGZ.tmp" -C "$stage" . && mv "$BUNDLE_TGZ.tmp" "$BUNDLE_TGZ" || exit 1
    du -sh "$stage/bin" "$stage/lib" "$stage/ompi" "$BUNDLE_TGZ"
    mb=$(( $(stat -c %s "$BUNDLE_TGZ") >> 20 ))
    tree_mb=$(( $(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}') >> 20 ))
    echo "gpu_check --bundle: bundle ${mb} MiB + tracked tree ${tree_mb} MiB (the device call carries at most 64 MiB)"
    if [ "$mb" -gt "$BUNDLE_MAX_MB" ] || [ $((mb + tree_mb)) -ge 60 ]; then
        echo "gpu_check --bundle: too large (limit ${BUNDLE_MAX_MB} MiB for the bundle, 60 MiB with the tree)"
        rm -f "$BUNDLE_TGZ"
        exit 1
    fi
    echo "gpu_check --bundle: done; carry '${BUNDLE_TGZ%/*}' with the device call and run scripts/gpu_check.sh there"
    exit 0
fi

# ---- no GPU: nothing to do ----------------------------------------------------------------------
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "gpu_check: no GPU: skipped (nvidia-smi finds no device); nothing built, tested or measured"
    exit 0
fi

# $OUT gets four files (the device tool returns at most 8, two folders deep): the log (every
# program's output is copied into it), summary.txt, versions.txt and cudnn_dbg.log (cuDNN's debug
# log of test_cuda_ops, at most 8 MiB: head and tail). Per-program files go to a scratch folder.
OUTDIR=${OUT:-$ROOT/gpu-results}
mkdir -p "$OUTDIR"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/s1c_gpu_check.XXXXXX")
LOG=$OUTDIR/gpu_check.log
: >"$LOG"
exec > >(tee -a "$LOG") 2>&1
TEE_PID=$!
# The log must be complete when the command returns (the device tool collects $OUT then).
trap 'exec 1>&- 2>&-; wait $TEE_PID 2>/dev/null; rm -rf "$SCRATCH"' EXIT
T_START=$(date +%s)
BUDGET=${S1C_GPU_BUDGET_S:-530}
left() { echo $((T_START + BUDGET - $(date +%s))); }
echo "gpu_check: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(uname -m), budget ${BUDGET} s"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader
nvcc --version 2>/dev/null | tail -1

SUMMARY=()
FAILED=0
add() { SUMMARY+=("$(printf '%-40s %s' "$1" "$2")"); }
fail() { add "$1" "FAIL: $2"; FAILED=1; }

# ---- binaries: a carried bundle, or build here ---------------------------------------------------
if [ "${S1C_GPU_NO_BUNDLE:-0}" != 1 ] && [ -f "$BUNDLE_TGZ" ]; then
    if [ "$BUNDLE_TGZ" -nt "$BUNDLE_DIR/.unpacked" ]; then  # first use, or a newer bundle
        rm -rf "$BUNDLE_DIR" && mkdir -p "$BUNDLE_DIR" && tar xzf "$BUNDLE_TGZ" -C "$BUNDLE_DIR" &&
            touch "$BUNDLE_DIR/.unpacked"
    fi
    BUILD=$BUNDLE_DIR
    echo "== using the carried bundle $BUNDLE_TGZ (built in, at commit: $(cat "$BUILD/.bundle"))"
    libdirs="$ROOT/$BUILD/lib"
    # cuDNN / NCCL / cuBLAS: the toolkit's, else the python wheels' (nvidia-cudnn-cu13, ...).
    for d in /usr/local/cuda/lib64 /usr/local/cuda/lib; do [ -d "$d" ] && libdirs="$libdirs:$d"; done
    for sp in $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null); do
        for d in "$sp"/nvidia/*/lib "$sp"/nvidia/cu13/lib; do [ -d "$d" ] && libdirs="$libdirs:$d"; done
    done
    export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export OMPI_MCA_mca_base_component_path="$ROOT/$BUILD/ompi/components"
    export PMIX_MCA_mca_base_component_path="$ROOT/$BUILD/ompi/pmix-components"
    export OMPI_MCA_ess_singleton_isolated=1  # a lone MPI process needs no daemon
    MPIRUN="$ROOT/$BUILD/ompi/mpirun"
    add "build" "carried bundle ($(cat "$BUILD/.bundle" | awk '{print $2}'))"
else
    echo "== configure + build $BUILD (sm_90)"
    t0=$(date +%s)
    if ! configure_build -DCMAKE_CUDA_ARCHITECTURES=90; then
        echo "gpu_check: the build failed (missing OpenBLAS / MPI / HDF5 ...? build a bundle with"
        echo "  scripts/gpu_bundle.sh on a machine that has them and carry ${BUNDLE_TGZ%/*})"
        fail "build" "no bundle and the local build failed"
        printf '%s\n' "${SUMMARY[@]}" | tee "$OUTDIR/summary.txt"
        exit 1
    fi
    add "build" "ok ($(($(date +%s) - t0)) s)"
    MPIRUN=$(command -v mpirun || echo mpirun)
fi
B=$ROOT/$BUILD/bin
export ASAN_OPTIONS=protect_shadow_gap=0:detect_leaks=0
MPIENV=(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
TL=$SCRATCH/tests
BL=$SCRATCH/bench
mkdir -p "$TL" "$BL"

# step NAME SECONDS OUTFILE CMD... : bounded by min(SECONDS, time left - 15), output kept in OUTFILE
# (and the log), status into the summary (77 = skipped). A step that cannot get 20 s is NOT RUN.
# Not in a pipeline: the summary lives in this shell.
step() {
    local name=$1 secs=$2 out=$3
    shift 3
    local l
    l=$(left)
    if [ $((l - 15)) -lt 20 ]; then add "$name" "NOT RUN (${l} s of the budget left)"; return 124; fi
    [ "$secs" -gt $((l - 15)) ] && secs=$((l - 15))
    echo
    echo "== $name (limit ${secs} s): $*"
    local t0=$(date +%s)
    timeout --kill-after=10 "$secs" "$@" >"$out" 2>&1
    local rc=$?
    cat "$out"
    local dt=$(($(date +%s) - t0))
    case $rc in
    0) add "$name" "pass (${dt} s)" ;;
    # nvidia-smi sees a GPU, so a test that skips (no device, no usable cuDNN) failed to get it.
    77) fail "$name" "SKIPPED although a GPU is present (${dt} s): $(grep -m1 SKIP "$out" | cut -c1-120)" ;;
    126 | 127) fail "$name" "cannot execute (missing program or library): $(head -c 120 "$out")" ;;
    124 | 137) fail "$name" "TIMEOUT after ${secs} s" ;;
    *) fail "$name" "rc=$rc (${dt} s): $(grep -m1 -E 'FAIL|fatal|rror' "$out" | cut -c1-120)" ;;
    esac
    # A cuDNN refusal or a fallback to the own attention kernels is a failure even when the
    # program passed: the own kernels are 40-100x slower and must never serve a run silently.
    if grep -qE 'attention FALLBACK|cuDNN refused|WARNING cuDNN' "$out"; then
        fail "  $name: cuDNN" "$(grep -m1 -E 'attention FALLBACK|cuDNN refused|WARNING cuDNN' "$out" | cut -c1-150)"
    fi
    # Shapes cuDNN's fused SDPA cannot run at all (head_dim not a multiple of 8: the decode test's
    # fixture b has 12) are served by the own kernels by design and counted apart by the backend:
    # named in the summary, not a FAIL. Every other own-kernel call in auto mode still is one.
    if grep -q 'attention own kernels by design' "$out"; then
        add "  $name: attention" "$(grep -m1 'own kernels by design' "$out" | sed 's/^s1c cuda: attention //' | cut -c1-140) (not a fallback)"
    fi
    return $rc
}
# figures LABEL: one summary row per line of stdin; none is a failure (the program ran but
# measured nothing).
figures() {
    local n=0
    while read -r l; do add "  $1" "$l"; n=$((n + 1)); done
    [ $n -gt 0 ] || fail "  $1" "NO FIGURE (its output is in gpu_check.log)"
}
# Rows of bench_cuda_attn's table: T n_seq | fwd ms bwd ms | fwd TF/s bwd TF/s.
attn_rows() { awk -v p="$2" '$1 ~ /^[0-9]+$/ && $3 == "|" {printf "%sT %s x%s seq: fwd %s, bwd %s TFLOP/s\n", p, $1, $2, $7, $8}' "$1"; }
export S1C_CUDA_ATTN_STATS=1  # every backend prints its attention call counts at teardown

# ---- 1 versions and missing libraries -----------------------------------------------------------
missing=$(ldd "$B"/* 2>/dev/null | grep 'not found' | sort -u)
if [ -n "$missing" ]; then
    echo "gpu_check: libraries not found:"; echo "$missing"
    fail "libraries" "$(echo "$missing" | awk '{print $1}' | tr '\n' ' ')"
fi
echo "libraries the binaries resolve:"
ldd "$B/test_cuda_train" 2>/dev/null | grep -E 'cudart|cublas|cudnn|nccl|openblas|libmpi\.' | sed 's/^/  /'
step "1 versions" 30 "$OUTDIR/versions.txt" "$B/gpu_versions"
while read -r l; do add "  version" "$l"; done < <(grep -E '^(cuda|cudnn|nccl|cublasLt|device)' "$OUTDIR/versions.txt")
{ echo; nvidia-smi; ldd "$B/test_cuda_ops"; } >>"$OUTDIR/versions.txt" 2>&1
# The host-side geometry the kernels index with (cuDNN layouts, split-KV plan and reservation,
# AdamW / RoPE launches): CPU only, under a second; the same checks as every ctest run here.
step "1 test_cuda_plan (CPU geometry)" 20 "$TL/cuda_plan.txt" "$B/test_cuda_plan"

# ---- 2 the ops, with cuDNN's debug log ----------------------------------------------------------
DBG=$SCRATCH/cudnn_dbg.log
CUDNN_LOGLEVEL_DBG=2 CUDNN_LOGDEST_DBG=$DBG step "2 test_cuda_ops (+cuDNN log)" 240 "$TL/cuda_ops.txt" "$B/test_cuda_ops"
if [ -s "$DBG" ]; then  # at most 8 MiB back: the head (first graphs) and the tail (last errors)
    if [ "$(stat -c %s "$DBG")" -gt $((8 << 20)) ]; then
        { head -c $((4 << 20)) "$DBG"; echo; echo "[... cut by gpu_check ...]"; tail -c $((4 << 20)) "$DBG"; } >"$OUTDIR/cudnn_dbg.log"
    else cp "$DBG" "$OUTDIR/cudnn_dbg.log"; fi
fi
grep -E 'rel|worst|FAIL' "$TL/cuda_ops.txt" | head -60 | while read -r l; do echo "  ops: $l"; done

# ---- 3 attention at real shapes, cuDNN forced ---------------------------------------------------
step "3 test_cuda_attn_real (cuDNN forced)" 120 "$TL/attn_real.txt" "$B/test_cuda_attn_real"
grep -E 'rel L2' "$TL/attn_real.txt" | awk '{$1=$1; print}' | cut -c1-110 | while read -r l; do add "  attn" "$l"; done
S1C_CUDA_ATTN=cudnn step "3 bench_cuda_attn (cuDNN forced)" 120 "$BL/attn.txt" "$B/bench_cuda_attn"
figures attn < <(attn_rows "$BL/attn.txt" "")

# ---- 4 NCCL collectives and the device FSDP trainer ---------------------------------------------
step "4 test_nccl_collectives np1" 90 "$TL/nccl_np1.txt" "${MPIENV[@]}" "$B/test_nccl_collectives"
rm -rf "$TL/train_work" "$TL/cli_work"
step "4 test_cuda_train np1" 150 "$TL/train_np1.txt" "${MPIENV[@]}" "$B/test_cuda_train" "$TL/train_work"
step "4 test_cuda_train_cli np1" 180 "$TL/train_cli_np1.txt" "${MPIENV[@]}" "$B/test_cuda_train_cli" "$MPIRUN" \
    "$B/s1c-train" "$ROOT" "$TL/cli_work" 1
rm -rf "$TL/offload_work"
step "4 test_cuda_offload" 90 "$TL/offload.txt" "${MPIENV[@]}" "$B/test_cuda_offload" "$TL/offload_work"

# ---- 5 the 1.5B / 8K-token MFU ------------------------------------------------------------------
f=$BL/train_1.5b_8k.txt
step "5 bench_train_step 1.5b 8192" 150 "$f" "$B/bench_train_step" --device cuda --shape 1.5b --tokens 8192 \
    --seqlen 4096 --steps 5 --warmup 2
rc=$?
if [ $rc != 0 ] && [ $rc != 124 ] && ! grep -qE '^summary: .* tokens 8192 .*: step' "$f"; then
    step "5 bench_train_step 1.5b 8192 recompute" 150 "$f.rc" "$B/bench_train_step" --device cuda --shape 1.5b \
        --tokens 8192 --seqlen 4096 --steps 5 --warmup 2 --recompute
    cat "$f.rc" >>"$f"
fi
figures "train 1.5b" < <(sed -nE 's/^summary: shape [^ ]+ device cuda //p' "$f" | grep -v 'NOT RUN$')

# ---- 6 decode -----------------------------------------------------------------------------------
step "6 test_cuda_decode" 90 "$TL/cuda_decode.txt" "$B/test_cuda_decode" tests/fixtures/model/a \
    tests/fixtures/model/b tests/fixtures/infer/tiny
if [ -x "$B/test_cuda_decode_split" ]; then
    step "6 test_cuda_decode_split" 60 "$TL/decode_split.txt" "$B/test_cuda_decode_split"
else
    fail "6 test_cuda_decode_split" "not in the bundle (rebuild it)"
fi
f=$BL/decode.txt
step "6 bench_decode 0.5b" 120 "$f" "$B/bench_decode" --device cuda --shape 0.5b --prompt 128 --gen 64 \
    --prefill 512 --batches 1,64
figures "decode 0.5b" < <(sed -nE 's/^summary: decode shape [^ ]+ device cuda //p' "$f")

# ---- 7 the rest, while time is left --------------------------------------------------------------
step "7 test_cuda_add_f32" 30 "$TL/add_f32.txt" "$B/test_cuda_add_f32"
step "7 bench_cuda_gemm 8192" 90 "$BL/gemm.txt" "$B/bench_cuda_gemm" 8192 &&
    figures gemm < <(sed -nE 's/^summary: gemm //p' "$BL/gemm.txt")
S1C_CUDA_ATTN=own step "7 bench_cuda_attn 4096 (own kernels)" 60 "$BL/attn_own.txt" "$B/bench_cuda_attn" 4096 &&
    figures attn < <(attn_rows "$BL/attn_own.txt" "own ")
# The price of determinism: steps 3 and 5 run cuDNN's deterministic SDPA backward (the default);
# the same with the dQ-accumulator graph (atomics, not bitwise reproducible) for comparison.
S1C_CUDA_ATTN=cudnn S1C_CUDA_ATTN_DETERMINISTIC=0 step "7 bench_cuda_attn (cuDNN, accumulator bwd)" 120 \
    "$BL/attn_acc.txt" "$B/bench_cuda_attn" && figures attn < <(attn_rows "$BL/attn_acc.txt" "accumulator bwd ")
f=$BL/train_1.5b_8k_acc.txt
S1C_CUDA_ATTN_DETERMINISTIC=0 step "7 bench_train_step 1.5b 8192 (accumulator bwd)" 150 "$f" "$B/bench_train_step" \
    --device cuda --shape 1.5b --tokens 8192 --seqlen 4096 --steps 5 --warmup 2 &&
    figures "train 1.5b accumulator bwd" < <(sed -nE 's/^summary: shape [^ ]+ device cuda //p' "$f" | grep -v 'NOT RUN$')
f=$BL/train_more.txt
step "7 bench_train_step 0.5b/1.5b" 150 "$f" "$B/bench_train_step" --device cuda --shape 0.5b --tokens 4096,16384 \
    --seqlen 4096 --steps 3 --warmup 1 &&
    figures "train 0.5b" < <(sed -nE 's/^summary: shape [^ ]+ device cuda //p' "$f" | grep -v 'NOT RUN$')

# ---- summary -------------------------------------------------------------------------------------
{
    echo
    echo "================ gpu_check summary ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), $(($(date +%s) - T_START)) s, $(left) s of ${BUDGET} left)"
    printf '%s\n' "${SUMMARY[@]}"
    [ $FAILED = 0 ] && echo "result: every step passed or was skipped, every benchmark printed its figure" ||
        echo "result: FAIL lines above (full log: gpu_check.log)"
} | tee "$OUTDIR/summary.txt"
exit $FAILED
