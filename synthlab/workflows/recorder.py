"""Making recordings (:mod:`synthlab.llm.recording`): run a notebook cold on the embedded model with every model
call written down, then keep the outputs of its checked cells (``# NBVAL_CHECK_OUTPUT``), which replaying the
recording reproduces on any machine. ``python -m synthlab record [NOTEBOOK ...]`` (``make record``) runs it.

>>> record_notebook(Path("notebooks/02_in_context_demonstrations.ipynb"))   # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthlab.llm.recording import MODE_ENV_VAR, compact_recording, read_recording, recording_path, recordings_dir

__all__ = ["CHECK_MARK", "Recorded", "notebooks_dir", "record_notebook", "with_checked_outputs"]

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


@dataclass(frozen=True)
class Recorded:
    """One recording made: its file, calls, size on disk and the cold run's seconds."""

    path: Path
    calls: int
    size_bytes: int
    seconds: float


def notebooks_dir() -> Path:
    """The repository's ``notebooks/`` (next to ``notebooks/recordings``)."""
    return recordings_dir().parent


@contextmanager
def _mode(mode: str) -> Iterator[None]:
    before = os.environ.get(MODE_ENV_VAR)
    os.environ[MODE_ENV_VAR] = mode
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MODE_ENV_VAR, None)
        else:
            os.environ[MODE_ENV_VAR] = before


def with_checked_outputs(original: Any, executed: Any) -> Any:
    """``original`` (the notebook as committed) with the outputs of its ``# NBVAL_CHECK_OUTPUT`` cells taken from
    ``executed``; every other cell, and the notebook's metadata, stay as they were (no outputs, no timings)."""
    if len(original.cells) != len(executed.cells):
        raise ValueError("the executed notebook has other cells than the committed one; was it edited meanwhile?")
    for cell, ran in zip(original.cells, executed.cells):
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        cell.outputs = []
        if cell.source.lstrip().startswith(CHECK_MARK):
            # nbval compares a cell only when it has run: it keeps its execution count
            cell.execution_count = ran.execution_count
            for output in ran.outputs:
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    continue  # warnings and progress bars: never compared
                cell.outputs.append(output)
    return original


def record_notebook(
    path: Path, *, outputs_only: bool = False, timeout: int = 3600, executed_dir: Path | None = None
) -> Recorded:
    """Run the notebook at ``path`` top to bottom in ``record`` mode (a kernel in its folder, every model call made
    by the model and written down), turn the calls into its recording, and save the notebook with the outputs of
    its ``# NBVAL_CHECK_OUTPUT`` cells only. With ``outputs_only`` the run replays the recording strictly instead
    and only the outputs are saved (after a change to which cells are checked). A failing cell raises, leaving
    the old recording and notebook as they were; ``timeout`` bounds one cell's seconds. With ``executed_dir`` the
    run's whole notebook, every output included, is also written there (to write the text from)."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if path.suffix != ".ipynb" or not path.exists():
        raise FileNotFoundError(f"{path} is not a notebook; pass a path such as notebooks/00_quickstart.ipynb")
    name = path.stem
    partial = recordings_dir() / f"{name}.partial.jsonl"
    partial.unlink(missing_ok=True)
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    with _mode("strict" if outputs_only else "record"):
        client = NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        try:
            client.execute()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    seconds = time.perf_counter() - started
    recording = recording_path(name) if outputs_only else compact_recording(name, seconds=seconds)
    if executed_dir is not None:
        Path(executed_dir).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, Path(executed_dir) / path.name)
    nbformat.write(with_checked_outputs(nbformat.read(path, as_version=4), notebook), path)
    header, _ = read_recording(recording)
    return Recorded(recording, header["calls"], recording.stat().st_size, seconds)
