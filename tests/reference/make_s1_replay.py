#!/usr/bin/env python3
"""Replays s1's budget-forcing loop with transformers greedy decoding on a tiny checkpoint.

The checkpoint is tests/fixtures/infer/tiny_s1/ (written here): the committed tiny fixture's
tokenizer, and a random Qwen2 (hidden 32, 2 layers, bf16) drawn with std 0.3 so greedy paths do
not collapse into one repeated token (tests/fixtures/infer/tiny, std 0.02, writes token 74 for
ever and never ends thinking), with the embedding row of <|im_start|> set to twice that of a
token the model writes often (TRIGGER), so thinking ends on its own after a handful of tokens.

Source of the loop: the s1 repository's lm-evaluation-harness fork,
eval/lm-evaluation-harness/lm_eval/models/vllm_causallms.py, `_model_generate` (simplescaling/s1).
What it does, restated (this file is our own code, not a copy):

  prompt  = chat prompt ("... <|im_start|>assistant\n") + thinking_start ("<|im_start|>think")
  thinking: vLLM calls with max_tokens = the thinking budget (every call gets the full budget),
            stop token ids = the until_thinking tokens (<|im_start|>, and the task's stop
            <|im_end|>) plus the model's eos; min_tokens = 1 whenever thinking_n_ignore is given
            (else min_tokens_thinking, when given). A call that stopped (not 'length') and is not
            the last has its stop token cut and the ignore string ("Wait") appended; the next call
            continues from there. After the last call the accumulated ids are cut to the budget.
  end:      finish 'length' -> "\n" (unless the accumulated text ends with one) +
            "<|im_start|>answer\nFinal Answer:"; otherwise the stop token is cut and
            "<|im_start|>answer" appended.
  answer:   one more call (max_tokens = the answer budget here, stop at <|im_end|>).

vLLM is replaced by a greedy decoder over transformers' Qwen2ForCausalLM in float32 (a fresh KV
cache per call, as each vLLM call re-prefills). Stop tokens count inside max_tokens and win over
the length limit, as in vLLM. Ids at or above the tokenizer's size (the checkpoint's padding rows)
are never picked (s1c's vocab_limit); vLLM would consider them, so a case where one of them
would have won a step is not kept. Each case records the smallest top-2 logit
margin over its greedy path; cases under MARGIN are not kept, so fp32 round-off cannot flip a
token between this and the C engine.

Writes tests/fixtures/infer/s1_replay.json, read by tests/infer/test_infer_s1_replay.c.

Usage: python3 tests/reference/make_s1_replay.py [--root .]
"""
import argparse
import json
import os
import random

import torch
import transformers
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

MARGIN = 1e-3
SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
THINK_START = "<|im_start|>think"
THINK_END = "<|im_start|>answer"
FORCED_END = THINK_END + "\nFinal Answer:"
MAX_ANSWER = 16


class Greedy:
    """vLLM's generate for one prompt, greedy: returns (ids, finish_reason, min margin)."""

    def __init__(self, model, vocab_limit):
        self.model = model
        self.vocab_limit = vocab_limit

    @torch.no_grad()
    def generate(self, prompt, max_tokens, stop_ids, min_tokens=0):
        out, margin = [], float("inf")
        past = None
        feed = torch.tensor([prompt], dtype=torch.long)
        while True:
            res = self.model(input_ids=feed, past_key_values=past, use_cache=True)
            past = res.past_key_values
            full = res.logits[0, -1].clone()
            if len(out) < min_tokens:  # vLLM min_tokens: stop ids cannot be sampled yet
                for s in stop_ids:
                    full[s] = float("-inf")
            if int(torch.argmax(full)) >= self.vocab_limit:
                margin = float("-inf")  # a padding row would have won: the case is not kept
            logits = full[: self.vocab_limit]
            top = torch.topk(logits, 2)
            margin = min(margin, float(top.values[0] - top.values[1]))
            tok = int(top.indices[0])
            out.append(tok)
            if tok in stop_ids:  # checked before the length, as vLLM's stop checker does
                return out, "stop", margin
            if len(out) >= max_tokens:
                return out, "length", margin
            feed = torch.tensor([[tok]], dtype=torch.long)


def s1_loop(g, tok, prompt_ids, budget, n_ignore=None, ignore_str="Wait", min_tokens_thinking=None):
    """s1's _model_generate for one request; returns (generated ids after the prompt, info)."""
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids
    im_start, im_end = enc("<|im_start|>")[0], enc("<|im_end|>")[0]
    stop_ids = [im_start, im_end]  # until_thinking + the task's stop (<|im_end|>, also the eos)
    req = prompt_ids + enc(THINK_START)
    if n_ignore is not None:
        min_tokens = 1
    else:
        min_tokens = min_tokens_thinking or 0
    margin = float("inf")
    calls = 1 if n_ignore is None else n_ignore + 1
    acc, text, finish = [], "", None
    segments = []
    cur = list(req)
    for i in range(calls):
        cont, finish, m = g.generate(cur, budget, stop_ids, min_tokens)
        margin = min(margin, m)
        segments.append({"tokens": len(cont), "finish": finish, **({"stop_id": cont[-1]} if finish == "stop" else {})})
        if finish == "length" or i == calls - 1:
            acc += cont
            text += tok.decode(cont, skip_special_tokens=True)
            break
        if cont and cont[-1] in stop_ids:
            cont = cont[:-1]
        cont = cont + enc(ignore_str)
        text += tok.decode(cont, skip_special_tokens=True)
        acc += cont
        cur = cur + cont
    acc = acc[:budget]  # "Generated more than max_tokens: cutting"
    if acc and acc[-1] in stop_ids:
        acc = acc[:-1]
    if finish == "length":
        end = enc(FORCED_END) if text.endswith("\n") else enc("\n") + enc(FORCED_END)
        how = "forced"
    else:
        end = enc(THINK_END)
        how = "natural"
    full = req + acc + end
    ans, afin, m = g.generate(full, MAX_ANSWER, [im_end])
    margin = min(margin, m)
    if afin == "stop":
        ans = ans[:-1]
    gen = full[len(req):] + ans
    return gen, {"prompt_ids": req, "thinking_tokens": len(acc), "end": how, "answer_finish": afin, "segments": segments,
                 "min_margin": margin}


TRIGGER = 462


def make_model(root):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    src = os.path.join(root, "tests/fixtures/infer/tiny")
    out = os.path.join(root, "tests/fixtures/infer/tiny_s1")
    os.makedirs(out, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(src, f), "rb") as a, open(os.path.join(out, f), "wb") as b:
            b.write(a.read())
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=512, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
                      rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=True, eos_token_id=508,
                      bos_token_id=None, initializer_range=0.3)
    model = Qwen2ForCausalLM(cfg).to(torch.bfloat16)
    with torch.no_grad():
        e = model.model.embed_tokens.weight
        e[507] = e[TRIGGER] * 2  # exact in bf16
    model.save_pretrained(out, safe_serialization=True)
    p = os.path.join(out, "generation_config.json")
    if os.path.exists(p):
        os.remove(p)
    return out


def prompt_text(question):
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n"
            f"<|im_start|>assistant\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=".")
    ap.add_argument("--tries", type=int, default=400)
    args = ap.parse_args()
    d = make_model(args.root)
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    model.eval()
    g = Greedy(model, tok.get_vocab_size())
    rng = random.Random(7)
    words = ["what", "is", "the", "sum", "of", "2", "3", "x", "prime", "find", "a", "number", "solve",
             "how", "many", "ways", "\n", "$", "+", "=", "?", "<|im_start|>", "<|im_end|>", "answer", "Wait"]
    # Natural thinking ends: find questions whose greedy thinking stops on its own.
    found = []
    for t in range(args.tries):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(2, 12)))
        p = tok.encode(prompt_text(q), add_special_tokens=False).ids
        gen, info = s1_loop(g, tok, p, 48)
        if info["end"] == "natural" and info["min_margin"] >= MARGIN and info["thinking_tokens"] >= 3:
            found.append((q, p, info["thinking_tokens"]))
            print(f"try {t}: natural end after {info['thinking_tokens']} tokens: {q!r}")
        if len(found) >= 3:
            break
    if not found:
        raise SystemExit("the tiny model never ends thinking on its own in these prompts")
    cases = []

    def add(name, q, p, s1c_opts, differs=None, **kw):
        gen, info = s1_loop(g, tok, p, **kw)
        if info["min_margin"] < MARGIN:
            print(f"skip {name}: margin {info['min_margin']:.2e}")
            return None
        extra = {"differs": differs} if differs else {}
        cases.append({"name": name, "question": q, **extra, "s1": {k: v for k, v in kw.items()},
                      "s1c": s1c_opts, "expected_ids": gen, **info})
        print(f"{name}: thinking {info['thinking_tokens']} {info['end']}, segments {info['segments']}")
        return info

    for qi, (q, p, L) in enumerate(found):
        for B in (L - 1, L, L + 1, L + 2):
            add(f"q{qi}_cap_{B}_natural_{L}", q, p, {"max_thinking": B}, budget=B)
        ig = add(f"q{qi}_ignore1_wait", q, p, {"max_thinking": 64, "ignore": 1}, budget=64, n_ignore=1)
        if ig and ig["end"] == "natural" and len(ig["segments"]) == 2:
            # A known difference: s1 gives every thinking call the whole budget and only cuts the
            # accumulated ids afterwards, so a last segment that stopped beyond the budget ends with
            # the plain delimiter; s1c forces the end (newline, delimiter, "Final Answer:") at B.
            T = ig["thinking_tokens"]
            for B in (T - 1, T):
                add(f"q{qi}_ignore1_cap_{B}_differs", q, p, {"max_thinking": B, "ignore": 1},
                    differs="s1 cuts the ids at the cap and appends the delimiter only (its last call stopped); "
                            "s1c forces the end at the cap", budget=B, n_ignore=1)
        add(f"q{qi}_ignore2_wait", q, p, {"max_thinking": 96, "ignore": 2}, budget=96, n_ignore=2)
        add(f"q{qi}_ignore1_empty", q, p, {"max_thinking": 64, "ignore": 1, "wait": ""}, budget=64, n_ignore=1,
            ignore_str="")
        add(f"q{qi}_min_tokens_{L + 3}", q, p, {"max_thinking": 64, "min_tokens": L + 3}, budget=64,
            min_tokens_thinking=L + 3)
    out = os.path.join(args.root, "tests/fixtures/infer/s1_replay.json")
    meta = {"source": "simplescaling/s1 eval/lm-evaluation-harness/lm_eval/models/vllm_causallms.py _model_generate",
            "generator": "tests/reference/make_s1_replay.py", "torch": torch.__version__,
            "transformers": transformers.__version__, "model": "tests/fixtures/infer/tiny_s1", "dtype": "float32",
            "decoding": "greedy", "max_answer": MAX_ANSWER, "think_end": THINK_END, "forced_end": FORCED_END,
            "margin_floor": MARGIN}
    with open(out, "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
