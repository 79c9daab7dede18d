"""Human-model collaboration (taxonomy F4): a person reviews each generation round in the annotator
widget, and the rows they accept become the demonstrations of the next round.

Long et al. (2024, section 4) argue that people belong *inside* the generation loop, not only at the end.
One round here is: generate ``n`` rows with demonstrations (:func:`synthlab.generation.demos.generate_with_demos`),
drop malformed rows, review the rest in a :class:`synthlab.annotation.store.LabelStore` (a person clicks
*accept* = the intended label, *relabel* = the other label, or *discard* in
:class:`synthlab.annotation.widgets.Annotator`; every click saved at once), then :func:`reviewed_rows` reads the
decisions and the accepted rows feed the next round's demos (:func:`synthlab.generation.demos.select_demos`).

A notebook run by nbval cannot wait for clicks, so :func:`collaboration_rounds` takes a ``reviewer``: a
function from rows to decisions. :func:`oracle_reviewer` is a **simulated person** (a classifier trained on
real data) and says so in the store's ``annotator`` field; a real person uses the widget on the same store.

>>> reviewer = oracle_reviewer(oracle)                                            # doctest: +SKIP
>>> result = collaboration_rounds(model, TaskSpec(), seed_demos, reviewer, store_dir="runs/hitl")  # doctest: +SKIP

Taught in ``notebooks/31_model_synergy_and_humans.ipynb``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.annotation.store import DISCARD, SKIP, LabelStore
from synthlab.core.classifiers import TrainTestResult, train_and_test
from synthlab.core.results import RoundsResult
from synthlab.curation.filters import drop_malformed
from synthlab.generation.demos import generate_with_demos, select_demos
from synthlab.generation.prompts import TaskSpec

__all__ = ["OUTCOMES", "collaboration_rounds", "oracle_reviewer", "reviewed_rows", "Reviewer"]

OUTCOMES: tuple[str, ...] = ("accepted", "relabelled", "rejected", "undecided")
Reviewer = Callable[[pd.DataFrame], pd.Series]


def oracle_reviewer(
    oracle: TrainTestResult | Any,
    *,
    min_confidence: float = 0.7,
    text_col: str = "text",
    label_col: str = "label",
) -> Reviewer:
    """A **simulated person** for runs without clicks: a classifier trained on real data (an oracle) reads
    each row. It accepts the intended label when it predicts it, relabels when it predicts another label
    with probability >= ``min_confidence``, and discards the row otherwise. Returns a function from rows to
    a Series of decisions (a label or ``"discard"``) aligned with the rows."""
    classifier = oracle.classifier if isinstance(oracle, TrainTestResult) else oracle
    if not hasattr(classifier, "predict_proba"):
        raise TypeError(f"the oracle needs predict_proba(); got {type(classifier).__name__}")

    def review(rows: pd.DataFrame) -> pd.Series:
        proba = classifier.predict_proba(rows[text_col].tolist())
        predicted = np.asarray(classifier.classes_)[proba.argmax(axis=1)]
        decisions = [
            intended if said == intended else (said if confidence >= min_confidence else DISCARD)
            for intended, said, confidence in zip(rows[label_col], predicted, proba.max(axis=1))
        ]
        return pd.Series(decisions, index=rows.index, dtype=object, name="decision")

    return review


def reviewed_rows(
    rows: pd.DataFrame, store: LabelStore, *, label_col: str = "label", id_col: str = "id"
) -> pd.DataFrame:
    """``rows`` with the store's decisions applied: ``review`` is ``"accepted"`` (the person kept the
    intended label), ``"relabelled"`` (they chose another label, now in ``label_col``; the old one in
    ``relabelled_from``), ``"rejected"`` (discarded) or ``"undecided"`` (not reviewed yet, or skipped)."""
    decided = dict(zip(store.decisions()["id"], store.decisions()["decision"]))
    decision = rows[id_col].map(lambda row_id: decided.get(row_id))
    undecided = decision.isna() | decision.eq(SKIP)
    rejected = decision.eq(DISCARD)
    relabelled = ~undecided & ~rejected & decision.ne(rows[label_col])
    out = rows.copy()
    out["review"] = np.select([undecided, rejected, relabelled], ["undecided", "rejected", "relabelled"], "accepted")
    out["relabelled_from"] = rows[label_col].astype(object).where(relabelled, None)
    out.loc[relabelled, label_col] = decision[relabelled]
    return out


def _next_demos(
    accepted: pd.DataFrame, previous: pd.DataFrame, task: TaskSpec, k_per_label: int, seed: int
) -> tuple[pd.DataFrame, str]:
    counts = accepted["label"].value_counts() if len(accepted) else pd.Series(dtype=int)
    if all(counts.get(label, 0) >= k_per_label for label in task.labels):
        return select_demos(accepted, k_per_label, "random", labels=task.labels, seed=seed), "accepted rows"
    return previous, "previous demos (too few accepted rows of a label)"


def collaboration_rounds(
    model: BaseChatModel,
    task: TaskSpec,
    first_demos: pd.DataFrame,
    reviewer: Reviewer,
    *,
    store_dir: str | os.PathLike[str],
    rounds: int = 3,
    n_per_round: int = 12,
    k_per_label: int = 2,
    test: pd.DataFrame | None = None,
    classifier: str | Any = "tfidf-logreg",
    annotator: str = "simulated (oracle classifier)",
    seed: int = 0,
    progress: bool = True,
) -> RoundsResult:
    """``rounds`` of generate -> review -> accepted rows become demos. Round 1 shows ``first_demos`` (e.g.
    real seed rows, ``text``/``label``); each later round shows ``k_per_label`` random accepted rows per label (all
    accepted so far), or the previous demos while a label has too few. Each round's decisions go to
    ``store_dir/round_<r>.jsonl`` (a re-run resumes: decided rows are not asked again); ``reviewer`` answers the
    undecided ones; rows are named ``round<r>:seed<seed>`` there (``review_key``). Round ``r`` generates with seeds
    ``seed + (r - 1) * n_per_round, ...``.

    Returns a :class:`synthlab.core.results.RoundsResult`: the ``table``, per round ``generated``, ``well_formed``,
    ``accepted``, ``relabelled``, ``rejected``, ``acceptance_rate`` (accepted / generated), ``demos_from`` and, with
    a real ``test`` set, ``accuracy_accepted`` / ``accuracy_unreviewed``: a classifier (``classifier``, see
    :func:`synthlab.core.classifiers.train_and_test`) trained on all accepted (and relabelled) rows so far, and on
    all well-formed rows so far without review. ``rows`` are every well-formed row with its ``review`` outcome and
    ``round``.
    """
    if rounds < 1 or n_per_round < len(task.labels):
        raise ValueError(
            f"need rounds >= 1 and n_per_round >= {len(task.labels)} (one row per label); "
            f"got rounds={rounds}, n_per_round={n_per_round}"
        )
    demos, demos_from, history, table = first_demos, "first demos", [], []
    for round_ in range(1, rounds + 1):
        generated = generate_with_demos(
            model,
            task,
            demos,
            n_per_round,
            seed=seed + (round_ - 1) * n_per_round,
            method="hitl",
            generation_round=round_,
            params={"demos_from": demos_from},
            progress=progress,
        )
        well_formed, _ = drop_malformed(generated)
        entry: dict[str, Any] = {
            "round": round_,
            "generated": len(generated),
            "well_formed": len(well_formed),
            "demos_from": demos_from,
        }
        if len(well_formed):
            # record ids are new on every run; round and seed name a row across re-runs, so a store resumes
            well_formed = well_formed.assign(review_key=[f"round{round_}:seed{s}" for s in well_formed["seed"]])
            store = LabelStore(
                Path(store_dir) / f"round_{round_}.jsonl",
                well_formed,
                labels=list(task.labels),
                id_col="review_key",
            )
            todo = store.pending(well_formed["review_key"].tolist())
            if todo:
                answers = reviewer(well_formed[well_formed["review_key"].isin(todo)])
                store.record_many(zip(well_formed.loc[answers.index, "review_key"], answers), annotator=annotator)
            history.append(reviewed_rows(well_formed, store, id_col="review_key"))
        outcome = history[-1]["review"] if len(well_formed) else pd.Series(dtype=object)
        entry |= {name: int(outcome.eq(name).sum()) for name in OUTCOMES[:3]}
        entry["acceptance_rate"] = entry["accepted"] / len(generated)
        so_far = pd.concat(history) if history else pd.DataFrame(columns=["label", "review"])
        accepted = so_far[so_far["review"].isin(["accepted", "relabelled"])]
        if test is not None:
            for name, train in (("accepted", accepted), ("unreviewed", so_far)):
                trainable = len(train) and train["label"].nunique() >= 2
                entry[f"accuracy_{name}"] = (
                    train_and_test(train, test, classifier=classifier, seed=seed).accuracy if trainable else np.nan
                )
        table.append(entry)
        demos, demos_from = _next_demos(accepted, demos, task, k_per_label, seed + round_)
    rows = pd.concat(history, ignore_index=True) if history else pd.DataFrame()
    return RoundsResult(pd.DataFrame(table), rows)
