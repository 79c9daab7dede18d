"""Rank systems from pairwise outcomes (taxonomy E8): Bradley-Terry scores with bootstrap intervals
and Elo ratings averaged over match orders, both on the Elo scale (1000 is the average system,
+400 means 10:1 odds of winning).

- :func:`bradley_terry`: P(i beats j) = p_i / (p_i + p_j) (Bradley & Terry, 1952), fitted by the
  MM algorithm (Hunter, 2004); ties count as half a win to each side; a small prior of virtual
  ties between every two systems keeps scores finite when one system wins every game (the
  regularised fit of Chatbot Arena, Chiang et al., 2024); intervals from resampling the matches.
- :func:`elo_ratings`: sequential Elo updates (Elo, 1978) with step ``k``; the result depends on
  the order of the matches, so it is averaged over seeded random orders and the interval shows
  that order spread (not sampling uncertainty).

Both take the frame of :func:`synthlab.evaluation.pairwise.judge_pairs` (columns ``system_a``, ``system_b``,
``outcome`` in ``"A"``/``"B"``/``"tie"``) or any frame with those columns, e.g. human preferences.
Taught in ``notebooks/23_model_judges.ipynb``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthlab.core.checks import check_column

__all__ = ["OUTCOME_SCORE", "bradley_terry", "elo_ratings", "matches"]

OUTCOME_SCORE = {"A": 1.0, "B": 0.0, "tie": 0.5}  # what system_a scores


def matches(
    judged: pd.DataFrame,
    *,
    systems: Sequence[str] | None = None,
    system_a_col: str = "system_a",
    system_b_col: str = "system_b",
    outcome_col: str = "outcome",
) -> tuple[list[str], pd.DataFrame]:
    """The systems and the decided matches (columns ``a``, ``b`` as system positions and ``score_a``),
    after checking them: rows without an outcome are left out with a warning; fewer than two systems,
    a system that plays itself, an unknown outcome or a listed system that never plays raise."""
    for column, role in (
        (system_a_col, "system_a_col"),
        (system_b_col, "system_b_col"),
        (outcome_col, "outcome_col"),
    ):
        check_column(judged, column, role, frame_name="judged")
    decided = judged[judged[outcome_col].notna()]
    if len(decided) < len(judged):
        warnings.warn(
            f"{len(judged) - len(decided)} of {len(judged)} matches have no outcome (unparseable or "
            "dropped verdicts) and are left out of the ranking",
            UserWarning,
            stacklevel=3,
        )
    unknown = sorted(set(decided[outcome_col]) - set(OUTCOME_SCORE))
    if unknown:
        raise ValueError(f"outcomes must be 'A', 'B' or 'tie'; got {unknown}")
    selfplay = decided[decided[system_a_col] == decided[system_b_col]]
    if len(selfplay):
        raise ValueError(
            f"{len(selfplay)} matches pit a system against itself "
            f"(e.g. {selfplay[system_a_col].iloc[0]!r}); pair different systems"
        )
    played = set(decided[system_a_col]) | set(decided[system_b_col])
    names = list(systems) if systems is not None else sorted(played)
    idle = [name for name in names if name not in played]
    if idle:
        raise ValueError(
            f"systems {idle} never play a decided match, so they cannot be ranked; "
            "judge pairs that include them, or leave them out of systems"
        )
    if len(names) < 2:
        raise ValueError(f"a ranking needs at least two systems that play each other; got {names}")
    extra = sorted(played - set(names))
    if extra:
        raise ValueError(f"systems {extra} play but are not in systems={names}; list every system")
    position = {name: i for i, name in enumerate(names)}
    frame = pd.DataFrame(
        {
            "a": decided[system_a_col].map(position).to_numpy(),
            "b": decided[system_b_col].map(position).to_numpy(),
            "score_a": decided[outcome_col].map(OUTCOME_SCORE).to_numpy(),
        }
    )
    return names, frame


def _record(names: list[str], games: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for i, name in enumerate(names):
        as_a, as_b = games[games["a"] == i]["score_a"], 1 - games[games["b"] == i]["score_a"]
        scores = pd.concat([as_a, as_b])
        rows.append(
            {
                "system": name,
                "games": len(scores),
                "wins": int((scores == 1).sum()),
                "losses": int((scores == 0).sum()),
                "ties": int((scores == 0.5).sum()),
                "win_share": float(scores.mean()),
            }
        )
    return pd.DataFrame(rows).set_index("system")


def _fit_bt(n_systems: int, games: pd.DataFrame, prior: float, max_iter: int = 1000, tol: float = 1e-9) -> np.ndarray:
    wins = np.full((n_systems, n_systems), prior / 2)  # wins[i, j]: i's (half-)wins over j
    np.fill_diagonal(wins, 0.0)
    np.add.at(wins, (games["a"].to_numpy(), games["b"].to_numpy()), games["score_a"].to_numpy())
    np.add.at(wins, (games["b"].to_numpy(), games["a"].to_numpy()), 1 - games["score_a"].to_numpy())
    played, total_wins = wins + wins.T, wins.sum(axis=1)
    strength = np.ones(n_systems)
    for _ in range(max_iter):
        updated = total_wins / (played / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated /= np.exp(np.log(updated).mean())
        if np.max(np.abs(updated - strength)) < tol:
            return updated
        strength = updated
    return strength


def _elo_scale(strength: np.ndarray) -> np.ndarray:
    return 1000 + 400 * np.log10(strength)


def bradley_terry(
    judged: pd.DataFrame,
    *,
    systems: Sequence[str] | None = None,
    prior: float = 1.0,
    n_boot: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    system_a_col: str = "system_a",
    system_b_col: str = "system_b",
    outcome_col: str = "outcome",
) -> pd.DataFrame:
    """Bradley-Terry scores of the systems on the Elo scale with percentile bootstrap intervals
    (``n_boot`` resamples of the matches, seeded), best first, next to each system's games, wins,
    losses, ties and ``win_share``. ``prior`` virtual games per pair of systems, split as ties,
    regularise the fit (0 is the plain maximum-likelihood fit, infinite when a system never loses).
    ``system_a_col`` / ``system_b_col`` / ``outcome_col`` name the columns (see :func:`matches`)."""
    if prior < 0 or n_boot < 0:
        raise ValueError(f"prior and n_boot must be >= 0; got prior={prior}, n_boot={n_boot}")
    names, games = matches(
        judged, systems=systems, system_a_col=system_a_col, system_b_col=system_b_col, outcome_col=outcome_col
    )
    if prior == 0 and (_record(names, games)["win_share"].isin([0.0, 1.0])).any():
        raise ValueError("a system won or lost every game, so its plain Bradley-Terry score is infinite; use prior > 0")
    table = _record(names, games)
    table.insert(0, "score", _elo_scale(_fit_bt(len(names), games, prior)))
    if n_boot:
        rng = np.random.default_rng(seed)
        boots = np.array(
            [
                _elo_scale(_fit_bt(len(names), games.iloc[rng.integers(0, len(games), len(games))], prior))
                for _ in range(n_boot)
            ]
        )
        tail = (1 - confidence) / 2 * 100
        table.insert(1, "low", np.percentile(boots, tail, axis=0))
        table.insert(2, "high", np.percentile(boots, 100 - tail, axis=0))
    return table.sort_values("score", ascending=False)


def elo_ratings(
    judged: pd.DataFrame,
    *,
    systems: Sequence[str] | None = None,
    k: float = 16.0,
    initial: float = 1000.0,
    permutations: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
    system_a_col: str = "system_a",
    system_b_col: str = "system_b",
    outcome_col: str = "outcome",
) -> pd.DataFrame:
    """Elo ratings averaged over ``permutations`` seeded random orders of the matches (each match moves
    both ratings by ``k`` times the surprise of its result), with the percentile interval over orders,
    best first, next to each system's record. The column keywords are those of :func:`matches`."""
    if k <= 0 or permutations < 1:
        raise ValueError(f"k must be > 0 and permutations >= 1; got k={k}, permutations={permutations}")
    names, games = matches(
        judged, systems=systems, system_a_col=system_a_col, system_b_col=system_b_col, outcome_col=outcome_col
    )
    rng = np.random.default_rng(seed)
    a, b, score = games["a"].to_numpy(), games["b"].to_numpy(), games["score_a"].to_numpy()
    finals = np.empty((permutations, len(names)))
    for run in range(permutations):
        rating = np.full(len(names), initial)
        for match in rng.permutation(len(games)):
            i, j = a[match], b[match]
            expected = 1 / (1 + 10 ** ((rating[j] - rating[i]) / 400))
            rating[i] += k * (score[match] - expected)
            rating[j] -= k * (score[match] - expected)
        finals[run] = rating
    tail = (1 - confidence) / 2 * 100
    table = _record(names, games)
    table.insert(0, "elo", finals.mean(axis=0))
    table.insert(1, "low", np.percentile(finals, tail, axis=0))
    table.insert(2, "high", np.percentile(finals, 100 - tail, axis=0))
    return table.sort_values("elo", ascending=False)
