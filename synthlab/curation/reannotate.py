"""Manual re-annotation (taxonomy C4): a person relabels the rows a classifier doubts most.

The logic behind the annotator widget (:class:`synthlab.annotation.widgets.Annotator`), testable without a
browser, on top of the label store (:class:`synthlab.annotation.store.LabelStore`):

- :func:`annotation_order`: the rows most suspicious first (cross-fitted label loss, the "least
  confident first" selection of active learning, Settles 2009) or in a seeded random order.
- :func:`simulate_annotation`: a **stand-in for a person** that answers from gold labels, so a notebook
  runs without clicks.
- :func:`apply_decisions`: label replacement (the human label wins) vs discarding (rows the human
  disagrees with are dropped), in the ``(kept, removed)`` convention of :mod:`synthlab.core.steps`;
  :func:`reannotation_curve` and :func:`plot_reannotation_curves` measure test accuracy per human label
  spent.

Taught in ``notebooks/14_manual_reannotation.ipynb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthlab.annotation.store import DISCARD, SKIP, LabelStore, plain_value
from synthlab.core.checks import check_column, check_frame
from synthlab.core.classifiers import train_and_test
from synthlab.core.crossfit import label_loss, out_of_fold_proba
from synthlab.core.plots import curves_with_references
from synthlab.core.steps import split_by_reason

__all__ = [
    "MODES",
    "ORDERS",
    "annotation_order",
    "apply_decisions",
    "plot_reannotation_curves",
    "reannotation_curve",
    "simulate_annotation",
]

ORDERS: tuple[str, ...] = ("uncertainty", "random")


MODES: tuple[str, ...] = ("replace", "discard")


def annotation_order(
    frame: pd.DataFrame,
    order: str = "uncertainty",
    *,
    suspicion: Sequence[float] | None = None,
    text_col: str = "text",
    label_col: str = "label",
    id_col: str = "id",
    seed: int = 0,
) -> list[Any]:
    """The ids of ``frame`` in the order a person should see them: ``"uncertainty"`` puts the highest
    ``suspicion`` first (by default each row's cross-fitted label loss, see
    :func:`synthlab.core.crossfit.label_loss`); ``"random"`` is a permutation drawn with ``seed``."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {list(ORDERS)}; got {order!r}")
    check_frame(frame, "frame", text_col=text_col, id_col=id_col, hint="there is nothing to annotate")
    ids = frame[id_col].map(plain_value).to_numpy(dtype=object)
    if order == "random":
        return ids[np.random.default_rng(seed).permutation(len(ids))].tolist()
    if suspicion is None:
        check_frame(frame, "frame", text_col=text_col, label_col=label_col)
        proba = out_of_fold_proba(frame, text_col=text_col, label_col=label_col, seed=seed)
        suspicion = label_loss(proba, frame[label_col])
    scores = np.asarray(suspicion, dtype=float)
    if scores.shape != (len(frame),) or np.isnan(scores).any():
        raise ValueError(
            f"suspicion must hold one number per row ({len(frame)}), none missing; got shape {scores.shape}"
        )
    return ids[np.argsort(-scores, kind="stable")].tolist()


def simulate_annotation(
    store: LabelStore,
    order: Sequence[Any],
    gold: Mapping[Any, Any] | pd.Series,
    *,
    budget: int,
    annotator: str = "simulated (gold labels)",
) -> pd.DataFrame:
    """A **stand-in for a person**: answers the next ``budget`` undecided rows of ``order`` with their
    ``gold`` label (a mapping or Series from id to label, e.g. the real label of a row with planted
    noise) and saves the answers in ``store`` (one write). Returns the store's decisions."""
    if budget < 0:
        raise ValueError(f"budget must be >= 0; got {budget}")
    todo = store.pending(order)[:budget]
    missing = [row_id for row_id in todo if row_id not in gold]
    if missing:
        raise KeyError(
            f"gold has no label for {len(missing)} id(s) to annotate, e.g. {missing[:3]}; "
            "pass a label for every row, e.g. frame.set_index('id')['true_label']"
        )
    if todo:
        store.record_many([(row_id, gold[row_id]) for row_id in todo], annotator=annotator)
    return store.decisions()


def apply_decisions(
    frame: pd.DataFrame,
    decisions: pd.DataFrame,
    *,
    mode: str = "replace",
    label_col: str = "label",
    id_col: str = "id",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, removed)`` after the human decisions (``id`` and ``decision`` columns, as from
    :meth:`LabelStore.decisions`). ``mode="replace"``: a human label overwrites the given one (the old
    label is kept in ``relabelled_from``); ``mode="discard"``: rows whose human label disagrees with the
    given one are removed. Rows marked :data:`DISCARD` are removed in both modes; :data:`SKIP` and
    undecided rows stay as they are. ``kept`` gains ``human_label``; ``removed`` has ``reason``/``step``;
    removing every row warns.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}; got {mode!r}")
    check_column(frame, id_col, "id_col")
    check_column(frame, label_col, "label_col")
    check_column(decisions, "id", "decisions' id column")
    check_column(decisions, "decision", "decisions' decision column")
    human = frame[id_col].map(plain_value).map(dict(zip(decisions["id"], decisions["decision"])))
    given = frame[label_col]
    labelled = human.notna() & ~human.isin([DISCARD, SKIP])
    disagrees = labelled & (human != given)
    reasons = pd.Series(None, index=frame.index, dtype=object)
    reasons[human == DISCARD] = "the annotator discarded the row"
    if mode == "discard":
        reasons[disagrees] = (
            "the annotator labelled it " + human[disagrees].astype(str) + ", not " + given[disagrees].astype(str)
        )
    annotated = frame.assign(human_label=human.astype(object).where(human.notna(), None))
    if mode == "replace":
        annotated["relabelled_from"] = given.astype(object).where(disagrees, None)
        annotated.loc[disagrees, label_col] = human[disagrees]
    return split_by_reason(annotated, reasons, f"apply_decisions({mode})")  # warns if it removes every row


def reannotation_curve(
    frame: pd.DataFrame,
    decisions: pd.DataFrame,
    test: pd.DataFrame,
    *,
    budgets: Sequence[int],
    modes: Sequence[str] = MODES,
    text_col: str = "text",
    label_col: str = "label",
    id_col: str = "id",
    classifier: str | Any = "nltk-nb",
    seed: int = 0,
) -> pd.DataFrame:
    """Test accuracy after applying the first ``budget`` decisions (in the order they were made), for
    each budget and mode: columns ``budget``, ``mode``, ``n_train``, ``relabelled``, ``removed``,
    ``accuracy``, ``macro_f1`` and, when ``frame`` has ``true_label``, ``noise_left`` (share of kept
    rows whose label is still wrong)."""
    if len(decisions) < max(budgets, default=0):
        raise ValueError(
            f"only {len(decisions)} decisions for a budget of {max(budgets)}; annotate more rows or lower the budgets"
        )
    rows = []
    for budget in budgets:
        for mode in modes:
            kept, removed = apply_decisions(
                frame, decisions.head(budget), mode=mode, label_col=label_col, id_col=id_col
            )
            result = train_and_test(
                kept, test, text_col=text_col, label_col=label_col, classifier=classifier, seed=seed
            )
            row = {
                "budget": int(budget),
                "mode": mode,
                "n_train": len(kept),
                "relabelled": int(kept["relabelled_from"].notna().sum()) if mode == "replace" else 0,
                "removed": len(removed),
                "accuracy": result.accuracy,
                "macro_f1": result.macro_f1,
            }
            if "true_label" in frame.columns:
                row["noise_left"] = float((kept[label_col] != kept["true_label"]).mean())
            rows.append(row)
    return pd.DataFrame(rows)


def plot_reannotation_curves(
    curves: Mapping[str, pd.DataFrame],
    *,
    baseline: float | None = None,
    ceiling: float | None = None,
    title: str = "Test accuracy per human label spent",
) -> Figure:
    """One line per curve name and mode (the mean over repeated rows, with a min-max band when a
    :func:`reannotation_curve` frame holds several runs, e.g. random orders with several seeds), with
    the noisy baseline and the clean ceiling as horizontal lines."""
    return curves_with_references(
        curves,
        x="budget",
        xlabel="human labels spent",
        title=title,
        style_by="mode",
        references={"noisy baseline (no labels spent)": baseline, "clean ceiling (every label true)": ceiling},
        legend_outside=True,
    )
