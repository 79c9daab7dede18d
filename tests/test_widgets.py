"""The annotator widget, driven from Python by clicking its buttons (no browser, no keyboard)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from synthlab.annotation.store import DISCARD, SKIP, UNDO, LabelStore
from synthlab.annotation.widgets import Annotator
from synthlab.curation.reannotate import simulate_annotation

LABELS = ["fresh", "rotten"]
ORDER = ["r2", "r0", "r1"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["r0", "r1", "r2"],
            "text": ["A <b>fine</b> film.", "Dull.", "Great fun."],
            "label": ["fresh", "fresh", "rotten"],
        }
    )


@pytest.fixture
def store(tmp_path, frame) -> LabelStore:
    return LabelStore(tmp_path / "labels.jsonl", frame, labels=LABELS)


def saved(store: LabelStore) -> list[tuple[str, str | None]]:
    return [(record["id"], record["decision"]) for record in map(json.loads, store.path.read_text().splitlines()[1:])]


def test_it_shows_the_first_row_of_the_order_with_its_label_and_progress(store):
    annotator = Annotator(store, ORDER)
    assert annotator.current_id == "r2"
    assert "Great fun." in annotator.row_text.value and "given label: <b>rotten</b>" in annotator.row_text.value
    assert "0 / 3 decided" in annotator.progress_text.value and annotator.progress_bar.value == 0
    assert list(annotator.buttons) == [*LABELS, DISCARD, SKIP, UNDO]
    assert annotator.buttons[UNDO].disabled and not annotator.buttons["fresh"].disabled


def test_texts_are_escaped(store):
    annotator = Annotator(store, ["r0"])
    assert "&lt;b&gt;fine&lt;/b&gt;" in annotator.row_text.value


def test_a_click_saves_to_disk_before_the_next_row_is_shown(store):
    annotator = Annotator(store, ORDER)
    annotator.buttons["fresh"].click()
    assert saved(store) == [("r2", "fresh")]
    assert annotator.current_id == "r0" and "1 / 3 decided" in annotator.progress_text.value
    annotator.buttons[DISCARD].click()
    annotator.buttons[SKIP].click()
    assert saved(store) == [("r2", "fresh"), ("r0", DISCARD), ("r1", SKIP)]
    assert annotator.current_id is None and "All 3 rows are decided" in annotator.row_text.value
    assert annotator.buttons["rotten"].disabled and not annotator.buttons[UNDO].disabled
    with pytest.raises(RuntimeError, match="every row of the order is decided"):
        annotator.decide("fresh")


def test_undo_takes_back_the_latest_decision_and_shows_that_row_again(store):
    annotator = Annotator(store, ORDER)
    annotator.buttons["rotten"].click()
    annotator.buttons["fresh"].click()
    annotator.buttons[UNDO].click()
    assert annotator.current_id == "r0" and saved(store)[-1] == ("r0", None)
    assert store.decisions()["id"].tolist() == ["r2"]
    annotator.buttons["rotten"].click()
    assert store.decisions()["decision"].tolist() == ["rotten", "rotten"]


def test_an_interrupted_session_resumes_where_it_stopped(tmp_path, frame):
    path = tmp_path / "labels.jsonl"
    Annotator(LabelStore(path, frame, labels=LABELS), ORDER).buttons["fresh"].click()
    resumed = Annotator(LabelStore(path, frame, labels=LABELS), ORDER)  # a new kernel, the same file
    assert resumed.current_id == "r0" and "1 / 3 decided" in resumed.progress_text.value


def test_the_simulated_annotator_can_drive_the_widget(store, frame):
    gold = dict(zip(frame["id"], ["rotten", "rotten", "fresh"]))
    annotator = Annotator(store, ORDER, annotator="simulated (gold labels)")
    while annotator.current_id is not None:
        annotator.buttons[gold[annotator.current_id]].click()
    assert dict(zip(store.decisions()["id"], store.decisions()["decision"])) == gold
    assert set(store.decisions()["annotator"]) == {"simulated (gold labels)"}


def test_a_widget_opened_after_a_simulated_session_starts_past_it(store, frame):
    simulate_annotation(store, ORDER, dict(zip(frame["id"], frame["label"])), budget=2)
    assert Annotator(store, ORDER).current_id == "r1"


def test_an_empty_order_or_unknown_ids_are_refused(store):
    with pytest.raises(ValueError, match="order is empty"):
        Annotator(store, [])
    with pytest.raises(KeyError, match="r9"):
        Annotator(store, ["r0", "r9"])
