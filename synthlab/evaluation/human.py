"""Human evaluation statistics (taxonomy E2, E7, E8): agreement between raters, win rates, and
simulated raters that stand in for people under nbval.

Pure functions of lists of ratings, used for people (:mod:`synthlab.annotation.raters`) and model judges alike:

- :func:`cohen_kappa`: chance-corrected agreement of two raters on the same items (Cohen 1960), optionally
  weighted for ordinal scales such as Self-Instruct's A-D validity rating (Cohen 1968);
  :func:`percent_agreement` is the raw share of items on which they agree.
- :func:`align_ratings`: joins two raters' decision files on the item id, refusing a file that rates an item
  twice and warning about items that only one rater rated.
- :func:`win_rate`: the share of pairwise comparisons system A wins (ties count half) with a Wilson score
  interval (Wilson 1927), the headline number of open evaluation (Chatbot Arena, Chiang et al. 2024).

Nobody clicks under nbval, so the notebook uses **simulated raters**, stand-ins for people:
:func:`rule_validity_ratings` grades rows from measurable properties (hygiene filters and an oracle classifier),
:func:`slip_ratings` adds a person's one-grade slips, and :func:`simulated_preferences` prefers the better-graded
side. Taught in ``notebooks/22_human_evaluation.ipynb``.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthlab.annotation.raters import GRADES
from synthlab.core.checks import check_column
from synthlab.curation.filters import (
    drop_bad_format,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
)
from synthlab.evaluation.downstream import oracle_agreement
from synthlab.evaluation.uncertainty import wilson_interval

__all__ = [
    "NOT_RATINGS",
    "OUTCOMES",
    "WEIGHTS",
    "align_ratings",
    "cohen_kappa",
    "percent_agreement",
    "rule_validity_ratings",
    "simulated_preferences",
    "slip_ratings",
    "win_rate",
    "WinRate",
]


def rule_validity_ratings(
    frame: pd.DataFrame,
    oracle: Any,
    *,
    text_col: str = "text",
    label_col: str = "label",
    id_col: str = "id",
) -> pd.DataFrame:
    """A **simulated rater** (a stand-in for a person) grading each row A-D from measurable properties:
    **D** when :func:`~synthlab.curation.filters.drop_malformed` or :func:`~synthlab.curation.filters.drop_refusals`
    removes it (no usable output), **C** when ``oracle`` (a classifier trained on real data, as for
    :func:`~synthlab.evaluation.downstream.oracle_agreement`) reads another label than the one asked for, **B** when
    :func:`~synthlab.curation.filters.drop_bad_format` or :func:`~synthlab.curation.filters.drop_repetitive` flags
    it (cut off, chatter, a list, loops), else **A**. Returns ``id``, ``rating`` and ``reason``, aligned with
    ``frame``."""
    check_column(frame, id_col, "id_col")
    check_column(frame, label_col, "label_col")
    if frame.empty:
        raise ValueError("frame has no rows: there is nothing to rate")
    if not frame.index.is_unique:
        raise ValueError("frame's index repeats labels; ratings are aligned to it: call frame.reset_index(drop=True)")
    reason = pd.Series(None, index=frame.index, dtype=object)
    rating = pd.Series("A", index=frame.index, dtype=object)
    kept, removed = drop_malformed(frame, text_col=text_col, label_col=label_col)
    if len(kept):
        kept, refused = drop_refusals(kept, text_col=text_col)
        removed = pd.concat([removed, refused])
    rating[removed.index], reason[removed.index] = "D", removed["reason"]
    if len(kept):
        predicted = oracle_agreement(oracle, kept, text_col=text_col, label_col=label_col)["predicted"]
        wrong = predicted.index[predicted.to_numpy() != kept[label_col].to_numpy()]
        rating[wrong] = "C"
        reason[wrong] = (
            "the oracle reads " + predicted[wrong].astype(str) + ", not " + kept.loc[wrong, label_col].astype(str)
        )
        right = kept.drop(index=wrong)
        flagged = [run(right, text_col=text_col)[1] for run in (drop_bad_format, drop_repetitive)] if len(right) else []
        for log in flagged:
            fresh = log.index.difference(reason.dropna().index)
            rating[fresh], reason[fresh] = "B", log.loc[fresh, "reason"]
    return pd.DataFrame({"id": frame[id_col], "rating": rating, "reason": reason}, index=frame.index)


def slip_ratings(ratings: pd.Series, *, rate: float, seed: int = 0) -> pd.Series:
    """``ratings`` (grades A-D) with a share ``rate`` of them moved one grade up or down, drawn with ``seed``:
    the near misses by which two careful people disagree. A **simulation**, for a second simulated rater."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1; got {rate!r}")
    bad = sorted({str(grade) for grade in ratings if grade not in GRADES})
    if bad:
        raise ValueError(f"ratings must be grades {list(GRADES)}; got {bad}")
    rng = np.random.default_rng(seed)
    position = ratings.map(GRADES.index).to_numpy()
    slips = rng.random(len(ratings)) < rate
    step = rng.choice([-1, 1], size=len(ratings))
    moved = np.where(slips, np.clip(position + step, 0, len(GRADES) - 1), position)
    return pd.Series([GRADES[i] for i in moved], index=ratings.index, name=ratings.name)


def simulated_preferences(
    pairs: pd.DataFrame,
    grades: Mapping[str, pd.Series],
    *,
    left_bias: float = 0.0,
    seed: int = 0,
) -> dict[str, str]:
    """A **simulated rater** for :func:`pair_outputs`' pairs: prefers the side with the better A-D grade
    (``grades[system]``: one grade per row, in the order of the rows that were paired) and calls equal grades
    a tie, except that with probability ``left_bias`` it breaks such a tie towards the left (a position bias
    people have). Returns ``{pair id: "left" | "right" | "tie"}``, the answers
    :func:`synthlab.curation.reannotate.simulate_annotation` records."""
    if not 0 <= left_bias <= 1:
        raise ValueError(f"left_bias must be between 0 and 1; got {left_bias!r}")
    missing = sorted(set(pairs["left_system"]) - set(grades))
    if missing:
        raise KeyError(f"grades has no ratings for system(s) {missing}; pass one Series of grades per system")
    # a stream of its own: default_rng(seed) would replay pair_outputs' draw of sides under the same seed,
    # and the ties given to the left would all be pairs with system A on the left
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    answers = {}
    for k, row in enumerate(pairs.itertuples(index=False)):
        left = GRADES.index(grades[row.left_system].iloc[k])
        right = GRADES.index(grades[row.right_system].iloc[k])
        tie_to_left = rng.random() < left_bias
        answers[row.id] = "left" if left < right else "right" if right < left else "left" if tie_to_left else "tie"
    return answers


OUTCOMES: tuple[str, ...] = ("A", "B", "tie")
WEIGHTS: tuple[str, ...] = ("linear", "quadratic")
NOT_RATINGS: tuple[str, ...] = ("skip", "discard")  # actions of the annotator widgets, not ratings


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_pair(a: Sequence[Hashable], b: Sequence[Hashable], what: str) -> tuple[list, list]:
    for name, ratings in (("a", a), ("b", b)):
        if isinstance(ratings, str):
            raise TypeError(
                f"{what} takes two sequences of ratings, one per item; {name} is one string {ratings[:40]!r}"
            )
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(
            f"{what} needs one rating per item from each rater, in the same item order; got "
            f"{len(a)} and {len(b)} ratings. Join the raters' files on the item id first "
            "(synthlab.evaluation.human.align_ratings)"
        )
    if not a:
        raise ValueError(f"{what} of no ratings is undefined: both raters rated 0 items")
    missing = [i for i, (x, y) in enumerate(zip(a, b)) if _is_missing(x) or _is_missing(y)]
    if missing:
        raise ValueError(
            f"{len(missing)} item(s) have a missing rating (positions {missing[:5]}); drop the items "
            "one rater did not rate, e.g. with synthlab.evaluation.human.align_ratings"
        )
    return a, b


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """The share of items on which raters ``a`` and ``b`` (one rating per item, same order) agree."""
    a, b = _check_pair(a, b, "percent_agreement")
    return sum(x == y for x, y in zip(a, b)) / len(a)


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    *,
    labels: Sequence[Hashable] | None = None,
    weights: str | None = None,
) -> float:
    """Cohen's kappa of two raters' ratings of the same items (same order): ``(p_o - p_e) / (1 - p_e)``,
    the observed agreement ``p_o`` corrected for the agreement ``p_e`` expected by chance from each
    rater's own rating frequencies (Cohen 1960). 1 is perfect agreement, 0 chance level, below 0 worse than
    chance. ``labels`` fixes the categories (and, for weighted kappa, their order, e.g. ``"ABCD"``); a
    rating outside them raises. ``weights="linear"`` or ``"quadratic"`` gives partial credit to near
    misses on an ordinal scale (Cohen 1968; needs ``labels``).

    Degenerate case: when both raters put every item in the same single category, ``p_e = 1`` and the
    formula is 0/0; since they agree on every item, this returns 1.0 (perfect agreement). Raters using
    different single categories get 0.0 (``p_o = p_e = 0``).

    >>> cohen_kappa(["A", "A", "B", "B"], ["A", "A", "B", "A"])
    0.5
    """
    a, b = _check_pair(a, b, "cohen_kappa")
    if weights is not None and weights not in WEIGHTS:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic'; got {weights!r}")
    if weights is not None and labels is None:
        raise ValueError("weighted kappa needs labels= in their order on the scale, e.g. labels='ABCD'")
    categories = list(labels) if labels is not None else sorted(set(a) | set(b), key=str)
    if len(set(categories)) < len(categories):
        raise ValueError(f"labels repeat a category: {categories}")
    unknown = sorted({str(x) for x in a + b if x not in categories})
    if unknown:
        raise ValueError(f"ratings {unknown} are not among labels {categories}; pass every category in labels=")
    index = {category: i for i, category in enumerate(categories)}
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(a, b):
        observed[index[x], index[y]] += 1
    observed /= len(a)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / max(k - 1, 1)
    disagreement = {None: (distance > 0).astype(float), "linear": distance, "quadratic": distance**2}[weights]
    expected_disagreement = float((disagreement * expected).sum())
    if expected_disagreement == 0:  # both raters used one and the same category
        return 1.0
    return 1.0 - float((disagreement * observed).sum()) / expected_disagreement


def align_ratings(
    first: pd.DataFrame,
    second: pd.DataFrame,
    *,
    id_col: str = "id",
    rating_col: str = "decision",
    names: tuple[str, str] = ("rater_1", "rater_2"),
    not_ratings: Sequence[Hashable] = NOT_RATINGS,
) -> pd.DataFrame:
    """Two raters' ratings side by side on the items both rated: columns ``id_col`` and the two ``names``,
    in the order of ``first``. Inputs are frames with an id and a rating per row, e.g.
    :meth:`synthlab.annotation.store.LabelStore.decisions` or those exported to CSV. Missing ratings and
    ``not_ratings`` (the widgets' *skip*/*discard*) count as not rated. Items only one rater rated are left
    out with a warning that counts them; an item rated twice in one file raises (which rating counts is
    ambiguous), and so does having no item in common (the files are probably for different datasets).
    """
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"names must be two different column names; got {names!r}")
    rated = []
    for name, frame in zip(names, (first, second)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"{name}'s ratings must be a DataFrame (e.g. store.decisions()); got {type(frame).__name__}"
            )
        check_column(frame, id_col, "id_col", frame_name=f"{name}'s ratings")
        check_column(frame, rating_col, "rating_col", frame_name=f"{name}'s ratings")
        twice = frame[id_col][frame[id_col].duplicated()].unique().tolist()
        if twice:
            raise ValueError(
                f"{name} rated {len(twice)} item(s) more than once (e.g. {twice[:3]}); keep one "
                f"rating per item, e.g. frame.drop_duplicates({id_col!r}, keep='last') for the latest"
            )
        keep = frame[rating_col].notna() & ~frame[rating_col].isin(list(not_ratings))
        rated.append(frame.loc[keep, [id_col, rating_col]].rename(columns={rating_col: name}))
    joined = rated[0].merge(rated[1], on=id_col, how="inner")
    if joined.empty:
        raise ValueError(
            f"{names[0]} and {names[1]} rated no item in common ({len(rated[0])} and {len(rated[1])} "
            "items rated): are the two files for the same dataset?"
        )
    only = [sorted(set(rated[i][id_col]) - set(rated[1 - i][id_col]), key=str) for i in (0, 1)]
    if only[0] or only[1]:
        warnings.warn(
            f"{len(only[0])} item(s) were rated by {names[0]} only (e.g. {only[0][:3]}) and "
            f"{len(only[1])} by {names[1]} only (e.g. {only[1][:3]}); agreement uses the {len(joined)} "
            "items both rated",
            UserWarning,
            stacklevel=2,
        )
    return joined.reset_index(drop=True)


@dataclass(frozen=True)
class WinRate:
    """How often system A beat system B: ``rate = (wins + ties / 2) / n`` with its confidence interval
    ``[low, high]`` computed by ``method``."""

    wins: int
    losses: int
    ties: int
    n: int
    rate: float
    low: float
    high: float
    method: str
    confidence: float = 0.95

    def __str__(self) -> str:
        return (
            f"{self.rate:.2f} [{self.low:.2f}, {self.high:.2f}] ({self.confidence:.0%} CI; {self.wins} wins, "
            f"{self.losses} losses, {self.ties} ties of {self.n})"
        )


def win_rate(outcomes: Sequence[str], *, confidence: float = 0.95) -> WinRate:
    """The win rate of system A over B from pairwise outcomes ``"A"`` (A preferred), ``"B"`` or ``"tie"``,
    with a Wilson score interval (Wilson 1927), which stays inside [0, 1] and keeps its coverage at small
    ``n`` where the normal approximation does not. Ties count as half a win, in the rate and in the
    interval (``wins + ties / 2`` successes out of ``n``): since a tie varies less than a win or a loss,
    the interval is then slightly conservative (wider than needed).

    >>> str(win_rate(["A", "A", "B", "tie"]))
    '0.62 [0.22, 0.91] (95% CI; 2 wins, 1 losses, 1 ties of 4)'
    """
    if isinstance(outcomes, str):
        raise TypeError(f"outcomes must be a sequence of 'A', 'B' or 'tie'; got one string {outcomes[:40]!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95); got {confidence!r}")
    counts = Counter(outcomes)
    unknown = sorted(str(value) for value in counts if value not in OUTCOMES)
    if unknown:
        raise ValueError(
            f"outcomes must be 'A', 'B' or 'tie'; got {unknown}. Map a judge's unparsable answers "
            "to 'tie' or drop them, and say which you did"
        )
    n = sum(counts.values())
    if n == 0:
        raise ValueError("win_rate of no comparisons is undefined: outcomes is empty")
    wins, losses, ties = counts["A"], counts["B"], counts["tie"]
    low, high = wilson_interval(wins + ties / 2, n, confidence)
    return WinRate(
        wins=wins,
        losses=losses,
        ties=ties,
        n=n,
        rate=(wins + ties / 2) / n,
        low=low,
        high=high,
        method="wilson (ties count half)",
        confidence=confidence,
    )
