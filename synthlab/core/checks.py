"""The one input-checking layer: texts, frames, labels and sizes, checked the same way everywhere.

Every public function that takes texts, a frame or labels starts with one of these checks, so a bad input gets
the same clear error wherever it is passed: the bad value, where it is, and what to pass instead.

- :func:`check_texts`: a list of texts. A bare string (it would be iterated character by character), a missing
  text (None, NaN) or any other non-string raises :class:`InputError` naming its position and value.
- :func:`check_frame`: a pandas DataFrame with the named columns; its texts are strings, its labels present and
  of one type, its ids unique.
- :func:`check_labels`: a list of labels: not a bare string, none missing, one type (``0`` and ``'0'`` mixed
  would compare as different labels, and sorting them raises).
- :func:`check_column` (one required column) and :func:`check_at_least` (integer sizes with a minimum).

Which exception: :class:`InputError` (both a ``ValueError`` and a ``TypeError``, so either ``except`` catches it)
for a bad value inside the input; ``TypeError`` for a frame that is not a DataFrame; ``KeyError`` for a missing
column; ``ValueError`` for too few rows or texts.

An empty frame is an error (``ValueError``), never a silent empty result: a function given no rows has nothing to
compute, and an empty input is almost always data lost upstream that nobody asked to lose (an earlier step that
removed every row warns; see :func:`synthlab.core.steps.split_by_reason`). Functions whose input may rightly be
empty (a removal log, the removed rows of a step) check only their columns with :func:`check_column`.

>>> check_texts(["a film", "another film"], "texts")
['a film', 'another film']
>>> check_texts("a film", "texts")
Traceback (most recent call last):
...
synthlab.core.checks.InputError: texts takes a list of texts, not one string; got 'a film': pass [text]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["InputError", "check_at_least", "check_column", "check_frame", "check_labels", "check_texts"]

_SHOWN = 5  # index labels or values an error lists


class InputError(ValueError, TypeError):
    """A bad value inside an input (a bare string for a list, a missing text, mixed label types). Both a
    ``ValueError`` and a ``TypeError``, so code catching either keeps catching it."""


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def _as_list(values: Any, name: str, what: str, fix: str) -> list[Any]:
    """``values`` as a list, refusing a bare string and anything that is not a collection."""
    if isinstance(values, str):
        raise InputError(f"{name} takes a list of {what}, not one string; got {values[:40]!r}: {fix}")
    if not isinstance(values, Iterable) or isinstance(values, (bytes, Mapping)):
        raise InputError(f"{name} takes a list of {what}; got {type(values).__name__} {values!r:.40}")
    return list(values)


def check_texts(texts: Any, name: str, *, at_least: int = 0, blank: bool = True, hint: str = "") -> list[str]:
    """``texts`` as a list of strings, or an :class:`InputError` naming the first bad one and its position.

    ``at_least``: the fewest texts allowed (a ``ValueError`` below it, with ``hint`` appended: what to pass);
    ``blank=False`` also refuses empty and whitespace-only texts.
    """
    texts = _as_list(texts, name, "texts", "pass [text]")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(
                f"{name}: the text at position {position} is {text!r} ({type(text).__name__}), not a "
                "string; drop or fill missing texts first (for example df[text_col].dropna())"
            )
        if not blank and not text.strip():
            raise InputError(f"{name}: the text at position {position} is {text!r}, empty; drop empty texts first")
    if len(texts) < at_least:
        need = (
            "is empty: it needs at least one text" if at_least == 1 else f"is undefined for fewer than {at_least} texts"
        )
        raise ValueError(f"{name} {need}; got {len(texts)}{'; ' + hint if hint else ''}")
    return texts


def _kind(label: Any) -> str:
    """Labels of one kind compare with each other: numbers (bool, int, float, numpy) with numbers, strings with
    strings, anything else only with its own type."""
    if isinstance(label, (numbers.Number, np.bool_)):
        return "number"
    return "str" if isinstance(label, str) else type(label).__name__


def _one_kind(values: Iterable[Any], where: str, fix: str) -> None:
    first: dict[str, Any] = {}
    for value in values:
        first.setdefault(_kind(value), value)
    if len(first) > 1:
        shown = " and ".join(f"{value!r} ({type(value).__name__})" for value in list(first.values())[:3])
        raise InputError(f"{where} mixes label types: {shown}; give every label one type, e.g. {fix}")


def check_labels(labels: Any, name: str, *, distinct: int = 0) -> list[Any]:
    """``labels`` as a list: not a bare string, no missing label, every label of one type (numbers or strings),
    and at least ``distinct`` different labels (``distinct=2``: a set of labels to choose from).

    >>> check_labels(["pos", "neg"], "labels", distinct=2)
    ['pos', 'neg']
    """
    labels = _as_list(labels, name, "labels", "pass [label]")
    missing = [position for position, label in enumerate(labels) if _is_missing(label)]
    if missing:
        raise InputError(
            f"{name} has {len(missing)} missing label(s) (positions {missing[:_SHOWN]}); drop or label them first"
        )
    _one_kind(labels, name, f"[str(label) for label in {name}]")
    if len(set(labels)) < distinct:
        least = "two" if distinct == 2 else distinct  # the common case, in words
        raise ValueError(f"{name} needs at least {least} distinct labels to choose from; got {labels}")
    return labels


def check_column(frame: pd.DataFrame, column: str, role: str, *, frame_name: str = "") -> None:
    """Raise ``KeyError`` naming the argument (``role``, e.g. ``"text_col"``), the missing ``column`` and the
    columns ``frame`` does have."""
    if column not in frame.columns:
        where = f" of {frame_name}" if frame_name else ""
        raise KeyError(f"{role} {column!r} is not a column{where}; columns are {list(frame.columns)}")


def _check_text_column(frame: pd.DataFrame, name: str, column: str, blank: bool) -> None:
    ok = frame[column].map(lambda text: isinstance(text, str) and (blank or bool(text.strip())))
    if ok.all():
        return
    bad = frame[column][~ok]
    what = "missing or not a string" if blank else "missing or empty, or not a string"
    raise InputError(
        f"{name} has {len(bad)} row(s) whose {column!r} is {what} (index {bad.index.tolist()[:_SHOWN]}), e.g. "
        f"{bad.iloc[0]!r}; remove them with drop_malformed first (synthlab.curation.filters), or convert them "
        "with .astype(str)"
    )


def _check_label_column(frame: pd.DataFrame, name: str, column: str) -> None:
    missing = frame[column].map(_is_missing)
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} row(s) with a missing {column!r} "
            f"(index {frame.index[missing].tolist()[:_SHOWN]}); drop or label them first"
        )
    _one_kind(frame[column], f"{name}[{column!r}]", f"frame[{column!r}].astype(str)")


def _check_id_column(frame: pd.DataFrame, name: str, column: str) -> None:
    bad = frame[column].duplicated() | frame[column].map(_is_missing)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} row(s) with a missing or repeated {column!r} "
            f"(e.g. {frame.loc[bad, column].tolist()[:3]}); every row needs its own id"
        )


def check_frame(
    frame: Any,
    name: str,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    id_col: str | None = None,
    columns: Mapping[str, str] | None = None,
    texts: Sequence[str] = (),
    at_least: int = 1,
    blank: bool = True,
    hint: str = "",
) -> pd.DataFrame:
    """``frame`` itself after checking it, in this order: it is a DataFrame (else ``TypeError``); it has
    ``text_col``, ``label_col``, ``id_col`` and the other ``columns`` (``{role: column}``; else ``KeyError``);
    it has ``at_least`` rows (else ``ValueError``, with ``hint`` appended: what the rows are for); every
    value of ``text_col`` and of the other text columns ``texts`` is a string (non-blank when ``blank=False``),
    every ``label_col`` value present and of one type, every ``id_col`` value present and unique (else
    :class:`InputError` or ``ValueError``).

    ``name`` is the argument's name in messages (``"train"``, ``"pool"``). An empty frame is refused unless
    ``at_least=0``.
    """
    if not isinstance(frame, pd.DataFrame):
        got = f"one string {frame[:40]!r}" if isinstance(frame, str) else type(frame).__name__
        raise TypeError(f"{name} must be a pandas DataFrame; got {got}")
    roles = {"text_col": text_col, "label_col": label_col, "id_col": id_col, **(columns or {})}
    for role, column in roles.items():
        if column is not None:
            check_column(frame, column, role, frame_name=name)
    if len(frame) < at_least:
        size = "no rows (an empty frame)" if frame.empty else f"{len(frame)} rows; it needs at least {at_least}"
        why = hint or "did an earlier step remove them all? Its removal log says why"
        raise ValueError(f"{name} has {size}; {why}")
    for column in ([text_col] if text_col is not None else []) + list(texts):
        _check_text_column(frame, name, column, blank)
    if label_col is not None:
        _check_label_column(frame, name, label_col)
    if id_col is not None:
        _check_id_column(frame, name, id_col)
    return frame


def check_at_least(**sizes: Any) -> None:
    """Raise for the first size argument, given as ``name=(value, minimum)``, that is not an integer
    (:class:`InputError`) or is below its minimum (``ValueError``: ``"rounds must be >= 0; got -1"``)."""
    for name, (value, minimum) in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InputError(f"{name} must be an integer >= {minimum}; got {value!r} ({type(value).__name__})")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}; got {value}")
