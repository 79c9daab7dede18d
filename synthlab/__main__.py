"""Command line: ``python -m synthlab demo [--n 40] [--seed 0] [--runs-dir runs]``."""

from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synthlab", description="Synthetic data workflows on an embedded LLM.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generate, curate and measure a small labelled dataset")
    demo.add_argument("--n", type=int, default=40, help="rows to generate (balanced over labels)")
    demo.add_argument("--seed", type=int, default=0, help="base seed; row k uses seed + k")
    demo.add_argument("--runs-dir", default="runs", help="where the run folder is written")
    args = parser.parse_args(argv)

    from synthlab.cache import get_cache
    from synthlab.demo import run_demo

    started = time.perf_counter()
    cache = get_cache()
    run_dir, summary = run_demo(n=args.n, seed=args.seed, runs_dir=args.runs_dir)
    print(f"\nRun folder: {run_dir}")
    print(summary.to_string())
    print(f"\nModel calls: {cache.stats.misses} (cache hits: {cache.stats.hits}, cache: {cache.path})")
    print(f"Wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
