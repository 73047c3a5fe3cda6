# Shared by the toy-scale table scripts: QS = a finished full quickstart output directory
# (bash experiments/quickstart.sh --out QS), BIN = s1c binaries.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QS="${QS:-$ROOT/experiments/out/quickstart}"
BIN="${BIN:-$ROOT/build/bin}"
TOK="$ROOT/experiments/toy-tokenizer"
[ -d "$QS/sft/hf" ] || { echo "run bash experiments/quickstart.sh --out $QS first" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
MPIRUN=(mpirun -np 2 --oversubscribe)
INFER_OPTS=(--format aime --answer-prefix $'\nAnswer:' --max-answer 8 --max-batch 64 --quiet)
# summary_row NAME DIR: one table row from an eval's summary.json
summary_row() {
  local acc think within
  acc=$(grep -o '"accuracy":[^,]*' "$2/summary.json" | cut -d: -f2 | tr -d '\t ')
  think=$(grep -o '"mean_thinking_tokens":[^,]*' "$2/summary.json" | cut -d: -f2 | tr -d '\t ')
  within=$(grep -o '"within_budget":[^,]*' "$2/summary.json" | cut -d: -f2 | tr -d '\t ')
  awk -v n="$1" -v a="$acc" -v t="$think" -v w="$within" \
    'BEGIN { printf "%-28s accuracy %5.1f%%  mean thinking %6.1f  within budget %5.1f%%\n", n, 100*a, t, 100*w }'
}
# correct_by_index DIR: "index correct(0/1)" per sample of DIR/samples.jsonl (one sample per problem)
correct_by_index() {
  grep -o '"index":[0-9]*\|"correct":\(true\|false\)' "$1/samples.jsonl" |
    awk -F: '$1 == "\"index\"" { i = $2 } $1 == "\"correct\"" { print i, ($2 == "true") }'
}
# paired_row NAME DIR BASE_DIR: accuracy with a 95% Wilson interval, mean thinking tokens, and the
# difference to BASE_DIR (same problems) with a 95% paired interval: d = (b - c) / n over the b
# problems only DIR solves and the c only BASE solves, sd(d) = sqrt(b + c - (b - c)^2 / n) / n.
paired_row() {
  local think
  think=$(grep -o '"mean_thinking_tokens":[^,]*' "$2/summary.json" | cut -d: -f2 | tr -d '\t ')
  { correct_by_index "$3" | sed 's/^/B /'; correct_by_index "$2" | sed 's/^/X /'; } |
    awk -v name="$1" -v t="$think" '
      $1 == "B" { base[$2] = $3; next }
      { n++; x = $3; k += x; if ($2 in base) { if (x && !base[$2]) b++; if (!x && base[$2]) c++ } }
      END { p = k / n; z = 1.96; den = 1 + z * z / n; mid = (p + z * z / (2 * n)) / den
            half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
            d = (b - c) / n; sd = sqrt(b + c - (b - c) * (b - c) / n) / n
            printf "%-24s %5.1f%% [%4.1f, %4.1f]  thinking %5.1f  vs none %+5.1f [%+5.1f, %+5.1f] (+%d / -%d problems)\n",
                   name, 100 * p, 100 * (mid - half), 100 * (mid + half), t, 100 * d, 100 * (d - z * sd), 100 * (d + z * sd), b, c }'
}
