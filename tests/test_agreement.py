"""Rater agreement (Cohen's kappa, percent agreement, aligning two raters' files) and win rates with a CI."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from synthlab.evaluation.human import (
    WinRate,
    align_ratings,
    cohen_kappa,
    percent_agreement,
    win_rate,
)


def test_kappa_of_a_worked_example():
    # p_o = 3/4; each rater says A half the time or 3/4 of the time: p_e = 1/2 * 3/4 + 1/2 * 1/4 = 1/2
    assert cohen_kappa(["A", "A", "B", "B"], ["A", "A", "B", "A"]) == pytest.approx(0.5)
    assert percent_agreement(["A", "A", "B", "B"], ["A", "A", "B", "A"]) == 0.75


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_matches_scikit_learn(weights):
    rng = random.Random(0)
    for _ in range(5):
        a = [rng.choice("ABCD") for _ in range(40)]
        b = [x if rng.random() < 0.6 else rng.choice("ABCD") for x in a]
        expected = cohen_kappa_score(a, b, labels=list("ABCD"), weights=weights)
        assert cohen_kappa(a, b, labels="ABCD", weights=weights) == pytest.approx(expected)


def test_kappa_is_one_for_identical_ratings_and_below_zero_for_systematic_disagreement():
    assert cohen_kappa(list("ABCDAB"), list("ABCDAB")) == pytest.approx(1.0)
    assert cohen_kappa(list("ABAB"), list("BABA")) == pytest.approx(-1.0)


def test_degenerate_kappa_when_both_raters_use_one_category():
    assert cohen_kappa(["A"] * 5, ["A"] * 5) == 1.0  # agree on every item: p_e = 1, defined as 1
    assert cohen_kappa(["A"] * 5, ["B"] * 5) == 0.0  # never agree, and chance would not either


def test_weighted_kappa_gives_credit_to_near_misses():
    a, b = list("AABBCCDD"), list("ABBCCDDD")  # every disagreement is one step on the scale
    assert cohen_kappa(a, b, labels="ABCD", weights="quadratic") > cohen_kappa(a, b, labels="ABCD")


@pytest.mark.parametrize(
    "a, b, error, match",
    [
        (["A", "B"], ["A"], ValueError, "2 and 1 ratings"),
        ([], [], ValueError, "0 items"),
        ("AB", "AB", TypeError, "one string"),
        (["A", None], ["A", "B"], ValueError, "missing rating"),
        (["A", float("nan")], ["A", "B"], ValueError, "missing rating"),
    ],
)
def test_kappa_rejects_bad_input_clearly(a, b, error, match):
    with pytest.raises(error, match=match):
        cohen_kappa(a, b)


def test_kappa_rejects_ratings_outside_labels_and_bad_weights():
    with pytest.raises(ValueError, match=r"\['E'\] are not among labels"):
        cohen_kappa(["A", "E"], ["A", "B"], labels="ABCD")
    with pytest.raises(ValueError, match="needs labels="):
        cohen_kappa(["A", "B"], ["A", "B"], weights="linear")
    with pytest.raises(ValueError, match="weights must be"):
        cohen_kappa(["A", "B"], ["A", "B"], labels="AB", weights="cubic")


def ratings(pairs: dict) -> pd.DataFrame:
    return pd.DataFrame({"id": list(pairs), "decision": list(pairs.values())})


def test_align_ratings_joins_on_the_item_id_whatever_the_order():
    first = ratings({"x1": "A", "x2": "B", "x3": "C"})
    second = ratings({"x3": "C", "x1": "B", "x2": "B"})
    joined = align_ratings(first, second, names=("ann", "bob"))
    assert joined.to_dict("list") == {
        "id": ["x1", "x2", "x3"],
        "ann": ["A", "B", "C"],
        "bob": ["B", "B", "C"],
    }


def test_align_ratings_warns_about_items_only_one_rater_rated_and_drops_skips():
    first = ratings({"x1": "A", "x2": "B", "x3": "skip", "x5": "C"})
    second = ratings({"x1": "A", "x2": "B", "x3": "A", "x4": "D"})
    with pytest.warns(UserWarning, match=r"1 item\(s\) were rated by rater_1 only.*2 by rater_2 only.*2 items both"):
        joined = align_ratings(first, second)
    assert joined["id"].tolist() == ["x1", "x2"]


def test_align_ratings_refuses_an_item_rated_twice_and_files_with_no_item_in_common():
    twice = pd.DataFrame({"id": ["x1", "x1"], "decision": ["A", "B"]})
    with pytest.raises(ValueError, match=r"rater_1 rated 1 item\(s\) more than once.*drop_duplicates"):
        align_ratings(twice, ratings({"x1": "A"}))
    with pytest.raises(ValueError, match="no item in common.*same dataset"):
        align_ratings(ratings({"x1": "A"}), ratings({"y1": "A"}))
    with pytest.raises(KeyError, match="rating_col 'decision'"):
        align_ratings(ratings({"x1": "A"}), pd.DataFrame({"id": ["x1"], "label": ["A"]}))


def test_win_rate_counts_ties_half_and_gives_the_wilson_interval():
    result = win_rate(["A"] * 7 + ["B"] * 3)
    assert isinstance(result, WinRate)
    assert (result.wins, result.losses, result.ties, result.n) == (7, 3, 0, 10)
    assert result.rate == 0.7
    assert (result.low, result.high) == pytest.approx((0.3968, 0.8922), abs=1e-4)  # Wilson's textbook values
    assert win_rate(["A", "B", "tie", "tie"]).rate == 0.5
    assert "wilson" in result.method


def test_win_rate_interval_narrows_with_more_comparisons_and_stays_in_bounds():
    small, large = win_rate(["A", "B"] * 5), win_rate(["A", "B"] * 500)
    assert large.high - large.low < small.high - small.low
    assert small.low < 0.5 < small.high
    perfect = win_rate(["A"] * 4)
    assert perfect.rate == 1.0 and perfect.high == 1.0 and 0 < perfect.low < 1
    at_95, at_99 = win_rate(["A"] * 7 + ["B"] * 3), win_rate(["A"] * 7 + ["B"] * 3, confidence=0.99)
    assert at_99.low < at_95.low and at_99.high > at_95.high and at_99.confidence == 0.99


@pytest.mark.parametrize(
    "outcomes, error, match",
    [
        ([], ValueError, "outcomes is empty"),
        (["A", "left"], ValueError, r"got \['left'\]"),
        ("AB", TypeError, "one string"),
    ],
)
def test_win_rate_rejects_bad_outcomes_clearly(outcomes, error, match):
    with pytest.raises(error, match=match):
        win_rate(outcomes)


def test_win_rate_rejects_a_confidence_outside_zero_one():
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        win_rate(["A"], confidence=95)
