from __future__ import annotations

import json

import pytest

from synthlab.__main__ import main
from synthlab.demo import run_demo
from synthlab.llm import get_chat_model
from synthlab.records import load_jsonl


@pytest.mark.integration
def test_demo_writes_a_complete_run_folder(tmp_path):
    model = get_chat_model("local", temperature=0.9, max_tokens=40, cache=tmp_path / "c.sqlite")
    run_dir, summary = run_demo(model, n=6, runs_dir=tmp_path / "runs", progress=False)
    kept, removed = load_jsonl(run_dir / "data.jsonl"), load_jsonl(run_dir / "removed.jsonl")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["generated"] == 6 == len(kept) + len(removed)
    assert metrics["kept"] == len(kept) and sum(metrics["removed"].values()) == len(removed)
    assert len(removed) == 0 or removed["reason"].notna().all()
    assert 0 < metrics["diversity"]["all"]["distinct_1"] <= 1
    assert (run_dir / "lengths.png").stat().st_size > 1000
    assert "lengths.png" in (run_dir / "report.md").read_text()
    assert "all" in summary.index


def test_cli_rejects_too_few_rows(tmp_path):
    with pytest.raises(ValueError, match="n must be at least 2"):
        main(["demo", "--n", "1", "--runs-dir", str(tmp_path)])
