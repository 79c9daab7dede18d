"""LLM-as-judge label checks (taxonomy E3): a chat model reads each text and picks one label,
and its picks are compared with the intended or gold labels.

With the embedded model the answer is constrained by llama.cpp's JSON-schema grammar to one of the labels
(:func:`synthlab.llm.chat.constrain` with :func:`synthlab.annotation.labels.label_schema`), so every answer
parses; other backends answer in free text, from which the first label named is taken (or the row records a
parse error). Run it on real,
gold-labelled text first: its agreement there says how far the judge can be trusted on synthetic text.
Taught in ``notebooks/20_direct_evaluation.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.annotation.labels import JUDGE_PROMPT, label_parser, label_schema
from synthlab.core.checks import check_column, check_frame, check_labels
from synthlab.llm.chat import constrain
from synthlab.llm.generate import generate

__all__ = ["judge_agreement", "judge_labels"]


def judge_labels(
    model: BaseChatModel,
    frame: pd.DataFrame,
    labels: Sequence[str],
    *,
    text_col: str = "text",
    label_col: str | None = "label",
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Ask ``model`` to label every text of ``frame``; return ``frame`` with ``judge_label``,
    ``judge_error`` and, when ``label_col`` is given, ``judge_agrees`` (None where the judge failed)."""
    check_labels(labels, "labels", distinct=2)
    check_frame(frame, "frame", text_col=text_col, blank=False)
    if label_col is not None:
        check_column(frame, label_col, "label_col")
    listed = ", ".join(labels)
    prompts = [JUDGE_PROMPT.invoke({"labels": listed, "text": text}) for text in frame[text_col]]
    verdicts = generate(
        constrain(model, label_schema(labels)),
        prompts,
        seed=seed,
        parse=label_parser(labels),
        method="judge:label",
        progress=progress,
    )
    judged = frame.copy()
    verdict = verdicts["judge_label"] if "judge_label" in verdicts else [None] * len(frame)
    judged["judge_label"] = pd.Series(list(verdict), index=frame.index, dtype=object)
    judged["judge_error"] = pd.Series(verdicts["error"].tolist(), index=frame.index, dtype=object)
    if label_col is not None:
        judged["judge_agrees"] = pd.Series(
            [None if v is None else v == gold for v, gold in zip(judged["judge_label"], judged[label_col])],
            index=frame.index,
            dtype=object,
        )
    return judged


def judge_agreement(judged: pd.DataFrame, *, label_col: str = "label") -> dict[str, Any]:
    """Agreement of the judge with ``label_col`` over the rows it answered, overall and per label,
    next to ``majority_share`` (the agreement of a judge that always names the commonest label),
    with the share of rows it failed on and the label distribution it gave (a judge that always
    says one label shows it here)."""
    answered = judged[judged["judge_label"].notna()]
    agrees = answered["judge_label"] == answered[label_col]
    return {
        "n": len(judged),
        "answered": len(answered),
        "failed_share": 1 - len(answered) / len(judged) if len(judged) else 0.0,
        "agreement": float(agrees.mean()) if len(answered) else float("nan"),
        "majority_share": float(answered[label_col].value_counts(normalize=True).max())
        if len(answered)
        else float("nan"),
        "per_label": agrees.groupby(answered[label_col]).mean().to_dict(),
        "judge_label_counts": answered["judge_label"].value_counts().to_dict(),
    }
