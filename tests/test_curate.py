from __future__ import annotations

import warnings
from functools import partial

import pandas as pd
import pytest

from synthlab.core.records import make_records
from synthlab.core.steps import removal_summary, restore, run_filters, split_by_reason
from synthlab.curation.filters import (
    drop_bad_format,
    drop_by_length,
    drop_exact_duplicates,
    drop_low_novelty,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
    repetition_score,
)


def _records():
    return make_records(
        [
            {"text": "A warm and funny film.", "label": "positive"},
            {"text": "a  WARM and funny film.", "label": "positive"},
            {"text": "Too short", "label": "negative"},
            {"text": None, "label": "negative", "error": "RuntimeError: boom"},
            {"text": "Dull, long and loud.", "label": None},
            {"text": "Dull, long and loud.", "label": "negative"},
        ]
    )


def test_every_removed_row_has_a_reason_and_can_be_restored():
    records = _records()
    well_formed, malformed = drop_malformed(records)
    assert malformed["reason"].tolist() == [
        "shorter than 3 words",
        "generation error: RuntimeError: boom",
        "missing label",
    ]
    kept, duplicates = drop_exact_duplicates(well_formed)
    assert duplicates["reason"].tolist() == [f"exact duplicate of {records['id'].iloc[0]}"]
    assert len(kept) + len(malformed) + len(duplicates) == len(records)
    back = restore(kept, duplicates)
    assert sorted(back["id"]) == sorted(well_formed["id"])
    assert "reason" not in back.columns


TEXTS = {
    "fine": "A warm and funny film about two brothers.",
    "short": "Dull.",
    "cut": "The acting was strong but the ending was",
    "listy": "Pros:\n- great cast\n- good music.",
    "chatter": "Here's my review: a tender, moving drama.",
    "refusal": "As an AI, I cannot write reviews of films.",
    "loop": "The movie was bad, the movie was bad, the movie was bad, the movie was bad.",
    "run": "It is a no-nonsense no-nonsense no-nonsense drama.",
}


def _frame(names=tuple(TEXTS)):
    return make_records([{"id": name, "text": TEXTS[name], "label": "positive"} for name in names])


def test_drop_exact_duplicates_names_the_kept_row_in_duplicate_of():
    records = _records()
    _, duplicates = drop_exact_duplicates(records)
    assert duplicates["duplicate_of"].tolist() == [records["id"].iloc[0], records["id"].iloc[4]]


def test_drop_by_length_counts_words_and_explains():
    kept, removed = drop_by_length(_frame(), min_words=3, max_words=12)
    assert removed.set_index("id")["reason"].to_dict() == {
        "short": "1 words, fewer than 3",
        "loop": "16 words, more than 12",
    }
    assert len(kept) + len(removed) == len(TEXTS)
    with pytest.raises(ValueError, match="max_words"):
        drop_by_length(_frame(), min_words=5, max_words=2)


def test_drop_bad_format_finds_cut_off_texts_lists_and_chatter():
    _, removed = drop_bad_format(_frame())
    reasons = removed.set_index("id")["reason"]
    assert set(reasons.index) == {"short", "cut", "listy", "chatter"} - {"short"}
    assert reasons["cut"].startswith("does not end like a sentence")
    assert "is a list of 2 items" in reasons["listy"]
    assert "Here's my review" in reasons["chatter"]
    _, removed = drop_bad_format(
        _frame(), must_end_sentence=False, allow_lists=True, forbidden=None, required=r"\bfilm\b"
    )
    assert "does not match the required pattern" in removed.set_index("id")["reason"]["run"]


def test_drop_refusals_matches_refusals_but_not_reviews_that_cannot_recommend():
    frame = pd.concat([_frame(), make_records([{"id": "review", "text": "I cannot recommend this dreary film."}])])
    _, removed = drop_refusals(frame)
    assert removed["id"].tolist() == ["refusal"]
    assert removed["reason"].iloc[0] == "refusal or apology: 'As an AI'"
    _, removed = drop_refusals(frame, patterns=[r"\bdreary\b"])
    assert removed["id"].tolist() == ["review"]
    with pytest.raises(ValueError, match="patterns is empty"):
        drop_refusals(frame, patterns=[])


def test_repetition_score_and_drop_repetitive():
    assert repetition_score("a fine film") == (0.0, None)
    share, gram = repetition_score(TEXTS["loop"])
    assert share > 0.5 and gram == "the movie was"
    _, removed = drop_repetitive(_frame())
    reasons = removed.set_index("id")["reason"]
    assert set(reasons.index) == {"loop", "run"}
    assert reasons["run"] == "'no-nonsense' 3 times in a row"
    assert reasons["loop"].startswith("71% of its 3-grams are repeats")
    ellipsis = "One of the best looking and stylish animated movies in quite a while . . ."
    _, removed = drop_repetitive(make_records([{"text": ellipsis}]))
    assert removed.empty, "an ellipsis is not a loop"


def test_drop_low_novelty_against_references_and_earlier_rows():
    frame = make_records(
        [
            {"id": "a", "text": "A warm and funny film about two brothers."},
            {"id": "b", "text": "A warm and funny film about two sisters."},
            {"id": "c", "text": "The worst thriller of the year."},
        ]
    )
    _, removed = drop_low_novelty(frame, progress=False)
    assert removed["id"].tolist() == ["b"]
    assert removed["reason"].iloc[0].startswith("ROUGE-L 0.88 with row a:")
    _, removed = drop_low_novelty(frame, references=["The worst thriller of this year."], progress=False)
    assert removed["id"].tolist() == ["b", "c"]
    assert "with reference text" in removed["reason"].iloc[1]


def test_run_filters_chains_steps_into_one_log_and_summary():
    frame = _frame()
    steps = [
        drop_malformed,
        partial(drop_by_length, min_words=3),
        drop_refusals,
        drop_repetitive,
        drop_bad_format,
    ]
    kept, log = run_filters(frame, steps)
    assert kept["id"].tolist() == ["fine"]
    assert len(kept) + len(log) == len(frame) and set(kept["id"]).isdisjoint(log["id"])
    assert log["step"].unique().tolist() == [
        "drop_malformed",
        "drop_refusals",
        "drop_repetitive",
        "drop_bad_format",
    ]
    summary = removal_summary(log, n_rows=len(frame))
    assert summary["removed"].tolist() == [1, 1, 2, 3]
    assert summary.loc["drop_refusals", "example_id"] == "refusal"
    assert summary["share"].sum() == pytest.approx(7 / 8)
    assert sorted(restore(kept, log)["id"]) == sorted(frame["id"])


def test_a_step_that_removes_everything_warns_and_run_filters_stops():
    frame = _frame(["short", "cut"])
    with pytest.warns(UserWarning, match="drop_by_length removed all 2 rows"):
        kept, removed = drop_by_length(frame, min_words=20)
    assert kept.empty and len(removed) == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kept, log = run_filters(frame, [partial(drop_by_length, min_words=20), drop_refusals])
    messages = [str(warning.message) for warning in caught]
    assert any("later step(s) were not run" in message for message in messages)
    assert kept.empty and len(log) == 2 and set(log["step"]) == {"drop_by_length"}


@pytest.mark.parametrize(
    "step",
    [
        drop_by_length,
        drop_bad_format,
        drop_refusals,
        drop_repetitive,
        partial(drop_low_novelty, progress=False),
    ],
)
def test_text_steps_reject_bad_input_with_clear_messages(step):
    with pytest.raises(ValueError, match="empty frame"):
        step(_frame().iloc[:0])
    with pytest.raises(KeyError, match="text_col 'text' is not a column"):
        step(_frame().drop(columns="text"))
    bad = make_records([{"text": "A fine film, truly."}, {"text": float("nan")}, {"text": 42}])
    with pytest.raises(TypeError, match="2 row\\(s\\) whose 'text' is missing or not a string.*drop_malformed"):
        step(bad)


def test_run_filters_and_restore_bad_input():
    with pytest.raises(ValueError, match="steps is empty"):
        run_filters(_frame(), [])
    with pytest.raises(ValueError, match="empty frame"):
        run_filters(_frame().iloc[:0], [drop_refusals])
    kept, removed = drop_refusals(_frame())
    with pytest.raises(KeyError, match="not in the removal log"):
        restore(kept, removed, ids=["fine"])
    with pytest.raises(KeyError, match="a removal log column"):
        removal_summary(kept)


def test_split_by_reason_keeps_index_and_restore_drops_step_columns():
    frame = _frame(["fine", "short"])
    kept, removed = split_by_reason(frame, [None, "too short"], "manual")
    assert kept.index.tolist() == [0] and removed.index.tolist() == [1]
    removed["extra_score"] = 0.5  # a step-specific column, such as dedup's jaccard
    back = restore(kept, removed, ids=["short"])
    assert list(back.columns) == list(frame.columns)
