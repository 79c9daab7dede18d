"""The README's main job (``make demo`` = ``python -m synthlab demo``): the capstone workflow of
``notebooks/40_capstone.ipynb`` (:func:`synthlab.capstone.run_capstone`: three generation strategies,
three curation pipelines, direct and indirect evaluation on real Rotten Tomatoes data, one table, one
figure, a run folder), and the text the command prints about it.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel

from synthlab.cache import SQLiteCache
from synthlab.capstone import CapstoneResult, run_capstone


def run_demo(
    model: BaseChatModel | None = None, *, n: int = 40, seed: int = 0, runs_dir: str | Path = "runs",
    progress: bool = True,
) -> CapstoneResult:
    """Run the capstone workflow with its default strategies and pipelines and write the run folder."""
    return run_capstone(model, n=n, seed=seed, runs_dir=runs_dir, progress=progress)


def demo_summary(result: CapstoneResult, cache: SQLiteCache | None = None, seconds: float | None = None) -> str:
    """What ``python -m synthlab demo`` prints: the table, the real baselines, the run folder and,
    when given, the model calls the cache could not answer and the wall time."""
    lines = [f"Run folder: {result.run_dir}", "", "Strategy x curation pipeline (test: real Rotten Tomatoes):",
             result.table.round(3).to_string(), "", "Real baselines on the same test split:",
             result.baselines.round(3).to_string()]
    if cache is not None:
        lines += ["", f"Model calls: {cache.stats.misses} (cache hits: {cache.stats.hits}, cache: {cache.path})"]
    if seconds is not None:
        lines.append(f"Wall time: {seconds:.1f} s")
    return "\n".join(lines)
