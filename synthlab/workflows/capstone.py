"""The capstone: generation -> curation -> direct and indirect evaluation on a real task, end to end.

Rotten Tomatoes sentiment (:func:`synthlab.core.data.load`): the model writes synthetic training
sets with several generation **strategies**, each varying one part of the survey's prompt
``p = E(e_task, e_condition, e_demo)`` (Long et al., 2024) on the same task specification
(:class:`synthlab.generation.prompts.TaskSpec`):

- ``"label-only"``: the label alone (ZeroGen, Ye et al., 2022);
- ``"attributes"``: the label plus a hand-written genre, aspect and style per row (AttrPrompt,
  Yu et al., 2023);
- ``"real-demos"``: the label plus four real seed reviews as demonstrations (in-context
  few-shot generation, as in GPT3Mix, Yoo et al., 2021).

Each set then goes through several curation **pipelines** (:data:`PIPELINES`): the hygiene filters
only, or hygiene followed by a learning-dynamics filter (CLLM, Seedat et al., 2024) or a consistency
filter (a cross-fitted classifier, confident learning, Northcutt et al., 2021). Every kept set is
measured directly (oracle agreement, distinct-2, self-BLEU, Vendi) and indirectly (train on
synthetic, test on real: accuracy and macro-F1), next to real baselines (the 32-row seed pool and
the full training split), in one table and one figure, and everything is written to a run folder.
The generation calls are those of notebooks 01 and 02, so their cache answers them.

>>> result = run_capstone(n=40, seed=0)       # doctest: +SKIP
>>> result.table                               # doctest: +SKIP

Taught in ``notebooks/40_capstone.ipynb``. The README's main job, ``make demo`` (``python -m synthlab demo``), runs
:func:`run_capstone` with its defaults into ``runs/`` and prints :func:`synthlab.workflows.report.demo_summary`; the
run folder and the figure are in :mod:`synthlab.workflows.report`.
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from matplotlib import pyplot as plt
from sklearn.metrics import accuracy_score, f1_score

from synthlab.core.classifiers import TrainTestResult, train_and_test
from synthlab.core.data import load
from synthlab.core.parsing import strip_chatter
from synthlab.core.steps import run_filters
from synthlab.curation.cartography import cllm_groups, data_map, filter_regions
from synthlab.curation.consistency import classifier_disagreement, drop_flagged
from synthlab.curation.filters import (
    drop_by_length,
    drop_exact_duplicates,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
)
from synthlab.evaluation.diversity import distinct_n, self_bleu, vendi_score
from synthlab.evaluation.downstream import compare_training_sets, oracle_agreement
from synthlab.generation.demos import generate_with_demos, select_demos
from synthlab.generation.prompts import TaskSpec, build_prompts
from synthlab.generation.tasks import ATTRIBUTES
from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import GenerationError, generate
from synthlab.workflows.report import CapstoneResult, plot_capstone, write_run_folder

__all__ = [
    "DEMOS_PER_LABEL",
    "MAX_SPLITS",
    "MIN_ROWS_PER_LABEL",
    "PIPELINES",
    "STRATEGIES",
    "TABLE_COLUMNS",
    "check_settings",
    "curate",
    "generate_strategy",
    "load_real_task",
    "measure",
    "real_baselines",
    "RealTask",
    "run_capstone",
]

STRATEGIES: tuple[str, ...] = ("label-only", "attributes", "real-demos")
PIPELINES: tuple[str, ...] = ("hygiene", "hygiene+cllm", "hygiene+crossfit")
DEMOS_PER_LABEL = 2
MAX_SPLITS = 5
MIN_ROWS_PER_LABEL = 4
TABLE_COLUMNS = (
    "generated",
    "kept",
    "well_formed",
    "oracle_agreement",
    "distinct_2",
    "self_bleu",
    "vendi",
    "tstr_accuracy",
    "tstr_macro_f1",
)


@dataclass
class RealTask:
    """The real Rotten Tomatoes splits the capstone uses: ``train`` (the oracle and the "real full"
    baseline), ``seed_pool`` (D_sup: 16 rows per label, the demonstrations, CLLM's reference and the
    "real few-shot" baseline) and ``test`` (every classifier is scored on it)."""

    train: pd.DataFrame
    seed_pool: pd.DataFrame
    test: pd.DataFrame


def load_real_task() -> RealTask:
    """The real splits of ``load("rotten_tomatoes")`` (its default split seed, as in every notebook)."""
    real = load("rotten_tomatoes")
    return RealTask(*(real[real["split"] == name] for name in ("train", "seed", "test")))


def _require_known(kind: str, names: Sequence[str], known: Sequence[str]) -> None:
    if isinstance(names, str) or not names:
        raise ValueError(f"{kind} names must be a non-empty list; got {names!r}; use some of {list(known)}")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown {kind} {unknown}; use some of {list(known)}")


def check_settings(n: int, strategies: Sequence[str], pipelines: Sequence[str], labels: Sequence[Any]) -> None:
    """Raise ``ValueError`` naming the problem for an unknown strategy or pipeline, or an ``n`` too
    small to give every label :data:`MIN_ROWS_PER_LABEL` rows (cross-fitting and training need them)."""
    _require_known("strategy", strategies, STRATEGIES)
    _require_known("pipeline", pipelines, PIPELINES)
    smallest = MIN_ROWS_PER_LABEL * len(labels)
    if isinstance(n, bool) or not isinstance(n, int) or n < smallest:
        raise ValueError(
            f"n={n!r} is too small for {len(labels)} labels: each label needs at least "
            f"{MIN_ROWS_PER_LABEL} rows to cross-fit and train on; use n >= {smallest}"
        )


def generate_strategy(
    model: BaseChatModel,
    strategy: str,
    n: int,
    *,
    seed_pool: pd.DataFrame,
    task: TaskSpec | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """``n`` rows (labels balanced, row k seeded ``seed + k``) written with one of :data:`STRATEGIES`;
    ``"real-demos"`` shows :data:`DEMOS_PER_LABEL` random rows per label of ``seed_pool``. The prompts
    and seeds are those of notebook 01 ((b) and (c)) and notebook 02 (the real-seed-demos arm).
    Failed rows stay on their row; if every row fails, the :class:`GenerationError` names the strategy."""
    _require_known("strategy", [strategy], STRATEGIES)
    task = task or TaskSpec()
    try:
        if strategy == "real-demos":
            demos = select_demos(seed_pool, DEMOS_PER_LABEL, "random", labels=task.labels, seed=seed)
            return generate_with_demos(model, task, demos, n, seed=seed, method="real-seed-demos", progress=progress)
        attributes = ATTRIBUTES if strategy == "attributes" else None
        prompts, labels, conditions = build_prompts(task, n, attributes=attributes, seed=seed)
        return generate(
            model,
            prompts,
            labels=labels,
            conditions=conditions,
            seed=seed,
            parse=strip_chatter,
            method="attributes" if attributes else "specified",
            progress=progress,
        )
    except GenerationError as error:
        error.add_note(
            f"(every row of strategy {strategy!r} failed: check that the model answers at all, "
            "e.g. model.invoke('Hello'))"
        )
        raise


def _hygiene_steps() -> list[Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]]:
    return [
        drop_malformed,
        drop_exact_duplicates,
        partial(drop_by_length, min_words=5),
        drop_refusals,
        drop_repetitive,
    ]


def _cllm_step(kept: pd.DataFrame, reference: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    dynamics = data_map(kept, reference=reference, seed=seed, progress=False)
    dynamics["cllm_group"] = cllm_groups(dynamics)
    return filter_regions(kept, dynamics, "hard", column="cllm_group")


def _crossfit_step(kept: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    smallest = int(kept["label"].value_counts().min()) if kept["label"].nunique() > 1 else 0
    if smallest < 2:
        raise ValueError(
            f"cross-fitting needs two labels with 2 rows or more; hygiene left "
            f"{kept['label'].value_counts().to_dict()}; generate more rows (raise n)"
        )
    detected = classifier_disagreement(kept, n_splits=min(MAX_SPLITS, smallest), seed=seed)
    return drop_flagged(kept, detected, step="classifier_disagreement")


def curate(
    rows: pd.DataFrame, pipeline: str, *, reference: pd.DataFrame, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, removed)`` after one of :data:`PIPELINES`; ``removed`` logs every removed row with its
    ``step`` and ``reason``. ``"hygiene"``: malformed, exact duplicates, fewer than 5 words, refusals,
    repetition loops (:mod:`synthlab.curation.filters`). ``"hygiene+cllm"`` then removes CLLM's *hard* rows: a
    classifier trained on the real ``reference`` (the seed pool) stays unconvinced of their label over
    the epochs (:mod:`synthlab.curation.cartography`). ``"hygiene+crossfit"`` then removes the rows whose label a
    classifier cross-fitted on the synthetic rows contradicts (:mod:`synthlab.curation.consistency`)."""
    _require_known("pipeline", [pipeline], PIPELINES)
    kept, removed = run_filters(rows, _hygiene_steps())
    if pipeline == "hygiene" or kept.empty:
        return kept, removed
    kept, flagged = _cllm_step(kept, reference, seed) if pipeline == "hygiene+cllm" else _crossfit_step(kept, seed)
    return kept, pd.concat([removed, flagged])


def measure(
    rows: pd.DataFrame, kept: pd.DataFrame, *, oracle: TrainTestResult, test: pd.DataFrame, seed: int = 0
) -> dict[str, float]:
    """One row of the capstone table for a generated set ``rows`` and what curation ``kept`` of it:
    sizes, the well-formed share (rows :func:`synthlab.curation.filters.drop_malformed` keeps, of all generated),
    oracle agreement (E1), distinct-2 and self-BLEU (E4), Vendi (E5) and train-on-synthetic,
    test-on-real accuracy and macro-F1 (E6). What cannot be measured on what was kept (no rows; one
    row for diversity; one label for training) is NaN, with a warning saying why."""
    nan = float("nan")
    row = {
        "generated": len(rows),
        "kept": len(kept),
        "well_formed": len(drop_malformed(rows)[0]) / len(rows),
        "oracle_agreement": nan,
        "distinct_2": nan,
        "self_bleu": nan,
        "vendi": nan,
        "tstr_accuracy": nan,
        "tstr_macro_f1": nan,
    }
    if kept.empty:
        warnings.warn("curation kept no rows: nothing to measure; raise n or loosen the filters", stacklevel=2)
        return row
    row["oracle_agreement"] = oracle_agreement(oracle, kept)["agreement"]
    texts = kept["text"].tolist()
    if len(texts) > 1:
        row |= {
            "distinct_2": distinct_n(texts, 2),
            "self_bleu": self_bleu(texts),
            "vendi": vendi_score(texts),
        }
    counts = kept["label"].value_counts().to_dict()
    if len(counts) < 2:
        warnings.warn(
            f"curation kept one label only ({counts}): no classifier can be trained, so the TSTR "
            "columns are NaN; raise n or loosen the filters",
            stacklevel=2,
        )
        return row
    tstr = train_and_test(kept, test, seed=seed)
    return row | {"tstr_accuracy": tstr.accuracy, "tstr_macro_f1": tstr.macro_f1}


def real_baselines(real: RealTask, *, seed: int = 0) -> pd.DataFrame:
    """Train-on-real, test-on-real accuracy and macro-F1 for the seed pool ("real few-shot") and the
    full training split ("real full"), and for always naming the commonest test label ("majority
    class"): a classifier that learnt nothing but the prior scores that."""
    table = compare_training_sets({"real few-shot": real.seed_pool, "real full": real.train}, real.test, seed=seed)
    labels = real.test["label"]
    always = [labels.value_counts().idxmax()] * len(labels)
    table.loc["majority class", ["n_train", "accuracy", "macro_f1"]] = [
        0,
        accuracy_score(labels, always),
        f1_score(labels, always, average="macro", zero_division=0),
    ]
    return table[["n_train", "accuracy", "macro_f1"]].astype({"n_train": int})


def run_capstone(
    model: BaseChatModel | None = None,
    *,
    n: int = 40,
    seed: int = 0,
    runs_dir: str | Path | None = "runs",
    strategies: Sequence[str] = STRATEGIES,
    pipelines: Sequence[str] = PIPELINES,
    real: RealTask | None = None,
    progress: bool = True,
) -> CapstoneResult:
    """The whole workflow: generate ``n`` rows per strategy with ``model`` (default: the embedded model,
    ``temperature=0.9, max_tokens=80``), curate each with every pipeline, measure, plot, and write the run
    folder into ``runs_dir`` (``None``: write nothing). ``real`` defaults to :func:`load_real_task`."""
    task = TaskSpec()
    check_settings(n, strategies, pipelines, task.labels)
    model = model or get_chat_model("local", temperature=0.9, max_tokens=80)
    real = real or load_real_task()
    oracle = train_and_test(real.train, real.test, seed=seed)
    generated = {
        strategy: generate_strategy(
            model, strategy, n, seed_pool=real.seed_pool, task=task, seed=seed, progress=progress
        )
        for strategy in strategies
    }
    curated, rows = {}, {}
    for strategy in strategies:
        for pipeline in pipelines:
            kept, removed = curate(generated[strategy], pipeline, reference=real.seed_pool, seed=seed)
            curated[strategy, pipeline] = kept, removed
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                rows[strategy, pipeline] = measure(generated[strategy], kept, oracle=oracle, test=real.test, seed=seed)
            for warning in caught:
                warnings.warn(f"{strategy} / {pipeline}: {warning.message}", UserWarning, stacklevel=2)
    table = pd.DataFrame.from_dict(rows, orient="index")[list(TABLE_COLUMNS)]
    table.index.names = ["strategy", "pipeline"]
    baselines = real_baselines(real, seed=seed)
    first = next(iter(generated.values()))
    settings = {
        "n": n,
        "seed": seed,
        "strategies": list(strategies),
        "pipelines": list(pipelines),
        "model": str(first["model"].iloc[0]),
        "model_params": {key: first["params"].iloc[0].get(key) for key in ("temperature", "max_tokens")},
        "row_seeds": [seed, seed + n - 1],
        "demo_ids": generated["real-demos"]["params"].iloc[0]["demo_ids"] if "real-demos" in generated else None,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }
    figure = plot_capstone(table, baselines)
    plt.close(figure)  # kept for saving and for result.figure, not shown again by notebooks
    result = CapstoneResult(table, baselines, generated, curated, figure, oracle, settings)
    if runs_dir is not None:
        write_run_folder(result, runs_dir)
    return result
