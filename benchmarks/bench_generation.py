"""Samples/s and tokens/s of the embedded model: raw llama-cpp-python (one sequence, a plain loop),
synthlab's ``get_chat_model("local")`` called one prompt at a time (``n_parallel=1``: the sequential
path; the default ``n_parallel``: a batch of one), synthlab with B concurrent calls (continuous
batching, ``n_parallel=B``), and distilabel's ``TextGeneration`` with ``LlamaCppLLM`` as a peer, on
the same prompts and settings, cache disabled.

    flock /tmp/synthlab-llm.lock .venv/bin/python benchmarks/bench_generation.py \\
        [--prompts 48] [--max-tokens 64] [--rounds 2] [--batch-sizes 4 8 16]

distilabel runs in its own environment (never a synthlab dependency), made once with

    python -m venv .bench-venv && .bench-venv/bin/pip install distilabel==1.5.3 llama-cpp-python==0.3.36 requests

and is skipped when ``.bench-venv`` is missing. Targets (issue 7): synthlab sequential >= 0.95 x raw
tokens/s; batched >= 1.5 x raw tokens/s; synthlab >= distilabel samples/s. Every engine runs in a
fresh process, as distilabel must (a process that holds other llama.cpp contexts decoded measurably
slower here, so sharing one process would favour the peer); the time counted is generation only,
after the model is loaded and has answered one warm-up call. Rounds alternate the engines so a noisy
neighbour on this shared machine slows all alike; rates are over summed rounds. The script also
counts how many texts equal the sequential text of the same prompt and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TOPICS = [
    "a heist film",
    "a romantic comedy",
    "a war documentary",
    "a horror sequel",
    "an animated musical",
    "a courtroom drama",
    "a space opera",
    "a silent film",
    "a sports biopic",
    "a noir thriller",
    "a family cartoon",
    "a western",
]
BENCH_PYTHON = Path(__file__).resolve().parents[1] / ".bench-venv" / "bin" / "python"
RAW, SEQUENTIAL, DEFAULT, PEER = (
    "raw llama-cpp-python",
    "synthlab sequential",
    "synthlab default, 1 at a time",
    "distilabel TextGeneration",
)


def run_raw(prompts: list[str], settings: dict) -> dict:
    """A plain llama-cpp-python loop over the prompts, seed i for prompt i."""
    from llama_cpp import Llama

    from synthlab.llm.loading import embedded_model_path

    raw = Llama(model_path=str(embedded_model_path()), n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
    raw.create_chat_completion(messages=[{"role": "user", "content": "warm up"}], seed=0, **settings)
    started = time.perf_counter()
    replies = [
        raw.create_chat_completion(messages=[{"role": "user", "content": p}], seed=i, **settings)
        for i, p in enumerate(prompts)
    ]
    seconds = time.perf_counter() - started
    return {
        "tokens": sum(r["usage"]["completion_tokens"] for r in replies),
        "seconds": seconds,
        "texts": [r["choices"][0]["message"]["content"] for r in replies],
    }


def run_synthlab(prompts: list[str], settings: dict, concurrency: int, n_parallel: int | None) -> dict:
    """synthlab's local chat model (``n_parallel`` slots, default when None), ``concurrency`` threads
    calling ``invoke`` (as ``generate`` does)."""
    from synthlab.llm.chat import get_chat_model

    slots = {} if n_parallel is None else {"n_parallel": n_parallel}
    model = get_chat_model("local", cache=False, **slots, **settings)
    model.invoke("warm up", seed=0)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        replies = list(pool.map(lambda index: model.invoke(prompts[index], seed=index), range(len(prompts))))
    seconds = time.perf_counter() - started
    return {
        "tokens": sum(r.usage_metadata["output_tokens"] for r in replies),
        "seconds": seconds,
        "texts": [str(r.content) for r in replies],
    }


def run_engine(name: str, prompts: list[str], settings: dict) -> dict:
    """Run the engine called ``name`` in this process."""
    if name == RAW:
        return run_raw(prompts, settings)
    if name == SEQUENTIAL:
        return run_synthlab(prompts, settings, 1, 1)
    if name == DEFAULT:
        return run_synthlab(prompts, settings, 1, None)
    size = int(name.rsplit("=", 1)[1])  # "synthlab batched B=<size>"
    return run_synthlab(prompts, settings, size, size)


def run_in_process(name: str, prompts: list[str], settings: dict) -> dict:
    """Run one engine in a fresh process (distilabel in .bench-venv); return its JSON result."""
    payload = {"prompts": prompts, "settings": settings}
    if name == PEER:
        from synthlab.llm.loading import embedded_model_path

        command = [str(BENCH_PYTHON), str(Path(__file__).with_name("bench_distilabel.py"))]
        payload["model_path"] = str(embedded_model_path())
    else:
        command = [sys.executable, __file__, "--engine", name]
    done = subprocess.run(command, input=json.dumps(payload), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=48)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[4, 8, 16])
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # internal: run one engine, prompts on stdin
    args = parser.parse_args()
    if args.engine:
        job = json.loads(sys.stdin.read())
        print(json.dumps(run_engine(args.engine, job["prompts"], job["settings"])))
        return

    prompts = [f"Write a short review of {TOPICS[i % len(TOPICS)]}." for i in range(args.prompts)]
    settings = {"temperature": 0.8, "top_p": 0.95, "max_tokens": args.max_tokens}
    engines = [RAW, SEQUENTIAL, DEFAULT] + [f"synthlab batched B={size}" for size in args.batch_sizes]
    if BENCH_PYTHON.exists():
        engines.append(PEER)
    else:
        print(f"distilabel skipped: {BENCH_PYTHON} is missing (see this script's docstring)")

    totals = {name: [0, 0.0] for name in engines}
    texts: dict[str, list[str]] = {}
    peer_startup: list[float] = []
    for _ in range(args.rounds):
        for name in list(totals):
            try:
                result = run_in_process(name, prompts, settings)
            except RuntimeError as error:  # e.g. the peer's environment is broken: report it, measure the rest
                print(error)
                del totals[name]
                continue
            totals[name][0] += result["tokens"]
            totals[name][1] += result["seconds"]
            texts[name] = result["texts"]
            if "startup_seconds" in result:
                peer_startup.append(result["startup_seconds"])

    print(
        f"{args.prompts} prompts x {args.rounds} rounds, max_tokens={args.max_tokens}, "
        f"{os.cpu_count()} cores, cache off, each engine in a fresh process"
    )
    print(
        f"{'engine':>30} | {'tokens':>6} | {'seconds':>7} | {'tokens/s':>8} | {'samples/s':>9} | "
        f"{'x raw tok/s':>11} | same text as sequential"
    )
    raw_rate = totals[RAW][0] / totals[RAW][1]
    for name, (tokens, seconds) in totals.items():
        same = sum(a == b for a, b in zip(texts[name], texts[SEQUENTIAL]))
        print(
            f"{name:>30} | {tokens:6d} | {seconds:7.1f} | {tokens / seconds:8.1f} | "
            f"{args.prompts * args.rounds / seconds:9.2f} | {tokens / seconds / raw_rate:11.2f} | "
            f"{same}/{args.prompts}"
        )
    if peer_startup:
        print(
            f"distilabel startup (imports + model load, not counted above): "
            f"{sum(peer_startup) / len(peer_startup):.1f} s per run"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
