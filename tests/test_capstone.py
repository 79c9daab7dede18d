"""The capstone workflow end to end on a fake model (fast), and its clear errors on bad input."""

from __future__ import annotations

import functools
import json
import random
import re
from typing import Any

import pandas as pd
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.core.classifiers import train_and_test
from synthlab.core.records import load_jsonl
from synthlab.core.steps import run_filters
from synthlab.llm.generate import GenerationError
from synthlab.workflows.capstone import (
    PIPELINES,
    STRATEGIES,
    RealTask,
    _hygiene_steps,
    check_settings,
    curate,
    generate_strategy,
    load_real_task,
    measure,
    run_capstone,
)
from tests.fake_models import EchoSeedModel

GOOD = ["wonderful", "brilliant", "moving", "delightful", "superb", "charming", "gripping", "funny"]
BAD = ["dull", "tedious", "boring", "clumsy", "awful", "lifeless", "messy", "predictable"]
THINGS = ["acting", "plot", "score", "script", "ending", "pacing", "cast", "visuals", "dialogue", "direction"]


class ReviewModel(BaseChatModel):
    """Writes a short review whose words follow the label asked for ("whose sentiment is positive"),
    varied by the call's seed; one row in ``flip_every`` gets the other label's words (label noise)."""

    flip_every: int = 5

    @property
    def _llm_type(self) -> str:
        return "fake-review"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        seed = int(kwargs.get("seed") or 0)
        positive = re.search(r"whose sentiment is positive", str(messages[-1].content)) is not None
        if seed % self.flip_every == 0:
            positive = not positive
        rng = random.Random(seed)
        words = rng.sample(GOOD if positive else BAD, 2)
        things = rng.sample(THINGS, 2)
        verdict = "loved" if positive else "hated"
        text = f"I {verdict} it: the {things[0]} is {words[0]} and the {things[1]} is {words[1]} ({seed})."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


@functools.lru_cache(maxsize=1)
def small_real() -> RealTask:
    """A small sample of the real splits (the full seed pool), loaded once: fast to train and test on."""
    real = load_real_task()
    return RealTask(real.train.sample(600, random_state=0), real.seed_pool, real.test.sample(300, random_state=0))


@pytest.fixture(scope="module")
def real() -> RealTask:
    return small_real()


@pytest.fixture(scope="module")
def result(real, tmp_path_factory):
    return run_capstone(ReviewModel(), n=16, runs_dir=tmp_path_factory.mktemp("runs"), real=real, progress=False)


def test_table_has_one_row_per_strategy_and_pipeline(result):
    table = result.table
    assert list(table.index) == [(s, p) for s in STRATEGIES for p in PIPELINES]
    assert table["generated"].between(16, 32).all() and table["kept"].le(table["generated"]).all()
    assert table.xs("hygiene", level="pipeline")["kept"].eq(16).all()  # every strategy at the same kept rows
    shares = ["well_formed", "oracle_agreement", "distinct_2", "self_bleu", "tstr_accuracy", "tstr_macro_f1"]
    assert table[shares].stack().between(0, 1).all()
    assert ((table["vendi"] >= 1) & (table["vendi"] <= table["kept"] + 1e-9)).all()
    assert list(result.baselines.index) == ["real few-shot", "real full", "majority class"]


def test_every_interval_holds_its_estimate(result):
    for name in ("oracle_agreement", "tstr_accuracy", "gain"):
        low, value, high = (result.table[f"{name}{end}"] for end in ("_low", "", "_high"))
        assert (low <= value + 1e-12).all() and (value <= high + 1e-12).all() and (high - low > 0).all(), name
    for frame, name in ((result.headline, "accuracy"), (result.headline, "gain"), (result.baselines, "accuracy")):
        assert (frame[f"{name}_low"] <= frame[name] + 1e-12).all() and (
            frame[name] <= frame[f"{name}_high"] + 1e-12
        ).all()


def test_headline_compares_the_best_set_with_the_seed_pool(result, real):
    headline = result.headline
    best = result.table["tstr_macro_f1"].idxmax()
    assert list(headline.index) == [
        "real few-shot",
        f"best synthetic ({' / '.join(best)})",
        "real few-shot + best synthetic",
    ]
    assert headline.loc["real few-shot", "gain"] == 0 and headline.loc["real few-shot", "n_train"] == 32
    assert headline.iloc[1]["accuracy"] == pytest.approx(result.table.loc[best, "tstr_accuracy"])
    assert headline.iloc[2]["n_train"] == 32 + result.table.loc[best, "kept"]
    worth = headline["worth_real_rows"]
    assert ((worth == 0) | (worth >= result.curve.index.min())).all()
    assert (headline["worth_low"] <= worth).all() and (worth <= headline["worth_high"]).all()


def test_every_generated_row_is_kept_removed_or_surplus(result):
    for (strategy, pipeline), (kept, removed) in result.curated.items():
        generated = result.generated[strategy]
        assert set(kept["id"]).isdisjoint(removed["id"])
        assert removed["reason"].notna().all() and removed["step"].notna().all()
        assert len(kept) == result.table.loc[(strategy, pipeline), "kept"]
        hygiene_kept, hygiene_removed = result.curated[strategy, "hygiene"]
        surplus = generated[~generated["id"].isin(set(hygiene_kept["id"]) | set(hygiene_removed["id"]))]
        assert len(hygiene_kept) + len(hygiene_removed) + len(surplus) == len(generated)
        assert run_filters(surplus, _hygiene_steps())[1].empty if len(surplus) else True  # passed, not needed
    calls = {strategy: int(table["calls"].iloc[-1]) for strategy, table in result.attrition.items()}
    assert calls == result.table.xs("hygiene", level="pipeline")["generated"].to_dict()


def test_filters_after_hygiene_remove_rows_only_after_hygiene(result):
    for strategy in STRATEGIES:
        hygiene = set(result.curated[strategy, "hygiene"][0]["id"])
        for pipeline in ("hygiene+cllm", "hygiene+crossfit"):
            assert set(result.curated[strategy, pipeline][0]["id"]) <= hygiene
    crossfit_log = result.curated["label-only", "hygiene+crossfit"][1]
    assert (crossfit_log["step"] == "classifier_disagreement").any()


def test_crossfit_pipeline_removes_the_flipped_rows(real):
    rows = generate_strategy(ReviewModel(), "label-only", 40, seed_pool=real.seed_pool, progress=False).kept
    kept, removed = curate(rows, "hygiene+crossfit", reference=real.seed_pool)
    flipped = rows["seed"] % ReviewModel().flip_every == 0  # the fake model flips one row in five
    assert set(removed["id"]) == set(rows.loc[flipped, "id"])
    assert removed["reason"].str.startswith("cross-fitted classifier says").all()


def test_real_demos_show_seed_pool_rows(result, real):
    params = result.generated["real-demos"]["params"].iloc[0]
    assert len(params["demo_ids"]) == 4 and set(params["demo_ids"]) <= set(real.seed_pool.index)
    assert result.settings["demo_ids"] == params["demo_ids"]


def test_run_folder_holds_data_logs_metrics_table_figure_and_report(result):
    run_dir = result.run_dir
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["settings"]["n"] == 16 and metrics["settings"]["seed"] == 0
    assert metrics["settings"]["row_seeds"] == [0, max(len(rows) for rows in result.generated.values()) - 1]
    assert len(metrics["table"]) == len(STRATEGIES) * len(PIPELINES)
    assert list(metrics["headline"]) == list(result.headline.index) and set(metrics["attrition"]) == set(STRATEGIES)
    for strategy in STRATEGIES:
        assert len(load_jsonl(run_dir / "generated" / f"{strategy}.jsonl")) == len(result.generated[strategy])
        for pipeline in PIPELINES:
            kept = load_jsonl(run_dir / "curated" / strategy / f"{pipeline}.jsonl")
            removed = load_jsonl(run_dir / "curated" / strategy / f"{pipeline}.removed.jsonl")
            assert len(kept) == result.table.loc[(strategy, pipeline), "kept"]
            assert sum(metrics["removed_by_step"][f"{strategy} / {pipeline}"].values()) == len(removed)
    table = pd.read_csv(run_dir / "table.csv", index_col=[0, 1])
    assert table.shape == result.table.shape
    assert (run_dir / "capstone.png").stat().st_size > 5000
    report = (run_dir / "report.md").read_text()
    assert "capstone.png" in report and "real full" in report and "hygiene+crossfit" in report
    assert "## Headline" in report and "real few-shot + best synthetic" in report and "real rows" in report


def test_same_seed_same_table(real, result):
    again = run_capstone(ReviewModel(), n=16, runs_dir=None, real=real, progress=False)
    pd.testing.assert_frame_equal(again.table, result.table)
    pd.testing.assert_frame_equal(again.headline, result.headline)
    assert again.run_dir is None


def test_subsets_of_strategies_and_pipelines(real):
    small = run_capstone(
        ReviewModel(),
        n=8,
        strategies=["label-only"],
        pipelines=["hygiene"],
        runs_dir=None,
        real=real,
        progress=False,
    )
    assert list(small.table.index) == [("label-only", "hygiene")]


@pytest.mark.parametrize("n", [1, 7, 0, 2.5, True, 9])
def test_too_small_or_uneven_n_is_refused_before_any_call(n, real):
    model = EchoSeedModel()
    with pytest.raises(ValueError, match=r"must be a multiple of the 2 labels and at least 8"):
        run_capstone(model, n=n, runs_dir=None, real=real, progress=False)
    assert model.calls == 0


@pytest.mark.parametrize("argument, name", [("strategies", "few-shot"), ("pipelines", "dedup")])
def test_unknown_names_are_refused(argument, name, real):
    with pytest.raises(ValueError, match=rf"unknown \w+ \['{name}'\]; use some of"):
        run_capstone(EchoSeedModel(), n=8, runs_dir=None, real=real, progress=False, **{argument: [name]})
    with pytest.raises(ValueError, match="non-empty list"):
        run_capstone(EchoSeedModel(), n=8, runs_dir=None, real=real, progress=False, **{argument: name})


def test_unknown_names_in_step_functions(real):
    with pytest.raises(ValueError, match="unknown strategy"):
        generate_strategy(EchoSeedModel(), "zero-shot", 8, seed_pool=real.seed_pool)
    rows = generate_strategy(ReviewModel(), "label-only", 8, seed_pool=real.seed_pool, progress=False).kept
    with pytest.raises(ValueError, match="unknown pipeline"):
        curate(rows, "hygiene+magic", reference=real.seed_pool)


def test_a_strategy_whose_every_row_fails_names_the_strategy(real):
    failing = ScriptedFailure()
    with pytest.raises(GenerationError, match="All 8 generations failed") as caught:
        run_capstone(failing, n=8, runs_dir=None, real=real, progress=False)
    assert any("strategy 'label-only'" in note for note in caught.value.__notes__)


def test_a_pipeline_that_leaves_one_label_says_so(real):
    one_sided = ReviewModel(flip_every=10**9)
    rows = generate_strategy(one_sided, "label-only", 8, seed_pool=real.seed_pool, progress=False).kept
    rows.loc[rows["label"] == "negative", "text"] = "Bad."  # every negative row is too short for hygiene
    with pytest.raises(ValueError, match="cross-fitting needs two labels"):
        curate(rows, "hygiene+crossfit", reference=real.seed_pool)


def test_what_cannot_be_measured_is_nan_with_a_warning(real):
    rows = generate_strategy(ReviewModel(), "label-only", 8, seed_pool=real.seed_pool, progress=False).kept
    rows["text"] = "Same review for every row, again and again."
    kept, removed = curate(rows, "hygiene", reference=real.seed_pool)
    assert len(kept) == 1 and len(removed) == 7
    oracle = train_and_test(real.train, real.test)
    options = {"oracle": oracle, "test": real.test, "baseline": real.seed_pool}
    with pytest.warns(UserWarning, match="kept one label only"):
        row = measure(rows, kept, **options)
    assert row["kept"] == 1 and row["oracle_agreement"] in (0.0, 1.0)
    assert all(pd.isna(row[column]) for column in ("distinct_2", "vendi", "tstr_accuracy", "tstr_macro_f1", "gain"))
    with pytest.warns(UserWarning, match="kept no rows"):
        assert pd.isna(measure(rows, kept.iloc[:0], **options)["oracle_agreement"])


def test_a_pipeline_leaving_one_label_is_reported_in_the_run(real):
    with pytest.warns(UserWarning, match=r"label-only / hygiene\+cllm: curation kept one label only"):
        result = run_capstone(ReviewModel(), n=8, strategies=["label-only"], runs_dir=None, real=real, progress=False)
    assert result.table.loc[("label-only", "hygiene+cllm"), ["tstr_accuracy"]].isna().all()
    assert result.table.loc[("label-only", "hygiene"), ["tstr_accuracy"]].notna().all()


def test_check_settings_accepts_the_defaults():
    check_settings(40, STRATEGIES, PIPELINES, ("positive", "negative"))


class ScriptedFailure(EchoSeedModel):
    """Fails on every call (every prompt 'contains FAIL')."""

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        raise RuntimeError("the backend is down")
