from __future__ import annotations

import random

import matplotlib
import nltk
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from synthlab.core.classifiers import (
    NltkNaiveBayes,
    TrainTestResult,
    stratified_sample,
    train_and_test,
)
from synthlab.evaluation.downstream import (
    compare_training_sets,
    learning_curve,
    oracle_agreement,
    plot_learning_curves,
)

matplotlib.use("Agg")

WORDS = {
    "sport": ["goal", "match", "team", "coach", "league", "score", "striker", "stadium"],
    "food": ["soup", "bread", "cheese", "recipe", "oven", "salad", "spicy", "dessert"],
    "music": ["guitar", "chorus", "album", "drums", "melody", "concert", "singer", "piano"],
}
FILLER = ["the", "a", "was", "really", "today", "and", "very", "this"]


def _frame(n_per_label: int, seed: int, labels: tuple[str, ...] = ("sport", "food")) -> pd.DataFrame:
    """Short texts whose label is obvious from their words: three label words and two fillers."""
    rng = random.Random(seed)
    rows = [
        {"text": " ".join(rng.sample(WORDS[label], 3) + rng.sample(FILLER, 2)), "label": label}
        for label in labels
        for _ in range(n_per_label)
    ]
    rng.shuffle(rows)
    return pd.DataFrame(rows)


@pytest.fixture
def train() -> pd.DataFrame:
    return _frame(20, seed=1)


@pytest.fixture
def test() -> pd.DataFrame:
    return _frame(20, seed=2)


@pytest.mark.parametrize("model", ["tfidf-logreg", "nltk-nb"])
def test_separable_data_is_learned_perfectly(train, test, model):
    result = train_and_test(train, test, classifier=model)
    assert isinstance(result, TrainTestResult)
    assert result.accuracy == 1.0 and result.macro_f1 == 1.0
    assert (result.n_train, result.n_test, result.labels) == (40, 40, ["food", "sport"])
    assert result.unseen_test_labels == []
    assert result.report.loc["macro avg", "f1-score"] == pytest.approx(1.0)
    assert set(result.report.index) == {"food", "sport", "macro avg", "weighted avg"}
    assert result.as_row() == {"classifier": model, "n_train": 40, "n_test": 40, "accuracy": 1.0, "macro_f1": 1.0}


def test_metrics_match_sklearn_on_the_predictions():
    train, test = (
        _frame(10, seed=3, labels=("sport", "food", "music")),
        _frame(15, seed=4, labels=("sport", "food", "music")),
    )
    # Flip a third of the test labels so that the numbers are not all 1.0.
    test.loc[test.index[::3], "label"] = test.loc[test.index[::3], "label"].map(
        {"sport": "food", "food": "music", "music": "sport"}
    )
    result = train_and_test(train, test)
    assert result.predictions.index.equals(test.index)
    assert result.accuracy == pytest.approx(accuracy_score(test["label"], result.predictions))
    assert result.macro_f1 == pytest.approx(f1_score(test["label"], result.predictions, average="macro"))
    assert result.report.loc["macro avg", "f1-score"] == pytest.approx(result.macro_f1)
    assert 0.5 < result.accuracy < 0.8


def test_labels_unrelated_to_texts_give_chance_accuracy():
    rng = np.random.default_rng(0)
    train, test = _frame(100, seed=5), _frame(100, seed=6)
    train["label"] = rng.permutation(train["label"].to_numpy())
    test["label"] = rng.permutation(test["label"].to_numpy())
    assert 0.35 < train_and_test(train, test).accuracy < 0.65


def test_nltk_naive_bayes_needs_no_download(train, test, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("NLTK tried to fetch data")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    result = train_and_test(train, test, classifier="nltk-nb")
    assert result.accuracy == 1.0 and isinstance(result.classifier, NltkNaiveBayes)
    assert result.classifier.predict(["a spicy soup recipe"]).tolist() == ["food"]


def test_any_estimator_is_cloned_not_fitted_in_place(train, test):
    estimator = make_pipeline(CountVectorizer(), MultinomialNB())
    result = train_and_test(train, test, classifier=estimator)
    assert result.accuracy == 1.0 and result.classifier is not estimator
    assert result.classifier_name == "countvectorizer+multinomialnb"
    assert not hasattr(estimator[-1], "classes_")


def test_unknown_or_unusable_classifier_raises(train, test):
    with pytest.raises(ValueError, match="Unknown classifier 'svm'.*tfidf-logreg"):
        train_and_test(train, test, classifier="svm")
    with pytest.raises(TypeError, match="fit\\(\\) and predict\\(\\); got int"):
        train_and_test(train, test, classifier=3)


def test_bad_frames_raise_naming_the_problem(train, test):
    with pytest.raises(KeyError, match="text_col 'body' is not a column of train"):
        train_and_test(train, test, text_col="body")
    with pytest.raises(KeyError, match="text_col 'text' is not a column of test"):
        train_and_test(train, test.rename(columns={"text": "body"}))
    with pytest.raises(KeyError, match="label_col 'y' is not a column of train"):
        train_and_test(train, test, label_col="y")
    with pytest.raises(ValueError, match="test has no rows"):
        train_and_test(train, test.iloc[:0])
    with pytest.raises(TypeError, match="must be a pandas DataFrame; got list"):
        train_and_test([], test)
    broken = train.astype({"text": object})
    broken.loc[[3, 7], "text"] = [None, 42]
    with pytest.raises(ValueError, match=r"2 row\(s\) whose 'text' is missing or not a string \(index \[3, 7\]\)"):
        train_and_test(broken, test)
    unlabelled = train.copy()
    unlabelled.loc[5, "label"] = None
    with pytest.raises(ValueError, match=r"1 row\(s\) with a missing 'label' \(index \[5\]\)"):
        train_and_test(unlabelled, test)


def test_one_training_class_raises(train, test):
    with pytest.raises(ValueError, match="cannot train a classifier on one class.*'sport'"):
        train_and_test(train[train["label"] == "sport"], test)


def test_unseen_test_labels_warn_and_count_as_errors(train):
    test = _frame(10, seed=7, labels=("sport", "food", "music"))
    with pytest.warns(UserWarning, match=r"never saw: \['music'\] \(10 of 30 rows\)"):
        result = train_and_test(train, test)
    assert result.unseen_test_labels == ["music"]
    assert result.accuracy == pytest.approx(20 / 30)
    assert result.report.loc["music", "recall"] == 0.0


def test_stratified_sample_keeps_proportions_and_nests(train):
    uneven = pd.concat([train, _frame(5, seed=8, labels=("music",))], ignore_index=True)
    sample = stratified_sample(uneven, 9, seed=0)
    assert sample["label"].value_counts().to_dict() == {"sport": 4, "food": 4, "music": 1}
    assert sample.index.is_monotonic_increasing
    assert set(sample.index) <= set(stratified_sample(uneven, 30, seed=0).index)
    assert stratified_sample(uneven, 9, seed=0).equals(sample)
    with pytest.raises(ValueError, match="n=2 rows cannot be a stratified sample.*3 <= n <= 45"):
        stratified_sample(uneven, 2)


def test_learning_curve_shape_and_determinism(train, test):
    curve = learning_curve(train, test, [4, 10, 20], repeats=2, seed=3)
    assert list(curve.columns) == ["classifier", "n_train", "repeat", "accuracy", "macro_f1"]
    assert curve[["n_train", "repeat"]].values.tolist() == [
        [4, 0],
        [10, 0],
        [20, 0],
        [4, 1],
        [10, 1],
        [20, 1],
    ]
    assert curve["accuracy"].between(0, 1).all() and curve["macro_f1"].between(0, 1).all()
    pd.testing.assert_frame_equal(curve, learning_curve(train, test, [4, 10, 20], repeats=2, seed=3))
    assert curve.loc[curve["n_train"] == 20, "accuracy"].mean() >= 0.9


def test_learning_curve_sizes(train, test):
    with pytest.warns(UserWarning, match=r"sizes \[50, 100\] exceed the 40 rows"):
        curve = learning_curve(train, test, [10, 50, 100])
    assert curve["n_train"].tolist() == [10, 40]
    with pytest.raises(ValueError, match="each >= the 2 labels"):
        learning_curve(train, test, [1, 10])
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        learning_curve(train, test, [10], repeats=0)


def test_plot_learning_curves_draws_one_line_per_curve_with_bands(train, test):
    from matplotlib import pyplot as plt

    curves = {
        "real": learning_curve(train, test, [4, 20], repeats=2),
        "nb": learning_curve(train, test, [4, 20], classifier="nltk-nb"),
    }
    figure = plot_learning_curves(curves, metric="macro_f1")
    axis = figure.axes[0]
    assert [line.get_label() for line in axis.get_lines()] == ["real", "nb"]
    assert len(axis.collections) == 1  # a band only for the curve with repeats
    assert axis.get_xlabel() == "training rows" and "macro-F1" in axis.get_ylabel()
    assert axis.get_title()
    plt.close(figure)
    with pytest.raises(KeyError, match="curve 'real' has no 'loss'"):
        plot_learning_curves(curves, metric="loss")
    with pytest.raises(ValueError, match="curves is empty"):
        plot_learning_curves({})


def test_oracle_agreement_on_a_hand_made_case(train, test):
    oracle = train_and_test(train, test)
    synthetic = pd.DataFrame(
        {
            "text": [
                "goal and match",
                "the team coach",
                "a striker score",
                "league stadium",
                "warm bread soup",
                "cheese recipe",  # intended sport, but food words
                "spicy salad",
                "oven dessert",
                "bread and soup",
                "guitar chorus",
            ],  # a label the oracle never saw
            "label": ["sport"] * 6 + ["food"] * 3 + ["music"],
        },
        index=[f"r{i}" for i in range(10)],
    )
    with pytest.warns(UserWarning, match=r"1 synthetic row\(s\) have labels the oracle never saw: \['music'\]"):
        report = oracle_agreement(oracle, synthetic)
    assert report["agreement"] == pytest.approx(7 / 9) and report["n_scored"] == 9
    assert report["per_label"].loc["sport"].tolist() == [6, pytest.approx(4 / 6)]
    assert report["per_label"].loc["food"].tolist() == [3, 1.0]
    assert report["confusion"].loc["sport", "food"] == 2 and report["confusion"].loc["sport", "sport"] == 4
    assert report["predicted"].index.equals(synthetic.index)
    assert report["predicted"][["r4", "r5"]].tolist() == ["food", "food"]
    assert (report["n_unknown_label"], report["unknown_labels"]) == (1, ["music"])
    with pytest.warns(UserWarning):
        assert oracle_agreement(oracle.classifier, synthetic)["agreement"] == report["agreement"]


def test_oracle_agreement_bad_inputs(train, test):
    oracle = train_and_test(train, test)
    with pytest.raises(ValueError, match=r"none of synthetic's labels \['Food', 'Sport'\] is known"):
        oracle_agreement(oracle, pd.DataFrame({"text": ["soup", "goal"], "label": ["Food", "Sport"]}))
    with pytest.raises(TypeError, match="TrainTestResult or a fitted classifier"):
        oracle_agreement(make_pipeline(CountVectorizer(), MultinomialNB()), test)
    with pytest.raises(KeyError, match="text_col 'text' is not a column of synthetic"):
        oracle_agreement(oracle, test.rename(columns={"text": "body"}))


def test_compare_training_sets_table(train, test):
    few_shot = stratified_sample(train, 4, seed=0)
    table = compare_training_sets({"real few-shot": few_shot, "real full": train}, test)
    assert table.index.tolist() == ["real few-shot", "real full"] and table.index.name == "training_set"
    assert list(table.columns) == ["classifier", "n_train", "n_test", "accuracy", "macro_f1"]
    assert table["n_train"].tolist() == [4, 40] and table.loc["real full", "accuracy"] == 1.0
    assert table.loc["real few-shot"].to_dict() == train_and_test(few_shot, test).as_row()
    with pytest.raises(ValueError, match="one class") as raised:
        compare_training_sets({"only sport": train[train["label"] == "sport"]}, test)
    assert "training set 'only sport'" in raised.value.__notes__[0]
    with pytest.raises(ValueError, match="sets is empty"):
        compare_training_sets({}, test)
