#!/bin/sh
# s1c-data pack on the inputs users have and the failures they meet (issue 13 §5–§7):
# a disk that fills up part-way (RLIMIT_FSIZE stands in for ENOSPC: the same failed writes).
#   usage: pack_inputs_test.sh S1C_DATA FIXTURES_DIR
set -u
bin=$1
fix=$2
tok=$fix/byte_tokenizer
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
say_fail() { echo "FAIL: $*"; fail=1; }

"$bin" synth --n 400 --seed 5 --out "$dir/pool.jsonl" >/dev/null 2>&1 || say_fail "synth"

# ---- a full disk at every stage of the write: a clean error, exit 1 (not 139 from libhdf5's
# exit handler), no temporary and no output left behind
"$bin" pack --tokenizer "$tok" --in "$dir/pool.jsonl" --out "$dir/full.h5" --skip-bad >/dev/null 2>&1 ||
  say_fail "pack without a limit"
for k in 1 2 3 4 6 8 12 16 24 32 48 64 96; do
  # the output goes through a pipe: a file would be under the limit too
  out=$( (trap '' XFSZ; ulimit -f $k; "$bin" pack --tokenizer "$tok" --in "$dir/pool.jsonl" --out "$dir/lim.h5" --skip-bad 2>&1; echo "rc=$?") )
  case "$out" in
    *"rc=0") [ -s "$dir/lim.h5" ] || say_fail "limit $k: exit 0 without output"; rm -f "$dir/lim.h5" ;;
    *"rc=1") echo "$out" | grep -q "File too large" || say_fail "limit $k: the cause is not named: $out"
             [ ! -e "$dir/lim.h5" ] || say_fail "limit $k: output left behind" ;;
    *) say_fail "limit $k: $out" ;;
  esac
  ls "$dir" | grep -q '\.tmp\.' && { say_fail "limit $k: temporary left behind"; rm -f "$dir"/*.tmp.*; }
done

# ---- what cJSON lets through: a key twice (cJSON reads the first, Python the last), NUL in a string
bad() {  # bad DESCRIPTION NEEDLE COMMAND... : must fail (exit 1) with NEEDLE in its output, no output file
  d=$1; needle=$2; shift 2
  "$@" >"$dir/log" 2>&1
  rc=$?
  if [ $rc -ne 1 ]; then say_fail "$d: exit $rc"; cat "$dir/log"
  elif ! grep -qF -- "$needle" "$dir/log"; then say_fail "$d: no '$needle' in:"; cat "$dir/log"; fi
  [ ! -e "$dir/bad.h5" ] || { say_fail "$d: output written"; rm -f "$dir/bad.h5"; }
}
ok='{"question": "q", "thinking_trajectories": ["t"], "attempt": "a"}'
printf '%s\n{"question": "q1", "question": "q2", "thinking_trajectories": ["t"], "attempt": "a"}\n' "$ok" >"$dir/dup.jsonl"
bad "duplicate key" 'dup.jsonl:2: duplicate key "question"' "$bin" pack --tokenizer "$tok" --in "$dir/dup.jsonl" --out "$dir/bad.h5"
bad "duplicate key (curate)" 'dup.jsonl:2: duplicate key "question"' "$bin" curate --pool "$dir/dup.jsonl" --n 1 --out "$dir/bad.h5" --length bytes
printf '%s\n%s\n{"question": "q", "thinking_trajectories": ["t1", "cut\\u0000here"], "attempt": "a"}\n' "$ok" "$ok" >"$dir/nul.jsonl"
bad "\\u0000" 'nul.jsonl:3: field "thinking_trajectories[1]": the escape \u0000' "$bin" pack --tokenizer "$tok" --in "$dir/nul.jsonl" --out "$dir/bad.h5"
printf '{"question": "raw\000nul", "thinking_trajectories": ["t"], "attempt": "a"}\n' >"$dir/raw.jsonl"
bad "raw NUL" 'raw.jsonl:1: field "question": a raw NUL byte inside a string (invalid JSON)' "$bin" pack --tokenizer "$tok" --in "$dir/raw.jsonl" --out "$dir/bad.h5"
printf '%s\n' "$ok" >"$dir/one.jsonl"
"$bin" pack --tokenizer "$tok" --in "$dir/one.jsonl" --out "$dir/one.h5" >"$dir/log" 2>&1 || { say_fail "control record"; cat "$dir/log"; }

# ---- stats: the largest id and the samples with no loss token (issue 13 §5); pack warns of them
printf '%s\n%s\n' "$ok" "$ok" >"$dir/two.jsonl"
"$bin" pack --tokenizer "$tok" --in "$dir/two.jsonl" --out "$dir/cut.h5" --max-length 10 >"$dir/log" 2>&1 || say_fail "pack --max-length 10"
grep -q "warning: 2 of 2 samples have no token in the loss (cut by --max-length" "$dir/log" || { say_fail "pack no-loss warning"; cat "$dir/log"; }
"$bin" stats "$dir/cut.h5" >"$dir/log" 2>&1 || say_fail "stats cut.h5"
grep -q "^no-loss  *2 samples" "$dir/log" || { say_fail "stats no-loss count"; cat "$dir/log"; }
"$bin" stats "$dir/one.h5" >"$dir/log" 2>&1 || say_fail "stats one.h5"
grep -q "^no-loss  *0 samples" "$dir/log" || { say_fail "stats no-loss 0"; cat "$dir/log"; }
# the byte tokenizer's largest id in this record: <|im_end|> (its special tokens follow the 256 bytes)
want=$("$bin" tokenize --tokenizer "$tok" <<EOT | tr -c '0-9\n' ' ' | tr ' ' '\n' | grep . | sort -n | tail -1
{"text": "<|im_start|><|im_end|>"}
EOT
)
grep -q "^largest id  *$want (sample 0)" "$dir/log" || { say_fail "stats largest id (want $want)"; cat "$dir/log"; }

# ---- a parquet, CSV or JSON-array file where JSONL is expected: diagnosed by name, with the fix (§7)
printf 'PAR1\025\004\025\377\376' >"$dir/in.parquet"
printf 'question,solution\n"a",b\n' >"$dir/in.csv"
printf '[{"question": "q"},\n {"question": "r"}]\n' >"$dir/in.json"
printf '[{"question": "q"}]\n' >"$dir/one_line.json"
bad "parquet" "in.parquet:1: this is a parquet file, not JSONL: convert it" "$bin" pack --tokenizer "$tok" --in "$dir/in.parquet" --out "$dir/bad.h5"
bad "csv" "in.csv:1: malformed JSON: this looks like a CSV file, not JSONL: convert it to JSONL" "$bin" pack --tokenizer "$tok" --in "$dir/in.csv" --out "$dir/bad.h5"
bad "json array" "in.json:1: malformed JSON: this looks like a JSON array" "$bin" pack --tokenizer "$tok" --in "$dir/in.json" --out "$dir/bad.h5"
bad "json array, one line" "one_line.json:1: this looks like a JSON array (one document holding a list), not JSONL: jq -c '.[]'" "$bin" pack --tokenizer "$tok" --in "$dir/one_line.json" --out "$dir/bad.h5"
bad "csv (curate)" "in.csv:1: malformed JSON: this looks like a CSV file" "$bin" curate --pool "$dir/in.csv" --n 1 --out "$dir/bad.h5" --length bytes

# ---- TRL formats and s1K-1.1 through the command line: the format read is printed (§7)
cat >"$dir/trl.jsonl" <<'EOT'
{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
{"prompt": "Q: 2+2=", "completion": " 4"}
{"text": "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\nans<|im_end|>\n"}
{"question": "q", "solution": "s", "deepseek_thinking_trajectory": "t", "deepseek_attempt": "a", "gemini_thinking_trajectory": "g", "gemini_attempt": "ga"}
EOT
"$bin" pack --tokenizer "$tok" --in "$dir/trl.jsonl" --out "$dir/trl.h5" --system "Be brief." >"$dir/log" 2>&1 || { say_fail "pack TRL formats"; cat "$dir/log"; }
for w in "1 record(s) read as messages" "1 record(s) read as prompt/completion" "1 record(s) read as pre-rendered text" \
         "1 record(s) read as s1K-1.1, recognised by its fields (trace 'deepseek_thinking_trajectory'"; do
  grep -qF -- "$w" "$dir/log" || { say_fail "pack: no '$w'"; cat "$dir/log"; }
done
"$bin" stats "$dir/trl.h5" >"$dir/log" 2>&1
grep -q "^trace  *deepseek" "$dir/log" || { say_fail "trace attribute of an s1K-1.1 file"; cat "$dir/log"; }
grep -q "system=Be brief." "$dir/log" || { say_fail "template attribute names --system"; cat "$dir/log"; }

# ---- getopt_long (issue 13 §8): --name=value and prefixes work; a missing value, a stray operand are named
"$bin" pack --tok="$tok" --in="$dir/one.jsonl" --out "$dir/eq.h5" >"$dir/log" 2>&1 || { say_fail "pack --name=value"; cat "$dir/log"; }
cmp -s "$dir/eq.h5" "$dir/one.h5" || say_fail "pack --name=value: another file"
out=$("$bin" pack --in "$dir/one.jsonl" --out "$dir/x.h5" --tokenizer 2>&1); rc=$?
{ [ $rc -eq 2 ] && echo "$out" | grep -q "option --tokenizer needs a value"; } || say_fail "pack missing value: $rc $out"
out=$("$bin" pack --in "$dir/one.jsonl" stray --out "$dir/x.h5" --tokenizer "$tok" 2>&1); rc=$?
{ [ $rc -eq 2 ] && echo "$out" | grep -q "unexpected argument 'stray'"; } || say_fail "pack stray operand: $rc $out"
[ ! -e "$dir/x.h5" ] || say_fail "output written after a command-line error"
out=$("$bin" stats "$dir/one.h5" "$dir/eq.h5" 2>&1); rc=$?
[ $rc -eq 2 ] || say_fail "stats with two files: $rc $out"

# ---- curate: a stage with nothing to act on, and --n past what is left, are warned of (issue 13 §5)
: >"$dir/bare.jsonl"
for i in 1 2 3 4 5; do
  printf '{"question": "What is %s + %s?", "solution": "%s", "thinking_trajectories": ["adding %s and %s gives %s"], "attempt": "%s"}\n' \
    $i $i $((i + i)) $i $i $((i + i)) $((i + i)) >>"$dir/bare.jsonl"
done
"$bin" curate --pool "$dir/bare.jsonl" --n 10 --out "$dir/sel.jsonl" --length bytes --preselect 'source_type~physics' \
  >"$dir/log" 2>&1 || { say_fail "curate bare pool"; cat "$dir/log"; }
for w in "no record has a difficulty probe field (isqwen7bcorrect, isqwen32bcorrect)" \
         "no record has the domain field" "no record matches the --preselect rule" \
         "--n 10 but only 5 record(s) left"; do
  grep -qF -- "warning: $w" "$dir/log" || { say_fail "curate warning '$w'"; cat "$dir/log"; }
done
"$bin" synth --n 300 --seed 2 --out "$dir/synth.jsonl" >/dev/null 2>&1
"$bin" curate --pool "$dir/synth.jsonl" --n 20 --out "$dir/sel2.jsonl" --length bytes --skip-bad >"$dir/log" 2>&1 ||
  { say_fail "curate synth pool"; cat "$dir/log"; }
grep -q "warning" "$dir/log" && { say_fail "curate warns on a complete pool"; cat "$dir/log"; }

[ $fail -eq 0 ] && echo "pack_inputs_test: ok"
exit $fail
