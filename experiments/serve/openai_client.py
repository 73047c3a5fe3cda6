#!/usr/bin/env python3
"""The `openai` Python client against `s1c-infer serve` (pip install openai; not a dependency).

  s1c-infer serve --model ckpt/ --port 8000 &
  python3 experiments/serve/openai_client.py [--base-url http://127.0.0.1:8000/v1] [--model NAME]

The budget-forcing fields are not OpenAI's, so they go in `extra_body`; the thinking record comes
back as an extra attribute of each choice (`choice.thinking`) and in `usage`.
"""
import argparse

from openai import OpenAI


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    ap.add_argument("--model", default=None, help="default: the one the server lists")
    ap.add_argument("--api-key", default="none", help="the server's --api-key, if it has one")
    a = ap.parse_args()
    client = OpenAI(base_url=a.base_url, api_key=a.api_key)
    model = a.model or client.models.list().data[0].id
    question = [{"role": "user", "content": "How many r are in raspberry?"}]

    # A thinking cap: at most 256 thinking tokens, then "Final Answer:" is forced.
    r = client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=512,
                                       extra_body={"max_thinking_tokens": 256})
    c = r.choices[0]
    print("capped:", c.thinking, "| usage:", r.usage.completion_tokens, "completion,",
          r.usage.completion_tokens_details.reasoning_tokens, "reasoning")
    print(c.message.content[-200:])

    # A forced "Wait": the first attempt to end thinking is replaced by the continuation.
    r = client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=512,
                                       extra_body={"num_ignore": 1, "continuation": "Wait"})
    print("extended:", r.choices[0].thinking)

    # Streaming: the deltas concatenate to the same text; the last chunk carries the thinking record.
    text = ""
    for chunk in client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=512,
                                                stream=True, extra_body={"max_thinking_tokens": 256}):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    print("streamed == capped:", text == c.message.content)


if __name__ == "__main__":
    main()
