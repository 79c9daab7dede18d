"""Manual re-annotation (taxonomy C4): a person relabels the rows a classifier doubts most.

The logic behind the annotator widget (:class:`synthlab.widgets.Annotator`), testable without a browser:

- :class:`LabelStore`, an append-only JSONL file of decisions. Its first line fingerprints the dataset
  (ids, texts, label set), so a file made for another dataset is refused; every decision is flushed and
  fsync'ed at once, so an interrupted session loses nothing and resumes at the first undecided row.
- :func:`annotation_order`: the rows most suspicious first (cross-fitted label loss, the "least
  confident first" selection of active learning, Settles 2009) or in a seeded random order.
- :func:`simulate_annotation`: a **stand-in for a person** that answers from gold labels, so a notebook
  runs without clicks.
- :func:`apply_decisions`: label replacement (the human label wins) vs discarding (rows the human
  disagrees with are dropped), in the ``(kept, removed)`` convention of :mod:`synthlab.curate`;
  :func:`reannotation_curve` and :func:`plot_reannotation_curves` measure test accuracy per human label
  spent.

Taught in ``notebooks/14_manual_reannotation.ipynb``.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from synthlab.crossfit import label_loss, out_of_fold_proba
from synthlab.curate import split_by_reason
from synthlab.downstream import check_labelled_frame, train_and_test
from synthlab.records import now_iso, require_column

DISCARD = "discard"
SKIP = "skip"
UNDO = "undo"  # the annotator's undo button; the store saves an undo as a ``null`` decision
ORDERS: tuple[str, ...] = ("uncertainty", "random")
MODES: tuple[str, ...] = ("replace", "discard")
FORMAT = "synthlab-label-store/1"


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON stores (labels read back compare equal)."""
    return value.item() if isinstance(value, np.generic) else value


def dataset_fingerprint(frame: pd.DataFrame, *, text_col: str = "text", id_col: str = "id") -> str:
    """sha256 of the ids and texts of ``frame``, in order: the identity of the dataset a label store
    belongs to."""
    require_column(frame, id_col, "id_col")
    require_column(frame, text_col, "text_col")
    digest = hashlib.sha256()
    for row_id, text in zip(frame[id_col], frame[text_col]):
        digest.update(json.dumps([_plain(row_id), text]).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _check_frame(frame: Any, text_col: str, id_col: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
    require_column(frame, id_col, "id_col")
    require_column(frame, text_col, "text_col")
    if frame.empty:
        raise ValueError("frame has no rows: there is nothing to annotate; did an earlier filter remove them all?")
    bad_text = ~frame[text_col].map(lambda value: isinstance(value, str))
    if bad_text.any():
        raise ValueError(f"{int(bad_text.sum())} row(s) have a {text_col!r} that is missing or not a string "
                         f"(index {frame.index[bad_text].tolist()[:5]}); drop them first, e.g. with "
                         "synthlab.curate.drop_malformed")
    duplicated = frame[id_col].duplicated() | frame[id_col].isna()
    if duplicated.any():
        raise ValueError(f"{int(duplicated.sum())} row(s) have a missing or repeated {id_col!r} "
                         f"(e.g. {frame.loc[duplicated, id_col].tolist()[:3]}); decisions are saved per id, "
                         "so every row needs its own")


class LabelStore:
    """The decisions of one annotation session on one dataset, kept in an append-only JSONL file.

    The first line is a header (format, dataset fingerprint, number of rows, labels); each further line
    is one decision ``{"id", "decision", "annotator", "at"}`` where ``decision`` is a label,
    :data:`DISCARD`, :data:`SKIP` or ``null`` (undo). The latest line per id wins. Opening an existing
    file for a different dataset raises; a torn last line (a crash mid-write) is cut off with a warning.
    ``labels`` (default: those of ``label_col``), ``ids``, ``fingerprint`` and ``path`` are attributes.

    >>> store = LabelStore("labels.jsonl", train, labels=["negative", "positive"])  # doctest: +SKIP
    >>> store.record("rotten_tomatoes-17", "negative")                             # doctest: +SKIP
    """

    def __init__(
        self, path: str | os.PathLike[str], frame: pd.DataFrame, *, labels: Sequence[Any] | None = None,
        text_col: str = "text", label_col: str = "label", id_col: str = "id",
    ) -> None:
        _check_frame(frame, text_col, id_col)
        if labels is None:
            require_column(frame, label_col, "label_col")
            labels = sorted(frame[label_col].dropna().unique().tolist())
        self.labels = [_plain(label) for label in labels]
        if len(self.labels) < 2 or len(set(self.labels)) < len(self.labels):
            raise ValueError(f"labels must hold two distinct labels or more; got {self.labels}")
        reserved = sorted({DISCARD, SKIP, UNDO} & set(self.labels))
        if reserved:
            raise ValueError(f"{reserved} cannot be labels: the annotator uses them as actions; rename the label")
        self.path = Path(path)
        self.frame, self.text_col, self.label_col, self.id_col = frame, text_col, label_col, id_col
        self.fingerprint = dataset_fingerprint(frame, text_col=text_col, id_col=id_col)
        self.ids = frozenset(frame[id_col].map(_plain))
        self._lines: list[dict[str, Any]] = []
        if self.path.exists() and self.path.stat().st_size > 0:
            self._read()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._append([{"format": FORMAT, "fingerprint": self.fingerprint, "n_rows": len(frame),
                           "labels": self.labels, "created_at": now_iso()}])

    def _read(self) -> None:
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        torn = b"" if raw.endswith(b"\n") else lines.pop()  # a crash mid-write left a partial last line
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{self.path}, line {number}, is not JSON ({error}); the file is damaged: "
                                 "repair or move it, then open the store again") from None
        header = records[0] if records else {}
        if header.get("format") != FORMAT:
            raise ValueError(f"{self.path} is not a synthlab label store (its first line has no "
                             f"format {FORMAT!r}); pass another path")
        if header["fingerprint"] != self.fingerprint or set(header["labels"]) != set(self.labels):
            raise ValueError(
                f"{self.path} belongs to another dataset: it was made for {header['n_rows']} rows with labels "
                f"{header['labels']} (fingerprint {header['fingerprint'][:12]}), but this frame has "
                f"{len(self.frame)} rows with labels {self.labels} (fingerprint {self.fingerprint[:12]}). "
                "Pass the frame the file was made for, or a new path for this dataset")
        if torn:  # keep what was fully written; cut the rest so the next decision starts a clean line
            warnings.warn(f"{self.path}: the last line was cut off mid-write ({torn[:60]!r}); it is dropped and "
                          "every earlier decision is kept", UserWarning, stacklevel=3)
            with open(self.path, "r+b") as handle:
                handle.truncate(len(raw) - len(torn))
        self._lines = records[1:]

    def _append(self, records: list[dict[str, Any]]) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(record) + "\n" for record in records))
            handle.flush()
            os.fsync(handle.fileno())

    def record_many(self, decisions: Iterable[tuple[Any, Any]], *, annotator: str = "human") -> None:
        """Save ``(id, decision)`` pairs in one write (one fsync): a label, :data:`DISCARD`, :data:`SKIP`,
        or ``None`` to undo the id's decision."""
        records = []
        for row_id, decision in decisions:
            row_id, decision = _plain(row_id), _plain(decision)
            if row_id not in self.ids:
                raise KeyError(f"id {row_id!r} is not a row of this store's dataset")
            if decision is not None and decision not in self.labels and decision not in (DISCARD, SKIP):
                raise ValueError(f"decision {decision!r} is not one of the labels {self.labels}, "
                                 f"{DISCARD!r}, {SKIP!r} or None (undo)")
            records.append({"id": row_id, "decision": decision, "annotator": annotator, "at": now_iso()})
        self._append(records)
        self._lines.extend(records)

    def record(self, row_id: Any, decision: Any, *, annotator: str = "human") -> None:
        """Save one decision at once (flushed and fsync'ed): see :meth:`record_many`."""
        self.record_many([(row_id, decision)], annotator=annotator)

    def decisions(self) -> pd.DataFrame:
        """The latest decision per id (undone ids left out), in the order they were made: columns
        ``id``, ``decision``, ``annotator``, ``at``."""
        latest: dict[Any, dict[str, Any]] = {}
        for record in self._lines:
            latest.pop(record["id"], None)  # re-insert so the order is that of the latest decision
            if record["decision"] is not None:
                latest[record["id"]] = record
        return pd.DataFrame(list(latest.values()), columns=["id", "decision", "annotator", "at"])

    def pending(self, order: Sequence[Any]) -> list[Any]:
        """The ids of ``order`` not decided yet, in that order: where a session resumes."""
        decided = set(self.decisions()["id"])
        return [row_id for row_id in map(_plain, order) if row_id not in decided]

    def row(self, row_id: Any) -> pd.Series:
        """The dataset row with id ``row_id``."""
        return self.frame[self.frame[self.id_col].map(_plain) == _plain(row_id)].iloc[0]


def annotation_order(
    frame: pd.DataFrame, order: str = "uncertainty", *, suspicion: Sequence[float] | None = None,
    text_col: str = "text", label_col: str = "label", id_col: str = "id", seed: int = 0,
) -> list[Any]:
    """The ids of ``frame`` in the order a person should see them: ``"uncertainty"`` puts the highest
    ``suspicion`` first (by default each row's cross-fitted label loss, see
    :func:`synthlab.crossfit.label_loss`); ``"random"`` is a permutation drawn with ``seed``."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {list(ORDERS)}; got {order!r}")
    _check_frame(frame, text_col, id_col)
    ids = frame[id_col].map(_plain).to_numpy(dtype=object)
    if order == "random":
        return ids[np.random.default_rng(seed).permutation(len(ids))].tolist()
    if suspicion is None:
        check_labelled_frame(frame, "frame", text_col, label_col)
        proba = out_of_fold_proba(frame, text_col=text_col, label_col=label_col, seed=seed)
        suspicion = label_loss(proba, frame[label_col])
    scores = np.asarray(suspicion, dtype=float)
    if scores.shape != (len(frame),) or np.isnan(scores).any():
        raise ValueError(f"suspicion must hold one number per row ({len(frame)}), none missing; got shape "
                         f"{scores.shape}")
    return ids[np.argsort(-scores, kind="stable")].tolist()


def simulate_annotation(
    store: LabelStore, order: Sequence[Any], gold: Mapping[Any, Any] | pd.Series, *, budget: int,
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
        raise KeyError(f"gold has no label for {len(missing)} id(s) to annotate, e.g. {missing[:3]}; "
                       "pass a label for every row, e.g. frame.set_index('id')['true_label']")
    if todo:
        store.record_many([(row_id, gold[row_id]) for row_id in todo], annotator=annotator)
    return store.decisions()


def apply_decisions(
    frame: pd.DataFrame, decisions: pd.DataFrame, *, mode: str = "replace", label_col: str = "label",
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
    require_column(frame, id_col, "id_col")
    require_column(frame, label_col, "label_col")
    require_column(decisions, "id", "decisions' id column")
    require_column(decisions, "decision", "decisions' decision column")
    human = frame[id_col].map(_plain).map(dict(zip(decisions["id"], decisions["decision"])))
    given = frame[label_col]
    labelled = human.notna() & ~human.isin([DISCARD, SKIP])
    disagrees = labelled & (human != given)
    reasons = pd.Series(None, index=frame.index, dtype=object)
    reasons[human == DISCARD] = "the annotator discarded the row"
    if mode == "discard":
        reasons[disagrees] = ("the annotator labelled it " + human[disagrees].astype(str)
                              + ", not " + given[disagrees].astype(str))
    annotated = frame.assign(human_label=human.astype(object).where(human.notna(), None))
    if mode == "replace":
        annotated["relabelled_from"] = given.astype(object).where(disagrees, None)
        annotated.loc[disagrees, label_col] = human[disagrees]
    return split_by_reason(annotated, reasons, f"apply_decisions({mode})")  # warns if it removes every row


def reannotation_curve(
    frame: pd.DataFrame, decisions: pd.DataFrame, test: pd.DataFrame, *, budgets: Sequence[int],
    modes: Sequence[str] = MODES, text_col: str = "text", label_col: str = "label", id_col: str = "id",
    model: str | Any = "nltk-nb", seed: int = 0,
) -> pd.DataFrame:
    """Test accuracy after applying the first ``budget`` decisions (in the order they were made), for
    each budget and mode: columns ``budget``, ``mode``, ``n_train``, ``relabelled``, ``removed``,
    ``accuracy``, ``macro_f1`` and, when ``frame`` has ``true_label``, ``noise_left`` (share of kept
    rows whose label is still wrong)."""
    if len(decisions) < max(budgets, default=0):
        raise ValueError(f"only {len(decisions)} decisions for a budget of {max(budgets)}; annotate more rows "
                         "or lower the budgets")
    rows = []
    for budget in budgets:
        for mode in modes:
            kept, removed = apply_decisions(frame, decisions.head(budget), mode=mode, label_col=label_col,
                                            id_col=id_col)
            result = train_and_test(kept, test, text_col=text_col, label_col=label_col, model=model, seed=seed)
            row = {"budget": int(budget), "mode": mode, "n_train": len(kept),
                   "relabelled": int(kept["relabelled_from"].notna().sum()) if mode == "replace" else 0,
                   "removed": len(removed), "accuracy": result.accuracy, "macro_f1": result.macro_f1}
            if "true_label" in frame.columns:
                row["noise_left"] = float((kept[label_col] != kept["true_label"]).mean())
            rows.append(row)
    return pd.DataFrame(rows)


def plot_reannotation_curves(
    curves: Mapping[str, pd.DataFrame], *, baseline: float | None = None, ceiling: float | None = None,
    title: str = "Test accuracy per human label spent",
) -> Figure:
    """One line per curve name and mode (the mean over repeated rows, with a min-max band when a
    :func:`reannotation_curve` frame holds several runs, e.g. random orders with several seeds), with
    the noisy baseline and the clean ceiling as horizontal lines."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for number, (name, curve) in enumerate(curves.items()):
        color = colors[number % len(colors)]  # one color per order, one line style per mode
        for mode, runs in curve.groupby("mode", sort=False):
            stats = runs.groupby("budget")["accuracy"].agg(["mean", "min", "max"])
            axes.plot(stats.index, stats["mean"], marker="o", color=color, label=f"{name}, {mode}",
                      linestyle="-" if mode == "replace" else "--")
            if (runs.groupby("budget").size() > 1).any():
                axes.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.12)
    if baseline is not None:
        axes.axhline(baseline, color="grey", linestyle=":", label="noisy baseline (no labels spent)")
    if ceiling is not None:
        axes.axhline(ceiling, color="black", linestyle="-.", label="clean ceiling (every label true)")
    axes.set_xlabel("human labels spent")
    axes.set_ylabel("test accuracy")
    axes.set_title(title)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    figure.tight_layout()
    return figure
