"""Cross-fitting: what a classifier that never saw a row thinks of its label.

A classifier scores its own training rows too kindly (it memorised them, noisy labels included), so
noise detectors, re-weighting and relabelling use *out-of-fold* predictions: split the rows into
``n_splits`` folds, train on all folds but one and predict the held-out one
(:func:`out_of_fold_proba`). :func:`label_loss` turns those probabilities into each row's loss on
its given label (high loss: the label is suspicious). Used by the curation notebooks from
``notebooks/12_consistency.ipynb`` on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold
from tqdm.auto import tqdm

from synthlab.core.checks import check_frame
from synthlab.core.classifiers import fit_classifier

__all__ = ["MIN_PROBABILITY", "label_loss", "out_of_fold_proba"]

MIN_PROBABILITY = 1e-6


def out_of_fold_proba(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    n_splits: int = 5,
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Out-of-fold class probabilities: one row per row of ``frame`` (same index), one column per
    label, each row predicted by a ``model`` trained on the other folds (stratified, shuffled with
    ``seed``; ``sample_weight`` aligned with ``frame``'s rows weights the training folds).

    >>> proba = out_of_fold_proba(noisy_train)                     # doctest: +SKIP
    >>> suspicion = label_loss(proba, noisy_train["label"])        # doctest: +SKIP
    """
    check_frame(frame, "frame", text_col=text_col, label_col=label_col)
    labels = frame[label_col].to_numpy(dtype=object)
    classes = sorted(set(labels.tolist()))
    smallest = int(pd.Series(labels).value_counts().min())
    if len(classes) < 2:
        raise ValueError(f"cross-fitting needs two labels or more; every row has {label_col!r} == {classes[0]!r}")
    if not 2 <= n_splits <= smallest:
        raise ValueError(
            f"n_splits={n_splits} needs 2 <= n_splits <= {smallest}, the size of the smallest "
            "label's group; lower n_splits or add rows"
        )
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if weights is not None and weights.shape != (len(frame),):
        raise ValueError(f"sample_weight has shape {weights.shape}; give one weight per row ({len(frame)})")
    texts = frame[text_col].to_numpy(dtype=object)
    proba = np.zeros((len(frame), len(classes)))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(texts, labels)
    for train_rows, held_out in tqdm(list(folds), desc="cross-fitting", disable=not progress):
        fitted = fit_classifier(
            classifier,
            texts[train_rows].tolist(),
            labels[train_rows].tolist(),
            seed=seed,
            sample_weight=None if weights is None else weights[train_rows],
        )
        columns = [classes.index(label) for label in fitted.classes_]
        proba[np.ix_(held_out, columns)] = fitted.predict_proba(texts[held_out].tolist())
    return pd.DataFrame(proba, index=frame.index, columns=classes)


def label_loss(proba: pd.DataFrame, labels: Sequence[Any]) -> pd.Series:
    """Each row's cross-entropy on its given label, ``-log p(label)`` (probabilities clipped at
    :data:`MIN_PROBABILITY`), aligned with ``proba``'s index; higher means more suspicious."""
    given = pd.Series(list(labels), index=proba.index)
    unknown = sorted(set(given) - set(proba.columns), key=str)
    if unknown:
        raise ValueError(f"labels {unknown} have no probability column; proba has {list(proba.columns)}")
    picked = proba.to_numpy()[np.arange(len(proba)), [proba.columns.get_loc(label) for label in given]]
    return pd.Series(-np.log(np.clip(picked, MIN_PROBABILITY, 1.0)), index=proba.index, name="label_loss")
