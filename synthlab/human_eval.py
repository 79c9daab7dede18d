"""Human evaluation (taxonomy E2, E7): rating single rows on Self-Instruct's A-D scale, and pairwise preference.

Two ipywidgets raters built on :class:`synthlab.widgets.Annotator`, so every decision goes to a
:class:`synthlab.reannotate.LabelStore` at once (an append-only JSONL file, fsync'ed per click, resumable after a
kernel restart, refusing a file made for another dataset, exported with ``store.decisions()``):

- :class:`ValidityRater` shows one output with the request it answers and the rubric of Wang et al. (2023,
  Self-Instruct): **A** valid and satisfying, **B** acceptable with minor imperfections, **C** responds to the
  request but has significant errors, **D** irrelevant or invalid. Show rows blind (no method name) and shuffled.
- :func:`pair_outputs` and :class:`PreferenceRater`: two systems' outputs for the same request side by side,
  left/right drawn per item with a recorded seed (the pairs' fingerprint covers the draw), so a rater's habit of
  preferring one side cannot favour a system; :func:`preference_outcomes` maps *left*/*right*/*tie* back to the
  systems, as outcomes for :func:`synthlab.agreement.win_rate`.

Nobody clicks under nbval, so the notebook uses **simulated raters**, stand-ins for people:
:func:`rule_validity_ratings` grades rows from measurable properties (hygiene filters and an oracle classifier),
:func:`slip_ratings` adds a person's one-grade slips, and :func:`simulated_preferences` prefers the better-graded
side. Agreement and win rates are in :mod:`synthlab.agreement`. Taught in ``notebooks/22_human_evaluation.ipynb``.
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd

from synthlab.curate import drop_bad_format, drop_malformed, drop_refusals, drop_repetitive
from synthlab.downstream import oracle_agreement
from synthlab.reannotate import DISCARD, LabelStore
from synthlab.records import require_column
from synthlab.widgets import Annotator

GRADES: tuple[str, ...] = ("A", "B", "C", "D")
RUBRIC: dict[str, str] = {
    "A": "valid and satisfying: does what was asked, well",
    "B": "acceptable, with minor imperfections (a little chatter, cut off, clumsy)",
    "C": "responds to the request but has significant errors (e.g. the wrong sentiment)",
    "D": "irrelevant or invalid: not an answer to the request",
}
SIDES: tuple[str, ...] = ("left", "right", "tie")


def _box(title: str, text: Any) -> str:
    return (f"<div style='flex:1;border:1px solid #ccc;padding:6px;margin:2px'><small>{html.escape(title)}</small>"
            f"<p style='font-size:1.05em'>{html.escape(str(text))}</p></div>")


class ValidityRater(Annotator):
    """One output at a time, with the request it answers (``prompt_col``, if given) and the A-D rubric, under
    buttons *A*-*D*, *skip* and *undo*. ``store`` is a :class:`~synthlab.reannotate.LabelStore` with labels
    ``"ABCD"``; ``order`` the ids to show (shuffle them, e.g. ``annotation_order(frame, "random")``, and leave
    the method out of the frame so the rater is blind). Drive it from Python with ``rater.decide("B")``.

    >>> store = LabelStore("ratings_ann.jsonl", outputs, labels=list("ABCD"))  # doctest: +SKIP
    >>> ValidityRater(store, order, prompt_col="asked", rater="ann")          # doctest: +SKIP
    """

    def __init__(self, store: LabelStore, order: Sequence[Any], *, prompt_col: str | None = None,
                 rater: str = "human") -> None:
        if sorted(store.labels) != list(GRADES):
            raise ValueError(f"a validity rating store needs labels {list(GRADES)}; got {store.labels}: open it "
                             "with LabelStore(path, frame, labels=list('ABCD'))")
        if prompt_col is not None:
            require_column(store.frame, prompt_col, "prompt_col")
        self.prompt_col = prompt_col
        super().__init__(store, order, annotator=rater)
        self.buttons[DISCARD].layout.display = "none"  # a rating of D already says "unusable"
        rubric = "".join(f"<li><b>{grade}</b>: {html.escape(meaning)}</li>" for grade, meaning in RUBRIC.items())
        self.children = (self.children[0], self.row_text, widgets.HTML(f"<ul>{rubric}</ul>"), self.children[2])

    def _show_next(self) -> None:
        super()._show_next()
        if self.current_id is not None:
            row = self.store.row(self.current_id)
            asked = _box("request", row[self.prompt_col]) if self.prompt_col else ""
            self.row_text.value = f"<div>{asked}{_box('output', row[self.store.text_col])}</div>"


def _check_outputs(frame: Any, name: str, text_col: str, task_col: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame of outputs; got {type(frame).__name__}")
    require_column(frame, text_col, "text_col", frame_name=name)
    require_column(frame, task_col, "task_col", frame_name=name)
    if frame.empty:
        raise ValueError(f"{name} has no rows: there is nothing to compare")


def pair_outputs(
    first: pd.DataFrame, second: pd.DataFrame, *, systems: tuple[str, str], task_col: str = "prompt",
    text_col: str = "text", seed: int = 0, shuffle: bool = True,
) -> pd.DataFrame:
    """Pairs for preference rating: row k of ``first`` (system ``systems[0]``) against row k of ``second``
    (``systems[1]``), which must answer the same request (equal ``task_col``). Whether system A appears left
    or right is drawn per pair with ``seed`` (recorded in ``order_seed``); ``shuffle=False`` puts A always
    left, the mistake to compare with. Columns: ``id`` (``pair-k``),
    ``task``, ``left_text``, ``right_text``, ``left_system``, ``right_system``, ``system_a``, ``order_seed`` and
    ``text``
    (request and both sides in display order: what a :class:`~synthlab.reannotate.LabelStore` fingerprints,
    so a decision file made under another draw is refused). Missing texts are shown as ``"(no output)"``.
    """
    _check_outputs(first, "first", text_col, task_col)
    _check_outputs(second, "second", text_col, task_col)
    if len(systems) != 2 or systems[0] == systems[1]:
        raise ValueError(f"systems must be two different names; got {systems!r}")
    if len(first) != len(second):
        raise ValueError(f"first has {len(first)} rows and second {len(second)}: pair_outputs compares row k of "
                         "each, so both need one output per request, in the same order")
    tasks = first[task_col].to_numpy(dtype=object)
    differ = np.flatnonzero(tasks != second[task_col].to_numpy(dtype=object))
    if len(differ):
        raise ValueError(f"{len(differ)} row(s) answer different requests in first and second (positions "
                         f"{differ[:5].tolist()}, e.g. {tasks[differ[0]]!r} vs {second[task_col].iloc[differ[0]]!r}); "
                         "align the two frames on the request first")
    a_texts = first[text_col].where(first[text_col].map(lambda t: isinstance(t, str)), "(no output)").tolist()
    b_texts = second[text_col].where(second[text_col].map(lambda t: isinstance(t, str)), "(no output)").tolist()
    a_left = np.random.default_rng(seed).random(len(first)) < 0.5 if shuffle else np.ones(len(first), dtype=bool)
    pairs = pd.DataFrame({
        "id": [f"pair-{k}" for k in range(len(first))], "task": tasks.tolist(),
        "left_text": np.where(a_left, a_texts, b_texts), "right_text": np.where(a_left, b_texts, a_texts),
        "left_system": np.where(a_left, systems[0], systems[1]),
        "right_system": np.where(a_left, systems[1], systems[0]),
        "system_a": systems[0], "order_seed": seed if shuffle else None,
    })
    pairs["text"] = ("request: " + pairs["task"].astype(str) + "\nleft: " + pairs["left_text"]
                     + "\nright: " + pairs["right_text"])
    return pairs


class PreferenceRater(Annotator):
    """The request above two outputs side by side, under buttons *left*, *right*, *tie*, *skip* and *undo*.
    ``store`` is a :class:`~synthlab.reannotate.LabelStore` over :func:`pair_outputs`' frame with labels
    ``["left", "right", "tie"]``; the rater never sees which system wrote which side. Drive it from Python
    with ``rater.decide("left")``; :func:`preference_outcomes` maps the decisions back to the systems."""

    def __init__(self, store: LabelStore, order: Sequence[Any] | None = None, *, rater: str = "human") -> None:
        if sorted(store.labels) != sorted(SIDES):
            raise ValueError(f"a preference store needs labels {list(SIDES)}; got {store.labels}: open it with "
                             "LabelStore(path, pairs, labels=['left', 'right', 'tie'])")
        for column in ("task", "left_text", "right_text"):
            require_column(store.frame, column, "pair column", frame_name="the store's frame (use pair_outputs)")
        super().__init__(store, list(store.frame["id"]) if order is None else order, annotator=rater)
        self.buttons[DISCARD].layout.display = "none"

    def _show_next(self) -> None:
        super()._show_next()
        if self.current_id is not None:
            row = self.store.row(self.current_id)
            self.row_text.value = (f"{_box('request', row['task'])}<div style='display:flex'>"
                                   f"{_box('left', row['left_text'])}{_box('right', row['right_text'])}</div>")


def preference_outcomes(pairs: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """The decisions on ``pairs`` (``id`` and ``decision`` *left*/*right*/*tie*, e.g. ``store.decisions()``)
    mapped back to the systems: columns ``id``, ``decision``, ``winner`` (a system name or ``"tie"``) and
    ``outcome`` (``"A"`` when ``systems[0]`` of :func:`pair_outputs` won, ``"B"``, or ``"tie"``), ready for
    :func:`synthlab.agreement.win_rate`. Skipped pairs are left out; ids that are not pairs raise."""
    for column in ("id", "left_system", "right_system", "system_a"):
        require_column(pairs, column, "pair column", frame_name="pairs (use pair_outputs)")
    require_column(decisions, "id", "id column", frame_name="decisions")
    require_column(decisions, "decision", "decision column", frame_name="decisions")
    system_a = pairs["system_a"].iloc[0]
    rated = decisions[decisions["decision"].isin(SIDES)]
    unknown = sorted(set(rated["id"]) - set(pairs["id"]), key=str)
    if unknown:
        raise KeyError(f"{len(unknown)} decision id(s) are not pairs of this frame (e.g. {unknown[:3]}); were they "
                       "made on pairs drawn with another seed or from other outputs?")
    sides = pairs.set_index("id").loc[rated["id"], ["left_system", "right_system"]]
    winner = np.where(rated["decision"].eq("left"), sides["left_system"],
                      np.where(rated["decision"].eq("right"), sides["right_system"], "tie"))
    outcome = np.where(winner == "tie", "tie", np.where(winner == system_a, "A", "B"))
    return pd.DataFrame({"id": rated["id"].to_numpy(), "decision": rated["decision"].to_numpy(),
                         "winner": winner, "outcome": outcome})


def rule_validity_ratings(
    frame: pd.DataFrame, oracle: Any, *, text_col: str = "text", label_col: str = "label", id_col: str = "id",
) -> pd.DataFrame:
    """A **simulated rater** (a stand-in for a person) grading each row A-D from measurable properties:
    **D** when :func:`~synthlab.curate.drop_malformed` or :func:`~synthlab.curate.drop_refusals` removes it
    (no usable output), **C** when ``oracle`` (a classifier trained on real data, as for
    :func:`~synthlab.downstream.oracle_agreement`) reads another label than the one asked for, **B** when
    :func:`~synthlab.curate.drop_bad_format` or :func:`~synthlab.curate.drop_repetitive` flags it (cut off,
    chatter, a list, loops), else **A**. Returns ``id``, ``rating`` and ``reason``, aligned with ``frame``."""
    require_column(frame, id_col, "id_col")
    require_column(frame, label_col, "label_col")
    if frame.empty:
        raise ValueError("frame has no rows: there is nothing to rate")
    if not frame.index.is_unique:
        raise ValueError("frame's index repeats labels; ratings are aligned to it: call frame.reset_index(drop=True)")
    reason = pd.Series(None, index=frame.index, dtype=object)
    rating = pd.Series("A", index=frame.index, dtype=object)
    kept, removed = drop_malformed(frame, text_col=text_col, label_col=label_col)
    if len(kept):
        kept, refused = drop_refusals(kept, text_col=text_col)
        removed = pd.concat([removed, refused])
    rating[removed.index], reason[removed.index] = "D", removed["reason"]
    if len(kept):
        predicted = oracle_agreement(oracle, kept, text_col=text_col, label_col=label_col)["predicted"]
        wrong = predicted.index[predicted.to_numpy() != kept[label_col].to_numpy()]
        rating[wrong] = "C"
        reason[wrong] = ("the oracle reads " + predicted[wrong].astype(str) + ", not "
                         + kept.loc[wrong, label_col].astype(str))
        right = kept.drop(index=wrong)
        flagged = [run(right, text_col=text_col)[1] for run in (drop_bad_format, drop_repetitive)] if len(right) else []
        for log in flagged:
            fresh = log.index.difference(reason.dropna().index)
            rating[fresh], reason[fresh] = "B", log.loc[fresh, "reason"]
    return pd.DataFrame({"id": frame[id_col], "rating": rating, "reason": reason}, index=frame.index)


def slip_ratings(ratings: pd.Series, *, rate: float, seed: int = 0) -> pd.Series:
    """``ratings`` (grades A-D) with a share ``rate`` of them moved one grade up or down, drawn with ``seed``:
    the near misses by which two careful people disagree. A **simulation**, for a second simulated rater."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1; got {rate!r}")
    bad = sorted({str(grade) for grade in ratings if grade not in GRADES})
    if bad:
        raise ValueError(f"ratings must be grades {list(GRADES)}; got {bad}")
    rng = np.random.default_rng(seed)
    position = ratings.map(GRADES.index).to_numpy()
    slips = rng.random(len(ratings)) < rate
    step = rng.choice([-1, 1], size=len(ratings))
    moved = np.where(slips, np.clip(position + step, 0, len(GRADES) - 1), position)
    return pd.Series([GRADES[i] for i in moved], index=ratings.index, name=ratings.name)


def simulated_preferences(
    pairs: pd.DataFrame, grades: Mapping[str, pd.Series], *, left_bias: float = 0.0, seed: int = 0,
) -> dict[str, str]:
    """A **simulated rater** for :func:`pair_outputs`' pairs: prefers the side with the better A-D grade
    (``grades[system]``: one grade per row, in the order of the rows that were paired) and calls equal grades
    a tie, except that with probability ``left_bias`` it breaks such a tie towards the left (a position bias
    people have). Returns ``{pair id: "left" | "right" | "tie"}``, the answers
    :func:`synthlab.reannotate.simulate_annotation` records."""
    if not 0 <= left_bias <= 1:
        raise ValueError(f"left_bias must be between 0 and 1; got {left_bias!r}")
    missing = sorted(set(pairs["left_system"]) - set(grades))
    if missing:
        raise KeyError(f"grades has no ratings for system(s) {missing}; pass one Series of grades per system")
    # a stream of its own: default_rng(seed) would replay pair_outputs' draw of sides under the same seed,
    # and the ties given to the left would all be pairs with system A on the left
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    answers = {}
    for k, row in enumerate(pairs.itertuples(index=False)):
        left = GRADES.index(grades[row.left_system].iloc[k])
        right = GRADES.index(grades[row.right_system].iloc[k])
        tie_to_left = rng.random() < left_bias
        answers[row.id] = "left" if left < right else "right" if right < left else "left" if tie_to_left else "tie"
    return answers
