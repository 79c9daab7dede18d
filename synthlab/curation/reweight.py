"""Re-weighting (taxonomy C3): noise-robust per-row weights instead of removing rows.

SunGen (Gao et al., 2023, "Self-Guided Noise-Free Data Generation for Efficient Zero-Shot
Learning") learns one weight per synthetic row with a noise-robust loss in a bilevel loop, so rows
whose label looks wrong count less in training. :func:`noise_robust_weights` is a transparent
simplification of that idea, not SunGen itself: start from uniform weights; at each iteration
cross-fit a classifier with the current weights (:func:`synthlab.core.crossfit.out_of_fold_proba`),
turn each row's out-of-fold loss on its label into a weight with :func:`robust_weights`
(``p(label) ** (1 / temperature)``, the per-row factor of the generalized cross-entropy of Zhang &
Sabuncu, 2018, with ``q = 1 / temperature``), and mix it with the previous weights. The weights go
to training as ``sample_weight`` (:func:`synthlab.core.classifiers.train_and_test`).
Taught in ``notebooks/13_reweighting.ipynb``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from tqdm.auto import tqdm

from synthlab.core.checks import check_frame
from synthlab.core.classifiers import train_and_test
from synthlab.core.crossfit import label_loss, out_of_fold_proba
from synthlab.core.plots import curves_with_references

__all__ = [
    "MIN_EFFECTIVE_SHARE",
    "count_naive_bayes",
    "effective_size",
    "noise_robust_weights",
    "plot_reweighting_history",
    "plot_weight_distributions",
    "Reweighting",
    "robust_weights",
    "weight_separation",
]

MIN_EFFECTIVE_SHARE = 0.1


def count_naive_bayes() -> Pipeline:
    """Multinomial naive Bayes on word counts: the weightable counterpart of ``"nltk-nb"`` (whose
    NLTK classifier takes no ``sample_weight``), as hurt by label noise and fast to cross-fit."""
    return make_pipeline(CountVectorizer(), MultinomialNB())


def robust_weights(
    loss: Sequence[float],
    labels: Sequence[Any] | None = None,
    *,
    temperature: float = 1.0,
) -> pd.Series:
    """Weights ``exp(-loss / temperature)`` (that is ``p(label) ** (1 / temperature)`` for a
    cross-entropy ``loss``), scaled to mean 1 within each label of ``labels`` (or overall when
    ``labels`` is None), so re-weighting never shifts the label balance. Low temperature: sharper
    weights, close to removing the high-loss rows; high temperature: close to uniform.

    >>> robust_weights([0.1, 0.1, 2.0]).round(2).tolist()
    [1.4, 1.4, 0.21]
    """
    values = (loss if isinstance(loss, pd.Series) else pd.Series(loss)).astype(float).rename("weight")
    if values.empty:
        raise ValueError("loss is empty; compute one loss per training row first")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(
            f"loss must be finite and non-negative; got {int((~np.isfinite(values)).sum())} "
            f"non-finite and {int((values < 0).sum())} negative value(s)"
        )
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    if labels is not None and len(labels) != len(values):
        raise ValueError(f"labels has {len(labels)} entries for {len(values)} losses; give one per row")
    groups = pd.Series(0 if labels is None else list(labels), index=values.index)
    # Shift by each group's smallest loss: the best row gets exp(0) = 1, so no group underflows to 0.
    raw = np.exp(-(values - values.groupby(groups).transform("min")) / temperature)
    return raw / raw.groupby(groups).transform("mean")


def weight_separation(weights: Sequence[float], is_noisy: Sequence[bool]) -> dict[str, float]:
    """How well weights separate clean from noisy rows: mean weight of each group, their gap, and
    the AUC (the chance that a random clean row weighs more than a random noisy one; 0.5 = no
    separation)."""
    weights, noisy = np.asarray(weights, dtype=float), np.asarray(is_noisy, dtype=bool)
    if weights.shape != noisy.shape:
        raise ValueError(f"weights has shape {weights.shape} and is_noisy {noisy.shape}; give one of each per row")
    if noisy.all() or not noisy.any():
        raise ValueError("is_noisy must mark some rows noisy and some clean to measure separation")
    clean_mean, noisy_mean = float(weights[~noisy].mean()), float(weights[noisy].mean())
    return {
        "mean_weight_clean": clean_mean,
        "mean_weight_noisy": noisy_mean,
        "weight_gap": clean_mean - noisy_mean,
        "weight_auc": float(roc_auc_score(~noisy, weights)),
    }


def effective_size(weights: Sequence[float]) -> float:
    """Kish's effective sample size ``sum(w) ** 2 / sum(w ** 2)``: how many equally weighted rows
    the weighted set is worth (``n`` for uniform weights)."""
    values = np.asarray(weights, dtype=float)
    return float(values.sum() ** 2 / (values**2).sum())


@dataclass
class Reweighting:
    """The result of :func:`noise_robust_weights`: the final ``weights`` (aligned with the input
    frame, mean 1) and one ``history`` row per iteration (iteration 0 = uniform weights)."""

    weights: pd.Series
    history: pd.DataFrame


def _history_row(
    iteration: int,
    weights: pd.Series,
    previous: pd.Series,
    frame: pd.DataFrame,
    test: pd.DataFrame | None,
    text_col: str,
    label_col: str,
    eval_classifier: Any,
    seed: int,
) -> dict[str, float]:
    row = {
        "iteration": iteration,
        "effective_size": effective_size(weights),
        "weight_change": float((weights - previous).abs().mean()),
    }
    if "is_noisy" in frame.columns and frame["is_noisy"].nunique() == 2:
        row.update(weight_separation(weights, frame["is_noisy"]))
    if test is not None:
        result = train_and_test(
            frame,
            test,
            text_col=text_col,
            label_col=label_col,
            classifier=eval_classifier,
            seed=seed,
            sample_weight=weights.to_numpy(),
        )
        row.update(accuracy=result.accuracy, macro_f1=result.macro_f1)
    return row


def noise_robust_weights(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    n_iter: int = 5,
    temperature: float = 1.0,
    smoothing: float = 0.5,
    balance_labels: bool = True,
    classifier: str | Any | None = None,
    n_splits: int = 5,
    test: pd.DataFrame | None = None,
    eval_classifier: str | Any | None = None,
    seed: int = 0,
    progress: bool = True,
) -> Reweighting:
    """SunGen-style noise-robust weights, iterated (a simplification of Gao et al., 2023; see the
    module docstring). Each of the ``n_iter`` iterations cross-fits ``model`` (default
    :func:`count_naive_bayes`) with the current weights in ``n_splits`` folds, maps each row's
    out-of-fold loss on its label to :func:`robust_weights` (per label when ``balance_labels``) and
    sets ``weights = smoothing * previous + (1 - smoothing) * new``, rescaled to mean 1.

    The history has ``effective_size`` and ``weight_change`` per iteration; with an ``is_noisy``
    column (planted noise) also :func:`weight_separation`; with a ``test`` frame also the test
    ``accuracy`` and ``macro_f1`` of ``eval_classifier`` (default: ``classifier``) trained with the weights.
    Warns when the weights concentrate on fewer than 10 % of the rows.

    >>> result = noise_robust_weights(task.train, test=task.test)            # doctest: +SKIP
    >>> train_and_test(task.train, task.test, sample_weight=result.weights)   # doctest: +SKIP
    """
    check_frame(frame, "frame", text_col=text_col, label_col=label_col)
    if test is not None:
        check_frame(test, "test", text_col=text_col, label_col=label_col)
    if frame[label_col].nunique() < 2:
        raise ValueError(
            f"re-weighting needs two labels or more; every row has {label_col!r} == {frame[label_col].iloc[0]!r}"
        )
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1; got {n_iter}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1) (the share of the previous weights kept); got {smoothing}")
    classifier = count_naive_bayes() if classifier is None else classifier
    eval_classifier = classifier if eval_classifier is None else eval_classifier
    groups = frame[label_col] if balance_labels else None
    weights = pd.Series(1.0, index=frame.index, name="weight")
    history = [_history_row(0, weights, weights, frame, test, text_col, label_col, eval_classifier, seed)]
    for iteration in tqdm(range(1, n_iter + 1), desc="re-weighting", disable=not progress):
        proba = out_of_fold_proba(
            frame,
            text_col=text_col,
            label_col=label_col,
            n_splits=n_splits,
            classifier=classifier,
            seed=seed,
            sample_weight=weights.to_numpy(),
        )
        new = robust_weights(label_loss(proba, frame[label_col]), groups, temperature=temperature)
        mixed = smoothing * weights + (1.0 - smoothing) * new
        previous, weights = weights, (mixed / mixed.mean()).rename("weight")
        history.append(
            _history_row(iteration, weights, previous, frame, test, text_col, label_col, eval_classifier, seed)
        )
    history_frame = pd.DataFrame(history)
    if history_frame["effective_size"].iloc[-1] < MIN_EFFECTIVE_SHARE * len(frame):
        warnings.warn(
            f"the weights concentrate on about {history_frame['effective_size'].iloc[-1]:.0f} of "
            f"{len(frame)} rows; raise temperature or smoothing to keep more of the data",
            UserWarning,
            stacklevel=2,
        )
    return Reweighting(weights=weights, history=history_frame)


def plot_weight_distributions(
    weights: Sequence[float],
    is_noisy: Sequence[bool],
    *,
    bins: int = 30,
    title: str = "Weights of clean vs noisy rows",
) -> Figure:
    """Overlaid histograms of the weights of clean and noisy rows (planted noise)."""
    import matplotlib.pyplot as plt

    values, noisy = np.asarray(weights, dtype=float), np.asarray(is_noisy, dtype=bool)
    figure, axes = plt.subplots(figsize=(6.5, 3.5))
    edges = np.linspace(0, values.max(), bins + 1)
    axes.hist(values[~noisy], bins=edges, alpha=0.6, label=f"clean rows ({int((~noisy).sum())})")
    axes.hist(values[noisy], bins=edges, alpha=0.6, label=f"noisy rows ({int(noisy.sum())})")
    axes.set_xlabel("weight (mean 1)")
    axes.set_ylabel("number of rows")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    return figure


def plot_reweighting_history(
    history: pd.DataFrame,
    *,
    references: dict[str, float] | None = None,
    title: str = "Test accuracy per re-weighting iteration",
) -> Figure:
    """Test accuracy against the iteration (0 = uniform weights), with a horizontal line per
    named reference accuracy (for example the clean ceiling or a hard filter)."""
    if "accuracy" not in history.columns:
        raise KeyError("history has no 'accuracy' column; run noise_robust_weights(..., test=test_frame)")
    figure = curves_with_references(
        {"re-weighted training": history},
        x="iteration",
        xlabel="re-weighting iteration (0 = uniform weights)",
        title=title,
        references=references,
    )
    figure.axes[0].set_xticks(history["iteration"])
    return figure
