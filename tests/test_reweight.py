import matplotlib
import numpy as np
import pandas as pd
import pytest

from synthlab.core.classifiers import train_and_test
from synthlab.curation.noise import plant_label_noise
from synthlab.curation.reweight import (
    count_naive_bayes,
    effective_size,
    noise_robust_weights,
    plot_reweighting_history,
    plot_weight_distributions,
    robust_weights,
    weight_separation,
)

matplotlib.use("Agg")


def _frame(n: int = 80) -> pd.DataFrame:
    words = {"positive": "good great fine lovely", "negative": "bad awful poor dull"}
    labels = ["positive", "negative"] * (n // 2)
    return pd.DataFrame(
        {"text": [f"{words[y]} film number{i}" for i, y in enumerate(labels)], "label": labels},
        index=range(100, 100 + n),
    )


def test_robust_weights_are_exp_of_minus_loss_scaled_to_mean_one():
    weights = robust_weights([0.1, 0.1, 2.0])
    assert weights.tolist() == pytest.approx(np.exp([0.0, 0.0, -1.9]) / np.exp([0.0, 0.0, -1.9]).mean())
    assert weights.mean() == pytest.approx(1.0)
    sharper = robust_weights([0.1, 0.1, 2.0], temperature=0.5)
    assert sharper.iloc[2] < weights.iloc[2]


def test_robust_weights_keep_each_label_at_mean_one_and_the_index():
    loss = pd.Series([0.1, 0.5, 2.0, 0.3], index=[7, 8, 9, 10])
    weights = robust_weights(loss, ["a", "a", "b", "b"])
    assert weights.index.equals(loss.index)
    assert weights.groupby(["a", "a", "b", "b"]).mean().tolist() == pytest.approx([1.0, 1.0])


def test_robust_weights_never_underflow_to_all_zero():
    weights = robust_weights([500.0, 600.0, 700.0], temperature=0.01)
    assert np.isfinite(weights).all() and weights.sum() == pytest.approx(3.0)


@pytest.mark.parametrize(
    "loss, kwargs, message",
    [
        ([], {}, "empty"),
        ([0.1, float("nan")], {}, "finite"),
        ([0.1, -1.0], {}, "non-negative"),
        ([0.1, 0.2], {"temperature": 0.0}, "temperature"),
        ([0.1, 0.2], {"labels": ["a"]}, "one per row"),
    ],
)
def test_robust_weights_reject_bad_input(loss, kwargs, message):
    with pytest.raises(ValueError, match=message):
        robust_weights(loss, **kwargs)


def test_weight_separation_and_effective_size():
    report = weight_separation([2.0, 2.0, 0.0, 0.0], [False, False, True, True])
    assert report == {
        "mean_weight_clean": 2.0,
        "mean_weight_noisy": 0.0,
        "weight_gap": 2.0,
        "weight_auc": 1.0,
    }
    assert effective_size([1.0] * 10) == pytest.approx(10)
    assert effective_size([1.0, 0.0, 0.0, 0.0]) == pytest.approx(1)
    with pytest.raises(ValueError, match="some rows noisy and some clean"):
        weight_separation([1.0, 1.0], [True, True])
    with pytest.raises(ValueError, match="one of each per row"):
        weight_separation([1.0], [True, False])


def test_noise_robust_weights_down_weight_planted_noise():
    noisy = plant_label_noise(_frame(), 0.2, seed=0)
    result = noise_robust_weights(noisy, n_iter=3, n_splits=4, test=_frame(), progress=False)
    weights, history = result.weights, result.history
    assert weights.index.equals(noisy.index) and (weights >= 0).all() and weights.mean() == pytest.approx(1.0)
    assert weights.groupby(noisy["label"]).mean().tolist() == pytest.approx([1.0, 1.0])
    assert history["iteration"].tolist() == [0, 1, 2, 3]
    assert history.loc[0, "weight_auc"] == 0.5 and history.loc[0, "effective_size"] == pytest.approx(80)
    assert history["weight_auc"].iloc[-1] > 0.9
    assert history["accuracy"].between(0, 1).all()
    assert weights.equals(noise_robust_weights(noisy, n_iter=3, n_splits=4, progress=False).weights)


def test_weights_help_a_naive_bayes_trained_on_noisy_labels():
    noisy = plant_label_noise(_frame(200), 0.35, seed=1)
    weights = noise_robust_weights(noisy, n_iter=3, temperature=0.3, progress=False).weights
    uniform = train_and_test(noisy, _frame(), classifier=count_naive_bayes()).accuracy
    weighted = train_and_test(noisy, _frame(), classifier=count_naive_bayes(), sample_weight=weights).accuracy
    assert weighted >= uniform


def test_history_without_truth_or_test_has_only_weight_columns():
    history = noise_robust_weights(_frame(), n_iter=1, progress=False, classifier="tfidf-logreg").history
    assert list(history.columns) == ["iteration", "effective_size", "weight_change"]


def test_concentrated_weights_warn():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 6, size=(80, 2))  # every row its own mix of good and bad words: distinct losses
    mixed = pd.DataFrame(
        {
            "text": [" ".join(["good"] * g + ["bad"] * b + ["film"]) for g, b in counts],
            "label": ["positive", "negative"] * 40,
        }
    )
    with pytest.warns(UserWarning, match="concentrate"):
        noise_robust_weights(mixed, n_iter=1, temperature=0.001, smoothing=0.0, progress=False)


@pytest.mark.parametrize(
    "frame, kwargs, message",
    [
        (_frame().iloc[:0], {}, "no rows"),
        (_frame().drop(columns="label"), {}, "label"),
        (_frame().assign(text=[None] + ["fine film"] * 79), {}, "not a string"),
        (_frame().assign(label="positive"), {}, "two labels"),
        (_frame(), {"n_iter": 0}, "n_iter"),
        (_frame(), {"smoothing": 1.0}, "smoothing"),
        (_frame(), {"temperature": -1.0}, "temperature"),
        (_frame(), {"test": _frame().iloc[:0]}, "no rows"),
    ],
)
def test_noise_robust_weights_reject_bad_input(frame, kwargs, message):
    with pytest.raises((ValueError, KeyError), match=message):
        noise_robust_weights(frame, progress=False, **kwargs)


def test_plots_have_labelled_axes():
    noisy = plant_label_noise(_frame(), 0.2, seed=0)
    result = noise_robust_weights(noisy, n_iter=2, n_splits=4, test=_frame(), progress=False)
    histogram = plot_weight_distributions(result.weights, noisy["is_noisy"])
    lines = plot_reweighting_history(result.history, references={"clean ceiling": 1.0, "hard filter": 0.9})
    for figure in (histogram, lines):
        axes = figure.axes[0]
        assert axes.get_xlabel() and axes.get_ylabel() and axes.get_title()
    assert len(lines.axes[0].get_legend().get_texts()) == 3
    with pytest.raises(KeyError, match="test="):
        plot_reweighting_history(result.history.drop(columns="accuracy"))
