from __future__ import annotations

import pandas as pd
import pytest

from synthlab.directions.synergy import fit_student, student_picks_teacher_labels, student_review
from tests.fake_models import ScriptedModel

GOLD = pd.DataFrame(
    {
        "text": [
            "great wonderful loved it",
            "superb fine moving",
            "awful boring hated it",
            "terrible dull mess",
        ],
        "label": ["positive", "positive", "negative", "negative"],
    }
)
ROWS = pd.DataFrame(
    {
        "text": ["wonderful great film", "awful terrible film", "a film"],
        "label": ["positive", "positive", "negative"],
    },
    index=[10, 11, 12],
)


def test_fit_student_needs_two_labels_and_text():
    assert set(fit_student(GOLD).classes_) == {"negative", "positive"}
    with pytest.raises(ValueError, match="one label only"):
        fit_student(GOLD[GOLD["label"] == "positive"])
    with pytest.raises(KeyError):
        fit_student(GOLD.drop(columns="label"))
    with pytest.raises(ValueError, match="no rows"):
        fit_student(GOLD.iloc[:0])


def test_filter_removes_the_rows_the_student_doubts():
    kept, removed = student_review(fit_student(GOLD), ROWS, mode="filter")
    assert 11 in removed.index and 10 in kept.index and len(kept) + len(removed) == 3
    assert removed.loc[11, "reason"] == "the student labels it negative"
    assert kept["student_confidence"].between(0, 1).all()


def test_relabel_keeps_every_row_with_the_students_label():
    kept, removed = student_review(fit_student(GOLD), ROWS, mode="relabel")
    assert removed.empty and kept.loc[11, "label"] == "negative" and kept.loc[11, "relabelled_from"] == "positive"
    assert kept.loc[10, "relabelled_from"] is None


def test_min_confidence_only_doubts_confident_disagreements():
    _, removed = student_review(fit_student(GOLD), ROWS, mode="filter", min_confidence=0.99)
    assert removed.empty


def test_student_review_rejects_bad_input():
    student = fit_student(GOLD)
    with pytest.raises(ValueError, match="mode"):
        student_review(student, ROWS, mode="drop")
    with pytest.raises(ValueError, match="not a string"):
        student_review(student, ROWS.assign(text=[None, "a", "b"]))
    with pytest.warns(UserWarning, match="removed all"):
        student_review(student, ROWS.loc[[11]], mode="filter")


def test_the_student_picks_and_the_teacher_labels():
    pool = pd.DataFrame(
        {
            "text": ["great great", "a film about a dog", "awful awful", "it is a movie"],
            "gold": ["positive", "negative", "negative", "positive"],
        }
    )
    teacher = ScriptedModel(answers={}, default="positive")
    picked = student_picks_teacher_labels(teacher, fit_student(GOLD), pool, 2, ["positive", "negative"], progress=False)
    assert len(picked) == 2 and set(picked.index) <= {1, 3}  # the rows without a sentiment word
    assert (picked["llm_label"] == "positive").all() and (picked["picked_by"] == "least-confidence").all()
    assert "gold" in picked
    randomly = student_picks_teacher_labels(
        teacher, fit_student(GOLD), pool, 2, ["positive", "negative"], strategy="random", progress=False
    )
    assert len(randomly) == 2
    with pytest.raises(ValueError, match="pool is empty"):
        student_picks_teacher_labels(teacher, fit_student(GOLD), pool.iloc[:0], 2, ["positive", "negative"])
