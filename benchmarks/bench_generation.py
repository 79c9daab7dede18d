"""Tokens/s of the embedded model through raw llama-cpp-python and through synthlab's
``get_chat_model("local")``, on the same prompts and settings, in one process.

    .venv/bin/python benchmarks/bench_generation.py [--prompts 12] [--max-tokens 64] [--rounds 3]

Target (foundation issue): synthlab >= 0.9 x raw. Rounds alternate raw and synthlab so that a
noisy neighbour on this shared machine slows both alike; the ratio is over the summed rounds.
"""

from __future__ import annotations

import argparse
import os
import time

from llama_cpp import Llama

from synthlab.llm import embedded_model_path, get_chat_model

TOPICS = ["a heist film", "a romantic comedy", "a war documentary", "a horror sequel", "an animated musical",
          "a courtroom drama", "a space opera", "a silent film", "a sports biopic", "a noir thriller",
          "a family cartoon", "a western"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=12)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    prompts = [f"Write a short review of {TOPICS[i % len(TOPICS)]}." for i in range(args.prompts)]
    settings = {"temperature": 0.8, "top_p": 0.95, "max_tokens": args.max_tokens}

    raw = Llama(model_path=str(embedded_model_path()), n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
    model = get_chat_model("local", cache=False, **settings)
    model.invoke("warm up", seed=0)
    raw.create_chat_completion(messages=[{"role": "user", "content": "warm up"}], seed=0, **settings)

    def run_raw() -> int:
        return sum(raw.create_chat_completion(messages=[{"role": "user", "content": p}], seed=i, **settings)
                   ["usage"]["completion_tokens"] for i, p in enumerate(prompts))

    def run_synthlab() -> int:
        return sum(model.invoke(p, seed=i).usage_metadata["output_tokens"] for i, p in enumerate(prompts))

    totals = {"raw llama-cpp-python": [0, 0.0], "synthlab local": [0, 0.0]}
    for _ in range(args.rounds):
        for name, run in (("raw llama-cpp-python", run_raw), ("synthlab local", run_synthlab)):
            started = time.perf_counter()
            totals[name][0] += run()
            totals[name][1] += time.perf_counter() - started

    print(f"{args.prompts} prompts x {args.rounds} rounds, max_tokens={args.max_tokens}, {os.cpu_count()} cores")
    rates = {}
    for name, (tokens, seconds) in totals.items():
        rates[name] = tokens / seconds
        print(f"{name:>22}: {tokens:6d} tokens in {seconds:6.1f} s = {rates[name]:6.1f} tokens/s, "
              f"{args.prompts * args.rounds / seconds:5.2f} samples/s")
    ratio = rates["synthlab local"] / rates["raw llama-cpp-python"]
    print(f"synthlab / raw = {ratio:.3f} (target >= 0.9)")


if __name__ == "__main__":
    main()
