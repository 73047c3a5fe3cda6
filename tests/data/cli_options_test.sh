#!/bin/sh
# Command lines behave as people expect (issue 13 §8), for each program (or "program subcommand")
# given: --help and -h print a usage on stdout and exit 0; a mistyped flag is reported as unknown,
# also as the last word (a hand-rolled loop said "needs a value" there); a missing value is named;
# a stray operand is refused. All exit 2 without touching anything.
#   usage: cli_options_test.sh "PROGRAM [SUBCOMMAND]"...
set -u
fail=0
for cmd in "$@"; do
  # shellcheck disable=SC2086 # cmd is "program subcommand"
  for h in --help -h; do
    out=$($cmd $h 2>/dev/null); rc=$?
    [ $rc -eq 0 ] || { echo "FAIL: $cmd $h: exit $rc"; fail=1; }
    echo "$out" | grep -q "usage" || { echo "FAIL: $cmd $h: no usage on stdout"; fail=1; }
  done
  out=$($cmd --greedy 2>&1); rc=$?
  { [ $rc -eq 2 ] && echo "$out" | grep -q "unknown option --greedy"; } ||
    { echo "FAIL: $cmd --greedy (last word): exit $rc: $out"; fail=1; }
  out=$($cmd --greedy --help 2>&1); rc=$?
  { [ $rc -eq 2 ] && echo "$out" | grep -q "unknown option --greedy"; } ||
    { echo "FAIL: $cmd --greedy --help: exit $rc: $out"; fail=1; }
  out=$($cmd --frobnicate=3 2>&1); rc=$?
  { [ $rc -eq 2 ] && echo "$out" | grep -q "unknown option --frobnicate=3"; } ||
    { echo "FAIL: $cmd --frobnicate=3: exit $rc: $out"; fail=1; }
done
[ $fail -eq 0 ] && echo "cli_options_test: ok"
exit $fail
