#!/usr/bin/env bash
# Toy analogue of the paper's Table 3 (length-control methods), each method run as the paper ran
# it: one model per control format, each SFT'd from the same base model (the quickstart's
# pretrained toy) with the same recipe on the same 1,000 problems, each in its own format
# (`s1c-data control`, data/control_data.h), each evaluated with its own prompt:
#   bf   the plain s1 format: budget forcing (and rejection sampling) at thinking-token caps;
#   tcc  "Think for up to N tokens.", N = the trace's thinking tokens rounded up to a power of two;
#   scc  "Think for up to N steps." and "<|im_start|>K steps left\n" before each step, K = N, N-1, ..;
#   ccc  the s1 harness's short / long thinking instruction (long: trace above the median length).
# The quickstart's own s1 model (curated 1,000) gets the budget-forcing rows too, for reference.
#   QS=experiments/out/quickstart bash experiments/toy/table3.sh
#   env: RS=0 skips rejection sampling; RS_TRIES (64); SEED (0: selection and SFT seed);
#        RETRAIN=1 retrains models that exist
# Per method: one row per setting, then Control (share of samples within the setting's own
# budget: tokens for BF / TCC / RS, steps for SCC), Scaling (mean slope of accuracy over mean
# thinking tokens between every pair of settings, accuracy points per thinking token) and
# Performance (best accuracy, with a 95% Wilson interval over the problems).
source "$(dirname "$0")/common.sh"
O="$QS/table3"
SEED="${SEED:-0}" RS="${RS:-1}" RS_TRIES="${RS_TRIES:-64}"
mkdir -p "$O/data" "$O/logs"
T0=$(date +%s)
stage() { printf '==> [%4ds] %s\n' $(( $(date +%s) - T0 )) "$*" >&2; }

# ---- training sets and models -------------------------------------------------------------
# The paper transforms s1K itself. The toy's curated 1,000 are its longest traces (6-10 lines,
# 47-80 thinking tokens: every N would be 64 or 128 and every step budget 16), so a model trained
# on them never sees the budgets it is asked for. All four models therefore train on 1,000
# problems drawn at random after the pool's quality, dedup, decontamination and difficulty
# filters (`curate --select random`: 1-8 steps), so they differ only in the control format.
# block_size 512 (the quickstart's SFT: 256) holds the class instruction, ~190 toy tokens.
ctl_model() {  # ctl_model NAME MODE|plain [control args...]: NAME's SFT model in $O/NAME/hf
  local name="$1" mode="$2"; shift 2
  if [ -f "$O/$name/hf/config.json" ] && [ "${RETRAIN:-0}" = 0 ]; then stage "$name: model exists, kept"; return; fi
  if [ "$mode" = plain ]; then cp "$O/data/random1k.jsonl" "$O/data/$name.jsonl"
  else "$BIN/s1c-data" control --mode "$mode" --in "$O/data/random1k.jsonl" --out "$O/data/$name.jsonl" "$@" 2>&1 |
    tee "$O/logs/$name-data.log" >&2; fi
  "$BIN/s1c-data" pack --tokenizer "$TOK" --in "$O/data/$name.jsonl" --out "$O/data/$name.h5" \
    --max-length 512 --overflow drop 2>&1 | grep 'records ->' >&2
  stage "$name: SFT from the base model (mpirun -np 2, configs/quickstart-sft.yaml, seed $SEED)"
  "${MPIRUN[@]}" "$BIN/s1c-train" --config "$ROOT/configs/quickstart-sft.yaml" \
    --set model.path="$QS/pretrain/hf" --set data.path="$O/data/$name.h5" --set output.dir="$O/$name" \
    --set data.block_size=512 --set train.seed="$SEED" --overwrite > "$O/logs/$name-sft.log" 2>&1
  grep -o 'step [0-9]*/[0-9]* | epoch [0-9.]* | loss [0-9.]*' "$O/logs/$name-sft.log" | tail -n 1 >&2
}
[ -d "$QS/pretrain/hf" ] || { echo "table3: $QS/pretrain/hf missing (the quickstart's base model)" >&2; exit 1; }
stage "random 1,000 from the pool (quality -> dedup -> decontamination -> difficulty -> random)"
"$BIN/s1c-data" curate --pool "$QS/pool.jsonl" --select random --n 1000 --seed "$SEED" --tokenizer "$TOK" \
  --decontam "$QS/heldout_all.jsonl" --out "$O/data/random1k.jsonl" > "$O/logs/random1k.log" 2>&1
ctl_model bf plain
ctl_model tcc token --tokenizer "$TOK"
ctl_model scc step --step-sep $'\n'
ctl_model ccc class --tokenizer "$TOK"

# ---- evaluation ---------------------------------------------------------------------------
ev() {  # ev MODEL DIR extra-args...
  local m="$1" d="$2"; shift 2
  rm -rf "$d"; mkdir -p "$(dirname "$d")"
  "${MPIRUN[@]}" "$BIN/s1c-infer" eval --model "$m" --benchmark "$QS/heldout.jsonl" "${INFER_OPTS[@]}" \
    --out "$d" "$@" > "$d.log" 2>&1
}
field() { grep -o "\"$2\":[^,}]*" "$1/summary.json" | head -n 1 | cut -d: -f2 | tr -d '\t '; }
row() {  # row LABEL DIR: one setting
  awk -v l="$1" -v a="$(field "$2" accuracy)" -v t="$(field "$2" mean_thinking_tokens)" \
      -v w="$(field "$2" within_budget)" -v s="$(grep -o '"thinking_steps":[0-9]*' "$2/samples.jsonl" |
        cut -d: -f2 | awk '{ s += $1; n++ } END { if (n) printf "%.2f", s / n }')" \
    'BEGIN { printf "  %-22s accuracy %5.1f%%  mean thinking %5.1f tokens%s  within budget %5.1f%%\n",
             l, 100 * a, t, s == "" ? "" : sprintf(" / %s steps", s), 100 * w }'
}
metrics() {  # metrics NAME DIR...: Control / Scaling / Performance over the settings
  local name="$1"; shift
  for d in "$@"; do
    printf '%s %s %s %s\n' "$(field "$d" within_budget)" "$(field "$d" mean_thinking_tokens)" \
      "$(field "$d" accuracy)" "$(field "$d" samples)"
  done | sort -k2 -g | awk -v n="$name" '{ w[NR] = $1; t[NR] = $2; a[NR] = $3; m[NR] = $4 }
    END { c = 0; p = 0; pn = 1; s = 0; k = 0
          for (i = 1; i <= NR; i++) { c += w[i]; if (a[i] > p) { p = a[i]; pn = m[i] }
            for (j = i + 1; j <= NR; j++) if (t[j] > t[i]) { s += (a[j] - a[i]) / (t[j] - t[i]); k++ } }
          z = 1.96; den = 1 + z * z / pn; mid = (p + z * z / (2 * pn)) / den
          half = z * sqrt(p * (1 - p) / pn + z * z / (4 * pn * pn)) / den
          printf "%-24s control %5.1f%%  scaling %6.2f  performance %5.1f%% [%4.1f, %4.1f]\n",
                 n, 100 * c / NR, k ? 100 * s / k : 0, 100 * p, 100 * (mid - half), 100 * (mid + half) }'
}
S1="$QS/sft/hf" BF="$O/bf/hf"
B=(8 16 32 64)
{
  echo "Table 3 analogue, $(date -u +%Y-%m-%dT%H:%MZ): $(wc -l < "$QS/heldout.jsonl") held-out problems, greedy; seed $SEED"
  dirs=(); for b in "${B[@]}"; do ev "$BF" "$O/bf-eval/$b" --max-thinking "$b"; row "cap $b" "$O/bf-eval/$b"; dirs+=("$O/bf-eval/$b"); done
  metrics "budget forcing" "${dirs[@]}"
  dirs=(); for b in "${B[@]}"; do ev "$S1" "$O/s1-bf/$b" --max-thinking "$b"; row "cap $b" "$O/s1-bf/$b"; dirs+=("$O/s1-bf/$b"); done
  metrics "BF, quickstart s1 model" "${dirs[@]}"
  dirs=(); for b in "${B[@]}"; do
    ev "$O/tcc/hf" "$O/tcc-eval/$b" --control token --control-budget "$b" --max-new 192
    row "N=$b tokens" "$O/tcc-eval/$b"; dirs+=("$O/tcc-eval/$b"); done
  metrics "token-conditional" "${dirs[@]}"
  dirs=(); for b in "${B[@]}"; do
    ev "$O/tcc/hf" "$O/tcc-bf/$b" --control token --control-budget "$b" --max-thinking "$b"
    row "N=$b, cap $b" "$O/tcc-bf/$b"; dirs+=("$O/tcc-bf/$b"); done
  metrics "token-conditional + BF" "${dirs[@]}"
  # The SCC model's thinking holds "<|im_start|>K steps left": only the whole end-of-thinking
  # delimiter may end it (--think-stop full), and its steps are counted between those delimiters.
  dirs=(); for s in 1 2 4 8; do
    ev "$O/scc/hf" "$O/scc-eval/$s" --control step --control-budget "$s" --step-delim '<|im_start|>' \
      --think-stop full --max-new 256
    row "N=$s steps" "$O/scc-eval/$s"; dirs+=("$O/scc-eval/$s"); done
  metrics "step-conditional" "${dirs[@]}"
  ev "$O/ccc/hf" "$O/class/short" --control class --class short --max-new 128; row "short" "$O/class/short"
  ev "$O/ccc/hf" "$O/class/long" --control class --class long --max-new 128; row "long" "$O/class/long"
  metrics "class-conditional" "$O/class/short" "$O/class/long"
  if [ "$RS" = 1 ]; then
    dirs=(); for b in "${B[@]}"; do
      ev "$BF" "$O/rs/$b" --control rejection --max-thinking "$b" --rejection-tries "$RS_TRIES" --temperature 1
      row "cap $b" "$O/rs/$b"; dirs+=("$O/rs/$b"); done
    metrics "rejection sampling" "${dirs[@]}"
  fi
  echo "table3: done in $(( $(date +%s) - T0 ))s"
} | tee "$O/table.txt"
