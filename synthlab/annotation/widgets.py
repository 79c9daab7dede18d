"""An ipywidgets annotator for manual re-annotation (taxonomy C4): one row at a time, one button per label.

Every click is saved to a :class:`synthlab.annotation.store.LabelStore` before the next row is shown, so
closing the notebook loses nothing: a new :class:`Annotator` on the same file resumes at the first
undecided row. No keyboard and no ``input()``: tests (and notebooks run by nbval) drive it from Python
with ``annotator.buttons["positive"].click()``. Taught in ``notebooks/14_manual_reannotation.ipynb``.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from synthlab.annotation.store import DISCARD, SKIP, UNDO, LabelStore

__all__ = ["Annotator"]


class Annotator(widgets.VBox):
    """Shows the first undecided row of ``order`` (ids, e.g. from
    :func:`synthlab.curation.reannotate.annotation_order`) with its text, given label and the progress
    ("12 / 200 decided"), under one button per label plus *discard*, *skip* and *undo*. A click saves the
    decision in ``store`` (flushed to disk) and shows the next row; *undo* takes back this annotator's latest
    decision. Display it as the last expression of a cell.

    Two annotators on one label file (two tabs, two raters) see each other's decisions: a row the other has
    decided is not shown again. The latest decision per row wins, with a warning when a click replaces the
    other's decision for the row on screen; *undo* takes back only a decision made here (after a restart, the
    latest one saved under ``annotator``), and never one the other made later for the same row: that undo
    changes nothing and warns.

    >>> store = LabelStore("labels.jsonl", train, labels=["negative", "positive"])  # doctest: +SKIP
    >>> Annotator(store, annotation_order(train, "uncertainty")[:200])           # doctest: +SKIP
    """

    def __init__(self, store: LabelStore, order: Sequence[Any], *, annotator: str = "human") -> None:
        if len(order) == 0:
            raise ValueError("order is empty: pass the ids to annotate, e.g. annotation_order(frame)")
        self.store, self.order, self.annotator = store, list(order), annotator
        unknown = [row_id for row_id in self.order if row_id not in store.ids]
        if unknown:
            raise KeyError(f"order holds ids that are not rows of the store's dataset, e.g. {unknown[:3]}")
        self.progress_text = widgets.HTML()
        self.progress_bar = widgets.IntProgress(min=0, max=len(self.order))
        self.row_text = widgets.HTML(layout=widgets.Layout(width="640px"))
        self.buttons: dict[Any, widgets.Button] = {}
        for decision in [*store.labels, DISCARD, SKIP, UNDO]:
            button = widgets.Button(
                description=str(decision), button_style="primary" if decision in store.labels else ""
            )
            button.on_click(lambda _button, decision=decision: self._clicked(decision))
            self.buttons[decision] = button
        self.current_id: Any = None
        self._made: list[dict[str, Any]] = []  # this annotator's decisions, latest last: what undo takes back
        super().__init__(
            [
                widgets.HBox([self.progress_bar, self.progress_text]),
                self.row_text,
                widgets.HBox(list(self.buttons.values())),
            ]
        )
        self._show_next()

    def _clicked(self, decision: Any) -> None:
        if decision == UNDO:
            self.undo()
        else:
            self.decide(decision)

    def decide(self, decision: Any) -> None:
        """Save ``decision`` (a label, ``"discard"`` or ``"skip"``) for the row shown, then show the next."""
        if self.current_id is None:
            raise RuntimeError("every row of the order is decided; press undo to change the latest decision")
        other = self.store.latest(self.current_id)
        if other is not None and other["decision"] is not None:
            warnings.warn(
                f"row {self.current_id!r} was decided {other['decision']!r} by {other['annotator']!r} at "
                f"{other['at']} while it was shown here; your {decision!r} is saved after it and replaces it "
                "(the latest decision per row wins)",
                UserWarning,
                stacklevel=2,
            )
        self._made.append(self.store.record(self.current_id, decision, annotator=self.annotator))
        self._show_next()

    def undo(self) -> None:
        """Take back this annotator's latest decision (saved as an undo line) and show that row again; see the
        class docstring for a file shared with another annotator."""
        if self._made:
            self.store.undo(self._made.pop(), annotator=self.annotator)
        else:
            decided = self.store.decisions()
            mine = decided[decided["annotator"] == self.annotator]
            if len(mine):
                self.store.undo(self.store.latest(mine["id"].iloc[-1]), annotator=self.annotator)
        self._show_next()

    def _show_next(self) -> None:
        pending = self.store.pending(self.order)
        done = len(self.order) - len(pending)
        self.progress_bar.value = done
        self.progress_text.value = f"&nbsp;{done} / {len(self.order)} decided"
        self.current_id = pending[0] if pending else None
        for decision, button in self.buttons.items():
            button.disabled = done == 0 if decision == UNDO else self.current_id is None
        if self.current_id is None:
            self.row_text.value = (
                f"<b>All {len(self.order)} rows are decided.</b> Saved in {html.escape(str(self.store.path))}."
            )
            return
        row = self.store.row(self.current_id)
        given = row[self.store.label_col] if self.store.label_col in row.index else "none"
        self.row_text.value = (
            f"<p style='font-size:1.1em'>{html.escape(row[self.store.text_col])}</p>"
            f"<small>id {html.escape(str(self.current_id))} · given label: "
            f"<b>{html.escape(str(given))}</b></small>"
        )
