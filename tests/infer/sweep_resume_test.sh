#!/bin/sh
# sweep --n 4 writes pass@k / maj@k / stderr (summary.json and sweep.csv); a second sweep with
# --resume skips the finished settings, runs only the new one and writes lm-eval's files too.
# usage: sweep_resume_test.sh S1C_INFER SOURCE_DIR WORK_DIR
set -eu
bin=$1 src=$2 out=$3
fx="--model $src/tests/fixtures/infer/tiny --benchmark $src/tests/fixtures/infer/bench/math.jsonl --format math"
fail() { echo "FAIL: $*" >&2; exit 1; }
export SOURCE_DATE_EPOCH=1733200000
rm -rf "$out"
"$bin" sweep $fx --budgets 0,4 --max-answer 4 --n 4 --temperature 0.8 --out "$out" --quiet
head -1 "$out/sweep.csv" | grep -q 'samples_per_problem,accuracy_stderr,pass_at_n,maj_at_n$' || fail "csv header"
[ "$(grep -c '^budget=' "$out/sweep.csv")" = 2 ] || fail "csv rows after the first sweep"
for k in '"accuracy_stderr"' '"pass_at_k"' '"maj_at_k"' '"by_subject"' '"by_level"' '"benchmark_sha256"' \
         '"model_config_sha256"' '"date":	"2024-12-03T04:26:40Z"' '"stop_ids"' '"answer_prefix"'; do
  grep -qF "$k" "$out/budget_4/summary.json" || fail "summary.json lacks $k"
done
before=$(cat "$out/budget_4/samples.jsonl" | cksum)
log=$("$bin" sweep $fx --budgets 0,4,8 --max-answer 4 --n 4 --temperature 0.8 --out "$out" --resume \
      --output-format lm-eval 2>&1)
echo "$log"
echo "$log" | grep -q 'budget=0 .*skipped (--resume)' || fail "budget 0 not skipped"
echo "$log" | grep -q 'budget=4 .*skipped (--resume)' || fail "budget 4 not skipped"
echo "$log" | grep -q 'budget=8 .*problems *2 *samples *8' || fail "budget 8 not run"
# stderr is not a terminal here: whole progress lines, the last one at the end of the setting.
echo "$log" | grep -q '^\[s1c-infer\] budget=8: 8/8 samples .*tok/s .*ETA' || fail "no progress line"
[ "$(cat "$out/budget_4/samples.jsonl" | cksum)" = "$before" ] || fail "a skipped setting was rewritten"
[ "$(grep -c '^budget=' "$out/sweep.csv")" = 3 ] || fail "csv rows after the resumed sweep"
ls "$out/budget_8/results_2024-12-03T04-26-40Z.json" "$out/budget_8/samples_openai_math_2024-12-03T04-26-40Z.jsonl" \
  >/dev/null || fail "lm-eval files"
grep -q '"exact_match,none"' "$out/budget_8/results_2024-12-03T04-26-40Z.json" || fail "lm-eval results"
grep -q '"filtered_resps"' "$out/budget_8/samples_openai_math_2024-12-03T04-26-40Z.jsonl" || fail "lm-eval samples"
# A changed option is not a finished setting: --resume with another seed reruns it.
log=$("$bin" sweep $fx --budgets 4 --max-answer 4 --n 4 --temperature 0.8 --seed 9 --out "$out" --resume 2>&1)
echo "$log" | grep -q 'skipped' && fail "a setting with other options was skipped"
echo "sweep_resume_test: ok"
