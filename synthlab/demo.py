"""The README's main job (``make demo`` = ``python -m synthlab demo``): generate a small,
balanced, labelled movie-review dataset with the embedded model, remove malformed rows and
exact duplicates (each removal logged with its reason), measure diversity, and write a run
folder with the data, the metrics, a report and a plot.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.curate import drop_exact_duplicates, drop_malformed
from synthlab.evaluate import diversity_summary, self_bleu
from synthlab.llm import get_chat_model
from synthlab.records import save_jsonl
from synthlab.reviews import LABELS, generate_reviews
from synthlab.viz import length_histogram

def run_demo(
    model: BaseChatModel | None = None,
    *,
    n: int = 40,
    seed: int = 0,
    runs_dir: str | Path = "runs",
    progress: bool = True,
) -> tuple[Path, pd.DataFrame]:
    """Run the demo workflow and return the run folder and the summary table."""
    if n < len(LABELS):
        raise ValueError(f"n must be at least {len(LABELS)} so every label gets a row; got {n}")
    model = model or get_chat_model("local", temperature=0.9, max_tokens=80)
    records = generate_reviews(model, n, seed=seed, progress=progress)
    well_formed, malformed = drop_malformed(records)
    kept, duplicates = drop_exact_duplicates(well_formed)
    removed = pd.concat([malformed, duplicates], ignore_index=True)

    run_dir = Path(runs_dir) / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=False)
    save_jsonl(kept, run_dir / "data.jsonl")
    save_jsonl(removed, run_dir / "removed.jsonl")

    metrics = {
        "generated": len(records),
        "kept": len(kept),
        "removed": removed["reason"].map(_reason_kind).value_counts().to_dict(),
        "diversity": {"all": _diversity(kept["text"].tolist())}
        | {label: _diversity(group["text"].tolist()) for label, group in kept.groupby("label")},
        "seed": seed,
        "model": records["model"].iloc[0],
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    figure = length_histogram(kept, title=f"Demo: lengths of {len(kept)} kept reviews")
    figure.savefig(run_dir / "lengths.png")
    summary = _summary_table(metrics)
    _write_report(run_dir, metrics, summary, kept)
    return run_dir, summary


def _diversity(texts: list[str]) -> dict[str, float]:
    return diversity_summary(texts) | {"self_bleu": self_bleu(texts) if len(texts) > 1 else None}


def _reason_kind(reason: str) -> str:
    return reason.split(" of ")[0].split(":")[0]


def _summary_table(metrics: dict[str, Any]) -> pd.DataFrame:
    columns = ["n_texts", "mean_tokens", "vocabulary_size", "distinct_1", "distinct_2", "self_bleu"]
    return pd.DataFrame(metrics["diversity"]).T[columns].round(3)


def _write_report(run_dir: Path, metrics: dict[str, Any], summary: pd.DataFrame, kept: pd.DataFrame) -> None:
    removed = ", ".join(f"{count} {kind}" for kind, count in metrics["removed"].items()) or "none"
    examples = "\n".join(f"- **{row.label}**: {row.text}" for row in kept.groupby("label").head(2).itertuples())
    (run_dir / "report.md").write_text(
        f"# synthlab demo run\n\n"
        f"Model: `{metrics['model']}`, seed {metrics['seed']}. Generated {metrics['generated']} rows, "
        f"kept {metrics['kept']}; removed: {removed} (see `removed.jsonl` for every row and its reason).\n\n"
        f"## Diversity of the kept rows\n\n```\n{summary.to_string()}\n```\n\n"
        f"![lengths](lengths.png)\n\n## Examples\n\n{examples}\n"
    )

