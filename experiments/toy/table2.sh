#!/usr/bin/env bash
# Toy analogue of the paper's Table 2 (data ablations) on a pool whose selection axes are real
# (data/synth_axes.h): WRONG of the traces carry an uncorrected slip (wrong attempt, which curation
# cannot see), DEFECTS are sloppy (the quality filter's catch), probe difficulty weighs '*' steps
# up (--probe-structure 1), and the pool's domains are skewed (DOMAIN_MIX) while the held-out set
# is balanced. Self-contained: synth -> pretrain a base on the pool -> SFT the same base on
# 1K-s1, 1K-random, 1K-diverse, 1K-longest and the full quality-filtered pool -> greedy eval at
# budget BUDGET on HELDOUT balanced held-out problems. Intervals: 95% Wilson per row and a 95%
# paired interval of the difference to 1K-s1 on the same problems, pooled over SEEDS (each seed:
# its own curation draw and SFT seed; same base and held-out set).
# The base pretrains on the traces of problems of at most BASE_MAX_STEPS steps (and of the
# BASE_TRACES domains); every other record of the pool is pretrained as a question/answer pair with
# an empty thinking section (the trace removed). So the base reasons step by step on short
# problems and answers long ones at once, as the paper's base answered without long reasoning:
# long traces come from the SFT set alone. BASE_MAX_STEPS=0 BASE_TRACES=all pretrains on every
# trace (the runs before 2026-12-04: the base learned all of the reasoning in pretraining, and SFT
# on any 1,000 could not differ).
# The full pool is SFT'd for FULL_STEPS optimizer steps (default 189, the 1K sets' 3 epochs of 63
# steps: same compute, 3,024 of its ~16K examples seen once); FULL_STEPS=0: one whole epoch.
#   bash experiments/toy/table2.sh [OUT]          (OUT defaults to experiments/out/table2)
# Knobs (env): POOL=20000 HELDOUT=400 SEEDS="0 1 2" BUDGET=48 WRONG=0.15 DEFECTS=0.15 DOMAIN_MIX=0.55,0.15,0.15,0.15
#   STRUCTURE=1 SEED=0 (pool and base) PRE_EPOCHS=3 BASE_MAX_STEPS=4 (0: no limit) BASE_TRACES=all (or a
#   comma list of domains) FULL_STEPS=189
#   SETS="s1 random diverse longest full"
#   TABLE_ONLY=1: print the table from the runs already in OUT (e.g. SEEDS=0 after an interruption)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O="${1:-$ROOT/experiments/out/table2}"
BIN="${BIN:-$ROOT/build/bin}"
TOK="$ROOT/experiments/toy-tokenizer"
POOL="${POOL:-20000}" SEEDS="${SEEDS:-0 1 2}" HELDOUT="${HELDOUT:-400}" BUDGET="${BUDGET:-48}" SEED="${SEED:-0}"
WRONG="${WRONG:-0.15}" DEFECTS="${DEFECTS:-0.15}" DOMAIN_MIX="${DOMAIN_MIX:-0.55,0.15,0.15,0.15}"
STRUCTURE="${STRUCTURE:-1}" PRE_EPOCHS="${PRE_EPOCHS:-3}" BASE_TRACES="${BASE_TRACES:-all}"
BASE_MAX_STEPS="${BASE_MAX_STEPS:-4}"
FULL_STEPS="${FULL_STEPS:-189}" SETS="${SETS:-s1 random diverse longest full}"
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 S1C_PROGRESS=0
MPIRUN=(mpirun -np 2 --oversubscribe)
INFER_OPTS=(--format aime --answer-prefix $'\nAnswer:' --max-answer 8 --max-batch 64 --quiet)
mkdir -p "$O"
O=$(cd "$O" && pwd)
T0=$(date +%s)
stage() { printf '==> [%4ds] %s\n' $(( $(date +%s) - T0 )) "$*"; }

if [ -z "${TABLE_ONLY:-}" ]; then
stage "synth: $POOL problems (1..8 steps), wrong $WRONG, defects $DEFECTS, structure $STRUCTURE, domains $DOMAIN_MIX"
"$BIN/s1c-data" synth --n "$POOL" --seed "$SEED" --max-steps 8 --heldout "$HELDOUT" --heldout-out "$O/heldout.jsonl" \
  --slips 0.08 --rechecks 0.08 --wrong "$WRONG" --defects "$DEFECTS" --probe-structure "$STRUCTURE" \
  --domain-mix "$DOMAIN_MIX" --out "$O/pool.jsonl" 2> "$O/synth.log"
cat "$O/synth.log"
if [ ! -f "$O/base/hf/model.safetensors" ]; then
  stage "pretrain the base on the pool ($PRE_EPOCHS epochs; traces of $BASE_TRACES domains up to $BASE_MAX_STEPS steps (0: all), the rest question/answer only)"
  # pretrain.jsonl: the pool with the thinking section emptied outside BASE_TRACES / BASE_MAX_STEPS
  jq -c --arg keep "$BASE_TRACES" --argjson maxk "$BASE_MAX_STEPS" '
    if ($keep == "all" or (.domain | IN($keep | split(",")[]))) and
       ($maxk == 0 or ((.metadata | fromjson? | .steps) // 0) <= $maxk) then .
    else .thinking_trajectories = [""] end' "$O/pool.jsonl" > "$O/pretrain.jsonl"
  "$BIN/s1c-data" pack --tokenizer "$TOK" --in "$O/pretrain.jsonl" --out "$O/pool.h5" --skip-bad > "$O/pack.log" 2>&1
  "$BIN/s1c-model-init" --config-json "$ROOT/experiments/toy-model/config.json" --seed "$SEED" --tokenizer "$TOK" \
    --out "$O/init" > "$O/init.log"
  "${MPIRUN[@]}" "$BIN/s1c-train" --config "$ROOT/configs/quickstart-pretrain.yaml" --set model.path="$O/init" \
    --set data.path="$O/pool.h5" --set output.dir="$O/base" --set train.epochs="$PRE_EPOCHS" --overwrite \
    > "$O/pretrain.log" 2>&1
fi
for seed in $SEEDS; do
for sel in $SETS; do
  d="$O/$sel/seed$seed"
  mkdir -p "$d"
  steps=0
  if [ "$sel" = full ]; then n=1000000 mode=random epochs=1 steps=$FULL_STEPS; else n=1000 mode=$sel epochs=3; fi
  "$BIN/s1c-data" curate --pool "$O/pool.jsonl" --n "$n" --seed "$seed" --select "$mode" --tokenizer "$TOK" \
    --decontam "$O/heldout.jsonl" --out "$d/train.jsonl" > "$d/curate.log" 2>&1
  "$BIN/s1c-data" pack --tokenizer "$TOK" --in "$d/train.jsonl" --out "$d/train.h5" > "$d/pack.log"
  stage "$sel seed $seed: $(wc -l < "$d/train.jsonl") examples, $([ "$steps" -gt 0 ] && echo "$steps steps" || echo "$epochs epoch(s)")"
  "${MPIRUN[@]}" "$BIN/s1c-train" --config "$ROOT/configs/quickstart-sft.yaml" --set model.path="$O/base/hf" \
    --set data.path="$d/train.h5" --set output.dir="$d/sft" --set train.epochs="$epochs" --set train.max_steps="$steps" --set train.seed="$seed" \
    --overwrite > "$d/sft.log" 2>&1
  rm -rf "$d/sweep"
  "${MPIRUN[@]}" "$BIN/s1c-infer" sweep --model "$d/sft/hf" --benchmark "$O/heldout.jsonl" --out "$d/sweep" \
    --budgets "$BUDGET" "${INFER_OPTS[@]}" > "$d/sweep.log" 2>&1
done
done
fi
# The base before SFT, same budget and problems (each domain: does its reasoning come from SFT?).
if [ ! -s "$O/base/sweep/budget_$BUDGET/samples.jsonl" ]; then
  "${MPIRUN[@]}" "$BIN/s1c-infer" sweep --model "$O/base/hf" --benchmark "$O/heldout.jsonl" --out "$O/base/sweep" \
    --budgets "$BUDGET" "${INFER_OPTS[@]}" > "$O/base/sweep.log" 2>&1
fi
# Per set: what it holds (wrong attempts, domain shares, mean steps) and how it does.
composition() {  # composition TRAIN.jsonl: wrong% and the addsub/muladd/minmax/mixed shares
  grep -o '"solution":"[0-9]*"\|"attempt":"Answer: [0-9]*"\|"domain":"[a-z]*"' "$1" |
    awk -F'"' '/solution/ { s = $4 } /attempt/ { split($4, a, " "); w += (a[2] != s); n++ }
               /domain/ { c[$4]++ }
               END { printf "wrong %4.1f%%  dom %2.0f/%2.0f/%2.0f/%2.0f", 100 * w / n, 100 * c["addsub"] / n,
                     100 * c["muladd"] / n, 100 * c["minmax"] / n, 100 * c["mixed"] / n }'
}
correct_by_index() {  # correct_by_index SETDIR: "seed:index correct" per seed and held-out problem
  local s
  for s in $SEEDS; do
    grep -o '"index":[0-9]*\|"correct":\(true\|false\)' "$1"/seed"$s"/sweep/budget_*/samples.jsonl |
      awk -F: -v s="$s" '$1 == "\"index\"" { i = $2 } $1 == "\"correct\"" { print s ":" i, ($2 == "true") }'
  done
}
train_lines() { cat "$1"/seed*/train.jsonl | wc -l | awk -v k="$(echo $SEEDS | wc -w)" '{ print int($1 / k) }'; }
{
  echo "# table2.sh $(date -u +%F) seeds $SEEDS (rows pool all seeds' samples) pool $POOL pool-seed $SEED wrong $WRONG defects $DEFECTS structure $STRUCTURE mix $DOMAIN_MIX; base: $PRE_EPOCHS epochs, traces of $BASE_TRACES up to $BASE_MAX_STEPS steps; full: ${FULL_STEPS} steps (0: 1 epoch); budget $BUDGET, $HELDOUT balanced held-out"
  printf '%-8s %6s  %-34s %-20s %s\n' set train composition "accuracy [95%]" "vs 1K-s1 [95% paired]"
  for sel in $SETS; do
    d="$O/$sel"
    { correct_by_index "$O/s1" | sed 's/^/B /'; correct_by_index "$d" | sed 's/^/X /'; } |
      awk -v name="$sel" -v tr="$(train_lines "$d")" -v comp="$(composition <(cat "$d"/seed*/train.jsonl))" '
        $1 == "B" { base[$2] = $3; next }
        { n++; x = $3; k += x; if ($2 in base) { if (x && !base[$2]) b++; if (!x && base[$2]) c++ } }
        END { p = k / n; z = 1.96; den = 1 + z * z / n; mid = (p + z * z / (2 * n)) / den
              half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
              d = (b - c) / n; sd = sqrt(b + c - (b - c) * (b - c) / n) / n
              printf "%-8s %6d  %-34s %5.1f%% [%4.1f, %4.1f]  %+5.1f [%+5.1f, %+5.1f]\n", name, tr, comp,
                     100 * p, 100 * (mid - half), 100 * (mid + half), 100 * d, 100 * (d - z * sd), 100 * (d + z * sd) }'
  done
  # Accuracy per held-out domain (the held-out set cycles addsub, muladd, minmax, mixed).
  printf '%-8s  per held-out domain: addsub muladd minmax mixed\n' ""
  for sel in base $SETS; do
    if [ "$sel" = base ]; then
      grep -o '"index":[0-9]*\|"correct":\(true\|false\)' "$O"/base/sweep/budget_*/samples.jsonl |
        awk -F: '$1 == "\"index\"" { i = $2 } $1 == "\"correct\"" { print "0:" i, ($2 == "true") }'
    else correct_by_index "$O/$sel"; fi |
      awk -v name="$sel" '{ split($1, f, ":"); i = f[2] % 4; n[i]++; k[i] += $2 }
        END { printf "%-8s  %5.1f%% %5.1f%% %5.1f%% %5.1f%%   all %5.1f%%\n", name, 100*k[0]/n[0], 100*k[1]/n[1], 100*k[2]/n[2],
                     100*k[3]/n[3], 100*(k[0]+k[1]+k[2]+k[3])/(n[0]+n[1]+n[2]+n[3]) }'
  done
  # Accuracy by the problem's number of steps (k = 1..8, from heldout.jsonl): short vs long problems.
  printf '%-8s  per held-out steps:   k=1    k=2    k=3    k=4    k=5    k=6    k=7    k=8\n' ""
  for sel in base $SETS; do
    if [ "$sel" = base ]; then
      grep -o '"index":[0-9]*\|"correct":\(true\|false\)' "$O"/base/sweep/budget_*/samples.jsonl |
        awk -F: '$1 == "\"index\"" { i = $2 } $1 == "\"correct\"" { print "0:" i, ($2 == "true") }'
    else correct_by_index "$O/$sel"; fi |
      awk -v name="$sel" 'NR == FNR { if (match($0, /"steps":[0-9]+/)) k[FNR - 1] = substr($0, RSTART + 8, RLENGTH - 8); next }
        { split($1, f, ":"); s = k[f[2]]; n[s]++; c[s] += $2 }
        END { printf "%-8s                      ", name; for (s = 1; s <= 8; s++) printf " %5.1f%%", n[s] ? 100 * c[s] / n[s] : 0; printf "\n" }' \
        "$O/heldout.jsonl" -
  done
} | tee "$O/table.txt"
stage done
