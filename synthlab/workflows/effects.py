"""Which of the survey's effects reproduce on the embedded 135M model: every notebook states the effects it
measures as :class:`Effect` (the claim, what was measured, the estimate with its interval, the size, the seeds)
and writes them to ``notebooks/effects/<notebook>.json`` (:func:`record_effects`); :func:`reproduction_table`
gathers them into one row per taxonomy leaf and :func:`reproduction_page` renders ``docs/reproduction.md``
(``python -m synthlab effects``). Nothing in the table is typed by hand: it is what the recorded runs measured.

A verdict follows the interval (:func:`verdict`): an effect in the claimed direction whose interval excludes 0
*reproduces*; one whose interval excludes 0 on the other side *reverses*; an interval that holds 0 is *no
detectable effect* at that size, and its half-width says how large an effect the size could have shown.

>>> effect = Effect("E6", "synthetic rows train as well as real ones", "TSTR gain", estimate)  # doctest: +SKIP
>>> record_effects("40_capstone", [effect])                                                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from synthlab.evaluation.uncertainty import Estimate

__all__ = [
    "LEAVES",
    "VERDICTS",
    "Effect",
    "effects_dir",
    "read_effects",
    "record_effects",
    "reproduction_page",
    "reproduction_table",
    "verdict",
]

LEAVES: dict[str, str] = {
    "G1": "Task specification",
    "G2": "Conditioning scope",
    "G3": "Conditioning values",
    "G4": "Demonstration acquirement",
    "G5": "Demonstration selection",
    "G6": "Sample-wise decomposition",
    "G7": "Dataset-wise decomposition, metric based (S3)",
    "G8": "Dataset-wise decomposition, modeling based",
    "G9": "Automatic annotation",
    "C1": "Learning-dynamics filters",
    "C2": "Consistency filters",
    "C3": "Re-weighting",
    "C4": "Manual re-annotation",
    "C5": "Knowledge distillation (MCKD)",
    "C6": "Label refinery (FreeAL)",
    "C7": "Hygiene filters",
    "E1": "Faithfulness, benchmark (oracle)",
    "E2": "Faithfulness, human",
    "E3": "Faithfulness, auxiliary model (judge)",
    "E4": "Diversity, vocabulary statistics",
    "E5": "Diversity, sample relevance",
    "E6": "Indirect, benchmark (train on synthetic)",
    "E7": "Indirect, open evaluation, human",
    "E8": "Indirect, open evaluation, model",
    "F1": "Complex task decomposition",
    "F2": "Knowledge enhancement",
    "F3": "Large and small LM synergy",
    "F4": "Human-model collaboration",
}
VERDICTS = ("reproduces", "no detectable effect", "reverses")
EFFECTS_ENV_VAR = "SYNTHLAB_EFFECTS"


def verdict(estimate: Estimate, direction: int = 1) -> str:
    """``"reproduces"`` when the interval lies wholly on the side of 0 the claim predicts (``direction`` +1: the
    difference is positive; -1: negative), ``"reverses"`` when wholly on the other side, else ``"no detectable
    effect"``."""
    if direction not in (1, -1):
        raise ValueError(f"direction is +1 (the claim predicts a positive difference) or -1; got {direction!r}")
    if not estimate.excludes(0.0):
        return "no detectable effect"
    return "reproduces" if (estimate.value > 0) == (direction > 0) else "reverses"


@dataclass(frozen=True)
class Effect:
    """One measured effect of a taxonomy ``leaf``: the ``claim`` of the survey or the method's paper, what was
    ``measured`` (a difference, so that 0 is "no effect"), the ``estimate`` with its interval, the ``direction``
    the claim predicts (+1 or -1), the units behind it (``n``: rows, test rows or seeds, as the interval says),
    the generation ``seeds`` and a ``note`` on what the size can and cannot detect."""

    leaf: str
    claim: str
    measured: str
    estimate: Estimate
    direction: int = 1
    n: str = ""
    seeds: Sequence[int] = field(default_factory=lambda: (0,))
    note: str = ""

    def __post_init__(self) -> None:
        if self.leaf not in LEAVES:
            raise ValueError(f"unknown taxonomy leaf {self.leaf!r}; use one of {list(LEAVES)}")
        verdict(self.estimate, self.direction)  # checks the direction

    @property
    def verdict(self) -> str:
        """What the interval supports (:func:`verdict`)."""
        return verdict(self.estimate, self.direction)

    def as_dict(self) -> dict[str, Any]:
        """The effect as plain JSON values, its verdict included."""
        return {**asdict(self), "seeds": list(self.seeds), "verdict": self.verdict}


def effects_dir() -> Path:
    """Where notebooks write their effects: ``$SYNTHLAB_EFFECTS`` or the repository's ``notebooks/effects``."""
    folder = os.environ.get(EFFECTS_ENV_VAR)
    return Path(folder) if folder else Path(__file__).resolve().parents[2] / "notebooks" / "effects"


def record_effects(notebook: str, effects: Sequence[Effect], folder: str | os.PathLike[str] | None = None) -> Path:
    """Write ``effects`` as ``<folder>/<notebook>.json`` (default :func:`effects_dir`), replacing that notebook's
    earlier file; returns its path. The numbers come from the run, so a replayed notebook rewrites the same file."""
    if not effects:
        raise ValueError(f"{notebook}: no effects to record; every comparison notebook states at least one")
    path = Path(folder or effects_dir()) / f"{notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"notebook": notebook, **effect.as_dict()} for effect in effects]
    path.write_text(json.dumps(rows, indent=1, sort_keys=True, allow_nan=True) + "\n")
    return path


def read_effects(folder: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every recorded effect, one row each: ``notebook``, ``leaf``, ``claim``, ``measured``, the estimate's
    ``value``, ``low``, ``high``, ``method``, ``n``, ``seeds``, ``direction``, ``verdict``, ``note``."""
    rows = []
    for path in sorted(Path(folder or effects_dir()).glob("*.json")):
        for row in json.loads(path.read_text()):
            estimate = row.pop("estimate")
            rows.append({**row, **{key: estimate[key] for key in ("value", "low", "high", "method")}})
    columns = ["notebook", "leaf", "claim", "measured", "value", "low", "high", "method", "n", "seeds",
               "direction", "verdict", "note"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def reproduction_table(folder: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """One row per measured effect, in taxonomy order (every leaf of :data:`LEAVES`; a leaf no notebook has
    measured yet gets one row with verdict ``"not measured"``)."""
    effects = read_effects(folder)
    unmeasured = [leaf for leaf in LEAVES if leaf not in set(effects["leaf"])]
    missing = pd.DataFrame({"leaf": unmeasured, "verdict": "not measured"})
    table = pd.concat([effects, missing], ignore_index=True) if unmeasured else effects
    table.insert(1, "name", table["leaf"].map(LEAVES))
    order = {leaf: position for position, leaf in enumerate(LEAVES)}
    return table.sort_values("leaf", key=lambda leaves: leaves.map(order), kind="stable").reset_index(drop=True)


def _cell(row: pd.Series) -> str:
    if row["verdict"] == "not measured":
        return "—"
    return f"{row['value']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}]"


def reproduction_page(folder: str | os.PathLike[str] | None = None) -> str:
    """``docs/reproduction.md``: the table of :func:`reproduction_table` as Markdown, with counts per verdict."""
    table = reproduction_table(folder)
    counts = table["verdict"].value_counts()
    summary = ", ".join(f"{counts.get(name, 0)} {name}" for name in (*VERDICTS, "not measured"))
    lines = [
        "# Which survey effects reproduce on a 135M model",
        "",
        "Generated by `python -m synthlab effects` from `notebooks/effects/*.json`, which the notebooks write when",
        "they run (under replay: the recorded runs' numbers). Each row is one effect: the claim of the survey or of",
        "the method's paper, what was measured (a difference: 0 is no effect), the estimate with its 95% interval,",
        "the units behind the interval and the generation seeds. *Reproduces*: the interval lies on the claimed",
        "side of 0; *reverses*: on the other side; *no detectable effect*: it holds 0 (its half-width is what the",
        "size could have shown). Model: SmolLM2-135M-Instruct (Q4_1) on the CPU.",
        "",
        f"Effects: {summary}.",
        "",
        "| leaf | claim | measured | estimate [95% interval] | units | seeds | verdict | notebook |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, row in table.iterrows():
        if row["verdict"] == "not measured":
            lines.append(f"| {row['leaf']} {row['name']} | — | — | — | — | — | not measured yet | — |")
            continue
        seeds = ", ".join(str(seed) for seed in row["seeds"])
        lines.append(
            f"| {row['leaf']} {row['name']} | {row['claim']} | {row['measured']} | {_cell(row)} | {row['n']} | "
            f"{seeds} | **{row['verdict']}** | `{row['notebook']}` |"
        )
    notes = table[table["note"].fillna("").astype(bool)]
    if len(notes):
        lines += ["", "## What each size can detect", ""]
        lines += [f"- {row['leaf']}, {row['measured']}: {row['note']}" for _, row in notes.iterrows()]
    return "\n".join(lines) + "\n"
