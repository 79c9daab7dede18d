"""Throughput of concurrent remote generation: ``generate(..., max_concurrency=C)`` through the
'openai' backend against ``python -m synthlab.llm.serve --parallel C`` (the embedded model on loopback),
for C = 1, 2, 4, 8, with the server's continuous batching on (``n_parallel=C``) and off
(``--no-batching``: C slots, decoded one after another), next to the same rows generated in-process
without HTTP. Cache off.

    flock /tmp/synthlab-llm.lock .venv/bin/python benchmarks/bench_concurrency.py \\
        [--prompts 16] [--max-tokens 48] [--rounds 2] [--levels 1 2 4 8]

Every server starts before the first measurement and rounds alternate the levels, so a noisy
neighbour on this shared machine slows all alike; rates are over summed rounds. Tokens are the
completion tokens the server reports (usage). "same text" counts rows equal to the C=1 row of the
same prompt and seed.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from langchain_core.callbacks import UsageMetadataCallbackHandler

from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import generate

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


def start_server(parallel: int, batching: bool, log_dir: Path) -> tuple[subprocess.Popen, str]:
    """``python -m synthlab.llm.serve --parallel N [--no-batching]`` on a free loopback port, once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (log_dir / f"serve-{parallel}-{batching}.log").open("wb")
    command = [sys.executable, "-m", "synthlab.llm.serve", "--port", str(port), "--parallel", str(parallel)]
    process = subprocess.Popen(command + ([] if batching else ["--no-batching"]), stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/models", timeout=1)
            return process, base_url
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"synthlab.llm.serve --parallel {parallel} did not start; see {log.name}") from None
            time.sleep(0.3)


def timed_run(model, prompts: list[str], concurrency: int) -> tuple[int, float, list[str]]:
    """Completion tokens, seconds and texts of one ``generate`` call."""
    usage = UsageMetadataCallbackHandler()
    started = time.perf_counter()
    records = generate(
        model.with_config(callbacks=[usage]),
        prompts,
        seed=0,
        max_concurrency=concurrency,
        group_prefixes=False,
        progress=False,
    )
    seconds = time.perf_counter() - started
    if records["error"].notna().any():
        raise RuntimeError(f"{records['error'].notna().sum()} rows failed: {records['error'].dropna().iloc[0]}")
    return sum(u["output_tokens"] for u in usage.usage_metadata.values()), seconds, records["text"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    if 1 not in args.levels:
        parser.error("--levels must include 1, the reference of the x C=1 column")
    prompts = [f"Write a short review of {TOPICS[i % len(TOPICS)]}." for i in range(args.prompts)]
    settings = {"temperature": 0.8, "top_p": 0.95, "max_tokens": args.max_tokens, "cache": False}

    log_dir = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    setups = [(level, True) for level in args.levels] + [(level, False) for level in args.levels if level > 1]
    servers: dict[tuple[int, bool], tuple[subprocess.Popen, str]] = {}
    try:
        for setup in setups:
            servers[setup] = start_server(*setup, log_dir)
        engines = {"in-process, no HTTP (C=1)": (get_chat_model("local", n_parallel=1, **settings), 1)}
        for (level, batching), (_, base_url) in servers.items():
            model = get_chat_model("openai", base_url=base_url, model="smollm2", **settings)
            model.invoke("warm up", seed=0)
            engines[f"HTTP C={level}" + ("" if batching or level == 1 else " no batching")] = (model, level)
        totals = {name: [0, 0.0] for name in engines}
        texts: dict[str, list[str]] = {}
        for _ in range(args.rounds):
            for name, (model, level) in engines.items():
                tokens, seconds, texts[name] = timed_run(model, prompts, level)
                totals[name][0] += tokens
                totals[name][1] += seconds
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=20)

    print(
        f"{args.prompts} prompts x {args.rounds} rounds, max_tokens={args.max_tokens}, "
        f"{os.cpu_count()} cores, cache off"
    )
    reference = "HTTP C=1"
    base_rate = totals[reference][0] / totals[reference][1]
    print(
        f"{'engine':>26} | {'tokens':>6} | {'seconds':>7} | {'rows/s':>6} | {'tokens/s':>8} | "
        f"{'x C=1 tok/s':>11} | same text as C=1"
    )
    for name, (tokens, seconds) in totals.items():
        same = sum(a == b for a, b in zip(texts[name], texts[reference]))
        print(
            f"{name:>26} | {tokens:6d} | {seconds:7.1f} | {args.prompts * args.rounds / seconds:6.2f} | "
            f"{tokens / seconds:8.1f} | {tokens / seconds / base_rate:11.2f} | {same}/{args.prompts}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
