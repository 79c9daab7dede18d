from __future__ import annotations

import pytest
from langchain_core.prompts import ChatPromptTemplate

from synthlab.generate import GenerationError, generate
from synthlab.records import RECORD_COLUMNS
from tests.fake_models import EchoSeedModel


def test_each_row_gets_its_own_seed_and_provenance():
    records = generate(EchoSeedModel(), ["a", "b"], n=2, seed=10, labels=["x", "y"],
                       conditions=[{"topic": "t1"}, {"topic": "t2"}], method="unit", progress=False)
    assert list(records.columns[: len(RECORD_COLUMNS)]) == list(RECORD_COLUMNS)
    assert records["text"].tolist() == ["a #10", "a #11", "b #12", "b #13"]
    assert records["seed"].tolist() == [10, 11, 12, 13]
    assert records["label"].tolist() == ["x", "x", "y", "y"]
    assert records["params"].iloc[2]["topic"] == "t2"
    assert records["params"].iloc[1]["sample"] == 1
    assert (records["method"] == "unit").all()
    assert records["error"].isna().all()


def test_a_failed_row_is_recorded_and_the_others_are_kept():
    records = generate(EchoSeedModel(), ["ok", "FAIL here", "fine"], progress=False)
    assert len(records) == 3
    assert records["error"].notna().tolist() == [False, True, False]
    assert "model failed" in records["error"].iloc[1]
    assert records["text"].iloc[2] == "fine #2"


def test_a_malformed_output_keeps_its_raw_text():
    def needs_colon(output: str) -> dict:
        if ":" not in output:
            raise ValueError("no colon")
        return {"text": output.split(":", 1)[1]}

    records = generate(EchoSeedModel(), ["k: v", "plain"], parse=needs_colon, progress=False)
    assert records["text"].iloc[0].startswith(" v")
    assert records["error"].iloc[1] == "ValueError: no colon"
    assert records["raw"].iloc[1] == "plain #1"


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="prompts is empty"):
        generate(EchoSeedModel(), [])
    with pytest.raises(ValueError, match="labels has 1 items but prompts has 2"):
        generate(EchoSeedModel(), ["a", "b"], labels=["x"])
    with pytest.raises(GenerationError, match="All 2 generations failed") as failure:
        generate(EchoSeedModel(), ["FAIL", "FAIL too"], progress=False)
    assert failure.value.records["error"].str.contains("model failed").all()


def test_concurrency_keeps_row_order():
    prompts = [f"p{i}" for i in range(20)]
    records = generate(EchoSeedModel(), prompts, max_concurrency=4, progress=False)
    assert records["text"].tolist() == [f"p{i} #{i}" for i in range(20)]


class RecordingModel(EchoSeedModel):
    """Remembers the order in which prompts reached the model."""

    seen: list[str]

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.seen.append(str(messages[-1].content))
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_prompts_sharing_a_prefix_run_back_to_back_and_rows_keep_their_order():
    prompts = ["demo A: x", "demo B: x", "demo A: y", "demo B: y"]
    grouped, plain = RecordingModel(seen=[]), RecordingModel(seen=[])
    rows = generate(grouped, prompts, seed=5, progress=False)
    unordered = generate(plain, prompts, seed=5, group_prefixes=False, progress=False)
    assert grouped.seen == ["demo A: x", "demo A: y", "demo B: x", "demo B: y"]
    assert plain.seen == prompts
    assert rows["text"].tolist() == unordered["text"].tolist() == [
        "demo A: x #5", "demo B: x #6", "demo A: y #7", "demo B: y #8"]


def test_templates_are_recorded_as_text():
    template = ChatPromptTemplate.from_messages([("system", "be brief"), ("human", "{q}")])
    records = generate(EchoSeedModel(), [template.invoke({"q": "why {braces}?"})], progress=False)
    assert records["prompt"].iloc[0] == "system: be brief\nhuman: why {braces}?"
