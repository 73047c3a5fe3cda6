#!/usr/bin/env bash
# gpu_check.sh — the one command of a GPU session: the CUDA tests and issue 7's GPU benchmarks,
# everything teed into ${OUT:-gpu-results}/gpu_check.log, a summary table at the end.
#
#   scripts/gpu_check.sh            on the GPU machine (repository root or anywhere in the repo)
#   scripts/gpu_check.sh --tests | --bench   only the tests / only the benchmarks (two device calls
#                                   when one 10-minute call is not enough)
#   scripts/gpu_check.sh --bundle   on a build machine: build the CUDA binaries (build-gpu/) and pack
#                                   them with the shared libraries they need and Open MPI's runtime into
#                                   build-gpu-carry/s1c-gpu-bundle.tar.gz (~26 MB), for a GPU machine
#                                   whose image lacks OpenBLAS / MPI / HDF5 ... (the device tool's does,
#                                   and nothing can be installed there). Carry build-gpu-carry.
#
# On the GPU machine: with a bundle (the tarball, unpacked into build-gpu-bundle/ on first use) it
# runs the carried binaries (cuDNN, NCCL and cuBLASLt come from the machine: the CUDA toolkit or
# the python nvidia-* wheels); otherwise (or with S1C_GPU_NO_BUNDLE=1) it configures and builds
# build-gpu there (S1C_GPU_BUILD names another build folder). Then: the cuda tests (ctest -L cuda
# -V in a local build; the same programs one by one with a bundle, since ctest's files hold the
# build machine's paths), and the benchmarks (GEMM, attention, training-step MFU for 0.5B / 1.5B
# at 4K / 8K / 16K tokens, decode 0.5B batch 1 and 64). Every program runs under `timeout`, so a
# hang costs its bound, not the session; the whole run is sized for ~8 minutes on an H100.
# Without a GPU it prints "no GPU: skipped" and exits 0.
# Exit status on a GPU: 0 when every test passed (or skipped) and every benchmark printed its figure.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${S1C_GPU_BUILD:-build-gpu}
BUNDLE_TGZ=build-gpu-carry/s1c-gpu-bundle.tar.gz
BUNDLE_DIR=build-gpu-bundle  # where the tarball unpacks on the GPU machine
export PATH="/usr/local/cuda/bin:$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
TARGETS=(test_cuda_ops test_cuda_add_f32 test_cuda_decode test_nccl_collectives test_cuda_train test_cuda_train_cli
         s1c-train bench_cuda_gemm bench_cuda_attn bench_train_step bench_decode)

configure_build() {  # extra cmake args...; bounded: a stuck compiler must not eat the device call
    timeout 120 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DS1C_WERROR=ON -DS1C_CUDA=ON "$@" >/dev/null &&
        timeout 480 cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}"
}
DO_TESTS=1 DO_BENCH=1
case "${1:-}" in
--tests) DO_BENCH=0 ;;
--bench) DO_TESTS=0 ;;
--bundle | "") ;;
*) echo "usage: $0 [--tests | --bench | --bundle]" >&2; exit 2 ;;
esac

# ---- --bundle: build here, collect the non-system shared libraries next to the binaries ---------
if [ "${1:-}" = "--bundle" ]; then
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
    echo "gpu_check --bundle: done; carry '${BUNDLE_TGZ%/*}' with the device call and run scripts/gpu_check.sh there"
    exit 0
fi

# ---- no GPU: nothing to do ----------------------------------------------------------------------
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "gpu_check: no GPU: skipped (nvidia-smi finds no device); nothing built, tested or measured"
    exit 0
fi

# $OUT gets three files at most (the device tool returns at most 8, two folders deep): the log
# (every program's output is copied into it), summary.txt and ctest's verbose log. Per-program
# files and the tests' work folders (checkpoints) go to a scratch folder.
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
echo "gpu_check: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(uname -m)"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader
nvcc --version 2>/dev/null | tail -1

SUMMARY=()
FAILED=0
add() { SUMMARY+=("$(printf '%-34s %s' "$1" "$2")"); }

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
        for d in "$sp"/nvidia/*/lib; do [ -d "$d" ] && libdirs="$libdirs:$d"; done
    done
    export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export OMPI_MCA_mca_base_component_path="$ROOT/$BUILD/ompi/components"
    export PMIX_MCA_mca_base_component_path="$ROOT/$BUILD/ompi/pmix-components"
    export OMPI_MCA_ess_singleton_isolated=1  # a lone MPI process needs no daemon
    MPIRUN="$ROOT/$BUILD/ompi/mpirun"
    missing=$(ldd "$BUILD"/bin/* 2>/dev/null | grep 'not found' | sort -u)
    if [ -n "$missing" ]; then echo "gpu_check: libraries not found:"; echo "$missing"; fi
    add "build" "carried bundle"
    BUNDLE=1
else
    echo "== configure + build $BUILD (sm_90)"
    t0=$(date +%s)
    if ! configure_build -DCMAKE_CUDA_ARCHITECTURES=90; then
        echo "gpu_check: the build failed (missing OpenBLAS / MPI / HDF5 ...? build a bundle with"
        echo "  scripts/gpu_check.sh --bundle on a machine that has them and carry ${BUNDLE_TGZ%/*})"
        add "build" "FAILED"
        printf '%s\n' "${SUMMARY[@]}"
        exit 1
    fi
    add "build" "ok ($(($(date +%s) - t0)) s)"
    MPIRUN=$(command -v mpirun || echo mpirun)
    BUNDLE=0
fi
B=$ROOT/$BUILD/bin
echo "libraries the binaries use:"
ldd "$B/test_cuda_train" 2>/dev/null | grep -E 'cudart|cublas|cudnn|nccl|openblas|libmpi\.' | sed 's/^/  /'

# run NAME SECONDS OUTFILE CMD... : bounded, output kept in OUTFILE (and the log), status into
# the summary (77 = skipped). Not in a pipeline: the summary lives in this shell.
run() {
    local name=$1 secs=$2 out=$3
    shift 3
    echo
    echo "== $name: $*"
    local t0=$(date +%s)
    timeout --kill-after=10 "$secs" "$@" >"$out" 2>&1
    local rc=$?
    cat "$out"
    local dt=$(($(date +%s) - t0))
    case $rc in
    0) add "$name" "pass (${dt} s)" ;;
    77) add "$name" "skipped (${dt} s)" ;;
    124 | 137) add "$name" "TIMEOUT after ${secs} s"; FAILED=1 ;;
    *) add "$name" "FAIL rc=$rc (${dt} s)"; FAILED=1 ;;
    esac
    return $rc
}

# ---- tests ---------------------------------------------------------------------------------------
export ASAN_OPTIONS=protect_shadow_gap=0:detect_leaks=0
TL=$SCRATCH/tests
mkdir -p "$TL"
if [ $DO_TESTS = 1 ] && [ "$BUNDLE" = 0 ]; then
    echo
    echo "== ctest -L cuda (the np2 variants skip on one GPU); verbose output: $OUTDIR/ctest_cuda.log"
    timeout --kill-after=10 420 ctest --test-dir "$BUILD" -L cuda -V --timeout 300 >"$OUTDIR/ctest_cuda.log" 2>&1
    rc=$?
    # The figures the docs record (rel L2, worst differences) and any failure, then one row per test.
    grep -E 'rel|worst|agreement|SKIP|FAIL|rror' "$OUTDIR/ctest_cuda.log" | grep -v '^[0-9]*: *$' | head -100
    while IFS='|' read -r n st; do add "test $n" "$st"; done < <(sed -nE \
        's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) \.+ *\**([A-Za-z][A-Za-z ]*[a-z]) +([0-9.]+ sec)$/\1|\2 (\3)/p' \
        "$OUTDIR/ctest_cuda.log")
    grep -E 'tests passed|Total Test' "$OUTDIR/ctest_cuda.log"
    [ $rc = 0 ] || { FAILED=1; add "ctest" "exit $rc"; }
elif [ $DO_TESTS = 1 ]; then
    # The bundle cannot use ctest (its files hold the build machine's paths): the same programs
    # and arguments as tests/cuda/CMakeLists.txt, one GPU so one rank.
    MPIENV=(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
    run "test cuda_ops" 300 "$TL/cuda_ops.txt" "$B/test_cuda_ops"
    run "test cuda_add_f32" 60 "$TL/cuda_add_f32.txt" "$B/test_cuda_add_f32"
    run "test cuda_decode" 120 "$TL/cuda_decode.txt" "$B/test_cuda_decode" tests/fixtures/model/a \
        tests/fixtures/model/b tests/fixtures/infer/tiny
    run "test nccl_collectives_np1" 120 "$TL/nccl_np1.txt" "${MPIENV[@]}" "$B/test_nccl_collectives"
    rm -rf "$TL/train_work" "$TL/cli_work"
    run "test cuda_train_np1" 180 "$TL/train_np1.txt" "${MPIENV[@]}" "$B/test_cuda_train" "$TL/train_work"
    run "test cuda_train_cli_np1" 300 "$TL/train_cli_np1.txt" "${MPIENV[@]}" "$B/test_cuda_train_cli" "$MPIRUN" \
        "$B/s1c-train" "$ROOT" "$TL/cli_work" 1
fi

# ---- benchmarks ----------------------------------------------------------------------------------
BL=$SCRATCH/bench
mkdir -p "$BL"
# figures LABEL: one summary row per line of stdin; none is a failure (the program ran but
# measured nothing, e.g. its device was refused).
figures() {
    local n=0
    while read -r l; do add "  $1" "$l"; n=$((n + 1)); done
    [ $n -gt 0 ] || { add "  $1" "NO FIGURE (its output is in gpu_check.log)"; FAILED=1; }
}
# Rows of bench_cuda_attn's table: T n_seq | fwd ms bwd ms | fwd TF/s bwd TF/s.
attn_rows() { awk -v p="$2" '$1 ~ /^[0-9]+$/ && $3 == "|" {printf "%sT %s x%s seq: fwd %s, bwd %s TFLOP/s\n", p, $1, $2, $7, $8}' "$1"; }
if [ $DO_BENCH = 1 ]; then
    run "bench_cuda_gemm 8192" 150 "$BL/gemm.txt" "$B/bench_cuda_gemm" 8192
    figures gemm < <(sed -nE 's/^summary: gemm //p' "$BL/gemm.txt")

    run "bench_cuda_attn (auto: cuDNN)" 150 "$BL/attn.txt" "$B/bench_cuda_attn"
    figures attn < <(attn_rows "$BL/attn.txt" "")
    S1C_CUDA_ATTN=own run "bench_cuda_attn 4096 (own kernels)" 90 "$BL/attn_own.txt" "$B/bench_cuda_attn" 4096
    figures attn < <(attn_rows "$BL/attn_own.txt" "own ")

    for shape in 0.5b 1.5b; do
        f=$BL/train_$shape.txt
        run "bench_train_step $shape" 240 "$f" "$B/bench_train_step" --device cuda --shape "$shape" \
            --tokens 4096,8192,16384 --seqlen 4096 --steps 5 --warmup 2
        rc=$?
        # A token count that did not fit without recompute (refused, or the process ended in an op
        # that ran out of memory) is measured again with it.
        for t in 4096 8192 16384; do
            case $rc in 77 | 124 | 137) break ;; esac  # skipped or hung: no second try
            grep -qE "^summary: .* tokens $t .*: step" "$f" && continue
            run "bench_train_step $shape $t recompute" 180 "$f.recompute_$t" "$B/bench_train_step" --device cuda \
                --shape "$shape" --tokens "$t" --seqlen 4096 --steps 5 --warmup 2 --recompute
            cat "$f.recompute_$t" >>"$f"
        done
        figures "train $shape" < <(sed -nE 's/^summary: shape [^ ]+ device cuda //p' "$f" | grep -v 'NOT RUN$')
    done

    f=$BL/decode.txt
    run "bench_decode 0.5b" 180 "$f" "$B/bench_decode" --device cuda --shape 0.5b --prompt 128 --gen 64 \
        --prefill 512 --batches 1,64
    figures "decode 0.5b" < <(sed -nE 's/^summary: decode shape [^ ]+ device cuda //p' "$f")
fi

# ---- summary -------------------------------------------------------------------------------------
{
    echo
    echo "================ gpu_check summary ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), $(($(date +%s) - T_START)) s)"
    printf '%s\n' "${SUMMARY[@]}"
    [ $FAILED = 0 ] && echo "result: all tests passed or skipped, every benchmark ran" ||
        echo "result: FAILURES above (full log: $LOG)"
} | tee "$OUTDIR/summary.txt"
exit $FAILED
