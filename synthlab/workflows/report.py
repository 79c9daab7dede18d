"""What a capstone run produced and how it is shown: :class:`CapstoneResult`, its figure
(:func:`plot_capstone`), its run folder (:func:`write_run_folder`: generated and curated JSONL with every
removal's reason, ``table.csv``, ``metrics.json``, ``capstone.png``, ``report.md``) and the text
``python -m synthlab demo`` prints (:func:`demo_summary`). The workflow itself is
:func:`synthlab.workflows.capstone.run_capstone`; taught in ``notebooks/40_capstone.ipynb``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from synthlab.core.classifiers import TrainTestResult
from synthlab.core.records import save_jsonl
from synthlab.llm.cache import SQLiteCache
from synthlab.llm.recording import RecordedCache

__all__ = ["CapstoneResult", "demo_summary", "plot_capstone", "write_run_folder"]


@dataclass
class CapstoneResult:
    """What :func:`run_capstone` produced: the ``table`` (one row per strategy and pipeline), the
    real ``baselines``, the raw ``generated`` rows per strategy, the ``curated`` ``(kept, removed)``
    frames per ``(strategy, pipeline)``, the ``figure``, the oracle, the ``settings`` and the
    ``run_dir`` it wrote (``None`` when not written)."""

    table: pd.DataFrame
    baselines: pd.DataFrame
    generated: dict[str, pd.DataFrame]
    curated: dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame]]
    figure: Figure
    oracle: TrainTestResult
    settings: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None


def plot_capstone(table: pd.DataFrame, baselines: pd.DataFrame) -> Figure:
    """TSTR accuracy and macro-F1 per strategy, one bar per pipeline, with the real baselines as
    horizontal lines (macro-F1 shows a classifier that names one label for everything)."""
    strategies, pipelines = (list(dict.fromkeys(table.index.get_level_values(level))) for level in (0, 1))
    figure, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for axis, metric, title in zip(axes, ["accuracy", "macro_f1"], ["accuracy", "macro-F1"]):
        scores = table[f"tstr_{metric}"].unstack("pipeline").reindex(index=strategies, columns=pipelines)
        scores.plot.bar(ax=axis, rot=0, width=0.75, legend=False)
        for (name, row), style in zip(baselines.iterrows(), ["--", "-", ":"]):
            axis.axhline(row[metric], color="black", linestyle=style, linewidth=1, label=f"{name} ({row[metric]:.2f})")
        axis.set_ylim(0, 1)
        axis.set_xlabel("generation strategy")
        axis.set_ylabel("score on the real test split")
        axis.set_title(f"Train on synthetic, test on real: {title}")
        axis.legend(fontsize=8, loc="upper left", ncol=2)
    figure.tight_layout()
    return figure


def _new_run_dir(runs_dir: str | Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(100):
        run_dir = Path(runs_dir) / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            continue
    raise FileExistsError(f"100 run folders named {stamp}* already exist in {runs_dir}; choose another runs_dir")


def write_run_folder(result: CapstoneResult, runs_dir: str | Path = "runs") -> Path:
    """Write ``runs_dir/<UTC timestamp>/``: ``generated/<strategy>.jsonl`` (every generated row),
    ``curated/<strategy>/<pipeline>.jsonl`` (kept) and ``<pipeline>.removed.jsonl`` (removal log with
    ``step`` and ``reason``), ``table.csv``, ``capstone.png``, ``metrics.json`` (settings, seeds,
    baselines, table, removals per step) and ``report.md``. Returns the folder."""
    run_dir = _new_run_dir(runs_dir)
    for strategy, rows in result.generated.items():
        save_jsonl(rows, run_dir / "generated" / f"{strategy}.jsonl")
    removals = {}
    for (strategy, pipeline), (kept, removed) in result.curated.items():
        save_jsonl(kept, run_dir / "curated" / strategy / f"{pipeline}.jsonl")
        save_jsonl(removed, run_dir / "curated" / strategy / f"{pipeline}.removed.jsonl")
        removals[f"{strategy} / {pipeline}"] = removed["step"].value_counts().to_dict() if len(removed) else {}
    result.table.to_csv(run_dir / "table.csv")
    result.figure.savefig(run_dir / "capstone.png", dpi=120, bbox_inches="tight")
    metrics = {
        "settings": result.settings,
        "oracle_accuracy": result.oracle.accuracy,
        "baselines": json.loads(result.baselines.to_json(orient="index")),
        "table": json.loads(result.table.reset_index().to_json(orient="records")),
        "removed_by_step": removals,
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (run_dir / "report.md").write_text(_report(result, removals))
    result.run_dir = run_dir
    return run_dir


def _report(result: CapstoneResult, removals: dict[str, dict[str, int]]) -> str:
    settings = result.settings
    accuracy = result.table["tstr_accuracy"].dropna()
    best = (
        f"Highest train-on-synthetic accuracy: {' / '.join(accuracy.idxmax())} ({accuracy.max():.3f}); compare "
        "it with the majority class before calling it a gain."
        if len(accuracy)
        else "No set could be trained on (see the warnings)."
    )
    removed = "\n".join(
        f"- {name}: " + (", ".join(f"{count} by {step}" for step, count in steps.items()) or "none")
        for name, steps in removals.items()
    )
    return (
        f"# synthlab capstone run\n\nModel `{settings['model']}`, n={settings['n']} rows per strategy, seed "
        f"{settings['seed']} (row k of every strategy uses seed + k). Oracle (TF-IDF + logistic regression on "
        f"the real training split) accuracy on the real test split: {result.oracle.accuracy:.3f}.\n\n"
        f"## Strategy x pipeline\n\n```\n{result.table.round(3).to_string()}\n```\n\n"
        f"## Real baselines (same test split)\n\n```\n{result.baselines.round(3).to_string()}\n```\n\n"
        f"{best}\n\n![capstone](capstone.png)\n\n"
        f"## Removed rows (each with its reason in `curated/<strategy>/<pipeline>.removed.jsonl`)\n\n{removed}\n"
    )


def demo_summary(
    result: CapstoneResult, cache: SQLiteCache | RecordedCache | None = None, seconds: float | None = None
) -> str:
    """What ``python -m synthlab demo`` prints: the table, the real baselines, the run folder and,
    when given, the model calls the cache could not answer and the wall time."""
    lines = [
        f"Run folder: {result.run_dir}",
        "",
        "Strategy x curation pipeline (test: real Rotten Tomatoes):",
        result.table.round(3).to_string(),
        "",
        "Real baselines on the same test split:",
        result.baselines.round(3).to_string(),
    ]
    if cache is not None:
        lines += [
            "",
            f"Model calls: {cache.stats.misses} (answered without the model: {cache.stats.hits}, from {cache.path})",
        ]
    if seconds is not None:
        lines.append(f"Wall time: {seconds:.1f} s")
    return "\n".join(lines)
