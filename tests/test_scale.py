"""Ray Data scale-out: the same rows, removals and metrics as a run in one process (local Ray)."""

from __future__ import annotations

import sys
from functools import partial

import pandas as pd
import pytest
from langchain_core.messages import HumanMessage

import synthlab.workflows.ray_data as ray_data
import synthlab.workflows.scale as scale
from synthlab.core.records import make_records
from synthlab.core.steps import run_filters
from synthlab.curation.dedup import drop_near_duplicates
from synthlab.curation.filters import (
    drop_by_length,
    drop_exact_duplicates,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
)
from synthlab.evaluation.diversity import distinct_n, self_bleu
from synthlab.llm.generate import generate
from tests.fake_models import EchoSeedModel

COMPARED = ["text", "label", "method", "prompt", "params", "seed", "round", "error", "raw"]


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray")
    ray_data.init_ray(num_cpus=2, log_to_driver=False)
    yield ray
    ray.shutdown()


def _same_rows(ray_rows: pd.DataFrame, local_rows: pd.DataFrame) -> None:
    columns = [column for column in COMPARED if column in local_rows.columns]
    pd.testing.assert_frame_equal(
        ray_rows[columns].reset_index(drop=True),
        local_rows[columns].reset_index(drop=True),
        check_dtype=False,
    )


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'synthlab\[ray\]'"):
        ray_data.require_ray()
    with pytest.raises(ImportError, match=r"synthlab\[ray\]"):
        scale.generate_on_ray(("local", {}), ["a prompt"])


def test_core_does_not_import_ray():
    import subprocess

    code = "import sys, synthlab, synthlab.llm.generate, synthlab.curation.filters; print('ray' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_model_spec_must_be_a_recipe():
    scale.check_spec(("openai", {"base_url": "http://localhost:8000/v1"}))
    scale.check_spec(EchoSeedModel)
    with pytest.raises(TypeError, match="pass the recipe, not a model object"):
        scale.check_spec(EchoSeedModel())
    with pytest.raises(TypeError, match=r"\(backend, params\)"):
        scale.check_spec("local")
    with pytest.raises(ValueError, match="unknown backend 'vllm'"):
        scale.check_spec(("vllm", {}))


def test_bad_prompts_are_named(local_ray):
    with pytest.raises(ValueError, match="prompts is empty"):
        scale.generate_on_ray(EchoSeedModel, [])
    with pytest.raises(TypeError, match="prompt 1 is 3"):
        scale.generate_on_ray(EchoSeedModel, ["fine", 3])
    with pytest.raises(ValueError, match="labels has 1 items but prompts has 2"):
        scale.generate_on_ray(EchoSeedModel, ["a", "b"], labels=["positive"])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        scale.generate_on_ray(EchoSeedModel, ["a"], batch_size=0)
    with pytest.raises(TypeError, match=r"does not take \['checkpoint'\].*write_parquet"):
        scale.generate_on_ray(EchoSeedModel, ["a"], checkpoint="run.jsonl")


def test_ray_generation_equals_local_generation(local_ray):
    prompts = ["review 0", "review 1", "FAIL 2", "FAIL 3", [HumanMessage("review 4")]]
    labels = ["positive", "negative", "positive", "negative", "positive"]
    conditions = [{"genre": genre} for genre in ("drama", "comedy", "horror", "drama", "comedy")]
    # Blocks of two prompts: the second block fails entirely and must still come back as rows.
    dataset = scale.generate_on_ray(
        EchoSeedModel, prompts, n=2, seed=5, labels=labels, conditions=conditions, batch_size=2, generation_round=2
    )
    ray_rows = ray_data.to_records(dataset)
    local_rows = generate(
        EchoSeedModel(), prompts, n=2, seed=5, labels=labels, conditions=conditions, generation_round=2, progress=False
    )
    _same_rows(ray_rows, local_rows)
    assert ray_rows["seed"].tolist() == list(range(5, 15))
    assert ray_rows["error"].notna().tolist() == [False] * 4 + [True] * 4 + [False] * 2
    assert ray_rows["params"].iloc[1] == {"genre": "drama", "sample": 1}
    assert (ray_rows["round"] == 2).all()


def _messy_records() -> pd.DataFrame:
    texts = [
        "A warm and funny film with a great cast.",
        "a warm and funny film with a great cast.",  # exact duplicate of row 0
        "Too short.",
        "Not my kind of film.",  # under six words
        "I'm sorry, I cannot help with that request today.",
        "A warm and funny film with a great cast!!",  # near duplicate of row 0
        "The plot drags but the ending lands well enough.",
        "the movie was bad the movie was bad the movie was bad the movie was bad",
        None,
        "Slow, beautiful and quietly moving from start to end.",
    ]
    return make_records(
        [
            {
                "text": text,
                "label": "positive",
                "seed": k,
                "error": "RuntimeError: boom" if text is None else None,
            }
            for k, text in enumerate(texts)
        ]
    )


STEPS = [
    drop_malformed,
    partial(drop_by_length, min_words=6),
    drop_refusals,
    drop_repetitive,
    drop_exact_duplicates,
    partial(drop_near_duplicates, threshold=0.5, progress=False),
]


def test_filters_on_ray_equal_run_filters(local_ray):
    frame = _messy_records()
    kept, log = scale.filter_on_ray(ray_data.to_dataset(frame, rows_per_block=3), STEPS)
    local_kept, local_log = run_filters(frame, STEPS)
    _same_rows(ray_data.to_records(kept), local_kept)
    by_id = ["id", "step", "reason"]
    pd.testing.assert_frame_equal(
        log[by_id].sort_values("id").reset_index(drop=True),
        local_log[by_id].sort_values("id").reset_index(drop=True),
        check_dtype=False,
    )
    assert set(log["step"]) == {
        "drop_malformed",
        "drop_by_length",
        "drop_refusals",
        "drop_repetitive",
        "drop_exact_duplicates",
        "drop_near_duplicates",
    }


def test_row_wise_filters_stay_on_ray_and_warn_when_nothing_is_left(local_ray):
    frame = _messy_records()
    kept, log = scale.filter_on_ray(ray_data.to_dataset(frame, rows_per_block=4), [drop_malformed])
    assert kept.count() == len(frame) - 2 and len(log) == 2
    with pytest.raises(Exception, match="drop_malformed first"):  # a failed row's missing text, as in run_filters
        scale.filter_on_ray(ray_data.to_dataset(frame), [partial(drop_by_length, min_words=50)])
    texts = frame.dropna(subset=["text"])
    kept, log = scale.filter_on_ray(
        ray_data.to_dataset(texts, rows_per_block=4), [drop_refusals, drop_exact_duplicates]
    )
    assert log["step"].tolist() == ["drop_refusals", "drop_exact_duplicates"] and kept.count() == len(texts) - 2
    kept, log = scale.filter_on_ray(ray_data.to_dataset(texts.iloc[[0, 2]]), [drop_refusals, drop_exact_duplicates])
    assert log.empty and kept.count() == 2  # nothing removed: an empty log, not a crash
    with pytest.warns(UserWarning, match="removed every row"):
        kept, log = scale.filter_on_ray(ray_data.to_dataset(texts), [partial(drop_by_length, min_words=50)])
    assert kept.count() == 0 and len(log) == len(texts)
    with pytest.raises(ValueError, match="steps is empty"):
        scale.filter_on_ray(ray_data.to_dataset(frame), [])


def test_metrics_on_ray_equal_local_metrics(local_ray):
    frame = _messy_records().dropna(subset=["text"])
    frame["label"] = ["positive", "negative"] * 4 + ["positive"]
    metrics = {"distinct-2": partial(distinct_n, n=2), "self-BLEU": self_bleu}
    dataset = ray_data.to_dataset(frame, rows_per_block=3)
    overall = scale.metrics_on_ray(dataset, metrics)
    assert overall.loc[0, "n"] == len(frame)
    assert overall.loc[0, "distinct-2"] == pytest.approx(distinct_n(frame["text"].tolist(), 2))
    assert overall.loc[0, "self-BLEU"] == pytest.approx(self_bleu(frame["text"].tolist()))
    by_label = scale.metrics_on_ray(dataset, metrics, by="label").set_index("label")
    for label, group in frame.groupby("label"):
        assert by_label.loc[label, "distinct-2"] == pytest.approx(distinct_n(group["text"].tolist(), 2))
    with pytest.raises(KeyError, match="'review' are not in the dataset|\\['review'\\]"):
        scale.metrics_on_ray(dataset, metrics, text_col="review")
    with pytest.raises(ValueError, match="metrics is empty"):
        scale.metrics_on_ray(dataset, {})


@pytest.mark.integration
def test_ray_worker_reproduces_the_embedded_model(local_ray):
    params = {"temperature": 0.9, "max_tokens": 12, "cache": False}
    prompts = ["Write a one-line movie review.", "Name a film genre."]
    ray_rows = ray_data.to_records(scale.generate_on_ray(("local", params), prompts, n=2, seed=3))
    local_rows = generate(scale.build_model(("local", params)), prompts, n=2, seed=3, progress=False)
    _same_rows(ray_rows, local_rows)


class NodeTimeout(Exception):
    """What Ray raises when its local node misses the start deadline (a bare Exception)."""


def test_local_start_retries_a_missed_deadline():
    class SlowRay:
        calls = 0

        def init(self, **kwargs):
            self.calls += 1
            if self.calls < 3:
                raise NodeTimeout("The current node timed out during startup.")

    slow = SlowRay()
    with pytest.warns(UserWarning, match="trying again"):
        ray_data._start_local_ray(slow, 2, {})
    assert slow.calls == 3
    with pytest.raises(RuntimeError, match="missed Ray's fixed 30 s start deadline 1 times"):
        ray_data._start_local_ray(SlowRay(), 2, {}, attempts=1)
