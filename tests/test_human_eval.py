"""Human evaluation: the A-D rater and the pairwise preference rater (driven from Python), the pairs' seeded
left/right draw and its mapping back to systems, and the simulated raters."""

from __future__ import annotations

import pandas as pd
import pytest

from synthlab.annotation.raters import (
    GRADES,
    RUBRIC,
    SIDES,
    PreferenceRater,
    ValidityRater,
    pair_outputs,
    preference_outcomes,
)
from synthlab.annotation.store import LabelStore
from synthlab.core.classifiers import train_and_test
from synthlab.curation.reannotate import simulate_annotation
from synthlab.evaluation.human import (
    align_ratings,
    cohen_kappa,
    rule_validity_ratings,
    simulated_preferences,
    slip_ratings,
    win_rate,
)


def outputs(n: int = 4, prefix: str = "out") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "text": [f"{prefix} text {i}" for i in range(n)],
            "label": ["positive", "negative"] * (n // 2),
            "asked": ["a positive review", "a negative review"] * (n // 2),
        }
    )


def test_the_validity_rater_shows_the_rubric_and_saves_each_grade_at_once(tmp_path):
    store = LabelStore(tmp_path / "ann.jsonl", outputs(), labels=list(GRADES))
    rater = ValidityRater(store, ["out2", "out0", "out1", "out3"], prompt_col="asked", rater="ann")
    assert rater.current_id == "out2" and "a positive review" in rater.row_text.value
    assert all(meaning.split(":")[0] in rater.children[2].value for meaning in RUBRIC.values())
    rater.decide("B")
    rater.buttons["D"].click()
    assert store.decisions()[["id", "decision", "annotator"]].values.tolist() == [
        ["out2", "B", "ann"],
        ["out0", "D", "ann"],
    ]
    resumed = ValidityRater(
        LabelStore(tmp_path / "ann.jsonl", outputs(), labels=list(GRADES)), ["out2", "out0", "out1", "out3"]
    )
    assert resumed.current_id == "out1", "a new session resumes at the first unrated row"


def test_the_validity_rater_refuses_a_store_without_the_grades_or_a_missing_prompt_column(tmp_path):
    with pytest.raises(ValueError, match="needs labels"):
        ValidityRater(LabelStore(tmp_path / "x.jsonl", outputs()), ["out0"])
    with pytest.raises(KeyError, match="prompt_col 'request'"):
        ValidityRater(LabelStore(tmp_path / "y.jsonl", outputs(), labels=list(GRADES)), ["out0"], prompt_col="request")


def pairs(seed: int = 0, n: int = 8) -> pd.DataFrame:
    return pair_outputs(outputs(n, "a"), outputs(n, "b"), systems=("sys-a", "sys-b"), task_col="asked", seed=seed)


def test_pair_outputs_draws_sides_per_item_with_a_seed_and_keeps_what_each_system_wrote():
    drawn = pairs()
    assert drawn["left_system"].nunique() == 2, "system A is sometimes left, sometimes right"
    assert drawn.equals(pairs()) and not drawn["left_system"].equals(pairs(seed=1)["left_system"])
    for row in drawn.itertuples():
        k = row.id.split("-")[1]
        assert {row.left_text, row.right_text} == {f"a text {k}", f"b text {k}"}
        assert row.left_text.startswith("a") == (row.left_system == "sys-a")
    assert (drawn["order_seed"] == 0).all() and (drawn["system_a"] == "sys-a").all()


def test_pair_outputs_rejects_frames_that_do_not_answer_the_same_requests():
    with pytest.raises(ValueError, match="4 rows and second 2"):
        pair_outputs(outputs(4), outputs(2), systems=("x", "y"), task_col="asked")
    shuffled = outputs(4).iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValueError, match="answer different requests"):
        pair_outputs(outputs(4), shuffled, systems=("x", "y"), task_col="asked")
    with pytest.raises(ValueError, match="two different names"):
        pair_outputs(outputs(), outputs(), systems=("x", "x"), task_col="asked")
    with pytest.raises(ValueError, match="no rows"):
        pair_outputs(outputs().head(0), outputs(), systems=("x", "y"), task_col="asked")


def test_a_preference_store_refuses_decisions_made_under_another_left_right_draw(tmp_path):
    LabelStore(tmp_path / "prefs.jsonl", pairs(seed=0), labels=list(SIDES))
    with pytest.raises(ValueError, match="belongs to another dataset"):
        LabelStore(tmp_path / "prefs.jsonl", pairs(seed=1), labels=list(SIDES))


def test_the_preference_rater_maps_left_and_right_back_to_the_systems(tmp_path):
    drawn = pairs()
    store = LabelStore(tmp_path / "prefs.jsonl", drawn, labels=list(SIDES))
    rater = PreferenceRater(store, rater="ann")
    first = drawn.iloc[0]
    assert first["left_text"] in rater.row_text.value and first["right_text"] in rater.row_text.value
    assert "sys-a" not in rater.row_text.value, "the rater must not see which system wrote which side"
    rater.decide("left")
    rater.decide("tie")
    rater.buttons["right"].click()
    rater.decide("skip")
    outcomes = preference_outcomes(drawn, store.decisions())
    assert outcomes["id"].tolist() == ["pair-0", "pair-1", "pair-2"]
    assert outcomes["winner"].tolist() == [drawn["left_system"][0], "tie", drawn["right_system"][2]]
    expected_a = {"sys-a": "A", "sys-b": "B", "tie": "tie"}
    assert outcomes["outcome"].tolist() == [expected_a[w] for w in outcomes["winner"]]


def test_preference_outcomes_refuses_decisions_on_other_pairs():
    with pytest.raises(KeyError, match="not pairs of this frame"):
        preference_outcomes(pairs(), pd.DataFrame({"id": ["pair-99"], "decision": ["left"]}))


def test_a_left_biased_rater_does_not_favour_a_system_because_sides_are_drawn():
    drawn = pairs(n=400)
    equal = {"sys-a": pd.Series(["B"] * 400), "sys-b": pd.Series(["B"] * 400)}  # every pair is really a tie
    answers = simulated_preferences(drawn, equal, left_bias=1.0)
    assert set(answers.values()) == {"left"}
    outcomes = preference_outcomes(drawn, pd.DataFrame({"id": list(answers), "decision": list(answers.values())}))
    result = win_rate(outcomes["outcome"])
    assert result.low < 0.5 < result.high, "a pure left bias must not show up as a win for either system"


def test_simulated_preferences_prefer_the_better_grade():
    drawn = pairs(n=4)
    grades = {"sys-a": pd.Series(list("AACD")), "sys-b": pd.Series(list("BAAD"))}
    answers = simulated_preferences(drawn, grades)
    outcomes = preference_outcomes(drawn, pd.DataFrame({"id": list(answers), "decision": list(answers.values())}))
    assert outcomes["outcome"].tolist() == ["A", "tie", "B", "tie"]
    with pytest.raises(KeyError, match="no ratings for system"):
        simulated_preferences(drawn, {"sys-a": grades["sys-a"]})


def test_the_rule_rater_grades_from_filters_and_the_oracle():
    real = pd.DataFrame(
        {
            "text": [
                "a great wonderful film",
                "a superb moving great film",
                "an awful boring mess",
                "a dull awful waste",
            ]
            * 5,
            "label": ["positive", "positive", "negative", "negative"] * 5,
        }
    )
    oracle = train_and_test(real, real, classifier="tfidf-logreg")
    rows = pd.DataFrame(
        {
            "id": list("abcde"),
            "label": ["positive"] * 5,
            "error": [None, None, None, "boom", None],
            "text": [
                "A great wonderful film.",
                "A great wonderful film, cut off mid",
                "An awful boring mess.",
                None,
                "As an AI language model, I cannot review films.",
            ],
        }
    )
    rated = rule_validity_ratings(rows, oracle)
    assert rated["rating"].tolist() == ["A", "B", "C", "D", "D"]
    assert rated.index.equals(rows.index) and rated["reason"].iloc[1].startswith("does not end like a sentence")
    assert pd.isna(rated["reason"].iloc[0]) and "the oracle reads negative" in rated["reason"].iloc[2]
    with pytest.raises(ValueError, match="no rows"):
        rule_validity_ratings(rows.head(0), oracle)


def test_slip_ratings_moves_a_share_of_grades_by_one_and_lowers_kappa_accordingly():
    grades = pd.Series(list("ABCD") * 100)
    slipped = slip_ratings(grades, rate=0.3, seed=0)
    moved = grades.map(GRADES.index) - slipped.map(GRADES.index)
    assert moved.abs().max() == 1 and 0.15 < (moved != 0).mean() < 0.35  # clipped at A and D
    assert slip_ratings(grades, rate=0.0).equals(grades)
    assert 0.4 < cohen_kappa(grades, slipped, labels=GRADES) < 0.9
    with pytest.raises(ValueError, match="grades"):
        slip_ratings(pd.Series(["A", "E"]), rate=0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        slip_ratings(grades, rate=2)


def test_two_raters_files_align_and_give_kappa(tmp_path):
    frame = outputs(6)
    stores = [LabelStore(tmp_path / f"{name}.jsonl", frame, labels=list(GRADES)) for name in ("ann", "bob")]
    simulate_annotation(stores[0], frame["id"], dict(zip(frame["id"], "AABBCD")), budget=6)
    simulate_annotation(stores[1], frame["id"], dict(zip(frame["id"], "ABBBC")), budget=5)  # bob stopped early
    with pytest.warns(UserWarning, match="1 item"):
        joined = align_ratings(stores[0].decisions(), stores[1].decisions(), names=("ann", "bob"))
    assert len(joined) == 5 and cohen_kappa(joined["ann"], joined["bob"], labels=GRADES) < 1


def test_unshuffled_pairs_put_system_a_always_left_and_a_left_bias_then_favours_it():
    fixed = pair_outputs(
        outputs(40, "a"), outputs(40, "b"), systems=("sys-a", "sys-b"), task_col="asked", shuffle=False
    )
    assert (fixed["left_system"] == "sys-a").all() and fixed["order_seed"].isna().all()
    equal = {"sys-a": pd.Series(["A"] * 40), "sys-b": pd.Series(["A"] * 40)}
    answers = simulated_preferences(fixed, equal, left_bias=0.5, seed=0)
    outcomes = preference_outcomes(fixed, pd.DataFrame({"id": list(answers), "decision": list(answers.values())}))
    assert win_rate(outcomes["outcome"]).rate > 0.6, "with A always left, a left bias reads as a win for A"


def test_the_rule_rater_refuses_a_frame_whose_index_repeats():
    rows = pd.concat([outputs(2), outputs(2)])
    with pytest.raises(ValueError, match="reset_index"):
        rule_validity_ratings(rows, oracle=None)


def test_the_simulated_left_bias_is_independent_of_the_draw_of_sides_under_the_same_seed():
    drawn = pairs(seed=0, n=400)
    equal = {"sys-a": pd.Series(["B"] * 400), "sys-b": pd.Series(["B"] * 400)}
    answers = simulated_preferences(drawn, equal, left_bias=0.3, seed=0)
    outcomes = preference_outcomes(drawn, pd.DataFrame({"id": list(answers), "decision": list(answers.values())}))
    counts = outcomes["outcome"].value_counts()
    assert 80 < counts["A"] + counts["B"] < 160 and abs(counts["A"] - counts["B"]) < 40
