"""Self-BLEU against NLTK's reference loop, and the time of every diversity metric at 10,000 texts.

    .venv/bin/python benchmarks/bench_metrics.py [--reference-n 2000] [--n 10000] [--texts FILE]

Texts are real: ``synthlab.core.data.load("rotten_tomatoes")`` (every split, shuffled with seed 0),
or the lines of ``--texts FILE`` (one text per line; it takes precedence when given). With
neither, the script stops: no synthetic stand-in is measured as if it were real.

Part 1 computes self-BLEU (BLEU-4, method1 smoothing) of the first ``--reference-n`` texts with
synthlab and with NLTK's ``sentence_bleu`` of each text against all the others, checks that they
agree to 1e-9 and prints the speed ratio (target >= 50x). The NLTK loop is quadratic: on the
shared 2-core machine it took 7 s for 300 texts, 130 s for 1,000 and more than 8 minutes for the
default 2,000; ``--reference-n 300`` is quick.

Part 2 times every metric at ``--n`` texts (the real texts repeated when there are fewer) and at
half as many: a metric linear in N grows ~2x from N/2 to N, a quadratic one ~4x. Only Chamfer
distance is pairwise; it computes its similarities a block of rows at a time and, above
``max_rows`` = 2,000 texts, estimates the mean on 2,000 sampled rows, so it too grows ~2x.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from synthlab.core.text import default_tokenize
from synthlab.evaluation.diversity import (
    chamfer_distance,
    distinct_n,
    diversity_summary,
    mean_pairwise_cosine,
    remote_clique,
    self_bleu,
    vendi_score,
)


def real_texts(path: Path | None) -> tuple[list[str], str]:
    """The benchmark's texts and where they came from, or exit with what to do instead."""
    if path is not None:
        texts = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return texts, f"{path} ({len(texts)} lines)"
    try:
        from synthlab.core.data import load

        frame = load("rotten_tomatoes")
    except Exception as error:  # noqa: BLE001 - any failure here means: use --texts
        sys.exit(
            f"No real texts: synthlab.core.data.load('rotten_tomatoes') failed ({error!r}). "
            "Pass --texts FILE with one real text per line."
        )
    texts = frame["text"].tolist()
    random.Random(0).shuffle(texts)
    return texts, f"synthlab.core.data.load('rotten_tomatoes') ({len(texts)} texts, shuffled with seed 0)"


def nltk_self_bleu(texts: list[str]) -> float:
    """The definition self_bleu matches: NLTK's sentence_bleu of each text against all the others."""
    documents = [default_tokenize(text) for text in texts]
    smoothing = SmoothingFunction().method1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = [
            sentence_bleu(documents[:i] + documents[i + 1 :], hypothesis, (0.25,) * 4, smoothing)
            for i, hypothesis in enumerate(documents)
        ]
    return sum(scores) / len(scores)


def timed(function: Callable[[], float]) -> tuple[float, float]:
    started = time.perf_counter()
    value = function()
    return value, time.perf_counter() - started


METRICS: dict[str, tuple[Callable[[list[str]], object], str]] = {
    "self_bleu": (self_bleu, "linear: two largest counts per n-gram"),
    "diversity_summary": (diversity_summary, "linear: vocabulary statistics, distinct-1/2/3"),
    "distinct_n (n=2)": (lambda texts: distinct_n(texts, 2), "linear"),
    "mean_pairwise_cosine": (mean_pairwise_cosine, "linear: ||sum of unit rows||^2, exact"),
    "remote_clique": (remote_clique, "linear: 1 - mean pairwise cosine, exact"),
    "vendi_score": (vendi_score, "linear: exact eigenvalues of X^T X / N on the 2,000 commonest words"),
    "chamfer_distance": (chamfer_distance, "pairwise: blocks of rows; 2,000 sampled rows above 2,000"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reference-n",
        type=int,
        default=2000,
        help="texts for the NLTK comparison (quadratic: over 8 min at 2000; 300 takes seconds)",
    )
    parser.add_argument("--n", type=int, default=10_000, help="texts for the timing table")
    parser.add_argument("--texts", type=Path, help="a file of real texts, one per line")
    args = parser.parse_args()
    texts, origin = real_texts(args.texts)
    if len(texts) < 2:
        sys.exit(f"Need at least 2 texts; {origin} has {len(texts)}.")
    print(f"texts: {origin}; {os.cpu_count()} cores")

    subset = texts[: args.reference_n]
    ours, ours_seconds = timed(lambda: self_bleu(subset))
    reference, reference_seconds = timed(lambda: nltk_self_bleu(subset))
    print(f"\nself-BLEU-4 of {len(subset)} texts")
    print(f"  synthlab self_bleu : {ours:.15f} in {ours_seconds:8.3f} s")
    print(f"  NLTK sentence_bleu : {reference:.15f} in {reference_seconds:8.3f} s")
    print(
        f"  |difference| = {abs(ours - reference):.1e} (must be <= 1e-9): "
        f"{'OK' if math.isclose(ours, reference, rel_tol=0, abs_tol=1e-9) else 'MISMATCH'}"
    )
    print(f"  speed-up = {reference_seconds / ours_seconds:.0f}x (target >= 50x)")

    large = (texts * math.ceil(args.n / len(texts)))[: args.n]
    half = large[: args.n // 2]
    repeated = f", the {len(texts)} real texts repeated" if len(texts) < args.n else ""
    print(f"\nevery metric at {len(half)} and {len(large)} texts{repeated}")
    print(f"{'metric':>22} {'value':>10} {'s @ N/2':>9} {'s @ N':>9} {'growth':>7}  how")
    for name, (metric, how) in METRICS.items():
        _, half_seconds = timed(partial(metric, half))
        value, seconds = timed(partial(metric, large))
        shown = f"{value:10.4f}" if isinstance(value, float) else f"{'(dict)':>10}"
        print(f"{name:>22} {shown} {half_seconds:9.3f} {seconds:9.3f} {seconds / half_seconds:6.1f}x  {how}")


if __name__ == "__main__":
    main()
