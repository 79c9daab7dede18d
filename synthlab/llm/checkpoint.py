"""A JSONL checkpoint of finished generation rows, so that an interrupted
:func:`synthlab.llm.generate.generate` run resumes where it stopped (``checkpoint="run.jsonl"``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Checkpoint"]


class Checkpoint:
    """A JSON Lines file of finished rows for resuming a :func:`generate` call.

    The first line fingerprints the call (prompts, n, seed, labels, conditions, parent ids,
    method, round, model and its parameters); every later line is one finished row, appended and
    flushed as it completes. Re-opening the file for a call with other arguments raises.
    """

    def __init__(self, path: str | os.PathLike[str], fingerprint: dict[str, Any]) -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint

    def load(self) -> dict[int, dict[str, Any]]:
        """The successful rows saved so far, by row number (failed rows are run again); writes the
        header when the file is new. A last line cut short by an interruption is cut off the file (that row
        runs again), so the next row is not glued onto it."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write({"synthlab_checkpoint": 1, "fingerprint": self.fingerprint})
            return {}
        entries = self._read_and_mend()
        header = entries[0] if entries else {}
        if "synthlab_checkpoint" not in header:
            raise ValueError(f"{self.path} is not a generate() checkpoint; pass a new path or delete the file.")
        saved = header["fingerprint"]
        different = sorted(k for k in self.fingerprint.keys() | saved.keys() if saved.get(k) != self.fingerprint.get(k))
        if different:
            raise ValueError(
                f"checkpoint {self.path} was written by a generate() call with different {', '.join(different)}; "
                "resume with the same arguments, or pass a new checkpoint path (or delete the file) to start over."
            )
        return {entry["row"]: entry["record"] for entry in entries[1:] if entry["record"].get("error") is None}

    def _read_and_mend(self) -> list[dict[str, Any]]:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        complete, last = lines[:-1], lines[-1]  # ``last`` is what follows the final newline (b"" when none)
        entries = []
        for number, line in enumerate(complete, start=1):
            try:
                entries.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                if number == len(complete) and not last:
                    entries.append(None)  # a torn last line that happens to end with a newline
                    break
                raise ValueError(
                    f"checkpoint {self.path}, line {number} is not valid JSON ({error}); delete the file to start over."
                ) from error
        if entries and entries[-1] is None:
            entries.pop()
            self._truncate(len(data) - len(complete[-1]) - 1)
        elif last:
            try:
                entries.append(json.loads(last))  # complete but for its newline: keep it, end the line
                with self.path.open("ab") as handle:
                    handle.write(b"\n")
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._truncate(len(data) - len(last))  # cut short: that row runs again
        return entries

    def _truncate(self, size: int) -> None:
        with self.path.open("r+b") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())

    def append(self, row: int, record: dict[str, Any]) -> None:
        """Save one finished row (numpy numbers as the Python numbers they hold, so labels keep their type;
        other values that JSON cannot hold as their ``str``)."""
        self._write({"row": row, "record": record})

    def _write(self, entry: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False, default=_plain) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
