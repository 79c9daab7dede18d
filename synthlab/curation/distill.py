"""Knowledge distillation into small students (taxonomy C5): MCKD's cross-partition relabelling.

Multistage Collaborative Knowledge Distillation (Zhao et al., 2023, "Multistage Collaborative Knowledge
Distillation from a Large Language Model for Semi-Supervised Sequence Generation") starts from noisy
pseudo-labels (an LLM's), splits the rows into partitions and lets a small *student* trained on the other
partitions relabel each one (:func:`cross_partition_relabel`): a student never relabels the rows it learnt
from, so it cannot simply repeat their noise. The next stage trains new students on those pseudo-labels
(:func:`mckd`). Cross-partition labelling is cross-fitting, so it is built on
:func:`synthlab.core.crossfit.out_of_fold_proba`. Taught in ``notebooks/15_auxiliary_models.ipynb``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from synthlab.core.checks import check_column, check_frame
from synthlab.core.classifiers import train_and_test
from synthlab.core.crossfit import out_of_fold_proba

__all__ = ["cross_partition_relabel", "mckd", "MCKDResult"]


def cross_partition_relabel(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    n_partitions: int = 2,
    classifier: str | Any = "tfidf-logreg",
    min_confidence: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One MCKD stage: each of ``n_partitions`` stratified partitions of ``frame`` is relabelled by a
    student ``model`` trained on the others. Returns, aligned with ``frame``'s index, ``pseudo_label``
    and ``student_confidence`` (the student's probability of its label). With ``min_confidence`` a row
    keeps its current label unless the student is at least that sure (a safeguard, not in the paper).

    >>> stage = cross_partition_relabel(noisy_train, min_confidence=0.6)   # doctest: +SKIP
    """
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be between 0 and 1 (or None); got {min_confidence}")
    proba = out_of_fold_proba(
        frame, text_col=text_col, label_col=label_col, n_splits=n_partitions, classifier=classifier, seed=seed
    )
    predicted = proba.idxmax(axis=1)
    confidence = proba.max(axis=1)
    if min_confidence is not None:
        predicted = predicted.where(confidence >= min_confidence, frame[label_col])
    return pd.DataFrame({"pseudo_label": predicted.astype(object), "student_confidence": confidence}, index=frame.index)


@dataclass
class MCKDResult:
    """What :func:`mckd` produced: ``rows`` is the input with ``original_label`` (provenance), one
    ``pseudo_label_<stage>`` column per stage and ``label_col`` set to the last stage's labels;
    ``table`` has one row per stage (stage 0 = the given labels)."""

    rows: pd.DataFrame
    table: pd.DataFrame


def _stage_row(
    stage: int,
    labels: pd.Series,
    previous: pd.Series,
    frame: pd.DataFrame,
    truth: pd.Series | None,
    test: pd.DataFrame | None,
    text_col: str,
    label_col: str,
    eval_classifier: str | Any,
    seed: int,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "stage": stage,
        "changed": int((labels != previous).sum()),
        "majority_share": float(labels.value_counts(normalize=True).max()),
        "label_accuracy": float((labels == truth).mean()) if truth is not None else np.nan,
    }
    if test is not None:
        result = train_and_test(
            frame.assign(**{label_col: labels}),
            test,
            text_col=text_col,
            label_col=label_col,
            classifier=eval_classifier,
            seed=seed,
        )
        row |= {"test_accuracy": result.accuracy, "test_macro_f1": result.macro_f1}
    return row


def mckd(
    frame: pd.DataFrame,
    *,
    stages: int = 3,
    text_col: str = "text",
    label_col: str = "label",
    n_partitions: int = 2,
    classifier: str | Any = "tfidf-logreg",
    min_confidence: float | None = None,
    true_label_col: str | None = None,
    test: pd.DataFrame | None = None,
    eval_classifier: str | Any = "nltk-nb",
    seed: int = 0,
    progress: bool = True,
) -> MCKDResult:
    """MCKD (Zhao et al., 2023): ``stages`` rounds of :func:`cross_partition_relabel`, each stage's
    students trained on the previous stage's pseudo-labels. The table reports per stage the rows
    whose label ``changed``, the share of the commonest label (``majority_share``: watch it drift),
    ``label_accuracy`` against ``true_label_col`` when given, and, with a ``test`` frame,
    ``test_accuracy`` / ``test_macro_f1`` of a ``eval_classifier`` trained on the pseudo-labels.
    When the pseudo-labels collapse (too few rows of a label to train students) it warns and stops.

    >>> result = mckd(task.train, true_label_col="true_label", test=task.test)   # doctest: +SKIP
    >>> result.table                                                             # doctest: +SKIP
    """
    check_frame(frame, "frame", text_col=text_col, label_col=label_col)
    if stages < 1:
        raise ValueError(f"stages must be >= 1; got {stages}")
    if true_label_col is not None:
        check_column(frame, true_label_col, "true_label_col")
    truth = frame[true_label_col] if true_label_col is not None else None
    rows = frame.copy()
    rows["original_label"] = frame[label_col]
    labels = frame[label_col]
    table = [_stage_row(0, labels, labels, frame, truth, test, text_col, label_col, eval_classifier, seed)]
    for stage in tqdm(range(1, stages + 1), desc="MCKD stages", disable=not progress):
        counts = labels.value_counts()
        if len(counts) < 2 or counts.min() < n_partitions:
            warnings.warn(
                f"MCKD stopped before stage {stage}: the pseudo-labels collapsed to "
                f"{counts.to_dict()}, too few rows of a label to train {n_partitions} students; "
                "use fewer stages, a min_confidence, or more rows",
                UserWarning,
                stacklevel=2,
            )
            break
        relabelled = cross_partition_relabel(
            rows.assign(**{label_col: labels}),
            text_col=text_col,
            label_col=label_col,
            n_partitions=n_partitions,
            classifier=classifier,
            min_confidence=min_confidence,
            seed=seed,
        )["pseudo_label"]
        if relabelled.nunique() < 2:
            warnings.warn(
                f"MCKD stage {stage} gave every row the label {relabelled.iloc[0]!r}; "
                "its students learnt the majority label only",
                UserWarning,
                stacklevel=2,
            )
            table.append(
                {
                    "stage": stage,
                    "changed": int((relabelled != labels).sum()),
                    "majority_share": 1.0,
                    "label_accuracy": float((relabelled == truth).mean()) if truth is not None else np.nan,
                }
            )
        else:
            table.append(
                _stage_row(stage, relabelled, labels, frame, truth, test, text_col, label_col, eval_classifier, seed)
            )
        rows[f"pseudo_label_{stage}"] = relabelled
        labels = relabelled
    rows[label_col] = labels
    return MCKDResult(rows=rows, table=pd.DataFrame(table).set_index("stage"))
