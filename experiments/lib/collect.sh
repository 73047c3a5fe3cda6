#!/usr/bin/env bash
# collect.sh OUT CSV...: merges s1c-infer sweep CSVs (same columns) into OUT/results.csv, prints
# the table, plots OUT/results.png (accuracy against average thinking tokens; budget-forcing
# points joined, other settings as separate points) and writes OUT/curve.txt:
#   "first_accuracy last_accuracy rises" of the first CSV (the budget sweep), rises = 1 when
#   accuracy never falls by more than 5 points from one budget to the next.
set -euo pipefail
OUT="$1"; shift
FIRST="$1"
{
  head -n 1 "$FIRST"
  for f in "$@"; do grep -v '^#' "$f" | tail -n +2; done
} > "$OUT/results.csv.tmp"
mv "$OUT/results.csv.tmp" "$OUT/results.csv"

# label,max_thinking,min_thinking,ignore,n_samples,accuracy,mean_thinking_tokens,max_thinking_tokens,...
awk -F, 'NR == 1 { printf "%-12s %8s %7s %9s %10s %14s %13s\n", "setting", "cap", "ignore", "samples", "accuracy", "mean thinking", "max thinking"; next }
         { printf "%-12s %8s %7s %9s %9.1f%% %14.1f %13s\n", $1, $2, $4, $5, 100 * $6, $7, $8 }' "$OUT/results.csv"
grep '^#' "$FIRST" | sed 's/^# /budget forcing: /' || true

grep -v '^#' "$FIRST" | awk -F, 'NR == 2 { first = $6 } NR > 1 { if (NR > 2 && $6 < prev - 0.05) bad = 1; prev = $6 }
  END { printf "%.4f %.4f %d\n", first, prev, bad ? 0 : 1 }' > "$OUT/curve.txt"
read -r A0 A1 RISES < "$OUT/curve.txt"
awk -v a="$A0" -v b="$A1" -v r="$RISES" 'BEGIN { printf "curve: %.1f%% at the smallest budget -> %.1f%% at the largest (%+.1f points), %s\n", 100*a, 100*b, 100*(b-a), r ? "rising" : "NOT monotone (within 5 points)" }'

# The extension rows (label ignore=N, one cap): no extension vs N x "Wait" on the same problems.
awk -F, '$1 ~ /^ignore=/ { n = substr($1, 8); a[n] = $6; cap = $2; if (n > max) max = n; seen = 1 }
  END { if (!seen) exit; line = sprintf("extension at cap %s:", cap)
        for (i = 0; i <= max; i++) if (i in a) line = line sprintf(" %s %.1f%%", i ? i "x Wait" : "no extension", 100 * a[i])
        print line }' "$OUT/results.csv"

if command -v gnuplot >/dev/null; then
  grep -v '^#' "$FIRST" > "$OUT/.budget.csv"
  { head -n 1 "$FIRST"; for f in "${@:2}"; do grep -v '^#' "$f" | tail -n +2; done; } > "$OUT/.other.csv"
  gnuplot <<GP
set terminal pngcairo size 800,560
set output '$OUT/results.png.tmp'
set datafile separator ','
set title 's1c quickstart: budget forcing on held-out toy problems'
set xlabel 'average thinking tokens'
set ylabel 'accuracy (%)'
set yrange [0:100]
set grid
set key bottom right
plot '$OUT/.budget.csv' every ::1 using 7:(\$6*100) with linespoints pt 7 ps 1.2 lw 2 title 'budget forcing (cap)', \
     '' every ::1 using 7:(\$6*100):1 with labels offset 0,1 font ',8' notitle, \
     '$OUT/.other.csv' every ::1 using 7:(\$6*100) with points pt 5 ps 1.6 title 'extension ("Wait")', \
     '' every ::1 using 7:(\$6*100):1 with labels offset 0,-1 font ',8' notitle
GP
  mv "$OUT/results.png.tmp" "$OUT/results.png"
  rm -f "$OUT/.budget.csv" "$OUT/.other.csv"
fi
