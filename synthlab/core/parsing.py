r"""Output parsing that survives a 135M model: strip the chatter around a text ("Sure, here is…",
"I hope you enjoy it!"), pull the text out of quotes or JSON, split list answers into items,
and raise ``ValueError`` when nothing usable remains, so that :func:`synthlab.llm.generate.generate`
records the reason on the row instead of keeping junk.

>>> strip_chatter('Sure! Here is a review:\n"A warm, funny film."')
{'text': 'A warm, funny film.'}
>>> parse_list("1. Comedy\n2. Horror - scary films\n3. comedy")
['Comedy', 'Horror']

Taught in ``notebooks/01_task_specification_and_conditions.ipynb``. The older, simpler
``generate`` itself knows no parser but :func:`synthlab.llm.generate.plain_text`; pass one of these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["clean_text", "parse_json", "parse_list", "parse_title", "reparse", "strip_chatter"]

_OPENERS = (
    re.compile(r"^(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\s*[!.,:]+\s*", re.IGNORECASE),
    re.compile(
        r"^(?:i'?m|i am|i'd be|i would be)\s+(?:happy|glad|delighted)\s+to\s+"
        r"(?:help|provide|write|share|assist|give|create|offer)\b[^\n.!:]*[.!:]\s*",
        re.IGNORECASE,
    ),
    re.compile(r"^(?:here(?:'s| is| are| it is| you go)|below is)\b[^\n:]*:\s*", re.IGNORECASE),
    re.compile(r"^(?:here(?:'s| is| are| it is| you go))\b[^\n.!]*[.!]\s*", re.IGNORECASE),
    re.compile(
        r"^(?:\*\*)?(?:movie review|review|text|answer|output|title)\s*(?:\*\*)?\s*:\s*(?:\*\*)?",
        re.IGNORECASE,
    ),
)


_CLOSERS = re.compile(
    r"\n+\s*(?:i hope|let me know|feel free|note:|this review|this text)\b.*$|"
    r"(?<=[.!?\"])\s*(?:i hope (?:you|this)|let me know if|feel free to)\b.*$",
    re.IGNORECASE | re.DOTALL,
)


_QUOTED = re.compile(r"[\"\u201c]([^\"\u201c\u201d]{12,})[\"\u201d]")
_QUOTES = ('"', "\u201c", "\u201d", "'")
_TEXT_KEYS = ("text", "review", "content", "output", "answer", "title")
_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\(?\d{1,3}[.):])\s*(.+?)\s*$")


def _from_json(text: str, keys: Sequence[str]) -> str | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    if isinstance(value, Mapping):
        for key in keys:
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key]
    return None


def clean_text(output: str, *, keys: Sequence[str] = _TEXT_KEYS) -> str:
    """The usable text inside a completion: the first of ``keys`` when it is JSON, else the text
    with leading chatter, "Review:"-style prefixes and trailing sign-offs removed, and a quoted
    span when the completion wraps the text in quotes. Raises ``ValueError`` when nothing is left.

    >>> clean_text("I'm happy to provide a review! Here it is:\\n\\n\\"Dull and slow.\\" I hope this helps.")
    'Dull and slow.'
    """
    if not isinstance(output, str):
        raise ValueError(f"expected a string completion; got {type(output).__name__}")  # noqa: TRY004 - generate() records ValueErrors on the row
    text = _from_json(output, keys) or output
    text = text.strip()
    for _ in range(3):  # openers come stacked: "Sure! Here is a review:\nReview: ..."
        before = text
        for pattern in _OPENERS:
            text = pattern.sub("", text, count=1).strip()
        if text == before:
            break
    text = _CLOSERS.sub("", text).strip()
    quoted = list(_QUOTED.finditer(text))
    lead = text[: quoted[0].start()].strip() if len(quoted) == 1 else None
    if lead is not None and (not lead or lead.endswith(":")) and len(quoted[0].group(1)) >= 0.5 * len(text):
        text = quoted[0].group(1).strip()  # 'Here it is: "..." I hope this helps.' (not a quote inside the text)
    elif len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        text = text[1:-1].strip()
    if not re.search(r"\w", text):
        raise ValueError(f"nothing usable left after removing chatter from {output[:80]!r}")
    return text


def strip_chatter(output: str) -> dict[str, Any]:
    """A ``parse`` function for :func:`synthlab.llm.generate.generate`: ``{"text": clean_text(output)}``."""
    return {"text": clean_text(output)}


def parse_json(output: str, *, text_key: str = "text") -> dict[str, Any]:
    """A ``parse`` function for JSON replies (say, from a model bound to a JSON schema): the object's
    fields become row fields, ``text_key`` renamed to ``text``. Raises ``ValueError`` when the reply
    is not one JSON object (a reply cut short by ``max_tokens``) or ``text_key`` is missing or empty.

    >>> parse_json('{"review": "Warm and funny.", "sentiment": "positive"}', text_key="review")
    {'text': 'Warm and funny.', 'sentiment': 'positive'}
    """
    try:
        value = json.loads(output)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a JSON object ({error}): {str(output)[:80]!r}") from error
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object; got {type(value).__name__}: {str(output)[:80]!r}")  # noqa: TRY004 - generate() records ValueErrors on the row
    text = value.pop(text_key, None)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"the JSON object has no non-empty {text_key!r}: {str(output)[:80]!r}")
    return {"text": text.strip(), **value}


def parse_title(output: str, *, max_words: int = 15) -> dict[str, Any]:
    """A ``parse`` function for titles (ZeroGen's first stage): the first non-empty line, without
    chatter, "Title:" or quotes. A line longer than ``max_words`` words is not a title: ``ValueError``."""
    first = next((line for line in clean_text(output).splitlines() if line.strip()), "")
    title = first.strip().strip("*#").strip()
    title = title.strip("".join(_QUOTES)).strip()
    if not title:
        raise ValueError(f"no title in {output[:80]!r}")
    if len(title.split()) > max_words:
        raise ValueError(f"not a title ({len(title.split())} words > {max_words}): {title[:80]!r}")
    return {"text": title}


def parse_list(output: str, *, max_words: int = 4, max_items: int | None = None) -> list[str]:
    """Items of a list answer (numbered, bulleted, one per line or comma-separated), each cut at an
    explanation (" - ...", ": ...", " (...)"), stripped of quotes and markup, at most ``max_words``
    words long, deduplicated ignoring case, in order. Returns ``[]`` when nothing parses; the
    caller decides whether that is an error (see :func:`synthlab.generation.prompts.propose_values`)."""
    if not isinstance(output, str):
        return []
    lines = [line for line in output.splitlines() if line.strip()]
    listed = [m.group(1) for m in map(_ITEM.match, lines) if m]
    if not listed:  # "comedy, horror and drama" on one line, possibly after a colon
        body = max(lines, key=lambda line: line.count(","), default="")
        body = body.split(":", 1)[-1]
        parts = re.split(r",|;|\band\b", body)
        listed = parts if len(parts) >= 3 else []  # one comma is a sentence, not a list
    items, seen = [], set()
    for item in listed:
        item = re.split(r"\s+[-\u2013\u2014]\s+|:|\(", item, maxsplit=1)[0]
        item = item.strip().strip("*_`").strip("".join(_QUOTES)).strip(" .,;!").strip()
        if (
            not item
            or len(item.split()) > max_words
            or not re.search(r"[A-Za-z]", item)
            or item.split()[0] in {"I", "i", "I'm", "Sorry", "sorry"}
        ):  # a sentence about itself
            continue
        if item.lower() not in seen:
            seen.add(item.lower())
            items.append(item)
    return items[:max_items] if max_items else items


def reparse(
    records: pd.DataFrame,
    parse: Callable[[str], Mapping[str, Any]] = strip_chatter,
    *,
    text_col: str = "text",
) -> pd.DataFrame:
    """Apply ``parse`` again to the ``raw`` completions of records (say, a better parser on cached
    rows): rows that parse get the new fields and no ``error``; rows that do not get the reason
    in ``error`` and a missing text. Rows whose model call failed (no ``raw``) are left as they are."""
    if "raw" not in records.columns:
        raise KeyError(f"records have no 'raw' column to re-parse; columns are {list(records.columns)}")
    out = records.copy()
    for index, raw in out["raw"].items():
        if not isinstance(raw, str):
            continue
        try:
            fields = dict(parse(raw))
        except ValueError as error:
            out.at[index, text_col], out.at[index, "error"] = None, f"ValueError: {error}"
            continue
        out.at[index, "error"] = None
        for key, value in fields.items():
            out.at[index, text_col if key == "text" else key] = value
    return out
