"""Generate until enough rows pass (synthlab.generation.attrition), on a fake model whose rows fail by seed."""

from __future__ import annotations

from functools import partial

import pandas as pd
import pytest

from synthlab.core.steps import split_by_reason
from synthlab.curation.filters import drop_malformed
from synthlab.generation.attrition import generate_until
from synthlab.llm.generate import generate
from tests.fake_models import EchoSeedModel

LABELS = ["positive", "negative"] * 50
PROMPTS = [f"a {label} review" for label in LABELS]


def drop_seeds(divisor: int, label: str | None = None):
    """A curation step that removes the rows whose seed is a multiple of ``divisor`` (of one label, if given)."""

    def step(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        failing = (frame["seed"] % divisor == 0) & (frame["label"] == label if label else True)
        return split_by_reason(frame, [f"seed {s} fails" if bad else None for s, bad in zip(frame["seed"], failing)],
                               step=f"drop seeds divisible by {divisor}")  # fmt: skip

    return step


def test_it_draws_until_n_rows_of_each_label_pass_with_the_seeds_of_one_big_call():
    model = EchoSeedModel()
    result = generate_until(model, PROMPTS, 20, steps=[drop_malformed, drop_seeds(3)], labels=LABELS, progress=False)
    assert result.reached and len(result.kept) == 20
    assert result.kept["label"].value_counts().to_dict() == {"positive": 10, "negative": 10}
    assert not (result.kept["seed"] % 3 == 0).any() and list(result.kept["seed"]) == sorted(result.kept["seed"])
    assert result.table["calls"].iloc[0] == 20 and result.table["calls"].is_monotonic_increasing
    assert result.table["still_needed"].iloc[-1] == 0 and len(result.table) >= 2
    calls = result.table["calls"].iloc[-1]
    assert model.calls == calls == len(result.rows) and calls < len(PROMPTS), "it stops when enough passed"
    whole = generate(EchoSeedModel(), PROMPTS[:calls], labels=LABELS[:calls], progress=False)
    assert result.rows["text"].tolist() == whole["text"].tolist(), "row k has seed k, however the draws fall"
    assert set(result.removed["seed"]) == {s for s in range(calls) if s % 3 == 0}


def test_a_label_that_fails_more_gets_more_calls_and_the_budget_bounds_them():
    # every positive row has an even seed, so none passes: the budget (the whole plan) is spent, with a warning
    with pytest.warns(UserWarning, match="only 10 of 20 rows passed within the budget of 100 calls"):
        result = generate_until(
            EchoSeedModel(), PROMPTS, 20, steps=[drop_seeds(2, "positive")], labels=LABELS, progress=False
        )
    assert not result.reached and result.table["calls"].iloc[-1] == len(PROMPTS)
    assert (result.kept["label"] == "negative").all() and len(result.kept) == 10
    assert result.table["still_needed"].iloc[-1] == 10


def test_failed_calls_are_kept_as_removed_rows_and_unbalanced_counts_rows():
    prompts = ["FAIL"] * 4 + [f"row {k}" for k in range(20)]
    steps = [partial(drop_malformed, label_col=None)]
    with pytest.warns(UserWarning, match="removed all 4 rows"):  # the first draw: all four calls failed
        result = generate_until(EchoSeedModel(), prompts, 4, steps=steps, balanced=False, progress=False)
    assert result.reached and len(result.kept) == 4 and result.kept["text"].str.startswith("row").all()
    assert len(result.removed) == 4 and result.removed["error"].notna().all(), "the failed rows, with their errors"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n": 0}, ValueError, "between 1 and the budget"),
        ({"n": 101}, ValueError, "between 1 and the budget"),
        ({"n": 7}, ValueError, "does not split evenly"),
        ({"n": 10, "labels": LABELS[:5]}, ValueError, "labels has 5 items"),
        ({"n": 10, "steps": []}, ValueError, "steps is empty"),
        ({"n": 10, "checkpoint": "x.jsonl"}, TypeError, "no checkpoint"),
        ({"n": 10, "labels": None}, ValueError, "balanced=True needs labels"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, message):
    arguments = {"steps": [drop_malformed], "labels": LABELS, **kwargs}
    with pytest.raises(error, match=message):
        generate_until(EchoSeedModel(), PROMPTS, **arguments)
