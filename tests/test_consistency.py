"""Consistency-based detectors (taxonomy C2): cross-fitted disagreement, majority votes, neighbour
agreement, the LLM rater, its threshold curve and the logged filter step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlab.curation.consistency import (
    classifier_disagreement,
    classifier_votes,
    drop_flagged,
    llm_votes,
    majority_vote,
    neighbour_agreement,
)
from synthlab.curation.rating import parse_score, rate_labels, threshold_curve
from tests.fake_models import ScriptedModel

GOOD = [
    f"a {a} and {b} film about {topic}"
    for a, b, topic in zip(
        [
            "great",
            "wonderful",
            "moving",
            "great",
            "superb",
            "wonderful",
            "lovely",
            "great",
            "superb",
            "moving",
        ],
        [
            "wonderful",
            "great",
            "superb",
            "lovely",
            "great",
            "moving",
            "great",
            "superb",
            "wonderful",
            "lovely",
        ],
        ["love", "war", "sport", "music", "family", "travel", "crime", "school", "space", "food"],
    )
]
BAD = [
    f"a {a} and {b} film about {topic}"
    for a, b, topic in zip(
        ["dull", "boring", "awful", "dull", "terrible", "boring", "awful", "dull", "terrible", "boring"],
        ["boring", "awful", "terrible", "dull", "awful", "terrible", "dull", "boring", "dull", "awful"],
        ["love", "war", "sport", "music", "family", "travel", "crime", "school", "space", "food"],
    )
]


def reviews(flip: int = 1) -> pd.DataFrame:
    """20 clean-cut reviews; the first ``flip`` positive ones carry the wrong label."""
    frame = pd.DataFrame({"text": GOOD + BAD, "label": ["positive"] * 10 + ["negative"] * 10})
    frame["is_noisy"] = False
    frame.loc[: flip - 1, "label"] = "negative"
    frame.loc[: flip - 1, "is_noisy"] = True
    frame.index = [f"r{i}" for i in range(len(frame))]
    return frame


def test_classifier_disagreement_flags_the_flipped_row_with_a_reason():
    frame = reviews()
    found = classifier_disagreement(frame, n_splits=3, classifier="nltk-nb")
    assert found.index.equals(frame.index)
    assert {"predicted_label", "predicted_proba", "label_proba", "suspicion", "flagged", "reason"} <= set(found.columns)
    assert found["suspicion"].idxmax() == "r0"
    assert found.loc["r0", "flagged"] and found.loc["r0", "predicted_label"] == "positive"
    assert found.loc["r0", "reason"].startswith("cross-fitted classifier says positive (p=")
    assert found.loc[~found["flagged"], "reason"].isna().all()


def test_classifier_disagreement_min_proba_makes_it_stricter():
    frame = reviews()
    assert not classifier_disagreement(frame, n_splits=3, classifier="nltk-nb", min_proba=1.01)["flagged"].any()


def test_majority_vote_counts_ties_for_the_given_label_and_abstentions():
    votes = pd.DataFrame(
        {"a": ["x", "y", "x", None], "b": ["x", "x", "y", None], "c": ["y", None, None, None]},
        index=[10, 11, 12, 13],
    )
    result = majority_vote(votes, ["y", "y", "y", "x"])
    assert result["n_votes"].tolist() == [3, 2, 2, 0]
    assert result.loc[10, "majority_label"] == "x" and result.loc[10, "flagged"]
    assert result.loc[10, "reason"] == "2 of 3 votes say x"
    assert result.loc[10, "suspicion"] == pytest.approx(2 / 3)
    assert result.loc[11, "majority_label"] == "y" and not result.loc[11, "flagged"]  # tie goes to the given label
    assert result.loc[13, "majority_label"] is None and result.loc[13, "suspicion"] == 0.0
    assert result.loc[13, "agrees"] is None and not result.loc[13, "flagged"]


def test_majority_vote_needs_voters():
    with pytest.raises(ValueError, match="no columns"):
        majority_vote(pd.DataFrame(index=[0, 1]), ["x", "y"])


def test_classifier_votes_has_one_column_per_voter_aligned_with_the_frame():
    frame = reviews()
    votes = classifier_votes(frame, voters={"words": "tfidf-logreg", "bayes": "nltk-nb"}, n_splits=3)
    assert list(votes.columns) == ["words", "bayes"] and votes.index.equals(frame.index)
    assert set(votes.stack()) <= {"positive", "negative"}
    assert majority_vote(votes, frame["label"]).loc["r0", "flagged"]
    with pytest.raises(ValueError, match="voters is empty"):
        classifier_votes(frame, voters={})


def test_neighbour_agreement_is_low_for_the_flipped_row():
    frame = reviews()
    found = neighbour_agreement(frame, k=3)
    assert found["neighbour_agreement"].between(0, 1).all()
    assert found.loc["r0", "neighbour_label"] == "positive" and found.loc["r0", "flagged"]
    assert found.loc["r0", "reason"].startswith("only ") and "labelled negative" in found.loc["r0", "reason"]
    np.testing.assert_allclose(found["suspicion"], 1 - found["neighbour_agreement"])


def test_neighbour_agreement_ignores_the_row_itself_among_exact_duplicates():
    frame = pd.DataFrame(
        {"text": ["same text", "same text", "other words", "more words"], "label": ["a", "b", "a", "b"]}
    )
    found = neighbour_agreement(frame, k=1)
    assert found.loc[0, "neighbour_agreement"] == 0.0 and found.loc[1, "neighbour_agreement"] == 0.0


@pytest.mark.parametrize("k", [0, 20])
def test_neighbour_agreement_rejects_a_bad_k(k):
    with pytest.raises(ValueError, match="k="):
        neighbour_agreement(reviews(), k=k)


@pytest.mark.parametrize(
    "output, score",
    [
        ('{"score": 4}', 4.0),
        ("Score: 2", 2.0),
        ("I give it 5/5.", 5.0),
        ("four out of five", 4.0),
        ("It scores 10 then 3", 3.0),
    ],
)
def test_parse_score_reads_json_and_free_text(output, score):
    assert parse_score(output) == {"rater_score": score}


@pytest.mark.parametrize("output", ["The label fits perfectly.", '{"score": 9}', ""])
def test_parse_score_raises_when_there_is_no_score(output):
    with pytest.raises(ValueError, match="no score"):
        parse_score(output)


def test_rate_labels_records_unreadable_scores_instead_of_dropping_rows():
    frame = reviews().iloc[:3]
    rater = ScriptedModel(answers={GOOD[0]: "Score: 1", GOOD[1]: "I would say 5"}, default="It fits nicely.")
    rated = rate_labels(rater, frame, threshold=3, progress=False)
    assert rated.index.equals(frame.index)
    assert rated.loc["r0", "rater_score"] == 1.0 and rated.loc["r0", "flagged"]
    assert rated.loc["r0", "reason"] == "LLM rater scored the label 1 < 3"
    assert rated.loc["r1", "rater_score"] == 5.0 and not rated.loc["r1", "flagged"]
    assert np.isnan(rated.loc["r2", "rater_score"]) and "no score" in rated.loc["r2", "rater_error"]
    assert not rated.loc["r2", "flagged"] and np.isnan(rated.loc["r2", "suspicion"])


def test_rate_labels_warns_when_no_score_is_readable():
    with pytest.warns(UserWarning, match="no readable score"):
        rated = rate_labels(ScriptedModel(answers={}), reviews().iloc[:2], progress=False)
    assert rated["rater_score"].isna().all() and not rated["flagged"].any()


def test_llm_votes_one_column_per_seed_then_majority():
    frame = reviews().iloc[:2]
    voter = ScriptedModel(answers={GOOD[0]: '{"label": "positive"}', GOOD[1]: '{"label": "negative"}'})
    votes = llm_votes(voter, frame, ["positive", "negative"], seeds=(0, 1, 2), progress=False)
    assert list(votes.columns) == ["llm seed 0", "llm seed 1", "llm seed 2"]
    result = majority_vote(votes, frame["label"])
    assert result.loc["r0", "flagged"] and result.loc["r0", "reason"] == "3 of 3 votes say positive"
    assert result.loc["r1", "flagged"]  # the voter says negative for a row labelled positive
    with pytest.raises(ValueError, match="seeds is empty"):
        llm_votes(voter, frame, ["positive", "negative"], seeds=())


def test_threshold_curve_keeps_unscored_rows_and_reports_noise_left():
    frame = reviews(flip=2)
    test = reviews(flip=0)
    scores = [1, 1] + [5] * 16 + [np.nan, np.nan]
    curve = threshold_curve(frame, scores, test, thresholds=(1, 3), noise_col="is_noisy")
    assert curve["n_kept"].tolist() == [20, 18] and (curve["unscored_kept"] == 2).all()
    assert curve["noise_left"].tolist() == pytest.approx([2 / 20, 0.0])
    assert curve["accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match="one per row"):
        threshold_curve(frame, [1, 2], test)


def test_threshold_curve_gives_nan_accuracy_when_one_label_is_left():
    frame = reviews(flip=0)
    curve = threshold_curve(frame, [5] * 10 + [1] * 10, frame, thresholds=(3,))
    assert curve["n_kept"].tolist() == [10] and np.isnan(curve.loc[0, "accuracy"])


def test_drop_flagged_logs_every_removed_row_with_its_reason():
    frame = reviews()
    found = classifier_disagreement(frame, n_splits=3, classifier="nltk-nb")
    kept, removed = drop_flagged(frame, found, step="classifier")
    assert len(kept) + len(removed) == len(frame) and "r0" in removed.index
    assert removed["reason"].notna().all() and (removed["step"] == "classifier").all()


def test_drop_flagged_keeps_unscored_rows_of_a_reindexed_slice():
    frame = reviews()
    found = classifier_disagreement(frame, n_splits=3, classifier="nltk-nb").iloc[:3].reindex(frame.index)
    kept, removed = drop_flagged(frame, found, step="slice")
    assert list(removed.index) == ["r0"] and len(kept) == len(frame) - 1


def test_drop_flagged_warns_when_everything_goes_and_refuses_misaligned_input():
    frame = reviews()
    found = pd.DataFrame({"flagged": True, "reason": "all bad"}, index=frame.index)
    with pytest.warns(UserWarning, match="removed all 20 rows"):
        kept, _ = drop_flagged(frame, found, step="everything")
    assert kept.empty
    with pytest.raises(ValueError, match="not aligned"):
        drop_flagged(frame, found.reset_index(drop=True), step="x")
    with pytest.raises(KeyError, match="flagged"):
        drop_flagged(frame, found[["reason"]], step="x")


@pytest.mark.parametrize(
    "detector",
    [
        lambda frame: classifier_disagreement(frame, n_splits=2),
        lambda frame: neighbour_agreement(frame, k=1),
        lambda frame: rate_labels(ScriptedModel(answers={}), frame, progress=False),
    ],
)
def test_bad_input_gets_a_clear_message(detector):
    with pytest.raises(ValueError, match="no rows"):
        detector(pd.DataFrame({"text": [], "label": []}))
    with pytest.raises(KeyError, match="label"):
        detector(pd.DataFrame({"text": ["a b c", "d e f"]}))
    with pytest.raises(ValueError, match="not a string"):
        detector(pd.DataFrame({"text": ["a b c", 3, "x y", "z w"], "label": ["a", "b", "a", "b"]}))


@pytest.mark.integration
def test_rate_labels_with_the_embedded_model_always_reads_a_score(local_model):
    rated = rate_labels(local_model, reviews().iloc[:2], progress=False)
    assert rated["rater_score"].between(1, 5).all() and rated["rater_error"].isna().all()
