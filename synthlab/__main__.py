"""Command line: ``python -m synthlab demo [--n 40] [--seed 0] [--runs-dir runs]`` runs the capstone
workflow (:mod:`synthlab.workflows.capstone`, taught in ``notebooks/40_capstone.ipynb``)."""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synthlab", description="Synthetic data workflows on an embedded LLM.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="the capstone: generate with 3 strategies, curate with 3 pipelines, "
        "evaluate on real data, write a run folder",
    )
    demo.add_argument("--n", type=int, default=40, help="rows to generate per strategy (balanced over labels)")
    demo.add_argument("--seed", type=int, default=0, help="base seed; row k uses seed + k")
    demo.add_argument("--runs-dir", default="runs", help="where the run folder is written")
    args = parser.parse_args(argv)

    from synthlab.llm.cache import get_cache
    from synthlab.workflows.capstone import run_capstone
    from synthlab.workflows.report import demo_summary

    started = time.perf_counter()
    cache = get_cache()
    result = run_capstone(n=args.n, seed=args.seed, runs_dir=args.runs_dir)
    print("\n" + demo_summary(result, cache, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
