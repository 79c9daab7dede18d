"""Manual re-annotation logic: the label store on disk, row orders, the simulated annotator, replace vs discard."""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

from synthlab.annotation.store import DISCARD, SKIP, LabelStore, dataset_fingerprint
from synthlab.curation.reannotate import (
    annotation_order,
    apply_decisions,
    plot_reannotation_curves,
    reannotation_curve,
    simulate_annotation,
)

matplotlib.use("Agg")
LABELS = ["fresh", "rotten"]


def reviews(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [f"review number {i}" for i in range(n)],
            "label": [LABELS[i % 2] for i in range(n)],
        }
    )


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_new_store_writes_a_header_and_every_decision_at_once(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path, reviews(), labels=LABELS)
    store.record("r0", "rotten")
    header, decision = lines(path)
    assert header["fingerprint"] == dataset_fingerprint(reviews()) and header["n_rows"] == 6
    assert header["labels"] == LABELS
    assert decision["id"] == "r0" and decision["decision"] == "rotten" and decision["annotator"] == "human"


def test_labels_default_to_those_of_the_label_column(tmp_path):
    assert LabelStore(tmp_path / "s.jsonl", reviews()).labels == LABELS


def test_reopening_resumes_at_the_first_undecided_row(tmp_path):
    path, order = tmp_path / "labels.jsonl", ["r3", "r1", "r0", "r2"]
    store = LabelStore(path, reviews(), labels=LABELS)
    store.record("r3", "fresh")
    store.record("r1", SKIP)
    reopened = LabelStore(path, reviews(), labels=LABELS)
    assert reopened.pending(order) == ["r0", "r2"]
    assert reopened.decisions()["decision"].tolist() == ["fresh", SKIP]


def test_the_latest_decision_wins_and_none_undoes(tmp_path):
    store = LabelStore(tmp_path / "s.jsonl", reviews(), labels=LABELS)
    store.record_many([("r0", "fresh"), ("r1", "rotten"), ("r0", DISCARD), ("r1", None)])
    decisions = store.decisions()
    assert decisions["id"].tolist() == ["r0"] and decisions["decision"].tolist() == [DISCARD]
    assert len(lines(tmp_path / "s.jsonl")) == 5  # append-only: the history stays on disk


def test_a_store_from_another_dataset_is_refused_naming_both(tmp_path):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, reviews(6), labels=LABELS)
    with pytest.raises(ValueError, match=r"another dataset.*6 rows.*5 rows"):
        LabelStore(path, reviews(5), labels=LABELS)
    edited = reviews(6).assign(text=lambda frame: frame["text"].str.upper())
    with pytest.raises(ValueError, match="another dataset"):
        LabelStore(path, edited, labels=LABELS)
    with pytest.raises(ValueError, match="another dataset"):
        LabelStore(path, reviews(6), labels=["good", "bad"])


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(ValueError, match="not a synthlab label store"):
        LabelStore(path, reviews(), labels=LABELS)


def test_a_torn_last_line_is_dropped_and_earlier_decisions_are_kept(tmp_path):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, reviews(), labels=LABELS).record_many([("r0", "fresh"), ("r1", "rotten")])
    with open(path, "a") as handle:
        handle.write('{"id": "r2", "deci')  # the process died mid-write
    with pytest.warns(UserWarning, match="cut off mid-write"):
        store = LabelStore(path, reviews(), labels=LABELS)
    assert store.decisions()["id"].tolist() == ["r0", "r1"]
    store.record("r2", "fresh")
    assert [record.get("id") for record in lines(path)] == [None, "r0", "r1", "r2"]


def test_a_damaged_middle_line_raises_naming_the_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, reviews(), labels=LABELS).record("r0", "fresh")
    path.write_text(path.read_text() + "garbage\n" + path.read_text().splitlines()[1] + "\n")
    with pytest.raises(ValueError, match="line 3"):
        LabelStore(path, reviews(), labels=LABELS)


def test_unknown_ids_and_decisions_are_refused(tmp_path):
    store = LabelStore(tmp_path / "s.jsonl", reviews(), labels=LABELS)
    with pytest.raises(KeyError, match="r99"):
        store.record("r99", "fresh")
    with pytest.raises(ValueError, match="'great' is not one of the labels"):
        store.record("r0", "great")
    assert store.decisions().empty


@pytest.mark.parametrize(
    "frame, message",
    [
        (reviews().iloc[:0], "no rows"),
        (reviews().drop(columns="text"), "text_col 'text'"),
        (reviews().assign(text=[1, "a", "b", "c", "d", "e"]), "not a string"),
        (reviews().assign(id="same"), "repeated 'id'"),
    ],
)
def test_bad_frames_are_refused_with_the_fix(tmp_path, frame, message):
    with pytest.raises((ValueError, KeyError), match=message):
        LabelStore(tmp_path / "s.jsonl", frame, labels=LABELS)


def test_labels_must_be_distinct_and_not_actions(tmp_path):
    with pytest.raises(ValueError, match="two distinct labels"):
        LabelStore(tmp_path / "s.jsonl", reviews(), labels=["fresh"])
    with pytest.raises(ValueError, match="cannot be labels"):
        LabelStore(tmp_path / "s.jsonl", reviews(), labels=["fresh", "skip"])
    with pytest.raises(ValueError, match="cannot be labels"):
        LabelStore(tmp_path / "s.jsonl", reviews(), labels=["undo", "fresh"])


def test_random_order_is_a_seeded_permutation():
    first, again = (
        annotation_order(reviews(), "random", seed=1),
        annotation_order(reviews(), "random", seed=1),
    )
    assert first == again and sorted(first) == sorted(reviews()["id"])
    assert annotation_order(reviews(), "random", seed=2) != first


def test_uncertainty_order_puts_the_most_suspicious_first():
    assert annotation_order(reviews(4), suspicion=[0.1, 0.9, 0.5, 0.2]) == ["r1", "r2", "r3", "r0"]
    with pytest.raises(ValueError, match="one number per row"):
        annotation_order(reviews(4), suspicion=[0.1])
    with pytest.raises(ValueError, match="order must be one of"):
        annotation_order(reviews(4), "alphabetical")


def test_uncertainty_order_defaults_to_the_cross_fitted_label_loss():
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(20)],
            "text": ["great lovely fun film"] * 10 + ["awful dull boring film"] * 10,
            "label": ["fresh"] * 10 + ["rotten"] * 10,
        }
    )
    frame.loc[3, "label"], frame.loc[13, "label"] = "rotten", "fresh"  # two planted mistakes
    assert set(annotation_order(frame)[:2]) == {"r3", "r13"}


def test_the_simulated_annotator_answers_gold_labels_and_resumes(tmp_path):
    store = LabelStore(tmp_path / "s.jsonl", reviews(), labels=LABELS)
    gold = pd.Series(["rotten"] * 6, index=reviews()["id"])
    order = ["r5", "r4", "r3", "r2", "r1", "r0"]
    assert simulate_annotation(store, order, gold, budget=2)["id"].tolist() == ["r5", "r4"]
    decisions = simulate_annotation(store, order, gold, budget=10)
    assert decisions["id"].tolist() == order and set(decisions["decision"]) == {"rotten"}
    assert set(decisions["annotator"]) == {"simulated (gold labels)"}
    with pytest.raises(ValueError, match="budget"):
        simulate_annotation(store, order, gold, budget=-1)


def test_the_simulated_annotator_needs_gold_for_every_row(tmp_path):
    store = LabelStore(tmp_path / "s.jsonl", reviews(), labels=LABELS)
    with pytest.raises(KeyError, match="no label for 1 id"):
        simulate_annotation(store, ["r0", "r1"], {"r0": "fresh"}, budget=2)


def decided(pairs) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["id", "decision"])


def test_replace_relabels_and_discard_drops_the_disagreements():
    decisions = decided([("r0", "rotten"), ("r1", "rotten"), ("r2", DISCARD), ("r3", SKIP)])
    kept, removed = apply_decisions(reviews(), decisions, mode="replace")
    assert kept.set_index("id").loc["r0", "label"] == "rotten"
    assert kept.set_index("id").loc["r0", "relabelled_from"] == "fresh"
    assert kept["relabelled_from"].notna().sum() == 1
    assert removed["id"].tolist() == ["r2"] and "discarded" in removed["reason"].iloc[0]
    kept, removed = apply_decisions(reviews(), decisions, mode="discard")
    assert removed["id"].tolist() == ["r0", "r2"] and (removed["step"] == "apply_decisions(discard)").all()
    assert "labelled it rotten, not fresh" in removed["reason"].iloc[0]
    assert kept["id"].tolist() == ["r1", "r3", "r4", "r5"] and kept.set_index("id").loc["r3", "human_label"] == SKIP


def test_discarding_every_row_warns_and_bad_modes_raise():
    with pytest.warns(UserWarning, match="removed all 2 rows"):
        kept, removed = apply_decisions(reviews(2), decided([("r0", DISCARD), ("r1", "fresh")]), mode="discard")
    assert kept.empty and len(removed) == 2
    with pytest.raises(ValueError, match="mode must be one of"):
        apply_decisions(reviews(), decided([]), mode="delete")
    with pytest.raises(KeyError, match="decision"):
        apply_decisions(reviews(), pd.DataFrame({"id": ["r0"]}))


def test_the_reannotation_curve_measures_each_budget_and_mode():
    train = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(40)],
            "text": ["great lovely fun"] * 20 + ["awful dull boring"] * 20,
            "label": ["fresh"] * 20 + ["rotten"] * 20,
        }
    )
    train["true_label"] = train["label"]
    train.loc[:9, "label"] = "rotten"  # ten wrong labels
    decisions = decided([(f"r{i}", "fresh") for i in range(10)])
    test = train.assign(label=train["true_label"])
    curve = reannotation_curve(train, decisions, test, budgets=[0, 10])
    assert curve[["budget", "mode"]].values.tolist() == [
        [0, "replace"],
        [0, "discard"],
        [10, "replace"],
        [10, "discard"],
    ]
    assert curve["noise_left"].tolist() == [0.25, 0.25, 0.0, 0.0]
    assert curve["relabelled"].tolist() == [0, 0, 10, 0] and curve["removed"].tolist() == [0, 0, 0, 10]
    assert curve["accuracy"].iloc[2] == 1.0
    figure = plot_reannotation_curves({"uncertainty": curve}, baseline=0.5, ceiling=1.0)
    assert figure.axes[0].get_xlabel() == "human labels spent"
    with pytest.raises(ValueError, match="only 10 decisions"):
        reannotation_curve(train, decisions, test, budgets=[20])


def test_a_torn_file_of_another_dataset_is_refused_untouched(tmp_path):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, reviews(6), labels=LABELS).record("r0", "fresh")
    with open(path, "a") as handle:
        handle.write('{"id": "r1"')
    before = path.read_bytes()
    with pytest.raises(ValueError, match="another dataset"):
        LabelStore(path, reviews(5), labels=LABELS)
    assert path.read_bytes() == before


def test_the_order_of_the_labels_does_not_matter_on_reopening(tmp_path):
    LabelStore(tmp_path / "s.jsonl", reviews(), labels=LABELS).record("r0", "fresh")
    assert len(LabelStore(tmp_path / "s.jsonl", reviews(), labels=LABELS[::-1]).decisions()) == 1
