"""Two annotators on one label file (two notebook tabs, two raters, two processes), and a last line that lost
only its newline: no decision is lost or silently undone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from synthlab.annotation.raters import PreferenceRater, pair_outputs
from synthlab.annotation.store import UNDO, LabelStore
from synthlab.annotation.widgets import Annotator

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["fresh", "rotten"]
ORDER = ["r2", "r0", "r1"]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"id": ["r0", "r1", "r2"], "text": ["Fine.", "Dull.", "Great fun."], "label": LABELS[:1] * 3})


def test_two_tabs_see_each_others_decisions_and_undo_only_their_own(tmp_path, frame):
    path = tmp_path / "labels.jsonl"
    tab1 = Annotator(LabelStore(path, frame, labels=LABELS), ORDER)  # two kernels, one file, one annotator name
    tab2 = Annotator(LabelStore(path, frame, labels=LABELS), ORDER)
    tab1.decide("fresh")
    assert tab1.current_id == "r0" and tab2.current_id == "r2"  # tab 2 still shows the row it showed
    with pytest.warns(UserWarning, match="was decided 'fresh' by 'human'.*replaces it"):
        tab2.decide("rotten")
    assert tab2.current_id == "r0" and "1 / 3 decided" in tab2.progress_text.value
    with pytest.warns(UserWarning, match="decided again after your 'fresh'.*nothing is undone"):
        tab1.buttons[UNDO].click()
    assert tab1.store.decisions()[["id", "decision"]].values.tolist() == [["r2", "rotten"]]  # tab 2's stands
    tab1.decide("fresh")
    assert tab2.store.pending(ORDER) == ["r1"] and tab2.store.latest("r0")["decision"] == "fresh"
    tab2.undo()  # tab 2's own r2 decision, still the latest: taken back
    assert tab1.store.decisions()[["id", "decision"]].values.tolist() == [["r0", "fresh"]]


def test_undo_after_a_restart_takes_back_the_latest_decision_saved_under_this_name(tmp_path, frame):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, frame, labels=LABELS).record_many([("r2", "fresh")], annotator="ann")
    LabelStore(path, frame, labels=LABELS).record_many([("r0", "rotten")], annotator="bob")
    resumed = Annotator(LabelStore(path, frame, labels=LABELS), ORDER, annotator="ann")
    resumed.undo()
    assert resumed.current_id == "r2" and resumed.store.decisions()["id"].tolist() == ["r0"]


def test_two_preference_raters_on_one_file_skip_what_the_other_rated(tmp_path):
    outputs = pd.DataFrame({"prompt": ["a", "b", "c"], "text": ["x", "y", "z"]})
    pairs = pair_outputs(outputs, outputs.assign(text=["u", "v", "w"]), systems=("one", "two"))
    path = tmp_path / "prefs.jsonl"
    ann = PreferenceRater(LabelStore(path, pairs, labels=["left", "right", "tie"]), rater="ann")
    bob = PreferenceRater(LabelStore(path, pairs, labels=["left", "right", "tie"]), rater="bob")
    ann.decide("left")
    ann.decide("right")
    with pytest.warns(UserWarning, match="'left' by 'ann'"):
        bob.decide("tie")
    assert bob.current_id == "pair-2"  # not pair-1, which ann rated
    decisions = LabelStore(path, pairs, labels=["left", "right", "tie"]).decisions()
    assert decisions[["id", "decision", "annotator"]].values.tolist() == [
        ["pair-1", "right", "ann"],
        ["pair-0", "tie", "bob"],
    ]


def test_a_last_line_complete_but_for_its_newline_is_kept(tmp_path, frame):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, frame, labels=LABELS).record_many([("r0", "fresh"), ("r1", "rotten")])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # e.g. written by an editor or a tool that adds none
    store = LabelStore(path, frame, labels=LABELS)
    assert store.decisions()["id"].tolist() == ["r0", "r1"]
    store.record("r2", "fresh")
    with open(path, "ab") as handle:  # another writer's line, newline missing, while this store is open
        handle.write(json.dumps({"id": "r2", "decision": "rotten", "annotator": "tool", "at": "now"}).encode())
    assert store.latest("r2")["decision"] == "rotten"
    store.record("r0", "rotten")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line.get("id") for line in lines] == [None, "r0", "r1", "r2", "r2", "r0"]


WRITER = """
import sys, time
from pathlib import Path
import pandas as pd
from synthlab.annotation.store import LabelStore
path, me, other, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
frame = pd.DataFrame({"id": [f"{who}{k}" for who in "ab" for k in range(n)], "text": "t"})
store = LabelStore(path, frame, labels=["x", "y"])
for k in range(n):
    store.record(f"{me}{k}", "xy"[k % 2], annotator=me)
Path(path + "." + me).touch()
while not Path(path + "." + other).exists():
    time.sleep(0.01)
print(len(store.decisions()))
"""


def test_two_processes_writing_one_store_see_every_decision(tmp_path):
    path, n = tmp_path / "shared.jsonl", 100
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), me, other, str(n)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    try:
        seen = [int(writer.communicate(timeout=30)[0]) for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
    assert seen == [2 * n, 2 * n]  # each process sees both writers' 100 decisions
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2 * n + 1 and sum("format" in line for line in lines) == 1
