"""How sure a number is: intervals for a metric of one set, for the difference between two arms, for
train-on-synthetic scores, and over seeds. Every comparison in the notebooks is an :class:`Estimate`
(a value with its 95% interval), so an assertion can say what the interval supports.

- :func:`proportion`: a share of successes with a Wilson score interval (Wilson 1927).
- :func:`bootstrap`: a statistic of one set of units (rows, texts, seeds) with a percentile bootstrap interval
  (Efron and Tibshirani, 1993).
- :func:`bootstrap_difference`: ``statistic(arm) - statistic(baseline)``, paired (the two arms share their units:
  the same test rows, the same seeds; resampled together) or not (resampled apart).
- :func:`tstr_estimate` and :func:`tstr_difference`: train on a set, test on real rows, with the test rows
  resampled (the classifiers fitted once) or the training rows resampled and the classifier refitted.
- :func:`over_seeds`: run an arm once per seed; the mean of each metric with a t interval, and its spread.


>>> str(proportion([True] * 30 + [False] * 10))
'0.750 [0.598, 0.858] (n=40, wilson)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from sklearn.metrics import accuracy_score, f1_score

from synthlab.core.checks import check_frame
from synthlab.core.classifiers import fit_classifier

__all__ = [
    "METRICS",
    "Estimate",
    "SeedRuns",
    "bootstrap",
    "bootstrap_difference",
    "over_seeds",
    "proportion",
    "resampled_scores",
    "tstr_difference",
    "tstr_estimate",
    "wilson_interval",
]

METRICS: dict[str, Callable[[Any, Any], float]] = {
    "accuracy": accuracy_score,
    "macro_f1": lambda truth, predicted: f1_score(truth, predicted, average="macro", zero_division=0),
}


@dataclass(frozen=True)
class Estimate:
    """A number with its interval: ``value``, ``low``, ``high`` at ``confidence``, from ``n`` units by ``method``."""

    value: float
    low: float
    high: float
    n: int
    method: str
    confidence: float = 0.95

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}] (n={self.n}, {self.method})"

    @property
    def width(self) -> float:
        """``high - low``: what this size can resolve."""
        return self.high - self.low

    def excludes(self, value: float = 0.0) -> bool:
        """Whether ``value`` lies outside the interval (for a difference: an effect the interval supports)."""
        return not self.low <= value <= self.high

    def columns(self, name: str) -> dict[str, float]:
        """``{name: value, name_low: low, name_high: high}``: the estimate as three columns of a table row."""
        return {name: self.value, f"{name}_low": self.low, f"{name}_high": self.high}

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict (one row of a results table)."""
        return asdict(self)


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95); got {confidence!r}")
    return confidence


def _check_resamples(n_resamples: int) -> int:
    if not isinstance(n_resamples, int | np.integer) or n_resamples < 100:
        raise ValueError(f"n_resamples must be an integer >= 100 (percentile intervals need them); got {n_resamples!r}")
    return int(n_resamples)


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n`` (``successes`` may count a tie as half)."""
    _check_confidence(confidence)
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1; got {successes} of {n}")
    rate = successes / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    # exact at the ends: no success has no lower bound above 0, all successes no upper bound below 1
    return (0.0 if successes == 0 else max(0.0, centre - half)), (1.0 if successes == n else min(1.0, centre + half))


def proportion(outcomes: Sequence[bool] | np.ndarray | pd.Series, *, confidence: float = 0.95) -> Estimate:
    """The share of true ``outcomes`` (e.g. rows the oracle agrees with) with a Wilson interval; missing values
    (NaN, None) are dropped, so ``n`` counts the scored units."""
    values = pd.Series(outcomes, dtype="object").dropna()
    if values.empty:
        raise ValueError("a proportion of no outcomes is undefined: outcomes is empty (or all missing)")
    if not values.map(lambda value: isinstance(value, bool | np.bool_)).all():
        raise TypeError("outcomes must be booleans (True for a success); compare to the label first")
    successes, n = int(values.astype(bool).sum()), len(values)
    low, high = wilson_interval(successes, n, confidence)
    return Estimate(successes / n, low, high, n, "wilson", confidence)


def _units(values: Sequence[float] | np.ndarray | pd.Series, name: str) -> np.ndarray:
    array = np.asarray(pd.Series(values, dtype="float64").dropna(), dtype=float)
    if len(array) < 2:
        raise ValueError(f"{name} needs at least 2 values (non-missing) to resample; got {len(array)}")
    return array


def _percentile(value: float, draws: np.ndarray, n: int, confidence: float, method: str) -> Estimate:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Estimate(float(value), float(low), float(high), n, method, confidence)


def bootstrap(
    values: Sequence[float] | np.ndarray | pd.Series,
    statistic: Callable[[np.ndarray], float] = np.mean,
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """``statistic`` of ``values`` (one number per unit: a row's score, a text's length) with a percentile
    bootstrap interval from ``n_resamples`` resamples of the units (seeded). Missing values are dropped."""
    array, n_resamples = _units(values, "bootstrap"), _check_resamples(n_resamples)
    _check_confidence(confidence)
    rng = np.random.default_rng(seed)
    draws = np.array([statistic(array[rng.integers(0, len(array), len(array))]) for _ in range(n_resamples)])
    return _percentile(statistic(array), draws, len(array), confidence, f"percentile bootstrap, {n_resamples}")


def bootstrap_difference(
    arm: Sequence[float] | np.ndarray | pd.Series,
    baseline: Sequence[float] | np.ndarray | pd.Series,
    statistic: Callable[[np.ndarray], float] = np.mean,
    *,
    paired: bool,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """``statistic(arm) - statistic(baseline)`` with a percentile bootstrap interval. ``paired=True`` when the
    arms share their units, position by position (the same test rows, the same seeds): the units are resampled
    together, which removes their shared variation; ``paired=False`` resamples each arm on its own."""
    _check_confidence(confidence)
    n_resamples = _check_resamples(n_resamples)
    rng = np.random.default_rng(seed)
    if paired:
        if len(arm) != len(baseline):
            raise ValueError(f"paired arms need one value per shared unit; got {len(arm)} and {len(baseline)}")
        frame = pd.DataFrame({"arm": np.asarray(arm, dtype=float), "baseline": np.asarray(baseline, dtype=float)})
        frame = frame.dropna()
        if len(frame) < 2:
            raise ValueError("paired arms need at least 2 units where both have a value")
        a, b = frame["arm"].to_numpy(), frame["baseline"].to_numpy()
        draws = []
        for _ in range(n_resamples):
            index = rng.integers(0, len(a), len(a))
            draws.append(statistic(a[index]) - statistic(b[index]))
        n, how = len(a), "paired"
    else:
        a, b = _units(arm, "arm"), _units(baseline, "baseline")
        draws = [
            statistic(a[rng.integers(0, len(a), len(a))]) - statistic(b[rng.integers(0, len(b), len(b))])
            for _ in range(n_resamples)
        ]
        n, how = min(len(a), len(b)), "unpaired"
    value = statistic(a) - statistic(b)
    return _percentile(value, np.array(draws), n, confidence, f"{how} percentile bootstrap, {n_resamples}")


def _predictions(train: pd.DataFrame, test: pd.DataFrame, classifier: str | Any, seed: int) -> np.ndarray:
    fitted = fit_classifier(classifier, train["text"].tolist(), train["label"].tolist(), seed=seed)
    return np.asarray(fitted.predict(test["text"].tolist()))


def _check_tstr(train: pd.DataFrame, test: pd.DataFrame, metric: str, resample: str) -> None:
    check_frame(train, "train", text_col="text", label_col="label")
    check_frame(test, "test", text_col="text", label_col="label")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}; got {metric!r}")
    if resample not in ("test", "train"):
        raise ValueError(f"resample must be 'test' (resample the test rows) or 'train' (refit); got {resample!r}")
    if train["label"].nunique() < 2:
        raise ValueError(f"train has one label only ({train['label'].iloc[0]!r}): no classifier can be trained on it")


def _train_resample(train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    # stratified: each label keeps its count, so no resample loses a label (a conditional bootstrap)
    parts = [group.iloc[rng.integers(0, len(group), len(group))] for _, group in train.groupby("label")]
    return pd.concat(parts)


def _tstr_scores(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    classifier: str | Any,
    metric: str,
    resample: str,
    n_resamples: int,
    seed: int,
    draw_seed: int,
) -> tuple[float, np.ndarray]:
    """The score of training on ``train`` (classifier seeded ``seed``) and its ``n_resamples`` bootstrap draws, from
    a generator seeded ``draw_seed``: two training sets drawn with one ``draw_seed`` are paired on the same test
    rows."""
    _check_tstr(train, test, metric, resample)
    score = METRICS[metric]
    truth = test["label"].to_numpy()
    predicted = _predictions(train, test, classifier, seed)
    rng = np.random.default_rng(draw_seed)
    if resample == "test":
        draws = resampled_scores(truth, predicted, rng.integers(0, len(test), (n_resamples, len(test))), metric)
    else:
        draws = np.array(
            [
                score(truth, _predictions(_train_resample(train, rng), test, classifier, seed))
                for _ in range(n_resamples)
            ]
        )
    return score(truth, predicted), draws


def resampled_scores(truth: np.ndarray, predicted: np.ndarray, index: np.ndarray, metric: str) -> np.ndarray:
    """``metric`` (:data:`METRICS`) of ``truth`` against ``predicted`` on each row of positions ``index`` (one
    resample per row), at once: the same numbers as the sklearn scorer per resample (macro-F1 averages over the
    labels present in each resample's truth or predictions, as sklearn does), without its per-call overhead."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}; got {metric!r}")
    labels, codes = np.unique(np.concatenate([truth, predicted]).astype(str), return_inverse=True)
    true_codes, predicted_codes = codes[: len(truth)][index], codes[len(truth) :][index]
    if metric == "accuracy":
        return (true_codes == predicted_codes).mean(axis=1)
    scores, present = np.zeros(len(index)), np.zeros(len(index))
    for code in range(len(labels)):
        is_true, is_predicted = true_codes == code, predicted_codes == code
        hits = (is_true & is_predicted).sum(axis=1)
        denominator = is_true.sum(axis=1) + is_predicted.sum(axis=1)
        scores += np.divide(2 * hits, denominator, out=np.zeros(len(index)), where=denominator > 0)
        present += denominator > 0
    return scores / present


def tstr_estimate(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    classifier: str | Any = "tfidf-logreg",
    metric: Literal["accuracy", "macro_f1"] = "accuracy",
    resample: Literal["test", "train"] = "test",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Train on ``train`` (synthetic rows), test on ``test`` (real rows): ``metric`` with a bootstrap interval.
    ``resample="test"`` fits once and resamples the test rows (how much the score depends on which real rows were
    tested); ``resample="train"`` resamples the training rows within each label and refits ``n_resamples`` times
    (how much it depends on which rows were generated; slower). ``n`` is the number of resampled rows."""
    _check_confidence(confidence)
    value, draws = _tstr_scores(
        train, test, classifier=classifier, metric=metric, resample=resample,
        n_resamples=_check_resamples(n_resamples), seed=seed, draw_seed=seed,
    )  # fmt: skip
    n = len(test) if resample == "test" else len(train)
    method = f"percentile bootstrap of the {resample} rows, {n_resamples}"
    return _percentile(value, draws, n, confidence, method)


def tstr_difference(
    arm: pd.DataFrame,
    baseline: pd.DataFrame,
    test: pd.DataFrame,
    *,
    classifier: str | Any = "tfidf-logreg",
    metric: Literal["accuracy", "macro_f1"] = "accuracy",
    resample: Literal["test", "train"] = "test",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """The train-on-synthetic ``metric`` of training set ``arm`` minus that of ``baseline``, both tested on the same
    real ``test`` rows. ``resample="test"`` resamples the shared test rows (paired: both classifiers fitted once);
    ``resample="train"`` resamples each training set within its labels and refits both, on the full test set."""
    _check_confidence(confidence)
    options = {"classifier": classifier, "metric": metric, "resample": resample,
               "n_resamples": _check_resamples(n_resamples)}  # fmt: skip
    arm_value, arm_draws = _tstr_scores(arm, test, seed=seed, draw_seed=seed, **options)
    # the same draws of the test rows for both (paired); refits draw the two sets' rows apart
    baseline_draws_seed = seed if resample == "test" else seed + 1
    baseline_value, baseline_draws = _tstr_scores(baseline, test, seed=seed, draw_seed=baseline_draws_seed, **options)
    n = len(test) if resample == "test" else min(len(arm), len(baseline))
    how = "paired percentile bootstrap of the test rows" if resample == "test" else "bootstrap of the train rows"
    return _percentile(arm_value - baseline_value, arm_draws - baseline_draws, n, confidence, f"{how}, {n_resamples}")


@dataclass
class SeedRuns:
    """``table``: one row per seed, one column per metric; ``summary``: per metric, the ``mean`` with a t interval
    (``low``, ``high``), the standard deviation ``sd`` over seeds, ``min``, ``max`` and ``n_seeds``."""

    table: pd.DataFrame
    summary: pd.DataFrame

    def estimate(self, metric: str) -> Estimate:
        """One metric's mean over the seeds as an :class:`Estimate`."""
        row = self.summary.loc[metric]
        return Estimate(row["mean"], row["low"], row["high"], int(row["n_seeds"]), "t interval over seeds")


def over_seeds(
    run: Callable[[int], float | dict[str, float]],
    seeds: Sequence[int],
    *,
    confidence: float = 0.95,
) -> SeedRuns:
    """Run one arm once per seed (``run(seed)`` returns a number or a dict of metrics) and summarise each metric
    over the seeds: mean with a Student t interval (the seeds are the units), standard deviation and range."""
    _check_confidence(confidence)
    seeds = list(seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"over_seeds needs at least 2 distinct seeds for a spread; got {seeds}")
    rows = {}
    for seed in seeds:
        result = run(seed)
        rows[seed] = result if isinstance(result, dict) else {"value": result}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("seed").astype(float)
    n = table.notna().sum()
    mean, sd = table.mean(), table.std(ddof=1)
    half = scipy_stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)
    summary = pd.DataFrame(
        {
            "mean": mean,
            "low": mean - half,
            "high": mean + half,
            "sd": sd,
            "min": table.min(),
            "max": table.max(),
            "n_seeds": n,
        }
    )
    return SeedRuns(table=table, summary=summary)
