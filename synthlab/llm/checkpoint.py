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
        header when the file is new, or holds only a header cut short (nothing was saved yet). A last line cut
        short by an interruption is cut off the file (that row runs again), so the next row is not glued onto
        it. A file that is not a checkpoint is refused and left as it is."""
        data = self.path.read_bytes() if self.path.exists() else b""
        if _only_a_torn_header(data):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(b"")
            self._write({"synthlab_checkpoint": 1, "fingerprint": self.fingerprint})
            return {}
        entries, intact = self._parse(data)
        header = entries[0] if entries else {}
        if not isinstance(header, dict) or "synthlab_checkpoint" not in header:
            raise ValueError(f"{self.path} is not a generate() checkpoint; pass a new path or delete the file.")
        saved = header["fingerprint"]
        different = sorted(k for k in self.fingerprint.keys() | saved.keys() if saved.get(k) != self.fingerprint.get(k))
        if different:
            raise ValueError(
                f"checkpoint {self.path} was written by a generate() call with different {', '.join(different)}; "
                "resume with the same arguments, or pass a new checkpoint path (or delete the file) to start over."
            )
        if intact < len(data):
            self._truncate(intact)  # cut short: that row runs again
        elif not data.endswith(b"\n"):
            with self.path.open("ab") as handle:  # complete but for its newline: keep it, end the line
                handle.write(b"\n")
        return {entry["row"]: entry["record"] for entry in entries[1:] if entry["record"].get("error") is None}

    def _parse(self, data: bytes) -> tuple[list[Any], int]:
        """The entries of the file's bytes, and how many of its bytes hold them (less than all when the last line
        is torn); a line that is not JSON before the last raises."""
        lines = data.split(b"\n")
        complete, last = lines[:-1], lines[-1]  # ``last`` is what follows the final newline (b"" when none)
        entries = []
        for number, line in enumerate(complete, start=1):
            try:
                entries.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                if number == len(complete) and not last:  # a torn last line that happens to end with a newline
                    return entries, len(data) - len(line) - 1
                raise ValueError(
                    f"checkpoint {self.path}, line {number} is not valid JSON ({error}); delete the file to start over."
                ) from error
        if last:
            try:
                entries.append(json.loads(last))
            except (json.JSONDecodeError, UnicodeDecodeError):
                return entries, len(data) - len(last)
        return entries, len(data)

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


_HEADER_START = b'{"synthlab_checkpoint": '


def _only_a_torn_header(data: bytes) -> bool:
    """Whether ``data`` is empty or the start of a checkpoint header cut short (a kill while it was written)."""
    if b"\n" in data:
        return False
    try:
        json.loads(data)
        return False  # a whole header lacking only its newline is read as one
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _HEADER_START.startswith(data) or data.startswith(_HEADER_START)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
