"""Generate until enough rows pass: compare methods at the same number of *kept* rows, not of calls.

A 135M model's rows fail hygiene at different rates per method (real demonstrations are copied, attributes
loop), so N calls per method leave unequal sets. :func:`generate_until` walks a prompt plan in order, in draws
sized from the pass rate seen so far, runs the curation steps over everything generated, and stops once ``n``
rows pass (``n / labels`` per label when balanced) or the plan, its budget of calls, is used up. Row ``k`` of
the plan always gets seed ``seed + k``, so the cache and recordings see the same calls however the draws fall.

>>> result = generate_until(model, prompts, 200, steps=HYGIENE, labels=labels)   # doctest: +SKIP
>>> result.table   # calls, rows passed and removed after each draw: the attrition  # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.core.steps import Step, run_filters
from synthlab.llm.generate import GenerationError, PromptLike, generate

__all__ = ["Attrition", "generate_until"]

MIN_PASS_RATE = 0.05  # a draw is sized as if at least this share of rows passed (no division by zero)


@dataclass
class Attrition:
    """``kept``: the first ``n`` rows that passed every step (per label when balanced), in plan order;
    ``removed``: every generated row a step removed, with its ``step`` and ``reason``; ``rows``: every row
    generated (rows that passed beyond the ``n`` kept are here and in neither of the others); ``table``: one row
    per draw (calls so far, rows passed, removed, still needed); ``reached``: whether ``n`` rows passed."""

    kept: pd.DataFrame
    removed: pd.DataFrame
    rows: pd.DataFrame
    table: pd.DataFrame
    reached: bool


def _targets(labels: Sequence[Any] | None, n: int, balanced: bool) -> dict[Any, int] | None:
    if not balanced:
        return None
    if labels is None:
        raise ValueError("balanced=True needs labels (one per prompt); pass balanced=False to count rows only")
    names = list(dict.fromkeys(labels))
    if n % len(names):
        raise ValueError(f"n={n} does not split evenly over the {len(names)} labels {names}; choose a multiple")
    return {name: n // len(names) for name in names}


def _shortfall(passed: pd.DataFrame, n: int, targets: dict[Any, int] | None) -> dict[Any, int]:
    if targets is None:
        return {None: max(0, n - len(passed))}
    counts = passed["label"].value_counts()
    return {label: max(0, want - int(counts.get(label, 0))) for label, want in targets.items()}


def _next_draw(rows: pd.DataFrame, passed: pd.DataFrame, short: dict[Any, int], balanced: bool) -> int:
    """Calls expected to cover the shortfall at the pass rate seen so far (per label when balanced)."""
    if not balanced:
        rate = max(len(passed) / len(rows), MIN_PASS_RATE)
        return math.ceil(short[None] / rate)
    needed = 0.0
    for label, missing in short.items():
        made = int((rows["label"] == label).sum())
        rate = max(int((passed["label"] == label).sum()) / made if made else 1.0, MIN_PASS_RATE)
        needed = max(needed, missing / rate * len(short))  # prompts alternate over the labels
    return math.ceil(needed)


def generate_until(
    model: BaseChatModel,
    prompts: Sequence[PromptLike],
    n: int,
    *,
    steps: Sequence[Step],
    labels: Sequence[Any] | None = None,
    conditions: Sequence[Mapping[str, Any]] | None = None,
    balanced: bool = True,
    seed: int = 0,
    **options: Any,
) -> Attrition:
    """Generate from ``prompts`` in order until ``n`` rows pass every curation step in ``steps`` (``n / labels``
    of each label when ``balanced``), making at most ``len(prompts)`` calls: the plan is the budget. The first
    draw is ``n`` calls; each next draw is sized from the pass rate so far. ``options`` go to
    :func:`synthlab.llm.generate.generate` (``parse``, ``method``, ``max_concurrency``...; not ``checkpoint``,
    since each draw is its own call). When the budget runs out first, the rows that passed are kept, with a
    warning, and ``reached`` is False; when every call of the budget failed, :class:`GenerationError` (with every
    row on ``records``)."""
    if not 1 <= n <= len(prompts):
        raise ValueError(f"n must be between 1 and the budget, len(prompts) = {len(prompts)}; got {n}")
    for name, values in (("labels", labels), ("conditions", conditions)):
        if values is not None and len(values) != len(prompts):
            raise ValueError(f"{name} has {len(values)} items but prompts has {len(prompts)}; give one per prompt")
    if not steps:
        raise ValueError("steps is empty; pass curation steps such as [drop_malformed, drop_exact_duplicates]")
    if "checkpoint" in options or "n" in options:
        raise TypeError("generate_until makes one row per prompt and no checkpoint; drop 'n' and 'checkpoint'")
    targets = _targets(labels, n, balanced)
    frames: list[pd.DataFrame] = []
    table: list[dict[str, Any]] = []
    failures: list[GenerationError] = []
    done, draw = 0, n
    while True:
        stop = min(done + draw, len(prompts))
        part = slice(done, stop)
        try:
            frames.append(
                generate(
                    model,
                    prompts[part],
                    seed=seed + done,
                    labels=None if labels is None else labels[part],
                    conditions=None if conditions is None else conditions[part],
                    **options,
                )
            )
        except GenerationError as error:  # every row of the draw failed: keep them (with their reasons), go on
            if error.records is None:
                raise
            frames.append(error.records)
            failures.append(error)
        done = stop
        rows = pd.concat(frames, ignore_index=True)
        passed, removed = run_filters(rows, steps)
        short = _shortfall(passed, n, targets)
        table.append(
            {
                "draw": len(table) + 1,
                "calls": done,
                "passed": len(passed),
                "removed": len(removed),
                "still_needed": sum(short.values()),
                "pass_rate": len(passed) / done,
            }
        )
        if not sum(short.values()) or done == len(prompts):
            break
        draw = max(1, _next_draw(rows, passed, short, balanced))
    if len(failures) == len(table):  # every call of the budget failed: nothing to curate, say why
        raise GenerationError(
            f"All {done} generations failed in {len(table)} draw(s); the first reason: {failures[0]}",
            records=rows,
        )
    reached = not sum(short.values())
    if targets is None:
        kept = passed.head(n)
    else:
        kept = passed.groupby("label", sort=False).head(max(targets.values()))
    if not reached:
        warnings.warn(
            f"only {len(kept)} of {n} rows passed within the budget of {len(prompts)} calls "
            f"(still needed: {short}); they are kept, and result.table shows the attrition",
            stacklevel=2,
        )
    return Attrition(
        kept=kept, removed=removed, rows=rows, table=pd.DataFrame(table).set_index("draw"), reached=reached
    )
