"""Samples/s and tokens/s of the embedded model: raw llama-cpp-python (one sequence, a plain loop),
synthlab's ``get_chat_model("local")`` called one prompt at a time (sequential path), synthlab with B
concurrent calls (continuous batching, ``n_parallel=B``), and distilabel's ``TextGeneration`` with
``LlamaCppLLM`` as a peer, on the same prompts and settings, cache disabled.

    flock /tmp/synthlab-llm.lock .venv/bin/python benchmarks/bench_generation.py \\
        [--prompts 48] [--max-tokens 64] [--rounds 2] [--batch-sizes 4 8 16]

distilabel runs in its own environment (never a synthlab dependency), made once with

    python -m venv .bench-venv && .bench-venv/bin/pip install distilabel==1.5.3 llama-cpp-python==0.3.36 requests

and is skipped when ``.bench-venv`` is missing. Targets (issue 7): synthlab sequential >= 0.95 x raw
tokens/s; batched >= 1.5 x raw tokens/s; synthlab >= distilabel samples/s. Rounds alternate the
engines so a noisy neighbour on this shared machine slows all alike; rates are over summed rounds.
The script also counts how many batched texts equal the sequential text of the same prompt and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from llama_cpp import Llama

from synthlab.llm import embedded_model_path, get_chat_model

TOPICS = ["a heist film", "a romantic comedy", "a war documentary", "a horror sequel", "an animated musical",
          "a courtroom drama", "a space opera", "a silent film", "a sports biopic", "a noir thriller",
          "a family cartoon", "a western"]
BENCH_PYTHON = Path(__file__).resolve().parents[1] / ".bench-venv" / "bin" / "python"
Run = Callable[[], tuple[int, list[str], float | None]]  # tokens, texts, seconds if measured inside
peer_startup: list[float] = []  # distilabel's imports and model load, reported apart from its generation time


def raw_loop(prompts: list[str], settings: dict) -> Run:
    """A plain llama-cpp-python loop over the prompts, seed i for prompt i."""
    raw = Llama(model_path=str(embedded_model_path()), n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
    raw.create_chat_completion(messages=[{"role": "user", "content": "warm up"}], seed=0, **settings)

    def run() -> tuple[int, list[str], None]:
        replies = [raw.create_chat_completion(messages=[{"role": "user", "content": p}], seed=i, **settings)
                   for i, p in enumerate(prompts)]
        texts = [r["choices"][0]["message"]["content"] for r in replies]
        return sum(r["usage"]["completion_tokens"] for r in replies), texts, None
    return run


def synthlab_calls(prompts: list[str], settings: dict, concurrency: int) -> Run:
    """synthlab's local chat model, ``concurrency`` threads calling ``invoke`` (as ``generate`` does)."""
    model = get_chat_model("local", cache=False, n_parallel=max(concurrency, 1), **settings)
    model.invoke("warm up", seed=0)

    def call(index: int):
        return model.invoke(prompts[index], seed=index)

    def run() -> tuple[int, list[str], None]:
        with ThreadPoolExecutor(concurrency) as pool:
            replies = list(pool.map(call, range(len(prompts))))
        return sum(r.usage_metadata["output_tokens"] for r in replies), [str(r.content) for r in replies], None
    return run


def distilabel_run(prompts: list[str], settings: dict) -> Run | None:
    """distilabel's TextGeneration + LlamaCppLLM, in .bench-venv; the time counted is its generation
    time as measured inside the subprocess (startup reported apart, like synthlab's warm-up)."""
    if not BENCH_PYTHON.exists():
        print(f"distilabel skipped: {BENCH_PYTHON} is missing (see this script's docstring)")
        return None
    script = Path(__file__).with_name("bench_distilabel.py")

    def run() -> tuple[int, list[str], float]:
        payload = json.dumps({"model_path": str(embedded_model_path()), "prompts": prompts, "settings": settings})
        done = subprocess.run([str(BENCH_PYTHON), str(script)], input=payload, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"distilabel failed:\n{done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        peer_startup.append(result["startup_seconds"])
        return result["tokens"], result["texts"], result["seconds"]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4, 8, 16])
    args = parser.parse_args()
    prompts = [f"Write a short review of {TOPICS[i % len(TOPICS)]}." for i in range(args.prompts)]
    settings = {"temperature": 0.8, "top_p": 0.95, "max_tokens": args.max_tokens}

    engines: dict[str, Run] = {"raw llama-cpp-python": raw_loop(prompts, settings),
                               "synthlab sequential": synthlab_calls(prompts, settings, 1)}
    for size in args.batch_sizes:
        engines[f"synthlab batched B={size}"] = synthlab_calls(prompts, settings, size)
    peer = distilabel_run(prompts, settings)
    if peer is not None:
        engines["distilabel TextGeneration"] = peer

    totals = {name: [0, 0.0] for name in engines}
    texts: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, run in list(engines.items()):
            started = time.perf_counter()
            try:
                tokens, texts[name], seconds = run()
            except RuntimeError as error:  # the peer's environment is broken: report it, measure the rest
                print(error)
                del engines[name], totals[name]
                continue
            totals[name][0] += tokens
            totals[name][1] += seconds if seconds is not None else time.perf_counter() - started

    print(f"{args.prompts} prompts x {args.rounds} rounds, max_tokens={args.max_tokens}, "
          f"{os.cpu_count()} cores, cache off")
    print(f"{'engine':>28} | {'tokens':>6} | {'seconds':>7} | {'tokens/s':>8} | {'samples/s':>9} | "
          f"{'x raw tok/s':>11} | same text as sequential")
    raw_rate = totals["raw llama-cpp-python"][0] / totals["raw llama-cpp-python"][1]
    for name, (tokens, seconds) in totals.items():
        same = sum(a == b for a, b in zip(texts[name], texts["synthlab sequential"]))
        print(f"{name:>28} | {tokens:6d} | {seconds:7.1f} | {tokens / seconds:8.1f} | "
              f"{args.prompts * args.rounds / seconds:9.2f} | {tokens / seconds / raw_rate:11.2f} | "
              f"{same}/{args.prompts}")
    if peer_startup:
        print(f"distilabel startup (imports + model load, not counted above): "
              f"{sum(peer_startup) / len(peer_startup):.1f} s per run")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
