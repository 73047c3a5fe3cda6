#!/usr/bin/env bash
# lm-evaluation-harness against `s1c-infer serve` reproduces `s1c-infer eval` (not run by CI;
# lm-eval is not a dependency: `pip install lm-eval` in a virtualenv to use it).
#
#   bash experiments/serve/lm_eval_recipe.sh [--model DIR] [--benchmark FILE] [--max-thinking B]
#        [--max-new N] [--max-answer A] [--client lm_eval|python] [--bin DIR] [--out DIR]
#
# 1. s1c-infer eval on a MATH-format file (greedy, the given caps) → OUT/eval/samples.jsonl.
# 2. the server on the same model; the same problems sent the way lm-eval's local-completions
#    sends generate_until requests — with lm_eval itself (task lm_eval_task/s1c_serve_math.yaml,
#    --log_samples) when --client lm_eval, else by compare.py's standard-library client.
# 3. the server's generations graded by `s1c-infer grade` and compared with eval's: every
#    generation equal, same accuracy, same mean thinking tokens (exit 1 otherwise).
# Defaults: the tiny test model and tests/fixtures/infer/bench/math.jsonl (seconds on a CPU).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODEL=$ROOT/tests/fixtures/infer/tiny BENCH=$ROOT/tests/fixtures/infer/bench/math.jsonl
MAX_THINKING=24 MAX_NEW=64 MAX_ANSWER=16 CLIENT=python BIN=$ROOT/build/bin OUT=$ROOT/build/serve_lm_eval
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL=$2; shift 2 ;;
    --benchmark) BENCH=$2; shift 2 ;;
    --max-thinking) MAX_THINKING=$2; shift 2 ;;
    --max-new) MAX_NEW=$2; shift 2 ;;
    --max-answer) MAX_ANSWER=$2; shift 2 ;;
    --client) CLIENT=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "lm_eval_recipe: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
"$BIN/s1c-infer" eval --model "$MODEL" --benchmark "$BENCH" --format math --out "$OUT/eval" --quiet \
  --max-thinking "$MAX_THINKING" --max-new "$MAX_NEW" --max-answer "$MAX_ANSWER" --stop "<|im_end|>"
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true' EXIT
"$BIN/s1c-infer" serve --model "$MODEL" --model-name s1c --port 0 --quiet >"$OUT/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do grep -q "listening on" "$OUT/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$OUT/serve.log")
[ -n "$PORT" ] || { cat "$OUT/serve.log"; exit 1; }
URL=http://127.0.0.1:$PORT/v1/completions
if [ "$CLIENT" = lm_eval ]; then
  TASKS=$OUT/tasks; mkdir -p "$TASKS"
  sed -e "s|DATA_FILE|$BENCH|" -e "s|MAX_NEW|$MAX_NEW|" -e "s|MAX_THINKING|$MAX_THINKING|" \
      -e "s|MAX_ANSWER|$MAX_ANSWER|" "$HERE/lm_eval_task/s1c_serve_math.yaml" >"$TASKS/s1c_serve_math.yaml"
  # tokenized_requests=False: lm-eval sends the prompt text (no Hugging Face tokenizer needed).
  lm_eval --model local-completions --tasks s1c_serve_math --include_path "$TASKS" \
    --model_args "model=s1c,base_url=$URL,tokenized_requests=False,tokenizer_backend=None,num_concurrent=4,max_retries=1" \
    --log_samples --output_path "$OUT/lm_eval"
  python3 "$HERE/compare.py" lm_eval --samples "$(find "$OUT/lm_eval" -name 'samples_s1c_serve_math*.jsonl' | head -1)" \
    --out "$OUT/server.jsonl"
else
  python3 "$HERE/compare.py" client --url "$URL" --benchmark "$BENCH" --max-new "$MAX_NEW" \
    --max-thinking "$MAX_THINKING" --max-answer "$MAX_ANSWER" --out "$OUT/server.jsonl"
fi
"$BIN/s1c-infer" grade --format math --in "$OUT/server.jsonl" --out "$OUT/server_graded.jsonl"
python3 "$HERE/compare.py" check --eval "$OUT/eval" --graded "$OUT/server_graded.jsonl"
