"""Agreement between raters and win rates of pairwise comparisons (taxonomy E2, E7, E8).

Pure functions of lists of ratings, used for people (:mod:`synthlab.human_eval`) and for model judges alike:

- :func:`cohen_kappa`: chance-corrected agreement of two raters on the same items (Cohen 1960), optionally
  weighted for ordinal scales such as Self-Instruct's A-D validity rating (Cohen 1968);
  :func:`percent_agreement` is the raw share of items on which they agree.
- :func:`align_ratings`: joins two raters' decision files on the item id, refusing a file that rates an item
  twice and warning about items that only one rater rated.
- :func:`win_rate`: the share of pairwise comparisons system A wins (ties count half) with a Wilson score
  interval (Wilson 1927), the headline number of open evaluation (Chatbot Arena, Chiang et al. 2024).

Taught in ``notebooks/22_human_evaluation.ipynb``.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

from synthlab.records import require_column

OUTCOMES: tuple[str, ...] = ("A", "B", "tie")
WEIGHTS: tuple[str, ...] = ("linear", "quadratic")
NOT_RATINGS: tuple[str, ...] = ("skip", "discard")  # actions of the annotator widgets, not ratings


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_pair(a: Sequence[Hashable], b: Sequence[Hashable], what: str) -> tuple[list, list]:
    for name, ratings in (("a", a), ("b", b)):
        if isinstance(ratings, str):
            raise TypeError(f"{what} takes two sequences of ratings, one per item; {name} is one string "
                            f"{ratings[:40]!r}")
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"{what} needs one rating per item from each rater, in the same item order; got "
                         f"{len(a)} and {len(b)} ratings. Join the raters' files on the item id first "
                         "(synthlab.agreement.align_ratings)")
    if not a:
        raise ValueError(f"{what} of no ratings is undefined: both raters rated 0 items")
    missing = [i for i, (x, y) in enumerate(zip(a, b)) if _is_missing(x) or _is_missing(y)]
    if missing:
        raise ValueError(f"{len(missing)} item(s) have a missing rating (positions {missing[:5]}); drop the items "
                         "one rater did not rate, e.g. with synthlab.agreement.align_ratings")
    return a, b


def percent_agreement(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """The share of items on which raters ``a`` and ``b`` (one rating per item, same order) agree."""
    a, b = _check_pair(a, b, "percent_agreement")
    return sum(x == y for x, y in zip(a, b)) / len(a)


def cohen_kappa(
    a: Sequence[Hashable], b: Sequence[Hashable], *, labels: Sequence[Hashable] | None = None,
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
    first: pd.DataFrame, second: pd.DataFrame, *, id_col: str = "id", rating_col: str = "decision",
    names: tuple[str, str] = ("rater_1", "rater_2"), not_ratings: Sequence[Hashable] = NOT_RATINGS,
) -> pd.DataFrame:
    """Two raters' ratings side by side on the items both rated: columns ``id_col`` and the two ``names``,
    in the order of ``first``. Inputs are frames with an id and a rating per row, e.g.
    :meth:`synthlab.reannotate.LabelStore.decisions` or those exported to CSV. Missing ratings and
    ``not_ratings`` (the widgets' *skip*/*discard*) count as not rated. Items only one rater rated are left
    out with a warning that counts them; an item rated twice in one file raises (which rating counts is
    ambiguous), and so does having no item in common (the files are probably for different datasets).
    """
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"names must be two different column names; got {names!r}")
    rated = []
    for name, frame in zip(names, (first, second)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}'s ratings must be a DataFrame (e.g. store.decisions()); got "
                            f"{type(frame).__name__}")
        require_column(frame, id_col, "id_col", frame_name=f"{name}'s ratings")
        require_column(frame, rating_col, "rating_col", frame_name=f"{name}'s ratings")
        twice = frame[id_col][frame[id_col].duplicated()].unique().tolist()
        if twice:
            raise ValueError(f"{name} rated {len(twice)} item(s) more than once (e.g. {twice[:3]}); keep one "
                             f"rating per item, e.g. frame.drop_duplicates({id_col!r}, keep='last') for the latest")
        keep = frame[rating_col].notna() & ~frame[rating_col].isin(list(not_ratings))
        rated.append(frame.loc[keep, [id_col, rating_col]].rename(columns={rating_col: name}))
    joined = rated[0].merge(rated[1], on=id_col, how="inner")
    if joined.empty:
        raise ValueError(f"{names[0]} and {names[1]} rated no item in common ({len(rated[0])} and {len(rated[1])} "
                         "items rated): are the two files for the same dataset?")
    only = [sorted(set(rated[i][id_col]) - set(rated[1 - i][id_col]), key=str) for i in (0, 1)]
    if only[0] or only[1]:
        warnings.warn(f"{len(only[0])} item(s) were rated by {names[0]} only (e.g. {only[0][:3]}) and "
                      f"{len(only[1])} by {names[1]} only (e.g. {only[1][:3]}); agreement uses the {len(joined)} "
                      "items both rated", UserWarning, stacklevel=2)
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
        return (f"{self.rate:.2f} [{self.low:.2f}, {self.high:.2f}] ({self.confidence:.0%} CI; {self.wins} wins, "
                f"{self.losses} losses, {self.ties} ties of {self.n})")


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
        raise ValueError(f"outcomes must be 'A', 'B' or 'tie'; got {unknown}. Map a judge's unparsable answers "
                         "to 'tie' or drop them, and say which you did")
    n = sum(counts.values())
    if n == 0:
        raise ValueError("win_rate of no comparisons is undefined: outcomes is empty")
    wins, losses, ties = counts["A"], counts["B"], counts["tie"]
    rate = (wins + ties / 2) / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return WinRate(wins=wins, losses=losses, ties=ties, n=n, rate=rate, low=max(0.0, centre - half),
                   high=min(1.0, centre + half), method="wilson (ties count half)", confidence=confidence)
