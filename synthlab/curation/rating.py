"""LLM rating of label fit (taxonomy C2, AlpaGasus, Chen et al., 2024): a chat model scores from 1 to 5 how well
each row's label fits its text, rows under a threshold are flagged like any consistency detector's
(:mod:`synthlab.curation.consistency`), and :func:`threshold_curve` shows what each threshold keeps and costs.

>>> rated = rate_labels(model, train, threshold=3, seed=0)          # doctest: +SKIP
>>> kept, removed = drop_flagged(train, rated, step="llm rater")    # doctest: +SKIP

Taught in ``notebooks/12_consistency.ipynb``.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from synthlab.core.checks import check_frame
from synthlab.core.classifiers import train_and_test
from synthlab.curation.consistency import detected_frame
from synthlab.llm.chat import constrain
from synthlab.llm.generate import GenerationError, generate

__all__ = ["RATER_PROMPT", "SCORE_RANGE", "parse_score", "rate_labels", "threshold_curve"]

SCORE_RANGE: tuple[int, int] = (1, 5)


RATER_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            (
                "You grade training examples for a text classifier. Give a score from 1 to 5: 1 = the label is "
                "wrong for the text, 3 = unsure, 5 = the label is right."
            ),
        ),
        ("human", "Text: {text}\nLabel: {label}\n\nDoes the label fit the text? Score from 1 to 5."),
    ]
)


_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


_SCORE = re.compile(r"\b(\d+(?:\.\d+)?|one|two|three|four|five)\b", re.IGNORECASE)


def parse_score(output: str, low: int = SCORE_RANGE[0], high: int = SCORE_RANGE[1]) -> dict[str, float]:
    """``{"rater_score": s}`` from a rater's answer: the ``score`` of a JSON object, else the first
    number (digits or a word) between ``low`` and ``high`` in free text ("Score: 4", "4/5",
    "four out of five"). Raises ``ValueError`` (recorded on the row by ``generate``) when there is none."""
    try:
        answer = json.loads(output)
        candidates = [str(answer.get("score", ""))] if isinstance(answer, dict) else [output]
    except json.JSONDecodeError:
        candidates = [output]
    for match in _SCORE.finditer(candidates[0]):
        token = match.group(1).lower()
        value = float(_NUMBER_WORDS.get(token, token))
        if low <= value <= high:
            return {"rater_score": value}
    raise ValueError(f"no score between {low} and {high} in {output[:60]!r}")


def _score_schema(low: int, high: int) -> dict[str, Any]:
    """The JSON schema of a reply ``{"score": low..high}``."""
    return {
        "type": "object",
        "properties": {"score": {"type": "integer", "enum": list(range(low, high + 1))}},
        "required": ["score"],
    }


def rate_labels(
    model: BaseChatModel,
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    threshold: float = 3,
    prompt: ChatPromptTemplate = RATER_PROMPT,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """AlpaGasus-style rating (Chen et al., 2024): ``model`` scores how well each row's label fits its
    text from 1 to 5 (``prompt`` gets ``text`` and ``label``); one model call per row.

    The embedded model answers through a JSON grammar; other backends in free text, read by
    :func:`parse_score`. Columns: ``rater_score`` (NaN where no score could be read), ``rater_error``
    (why not), ``suspicion`` (5 - score; NaN when unscored), ``flagged`` (score < ``threshold``;
    unscored rows are never flagged) and ``reason``, e.g. "LLM rater scored the label 1 < 3".
    """
    check_frame(frame, "frame", text_col=text_col, label_col=label_col)
    low, high = SCORE_RANGE
    prompts = [prompt.invoke({"text": text, "label": label}) for text, label in zip(frame[text_col], frame[label_col])]
    try:
        rated = generate(
            constrain(model, _score_schema(low, high)),
            prompts,
            seed=seed,
            parse=parse_score,
            method="consistency:rate",
            progress=progress,
        )
    except GenerationError as error:
        warnings.warn(
            f"the rater gave no readable score for any of {len(frame)} rows: {error}",
            UserWarning,
            stacklevel=2,
        )
        rated = pd.DataFrame({"rater_score": np.nan, "error": str(error)}, index=range(len(frame)))
    scores = pd.Series(pd.to_numeric(rated.get("rater_score", np.nan), errors="coerce").to_numpy(), index=frame.index)
    reasons = [f"LLM rater scored the label {score:g} < {threshold:g}" for score in scores]
    return detected_frame(
        high - scores,
        scores < threshold,
        reasons,
        rater_score=scores,
        rater_error=pd.Series(rated["error"].tolist(), index=frame.index, dtype=object),
    )


def threshold_curve(
    train: pd.DataFrame,
    scores: Sequence[float],
    test: pd.DataFrame,
    *,
    thresholds: Sequence[float] = (1, 2, 3, 4, 5),
    text_col: str = "text",
    label_col: str = "label",
    noise_col: str | None = None,
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
) -> pd.DataFrame:
    """What keeping the rows whose score (higher = better, NaN = unscored) is >= each threshold
    does: one row per threshold with ``n_kept``, ``unscored_kept`` (unscored rows are always kept),
    ``noise_left`` (the share of ``noise_col``-True rows among the kept, when given) and the test
    ``accuracy`` of ``model`` trained on the kept rows (NaN when they hold fewer than two labels)."""
    check_frame(train, "train", text_col=text_col, label_col=label_col)
    values = np.asarray(scores, dtype=float)
    if values.shape != (len(train),):
        raise ValueError(f"scores has shape {values.shape} for {len(train)} training rows; give one per row")
    values = pd.Series(values, index=train.index)
    rows = []
    for threshold in thresholds:
        kept = train[values.isna() | (values >= threshold)]
        row = {"threshold": threshold, "n_kept": len(kept), "unscored_kept": int(values.isna().sum())}
        if noise_col is not None:
            row["noise_left"] = float(kept[noise_col].mean()) if len(kept) else np.nan
        row["accuracy"] = (
            train_and_test(
                kept, test, text_col=text_col, label_col=label_col, classifier=classifier, seed=seed
            ).accuracy
            if kept[label_col].nunique() >= 2
            else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)
