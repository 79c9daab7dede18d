"""``python -m synthlab demo`` runs the capstone workflow (synthlab.workflows.capstone) and prints its table."""

from __future__ import annotations

import json

import pytest

import synthlab.workflows.capstone
from synthlab.__main__ import main
from synthlab.llm.chat import get_chat_model
from synthlab.workflows.capstone import run_capstone
from synthlab.workflows.report import demo_summary
from tests.fake_models import EchoSeedModel
from tests.test_capstone import ReviewModel, small_real


@pytest.fixture
def fake_backend(monkeypatch):
    """The CLI's default model and real data, replaced by a fake model and a small real sample."""
    real = small_real()
    monkeypatch.setattr(synthlab.workflows.capstone, "get_chat_model", lambda *args, **kwargs: ReviewModel())
    monkeypatch.setattr(synthlab.workflows.capstone, "load_real_task", lambda: real)


def test_cli_runs_the_capstone_and_prints_table_folder_and_calls(fake_backend, tmp_path, capsys):
    assert main(["demo", "--n", "16", "--seed", "3", "--runs-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    run_dir = next(tmp_path.iterdir())
    assert f"Run folder: {run_dir}" in printed
    for text in (
        "label-only",
        "real-demos",
        "hygiene+crossfit",
        "tstr_accuracy",
        "real full",
        "Model calls:",
        "answered without the model:",
        "Wall time:",
    ):
        assert text in printed
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["settings"]["n"] == 16 and metrics["settings"]["row_seeds"][0] == 3
    assert "real few-shot + best synthetic" in printed and "real rows" in printed
    assert (run_dir / "report.md").exists() and (run_dir / "capstone.png").exists()


def test_summary_without_a_cache_names_the_run_folder_only(fake_backend, tmp_path):
    result = run_capstone(n=16, runs_dir=tmp_path, progress=False)
    summary = demo_summary(result)
    assert "Model calls" not in summary and "Wall time" not in summary and str(result.run_dir) in summary


def test_cli_rejects_too_few_rows_before_loading_a_model(tmp_path, monkeypatch):
    monkeypatch.setattr(synthlab.workflows.capstone, "get_chat_model", lambda *a, **k: pytest.fail("model loaded"))
    with pytest.raises(ValueError, match=r"n=1 must be a multiple of the 2 labels and at least 8"):
        main(["demo", "--n", "1", "--runs-dir", str(tmp_path)])
    assert not any(tmp_path.iterdir())


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit):
        main([])
    assert "demo" in capsys.readouterr().err


@pytest.mark.integration
def test_capstone_on_the_embedded_model_writes_a_complete_run_folder(tmp_path):
    model = get_chat_model("local", temperature=0.9, max_tokens=40, cache=tmp_path / "c.sqlite")
    result = run_capstone(
        model,
        n=8,
        strategies=["label-only"],
        pipelines=["hygiene"],
        runs_dir=tmp_path / "runs",
        real=small_real(),  # the model is what this test is about; a sample of the real splits keeps it fast
        progress=False,
    )
    row = result.table.loc[("label-only", "hygiene")]
    kept, removed = result.curated["label-only", "hygiene"]
    assert 8 <= row["generated"] <= 16 and len(kept) + len(removed) <= row["generated"]
    assert 0 <= row["tstr_accuracy"] <= 1 and 0 <= row["oracle_agreement"] <= 1
    assert list(result.headline.index)[0] == "real few-shot" and len(result.headline) == 3
    assert (result.run_dir / "curated" / "label-only" / "hygiene.removed.jsonl").exists()


def test_echo_model_rows_are_measured_too(fake_backend):
    # echoed prompts are long and alike: the workflow still runs and reports them
    result = run_capstone(
        EchoSeedModel(),
        n=8,
        strategies=["label-only"],
        pipelines=["hygiene"],
        runs_dir=None,
        real=synthlab.workflows.capstone.load_real_task(),
        progress=False,
    )
    assert result.table["generated"].between(8, 16).all()
