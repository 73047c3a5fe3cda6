#!/usr/bin/env bash
# Load benchmark of `s1c-infer serve` on the quickstart model's shape (experiments/toy-model,
# random weights from s1c-model-init: generation speed does not depend on the weights' values,
# and greedy decoding of random weights rarely stops early, so nearly every request makes
# max_tokens): requests/s, generated tokens/s, p50/p99 latency at 1, 8 and 32 concurrent clients.
#
#   bash tests/bench/bench_serve.sh [BUILD_DIR] [--model DIR] [--requests R] [--max-tokens T] [--clients LIST]
#
# Prints `uptime` before and after: figures taken while others load the machine are unreliable.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD="$ROOT/build"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then BUILD=$1; shift; fi
MODEL="" REQUESTS=4 MAX_TOKENS=64 CLIENTS=1,8,32
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --max-tokens) MAX_TOKENS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    *) echo "bench_serve.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
TMP=$(mktemp -d)
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT
if [ -z "$MODEL" ]; then
  MODEL=$TMP/model
  "$BUILD/bin/s1c-model-init" --config-json "$ROOT/experiments/toy-model/config.json" --out "$MODEL" \
    --tokenizer "$ROOT/experiments/toy-tokenizer" >/dev/null
fi
echo "uptime: $(uptime)"
"$BUILD/bin/s1c-infer" serve --model "$MODEL" --port 0 --max-batch 32 --quiet >"$TMP/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$TMP/serve.log")
[ -n "$PORT" ] || { cat "$TMP/serve.log"; exit 1; }
"$BUILD/bin/bench_serve" --port "$PORT" --clients "$CLIENTS" --requests "$REQUESTS" --max-tokens "$MAX_TOKENS"
echo "uptime after: $(uptime)"
