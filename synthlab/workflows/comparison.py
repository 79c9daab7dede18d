"""What a synthetic training set is worth next to real data: the real baselines, the real learning curve, and the
headline comparison of the capstone (:mod:`synthlab.workflows.capstone`) with intervals.

- :func:`real_baselines`: train-on-real scores of the seed pool ("real few-shot"), the full training split and
  the majority class, each with a bootstrap interval over the test rows.
- :func:`real_curve`: accuracy against the number of real training rows, repeated over seeds
  (:func:`synthlab.evaluation.downstream.learning_curve`).
- :func:`equivalent_real_rows`: how many real rows a score is worth on that curve.
- :func:`headline`: the seed pool, the best curated synthetic set, and the two together, each with its gain over
  the seed pool (paired over the test rows) and what it is worth in real rows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from synthlab.core.classifiers import train_and_test
from synthlab.evaluation.downstream import learning_curve
from synthlab.evaluation.uncertainty import Estimate, proportion, tstr_difference, tstr_estimate

__all__ = ["CURVE_SIZES", "HEADLINE_COLUMNS", "equivalent_real_rows", "headline", "real_baselines", "real_curve"]

CURVE_SIZES: tuple[int, ...] = (32, 100, 200, 300, 500, 1000, 2000)
HEADLINE_COLUMNS = (
    "n_train",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "gain",
    "gain_low",
    "gain_high",
    "worth_real_rows",
    "worth_low",
    "worth_high",
)


def real_baselines(
    train: pd.DataFrame, seed_pool: pd.DataFrame, test: pd.DataFrame, *, seed: int = 0, n_resamples: int = 1000
) -> pd.DataFrame:
    """Train-on-real, test-on-real accuracy (with a bootstrap interval over the test rows) and macro-F1 for the
    ``seed_pool`` ("real few-shot") and the full ``train`` split ("real full"), and for always naming the commonest
    test label ("majority class", a Wilson interval): a classifier that learnt nothing but the prior scores that."""
    rows = {}
    for name, frame in (("real few-shot", seed_pool), ("real full", train)):
        accuracy = tstr_estimate(frame, test, n_resamples=n_resamples, seed=seed)
        macro_f1 = train_and_test(frame, test, seed=seed).macro_f1
        rows[name] = {"n_train": len(frame), **accuracy.columns("accuracy"), "macro_f1": macro_f1}
    labels = test["label"]
    always = pd.Series(labels.value_counts().idxmax(), index=labels.index)
    rows["majority class"] = {
        "n_train": 0,
        **proportion((labels == always).tolist()).columns("accuracy"),
        "macro_f1": f1_score(labels, always, average="macro", zero_division=0),
    }
    return pd.DataFrame.from_dict(rows, orient="index").astype({"n_train": int})


def real_curve(
    train: pd.DataFrame, test: pd.DataFrame, *, sizes: Sequence[int] = CURVE_SIZES, repeats: int = 5, seed: int = 0
) -> pd.DataFrame:
    """The real learning curve: per size, the mean, lowest and highest accuracy and macro-F1 over ``repeats``
    balanced samples of ``train`` (seeds ``seed`` ... ``seed + repeats - 1``), indexed by ``n_train``. Sizes a
    balanced sample of ``train`` cannot fill (its rarest label has too few rows) are left out, with a warning."""
    counts = train["label"].value_counts()
    largest = int(counts.min()) * len(counts)
    dropped = [size for size in sizes if size > largest]
    if dropped:
        warnings.warn(
            f"sizes {dropped} exceed the {largest} rows a balanced sample of train can hold; left out", stacklevel=2
        )
    runs = learning_curve(train, test, [size for size in sizes if size <= largest], seed=seed, repeats=repeats,
                          balanced=True)  # fmt: skip
    grouped = runs.groupby("n_train")
    return pd.concat(
        {"accuracy": grouped["accuracy"].mean(), "accuracy_min": grouped["accuracy"].min(),
         "accuracy_max": grouped["accuracy"].max(), "macro_f1": grouped["macro_f1"].mean(),
         "repeats": grouped.size()},
        axis=1,
    )  # fmt: skip


def equivalent_real_rows(curve: pd.DataFrame, score: float, *, metric: str = "accuracy") -> float:
    """How many real training rows reach ``score`` on the real ``curve`` (from :func:`real_curve`): the mean curve,
    made non-decreasing (its running maximum), interpolated on a log scale of the row count. ``0.0`` when ``score`` is
    below the curve's first point (worth fewer rows than the smallest size measured), ``inf`` when above its last."""
    if math.isnan(score):
        return math.nan
    sizes = curve.index.to_numpy(dtype=float)
    scores = np.maximum.accumulate(curve[metric].to_numpy(dtype=float))
    if score < scores[0]:
        return 0.0
    if score > scores[-1]:
        return math.inf
    reached = int(np.argmax(scores >= score))
    if reached == 0 or scores[reached] == scores[reached - 1]:
        return float(sizes[reached])
    share = (score - scores[reached - 1]) / (scores[reached] - scores[reached - 1])
    return float(math.exp(math.log(sizes[reached - 1]) + share * math.log(sizes[reached] / sizes[reached - 1])))


def _worth(curve: pd.DataFrame, accuracy: Estimate) -> dict[str, float]:
    return {
        "worth_real_rows": equivalent_real_rows(curve, accuracy.value),
        "worth_low": equivalent_real_rows(curve, accuracy.low),
        "worth_high": equivalent_real_rows(curve, accuracy.high),
    }


def headline(
    sets: dict[str, pd.DataFrame],
    seed_pool: pd.DataFrame,
    test: pd.DataFrame,
    curve: pd.DataFrame,
    *,
    seed: int = 0,
    n_resamples: int = 1000,
) -> pd.DataFrame:
    """One row per training set in ``sets`` (name -> labelled rows) and for the ``seed_pool``: accuracy on the real
    ``test`` rows with its interval, the ``gain`` over the seed pool (paired bootstrap over the test rows: an
    interval that excludes 0 is a difference the test split can resolve), and what the accuracy is worth in real
    rows on ``curve`` (:func:`equivalent_real_rows` of the estimate and of its interval's ends)."""
    rows: dict[str, dict[str, Any]] = {}
    for name, frame in {"real few-shot": seed_pool, **sets}.items():
        accuracy = tstr_estimate(frame, test, n_resamples=n_resamples, seed=seed)
        gain = tstr_difference(frame, seed_pool, test, n_resamples=n_resamples, seed=seed)
        rows[name] = {
            "n_train": len(frame),
            **accuracy.columns("accuracy"),
            **gain.columns("gain"),
            **_worth(curve, accuracy),
        }
    return pd.DataFrame.from_dict(rows, orient="index")[list(HEADLINE_COLUMNS)].astype({"n_train": int})
