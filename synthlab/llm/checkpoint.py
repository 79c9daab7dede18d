"""A JSONL checkpoint of finished generation rows, so that an interrupted
:func:`synthlab.llm.generate.generate` run resumes where it stopped (``checkpoint="run.jsonl"``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
        header when the file is new."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._write({"synthlab_checkpoint": 1, "fingerprint": self.fingerprint})
            return {}
        lines = self.path.read_text(encoding="utf-8").splitlines()
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as error:
                if number == len(lines):
                    continue  # the last line was cut short by an interruption: that row runs again
                raise ValueError(
                    f"checkpoint {self.path}, line {number} is not valid JSON ({error.msg}); "
                    "delete the file to start over."
                ) from error
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

    def append(self, row: int, record: dict[str, Any]) -> None:
        """Save one finished row (values that JSON cannot hold are saved as their ``str``)."""
        self._write({"row": row, "record": record})

    def _write(self, entry: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
            handle.flush()
