"""Regenerate the embedded model's cached plain calls through continuous batching and count the texts
equal to the cached ones: the claim that batching changes no text, checked on real workloads (the
notebooks' calls, made one at a time), not only on the test prompts.

    flock /tmp/synthlab-llm.lock .venv/bin/python benchmarks/check_batched_texts.py \\
        [--cache ~/.cache/synthlab/llm-cache.sqlite] [--slots 8] [--limit N]

Calls with log-probabilities or a grammar (``response_format``) are skipped: they never take the
batched path. The cache is opened read-only and never written.
"""

from __future__ import annotations

import argparse
import ast
import sqlite3
import time
import warnings
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from langchain_core._api.beta_decorator import LangChainBetaWarning
from langchain_core.language_models import BaseChatModel
from langchain_core.load import loads
from langchain_core.messages import AIMessage

from synthlab.llm.cache import default_cache_path
from synthlab.llm.chat import get_chat_model

SETTINGS = ("max_tokens", "temperature", "top_p", "n_ctx", "stop")


def cached_calls(path: str, limit: int | None) -> tuple[dict[tuple, list], int]:
    """The cached plain calls of the local model, grouped by settings: (messages, seed, text) each;
    and how many calls were skipped."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = connection.execute(
        "SELECT prompt, llm_string, value FROM generations WHERE llm_string LIKE '%synthlab-llama-cpp%'"
    ).fetchall()
    groups: dict[tuple, list] = defaultdict(list)
    skipped = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangChainBetaWarning)
        for prompt, llm_string, value in rows[:limit]:
            params = dict(ast.literal_eval(llm_string.split("---")[0]))
            if params.get("logprobs") or "response_format" in llm_string:
                skipped += 1
                continue
            settings = tuple((name, tuple(params[name] or ()) if name == "stop" else params[name]) for name in SETTINGS)
            text = loads(value, allowed_objects="core")[0].text
            groups[settings].append((loads(prompt, allowed_objects="core"), params["seed"], text))
    return groups, skipped


def regenerate(model: BaseChatModel, call: tuple) -> AIMessage:
    messages, seed, _ = call
    return model.invoke(messages, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", default=str(default_cache_path()))
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None, help="read only the first N cached local calls")
    args = parser.parse_args()
    groups, skipped = cached_calls(args.cache, args.limit)
    total = same = 0
    differing = []
    started = time.perf_counter()
    for settings, calls in groups.items():
        options = dict(settings)
        options["stop"] = list(options["stop"]) or None
        model = get_chat_model("local", cache=False, n_parallel=args.slots, **options)
        with ThreadPoolExecutor(args.slots) as pool:
            replies = list(pool.map(partial(regenerate, model), calls))
        for (_messages, seed, text), reply in zip(calls, replies):
            total += 1
            same += reply.content == text
            if reply.content != text:
                differing.append((settings, seed, text[:60], reply.content[:60]))
    print(
        f"{same}/{total} texts identical when regenerated {args.slots} at a time "
        f"({skipped} log-probability or grammar calls skipped; {time.perf_counter() - started:.0f} s)"
    )
    for row in differing[:10]:
        print("differs:", row)


if __name__ == "__main__":
    main()
