"""Intervals (synthlab.evaluation.uncertainty) against cases with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from synthlab.core.classifiers import train_and_test
from synthlab.evaluation.human import win_rate
from synthlab.evaluation.uncertainty import (
    METRICS,
    Estimate,
    bootstrap,
    bootstrap_difference,
    over_seeds,
    proportion,
    resampled_scores,
    tstr_difference,
    tstr_estimate,
    wilson_interval,
)


def test_wilson_interval_matches_the_closed_form_and_the_win_rate():
    low, high = wilson_interval(30, 40)
    z = stats.norm.ppf(0.975)
    centre = (0.75 + z * z / 80) / (1 + z * z / 40)
    half = z / (1 + z * z / 40) * math.sqrt(0.75 * 0.25 / 40 + z * z / 6400)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    rate = win_rate(["A"] * 30 + ["B"] * 10)
    assert (rate.low, rate.high) == pytest.approx((low, high))
    assert wilson_interval(0, 10)[0] == 0 and wilson_interval(10, 10)[1] == 1


def test_a_proportion_counts_scored_units_and_refuses_what_is_not_an_outcome():
    estimate = proportion(pd.Series([True, False, None, True]))
    assert estimate.n == 3 and estimate.value == pytest.approx(2 / 3) and estimate.low < 2 / 3 < estimate.high
    with pytest.raises(TypeError, match="booleans"):
        proportion(["positive", "negative"])
    with pytest.raises(ValueError, match="empty"):
        proportion([])


def test_the_bootstrap_of_a_normal_mean_is_the_textbook_interval():
    values = np.random.default_rng(1).normal(5.0, 2.0, 400)
    estimate = bootstrap(values, n_resamples=4000, seed=0)
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert estimate.value == pytest.approx(values.mean())
    assert estimate.low == pytest.approx(values.mean() - half, abs=0.1 * half)
    assert estimate.high == pytest.approx(values.mean() + half, abs=0.1 * half)
    assert bootstrap(values, seed=3) == bootstrap(values, seed=3), "seeded: the same interval again"


def test_bootstrap_intervals_of_a_binomial_proportion_cover_it_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = [
        (estimate := bootstrap(rng.random(100) < 0.3, n_resamples=500, seed=k)).low <= 0.3 <= estimate.high
        for k in range(300)
    ]
    assert 0.90 <= np.mean(covered) <= 0.99


def test_pairing_removes_the_shared_variation_of_the_units():
    rng = np.random.default_rng(2)
    baseline = rng.normal(0.6, 0.4, 200)
    arm = baseline + 0.05 + rng.normal(0, 0.01, 200)
    paired = bootstrap_difference(arm, baseline, paired=True, seed=0)
    unpaired = bootstrap_difference(arm, baseline, paired=False, seed=0)
    assert paired.value == pytest.approx(unpaired.value) == pytest.approx(np.mean(arm - baseline))
    assert paired.excludes(0) and not unpaired.excludes(0)
    assert paired.low < 0.05 < paired.high and paired.width < unpaired.width / 10
    with pytest.raises(ValueError, match="one value per shared unit"):
        bootstrap_difference(arm, baseline[:-1], paired=True)


def _reviews(n: int, noise: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = {"positive": ["great", "moving", "superb", "fun"], "negative": ["dull", "awful", "boring", "weak"]}
    rows = []
    for k in range(n):
        label = ("positive", "negative")[k % 2]
        text = " ".join(rng.choice(words[label], 2)) + " " + " ".join(rng.choice(["film", "plot", "cast"], 2))
        shown = label if rng.random() >= noise else ("negative" if label == "positive" else "positive")
        rows.append({"text": text, "label": shown})
    return pd.DataFrame(rows)


def test_train_on_synthetic_intervals_hold_the_train_and_test_score():
    train, test = _reviews(80, 0.2, 0), _reviews(200, 0.0, 1)
    plain = train_and_test(train, test, seed=0)
    for resample in ("test", "train"):
        estimate = tstr_estimate(train, test, resample=resample, n_resamples=100, seed=0)
        assert estimate.value == pytest.approx(plain.accuracy)
        assert 0 <= estimate.low <= estimate.value <= estimate.high <= 1
    assert tstr_estimate(train, test, metric="macro_f1", n_resamples=200).value == pytest.approx(plain.macro_f1)
    with pytest.raises(ValueError, match="one label only"):
        tstr_estimate(train[train["label"] == "positive"], test)
    with pytest.raises(ValueError, match="metric must be one of"):
        tstr_estimate(train, test, metric="auc")


def test_a_difference_of_identical_sets_is_zero_and_flipped_labels_are_worse():
    clean, flipped, test = _reviews(80, 0.0, 0), _reviews(80, 0.45, 0), _reviews(200, 0.0, 1)
    same = tstr_difference(clean, clean, test, n_resamples=200)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    worse = tstr_difference(flipped, clean, test, n_resamples=200)
    assert worse.value < 0 and worse.excludes(0), worse
    refit = tstr_difference(flipped, clean, test, resample="train", n_resamples=100)
    assert refit.value == worse.value and refit.n == 80


def test_over_seeds_gives_the_t_interval_of_the_mean():
    runs = over_seeds(lambda seed: {"score": float(np.random.default_rng(seed).normal(0.5, 0.1))}, [0, 1, 2, 3, 4])
    values = runs.table["score"]
    half = stats.t.ppf(0.975, 4) * values.std(ddof=1) / math.sqrt(5)
    row = runs.summary.loc["score"]
    assert (row["low"], row["high"]) == pytest.approx((values.mean() - half, values.mean() + half))
    assert row["n_seeds"] == 5 and row["min"] == values.min() and list(runs.table.index) == [0, 1, 2, 3, 4]
    assert isinstance(runs.estimate("score"), Estimate) and runs.estimate("score").value == pytest.approx(values.mean())
    assert over_seeds(lambda seed: seed * 1.0, [1, 2]).summary.loc["value", "mean"] == 1.5
    with pytest.raises(ValueError, match="at least 2 distinct seeds"):
        over_seeds(lambda seed: 1.0, [0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bootstrap([1.0, 2.0], confidence=95), "confidence must be between 0 and 1"),
        (lambda: bootstrap([1.0, 2.0], n_resamples=10), "n_resamples must be an integer >= 100"),
        (lambda: bootstrap([1.0]), "at least 2 values"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("metric", ["accuracy", "macro_f1"])
def test_resampled_scores_equal_sklearn_per_resample(metric):
    rng = np.random.default_rng(3)
    truth = rng.choice(["pos", "neg", "mixed"], 60)
    predicted = np.where(rng.random(60) < 0.6, truth, rng.choice(["pos", "neg"], 60))
    index = rng.integers(0, 60, (200, 60))
    index[0] = np.flatnonzero(truth == "pos")[0]  # one resample of a single label: sklearn's labels are what occurs
    fast = resampled_scores(truth, predicted, index, metric)
    slow = [METRICS[metric](truth[row], predicted[row]) for row in index]
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="metric must be one of"):
        resampled_scores(truth, predicted, index, "recall")


def test_an_estimate_as_three_columns():
    assert Estimate(0.5, 0.4, 0.6, 10, "x").columns("gain") == {"gain": 0.5, "gain_low": 0.4, "gain_high": 0.6}
