"""Curation at scale: exact + near-duplicate removal over 50,000 texts (target under 60 s on 2 cores).

    .venv/bin/python benchmarks/bench_curation.py [--n 50000] [--copies 10000] [--threshold 0.5]
        [--shingle-size 5] [--unit char] [--num-perm 128] [--texts FILE]

Part 1 (dedup). The texts are real snippets: every Rotten Tomatoes review snippet
(``synthlab.core.data.load("rotten_tomatoes")``), then 20-word windows of the Reuters-21578 R8
stories (``load("reuters_r8")``), until ``--n - --copies`` originals; or the lines of ``--texts FILE``
(one text per line). ``synthlab.curation.dedup.plant_near_duplicates`` adds ``--copies`` edited copies (one or
two words deleted, swapped or substituted) at random positions, which makes ``--n`` texts. Then
``curate.drop_exact_duplicates`` and ``dedup.drop_near_duplicates`` (MinHash LSH, verified with the
exact Jaccard) run one after the other, and the script prints each step's time, rows removed and
the process's peak resident memory, and the recall of the planted near-duplicates: among the copies
whose exact Jaccard with their source reaches ``--threshold`` (the ground truth), the share grouped
with their source (target >= 0.95). Every removed row's stated Jaccard is checked against the
threshold (precision of the removals).

Part 2 (learning dynamics). ``synthlab.curation.cartography.data_map`` over ``--cartography-rows`` real Rotten
Tomatoes rows (default 10,000) for ``--epochs`` epochs (default 5): time and peak traced memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import pandas as pd

from synthlab.core.data import load
from synthlab.curation.cartography import data_map
from synthlab.curation.dedup import drop_near_duplicates, plant_near_duplicates, planted_recall
from synthlab.curation.filters import drop_exact_duplicates

WINDOW_WORDS = 20


def real_snippets(path: Path | None, n: int) -> tuple[list[str], str]:
    """``n`` real snippets and where they came from, or exit with what to do instead."""
    if path is not None:
        texts = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:n]
        return texts, f"{path} (first {len(texts)} lines)"
    try:
        from synthlab.core.data import load

        reviews = load("rotten_tomatoes")["text"].tolist()
        stories = load("reuters_r8")["text"].tolist()
    except Exception as error:  # noqa: BLE001 - any failure here means: use --texts
        sys.exit(
            f"No real texts: synthlab.core.data.load failed ({error!r}). Pass --texts FILE, one real text per line."
        )
    windows = [
        " ".join(words[start : start + WINDOW_WORDS])
        for words in (story.split() for story in stories)
        for start in range(0, len(words) - WINDOW_WORDS // 2, WINDOW_WORDS)
    ]
    texts = (reviews + windows)[:n]
    return texts, (
        f"{min(len(reviews), n)} Rotten Tomatoes snippets + {max(0, len(texts) - len(reviews))} "
        f"{WINDOW_WORDS}-word windows of Reuters R8 stories"
    )


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="texts in all, planted copies included")
    parser.add_argument("--copies", type=int, default=10_000, help="planted near-duplicates among them")
    parser.add_argument("--threshold", type=float, default=0.5, help="Jaccard threshold of a near-duplicate")
    parser.add_argument("--shingle-size", type=int, default=5)
    parser.add_argument("--unit", choices=("word", "char"), default="char")
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--texts", type=Path, help="a file of real texts, one per line")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cartography-rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    texts, origin = real_snippets(args.texts, args.n - args.copies)
    if len(texts) < args.copies:
        sys.exit(f"Need at least --copies={args.copies} real texts to copy; {origin} has {len(texts)}.")
    originals = pd.DataFrame({"id": [f"real-{i}" for i in range(len(texts))], "text": texts})
    planted = plant_near_duplicates(originals, args.copies, seed=args.seed)
    print(f"texts: {origin}, + {args.copies} planted copies = {len(planted)}; {os.cpu_count()} cores")
    print(
        f"near-duplicate: Jaccard of {args.unit} {args.shingle_size}-grams >= {args.threshold}, "
        f"MinHash LSH with {args.num_perm} permutations"
    )
    print(f"\n{'step':>24} {'rows in':>8} {'removed':>8} {'seconds':>8} {'peak MB':>8}")
    started = time.perf_counter()
    kept, exact = drop_exact_duplicates(planted)
    exact_seconds = time.perf_counter() - started
    print(
        f"{'drop_exact_duplicates':>24} {len(planted):8d} {len(exact):8d} {exact_seconds:8.2f} {peak_memory_mb():8.0f}"
    )
    started = time.perf_counter()
    _, near = drop_near_duplicates(
        kept,
        threshold=args.threshold,
        shingle_size=args.shingle_size,
        unit=args.unit,
        num_perm=args.num_perm,
        seed=args.seed + 1,
        progress=False,
    )
    near_seconds = time.perf_counter() - started
    print(f"{'drop_near_duplicates':>24} {len(kept):8d} {len(near):8d} {near_seconds:8.2f} {peak_memory_mb():8.0f}")
    total = exact_seconds + near_seconds
    print(
        f"{'total':>24} {len(planted):8d} {len(exact) + len(near):8d} {total:8.2f}"
        f"   target < 60 s: {'OK' if total < 60 else 'SLOWER'}"
    )

    report = planted_recall(
        planted,
        pd.concat([exact, near]),
        threshold=args.threshold,
        shingle_size=args.shingle_size,
        unit=args.unit,
    )
    print(
        f"\nplanted copies: {report['copies']}; near-duplicates by exact Jaccard: {report['near_duplicates']}; "
        f"found: {report['found']}; recall = {report['recall']:.4f} "
        f"(target >= 0.95: {'OK' if report['recall'] >= 0.95 else 'BELOW'})"
    )
    below = int((near["jaccard"] < args.threshold).sum())
    print(
        f"removed as near-duplicates with an exact Jaccard below the threshold: {below} of {len(near)} "
        f"(precision {1 - below / len(near) if len(near) else 1:.4f})"
    )
    bench_cartography(args.cartography_rows, args.epochs, args.seed)


def bench_cartography(n_rows: int, epochs: int, seed: int) -> None:
    """Time one data map (TF-IDF once, then ``epochs`` SGD epochs recording every row)."""
    rows = load("rotten_tomatoes").sample(n=n_rows, random_state=seed)
    tracemalloc.start()
    started = time.perf_counter()
    dynamics = data_map(rows, epochs=epochs, seed=seed, progress=False)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(dynamics) == n_rows
    print(
        f"\ncartography data map: {n_rows} rows x {epochs} epochs in {seconds:.2f} s, "
        f"peak traced memory {peak / 2**20:.1f} MB"
    )


if __name__ == "__main__":
    main()
