"""The curation step primitive: every curation step returns ``(kept, removed)``.

A step is a function from a frame to the rows it kept and the rows it removed, each removed row with a
``reason`` and the ``step`` that removed it, so nothing vanishes without a recorded reason
(:func:`split_by_reason`). :func:`run_filters` chains steps into one pipeline with one removal log,
:func:`removal_summary` turns the log into a table and :func:`restore` puts removed rows back.
Every text step starts by checking its frame with :func:`synthlab.core.checks.check_frame` and names rows with
:func:`row_ids`. The hygiene filters
that use them are in :mod:`synthlab.curation.filters`. Taught in ``notebooks/10_hygiene_filters.ipynb``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import pandas as pd

from synthlab.core.checks import check_column, check_frame

__all__ = ["removal_summary", "restore", "row_ids", "run_filters", "split_by_reason", "Step"]

Step = Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]
_LOG_COLUMNS = ("reason", "step")


def row_ids(frame: pd.DataFrame) -> pd.Series:
    """The name each removal reason uses for a row: its ``id`` when the frame has one, else its
    index label."""
    return frame["id"] if "id" in frame.columns else pd.Series(frame.index, index=frame.index)


def split_by_reason(frame: pd.DataFrame, reasons: Sequence[str | None], step: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, removed)``: the rows whose reason (aligned with ``frame``'s rows) is ``None`` are kept;
    the others are removed with their ``reason`` and the ``step`` that removed them. The building
    block of every curation step; it warns when a step removes every row."""
    reasons = pd.Series(list(reasons), index=frame.index, dtype=object)
    drop = reasons.notna()
    removed = frame[drop].copy()
    removed["reason"] = reasons[drop]
    removed["step"] = step
    if len(frame) and drop.all():
        warnings.warn(
            f"{step} removed all {len(frame)} rows, so nothing is kept; read the removal log's "
            "'reason' column, loosen the step's parameters, or put rows back with curate.restore",
            stacklevel=3,
        )
    return frame[~drop].copy(), removed


def run_filters(frame: pd.DataFrame, steps: Sequence[Step]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply curation ``steps`` (functions from a frame to ``(kept, removed)``; bind their parameters
    with :func:`functools.partial`) in order, each to what the previous kept. Returns the rows kept
    by all and one removal log of every removed row with its ``step`` and ``reason``. When a step
    leaves nothing, it warns and the later steps are not run.

    >>> kept, log = run_filters(rows, [drop_malformed, partial(drop_by_length, min_words=5)])  # doctest: +SKIP
    """
    if not steps:
        raise ValueError("steps is empty; pass curation steps such as [drop_malformed, drop_refusals]")
    check_frame(frame, "run_filters: frame")
    kept, logs = frame, []
    for position, step in enumerate(steps):
        kept, removed = step(kept)
        logs.append(removed)
        if kept.empty:
            skipped = len(steps) - position - 1
            if skipped:
                warnings.warn(
                    f"no rows left after step {position + 1} of {len(steps)}; the {skipped} later step(s) were not run",
                    stacklevel=2,
                )
            break
    return kept, pd.concat(logs)


def removal_summary(log: pd.DataFrame, *, text_col: str = "text", n_rows: int | None = None) -> pd.DataFrame:
    """One row per step of a removal log, in the order the steps ran: how many rows it removed
    (and which share of ``n_rows``, the size of the input, when given) and its first removal as an
    example (id, reason, text)."""
    for column in _LOG_COLUMNS:
        check_column(log, column, "a removal log column", frame_name="log")
    groups = log.groupby("step", sort=False)
    summary = groups.size().rename("removed").to_frame()
    if n_rows is not None:
        summary["share"] = summary["removed"] / n_rows
    first = groups.head(1).set_index("step")
    summary["example_id"] = row_ids(log).groupby(log["step"], sort=False).first()
    summary["example_reason"] = first["reason"]
    if text_col in log.columns:
        summary["example_text"] = first[text_col]
    return summary


def restore(kept: pd.DataFrame, removed: pd.DataFrame, ids: list[str] | None = None) -> pd.DataFrame:
    """Put removed rows (all, or those whose ``id`` is in ``ids``) back among the kept ones, without
    the columns the removal log added (``reason``, ``step`` and step-specific ones)."""
    back = removed if ids is None else removed[removed["id"].isin(ids)]
    if ids is not None and len(back) < len(set(ids)):
        missing = sorted(set(ids) - set(back["id"]))
        raise KeyError(f"ids not in the removal log: {missing[:5]}; look them up in removed['id']")
    log_only = [column for column in back.columns if column in _LOG_COLUMNS or column not in kept.columns]
    return pd.concat([kept, back.drop(columns=log_only)], ignore_index=True)
