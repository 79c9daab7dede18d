"""Hygiene steps on the inputs users get wrong: repeated index labels, missing texts, empty frames."""

from __future__ import annotations

import pandas as pd
import pytest

from synthlab.curation.filters import drop_exact_duplicates, drop_malformed


def test_drop_malformed_judges_each_row_even_when_index_labels_repeat():
    frame = pd.DataFrame(
        {"text": ["a fine long review", "no", "another fine review"], "label": ["positive", "negative", None]},
        index=[7, 7, 8],
    )
    kept, removed = drop_malformed(frame)
    assert kept["text"].tolist() == ["a fine long review"]
    assert removed["reason"].tolist() == ["shorter than 3 words", "missing label"]


def test_an_empty_frame_is_refused_like_every_curation_step():
    empty = pd.DataFrame({"text": [], "label": []})
    for step in (drop_malformed, drop_exact_duplicates):
        with pytest.raises(ValueError, match="empty frame"):
            step(empty)


def test_a_missing_text_is_no_duplicate_of_another():
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": [None, float("nan"), "x y z"]})
    kept, removed = drop_exact_duplicates(frame)
    assert kept["id"].tolist() == ["a", "b", "c"] and removed.empty, "failed rows are drop_malformed's to remove"
    kept, removed = drop_exact_duplicates(pd.DataFrame({"id": ["a", "b"], "text": ["Same  text", "same text"]}))
    assert kept["id"].tolist() == ["a"] and removed["duplicate_of"].tolist() == ["a"]


def test_a_label_column_that_is_not_there_is_named():
    with pytest.raises((KeyError, ValueError), match="label"):
        drop_malformed(pd.DataFrame({"text": ["a b c d"]}))
