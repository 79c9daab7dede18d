"""Samples/s of an 8-demonstration generation with and without grouping the calls that share
a prompt prefix (``generate(..., group_prefixes=True)``), on the embedded model.

    .venv/bin/python benchmarks/bench_prefix_ordering.py [--demo-sets 4] [--per-set 6] [--rounds 2]

The prompts use ``--demo-sets`` different sets of 8 real seed reviews (Rotten Tomatoes) as
demonstrations, ``--per-set`` prompts each, listed interleaved (set 1, set 2, ..., set 1, ...), as a
per-row selection strategy would make them. Grouped, each set's prompts run back to back and
llama.cpp evaluates the shared system prompt and demonstrations once per set; interleaved, almost
every call re-evaluates them. Same prompts, seeds and texts either way (checked); rounds alternate
the two orders, and the ratio is over the summed rounds.
"""

from __future__ import annotations

import argparse
import os
import time

from synthlab.core.data import load
from synthlab.generation.prompts import TaskSpec, build_prompts
from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import generate


def interleaved_prompts(demo_sets: int, per_set: int, k: int = 8) -> list:
    """``per_set`` prompts for each of ``demo_sets`` sets of ``k`` seed demos, interleaved by set."""
    seed_split = load("rotten_tomatoes").query("split == 'seed'").reset_index(drop=True)
    task = TaskSpec()
    by_set = []
    for index in range(demo_sets):
        demos = seed_split.sample(k, random_state=index)
        prompts, _, _ = build_prompts(task, per_set, demos=list(zip(demos["text"], demos["label"])))
        by_set.append(prompts)
    return [by_set[s][p] for p in range(per_set) for s in range(demo_sets)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-sets", type=int, default=4)
    parser.add_argument("--per-set", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    prompts = interleaved_prompts(args.demo_sets, args.per_set)
    model = get_chat_model("local", cache=False, temperature=0.8, max_tokens=args.max_tokens)
    model.invoke("warm up", seed=0)
    prompt_tokens = sum(model.get_num_tokens_from_messages(p.to_messages()) for p in prompts) / len(prompts)

    seconds = {True: 0.0, False: 0.0}
    texts = {}
    for _ in range(args.rounds):
        for grouped in (False, True):
            started = time.perf_counter()
            rows = generate(model, prompts, seed=0, group_prefixes=grouped, progress=False)
            seconds[grouped] += time.perf_counter() - started
            texts[grouped] = rows["raw"].tolist()
    assert texts[True] == texts[False], "grouping changed the generated texts"

    samples = len(prompts) * args.rounds
    print(
        f"{len(prompts)} prompts ({args.demo_sets} demo sets x {args.per_set}), 8 demos, "
        f"{prompt_tokens:.0f} prompt tokens on average, max_tokens={args.max_tokens}, "
        f"{args.rounds} rounds, {os.cpu_count()} cores"
    )
    for grouped, label in ((False, "interleaved"), (True, "grouped by prefix")):
        print(f"{label:>18}: {samples / seconds[grouped]:5.2f} samples/s ({seconds[grouped]:6.1f} s)")
    print(f"grouped / interleaved = {seconds[False] / seconds[True]:.2f}x samples/s; identical texts: yes")


if __name__ == "__main__":
    main()
