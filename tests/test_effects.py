"""The reproduction table: verdicts follow the intervals, notebooks' effects round-trip through JSON, every
taxonomy leaf has a row, and the committed page is what the committed effects give."""

from __future__ import annotations

import json
import math

import pytest

from synthlab.__main__ import REPRODUCTION_PAGE, main
from synthlab.evaluation.uncertainty import Estimate
from synthlab.workflows.effects import (
    LEAVES,
    Effect,
    effects_dir,
    read_effects,
    record_effects,
    reproduction_page,
    reproduction_table,
    verdict,
)


def estimate(value: float, low: float, high: float) -> Estimate:
    return Estimate(value, low, high, 100, "test")


@pytest.mark.parametrize(
    "interval, direction, expected",
    [
        ((0.05, 0.01, 0.09), 1, "reproduces"),
        ((0.05, 0.01, 0.09), -1, "reverses"),
        ((-0.05, -0.09, -0.01), -1, "reproduces"),
        ((-0.05, -0.09, -0.01), 1, "reverses"),
        ((0.02, -0.01, 0.05), 1, "no detectable effect"),
        ((0.0, 0.0, 0.0), 1, "no detectable effect"),  # an interval that touches 0 does not exclude it
        ((0.03, 0.0, 0.06), 1, "no detectable effect"),
    ],
)
def test_verdict_follows_the_interval(interval, direction, expected):
    assert verdict(estimate(*interval), direction) == expected


def test_bad_leaf_and_direction_are_refused():
    with pytest.raises(ValueError, match="unknown taxonomy leaf 'G10'"):
        Effect("G10", "claim", "measured", estimate(0.1, 0.0, 0.2))
    with pytest.raises(ValueError, match="direction is \\+1"):
        Effect("G1", "claim", "measured", estimate(0.1, 0.0, 0.2), direction=0)
    with pytest.raises(ValueError, match="no effects to record"):
        record_effects("01_x", [])


def test_effects_round_trip_and_every_leaf_has_a_row(tmp_path):
    first = Effect("G2", "attributes help", "TSTR gain", estimate(0.04, 0.01, 0.07), n="2,524 test rows", seeds=(0, 1))
    second = Effect("C1", "filter finds noise", "agreement gain", estimate(-0.1, -0.2, -0.02), note="small")
    path = record_effects("40_capstone", [first, second], tmp_path)
    assert json.loads(path.read_text())[0]["verdict"] == "reproduces"
    effects = read_effects(tmp_path)
    assert list(effects["leaf"]) == ["G2", "C1"] and effects.loc[0, "seeds"] == [0, 1]
    assert effects.loc[1, "verdict"] == "reverses" and effects.loc[1, "value"] == -0.1
    table = reproduction_table(tmp_path)
    assert set(table["leaf"]) == set(LEAVES) and len(table) == len(LEAVES)
    assert list(table["leaf"]) == list(LEAVES)  # taxonomy order
    assert (table["verdict"] == "not measured").sum() == len(LEAVES) - 2
    page = reproduction_page(tmp_path)
    assert "| G2 Conditioning scope | attributes help | TSTR gain | +0.040 [+0.010, +0.070] |" in page
    assert "1 reproduces, 0 no detectable effect, 1 reverses, 26 not measured" in page
    assert "- C1, agreement gain: small" in page


def test_rewriting_a_notebook_replaces_its_effects(tmp_path):
    record_effects("21_x", [Effect("E6", "c", "m", estimate(0.1, 0.05, 0.15))], tmp_path)
    record_effects("21_x", [Effect("E6", "c", "m", estimate(0.2, 0.15, 0.25))], tmp_path)
    assert read_effects(tmp_path)["value"].tolist() == [0.2]


def test_a_nan_estimate_is_kept_as_nan(tmp_path):
    record_effects("22_x", [Effect("E2", "c", "m", estimate(math.nan, math.nan, math.nan))], tmp_path)
    assert math.isnan(read_effects(tmp_path).loc[0, "value"])


def test_the_committed_page_is_what_the_committed_effects_give(capsys):
    assert effects_dir() == REPRODUCTION_PAGE.parents[1] / "notebooks" / "effects"
    assert main(["effects", "--check"]) == 0, "docs/reproduction.md is stale: run python -m synthlab effects"
    assert REPRODUCTION_PAGE.read_text() == reproduction_page()


def test_check_says_when_the_page_is_stale(tmp_path, capsys):
    page = tmp_path / "reproduction.md"
    page.write_text("old\n")
    assert main(["effects", "--check", "--page", str(page)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["effects", "--page", str(page)]) == 0 and main(["effects", "--check", "--page", str(page)]) == 0
