"""What a capstone run produced and how it is shown: :class:`CapstoneResult`, its figure
(:func:`plot_capstone`), its run folder (:func:`write_run_folder`: generated and curated JSONL with every
removal's reason, ``table.csv``, ``metrics.json``, ``capstone.png``, ``report.md``) and the text
``python -m synthlab demo`` prints (:func:`demo_summary`). The workflow itself is
:func:`synthlab.workflows.capstone.run_capstone`; taught in ``notebooks/40_capstone.ipynb``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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

__all__ = [
    "CapstoneResult",
    "demo_summary",
    "headline_verdicts",
    "interval_view",
    "plot_capstone",
    "write_run_folder",
]


@dataclass
class CapstoneResult:
    """What :func:`run_capstone` produced: the ``table`` (one row per strategy and pipeline), the
    real ``baselines``, the ``headline`` (the seed pool, the best curated set, both together: accuracy, gain over
    the seed pool, worth in real rows), the real learning ``curve``, every ``generated`` row per strategy and its
    ``attrition`` (calls per draw), the ``curated`` ``(kept, removed)`` frames per ``(strategy, pipeline)``, the
    ``figure``, the oracle, the ``settings`` and the ``run_dir`` it wrote (``None`` when not written)."""

    table: pd.DataFrame
    baselines: pd.DataFrame
    headline: pd.DataFrame
    curve: pd.DataFrame
    generated: dict[str, pd.DataFrame]
    attrition: dict[str, pd.DataFrame]
    curated: dict[tuple[str, str], tuple[pd.DataFrame, pd.DataFrame]]
    figure: Figure
    oracle: TrainTestResult
    settings: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None


def plot_capstone(table: pd.DataFrame, baselines: pd.DataFrame, curve: pd.DataFrame, headline: pd.DataFrame) -> Figure:
    """Left: TSTR accuracy per strategy, one bar per pipeline with its 95% interval, the real baselines as
    horizontal lines. Right: the real learning curve (mean and min-max band over its repeats, log scale) with the
    headline's sets drawn at their accuracy, so a bar can be read off as a number of real rows."""
    strategies, pipelines = (list(dict.fromkeys(table.index.get_level_values(level))) for level in (0, 1))
    figure, (bars, learning) = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    scores = table["tstr_accuracy"].unstack("pipeline").reindex(index=strategies, columns=pipelines)
    errors = [
        [
            (table["tstr_accuracy"] - table[f"tstr_accuracy_{end}"]).abs().unstack("pipeline")
            .reindex(index=strategies, columns=pipelines)[pipeline].to_numpy()
            for end in ("low", "high")
        ]
        for pipeline in pipelines
    ]  # fmt: skip
    scores.plot.bar(ax=bars, rot=0, width=0.75, legend=False, yerr=errors, capsize=3)
    for (name, row), style in zip(baselines.iterrows(), ["--", "-", ":"]):
        bars.axhline(
            row["accuracy"], color="black", linestyle=style, linewidth=1, label=f"{name} ({row['accuracy']:.2f})"
        )
    bars.set_xlabel("generation strategy")
    bars.set_ylabel("accuracy on the real test split")
    bars.set_title("Train on synthetic, test on real (95% intervals)")
    bars.legend(fontsize=8, loc="lower left", ncol=2)
    sizes = curve.index.to_numpy()
    learning.plot(sizes, curve["accuracy"], marker="o", color="black", label="real rows (mean)")
    learning.fill_between(sizes, curve["accuracy_min"], curve["accuracy_max"], color="grey", alpha=0.3)
    for (name, row), color in zip(headline.iterrows(), ["C0", "C1", "C2", "C3"]):
        learning.axhline(
            row["accuracy"], color=color, linestyle="--", linewidth=1, label=f"{name} ({row['accuracy']:.2f})"
        )
    learning.set_xscale("log")
    learning.set_xlabel("real training rows (balanced)")
    learning.set_title("What a set is worth on the real learning curve")
    learning.legend(fontsize=8, loc="lower right")
    bars.set_ylim(0.3, 0.8)
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
        "headline": json.loads(result.headline.to_json(orient="index")),
        "curve": json.loads(result.curve.to_json(orient="index")),
        "attrition": {
            strategy: json.loads(table.to_json(orient="records")) for strategy, table in result.attrition.items()
        },
        "table": json.loads(result.table.reset_index().to_json(orient="records")),
        "removed_by_step": removals,
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (run_dir / "report.md").write_text(_report(result, removals))
    result.run_dir = run_dir
    return run_dir


def _rows_text(rows: float, curve_sizes: pd.Index) -> str:
    if rows == 0:
        return f"< {curve_sizes.min()}"
    if math.isinf(rows):
        return f"> {curve_sizes.max()}"
    return f"{rows:.0f}"


def interval_view(frame: pd.DataFrame, names: Sequence[str], digits: int = 3) -> pd.DataFrame:
    """``frame`` with each ``name``, ``name_low``, ``name_high`` triple shown as one column ``"value [low, high]"``
    (the other columns rounded to ``digits``): how the tables are printed."""
    view = frame.round(digits).astype(object)
    for name in names:
        value, low, high = (frame[f"{name}{end}"] for end in ("", "_low", "_high"))
        view[name] = [
            "nan" if pd.isna(v) else f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
            for v, lo, hi in zip(value, low, high)
        ]
        view = view.drop(columns=[f"{name}_low", f"{name}_high"])
    return view


def headline_verdicts(headline: pd.DataFrame, curve: pd.DataFrame) -> list[str]:
    """One sentence per set of the ``headline`` (after the seed pool): does it beat the real few-shot baseline
    (the gain's interval above 0), fall below it (below 0), or is no difference detectable; and its worth in real
    rows on ``curve``, with the interval's ends."""
    sentences = []
    for name, row in headline.drop(index="real few-shot").iterrows():
        gain = f"{row['gain']:+.3f} [{row['gain_low']:+.3f}, {row['gain_high']:+.3f}]"
        if row["gain_low"] > 0:
            verdict = f"beats the real few-shot baseline ({gain})"
        elif row["gain_high"] < 0:
            verdict = f"scores below the real few-shot baseline ({gain})"
        else:
            verdict = f"is not distinguishable from the real few-shot baseline at this size ({gain})"
        worth = ", ".join(_rows_text(row[key], curve.index) for key in ("worth_low", "worth_high"))
        sentences.append(
            f"{name}: accuracy {row['accuracy']:.3f}, {verdict}; worth about "
            f"{_rows_text(row['worth_real_rows'], curve.index)} real rows [{worth}]."
        )
    return sentences


def _report(result: CapstoneResult, removals: dict[str, dict[str, int]]) -> str:
    settings = result.settings
    removed = "\n".join(
        f"- {name}: " + (", ".join(f"{count} by {step}" for step, count in steps.items()) or "none")
        for name, steps in removals.items()
    )
    verdicts = "\n".join(f"- {sentence}" for sentence in headline_verdicts(result.headline, result.curve))
    attrition = "\n".join(
        f"- {strategy}: {int(table['calls'].iloc[-1])} calls for {settings['n']} rows passing hygiene"
        for strategy, table in result.attrition.items()
    )
    return (
        f"# synthlab capstone run\n\nModel `{settings['model']}`, n={settings['n']} rows per strategy passing "
        f"hygiene (at most {settings['budget']} calls each), seed {settings['seed']} (row k of every strategy uses "
        f"seed + k). Intervals are 95%: Wilson for oracle agreement, a bootstrap of the real test rows "
        f"({settings['n_resamples']} resamples) for accuracy and for the gain over the 32 real seed rows (paired). "
        f"Oracle (TF-IDF + logistic regression on the real training split) accuracy on the real test split: "
        f"{result.oracle.accuracy:.3f}.\n\n"
        f"## Headline\n\n{verdicts}\n\n```\n{_headline_view(result).to_string()}\n```\n\n"
        f"## Strategy x pipeline\n\n```\n{_table_view(result).to_string()}\n```\n\n"
        f"## Calls\n\n{attrition}\n\n"
        f"## Real baselines (same test split)\n\n```\n{interval_view(result.baselines, ['accuracy']).to_string()}\n```"
        f"\n\n## Real learning curve (balanced, {int(result.curve['repeats'].iloc[0])} repeats)\n\n"
        f"```\n{result.curve.round(3).to_string()}\n```\n\n![capstone](capstone.png)\n\n"
        f"## Removed rows (each with its reason in `curated/<strategy>/<pipeline>.removed.jsonl`)\n\n{removed}\n"
    )


def _table_view(result: CapstoneResult) -> pd.DataFrame:
    columns = ["generated", "kept", "oracle_agreement", "distinct_2", "vendi", "tstr_accuracy", "gain"]
    return interval_view(result.table, ["oracle_agreement", "tstr_accuracy", "gain"])[columns]


def _headline_view(result: CapstoneResult) -> pd.DataFrame:
    view = interval_view(result.headline, ["accuracy", "gain"])
    ends = result.headline[["worth_real_rows", "worth_low", "worth_high"]]
    value, low, high = ([_rows_text(rows, result.curve.index) for rows in ends[column]] for column in ends)
    view["worth_real_rows"] = [f"{v} [{lo}, {hi}]" for v, lo, hi in zip(value, low, high)]
    return view.drop(columns=["worth_low", "worth_high"])


def demo_summary(
    result: CapstoneResult, cache: SQLiteCache | RecordedCache | None = None, seconds: float | None = None
) -> str:
    """What ``python -m synthlab demo`` prints: the headline with its verdicts, the strategy x pipeline table, the
    real baselines (95% intervals), the run folder and, when given, the model calls the cache could not answer and
    the wall time."""
    lines = [
        f"Run folder: {result.run_dir}",
        "",
        f"Headline (test: real Rotten Tomatoes, {result.oracle.n_test} rows; 95% intervals):",
        _headline_view(result).to_string(),
        *headline_verdicts(result.headline, result.curve),
        "",
        "Strategy x curation pipeline:",
        _table_view(result).to_string(),
        "",
        "Real baselines on the same test split:",
        interval_view(result.baselines, ["accuracy"]).to_string(),
    ]
    if cache is not None:
        lines += [
            "",
            f"Model calls: {cache.stats.misses} (answered without the model: {cache.stats.hits}, from {cache.path})",
        ]
    if seconds is not None:
        lines.append(f"Wall time: {seconds:.1f} s")
    return "\n".join(lines)
