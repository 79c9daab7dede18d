"""Real faults, not simulated ones: a ``generate(..., checkpoint=)`` subprocess and an annotation subprocess are
SIGKILLed mid-run at seeded moments and resumed; their files are torn at seeded random byte offsets and resumed.
Nothing that was acknowledged (a checkpoint line on disk, a decision the child printed after ``record``) may be
lost. Run with ``-s`` to see the counts (offsets tried, kills, rows lost)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthlab.annotation.store import DISCARD, LabelStore
from synthlab.llm.generate import generate
from tests.fake_models import SleepyEchoModel

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = [f"Write review {k}." if k != 5 else "FAIL on purpose." for k in range(15)]
LABELS = np.array([0, 1] * 7 + [0])  # numpy labels must come back as the same numbers after a resume
CONDITIONS = [{"genre": ["drama", "comedy", "horror"][k % 3]} for k in range(15)]
N_ROWS = 2 * len(PROMPTS)
FAILING_ROWS = 2  # the two samples of the FAIL prompt, run again by every resume
DELAY = 0.05  # seconds per model call in the child
KILLS = 4
TEAR_OFFSETS = 150
STORE_ROWS = 40
VOLATILE = ["id", "created_at"]  # drawn anew by every run; a resumed row keeps the checkpoint's
COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    print("\nfault-injection counts:", ", ".join(f"{name}={value}" for name, value in sorted(COUNTS.items())))


def count(name: str, value: int = 1) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + value


def parse_review(output: str) -> dict[str, Any]:
    """Split ``"<prompt> #<seed>"`` into fields, so a resumed row must restore more than ``text``."""
    text, seed = output.rsplit(" #", 1)
    return {"text": text, "echoed_seed": int(seed)}


def run_generation(model: SleepyEchoModel, checkpoint: Path | None, max_concurrency: int) -> pd.DataFrame:
    """The one call every test here makes (the child and the resumes must agree on every argument)."""
    return generate(
        model,
        PROMPTS,
        n=2,
        seed=3,
        labels=LABELS,
        conditions=CONDITIONS,
        parse=parse_review,
        method="kill-test",
        max_concurrency=max_concurrency,
        max_retries=0,
        checkpoint=checkpoint,
        progress=False,
    )


GENERATE_CHILD = f"""
import sys
from pathlib import Path
from tests.fake_models import SleepyEchoModel
from tests.test_faults_kill import run_generation
run_generation(SleepyEchoModel(delay={DELAY}), Path(sys.argv[1]), max_concurrency=2)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    """The uninterrupted run."""
    return run_generation(SleepyEchoModel(delay=0), None, 1)


def saved_rows(data: bytes) -> dict[int, dict[str, Any]]:
    """The successful rows of a checkpoint's bytes whose line is wholly there (its newline may be missing)."""
    rows = {}
    for line in data.split(b"\n")[1:]:
        try:
            entry = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # the torn last line, or the empty string after the final newline
        if entry["record"].get("error") is None:
            rows[entry["row"]] = entry["record"]
    return rows


def check_resumed(resumed: pd.DataFrame, reference: pd.DataFrame, saved: dict[int, dict[str, Any]]) -> int:
    """Assert the resumed rows equal the uninterrupted run's in every field (the saved rows keep even their id and
    time); return the number of saved rows lost (changed or missing)."""
    pd.testing.assert_frame_equal(resumed.drop(columns=VOLATILE), reference.drop(columns=VOLATILE))
    return sum(
        any(resumed.at[row, field] != record[field] for field in ("id", "created_at", "text", "label", "echoed_seed"))
        for row, record in saved.items()
    )


def wait_for_lines(path: Path, lines: int, child: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until ``path`` holds ``lines`` newlines (the header and saved rows)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_bytes().count(b"\n") >= lines):
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            raise AssertionError(
                f"the child ended or stalled before {path} had {lines} lines (exit {child.returncode})"
            )
        time.sleep(0.002)


def test_generate_killed_mid_run_resumes_to_the_uninterrupted_rows(tmp_path, reference):
    rng = random.Random(17)
    lost = 0
    for trial in range(KILLS):
        path = tmp_path / f"killed{trial}.jsonl"
        finished_before_kill = rng.randint(1, N_ROWS - 8)
        child = subprocess.Popen([sys.executable, "-c", GENERATE_CHILD, str(path)], cwd=ROOT)
        wait_for_lines(path, 1 + finished_before_kill, child)
        time.sleep(rng.uniform(0, DELAY))  # anywhere in a call, or in an append
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL, "the run finished before the kill: raise N_ROWS or DELAY"
        count("generate_kills")
        saved = saved_rows(path.read_bytes())
        assert finished_before_kill - FAILING_ROWS <= len(saved) < N_ROWS  # the FAIL row may be among those saved
        model = SleepyEchoModel(delay=0)
        resumed = run_generation(model, path, 1)
        assert model.calls == N_ROWS - len(saved), "a saved row ran again, or a missing one did not"
        lost += check_resumed(resumed, reference, saved)
        count("generate_rows_saved_before_kill", len(saved))
        again = SleepyEchoModel(delay=0)
        check_resumed(run_generation(again, path, 1), reference, saved)
        assert again.calls == FAILING_ROWS  # only the rows whose generation fails run again
    COUNTS["generate_rows_lost"] = COUNTS.get("generate_rows_lost", 0) + lost
    assert lost == 0, f"{lost} finished rows lost over {KILLS} kills"


def test_a_checkpoint_torn_at_any_byte_loses_no_row_wholly_before_the_tear(tmp_path, reference):
    whole = tmp_path / "whole.jsonl"
    run_generation(SleepyEchoModel(delay=0), whole, 1)
    data = whole.read_bytes()
    rng = random.Random(23)
    offsets = sorted(
        {0, data.index(b"\n"), data.index(b"\n") + 1, len(data) - 1, *rng.sample(range(len(data)), TEAR_OFFSETS)}
    )
    lost = 0
    for offset in offsets:
        path = tmp_path / f"torn{offset}.jsonl"
        path.write_bytes(data[:offset])
        saved = saved_rows(data[:offset])
        model = SleepyEchoModel(delay=0)
        resumed = run_generation(model, path, 1)
        assert model.calls == N_ROWS - len(saved), f"offset {offset}: a row before the tear ran again"
        lost += check_resumed(resumed, reference, saved)
        again = SleepyEchoModel(delay=0)
        lost += check_resumed(run_generation(again, path, 1), reference, saved)
        assert again.calls == FAILING_ROWS, f"offset {offset}: the mended file lost rows on the second resume"
    count("checkpoint_offsets_tried", len(offsets))
    COUNTS["checkpoint_rows_lost"] = COUNTS.get("checkpoint_rows_lost", 0) + lost
    assert lost == 0, f"{lost} rows lost over {len(offsets)} tear offsets"


STORE_LABELS = ["fresh", "rotten"]


def store_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [f"r{k}" for k in range(STORE_ROWS)], "text": [f"Review {k}." for k in range(STORE_ROWS)]}
    )


def planned_decisions() -> list[tuple[str, str]]:
    """What the annotator decides, in order: a label or a discard per row."""
    return [(f"r{k}", [*STORE_LABELS, DISCARD][k % 3]) for k in range(STORE_ROWS)]


STORE_CHILD = """
import sys, time
from tests.test_faults_kill import STORE_LABELS, planned_decisions, store_frame
from synthlab.annotation.store import LabelStore
store = LabelStore(sys.argv[1], store_frame(), labels=STORE_LABELS)
for row_id, decision in planned_decisions():
    store.record(row_id, decision, annotator="child")
    print(row_id, flush=True)  # acknowledged: record() has returned
    time.sleep(0.01)
"""


def reopen(path: Path) -> LabelStore:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "the last line was cut off mid-write"
        return LabelStore(path, store_frame(), labels=STORE_LABELS)


def test_annotation_killed_mid_session_keeps_every_acknowledged_decision(tmp_path):
    rng = random.Random(29)
    plan = planned_decisions()
    lost = 0
    for trial in range(KILLS):
        path = tmp_path / f"labels{trial}.jsonl"
        acknowledge_before_kill = rng.randint(1, STORE_ROWS - 10)
        child = subprocess.Popen(
            [sys.executable, "-c", STORE_CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        acknowledged = [child.stdout.readline().strip() for _ in range(acknowledge_before_kill)]
        time.sleep(rng.uniform(0, 0.01))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        acknowledged += child.stdout.read().split()  # printed before the kill, read after it
        assert child.returncode == -signal.SIGKILL, "the session finished before the kill"
        count("store_kills")
        store = reopen(path)
        present = dict(store.decisions()[["id", "decision"]].values.tolist())
        lost += sum(row_id not in present for row_id in acknowledged)
        assert list(present.items()) == plan[: len(present)], "a decision was changed or made out of order"
        assert len(acknowledged) <= len(present) <= len(acknowledged) + 1  # at most the one in flight is extra
        count("store_decisions_acknowledged_before_kill", len(acknowledged))
        for row_id in store.pending([row_id for row_id, _ in plan]):
            store.record(row_id, dict(plan)[row_id])
        assert reopen(path).decisions()[["id", "decision"]].values.tolist() == [list(item) for item in plan]
    COUNTS["store_decisions_lost"] = COUNTS.get("store_decisions_lost", 0) + lost
    assert lost == 0, f"{lost} acknowledged decisions lost over {KILLS} kills"


def test_a_label_store_torn_at_any_byte_loses_no_decision_wholly_before_the_tear(tmp_path):
    whole = tmp_path / "whole.jsonl"
    LabelStore(whole, store_frame(), labels=STORE_LABELS).record_many(planned_decisions()[:25])
    data = whole.read_bytes()
    line_ends = [position for position, byte in enumerate(data) if byte == ord("\n")]
    rng = random.Random(31)
    offsets = sorted({0, line_ends[0], line_ends[0] + 1, len(data) - 1, *rng.sample(range(len(data)), TEAR_OFFSETS)})
    lost = 0
    for offset in offsets:
        path = tmp_path / f"torn{offset}.jsonl"
        path.write_bytes(data[:offset])
        whole_lines = sum(end <= offset for end in line_ends[1:])  # decision lines whose text is all there
        expected = planned_decisions()[:whole_lines]
        store = reopen(path)
        present = store.decisions()[["id", "decision"]].values.tolist()
        lost += sum([row_id, decision] not in present for row_id, decision in expected)
        assert present == [list(item) for item in expected], f"offset {offset}"
        store.record("r39", "fresh")  # the next decision starts a clean line
        assert reopen(path).decisions()["id"].tolist() == [row_id for row_id, _ in expected] + ["r39"]
    count("store_offsets_tried", len(offsets))
    COUNTS["store_decisions_lost_to_tears"] = COUNTS.get("store_decisions_lost_to_tears", 0) + lost
    assert lost == 0, f"{lost} decisions lost over {len(offsets)} tear offsets"


def test_a_file_that_is_not_a_checkpoint_or_store_is_refused_and_left_as_it_is(tmp_path):
    for content in (b"id,text", b"[1, 2]\n", b'{"notes": 1}'):
        path = tmp_path / "notes.txt"
        path.write_bytes(content)
        with pytest.raises(ValueError, match="is not a generate\\(\\) checkpoint"):
            run_generation(SleepyEchoModel(delay=0), path, 1)
        with pytest.raises(ValueError, match="is not a synthlab label store"):
            LabelStore(path, store_frame(), labels=STORE_LABELS)
        assert path.read_bytes() == content
