"""Curation steps (taxonomy C7, hygiene). Each returns ``(kept, removed)``: the rows it kept,
and the rows it removed with a ``reason`` column, so nothing vanishes without a recorded
reason and any removed row can be inspected or put back with :func:`restore`.
Taught in ``notebooks/00_quickstart.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from synthlab.records import require_column

_WORD = re.compile(r"\w+")


def split_by_reason(frame: pd.DataFrame, reasons: Sequence[str | None], step: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, removed)``: the rows whose reason (aligned with ``frame``'s rows) is ``None`` are kept;
    the others are removed with their ``reason`` and the ``step`` that removed them. The building
    block of every curation step."""
    reasons = pd.Series(list(reasons), index=frame.index, dtype=object)
    drop = reasons.notna()
    removed = frame[drop].copy()
    removed["reason"] = reasons[drop]
    removed["step"] = step
    return frame[~drop].copy(), removed


def drop_malformed(
    frame: pd.DataFrame, *, text_col: str = "text", label_col: str | None = "label", min_words: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove rows whose generation failed (``error`` set), whose text is missing or shorter
    than ``min_words`` words, or (when ``label_col`` is given) whose label is missing."""
    require_column(frame, text_col, "text_col")
    reasons = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for index, row in frame.iterrows():
        text = row[text_col]
        if "error" in frame.columns and isinstance(row["error"], str):
            reasons[index] = f"generation error: {row['error']}"
        elif not isinstance(text, str) or not text.strip():
            reasons[index] = "empty text"
        elif len(_WORD.findall(text)) < min_words:
            reasons[index] = f"shorter than {min_words} words"
        elif label_col is not None and pd.isna(row[label_col]):
            reasons[index] = "missing label"
    return split_by_reason(frame, reasons, "drop_malformed")


def drop_exact_duplicates(frame: pd.DataFrame, *, text_col: str = "text") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the first of each group of rows whose text is identical after trimming spaces
    and lower-casing; the others are removed with the id of the row they duplicate."""
    require_column(frame, text_col, "text_col")
    key = frame[text_col].fillna("").map(lambda text: " ".join(str(text).lower().split()))
    first_id = frame.groupby(key, sort=False)["id"].transform("first")
    reasons = ("exact duplicate of " + first_id.astype(str)).where(key.duplicated(keep="first"), None)
    return split_by_reason(frame, reasons, "drop_exact_duplicates")


def restore(kept: pd.DataFrame, removed: pd.DataFrame, ids: list[str] | None = None) -> pd.DataFrame:
    """Put removed rows (all, or those whose ``id`` is in ``ids``) back among the kept ones."""
    back = removed if ids is None else removed[removed["id"].isin(ids)]
    return pd.concat([kept, back.drop(columns=["reason", "step"])], ignore_index=True)
