"""Learning-dynamics heuristics (taxonomy C1): how a small classifier's belief in each row's label
moves while it trains, and which rows it never comes to believe.

Dataset cartography (Swayamdipta et al., 2020, "Dataset Cartography: Mapping and Diagnosing
Datasets with Training Dynamics"): train for a few epochs and record, after each, the probability
of every row's given label. Its mean is the row's ``confidence``, its standard deviation the
``variability``, the share of epochs that predicted the given label the ``correctness``
(:func:`data_map`, plotted by :func:`plot_data_map`). Rows fall into regions: *easy-to-learn*
(high confidence), *ambiguous* (high variability) and *hard-to-learn* (low confidence, low
variability), where mislabelled rows gather; :func:`filter_regions` removes a region with a reason.

CLLM (Seedat et al., 2024, "Curated LLM: Synergy of LLMs and Data Curation for Tabular Augmentation
in Low-Data Regimes", after their Data-IQ) reads the same per-epoch probabilities as confidence plus
*aleatoric uncertainty*, the mean over epochs of ``p(1 - p)``, and keeps only the *easy* rows
(:func:`cllm_groups`); its classifier is trained on a small real set (``reference``) and scores the
generated rows. Per row, ``aleatoric = confidence * (1 - confidence) - variability**2``: the two maps
hold the same information, and what differs is the rule and what the classifier trains on.
Taught in ``notebooks/11_learning_dynamics.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from tqdm.auto import tqdm

from synthlab.core.checks import check_frame
from synthlab.core.steps import split_by_reason

__all__ = [
    "CLLM_GROUPS",
    "REGIONS",
    "assign_regions",
    "cllm_groups",
    "cllm_suspicion",
    "data_map",
    "filter_regions",
    "plot_data_map",
]

REGIONS: tuple[str, ...] = ("easy-to-learn", "ambiguous", "hard-to-learn")
CLLM_GROUPS: tuple[str, ...] = ("easy", "ambiguous", "hard")


def data_map(
    frame: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    text_col: str = "text",
    label_col: str = "label",
    epochs: int = 5,
    alpha: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Training dynamics of every row of ``frame``: ``confidence``, ``variability``,
    ``correctness``, ``aleatoric`` and the cartography ``region``, aligned with ``frame``'s index.

    A TF-IDF vectoriser (unigrams, fitted once) and a logistic-loss ``SGDClassifier`` (L2 penalty
    ``alpha``; smaller memorises the noisy labels sooner) train for ``epochs`` passes over the rows
    in a fresh order each pass (seeded); after each pass every row's probability of its given label
    is recorded. The classifier trains on ``frame`` itself (cartography: the dynamics of the rows
    being learnt, not out-of-fold), or on ``reference`` when given (CLLM: a small real set scores
    the generated rows). Regions come from :func:`assign_regions`.

    >>> dynamics = data_map(task.train)                          # doctest: +SKIP
    >>> suspicion = 1 - dynamics["confidence"]                   # doctest: +SKIP
    """
    check_frame(frame, "frame", text_col=text_col, label_col=label_col)
    trainer = frame if reference is None else reference
    if reference is not None:
        check_frame(reference, "reference", text_col=text_col, label_col=label_col)
    if not isinstance(epochs, (int, np.integer)) or epochs < 2:
        raise ValueError(f"epochs must be an integer >= 2 (variability needs several epochs); got {epochs!r}")
    classes = np.array(sorted(set(trainer[label_col].tolist())))
    if len(classes) < 2:
        raise ValueError(
            f"training dynamics need two labels or more; every training row has {label_col!r} == {classes[0]!r}"
        )
    given = frame[label_col].to_numpy(dtype=object)
    unknown = sorted(set(given.tolist()) - set(classes.tolist()), key=str)
    if unknown:
        raise ValueError(
            f"frame has labels {unknown} that the reference never shows; the classifier cannot "
            "score them. Give a reference with every label of frame"
        )
    vectorizer = TfidfVectorizer(sublinear_tf=True).fit(trainer[text_col].tolist())
    features, scored = (
        vectorizer.transform(trainer[text_col].tolist()),
        vectorizer.transform(frame[text_col].tolist()),
    )
    targets = trainer[label_col].to_numpy(dtype=object)
    columns = np.searchsorted(classes, given)
    classifier = SGDClassifier(loss="log_loss", alpha=alpha, random_state=seed)
    rng = np.random.default_rng(seed)
    proba, correct = np.zeros((len(frame), epochs)), np.zeros((len(frame), epochs), dtype=bool)
    for epoch in tqdm(range(epochs), desc="cartography epochs", disable=not progress):
        order = rng.permutation(len(trainer))
        classifier.partial_fit(features[order], targets[order], classes=classes)
        probabilities = classifier.predict_proba(scored)
        proba[:, epoch] = probabilities[np.arange(len(frame)), columns]
        correct[:, epoch] = probabilities.argmax(axis=1) == columns
    confidence, variability = proba.mean(axis=1), proba.std(axis=1)
    dynamics = pd.DataFrame(
        {
            "confidence": confidence,
            "variability": variability,
            "correctness": correct.mean(axis=1),
            "aleatoric": (proba * (1 - proba)).mean(axis=1),
        },
        index=frame.index,
    )
    dynamics["region"] = assign_regions(dynamics)
    return dynamics


def assign_regions(
    dynamics: pd.DataFrame,
    *,
    ambiguous_quantile: float = 2 / 3,
    hard_quantile: float = 1 / 3,
) -> pd.Series:
    """Cartography regions: ``ambiguous`` for the rows whose variability is above its
    ``ambiguous_quantile``; of the others, ``hard-to-learn`` when the confidence is below its
    ``hard_quantile``, ``easy-to-learn`` otherwise. The paper draws the regions by eye; quantiles
    make them reproducible and fit a small linear model, whose probabilities stay near the class
    prior (absolute cut-offs such as 0.5 would leave a region empty)."""
    _require_dynamics(dynamics, ("confidence", "variability"))
    _check_quantiles(ambiguous_quantile=ambiguous_quantile, hard_quantile=hard_quantile)
    ambiguous = dynamics["variability"] > dynamics["variability"].quantile(ambiguous_quantile)
    hard = dynamics["confidence"] < dynamics["confidence"].quantile(hard_quantile)
    regions = np.where(ambiguous, "ambiguous", np.where(hard, "hard-to-learn", "easy-to-learn"))
    return pd.Series(regions, index=dynamics.index, name="region")


def cllm_groups(
    dynamics: pd.DataFrame,
    *,
    low_quantile: float = 0.25,
    high_quantile: float = 0.75,
    aleatoric_quantile: float = 0.75,
) -> pd.Series:
    """CLLM's (Data-IQ's) groups: ``ambiguous`` when the aleatoric uncertainty is above its
    ``aleatoric_quantile``; otherwise ``hard`` when the confidence is at most its ``low_quantile``,
    ``easy`` when at least its ``high_quantile``, and ``ambiguous`` in between. CLLM keeps only the
    ``easy`` rows. Data-IQ's cut-offs are absolute (0.25 and 0.75); quantiles are used for the reason
    given in :func:`assign_regions`."""
    _require_dynamics(dynamics, ("confidence", "aleatoric"))
    _check_quantiles(low_quantile=low_quantile, high_quantile=high_quantile, aleatoric_quantile=aleatoric_quantile)
    if low_quantile > high_quantile:
        raise ValueError(f"low_quantile ({low_quantile}) must not exceed high_quantile ({high_quantile})")
    uncertain = dynamics["aleatoric"] > dynamics["aleatoric"].quantile(aleatoric_quantile)
    confidence = dynamics["confidence"]
    groups = np.where(
        uncertain,
        "ambiguous",
        np.where(
            confidence <= confidence.quantile(low_quantile),
            "hard",
            np.where(confidence >= confidence.quantile(high_quantile), "easy", "ambiguous"),
        ),
    )
    return pd.Series(groups, index=dynamics.index, name="cllm_group")


def cllm_suspicion(dynamics: pd.DataFrame) -> pd.Series:
    """A CLLM ranking, higher = more suspicious: ``1 - confidence - aleatoric``, so low confidence
    comes first and, between rows of equal confidence, the one the classifier is surer about (low
    aleatoric uncertainty: consistently against the given label) before the merely uncertain one."""
    _require_dynamics(dynamics, ("confidence", "aleatoric"))
    return (1 - dynamics["confidence"] - dynamics["aleatoric"]).rename("cllm_suspicion")


def filter_regions(
    frame: pd.DataFrame,
    dynamics: pd.DataFrame,
    remove: str | Sequence[str] = ("hard-to-learn",),
    *,
    column: str = "region",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, removed)``: the rows of ``frame`` whose ``dynamics[column]`` (a cartography
    ``region``, or a :func:`cllm_groups` column) is in ``remove`` (one name or several) are removed with a reason naming
    the region and the row's confidence and variability (see :func:`synthlab.core.steps.split_by_reason`).
    Selecting a region is the same call: its rows are the ``removed`` frame. Removing every row
    warns (as every curation step does)."""
    _require_dynamics(dynamics, (column, "confidence"))
    remove = [remove] if isinstance(remove, str) else list(remove)
    if not dynamics.index.equals(frame.index):
        raise ValueError(
            "dynamics is not aligned with frame (different index); compute data_map(frame) on this very frame"
        )
    known = set(dynamics[column].unique())
    if not set(remove) & (known | set(REGIONS) | set(CLLM_GROUPS)):
        raise ValueError(f"remove={list(remove)} names no region; use some of {list(REGIONS)} or {list(CLLM_GROUPS)}")
    reasons = [
        f"{region} (confidence {confidence:.3f}, variability {variability:.3f})" if region in remove else None
        for region, confidence, variability in zip(
            dynamics[column],
            dynamics["confidence"],
            dynamics.get("variability", pd.Series(np.nan, index=dynamics.index)),
        )
    ]
    return split_by_reason(frame, reasons, f"filter_regions:{column}")


def plot_data_map(
    dynamics: pd.DataFrame,
    *,
    highlight: Sequence[bool] | None = None,
    highlight_label: str = "highlighted rows",
    title: str = "Data map",
) -> Figure:
    """Cartography's data map: confidence against variability, one dot per row coloured by
    correctness; rows flagged in ``highlight`` (for example the planted noisy ones) are ringed in
    red."""
    import matplotlib.pyplot as plt

    _require_dynamics(dynamics, ("confidence", "variability", "correctness"))
    figure, axes = plt.subplots(figsize=(6.5, 4.5))
    dots = axes.scatter(
        dynamics["variability"],
        dynamics["confidence"],
        c=dynamics["correctness"],
        cmap="viridis",
        vmin=0,
        vmax=1,
        s=10,
        alpha=0.7,
    )
    figure.colorbar(dots, ax=axes, label="correctness (share of epochs right)")
    if highlight is not None:
        flags = np.asarray(highlight, dtype=bool)
        if flags.shape != (len(dynamics),):
            raise ValueError(f"highlight must have one flag per row ({len(dynamics)}); got shape {flags.shape}")
        axes.scatter(
            dynamics["variability"][flags],
            dynamics["confidence"][flags],
            s=22,
            facecolors="none",
            edgecolors="red",
            linewidths=0.7,
            label=highlight_label,
        )
        axes.legend(loc="lower right", fontsize="small")
    axes.set_xlabel("variability (std of p(given label) over epochs)")
    axes.set_ylabel("confidence (mean p(given label))")
    axes.set_title(title)
    figure.tight_layout()
    return figure


def _check_quantiles(**quantiles: float) -> None:
    for name, value in quantiles.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1; got {value}")


def _require_dynamics(dynamics: Any, columns: Sequence[str]) -> None:
    if not isinstance(dynamics, pd.DataFrame):
        raise TypeError(f"dynamics must be the DataFrame data_map() returns; got {type(dynamics).__name__}")
    missing = [column for column in columns if column not in dynamics.columns]
    if missing:
        raise KeyError(f"dynamics has no column(s) {missing}; compute it with data_map(frame)")
