#!/bin/sh
# Runs one libFuzzer harness from a fuzz build (see README.md).
#   tests/fuzz/run.sh BUILD_DIR TARGET [SECONDS] [extra libFuzzer flags...]
# The corpus starts from the committed seeds (tests/fuzz/seeds/<name>) and the repository's
# fixtures; it grows in BUILD_DIR/fuzz-corpus/TARGET (never committed). Crashes land in
# BUILD_DIR/fuzz-crashes/TARGET.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR TARGET [SECONDS] [libFuzzer flags...]" >&2; exit 2; }
build=$1 target=$2 secs=${3:-240}
shift 2; [ $# -ge 1 ] && shift
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/bin/$target
[ -x "$bin" ] || { echo "$bin: not built (cmake --build $build --target s1c_fuzzers)" >&2; exit 2; }
corpus=$build/fuzz-corpus/$target crashes=$build/fuzz-crashes/$target
mkdir -p "$corpus" "$crashes"

seed() { for f in "$@"; do [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; done; return 0; }
name=${target#fuzz_}
[ -d "$src/tests/fuzz/seeds/$name" ] && seed "$src/tests/fuzz/seeds/$name"/*
case $name in
  qwen2_config)     seed "$src"/tests/fixtures/model/*/config.json "$src"/tests/fixtures/infer/tiny/config.json ;;
  tokenizer_load)   seed "$src"/tests/data/fixtures/byte_tokenizer/tokenizer.json \
                         "$src"/experiments/toy-tokenizer/tokenizer.json "$src"/tests/fixtures/infer/tiny/tokenizer.json ;;
  tokenizer_encode) seed "$src"/tests/e2e/toy_tokenizer_cases.jsonl "$src"/tests/fixtures/infer/bench/*.jsonl ;;
  train_config)     seed "$src"/configs/*.yaml ;;
  packed)           seed "$src"/tests/data/fixtures/h5py_packed.h5 ;;
esac

# Dictionaries: JSON syntax and the keys the JSON parsers look up; YAML for the recipe.
dict=
case $name in
  safetensors|st_index|qwen2_config|tokenizer_load|pool|bench|prompts|rules) dict=-dict=$src/tests/fuzz/json.dict ;;
  train_config) dict=-dict=$src/tests/fuzz/yaml.dict ;;
esac

# One thread for OpenMP regions inside the parsers: the machine's cores are shared. Leaks inside
# libhdf5 are suppressed as in CI (tests/lsan.supp): H5Fopen leaks on its own error path when a
# corrupt file fails to open (seen with fuzz_packed), which no caller can free.
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
OMP_NUM_THREADS=1 exec "$bin" "$corpus" -artifact_prefix="$crashes/" -max_total_time="$secs" \
  -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 $dict "$@"
