import numpy as np
import pandas as pd
import pytest

from synthlab.core.classifiers import fit_classifier, train_and_test
from synthlab.core.crossfit import label_loss, out_of_fold_proba
from synthlab.curation.noise import detection_report, flag_top, plant_label_noise


def _frame(n: int = 60) -> pd.DataFrame:
    words = {"positive": "good great fine lovely", "negative": "bad awful poor dull"}
    labels = ["positive", "negative"] * (n // 2)
    return pd.DataFrame(
        {"text": [f"{words[y]} film number{i}" for i, y in enumerate(labels)], "label": labels},
        index=range(100, 100 + n),
    )


def test_out_of_fold_proba_is_aligned_and_sums_to_one():
    frame = _frame()
    proba = out_of_fold_proba(frame, n_splits=3, seed=1)
    assert proba.index.equals(frame.index) and list(proba.columns) == ["negative", "positive"]
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (proba.idxmax(axis=1) == frame["label"]).all()
    assert proba.equals(out_of_fold_proba(frame, n_splits=3, seed=1))


def test_label_loss_flags_planted_noise():
    noisy = plant_label_noise(_frame(), 0.2, seed=0)
    loss = label_loss(out_of_fold_proba(noisy, n_splits=3), noisy["label"])
    assert detection_report(flag_top(loss, 0.2), noisy["is_noisy"])["precision"] >= 0.9


def test_out_of_fold_proba_works_with_naive_bayes_and_weights():
    frame = _frame()
    assert np.allclose(out_of_fold_proba(frame, n_splits=3, classifier="nltk-nb").sum(axis=1), 1.0)
    weighted = out_of_fold_proba(frame, n_splits=3, sample_weight=np.linspace(0.1, 1, len(frame)))
    assert weighted.shape == (60, 2)


@pytest.mark.parametrize(
    "frame, kwargs, message",
    [
        (_frame().assign(label="positive"), {}, "two labels"),
        (_frame(6), {"n_splits": 5}, "smallest"),
        (_frame().iloc[:0], {}, "no rows"),
        (_frame(), {"sample_weight": [1.0]}, "one weight per row"),
    ],
)
def test_out_of_fold_proba_rejects_bad_input(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        out_of_fold_proba(frame, **kwargs)


def test_label_loss_rejects_unknown_labels():
    proba = pd.DataFrame({"a": [0.9], "b": [0.1]})
    assert label_loss(proba, ["b"]).iloc[0] == pytest.approx(-np.log(0.1))
    with pytest.raises(ValueError, match="no probability column"):
        label_loss(proba, ["c"])


def test_sample_weight_changes_the_fit_and_is_checked():
    frame = _frame()
    train = frame.assign(label=["positive"] * 30 + ["negative"] * 30)  # half the labels contradict the words
    uniform = train_and_test(train, frame).accuracy
    trusted = (train["label"] == frame["label"]).astype(float) + 1e-3
    assert train_and_test(train, frame, sample_weight=trusted).accuracy > uniform
    with pytest.raises(ValueError, match="nltk-nb"):
        fit_classifier("nltk-nb", frame["text"], frame["label"], sample_weight=np.ones(60))
    with pytest.raises(ValueError, match="non-negative"):
        fit_classifier("tfidf-logreg", frame["text"], frame["label"], sample_weight=-np.ones(60))
