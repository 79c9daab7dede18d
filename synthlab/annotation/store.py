"""The label store: one annotation session's decisions on one dataset, on disk.

:class:`LabelStore` is an append-only JSONL file of decisions. Its first line fingerprints the dataset
(ids, texts, label set; :func:`dataset_fingerprint`), so a file made for another dataset is refused; every
decision is flushed and fsync'ed at once, so an interrupted session loses nothing and resumes at the first
undecided row. The annotator widgets (:mod:`synthlab.annotation.widgets`, :mod:`synthlab.annotation.raters`)
write to it. Taught in ``notebooks/14_manual_reannotation.ipynb``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from synthlab.core.checks import check_column, check_frame, check_labels
from synthlab.core.records import now_iso

__all__ = [
    "DISCARD",
    "FORMAT",
    "SKIP",
    "UNDO",
    "dataset_fingerprint",
    "LabelStore",
    "plain_value",
]

DISCARD = "discard"
SKIP = "skip"
UNDO = "undo"  # the annotator's undo button; the store saves an undo as a ``null`` decision
FORMAT = "synthlab-label-store/1"


def plain_value(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON stores (labels read back compare equal)."""
    return value.item() if isinstance(value, np.generic) else value


def dataset_fingerprint(frame: pd.DataFrame, *, text_col: str = "text", id_col: str = "id") -> str:
    """sha256 of the ids and texts of ``frame``, in order: the identity of the dataset a label store
    belongs to."""
    check_column(frame, id_col, "id_col")
    check_column(frame, text_col, "text_col")
    digest = hashlib.sha256()
    for row_id, text in zip(frame[id_col], frame[text_col]):
        digest.update(json.dumps([plain_value(row_id), text]).encode("utf-8") + b"\n")
    return digest.hexdigest()


class LabelStore:
    """The decisions of one annotation session on one dataset, kept in an append-only JSONL file.

    The first line is a header (format, dataset fingerprint, number of rows, labels); each further line
    is one decision ``{"id", "decision", "annotator", "at"}`` where ``decision`` is a label,
    :data:`DISCARD`, :data:`SKIP` or ``null`` (undo). The latest line per id wins. Opening an existing
    file for a different dataset raises; a torn last line (a crash mid-write; a line that is not JSON) is cut
    off with a warning, and a last line that is complete but for its newline gets its newline;
    a file holding only a header cut short (a crash as the store was made) starts anew.
    ``labels`` (default: those of ``label_col``), ``ids``, ``fingerprint`` and ``path`` are attributes.

    Several annotators can share one file (two notebook tabs, two raters): every read and write takes the
    file's lock (``fcntl.flock``) and first reads the lines the others appended, so each sees the others'
    decisions at once. :meth:`undo` takes back a decision only while it is still its row's latest.

    >>> store = LabelStore("labels.jsonl", train, labels=["negative", "positive"])  # doctest: +SKIP
    >>> store.record("rotten_tomatoes-17", "negative")                             # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        frame: pd.DataFrame,
        *,
        labels: Sequence[Any] | None = None,
        text_col: str = "text",
        label_col: str = "label",
        id_col: str = "id",
    ) -> None:
        check_frame(frame, "frame", text_col=text_col, id_col=id_col, hint="there is nothing to annotate")
        if labels is None:
            check_column(frame, label_col, "label_col")
            labels = sorted(frame[label_col].dropna().unique().tolist())
        self.labels = [plain_value(label) for label in check_labels(labels, "labels", distinct=2)]
        if len(set(self.labels)) < len(self.labels):
            raise ValueError(f"labels must hold two distinct labels or more, each once; got {self.labels}")
        reserved = sorted({DISCARD, SKIP, UNDO} & set(self.labels))
        if reserved:
            raise ValueError(f"{reserved} cannot be labels: the annotator uses them as actions; rename the label")
        self.path = Path(path)
        self.frame, self.text_col, self.label_col, self.id_col = frame, text_col, label_col, id_col
        self.fingerprint = dataset_fingerprint(frame, text_col=text_col, id_col=id_col)
        self.ids = frozenset(frame[id_col].map(plain_value))
        self._lines: list[dict[str, Any]] = []
        self._offset = 0  # bytes of the file read so far
        self._n_lines = 0  # lines of the file read so far (the header is line 1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked() as handle:
            handle.seek(0)
            if _only_a_torn_header(handle.readline()):  # new, or a kill while the header was written: nothing lost
                handle.truncate(0)
                header = {
                    "format": FORMAT,
                    "fingerprint": self.fingerprint,
                    "n_rows": len(frame),
                    "labels": self.labels,
                    "created_at": now_iso(),
                }
                self._append(handle, [header])
                self._n_lines = 1
            else:
                self._sync(handle)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[BinaryIO]:
        """The file, open for appending and reading, locked against the other annotators' stores."""
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield handle

    def _sync(self, handle: BinaryIO) -> None:
        """Read the lines appended since the last read, by this store or another (under the lock)."""
        handle.seek(self._offset)
        raw = handle.read()
        end = raw.rfind(b"\n") + 1
        lines, tail = raw[:end].split(b"\n")[:-1], raw[end:]
        if tail.strip() and _json_or_none(tail) is not None:
            lines.append(tail)  # complete but for its newline (written by a tool that adds none)
            tail = b""
        records = []
        for number, line in enumerate(lines, start=self._n_lines + 1):
            if line.strip():
                record = _json_or_none(line)
                if record is None:
                    raise ValueError(
                        f"{self.path}, line {number}, is not JSON; the file is damaged: "
                        "repair or move it, then open the store again"
                    )
                records.append(record)
        if self._n_lines == 0:
            self._check_header(records.pop(0) if records else {})
        if tail:  # keep what was fully written; cut the rest so the next decision starts a clean line
            warnings.warn(
                f"{self.path}: the last line was cut off mid-write ({tail[:60]!r}); it is dropped and "
                "every earlier decision is kept",
                UserWarning,
                stacklevel=3,
            )
            handle.truncate(self._offset + end)
        elif raw and not raw.endswith(b"\n"):
            handle.write(b"\n")
        self._offset, self._n_lines = handle.seek(0, os.SEEK_END), self._n_lines + len(lines)
        self._lines.extend(records)

    def _check_header(self, header: Any) -> None:
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(
                f"{self.path} is not a synthlab label store (its first line has no "
                f"format {FORMAT!r}); pass another path"
            )
        if header["fingerprint"] != self.fingerprint or set(header["labels"]) != set(self.labels):
            raise ValueError(
                f"{self.path} belongs to another dataset: it was made for {header['n_rows']} rows with labels "
                f"{header['labels']} (fingerprint {header['fingerprint'][:12]}), but this frame has "
                f"{len(self.frame)} rows with labels {self.labels} (fingerprint {self.fingerprint[:12]}). "
                "Pass the frame the file was made for, or a new path for this dataset"
            )

    def _append(self, handle: BinaryIO, records: list[dict[str, Any]]) -> None:
        handle.write("".join(json.dumps(record) + "\n" for record in records).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
        self._offset = handle.tell()
        self._n_lines += len(records)

    def record_many(self, decisions: Iterable[tuple[Any, Any]], *, annotator: str = "human") -> list[dict[str, Any]]:
        """Save ``(id, decision)`` pairs in one write (one fsync): a label, :data:`DISCARD`, :data:`SKIP`,
        or ``None`` to undo the id's decision. Returns the saved lines (what :meth:`undo` takes)."""
        records = []
        for row_id, decision in decisions:
            row_id, decision = plain_value(row_id), plain_value(decision)
            if row_id not in self.ids:
                raise KeyError(f"id {row_id!r} is not a row of this store's dataset")
            if decision is not None and decision not in self.labels and decision not in (DISCARD, SKIP):
                raise ValueError(
                    f"decision {decision!r} is not one of the labels {self.labels}, "
                    f"{DISCARD!r}, {SKIP!r} or None (undo)"
                )
            records.append({"id": row_id, "decision": decision, "annotator": annotator, "at": now_iso()})
        with self._locked() as handle:
            self._sync(handle)
            self._append(handle, records)
        self._lines.extend(records)
        return records

    def record(self, row_id: Any, decision: Any, *, annotator: str = "human") -> dict[str, Any]:
        """Save one decision at once (flushed and fsync'ed): see :meth:`record_many`."""
        return self.record_many([(row_id, decision)], annotator=annotator)[0]

    def latest(self, row_id: Any) -> dict[str, Any] | None:
        """The latest line for ``row_id`` by any annotator (its ``decision`` is ``None`` after an undo), or
        ``None`` when the row was never decided."""
        with self._locked() as handle:
            self._sync(handle)
        return self._latest(plain_value(row_id))

    def _latest(self, row_id: Any) -> dict[str, Any] | None:
        return next((record for record in reversed(self._lines) if record["id"] == row_id), None)

    def undo(self, decision: dict[str, Any], *, annotator: str = "human") -> bool:
        """Take back ``decision`` (a line :meth:`record` returned) if it is still its row's latest line, and
        return True. If a later line for that row stands (another annotator decided the row again, or undid
        it), that later line wins: nothing is saved, a warning names it, and the result is False."""
        with self._locked() as handle:
            self._sync(handle)
            latest = self._latest(decision["id"])
            if latest is None:
                raise KeyError(f"row {decision['id']!r} has no decision in {self.path} to undo")
            if latest != decision:
                warnings.warn(
                    f"row {decision['id']!r} was decided again after your {decision['decision']!r}: "
                    f"{latest['decision']!r} by {latest['annotator']!r} at {latest['at']}; their later decision "
                    "stands and nothing is undone (undo it from their session, or decide the row again)",
                    UserWarning,
                    stacklevel=3,
                )
                return False
            undone = {"id": decision["id"], "decision": None, "annotator": annotator, "at": now_iso()}
            self._append(handle, [undone])
        self._lines.append(undone)
        return True

    def decisions(self) -> pd.DataFrame:
        """The latest decision per id (undone ids left out), in the order they were made, by every annotator
        of the file: columns ``id``, ``decision``, ``annotator``, ``at``."""
        with self._locked() as handle:
            self._sync(handle)
        latest: dict[Any, dict[str, Any]] = {}
        for record in self._lines:
            latest.pop(record["id"], None)  # re-insert so the order is that of the latest decision
            if record["decision"] is not None:
                latest[record["id"]] = record
        return pd.DataFrame(list(latest.values()), columns=["id", "decision", "annotator", "at"])

    def pending(self, order: Sequence[Any]) -> list[Any]:
        """The ids of ``order`` not decided yet, in that order: where a session resumes."""
        decided = set(self.decisions()["id"])
        return [row_id for row_id in map(plain_value, order) if row_id not in decided]

    def row(self, row_id: Any) -> pd.Series:
        """The dataset row with id ``row_id``."""
        return self.frame[self.frame[self.id_col].map(plain_value) == plain_value(row_id)].iloc[0]


_HEADER_START = json.dumps({"format": FORMAT})[:-1].encode()


def _only_a_torn_header(first_line: bytes) -> bool:
    """Whether the file's first line is empty or the start of a store's header cut short before its end."""
    if first_line.endswith(b"\n") or _json_or_none(first_line) is not None:
        return False
    return _HEADER_START.startswith(first_line) or first_line.startswith(_HEADER_START)


def _json_or_none(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
