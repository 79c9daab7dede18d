"""Human raters (taxonomy E2, E7): rating single rows on Self-Instruct's A-D scale, and pairwise preference.

Two ipywidgets raters built on :class:`synthlab.annotation.widgets.Annotator`, so every decision goes to a
:class:`synthlab.annotation.store.LabelStore` at once (an append-only JSONL file, fsync'ed per click,
resumable after a kernel restart, refusing a file made for another dataset, exported with ``store.decisions()``):

- :class:`ValidityRater` shows one output with the request it answers and the rubric of Wang et al. (2023,
  Self-Instruct): **A** valid and satisfying, **B** acceptable with minor imperfections, **C** responds to the
  request but has significant errors, **D** irrelevant or invalid. Show rows blind (no method name) and shuffled.
- :func:`pair_outputs` and :class:`PreferenceRater`: two systems' outputs for the same request side by side,
  left/right drawn per item with a recorded seed (the pairs' fingerprint covers the draw), so a rater's habit of
  preferring one side cannot favour a system; :func:`preference_outcomes` maps *left*/*right*/*tie* back to the
  systems, as outcomes for :func:`synthlab.evaluation.human.win_rate`.

Simulated raters for nbval and agreement statistics are in :mod:`synthlab.evaluation.human`.
Taught in ``notebooks/22_human_evaluation.ipynb``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from synthlab.annotation.store import DISCARD, LabelStore
from synthlab.annotation.widgets import Annotator
from synthlab.core.checks import check_column, check_frame

__all__ = ["GRADES", "RUBRIC", "SIDES", "pair_outputs", "preference_outcomes", "PreferenceRater", "ValidityRater"]

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
RUBRIC: dict[str, str] = {
    "A": "valid and satisfying: does what was asked, well",
    "B": "acceptable, with minor imperfections (a little chatter, cut off, clumsy)",
    "C": "responds to the request but has significant errors (e.g. the wrong sentiment)",
    "D": "irrelevant or invalid: not an answer to the request",
}


SIDES: tuple[str, ...] = ("left", "right", "tie")


def _box(title: str, text: Any) -> str:
    return (
        f"<div style='flex:1;border:1px solid #ccc;padding:6px;margin:2px'><small>{html.escape(title)}</small>"
        f"<p style='font-size:1.05em'>{html.escape(str(text))}</p></div>"
    )


class ValidityRater(Annotator):
    """One output at a time, with the request it answers (``prompt_col``, if given) and the A-D rubric, under
    buttons *A*-*D*, *skip* and *undo*. ``store`` is a :class:`~synthlab.annotation.store.LabelStore` with labels
    ``"ABCD"``; ``order`` the ids to show (shuffle them, e.g. ``annotation_order(frame, "random")``, and leave
    the method out of the frame so the rater is blind). Drive it from Python with ``rater.decide("B")``.

    >>> store = LabelStore("ratings_ann.jsonl", outputs, labels=list("ABCD"))  # doctest: +SKIP
    >>> ValidityRater(store, order, prompt_col="asked", rater="ann")          # doctest: +SKIP
    """

    def __init__(
        self, store: LabelStore, order: Sequence[Any], *, prompt_col: str | None = None, rater: str = "human"
    ) -> None:
        if sorted(store.labels) != list(GRADES):
            raise ValueError(
                f"a validity rating store needs labels {list(GRADES)}; got {store.labels}: open it "
                "with LabelStore(path, frame, labels=list('ABCD'))"
            )
        if prompt_col is not None:
            check_column(store.frame, prompt_col, "prompt_col")
        self.prompt_col = prompt_col
        super().__init__(store, order, annotator=rater)
        self.buttons[DISCARD].layout.display = "none"  # a rating of D already says "unusable"
        rubric = "".join(f"<li><b>{grade}</b>: {html.escape(meaning)}</li>" for grade, meaning in RUBRIC.items())
        self.children = (
            self.children[0],
            self.row_text,
            widgets.HTML(f"<ul>{rubric}</ul>"),
            self.children[2],
        )

    def _show_next(self) -> None:
        super()._show_next()
        if self.current_id is not None:
            row = self.store.row(self.current_id)
            asked = _box("request", row[self.prompt_col]) if self.prompt_col else ""
            self.row_text.value = f"<div>{asked}{_box('output', row[self.store.text_col])}</div>"


def pair_outputs(
    first: pd.DataFrame,
    second: pd.DataFrame,
    *,
    systems: tuple[str, str],
    task_col: str = "prompt",
    text_col: str = "text",
    seed: int = 0,
    shuffle: bool = True,
) -> pd.DataFrame:
    """Pairs for preference rating: row k of ``first`` (system ``systems[0]``) against row k of ``second``
    (``systems[1]``), which must answer the same request (equal ``task_col``). Whether system A appears left
    or right is drawn per pair with ``seed`` (recorded in ``order_seed``); ``shuffle=False`` puts A always
    left, the mistake to compare with. Columns: ``id`` (``pair-k``),
    ``task``, ``left_text``, ``right_text``, ``left_system``, ``right_system``, ``system_a``, ``order_seed`` and
    ``text``
    (request and both sides in display order: what a :class:`~synthlab.annotation.store.LabelStore` fingerprints,
    so a decision file made under another draw is refused). Missing texts are shown as ``"(no output)"``.
    """
    check_frame(
        first, "first", columns={"text_col": text_col, "task_col": task_col}, hint="there is nothing to compare"
    )
    check_frame(
        second, "second", columns={"text_col": text_col, "task_col": task_col}, hint="there is nothing to compare"
    )
    if len(systems) != 2 or systems[0] == systems[1]:
        raise ValueError(f"systems must be two different names; got {systems!r}")
    if len(first) != len(second):
        raise ValueError(
            f"first has {len(first)} rows and second {len(second)}: pair_outputs compares row k of "
            "each, so both need one output per request, in the same order"
        )
    tasks = first[task_col].to_numpy(dtype=object)
    differ = np.flatnonzero(tasks != second[task_col].to_numpy(dtype=object))
    if len(differ):
        raise ValueError(
            f"{len(differ)} row(s) answer different requests in first and second (positions "
            f"{differ[:5].tolist()}, e.g. {tasks[differ[0]]!r} vs {second[task_col].iloc[differ[0]]!r}); "
            "align the two frames on the request first"
        )
    a_texts = first[text_col].where(first[text_col].map(lambda t: isinstance(t, str)), "(no output)").tolist()
    b_texts = second[text_col].where(second[text_col].map(lambda t: isinstance(t, str)), "(no output)").tolist()
    a_left = np.random.default_rng(seed).random(len(first)) < 0.5 if shuffle else np.ones(len(first), dtype=bool)
    pairs = pd.DataFrame(
        {
            "id": [f"pair-{k}" for k in range(len(first))],
            "task": tasks.tolist(),
            "left_text": np.where(a_left, a_texts, b_texts),
            "right_text": np.where(a_left, b_texts, a_texts),
            "left_system": np.where(a_left, systems[0], systems[1]),
            "right_system": np.where(a_left, systems[1], systems[0]),
            "system_a": systems[0],
            "order_seed": seed if shuffle else None,
        }
    )
    pairs["text"] = (
        "request: " + pairs["task"].astype(str) + "\nleft: " + pairs["left_text"] + "\nright: " + pairs["right_text"]
    )
    return pairs


class PreferenceRater(Annotator):
    """The request above two outputs side by side, under buttons *left*, *right*, *tie*, *skip* and *undo*.
    ``store`` is a :class:`~synthlab.annotation.store.LabelStore` over :func:`pair_outputs`' frame with labels
    ``["left", "right", "tie"]``; the rater never sees which system wrote which side. Drive it from Python
    with ``rater.decide("left")``; :func:`preference_outcomes` maps the decisions back to the systems."""

    def __init__(self, store: LabelStore, order: Sequence[Any] | None = None, *, rater: str = "human") -> None:
        if sorted(store.labels) != sorted(SIDES):
            raise ValueError(
                f"a preference store needs labels {list(SIDES)}; got {store.labels}: open it with "
                "LabelStore(path, pairs, labels=['left', 'right', 'tie'])"
            )
        for column in ("task", "left_text", "right_text"):
            check_column(store.frame, column, "pair column", frame_name="the store's frame (use pair_outputs)")
        super().__init__(store, list(store.frame["id"]) if order is None else order, annotator=rater)
        self.buttons[DISCARD].layout.display = "none"

    def _show_next(self) -> None:
        super()._show_next()
        if self.current_id is not None:
            row = self.store.row(self.current_id)
            self.row_text.value = (
                f"{_box('request', row['task'])}<div style='display:flex'>"
                f"{_box('left', row['left_text'])}{_box('right', row['right_text'])}</div>"
            )


def preference_outcomes(pairs: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """The decisions on ``pairs`` (``id`` and ``decision`` *left*/*right*/*tie*, e.g. ``store.decisions()``)
    mapped back to the systems: columns ``id``, ``decision``, ``winner`` (a system name or ``"tie"``) and
    ``outcome`` (``"A"`` when ``systems[0]`` of :func:`pair_outputs` won, ``"B"``, or ``"tie"``), ready for
    :func:`synthlab.evaluation.human.win_rate`. Skipped pairs are left out; ids that are not pairs raise."""
    for column in ("id", "left_system", "right_system", "system_a"):
        check_column(pairs, column, "pair column", frame_name="pairs (use pair_outputs)")
    check_column(decisions, "id", "id column", frame_name="decisions")
    check_column(decisions, "decision", "decision column", frame_name="decisions")
    system_a = pairs["system_a"].iloc[0]
    rated = decisions[decisions["decision"].isin(SIDES)]
    unknown = sorted(set(rated["id"]) - set(pairs["id"]), key=str)
    if unknown:
        raise KeyError(
            f"{len(unknown)} decision id(s) are not pairs of this frame (e.g. {unknown[:3]}); were they "
            "made on pairs drawn with another seed or from other outputs?"
        )
    sides = pairs.set_index("id").loc[rated["id"], ["left_system", "right_system"]]
    winner = np.where(
        rated["decision"].eq("left"),
        sides["left_system"],
        np.where(rated["decision"].eq("right"), sides["right_system"], "tie"),
    )
    outcome = np.where(winner == "tie", "tie", np.where(winner == system_a, "A", "B"))
    return pd.DataFrame(
        {
            "id": rated["id"].to_numpy(),
            "decision": rated["decision"].to_numpy(),
            "winner": winner,
            "outcome": outcome,
        }
    )
