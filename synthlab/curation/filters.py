"""Hygiene filters (taxonomy C7): every synthetic dataset needs them before anything cleverer.

Each filter is a step in the ``(kept, removed)`` convention of :mod:`synthlab.core.steps`: the rows it kept,
and the rows it removed with a ``reason`` and the ``step`` that removed them. The filters here look at one
text at a time (malformed, length, format, refusal, repetition) or at the texts before it (exact duplicates,
ROUGE-L novelty); near-duplicates are in :mod:`synthlab.curation.dedup` and the PII scrubber, which changes
text instead of removing rows, in :mod:`synthlab.curation.pii`. Chain them with
:func:`synthlab.core.steps.run_filters`. Taught in ``notebooks/10_hygiene_filters.ipynb`` (first used in
``notebooks/00_quickstart.ipynb``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import pandas as pd
from tqdm.auto import tqdm

from synthlab.core.checks import check_at_least, check_frame
from synthlab.core.steps import row_ids, split_by_reason
from synthlab.core.text import NoveltyPool

__all__ = [
    "CHATTER_PATTERN",
    "REFUSAL_PATTERNS",
    "drop_bad_format",
    "drop_by_length",
    "drop_exact_duplicates",
    "drop_low_novelty",
    "drop_malformed",
    "drop_refusals",
    "drop_repetitive",
    "repetition_score",
]

_WORD = re.compile(r"\w+")


#: Refusals and apologies of chat models (matched case-insensitively anywhere in the text). They
#: are specific on purpose: a real review may say "I cannot recommend it", not "I cannot help".
REFUSAL_PATTERNS: tuple[str, ...] = (
    r"\bas an ai\b",
    r"\bas a (?:large |helpful )?(?:language model|ai assistant)\b",
    r"\bi(?:'m| am) (?:sorry|afraid)\b",
    r"\bi apologi[sz]e\b",
    (
        r"\bi (?:cannot|can't|can not|won't|will not|am unable to|'m unable to|am not able to|'m not able to)"
        r" (?:help|assist|provide|write|create|generate|fulfil|fulfill|comply|complete|answer|do that)\b"
    ),
    r"\bi must decline\b",
    r"\b(?:it is|it's) not appropriate\b",
)


#: Talk about the task instead of the task's output ("Here's my review:", "I'm a film critic"),
#: the default ``forbidden`` pattern of :func:`drop_bad_format`.
CHATTER_PATTERN = (
    r"(?i)\b(?:here(?:'s| is) (?:my|the|a|your) (?:\w+ )?review|"
    r"i(?:'m| am) (?:a|an|your) (?:\w+ )?(?:film|movie) critic|"
    r"as (?:a|an) (?:\w+ )?(?:film|movie) critic)\b"
)


_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\(?\d{1,3}[.):])\s+\S", re.MULTILINE)


def drop_malformed(
    frame: pd.DataFrame, *, text_col: str = "text", label_col: str | None = "label", min_words: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove rows whose generation failed (``error`` set), whose text is missing or shorter
    than ``min_words`` words, or (when ``label_col`` is given) whose label is missing. Like every curation step,
    an empty frame raises ``ValueError`` (there is nothing to curate; an earlier step's log says why)."""
    roles = {"text_col": text_col} if label_col is None else {"text_col": text_col, "label_col": label_col}
    check_frame(frame, "drop_malformed: frame", columns=roles)  # missing texts and labels are what it removes
    errors = frame["error"] if "error" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    labels = frame[label_col] if label_col is not None else pd.Series([""] * len(frame), index=frame.index)
    reasons = []
    for text, error, label in zip(frame[text_col], errors, labels):  # by position: index labels may repeat
        if isinstance(error, str):
            reasons.append(f"generation error: {error}")
        elif not isinstance(text, str) or not text.strip():
            reasons.append("empty text")
        elif len(_WORD.findall(text)) < min_words:
            reasons.append(f"shorter than {min_words} words")
        elif label_col is not None and pd.isna(label):
            reasons.append("missing label")
        else:
            reasons.append(None)
    return split_by_reason(frame, reasons, "drop_malformed")


def drop_exact_duplicates(frame: pd.DataFrame, *, text_col: str = "text") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the first of each group of rows whose text is identical after trimming spaces
    and lower-casing; the others are removed with the id of the row they duplicate (in the
    ``reason`` and in ``duplicate_of``). A missing text (a failed row) is no duplicate of another: it is kept, for
    :func:`drop_malformed` to remove with its reason. An empty frame raises ``ValueError``."""
    check_frame(frame, "drop_exact_duplicates: frame", columns={"text_col": text_col})  # a missing text is kept
    key = frame[text_col].map(lambda text: " ".join(text.lower().split()) if isinstance(text, str) else None)
    first_id = row_ids(frame).groupby(key, sort=False, dropna=True).transform("first")
    duplicate = key.duplicated(keep="first") & key.notna()
    reasons = ("exact duplicate of " + first_id.astype(str)).where(duplicate, None)
    kept, removed = split_by_reason(frame, reasons, "drop_exact_duplicates")
    removed["duplicate_of"] = first_id[duplicate]
    return kept, removed


def drop_by_length(
    frame: pd.DataFrame, *, text_col: str = "text", min_words: int = 5, max_words: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove texts with fewer than ``min_words`` or more than ``max_words`` words (no upper bound
    when ``None``): fragments and rambling."""
    if max_words is not None and max_words < min_words:
        raise ValueError(f"max_words ({max_words}) is below min_words ({min_words}); raise max_words")
    counts = check_frame(frame, "drop_by_length: frame", text_col=text_col)[text_col].map(
        lambda text: len(_WORD.findall(text))
    )
    reasons = [
        f"{count} words, fewer than {min_words}"
        if count < min_words
        else f"{count} words, more than {max_words}"
        if max_words is not None and count > max_words
        else None
        for count in counts
    ]
    return split_by_reason(frame, reasons, "drop_by_length")


def _format_problems(
    text: str,
    must_end_sentence: bool,
    allow_lists: bool,
    forbidden: re.Pattern[str] | None,
    required: re.Pattern[str] | None,
) -> str | None:
    problems = []
    stripped = text.strip()
    if must_end_sentence and not _SENTENCE_END.search(stripped):
        problems.append(f"does not end like a sentence ('...{stripped[-25:]}')")
    items = len(_LIST_ITEM.findall(text))
    if not allow_lists and items >= 2:
        problems.append(f"is a list of {items} items")
    if forbidden is not None and (match := forbidden.search(text)):
        problems.append(f"contains {match.group(0)!r} (forbidden pattern)")
    if required is not None and not required.search(text):
        problems.append(f"does not match the required pattern {required.pattern!r}")
    return "; ".join(problems) or None


def drop_bad_format(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    must_end_sentence: bool = True,
    allow_lists: bool = False,
    forbidden: str | None = CHATTER_PATTERN,
    required: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove texts of the wrong shape: cut off mid-sentence (no final ``.!?``, the mark of a
    generation that hit ``max_tokens``), written as a list, containing the ``forbidden`` regular
    expression (by default :data:`CHATTER_PATTERN`, talk about the task) or missing the ``required``
    one. The reason lists every problem found."""
    texts = check_frame(frame, "drop_bad_format: frame", text_col=text_col)[text_col]
    forbidden_re = re.compile(forbidden) if forbidden else None
    required_re = re.compile(required) if required else None
    reasons = [_format_problems(text, must_end_sentence, allow_lists, forbidden_re, required_re) for text in texts]
    return split_by_reason(frame, reasons, "drop_bad_format")


def drop_refusals(
    frame: pd.DataFrame, *, text_col: str = "text", patterns: Sequence[str] = REFUSAL_PATTERNS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove refusals and apologies ("As an AI...", "I'm sorry, I cannot help..."): texts matching
    one of ``patterns`` (case-insensitive regular expressions; default :data:`REFUSAL_PATTERNS`).
    The reason quotes the words that matched."""
    if not patterns:
        raise ValueError("patterns is empty; pass regular expressions, e.g. curate.REFUSAL_PATTERNS")
    combined = re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)
    texts = check_frame(frame, "drop_refusals: frame", text_col=text_col)[text_col]
    reasons = [
        f"refusal or apology: {match.group(0)!r}" if (match := combined.search(text)) else None for text in texts
    ]
    return split_by_reason(frame, reasons, "drop_refusals")


def _loop_tokens(text: str) -> list[str]:
    # Whitespace tokens, so that loops of symbols ("**** **** ****") count too.
    return [token.strip(".,;:!?\"'()").lower() or token for token in text.split()]


def repetition_score(text: str, n: int = 3) -> tuple[float, str | None]:
    """The share of ``text``'s word ``n``-grams that repeat an earlier one (0.0 when every
    ``n``-gram is new; close to 1.0 for a model stuck in a loop) and the most repeated ``n``-gram
    (``None`` when nothing repeats).

    >>> repetition_score("the movie was bad, the movie was bad, the movie was bad")
    (0.6, 'the movie was')
    """
    tokens = _loop_tokens(text)
    grams = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    if len(grams) < 2:
        return 0.0, None
    gram, count = Counter(grams).most_common(1)[0]
    return 1 - len(set(grams)) / len(grams), gram if count > 1 else None


def _longest_run(tokens: Sequence[str]) -> tuple[int, str | None]:
    best, word, run = 0, None, 0
    for position, token in enumerate(tokens):
        run = run + 1 if position and token == tokens[position - 1] else 1
        if run > best and (len(token) > 1 or token.isalnum()):  # ". . ." is an ellipsis, not a loop
            best, word = run, token
    return best, word


def _loop_reason(text: str, n: int, max_repeated: float, max_run: int) -> str | None:
    run, word = _longest_run(_loop_tokens(text))
    if run > max_run:
        return f"{word!r} {run} times in a row"
    share, gram = repetition_score(text, n)
    return f"{share:.0%} of its {n}-grams are repeats (most repeated: {gram!r})" if share > max_repeated else None


def drop_repetitive(
    frame: pd.DataFrame, *, text_col: str = "text", n: int = 3, max_repeated: float = 0.2, max_run: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove degenerate loops, which small models fall into ("the movie was abomin, the movie
    was abomin, ..."; Holtzman et al., 2020, "The Curious Case of Neural Text Degeneration"): texts
    with one word more than ``max_run`` times in a row, or in which more than ``max_repeated`` of
    the word ``n``-grams repeat an earlier one (see :func:`repetition_score`). Real reviews repeat
    for effect too ("a copy of a copy of a copy": 18 % of its 3-grams), hence the margin."""
    if not 0 <= max_repeated < 1:
        raise ValueError(f"max_repeated must be in [0, 1); got {max_repeated}")
    check_at_least(n=(n, 1), max_run=(max_run, 1))
    texts = check_frame(frame, "drop_repetitive: frame", text_col=text_col)[text_col]
    return split_by_reason(frame, [_loop_reason(text, n, max_repeated, max_run) for text in texts], "drop_repetitive")


def drop_low_novelty(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    references: Sequence[str] = (),
    threshold: float = 0.7,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove texts that are near copies, in the order given: a row is removed when its ROUGE-L
    (Lin, 2004) with one of ``references`` (the seed examples or demonstrations the model was shown)
    or with an earlier kept row reaches ``threshold``. This is Self-Instruct's novelty filter
    (Wang et al., 2023), built on :class:`synthlab.core.text.NoveltyPool`; it compares every pair, so
    keep it to a few thousand rows (use :func:`synthlab.curation.dedup.drop_near_duplicates` beyond)."""
    texts = check_frame(frame, "drop_low_novelty: frame", text_col=text_col)[text_col]
    pool = NoveltyPool(threshold=threshold, texts=list(references))
    source = {text: "reference text" for text in references}
    reasons = []
    for text, row_id in tqdm(zip(texts, row_ids(frame)), total=len(frame), desc="novelty", disable=not progress):
        admitted, score, match = pool.offer(text)
        if admitted:
            source.setdefault(text, f"row {row_id}")
            reasons.append(None)
        else:
            reasons.append(f"ROUGE-L {score:.2f} with {source[match]}: {match[:60]!r}")
    return split_by_reason(frame, reasons, "drop_low_novelty")
