#!/usr/bin/env python3
"""Compares an OpenAI-client run against `s1c-infer serve` with `s1c-infer eval`'s samples.jsonl.

  compare.py client  --url URL --benchmark FILE --max-new N --max-thinking B --max-answer A --out FILE
      sends each problem as lm-eval's local-completions does for generate_until (prompt string in
      the s1 format, max_tokens, temperature 0, stop, plus the budget fields), writes
      {"gold", "prediction", "thinking_tokens"} lines for `s1c-infer grade`.
  compare.py lm_eval --samples FILE --out FILE
      converts lm-eval's --log_samples output (samples_*.jsonl) into the same lines.
  compare.py check   --eval DIR --graded FILE
      the eval run's samples.jsonl and summary.json vs the graded server lines: every generation
      equal, same accuracy, same mean thinking tokens. Exit 1 on any difference.
Standard library only (Python is not a dependency of s1c; this is a recipe, not a test).
"""
import argparse
import json
import sys
import urllib.request

SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def s1_prompt(question):
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n"
            "<|im_start|>assistant\n<|im_start|>think")


def client(a):
    out = []
    for line in open(a.benchmark, encoding="utf-8"):
        if not line.strip():
            continue
        p = json.loads(line)
        body = {"prompt": s1_prompt(p["problem"]), "max_tokens": a.max_new, "temperature": 0.0,
                "stop": ["<|im_end|>"], "seed": 1234, "max_answer_tokens": a.max_answer}
        if a.max_thinking >= 0:
            body["max_thinking_tokens"] = a.max_thinking
        req = urllib.request.Request(a.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        r = json.load(urllib.request.urlopen(req))
        c = r["choices"][0]
        out.append({"gold": str(p["answer"]), "prediction": c["text"], "thinking_tokens": c["thinking"]["thinking_tokens"]})
    with open(a.out, "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def lm_eval(a):
    with open(a.out, "w", encoding="utf-8") as f:
        for line in open(a.samples, encoding="utf-8"):
            s = json.loads(line)
            pred = s["resps"][0][0] if isinstance(s["resps"][0], list) else s["resps"][0]
            f.write(json.dumps({"gold": str(s["doc"]["answer"]), "prediction": pred}, ensure_ascii=False) + "\n")


def check(a):
    ev = [json.loads(l) for l in open(f"{a.eval}/samples.jsonl", encoding="utf-8")]
    summary = json.load(open(f"{a.eval}/summary.json", encoding="utf-8"))
    sv = [json.loads(l) for l in open(a.graded, encoding="utf-8")]
    bad = 0
    if len(ev) != len(sv):
        print(f"eval has {len(ev)} samples, the server run {len(sv)}")
        return 1
    for e, s in zip(ev, sv):
        if e["generation"] != s["prediction"]:
            bad += 1
            print(f"problem {e['index']}: generations differ\n  eval:   {e['generation'][:200]!r}\n  server: {s['prediction'][:200]!r}")
    acc = sum(1 for s in sv if s["correct"]) / len(sv)
    print(f"generations equal: {len(ev) - bad}/{len(ev)}")
    print(f"accuracy: eval {summary['accuracy']:.4f}  server {acc:.4f}")
    if "thinking_tokens" in sv[0]:
        mt = sum(s["thinking_tokens"] for s in sv) / len(sv)
        print(f"mean thinking tokens: eval {summary['mean_thinking_tokens']:.2f}  server {mt:.2f}")
        bad += abs(mt - summary["mean_thinking_tokens"]) > 1e-9
    return 1 if bad or abs(acc - summary["accuracy"]) > 1e-12 else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client")
    c.add_argument("--url", required=True)
    c.add_argument("--benchmark", required=True)
    c.add_argument("--max-new", type=int, required=True)
    c.add_argument("--max-thinking", type=int, default=-1)
    c.add_argument("--max-answer", type=int, required=True)
    c.add_argument("--out", required=True)
    l = sub.add_parser("lm_eval")
    l.add_argument("--samples", required=True)
    l.add_argument("--out", required=True)
    k = sub.add_parser("check")
    k.add_argument("--eval", required=True)
    k.add_argument("--graded", required=True)
    a = ap.parse_args()
    sys.exit({"client": client, "lm_eval": lm_eval, "check": check}[a.cmd](a) or 0)


if __name__ == "__main__":
    main()
