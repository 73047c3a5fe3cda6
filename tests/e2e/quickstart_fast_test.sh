#!/usr/bin/env bash
# quickstart_fast_test.sh SRC BIN OUT: runs experiments/quickstart.sh --fast with the built
# binaries and checks what it promises: every output exists, the held-out accuracy rises with the
# thinking budget (largest at least 30 points above smallest, no fall of more than 5 points), and
# the per-sample records show forced ends at small budgets.
set -euo pipefail
SRC="$1" BIN="$2" OUT="$3"
rm -rf "$OUT"
bash "$SRC/experiments/quickstart.sh" --fast --no-setup --bin "$BIN" --out "$OUT"
fail() { echo "e2e_quickstart_fast: FAIL: $*" >&2; exit 1; }
for f in pool.jsonl heldout.jsonl heldout_all.jsonl s1k.jsonl s1k.jsonl.report.json pool.h5 s1k.h5 init/model.safetensors \
         pretrain/hf/model.safetensors sft/hf/model.safetensors sft/hf/tokenizer.json sweep/sweep.csv \
         wait/sweep.csv results.csv curve.txt; do
  [ -s "$OUT/$f" ] || fail "missing or empty $f"
done
if command -v gnuplot >/dev/null; then [ -s "$OUT/results.png" ] || fail "missing results.png"; fi
# --fast's 10K pool keeps 942 problems after the difficulty filter (1..6 steps), so the curated
# set is "all of them"; the full quickstart curates exactly 1,000.
n=$(wc -l < "$OUT/s1k.jsonl")
sel=$(grep -o '"selected":[^,}]*' "$OUT/s1k.jsonl.report.json" | cut -d: -f2 | tr -d '\t ')
[ "$n" = "$sel" ] && [ "$n" -ge 900 ] && [ "$n" -le 1000 ] || fail "curated $n records (report: $sel), expected 900..1000"
rows=$(grep -c '^budget=' "$OUT/results.csv"); [ "$rows" -ge 5 ] || fail "$rows budget rows, expected >= 5"
for r in 0 1 2; do grep -q "^ignore=$r," "$OUT/results.csv" || fail "no ignore=$r row (extension at one cap) in results.csv"; done
# The pool teaches re-checking: corrections after "Wait" appear in its traces.
grep -q 'n\(Wait\|Hmm\|Alternatively\) [0-9]' "$OUT/pool.jsonl" || fail "no self-verification lines in pool.jsonl"
read -r a0 a1 rises < "$OUT/curve.txt"
awk -v a="$a0" -v b="$a1" 'BEGIN { exit !(b - a >= 0.30) }' || fail "accuracy $a0 -> $a1: rise below 30 points"
[ "$rises" = 1 ] || fail "accuracy falls by more than 5 points between budgets"
# Smallest non-zero budget: most thinking must have been cut (forced), recorded per sample.
small=$(ls -d "$OUT"/sweep/budget_* | sort -t_ -k2 -n | sed -n 2p)
forced=$(grep -c '"thinking_end":"forced"' "$small/samples.jsonl" || true)
total=$(wc -l < "$small/samples.jsonl")
[ "$forced" -gt $(( total / 2 )) ] || fail "$small: only $forced of $total samples forced"
echo "e2e_quickstart_fast: ok (accuracy $a0 -> $a1, $forced/$total forced at $(basename "$small"))"
