"""Large and small model synergy (taxonomy F3): a teacher LLM and a small student model, each doing the
part it is good at, in both directions.

Only one LLM ships offline (SmolLM2-135M); the "small" model is a word-feature classifier
(:func:`synthlab.core.classifiers.fit_classifier`: Naive Bayes or TF-IDF + logistic regression, thousands of times
smaller) trained on a few real gold rows.
Any :func:`synthlab.get_chat_model` backend can be the teacher: pass an ``"openai"`` or ``"ollama"``
model for a bigger one. Long et al. (2024, section 4) name this synergy as a direction; the two
directions follow the survey's examples:

- **teacher generates, student filters or labels** (:func:`student_review`): the student scores every
  synthetic row; a row whose intended label the student doubts is removed (``mode="filter"``, as in
  SuperGen's and ZeroGen's filtering by a small task model) or takes the student's label
  (``mode="relabel"``, a student as annotator; cf. FreeAL, Xiao et al., 2023);
- **student selects, teacher labels** (:func:`student_picks_teacher_labels`): the student picks the
  unlabelled real rows it is least sure of and the LLM annotates them (LLMaAA, Zhang et al., 2023).

Measure both downstream with :func:`synthlab.evaluation.downstream.compare_training_sets`.

>>> student = fit_student(gold)                                              # doctest: +SKIP
>>> kept, removed = student_review(student, synthetic, mode="filter")        # doctest: +SKIP

Taught in ``notebooks/31_model_synergy_and_humans.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.annotation.llm import llm_annotate, select_for_annotation
from synthlab.core.checks import check_frame
from synthlab.core.classifiers import fit_classifier
from synthlab.core.steps import split_by_reason

__all__ = ["MODES", "fit_student", "student_picks_teacher_labels", "student_review"]

MODES: tuple[str, ...] = ("filter", "relabel")


def fit_student(
    gold: pd.DataFrame,
    *,
    classifier: str | Any = "tfidf-logreg",
    text_col: str = "text",
    label_col: str = "label",
    seed: int = 0,
) -> Any:
    """The small student: ``classifier`` (a name of :data:`synthlab.core.classifiers.CLASSIFIERS` or an estimator with
    ``predict_proba``) fitted on the real ``gold`` rows. Needs two labels or more."""
    check_frame(gold, "gold", text_col=text_col, label_col=label_col)
    if gold[label_col].nunique() < 2:
        raise ValueError(
            f"gold has one label only ({gold[label_col].iloc[0]!r}); the student needs rows of every "
            "label, e.g. synthlab.core.classifiers.stratified_sample(real_train, n)"
        )
    student = fit_classifier(classifier, gold[text_col].tolist(), gold[label_col].tolist(), seed=seed)
    if not hasattr(student, "predict_proba"):
        raise TypeError(f"the student {type(student).__name__} has no predict_proba(); use 'tfidf-logreg'")
    return student


def student_review(
    student: Any,
    rows: pd.DataFrame,
    *,
    mode: str = "filter",
    min_confidence: float = 0.5,
    text_col: str = "text",
    label_col: str = "label",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The student reviews the teacher's ``rows``: ``(kept, removed)`` in the convention of
    :mod:`synthlab.curation.filters`, both with ``student_label`` and ``student_confidence`` (its probability).

    A row is *doubted* when the student predicts another label than ``label_col`` with probability above
    ``min_confidence`` (raise it to doubt only confident disagreements). ``mode="filter"`` removes doubted
    rows; ``mode="relabel"`` keeps them with the student's label (the old one in ``relabelled_from``).
    Rows with a missing or non-string text raise (drop them first with ``synthlab.curation.filters.drop_malformed``);
    removing every row warns.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}; got {mode!r}")
    if not 0 <= min_confidence < 1:
        raise ValueError(f"min_confidence must be in [0, 1); got {min_confidence}")
    check_frame(rows, "rows", text_col=text_col, label_col=label_col)
    proba = student.predict_proba(rows[text_col].tolist())
    classes = np.asarray(student.classes_)
    best = proba.argmax(axis=1)
    reviewed = rows.assign(student_label=classes[best].tolist(), student_confidence=proba.max(axis=1))
    doubted = (reviewed["student_label"] != reviewed[label_col]) & (reviewed["student_confidence"] > min_confidence)
    reasons = pd.Series(None, index=rows.index, dtype=object)
    if mode == "filter":
        reasons[doubted] = "the student labels it " + reviewed.loc[doubted, "student_label"].astype(str)
    else:
        reviewed["relabelled_from"] = reviewed[label_col].astype(object).where(doubted, None)
        reviewed.loc[doubted, label_col] = reviewed.loc[doubted, "student_label"]
    return split_by_reason(reviewed, reasons, f"student_review({mode})")


def student_picks_teacher_labels(
    teacher: BaseChatModel,
    student: Any,
    pool: pd.DataFrame,
    budget: int,
    labels: Sequence[str],
    *,
    strategy: str = "least-confidence",
    text_col: str = "text",
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """The reverse direction: the student picks ``budget`` rows of the unlabelled real ``pool`` by
    ``strategy`` (:func:`synthlab.annotation.llm.select_for_annotation` on its class probabilities:
    ``"least-confidence"``, ``"max-entropy"``, or ``"random"`` for the baseline) and the ``teacher``
    labels them (:func:`synthlab.annotation.llm.llm_annotate`, ``budget`` calls). Returns the picked rows with
    ``llm_label``, ``llm_confidence``, ``llm_error`` and ``picked_by``; rows the teacher failed on keep a
    ``None`` label. Any gold column of ``pool`` is passed through untouched (to measure label accuracy)."""
    if pool.empty:
        raise ValueError("pool is empty: there are no unlabelled rows for the student to pick from")
    scores = student.predict_proba(pool[text_col].tolist()) if strategy != "random" else None
    picked = select_for_annotation(pool, budget, strategy, text_col=text_col, seed=seed, scores=scores)
    annotated = llm_annotate(teacher, picked, labels, text_col=text_col, seed=seed, confidence=False, progress=progress)
    return annotated.assign(picked_by=strategy)
