"""Tests of synthlab.evaluation.ranking: Bradley-Terry and Elo from pairwise outcomes, and their refusals."""

from __future__ import annotations

import pandas as pd
import pytest

from synthlab.evaluation.ranking import bradley_terry, elo_ratings, matches


def games(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["system_a", "system_b", "outcome"])


LADDER = games(
    [("strong", "middle", "A")] * 6
    + [("middle", "strong", "A")] * 2
    + [("middle", "weak", "A")] * 6
    + [("weak", "middle", "A")] * 2
    + [("strong", "weak", "A")] * 7
    + [("strong", "weak", "tie")]
)


def test_bradley_terry_orders_a_clear_ladder_and_centres_on_1000():
    table = bradley_terry(LADDER, n_boot=100, seed=0)
    assert table.index.tolist() == ["strong", "middle", "weak"]
    assert abs(table["score"].mean() - 1000) < 1e-6
    assert (table["low"] <= table["score"]).all() and (table["score"] <= table["high"]).all()
    assert table.loc["strong", "games"] == 16 and table.loc["strong", "ties"] == 1
    assert table.loc["weak", "win_share"] == pytest.approx(2.5 / 16)


def test_bradley_terry_equal_systems_score_equal():
    table = bradley_terry(games([("x", "y", "A"), ("x", "y", "B"), ("y", "x", "tie")]), n_boot=0)
    assert table["score"].tolist() == pytest.approx([1000, 1000])


def test_prior_keeps_an_unbeaten_system_finite():
    unbeaten = games([("x", "y", "A")] * 3)
    assert bradley_terry(unbeaten, n_boot=0)["score"].between(1000, 2000).any()
    with pytest.raises(ValueError, match="prior > 0"):
        bradley_terry(unbeaten, prior=0, n_boot=0)


def test_elo_agrees_on_the_ladder_and_is_seeded():
    first = elo_ratings(LADDER, permutations=30, seed=3)
    assert first.index.tolist() == ["strong", "middle", "weak"]
    assert abs(first["elo"].mean() - 1000) < 1e-6  # Elo moves points between players, never creates them
    pd.testing.assert_frame_equal(first, elo_ratings(LADDER, permutations=30, seed=3))


def test_refusals_name_the_problem():
    with pytest.raises(ValueError, match="at least two systems"):
        bradley_terry(games([("x", "x", "A")]).iloc[:0])
    with pytest.raises(ValueError, match="against itself"):
        elo_ratings(games([("x", "x", "A")]))
    with pytest.raises(ValueError, match=r"\['z'\] never play"):
        bradley_terry(games([("x", "y", "A")]), systems=["x", "y", "z"])
    with pytest.raises(ValueError, match="not in systems"):
        bradley_terry(games([("x", "y", "A"), ("y", "z", "B")]), systems=["x", "y"])
    with pytest.raises(ValueError, match="'A', 'B' or 'tie'"):
        matches(games([("x", "y", "C")]))
    with pytest.raises(KeyError, match="outcome"):
        elo_ratings(games([("x", "y", "A")]).drop(columns="outcome"))


def test_undecided_matches_are_left_out_with_a_warning():
    with pytest.warns(UserWarning, match="1 of 3 matches have no outcome"):
        table = bradley_terry(games([("x", "y", "A"), ("x", "y", "B"), ("x", "y", None)]), n_boot=0)
    assert table["games"].tolist() == [2, 2]
