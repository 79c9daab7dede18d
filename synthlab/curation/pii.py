"""A PII scrubber: replace e-mail addresses, URLs and phone numbers with placeholders (taxonomy C7).

Synthetic text can carry personal data the model memorised or invented, and real seed data
certainly does; a dataset to be shared should carry neither. :func:`scrub_pii` changes text rather
than removing rows: it returns the scrubbed frame and a log of every replacement (row id, kind,
original span and its position), from which :func:`unscrub_pii` puts the original text back.
Patterns are deliberately conservative (as in the regular-expression scrubbers of Presidio or
scrubadub): years, dates and "e.g." are left alone, at the price of missing unusual formats; a
named-entity model would be needed for names and addresses, which are not attempted here.
Taught in ``notebooks/10_hygiene_filters.ipynb``.

>>> find_pii("Mail jo.doe+films@example.co.uk or call +44 20 7946 0958 (since 1999-2004).")
[('email', 5, 31, 'jo.doe+films@example.co.uk'), ('phone', 40, 56, '+44 20 7946 0958')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from synthlab.core.checks import check_frame
from synthlab.core.steps import row_ids

__all__ = ["PII_KINDS", "PLACEHOLDERS", "find_pii", "scrub_pii", "unscrub_pii"]

#: The kinds of PII, in the order they claim overlapping text (an e-mail's domain is not a URL).
PII_KINDS: tuple[str, ...] = ("email", "url", "phone")
PLACEHOLDERS: dict[str, str] = {"email": "<EMAIL>", "url": "<URL>", "phone": "<PHONE>"}
_TLDS = "com|org|net|edu|gov|mil|int|io|co|uk|us|de|fr|es|it|nl|eu|info|biz|me|tv|ly|app|dev|ai"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    "url": re.compile(
        rf"(?:\bhttps?://|\bwww\.)[^\s<>\"']+|\b(?:[a-z0-9-]+\.)+(?:{_TLDS})\b(?:/[^\s<>\"']*)?",
        re.IGNORECASE,
    ),
    "phone": re.compile(
        r"(?<![\w/.+-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,4}"
        r"(?![\w/]|[.-]\d)"
    ),
}


_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
_YEAR = re.compile(r"(?:19|20)\d\d")
_TRAILING = ".,;:!?)]}'\""


def _is_phone(span: str) -> bool:
    digits = sum(character.isdigit() for character in span)
    groups = re.findall(r"\d+", span)
    return (
        7 <= digits <= 15 and not _DATE.fullmatch(span) and not all(_YEAR.fullmatch(group) for group in groups)
    )  # "1999-2004" is a range of years


def find_pii(text: str, kinds: Sequence[str] = PII_KINDS) -> list[tuple[str, int, int, str]]:
    """Every PII span found in ``text``, as ``(kind, start, end, span)`` in reading order, without
    overlaps (``kinds`` earlier in :data:`PII_KINDS` win)."""
    unknown = sorted(set(kinds) - set(PII_KINDS))
    if unknown:
        raise ValueError(f"unknown PII kinds {unknown}; choose among {list(PII_KINDS)}")
    found: list[tuple[str, int, int, str]] = []
    for kind in (kind for kind in PII_KINDS if kind in kinds):
        for match in _PATTERNS[kind].finditer(text):
            span = match.group(0).rstrip(_TRAILING) if kind == "url" else match.group(0)
            start, end = match.start(), match.start() + len(span)
            if kind == "phone" and not _is_phone(span):
                continue
            if all(end <= other_start or start >= other_end for _, other_start, other_end, _ in found):
                found.append((kind, start, end, span))
    return sorted(found, key=lambda item: item[1])


def scrub_pii(
    frame: pd.DataFrame, *, text_col: str = "text", kinds: Sequence[str] = PII_KINDS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(scrubbed, log)``: a copy of ``frame`` whose ``text_col`` has every e-mail, URL and phone
    number (those of ``kinds``) replaced by its placeholder (:data:`PLACEHOLDERS`), and one log row
    per replacement with the row's ``id``, the ``kind``, the ``original`` span, its ``placeholder``
    and its ``start``/``end`` in the original text. No row is removed. The log names rows by id (the
    ``id`` column, else the index), so a repeated id raises ``ValueError``."""
    texts = check_frame(frame, "scrub_pii: frame", text_col=text_col)[text_col]
    scrubbed, entries = [], []
    for text, row_id in zip(texts, _unique_ids(frame, "scrub_pii")):
        pieces, position = [], 0
        for kind, start, end, span in find_pii(text, kinds):
            pieces += [text[position:start], PLACEHOLDERS[kind]]
            entries.append(
                {
                    "id": row_id,
                    "kind": kind,
                    "original": span,
                    "placeholder": PLACEHOLDERS[kind],
                    "start": start,
                    "end": end,
                }
            )
            position = end
        scrubbed.append("".join(pieces) + text[position:])
    result = frame.copy()
    result[text_col] = _text_column(scrubbed, texts)
    return result, pd.DataFrame(entries, columns=["id", "kind", "original", "placeholder", "start", "end"])


def unscrub_pii(scrubbed: pd.DataFrame, log: pd.DataFrame, *, text_col: str = "text") -> pd.DataFrame:
    """The frame :func:`scrub_pii` was given: each placeholder its ``log`` recorded replaced by the
    original span again. Raises ``ValueError`` when a scrubbed text was edited since, or the frame's ids repeat."""
    column = check_frame(scrubbed, "unscrub_pii: frame", text_col=text_col)[text_col]
    texts = column.tolist()
    position_of = {row_id: position for position, row_id in enumerate(_unique_ids(scrubbed, "unscrub_pii"))}
    for row_id, entries in log.groupby("id", sort=False):
        if row_id not in position_of:
            raise ValueError(
                f"the log names row {row_id!r}, which is not in the scrubbed frame; pass the frame scrub_pii "
                "returned together with its log"
            )
        text = texts[position_of[row_id]]
        for entry in entries.sort_values("start").itertuples():  # left to right: what precedes is restored
            where = entry.start
            if text[where : where + len(entry.placeholder)] != entry.placeholder:
                raise ValueError(
                    f"row {row_id!r} no longer has {entry.placeholder} at {where}: its text changed "
                    "after scrubbing, so the log cannot restore it"
                )
            text = text[:where] + entry.original + text[where + len(entry.placeholder) :]
        texts[position_of[row_id]] = text
    restored = scrubbed.copy()
    restored[text_col] = _text_column(texts, column)
    return restored


def _text_column(texts: list[str], like: pd.Series) -> pd.Series:
    """``texts`` as a column in place of ``like``: its index and, for a string or object column, its dtype (so a
    round trip gives back an equal frame; a categorical column becomes plain text, as new texts are no category)."""
    return pd.Series(texts, index=like.index, dtype=like.dtype if pd.api.types.is_string_dtype(like.dtype) else None)


def _unique_ids(frame: pd.DataFrame, step: str) -> list[Any]:
    """The row ids the log names rows by (:func:`synthlab.core.steps.row_ids`); a repeated one would make the log
    ambiguous, so it raises ``ValueError``."""
    ids = row_ids(frame)
    repeated = ids[ids.duplicated()].unique().tolist()
    if repeated:
        where = "'id' column" if "id" in frame.columns else "index (the frame has no 'id' column)"
        raise ValueError(
            f"{step} names rows by id, but the {where} repeats {repeated[:5]}; give every row its own id "
            "(frame.reset_index(drop=True) for a repeated index; new ids for a repeated 'id')"
        )
    return ids.tolist()
