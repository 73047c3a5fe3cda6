#!/usr/bin/env python3
"""Math-Verify's own test cases as data: tests/fixtures/grade/math_verify_cases.jsonl (never run by CI).

Runs the test suite of a Math-Verify source tree (the PyPI sdist `math_verify-X.Y.Z.tar.gz`
holds `tests/`) under pytest with a small plugin that, around every test function, wraps the
entry points the tests call and records each comparison they make:

  - `compare_strings(gold, pred, match_types, precision, strict, allow_set_relation_comp)`
    (tests/test_all.py's helper, also imported by test_boxed / test_strict / test_numina_cases /
    test_open_thoughts): one case per call, with those options and the verdict it returned;
  - `verify(parse(gold), parse(pred))` (tests/test_yujianll.py): one case, default options;
  - `parse(pred, [StringExtractionConfig(...)])` (tests/test_string_extraction.py): one letter
    extraction case per call (kind "letter"), with the letters Math-Verify extracted.

The verdict recorded is the value Math-Verify itself returned (the run asserts that the whole
suite passed, so it equals each test's expected value). Tests that compare sympy objects built
in Python (test_precision's sympy_expr_eq calls, gamma, timeout, config tests) have no
gold/prediction text and are not cases.

Usage: python3 tests/reference/make_grade_fixtures.py MATH_VERIFY_SRC_DIR [--out FILE]
  e.g. pip download math-verify==0.9.0 --no-binary :all: --no-deps; tar xzf math_verify-0.9.0.tar.gz
       python3 tests/reference/make_grade_fixtures.py math_verify-0.9.0
"""
import argparse
import importlib.metadata
import json
import os
import sys

import pytest

CASES = []


def _record(item, **fields):
    nodeid = item.nodeid.split("tests/", 1)[-1]
    CASES.append({"id": f"{nodeid}#{sum(1 for c in CASES if c['id'].startswith(nodeid + '#'))}", **fields})


class Recorder:
    def __init__(self):
        self.failed = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        mod = pyfuncitem.module
        saved = {}

        def patch(name, fn):
            saved[name] = getattr(mod, name)
            setattr(mod, name, fn)

        if hasattr(mod, "compare_strings"):
            orig = mod.compare_strings

            def compare_strings(gold, pred, match_types=["latex", "expr"], precision=6, strict=True,
                                allow_set_relation_comp=False):
                got = orig(gold, pred, match_types=match_types, precision=precision, strict=strict,
                           allow_set_relation_comp=allow_set_relation_comp)
                _record(pyfuncitem, kind="math", gold=gold, prediction=pred, expected=bool(got),
                        options={"match_types": list(match_types), "precision": precision, "strict": strict,
                                 "allow_set_relation_comp": allow_set_relation_comp})
                return got

            patch("compare_strings", compare_strings)
        elif mod.__name__.endswith("test_yujianll"):
            orig_parse, orig_verify = mod.parse, mod.verify
            texts = []

            def parse(text, *a, **k):
                texts.append(text)
                return orig_parse(text, *a, **k)

            def verify(g, p, *a, **k):
                got = orig_verify(g, p, *a, **k)
                _record(pyfuncitem, kind="math", gold=texts[-2], prediction=texts[-1], expected=bool(got),
                        options={"match_types": ["latex", "expr"], "precision": 6, "strict": True,
                                 "allow_set_relation_comp": False})
                return got

            patch("parse", parse)
            patch("verify", verify)
        elif mod.__name__.endswith("test_string_extraction"):
            orig_parse = mod.parse

            def parse(text, configs, *a, **k):
                got = orig_parse(text, configs, *a, **k)
                cfg = configs[0]
                _record(pyfuncitem, kind="letter", gold=None, prediction=text, expected=bool(got),
                        extracted=got[1] if got else None,
                        options={"strings": list(cfg.strings), "lowercase": cfg.lowercase})
                return got

            patch("parse", parse)
        outcome = yield
        for k, v in saved.items():
            setattr(mod, k, v)
        if outcome.excinfo is not None:
            self.failed.append(pyfuncitem.nodeid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src", help="Math-Verify source tree (holds tests/)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "grade",
                                                  "math_verify_cases.jsonl"))
    args = ap.parse_args()
    rec = Recorder()
    sys.path.insert(0, os.path.abspath(args.src))  # `from tests.test_all import compare_strings`
    rc = pytest.main(["-q", "-p", "no:cacheprovider", os.path.join(args.src, "tests")], plugins=[rec])
    if rc != 0 or rec.failed:
        sys.exit(f"Math-Verify's suite did not pass ({rec.failed}); refusing to write verdicts")
    version = importlib.metadata.version("math-verify")
    with open(args.out, "w") as f:
        for c in CASES:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(f"{len(CASES)} cases from math-verify {version} -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
