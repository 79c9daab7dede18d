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

Every strategy is compared at the same number of rows that pass hygiene: it generates until ``n`` rows pass
(:func:`synthlab.generation.attrition.generate_until`, at most :data:`BUDGET_FACTOR` calls per row), so the
``generated`` column says what each strategy cost in calls. Each set then goes through several curation
**pipelines** (:data:`PIPELINES`): the hygiene filters
only, or hygiene followed by a learning-dynamics filter (CLLM, Seedat et al., 2024) or a consistency
filter (a cross-fitted classifier, confident learning, Northcutt et al., 2021). Every kept set is
measured directly (oracle agreement, distinct-2, self-BLEU, Vendi) and indirectly (train on
synthetic, test on real: accuracy and macro-F1), each share with its 95% interval and the accuracy's gain
over the 32 real seed rows (paired over the test rows), next to real baselines and the real learning curve
(:mod:`synthlab.workflows.comparison`): the headline says where the best curated set (by macro-F1), alone and
added to the seed rows, beats the real few-shot baseline, and how many real rows it is worth. One table, one
figure, and everything is written to a run folder.

>>> result = run_capstone(n=200, seed=0)      # doctest: +SKIP
>>> result.headline                            # doctest: +SKIP

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
from synthlab.evaluation.downstream import oracle_agreement
from synthlab.evaluation.uncertainty import tstr_difference, tstr_estimate, wilson_interval
from synthlab.generation.attrition import Attrition, generate_until
from synthlab.generation.demos import demo_parser, demo_prompts, select_demos
from synthlab.generation.prompts import TaskSpec, build_prompts
from synthlab.generation.tasks import ATTRIBUTES
from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import GenerationError
from synthlab.workflows.comparison import headline, real_baselines, real_curve
from synthlab.workflows.report import CapstoneResult, plot_capstone, write_run_folder

__all__ = [
    "BUDGET_FACTOR",
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
    "RealTask",
    "run_capstone",
]

STRATEGIES: tuple[str, ...] = ("label-only", "attributes", "real-demos")
PIPELINES: tuple[str, ...] = ("hygiene", "hygiene+cllm", "hygiene+crossfit")
BUDGET_FACTOR = 2  # a strategy may make up to this many calls per row that must pass hygiene
DEMOS_PER_LABEL = 2
MAX_SPLITS = 5
MIN_ROWS_PER_LABEL = 4
N_RESAMPLES = 1000  # bootstrap resamples of the test rows behind every interval
TABLE_COLUMNS = (
    "generated",
    "kept",
    "well_formed",
    "oracle_agreement",
    "oracle_agreement_low",
    "oracle_agreement_high",
    "distinct_2",
    "self_bleu",
    "vendi",
    "tstr_accuracy",
    "tstr_accuracy_low",
    "tstr_accuracy_high",
    "tstr_macro_f1",
    "gain",
    "gain_low",
    "gain_high",
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
    small to give every label :data:`MIN_ROWS_PER_LABEL` rows (cross-fitting and training need them) or
    that does not split evenly over the labels (every strategy is balanced)."""
    _require_known("strategy", strategies, STRATEGIES)
    _require_known("pipeline", pipelines, PIPELINES)
    smallest = MIN_ROWS_PER_LABEL * len(labels)
    if isinstance(n, bool) or not isinstance(n, int) or n < smallest or n % len(labels):
        raise ValueError(
            f"n={n!r} must be a multiple of the {len(labels)} labels and at least {smallest}: each label needs "
            f"at least {MIN_ROWS_PER_LABEL} rows to cross-fit and train on, the same number for every label"
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
) -> Attrition:
    """Generate with one of :data:`STRATEGIES` until ``n`` rows (half per label) pass the hygiene filters, within
    ``BUDGET_FACTOR * n`` calls (row k of the plan seeded ``seed + k``): :class:`Attrition` with the ``kept`` rows,
    every generated row, the hygiene removals and the calls per draw. ``"real-demos"`` shows
    :data:`DEMOS_PER_LABEL` random rows per label of ``seed_pool``. The prompts are those of notebook 01 ((b) and
    (c)) and notebook 02 (the real-seed-demos arm). If every row of a draw fails, the :class:`GenerationError`
    names the strategy."""
    _require_known("strategy", [strategy], STRATEGIES)
    task = task or TaskSpec()
    budget = BUDGET_FACTOR * n
    if strategy == "real-demos":
        demos = select_demos(seed_pool, DEMOS_PER_LABEL, "random", labels=task.labels, seed=seed)
        prompts, labels, conditions = demo_prompts(model, task, demos, budget, seed=seed)
        options = {"parse": demo_parser(task), "method": "real-seed-demos"}
    else:
        attributes = ATTRIBUTES if strategy == "attributes" else None
        prompts, labels, conditions = build_prompts(task, budget, attributes=attributes, seed=seed)
        options = {"parse": strip_chatter, "method": "attributes" if attributes else "specified"}
    try:
        return generate_until(
            model, prompts, n, steps=_hygiene_steps(), labels=labels, conditions=conditions, seed=seed,
            progress=progress, **options,
        )  # fmt: skip
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
    rows: pd.DataFrame,
    kept: pd.DataFrame,
    *,
    oracle: TrainTestResult,
    test: pd.DataFrame,
    baseline: pd.DataFrame,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
) -> dict[str, float]:
    """One row of the capstone table for a generated set ``rows`` and what curation ``kept`` of it:
    sizes, the well-formed share (rows :func:`synthlab.curation.filters.drop_malformed` keeps, of all generated),
    oracle agreement (E1) with its Wilson interval, distinct-2 and self-BLEU (E4), Vendi (E5) and
    train-on-synthetic, test-on-real accuracy (with its interval over the test rows) and macro-F1 (E6), and the
    accuracy's ``gain`` over training on the real ``baseline`` rows (paired over the test rows). What cannot be
    measured on what was kept (no rows; one row for diversity; one label for training) is NaN, with a warning
    saying why."""
    row: dict[str, float] = dict.fromkeys(TABLE_COLUMNS, float("nan"))
    row |= {"generated": len(rows), "kept": len(kept), "well_formed": len(drop_malformed(rows)[0]) / len(rows)}
    if kept.empty:
        warnings.warn("curation kept no rows: nothing to measure; raise n or loosen the filters", stacklevel=2)
        return row
    agreement = oracle_agreement(oracle, kept)
    scored = agreement["n_scored"]
    low, high = wilson_interval(round(agreement["agreement"] * scored), scored)
    row |= {"oracle_agreement": agreement["agreement"], "oracle_agreement_low": low, "oracle_agreement_high": high}
    texts = kept["text"].tolist()
    if len(texts) > 1:
        row |= {"distinct_2": distinct_n(texts, 2), "self_bleu": self_bleu(texts), "vendi": vendi_score(texts)}
    counts = kept["label"].value_counts().to_dict()
    if len(counts) < 2:
        warnings.warn(
            f"curation kept one label only ({counts}): no classifier can be trained, so the TSTR "
            "columns are NaN; raise n or loosen the filters",
            stacklevel=2,
        )
        return row
    accuracy = tstr_estimate(kept, test, n_resamples=n_resamples, seed=seed)
    gain = tstr_difference(kept, baseline, test, n_resamples=n_resamples, seed=seed)
    macro_f1 = train_and_test(kept, test, seed=seed).macro_f1
    return row | accuracy.columns("tstr_accuracy") | {"tstr_macro_f1": macro_f1} | gain.columns("gain")


def run_capstone(
    model: BaseChatModel | None = None,
    *,
    n: int = 200,
    seed: int = 0,
    runs_dir: str | Path | None = "runs",
    strategies: Sequence[str] = STRATEGIES,
    pipelines: Sequence[str] = PIPELINES,
    real: RealTask | None = None,
    progress: bool = True,
) -> CapstoneResult:
    """The whole workflow: generate with ``model`` (default: the embedded model, ``temperature=0.9,
    max_tokens=80``) until ``n`` rows per strategy pass hygiene, curate each set with every pipeline, measure,
    compare the best curated set with the real baselines and the real learning curve, plot, and write the run
    folder into ``runs_dir`` (``None``: write nothing). ``real`` defaults to :func:`load_real_task`."""
    task = TaskSpec()
    check_settings(n, strategies, pipelines, task.labels)
    model = model or get_chat_model("local", temperature=0.9, max_tokens=80)
    real = real or load_real_task()
    oracle = train_and_test(real.train, real.test, seed=seed)
    attrition = {
        strategy: generate_strategy(
            model, strategy, n, seed_pool=real.seed_pool, task=task, seed=seed, progress=progress
        )
        for strategy in strategies
    }
    curated, rows = {}, {}
    for strategy, made in attrition.items():
        for pipeline in pipelines:
            kept, removed = curate(made.kept, pipeline, reference=real.seed_pool, seed=seed)
            curated[strategy, pipeline] = kept, pd.concat([made.removed, removed])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                rows[strategy, pipeline] = measure(
                    made.rows, kept, oracle=oracle, test=real.test, baseline=real.seed_pool, seed=seed
                )
            for warning in caught:
                warnings.warn(f"{strategy} / {pipeline}: {warning.message}", UserWarning, stacklevel=2)
    table = pd.DataFrame.from_dict(rows, orient="index")[list(TABLE_COLUMNS)]
    table.index.names = ["strategy", "pipeline"]
    curve = real_curve(real.train, real.test, seed=seed)
    # best by macro-F1: a set that taught the classifier to name the commoner label for everything scores the
    # majority class's accuracy, not a good macro-F1
    best = table["tstr_macro_f1"].idxmax() if table["tstr_macro_f1"].notna().any() else None
    sets = {}
    if best is not None:
        best_rows = curated[best][0]
        sets = {f"best synthetic ({' / '.join(best)})": best_rows,
                "real few-shot + best synthetic": pd.concat([real.seed_pool, best_rows])}  # fmt: skip
    first = next(iter(attrition.values())).rows
    settings = {
        "n": n,
        "seed": seed,
        "budget": BUDGET_FACTOR * n,
        "strategies": list(strategies),
        "pipelines": list(pipelines),
        "model": str(first["model"].iloc[0]),
        "model_params": {key: first["params"].iloc[0].get(key) for key in ("temperature", "max_tokens")},
        "row_seeds": [seed, seed + max(len(made.rows) for made in attrition.values()) - 1],
        "demo_ids": attrition["real-demos"].rows["params"].iloc[0]["demo_ids"] if "real-demos" in attrition else None,
        "n_resamples": N_RESAMPLES,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }
    baselines = real_baselines(real.train, real.seed_pool, real.test, seed=seed, n_resamples=N_RESAMPLES)
    headline_table = headline(sets, real.seed_pool, real.test, curve, seed=seed, n_resamples=N_RESAMPLES)
    figure = plot_capstone(table, baselines, curve, headline_table)
    plt.close(figure)  # kept for saving and for result.figure, not shown again by notebooks
    result = CapstoneResult(
        table=table,
        baselines=baselines,
        headline=headline_table,
        curve=curve,
        generated={strategy: made.rows for strategy, made in attrition.items()},
        attrition={strategy: made.table for strategy, made in attrition.items()},
        curated=curated,
        figure=figure,
        oracle=oracle,
        settings=settings,
    )
    if runs_dir is not None:
        write_run_folder(result, runs_dir)
    return result
