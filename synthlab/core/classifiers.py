"""Small text classifiers: fit one on a labelled frame and score it on another.

:func:`train_and_test` trains a classifier on one frame (synthetic, real few-shot, real full) and scores it on
another (real gold data); every layer uses it, from the noise detectors of curation to indirect evaluation
(taxonomy E6, :mod:`synthlab.evaluation.downstream`). Built-in classifiers (:data:`CLASSIFIERS`):
``"tfidf-logreg"`` (TF-IDF word 1-2-grams, logistic regression) and ``"nltk-nb"`` (NLTK's naive Bayes on word
presence, regex tokens, no NLTK data needed); any estimator with ``fit(texts, labels)`` / ``predict(texts)`` on
raw texts, such as an sklearn ``Pipeline``, also works and is cloned, never fitted in place.
Taught in ``notebooks/21_indirect_evaluation.ipynb``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.pipeline import make_pipeline

from synthlab.core.checks import check_frame, check_labels, check_texts
from synthlab.core.text import Tokenizer, default_tokenize

__all__ = [
    "CLASSIFIERS",
    "fit_classifier",
    "NltkNaiveBayes",
    "stratified_sample",
    "train_and_test",
    "TrainTestResult",
]

CLASSIFIERS: tuple[str, ...] = ("tfidf-logreg", "nltk-nb")


class NltkNaiveBayes:
    """NLTK's ``NaiveBayesClassifier`` on word-presence features, behind sklearn's ``fit`` /
    ``predict`` so that it trains, scores and serves as an oracle like any estimator. Tokens come
    from ``tokenizer`` (default :func:`synthlab.core.text.default_tokenize`, a regex), so NLTK never
    looks for downloaded data such as punkt."""

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        self.tokenizer = tokenizer

    def _features(self, text: str) -> dict[str, bool]:
        return {token: True for token in (self.tokenizer or default_tokenize)(text)}

    def fit(self, texts: Sequence[str], labels: Sequence[Any]) -> NltkNaiveBayes:
        from nltk.classify import NaiveBayesClassifier

        self.classifier_ = NaiveBayesClassifier.train(
            [(self._features(text), label) for text, label in zip(texts, labels)]
        )
        self.classes_ = np.array(sorted(set(labels)))
        return self

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.classifier_.classify(self._features(text)) for text in texts])

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label of ``classes_``."""
        distributions = [self.classifier_.prob_classify(self._features(text)) for text in texts]
        return np.array([[distribution.prob(label) for label in self.classes_] for distribution in distributions])


@dataclass
class TrainTestResult:
    """What :func:`train_and_test` measured, and the fitted model (reusable as an oracle).

    ``labels`` are the training labels, the only ones the model can predict. ``report`` is
    sklearn's ``classification_report`` as a DataFrame: one row per label (as a string) that
    occurs in the test set or the predictions, then ``macro avg`` and ``weighted avg``; columns
    ``precision``, ``recall``, ``f1-score``, ``support``. ``predictions`` is aligned to the
    test frame's index.
    """

    classifier_name: str
    classifier: Any
    accuracy: float
    macro_f1: float
    n_train: int
    n_test: int
    labels: list[Any]
    report: pd.DataFrame
    predictions: pd.Series
    unseen_test_labels: list[Any]

    def as_row(self) -> dict[str, Any]:
        """The summary numbers as one row of a comparison table."""
        return {
            "classifier": self.classifier_name,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
        }


def _make_classifier(classifier: str | Any, seed: int) -> Any:
    """A fresh, unfitted classifier for a built-in name, or a clone of a given estimator."""
    if isinstance(classifier, str):
        if classifier == "tfidf-logreg":
            return make_pipeline(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                LogisticRegression(max_iter=2000, random_state=seed),
            )
        if classifier == "nltk-nb":
            return NltkNaiveBayes()
        raise ValueError(f"Unknown classifier {classifier!r}; use one of {list(CLASSIFIERS)} or pass an estimator")
    if not (hasattr(classifier, "fit") and hasattr(classifier, "predict")):
        raise TypeError(
            f"classifier must be one of {list(CLASSIFIERS)} or have fit() and predict(); "
            f"got {type(classifier).__name__}"
        )
    return clone(classifier, safe=False)


def fit_classifier(
    classifier: str | Any,
    texts: Sequence[str],
    labels: Sequence[Any],
    *,
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
) -> Any:
    """A fresh classifier (a built-in name of :data:`CLASSIFIERS`, or a clone of an estimator) fitted on
    ``texts`` and ``labels``, with per-row ``sample_weight`` when given (for example SunGen's
    noise-robust weights, taught in ``notebooks/13_reweighting.ipynb``)."""
    texts = check_texts(texts, "texts", at_least=1)
    labels = check_labels(labels, "labels")
    if len(labels) != len(texts):
        raise ValueError(f"labels has {len(labels)} items but texts has {len(texts)}; give one label per text")
    fitted = _make_classifier(classifier, seed)
    if sample_weight is None:
        return fitted.fit(list(texts), list(labels))
    weights = np.asarray(sample_weight, dtype=float)
    if weights.shape != (len(texts),):
        raise ValueError(f"sample_weight has shape {weights.shape}; give one weight per training row ({len(texts)})")
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError("sample_weight must be finite and non-negative, with a positive sum")
    if isinstance(fitted, NltkNaiveBayes):
        raise ValueError(  # noqa: TRY004 - a classifier choice that cannot take weights, not a bad type
            "the 'nltk-nb' model cannot use sample weights; use 'tfidf-logreg' or an estimator "
            "whose fit() accepts sample_weight"
        )
    steps = getattr(fitted, "steps", None)
    keyword = f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"
    return fitted.fit(list(texts), list(labels), **{keyword: weights})


def _classifier_name(classifier: str | Any) -> str:
    if isinstance(classifier, str):
        return classifier
    steps = getattr(classifier, "steps", None)
    return "+".join(name for name, _ in steps) if steps else type(classifier).__name__


def train_and_test(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
    sample_weight: Sequence[float] | None = None,
) -> TrainTestResult:
    """Fit ``classifier`` on ``train`` (with one ``sample_weight`` per row when given) and score it on
    ``test``: accuracy, macro-F1, a per-class report and the predictions (see :class:`TrainTestResult`).

    ``seed`` is the built-in models' ``random_state``; a given estimator is cloned as it is.
    Test labels the training set never had cannot be predicted: they count as errors in
    accuracy and score F1 0 in macro-F1, are listed in ``unseen_test_labels``, and warn.

    >>> train_and_test(synthetic, real_test).as_row()    # doctest: +SKIP
    {'model': 'tfidf-logreg', 'n_train': ..., 'n_test': ..., 'accuracy': ..., 'macro_f1': ...}
    """
    check_frame(train, "train", text_col=text_col, label_col=label_col)
    check_frame(test, "test", text_col=text_col, label_col=label_col)
    labels = sorted(set(train[label_col].tolist()))
    if len(labels) < 2:
        raise ValueError(
            f"cannot train a classifier on one class: every row of train has {label_col!r} == "
            f"{labels[0]!r}; add rows of another label (or check that a filter did not remove them)"
        )
    y_true = test[label_col].tolist()
    unseen = sorted(set(y_true) - set(labels))
    if unseen:
        warnings.warn(
            f"test has labels the training set never saw: {unseen} "
            f"({sum(y in unseen for y in y_true)} of {len(y_true)} rows); they count as errors",
            UserWarning,
            stacklevel=2,
        )
    fitted = fit_classifier(
        classifier,
        train[text_col].tolist(),
        train[label_col].tolist(),
        seed=seed,
        sample_weight=sample_weight,
    )
    y_pred = np.asarray(fitted.predict(test[text_col].tolist())).tolist()
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    report.pop("accuracy", None)  # a scalar, kept as its own field
    return TrainTestResult(
        classifier_name=_classifier_name(classifier),
        classifier=fitted,
        accuracy=float(accuracy_score(y_true, y_pred)),
        macro_f1=float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        n_train=len(train),
        n_test=len(test),
        labels=labels,
        report=pd.DataFrame(report).T,
        predictions=pd.Series(y_pred, index=test.index, name="predicted"),
        unseen_test_labels=unseen,
    )


def _balanced_allocation(counts: pd.Series, n: int) -> pd.Series:
    if n % len(counts):
        raise ValueError(
            f"n={n} does not split evenly over the {len(counts)} labels; choose a multiple of {len(counts)}"
        )
    short = counts[counts < n // len(counts)]
    if len(short):
        raise ValueError(
            f"a balanced sample of {n} needs {n // len(counts)} rows per label; {short.to_dict()} have fewer"
        )
    return pd.Series(n // len(counts), index=counts.index)


def stratified_sample(
    frame: pd.DataFrame, n: int, *, label_col: str = "label", seed: int = 0, balanced: bool = False
) -> pd.DataFrame:
    """``n`` rows with the label proportions of ``frame`` and every label at least once (for
    example a "real few-shot" training set), in their original order; ``balanced=True``: the same
    number of rows of every label instead (``n`` must split evenly over the labels).

    Each label's rows are shuffled once per ``seed`` and a sample takes the first of them, so
    samples of different sizes with one seed overlap as much as stratification allows.
    """
    check_frame(frame, "frame", label_col=label_col)
    counts = frame[label_col].value_counts().sort_index()
    if not len(counts) <= n <= len(frame):
        raise ValueError(
            f"n={n} rows cannot be a stratified sample of {len(frame)} rows with "
            f"{len(counts)} labels; use {len(counts)} <= n <= {len(frame)}"
        )
    if balanced:
        allocation = _balanced_allocation(counts, n)
    else:
        quota = counts * n / len(frame)
        allocation = quota.astype(int).clip(lower=1)
        while allocation.sum() > n:  # the one-row-per-label minimum overshot: take from the largest
            allocation.loc[allocation.idxmax()] -= 1
        remainders = (quota - allocation)[allocation < counts].sort_values(ascending=False, kind="stable")
        allocation.loc[remainders.index[: n - allocation.sum()]] += 1
    rng = np.random.default_rng(seed)
    values = frame[label_col].to_numpy()
    positions = [
        position for label, k in allocation.items() for position in rng.permutation(np.flatnonzero(values == label))[:k]
    ]
    return frame.iloc[sorted(positions)]
