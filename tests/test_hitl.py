from __future__ import annotations

import pandas as pd
import pytest

from synthlab.annotation.store import DISCARD, SKIP, LabelStore
from synthlab.core.classifiers import fit_classifier
from synthlab.core.records import make_records
from synthlab.directions.hitl import collaboration_rounds, oracle_reviewer, reviewed_rows
from synthlab.generation.prompts import TaskSpec
from tests.fake_models import ScriptedModel

ORACLE = fit_classifier(
    "tfidf-logreg",
    ["great wonderful loved", "superb fine moving", "awful boring hated", "terrible dull mess"],
    ["positive", "positive", "negative", "negative"],
)
SEED_DEMOS = pd.DataFrame({"text": ["A lovely film.", "A dull film."], "label": ["positive", "negative"]})


def rows():
    return make_records(
        [
            {"text": "great wonderful film", "label": "positive"},
            {"text": "awful boring film", "label": "positive"},
            {"text": "a film indeed", "label": "negative"},
            {"text": "superb moving story", "label": "negative"},
        ]
    )


def test_oracle_reviewer_accepts_relabels_and_discards():
    frame = rows()
    decisions = oracle_reviewer(ORACLE, min_confidence=0.5)(frame)
    assert decisions.index.equals(frame.index)
    assert decisions.iloc[0] == "positive" and decisions.iloc[1] == "negative"
    strict = oracle_reviewer(ORACLE, min_confidence=0.99)(frame)
    assert strict.iloc[1] == DISCARD
    with pytest.raises(TypeError, match="predict_proba"):
        oracle_reviewer(object())


def test_reviewed_rows_reads_every_outcome(tmp_path):
    frame = rows()
    store = LabelStore(tmp_path / "r.jsonl", frame, labels=["positive", "negative"])
    ids = frame["id"].tolist()
    store.record_many([(ids[0], "positive"), (ids[1], "negative"), (ids[2], DISCARD), (ids[3], SKIP)])
    out = reviewed_rows(frame, store)
    assert out["review"].tolist() == ["accepted", "relabelled", "rejected", "undecided"]
    assert out.loc[1, "label"] == "negative" and out.loc[1, "relabelled_from"] == "positive"
    assert out.loc[0, "relabelled_from"] is None


class Writer(ScriptedModel):
    """Positive prompts get a positive text, negative prompts alternately a negative and a bad one."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        text = str(messages[-1].content).split("Write one new")[-1]
        self.answers = {
            "": "great wonderful loved it"
            if "positive" in text
            else ("awful boring hated" if kwargs["seed"] % 4 == 1 else "superb fine moving")
        }
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_rounds_review_every_row_feed_accepted_demos_and_resume(tmp_path):
    test = pd.DataFrame({"text": ["loved it great", "hated it awful"], "label": ["positive", "negative"]})
    reviewer = oracle_reviewer(ORACLE, min_confidence=0.5)
    result = collaboration_rounds(
        Writer(answers={}),
        TaskSpec(),
        SEED_DEMOS,
        reviewer,
        store_dir=tmp_path,
        rounds=2,
        n_per_round=4,
        k_per_label=1,
        test=test,
        progress=False,
    )
    table, out = result.table, result.rows
    assert table["round"].tolist() == [1, 2] and (table["generated"] == 4).all()
    assert (table[["accepted", "relabelled", "rejected"]].sum(axis=1) == table["well_formed"]).all()
    assert table["acceptance_rate"].between(0, 1).all() and table.loc[1, "demos_from"] == "accepted rows"
    assert {"accuracy_accepted", "accuracy_unreviewed"} <= set(table.columns)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["round_1.jsonl", "round_2.jsonl"]
    assert out["review"].isin(["accepted", "relabelled", "rejected"]).all()

    def never(_rows):
        raise AssertionError("a resumed run must not ask again")

    again = collaboration_rounds(
        Writer(answers={}),
        TaskSpec(),
        SEED_DEMOS,
        never,
        store_dir=tmp_path,
        rounds=2,
        n_per_round=4,
        k_per_label=1,
        progress=False,
    )
    assert again.table[["accepted", "relabelled", "rejected"]].equals(table[["accepted", "relabelled", "rejected"]])


def test_rounds_reject_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="n_per_round"):
        collaboration_rounds(
            Writer(answers={}),
            TaskSpec(),
            SEED_DEMOS,
            oracle_reviewer(ORACLE),
            store_dir=tmp_path,
            n_per_round=1,
        )
