#!/usr/bin/env bash
# Toy analogue of the paper's Table 4 (extrapolation) and Figure 4a ("Wait" ×N): the quickstart's
# SFT model with the end of thinking suppressed, continuing with nothing, "Alternatively", "Hmm" or
# "Wait", against no extrapolation, at one cap (CAP, default 128 thinking tokens: room for 6
# re-checks after the longest toy trace) on all held-out problems (heldout_all.jsonl when the
# quickstart wrote it: 1,000 for the full quickstart). Per row: accuracy with a 95% interval, and
# the difference to no extrapolation on the same problems with a 95% paired interval.
#   QS=experiments/out/quickstart [CAP=128] [O=QS/table4] bash experiments/toy/table4.sh
source "$(dirname "$0")/common.sh"
O="${O:-$QS/table4}"
CAP="${CAP:-128}"
BENCH="$QS/heldout_all.jsonl"
[ -s "$BENCH" ] || BENCH="$QS/heldout.jsonl"
mkdir -p "$O"
run() {  # run NAME extra-args...
  local name="$1"; shift
  rm -rf "${O:?}/$name"
  "${MPIRUN[@]}" "$BIN/s1c-infer" eval --model "$QS/sft/hf" --benchmark "$BENCH" --out "$O/$name" \
    --max-thinking "$CAP" "${INFER_OPTS[@]}" "$@" > "$O/$name.log" 2>&1
}
run none
for w in 1 2 4 6; do run "${w}x-wait" --ignore "$w" --wait Wait; done
run 2x-empty --ignore 2 --wait ""
run 2x-alternatively --ignore 2 --wait Alternatively
run 2x-hmm --ignore 2 --wait Hmm
{
  echo "cap $CAP thinking tokens, $(wc -l < "$BENCH") held-out problems ($(basename "$BENCH")), greedy"
  for name in none 2x-empty 2x-alternatively 2x-hmm 2x-wait 1x-wait 4x-wait 6x-wait; do
    paired_row "$name" "$O/$name" "$O/none"
  done
} | tee "$O/table.txt"
