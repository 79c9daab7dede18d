"""Indirect evaluation (taxonomy E6) and oracle faithfulness (E1) with small text classifiers.

E6: train a small classifier on a training set (synthetic, real few-shot, real full) and score it on real
gold data (:func:`synthlab.core.classifiers.train_and_test`, :func:`compare_training_sets`), also as a
function of the number of training rows (:func:`learning_curve`, :func:`plot_learning_curves`).
E1: a classifier trained on real data is an *oracle* that labels synthetic rows; its agreement with the
intended labels is ZeroGen's "correctness" (:func:`oracle_agreement`). Taught in
``notebooks/20_direct_evaluation.ipynb`` (E1) and ``notebooks/21_indirect_evaluation.ipynb`` (E6).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthlab.core.checks import check_frame
from synthlab.core.classifiers import TrainTestResult, stratified_sample, train_and_test

__all__ = ["compare_training_sets", "learning_curve", "oracle_agreement", "plot_learning_curves"]


def learning_curve(
    train: pd.DataFrame,
    test: pd.DataFrame,
    sizes: Sequence[int],
    *,
    text_col: str = "text",
    label_col: str = "label",
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
    repeats: int = 1,
    balanced: bool = False,
) -> pd.DataFrame:
    """Accuracy and macro-F1 on ``test`` against the number of training rows: for each
    repeat ``r`` and size, train on :func:`stratified_sample` of ``train`` with seed
    ``seed + r`` (``balanced``: the same number of rows per label, as a balanced synthetic set
    has). Columns ``model``, ``n_train``, ``repeat``, ``accuracy``, ``macro_f1``.

    Sizes above ``len(train_df)`` are capped to it with a warning (repeated sizes are then
    measured once); a size below the number of labels raises, since a sample must hold every
    label. Plot the result with :func:`plot_learning_curves`.
    """
    check_frame(train, "train", text_col=text_col, label_col=label_col)
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1; got {repeats}")
    n_labels = train[label_col].nunique()
    if len(sizes) == 0 or min(sizes) < n_labels:
        raise ValueError(
            f"sizes must be non-empty and each >= the {n_labels} labels of train "
            f"(a stratified sample holds every label); got {list(sizes)}"
        )
    too_big = [size for size in sizes if size > len(train)]
    if too_big:
        warnings.warn(
            f"sizes {too_big} exceed the {len(train)} rows of train; capped to {len(train)}",
            UserWarning,
            stacklevel=2,
        )
    capped = sorted({min(int(size), len(train)) for size in sizes})
    rows = []
    for repeat in range(repeats):
        for size in capped:
            sample = stratified_sample(train, size, label_col=label_col, seed=seed + repeat, balanced=balanced)
            result = train_and_test(
                sample, test, text_col=text_col, label_col=label_col, classifier=classifier, seed=seed + repeat
            )
            rows.append(
                {
                    "classifier": result.classifier_name,
                    "n_train": size,
                    "repeat": repeat,
                    "accuracy": result.accuracy,
                    "macro_f1": result.macro_f1,
                }
            )
    return pd.DataFrame(rows)


_METRIC_LABELS = {"accuracy": "accuracy on the test set", "macro_f1": "macro-F1 on the test set"}


def plot_learning_curves(
    curves: Mapping[str, pd.DataFrame],
    *,
    metric: str = "accuracy",
    title: str = "",
) -> Figure:
    """One line per named :func:`learning_curve` result (the mean over repeats), with a
    mean ± standard deviation band where a curve has more than one repeat."""
    from matplotlib import pyplot as plt

    if not curves:
        raise ValueError("curves is empty; pass {name: learning_curve(...)} for at least one name")
    for name, curve in curves.items():
        if metric not in curve.columns or "n_train" not in curve.columns:
            raise KeyError(
                f"curve {name!r} has no {metric!r} or 'n_train' column; columns are "
                f"{list(curve.columns)}. Pass learning_curve() results and metric="
                "'accuracy' or 'macro_f1'"
            )
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for name, curve in curves.items():
        stats = curve.groupby("n_train")[metric].agg(["mean", "std", "count"])
        (line,) = axis.plot(stats.index, stats["mean"], marker="o", label=name)
        if (stats["count"] > 1).any():
            spread = stats["std"].fillna(0.0)
            axis.fill_between(
                stats.index, stats["mean"] - spread, stats["mean"] + spread, color=line.get_color(), alpha=0.2
            )
    axis.set_xlabel("training rows")
    axis.set_ylabel(_METRIC_LABELS.get(metric, metric))
    axis.set_title(title or f"Learning curves: {_METRIC_LABELS.get(metric, metric)}")
    axis.legend(title="training set")
    figure.tight_layout()
    return figure


def oracle_agreement(
    oracle: TrainTestResult | Any,
    synthetic: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
) -> dict[str, Any]:
    """ZeroGen-style correctness: the share of synthetic rows whose intended label an oracle
    (a classifier trained on real data: a :class:`TrainTestResult` or a fitted estimator with
    ``classes_``) also predicts.

    Returns ``agreement`` (over the rows whose intended label the oracle knows), ``n_scored``,
    ``per_label`` (a DataFrame of ``n`` and ``agreement`` per intended label), ``confusion``
    (counts, intended labels as rows, oracle labels as columns, all rows), ``predicted`` (the
    oracle's labels, aligned to ``synthetic``), and ``n_unknown_label`` / ``unknown_labels``
    for rows whose intended label the oracle was never trained on (these warn; if no row has a
    known label this raises).
    """
    if isinstance(oracle, TrainTestResult):
        model, known = oracle.classifier, oracle.labels
    elif hasattr(oracle, "predict") and getattr(oracle, "classes_", None) is not None:
        model, known = oracle, np.asarray(oracle.classes_).tolist()
    else:
        raise TypeError(
            f"oracle must be a TrainTestResult or a fitted classifier with predict() and "
            f"classes_; got {type(oracle).__name__}. Train one with "
            "train_and_test(real_train, real_test)"
        )
    check_frame(synthetic, "synthetic", text_col=text_col, label_col=label_col)
    intended = synthetic[label_col]
    predicted = pd.Series(
        np.asarray(model.predict(synthetic[text_col].tolist())).tolist(),
        index=synthetic.index,
        name="oracle_label",
    )
    is_known = intended.isin(known)
    unknown = sorted(set(intended[~is_known].tolist()))
    if not is_known.any():
        raise ValueError(
            f"none of synthetic's labels {unknown} is known to the oracle, which knows "
            f"{known}; are the labels spelled the same way as in the real data?"
        )
    if unknown:
        warnings.warn(
            f"{int((~is_known).sum())} synthetic row(s) have labels the oracle never saw: "
            f"{unknown}; they are left out of the agreement",
            UserWarning,
            stacklevel=2,
        )
    agrees = (predicted == intended)[is_known]
    return {
        "agreement": float(agrees.mean()),
        "n_scored": int(is_known.sum()),
        "per_label": agrees.groupby(intended[is_known]).agg(n="size", agreement="mean"),
        "confusion": pd.crosstab(intended.rename("intended"), predicted.rename("oracle")),
        "predicted": predicted,
        "n_unknown_label": int((~is_known).sum()),
        "unknown_labels": unknown,
    }


def compare_training_sets(
    sets: Mapping[str, pd.DataFrame],
    test: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
) -> pd.DataFrame:
    """The E6 table: one row per named training set (e.g. "real few-shot", "real full",
    "synthetic"), indexed by ``training_set``, with the columns of :meth:`TrainTestResult.as_row`,
    all scored on the same ``test``."""
    if not sets:
        raise ValueError("sets is empty; pass {name: frame} for at least one training set")
    rows = {}
    for name, frame in sets.items():
        try:
            result = train_and_test(
                frame, test, text_col=text_col, label_col=label_col, classifier=classifier, seed=seed
            )
        except (KeyError, TypeError, ValueError) as error:
            error.add_note(f"(raised for training set {name!r})")
            raise
        rows[name] = result.as_row()
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "training_set"
    return table
