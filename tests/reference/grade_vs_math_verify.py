#!/usr/bin/env python3
"""s1c's grader against Math-Verify on pairs beyond Math-Verify's own suite (never run by CI).

Builds two sets of (gold, prediction) pairs, grades each with Math-Verify (parse + verify, boxed
answers first) and with `s1c-infer grade --format math`, and prints every difference:
  swap: the pairs of tests/fixtures/grade/math_verify_cases.jsonl with default options, swapped
        (prediction as gold), and each side against itself;
  gen:  MATH-style gold answers x equivalent and near-miss forms x answer templates.
Figures are recorded in docs/grading.md.

Usage: python3 tests/reference/grade_vs_math_verify.py BUILD/bin/s1c-infer [swap|gen]
       (pip install math-verify in a venv outside the repository)
"""
import json
import os
import subprocess
import sys
import tempfile

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

HERE = os.path.dirname(os.path.abspath(__file__))
# (gold, [equivalent forms], [different forms])
A = [
 ("\\frac{1}{2}", ["0.5", "\\dfrac12", "1/2", "\\frac{2}{4}", ".5", "\\left(\\frac{1}{2}\\right)"], ["0.51", "\\frac{1}{3}", "2", "-\\frac12"]),
 ("2\\sqrt{2}", ["\\sqrt{8}", "2 \\sqrt 2", "\\sqrt{2}\\cdot 2", "2.828427"], ["\\sqrt{2}", "2.83", "4"]),
 ("(1, 2)", ["\\left(1, 2\\right)", "(1,2)", "( 1 , 2 )"], ["(2, 1)", "[1, 2]", "(1, 3)"]),
 ("[0, 1)", ["[0,1)", "\\left[0, 1\\right)"], ["(0, 1)", "[0, 1]", "[0, 2)"]),
 ("\\{1, 2, 3\\}", ["\\{3, 2, 1\\}", "\\{1,2,3\\}"], ["\\{1, 2\\}", "\\{1, 2, 4\\}"]),
 ("3, 5", ["5, 3", "3,5"], ["3", "3, 6", "5"]),
 ("x^2 + 2x + 1", ["(x+1)^2", "x^2+2x+1", "1 + 2x + x^2"], ["x^2 + 1", "(x-1)^2"]),
 ("\\frac{\\pi}{4}", ["\\pi/4", "0.25\\pi", "0.785398"], ["\\pi", "\\frac{\\pi}{2}", "0.785"]),
 ("10\\%", ["10", "10\\%", "0.1", "10 percent"], ["11\\%", "1"]),
 ("-3", ["-3", "- 3", "-3.0"], ["3", "-3.1"]),
 ("1000", ["1,000", "1000", "1000.0", "1{,}000"], ["100", "10000"]),
 ("\\text{even}", ["\\text{Even}", "even", "\\textbf{even}"], ["\\text{odd}", "odd"]),
 ("x = 5", ["5", "x=5", "x = 5.0"], ["6", "x = 6"]),
 ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", ["\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2.0 \\end{pmatrix}"], ["\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}", "(1, 2)"]),
 ("(-\\infty, 3)", ["(-\\infty,3)", "x < 3"], ["(-\\infty, 3]", "(3, \\infty)"]),
 ("\\frac{3\\sqrt{3}}{2}", ["\\frac{3}{2}\\sqrt{3}", "1.5\\sqrt3", "2.598076"], ["\\frac{3\\sqrt{2}}{2}", "2.6"]),
 ("5\\sqrt{2}", ["\\sqrt{50}", "5 \\sqrt{2}"], ["5\\sqrt{3}", "7.07"]),
 ("\\$18.90", ["18.90", "18.9", "\\$18.90"], ["18.91", "19"]),
 ("2^{10}", ["1024", "2^{10}"], ["1023", "2^{9}"]),
 ("\\binom{5}{2}", ["10"], ["5"]),
 ("a + b", ["b + a"], ["a - b", "ab"]),
 ("y = 2x + 3", ["y=2x+3", "2x + 3 = y", "y - 2x = 3"], ["y = 2x - 3", "y = 3x + 2"]),
 ("\\frac{7}{2}", ["3\\frac{1}{2}", "3.5", "7/2"], ["\\frac{7}{3}", "3"]),
 ("0.\\overline{3}", ["\\frac{1}{3}", "1/3"], ["0.3", "0.33"]),
 ("90^\\circ", ["90", "90^{\\circ}", "90 degrees"], ["45", "180"]),
 ("\\text{(C)}", ["C", "\\text{C}", "(C)"], ["D", "\\text{(D)}"]),
 ("4, -2", ["-2, 4", "4,-2"], ["4, 2", "-4, 2"]),
 ("11", ["11", "011", "11.0"], ["12", "1.1"]),
 ("\\sqrt{3} - 1", ["-1 + \\sqrt{3}", "0.732050808"], ["1 - \\sqrt{3}", "\\sqrt{3} + 1"]),
 ("3 \\pm \\sqrt{5}", ["3+\\sqrt{5}, 3-\\sqrt{5}", "\\{3-\\sqrt5, 3+\\sqrt5\\}"], ["3+\\sqrt{5}", "3 \\pm \\sqrt{6}"]),
]
T = [
 "{}",
 "The answer is ${}$.",
 "Therefore, the answer is $\\boxed{{{}}}$.",
 "Thus we obtain \\[ \\boxed{{{}}} \\]",
 "Final Answer: The final answer is ${}$. I hope it is correct.",
 "So we get $x = 7$ first, then after more work the result is $\\boxed{{{}}}$. Done.",
 "<|im_start|>think\nLet me try $x = 42$.\n<|im_start|>answer\nAnswer: ${}$",
 "We compute step by step: $3 + 4 = 7$ and $2 \\cdot 7 = 14$.\n\n**Final Answer**\n\\boxed{{{}}}",
]


def swap_pairs():
    out = []
    for line in open(os.path.join(HERE, "..", "fixtures", "grade", "math_verify_cases.jsonl")):
        x = json.loads(line)
        o = x["options"]
        if x["kind"] != "math" or o["match_types"] != ["latex", "expr"] or o["precision"] != 6:
            continue
        for g, p in [(x["prediction"], x["gold"]), (x["gold"], x["gold"]), (x["prediction"], x["prediction"])]:
            out.append({"gold": g, "prediction": p})
    return out


def gen_pairs():
    return [{"gold": "$" + gold + "$", "prediction": t.format(form)}
            for gold, eqs, neqs in A for form in eqs + neqs for t in T]


def main():
    s1c, which = sys.argv[1], sys.argv[2]
    pairs = swap_pairs() if which == "swap" else gen_pairs()
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for p in pairs:
            f.write(json.dumps(p) + "\n")
    out = subprocess.run([s1c, "grade", "--format", "math", "--in", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    graded = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(graded) == len(pairs), out.stderr
    targets = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    differ = 0
    for p, r in zip(pairs, graded):
        mv = bool(verify(parse(p["gold"], targets), parse(p["prediction"], targets)))
        if mv != r["correct"]:
            differ += 1
            print(f"DIFF math-verify {int(mv)} s1c {int(r['correct'])}: gold {p['gold'][:100]!r} "
                  f"prediction {p['prediction'][-150:]!r} s1c read {r['extracted']!r}")
    print(f"{which}: {len(pairs) - differ}/{len(pairs)} agree")


if __name__ == "__main__":
    main()
