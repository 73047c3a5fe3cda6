#!/usr/bin/env bash
# bench_llamacpp.sh — s1c vs llama.cpp on the CPU, side by side in one run (issue 16; not run by CI).
#
# One random Qwen2.5-0.5B-shaped bf16 checkpoint (s1c-model-init, the Qwen tokenizer fixture of
# ../shared/fixtures/qwen3-tokenizer) is run by s1c's bench_decode (--model; bf16 weights at both
# --matmul-precision settings, and fp32 weights) and, converted to GGUF F32 / BF16 / Q8_0 with
# llama.cpp's own convert_hf_to_gguf.py, by llama-bench (prefill 512, decode batch 1) and llama-batched-bench (32 sequences of 128-token
# prompts, 32 tokens each), all with the same thread count. llama.cpp is built from the
# llama-cpp-python source distribution on PyPI (its vendor/llama.cpp; CPU only, -march=native).
# Prints the table of docs/benchmarks.md and the machine's load (uptime) before and after.
#
#   tests/bench/bench_llamacpp.sh [BUILD_DIR]      (default build; needs bench_decode, s1c-model-init)
#   env: THREADS (2), WORK (BUILD_DIR/llamacpp-peer: downloads, llama.cpp build, venv, checkpoints),
#        LLAMA_CPP_PYTHON_VERSION (0.3.36), ROUNDS (1): rounds of all six runs, interleaved (s1c and
#        llama.cpp alternate within each round); with more than one the table holds each cell's
#        median and its range over the rounds: a shared VM's bandwidth drifts by tens of percent
#        within minutes, so single runs of batch-1 decode do not settle a 10% difference.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
WORK=${WORK:-$BUILD/llamacpp-peer}
VER=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
TOKENIZER=${TOKENIZER:-$ROOT/../shared/fixtures/qwen3-tokenizer}
mkdir -p "$WORK"
log() { echo "bench_llamacpp: $*" >&2; }

# ---- llama.cpp from the sdist -------------------------------------------------------------------
SRC=$WORK/llama_cpp_python-$VER/vendor/llama.cpp
if [ ! -x "$SRC/build/bin/llama-bench" ] || [ ! -x "$SRC/build/bin/llama-batched-bench" ]; then
  if [ ! -d "$SRC" ]; then
    log "downloading llama-cpp-python $VER (source distribution)"
    (cd "$WORK" && pip download --no-binary :all: --no-deps "llama-cpp-python==$VER" >&2 && tar xzf "llama_cpp_python-$VER.tar.gz")
  fi
  log "building llama-bench, llama-batched-bench (CPU, -j2; ~30 min on 2 loaded cores)"
  cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release -DGGML_CUDA=OFF -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >&2
  cmake --build "$SRC/build" -j2 --target llama-bench llama-batched-bench >&2
fi

# ---- Python for the converter (its requirements file's pins; torch from PyPI, which brings its CUDA
# packages along: the CPU-only index is not reachable here, and torch without them fails to import) --
PY=$WORK/venv/bin/python3
if ! "$PY" -c "import torch, numpy, transformers, sentencepiece" 2>/dev/null; then
  log "making the converter's venv (torch from PyPI: ~3 GB)"
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install "torch==2.11.0" "numpy~=2.2.6" "sentencepiece>=0.1.98,<0.3.0" "transformers==4.57.6" \
    "protobuf>=4.21.0,<5.0.0" safetensors >&2
fi

# ---- the checkpoint and its GGUF conversions -----------------------------------------------------
CK=$WORK/qwen2.5-0.5b-random
if [ ! -f "$CK/model.safetensors" ]; then
  log "random Qwen2.5-0.5B-shaped checkpoint (bf16)"
  "$BUILD/bin/s1c-model-init" --config-json "$ROOT/configs/models/qwen2.5-0.5b-instruct/config.json" --out "$CK" \
    --seed 1 --dtype bf16 --tokenizer "$TOKENIZER" >&2
fi
for t in f32 bf16 q8_0; do
  if [ ! -f "$WORK/model-$t.gguf" ]; then
    log "converting to GGUF $t"
    (cd "$SRC" && "$PY" convert_hf_to_gguf.py "$CK" --outtype "$t" --outfile "$WORK/model-$t.gguf" >&2)
  fi
done

# ---- runs ------------------------------------------------------------------------------------------
LOAD_BEFORE=$(uptime)
declare -A R
ROUND=1
s1c_run() {  # $1 weights dtype, $2 --matmul-precision (bf16: vdpbf16ps where the CPU has it), $3 result key
  local out
  out=$(OMP_NUM_THREADS=$THREADS "$BUILD/bin/bench_decode" --model "$CK" --weights-dtype "$1" --prompt 128 --gen 32 \
        --prefill 512 --batches 1,32 --matmul-precision "$2")
  echo "$out" >&2
  R[s1c_$3_pp_$ROUND]=$(sed -nE 's/^summary: .* prefill 512: ([0-9.]+) tokens.*/\1/p' <<<"$out")
  R[s1c_$3_tg1_$ROUND]=$(sed -nE 's/^summary: .* batch 1: ([0-9.]+) tokens.*/\1/p' <<<"$out")
  R[s1c_$3_tg32_$ROUND]=$(sed -nE 's/^summary: .* batch 32: ([0-9.]+) tokens.*/\1/p' <<<"$out")
  R[s1c_$3_bw_$ROUND]=$(sed -nE 's/^summary: .* batch 1: .*weights [a-z0-9]+ (.*read \([0-9]+%\)).*/\1/p' <<<"$out")
}
llama_run() {  # $1 gguf type
  local m=$WORK/model-$1.gguf out
  out=$("$SRC/build/bin/llama-bench" -m "$m" -t "$THREADS" -p 512 -n 32 -r 3 -o csv 2>/dev/null)
  echo "$out" >&2
  # csv: n_prompt, n_gen and avg_ts columns; the prompt row has n_gen 0, the generation row n_prompt 0
  R[ll_$1_pp_$ROUND]=$("$PY" -c 'import csv,sys
for r in csv.DictReader(sys.stdin):
    if r["n_prompt"]=="512" and r["n_gen"]=="0": print("%.1f"%float(r["avg_ts"]))' <<<"$out")
  R[ll_$1_tg1_$ROUND]=$("$PY" -c 'import csv,sys
for r in csv.DictReader(sys.stdin):
    if r["n_prompt"]=="0" and r["n_gen"]=="32": print("%.1f"%float(r["avg_ts"]))' <<<"$out")
  if [ "$1" != q8_0 ]; then
    out=$("$SRC/build/bin/llama-batched-bench" -m "$m" -t "$THREADS" -tb "$THREADS" -c 8192 -b 4096 -ub 512 \
          -npp 128 -ntg 32 -npl 32 2>/dev/null)
    echo "$out" >&2
    # table row: | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
    R[ll_$1_tg32_$ROUND]=$(awk -F'|' '$2+0==128 && $3+0==32 && $4+0==32 {gsub(/ /,"",$9); print $9}' <<<"$out")
  fi
}
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  [ "$ROUNDS" -gt 1 ] && log "round $ROUND of $ROUNDS"
  s1c_run bf16 bf16 bf16
  llama_run bf16
  s1c_run bf16 exact bf16x  # fp32 activations in every product (transformers' numerics)
  llama_run f32
  s1c_run fp32 bf16 fp32    # fp32 weights: the precision option does not apply
  llama_run q8_0
done
LOAD_AFTER=$(uptime)

# A cell: the one value, or with several rounds the median and the range (min-max).
v() {
  local vals=() r
  for ((r = 1; r <= ROUNDS; r++)); do [ -n "${R[$1_$r]:-}" ] && vals+=("${R[$1_$r]}"); done
  if [ ${#vals[@]} -eq 0 ]; then echo "—"; return; fi
  printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR] = $1}
    END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
         if (NR > 1) printf "%.1f (%s-%s)", m, a[1], a[NR]; else printf "%s", a[1]}'
}
bw() { local r out=""; for ((r = 1; r <= ROUNDS; r++)); do out+="${out:+; }${R[$1_$r]:-—}"; done; echo "$out"; }
echo
echo "| tokens/s ($THREADS threads) | s1c bf16 | s1c bf16, exact | s1c fp32 | llama.cpp F32 | llama.cpp BF16 | llama.cpp Q8_0 |"
echo "|---|---|---|---|---|---|---|"
echo "| prefill 512 | $(v s1c_bf16_pp) | $(v s1c_bf16x_pp) | $(v s1c_fp32_pp) | $(v ll_f32_pp) | $(v ll_bf16_pp) | $(v ll_q8_0_pp) |"
echo "| decode batch 1 | $(v s1c_bf16_tg1) | $(v s1c_bf16x_tg1) | $(v s1c_fp32_tg1) | $(v ll_f32_tg1) | $(v ll_bf16_tg1) | $(v ll_q8_0_tg1) |"
echo "| decode batch 32 (128-token prompts) | $(v s1c_bf16_tg32) | $(v s1c_bf16x_tg32) | $(v s1c_fp32_tg32) | $(v ll_f32_tg32) | $(v ll_bf16_tg32) | — |"
echo
echo "s1c batch-1 weight stream vs the run's own read bandwidth, per round: bf16 $(bw s1c_bf16_bw); fp32 $(bw s1c_fp32_bw)"
[ "$ROUNDS" -gt 1 ] && echo "cells: median (min-max) over $ROUNDS interleaved rounds"
echo "load before: $LOAD_BEFORE"
echo "load after:  $LOAD_AFTER"
