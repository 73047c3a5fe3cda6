#!/bin/sh
# s1c-data control (the Table 3 conditional-control training records): the token budget is the
# trace's thinking tokens (as `s1c-data tokenize` counts the trace and its newline) rounded up to
# a power of two, the step records count down, and bad input fails naming the file, line and field.
#   usage: control_cli_test.sh S1C_DATA FIXTURES_DIR
set -u
bin=$1
tok=$2/byte_tokenizer
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
say_fail() { echo "FAIL: $*"; fail=1; }

cat > "$dir/in.jsonl" <<'J'
{"question":"mod 10: 1 +2 *2","solution":"6","thinking_trajectories":["1+2=3\n3*2=6"],"attempt":"Answer: 6"}
{"question":"mod 10: 4 +2","solution":"6","thinking_trajectories":["4+2=6"],"attempt":"Answer: 6"}

{"question":"mod 10: 5 +1 +1 +1 +1","solution":"9","thinking_trajectories":["5+1=6","6+1=7\n7+1=8\n8+1=9"],"attempt":"Answer: 9"}
J
"$bin" control --mode token --tokenizer "$tok" --in "$dir/in.jsonl" --out "$dir/tcc.jsonl" 2>"$dir/err" ||
  say_fail "token mode: $(cat "$dir/err")"
# independent count: the byte tokenizer's ids of trace + "\n"
for t in '1+2=3\n3*2=6\n' '4+2=6\n' '5+1=6\n6+1=7\n7+1=8\n8+1=9\n'; do
  printf '{"text":"%s"}\n' "$t" | "$bin" tokenize --tokenizer "$tok" | tr -cd ',\n' | awk '{ print length($0) + 1 }'
done > "$dir/want_tokens"
grep -o '"thinking_tokens":[0-9]*' "$dir/tcc.jsonl" | cut -d: -f2 > "$dir/got_tokens"
cmp -s "$dir/want_tokens" "$dir/got_tokens" || say_fail "thinking tokens $(tr '\n' ' ' < "$dir/got_tokens") != $(tr '\n' ' ' < "$dir/want_tokens")"
# 12 -> 16, 6 -> 8, 24 -> 32
grep -o 'Think for up to [0-9]* tokens\."' "$dir/tcc.jsonl" | tr '\n' '|' | grep -qx 'Think for up to 16 tokens\."|Think for up to 8 tokens\."|Think for up to 32 tokens\."|' ||
  say_fail "token prompts: $(grep -o 'Think for up to [^"]*' "$dir/tcc.jsonl" | tr '\n' '|')"
grep -q '"control_budget":16' "$dir/tcc.jsonl" || say_fail "control_budget field"
[ "$(wc -l < "$dir/tcc.jsonl")" -eq 3 ] || say_fail "one record per input record (blank lines skipped)"

"$bin" control --mode step --step-sep '
' --in "$dir/in.jsonl" --out "$dir/scc.jsonl" 2>"$dir/err" || say_fail "step mode: $(cat "$dir/err")"
grep -qF '"thinking_trajectories":["<|im_start|>2 steps left\n1+2=3\n<|im_start|>1 steps left\n3*2=6"]' "$dir/scc.jsonl" ||
  say_fail "2-step trace: $(head -n 1 "$dir/scc.jsonl")"
grep -qF '"question":"mod 10: 4 +2\n\nThink for up to 1 steps."' "$dir/scc.jsonl" || say_fail "1-step question"
# two trajectories joined by a newline: 4 steps, budget 4
grep -qF '<|im_start|>4 steps left\n5+1=6\n<|im_start|>3 steps left\n6+1=7' "$dir/scc.jsonl" || say_fail "joined trajectories"
grep -q 'budgets: 1:1 2:1 4:1' "$dir/err" || say_fail "summary line: $(cat "$dir/err")"

# class: the median of 12, 6, 24 thinking tokens is 12: only the 24-token trace is long
"$bin" control --mode class --tokenizer "$tok" --in "$dir/in.jsonl" --out "$dir/ccc.jsonl" 2>"$dir/err" ||
  say_fail "class mode: $(cat "$dir/err")"
grep -o '"control_class":"[a-z]*"' "$dir/ccc.jsonl" | tr '\n' ' ' | grep -qx '"control_class":"short" "control_class":"short" "control_class":"long" ' ||
  say_fail "classes: $(grep -o '"control_class":"[a-z]*"' "$dir/ccc.jsonl" | tr '\n' ' ')"
grep -qF '"question":"mod 10: 4 +2\n\nAnswer after a short amount of thinking. Do not spend excessive time double-checking your work."' "$dir/ccc.jsonl" ||
  say_fail "short question: $(sed -n 2p "$dir/ccc.jsonl")"
grep -qF '+1 +1\n\nAnswer after a long amount of thinking. If you feel like' "$dir/ccc.jsonl" || say_fail "long question"
grep -q 'median thinking 12 tokens: 2 short, 1 long' "$dir/err" || say_fail "class summary: $(cat "$dir/err")"

# ---- bad input: exit 2 for usage, 1 for data, the file:line and field named, no output left
"$bin" control --mode token --in "$dir/in.jsonl" --out "$dir/x.jsonl" 2>"$dir/err"
[ $? -eq 2 ] && grep -q -- '--tokenizer' "$dir/err" || say_fail "token mode without a tokenizer: $(cat "$dir/err")"
"$bin" control --mode words --in "$dir/in.jsonl" --out "$dir/x.jsonl" 2>"$dir/err"
[ $? -eq 2 ] && grep -q "expected token, step or class" "$dir/err" || say_fail "bad mode: $(cat "$dir/err")"
printf '%s\n' '{"question":"q","thinking_trajectories":["1+1=2"]}' '{"thinking_trajectories":["1+1=2"]}' > "$dir/bad.jsonl"
"$bin" control --mode step --in "$dir/bad.jsonl" --out "$dir/x.jsonl" 2>"$dir/err"
[ $? -eq 1 ] && grep -q "bad.jsonl:2: field 'question'" "$dir/err" || say_fail "missing question: $(cat "$dir/err")"
[ ! -e "$dir/x.jsonl" ] || say_fail "output left behind after an error"
printf '%s\n' '{"question":"q","thinking_trajectories":[3]}' > "$dir/bad.jsonl"
"$bin" control --mode step --in "$dir/bad.jsonl" --out "$dir/x.jsonl" 2>"$dir/err"
[ $? -eq 1 ] && grep -q "bad.jsonl:1: field 'thinking_trajectories'" "$dir/err" || say_fail "bad trace: $(cat "$dir/err")"
printf '%s\n' '{"question":"q","thinking_trajectories":[" \n "]}' > "$dir/bad.jsonl"
"$bin" control --mode step --in "$dir/bad.jsonl" --out "$dir/x.jsonl" 2>"$dir/err"
[ $? -eq 1 ] && grep -q "no step" "$dir/err" || say_fail "empty trace: $(cat "$dir/err")"
exit $fail
