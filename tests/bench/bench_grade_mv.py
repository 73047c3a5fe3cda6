#!/usr/bin/env python3
"""Math-Verify on bench_grade's pairs (the peer of tests/bench/bench_grade.c; never run by CI).

Times Math-Verify's parse + verify (its default extraction, boxed answers first as in its tests)
on the same JSONL the C benchmark wrote, in the two modes the C side times: the answer part
after the end-of-thinking delimiter, and the whole generation. The gold answer is given as
"$gold$", the form Math-Verify expects. Prints the seconds and how many verdicts match the known
ones.

Usage: python3 tests/bench/bench_grade_mv.py PAIRS.jsonl DELIMITER   (pip install math-verify)
"""
import importlib.metadata
import json
import sys
import time

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
from math_verify import parser as mv_parser


def main():
    path, delim = sys.argv[1], sys.argv[2]
    pairs = [json.loads(line) for line in open(path)]
    targets = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    version = importlib.metadata.version("math-verify")
    for p in pairs[:20]:  # warm-up: imports, regex compilation, sympy's first calls
        verify(parse("$" + p["gold"] + "$", targets), parse(p["prediction"], targets))
    for mode in ("eval path", "whole text"):
        for cached in (mv_parser.parse_latex_cached, mv_parser.parse_expr_cached, mv_parser.extract_latex):
            cached.cache_clear()  # each mode starts from the same (empty) parse caches
        t0 = time.perf_counter()
        right = 0
        for p in pairs:
            text = p["prediction"]
            if mode == "eval path" and delim in text:
                text = text[text.rindex(delim) + len(delim):]
            ok = verify(parse("$" + p["gold"] + "$", targets), parse(text, targets))
            right += bool(ok) == p["expected"]
        dt = time.perf_counter() - t0
        print(f"math-verify {version} {mode}: {dt:.3f} s "
              f"({1e6 * dt / len(pairs):.1f} us per generation), {right}/{len(pairs)} verdicts as constructed")


if __name__ == "__main__":
    main()
