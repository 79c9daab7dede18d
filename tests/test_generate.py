from __future__ import annotations

import numpy as np
import pytest
from langchain_core.prompts import ChatPromptTemplate
from pydantic import Field

from synthlab.core.records import RECORD_COLUMNS
from synthlab.llm.generate import GenerationError, generate
from synthlab.llm.retries import backoff_delay, is_transient
from tests.fake_models import EchoSeedModel


def test_each_row_gets_its_own_seed_and_provenance():
    records = generate(
        EchoSeedModel(),
        ["a", "b"],
        n=2,
        seed=10,
        labels=["x", "y"],
        conditions=[{"topic": "t1"}, {"topic": "t2"}],
        method="unit",
        progress=False,
    )
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
    assert (
        rows["text"].tolist()
        == unordered["text"].tolist()
        == ["demo A: x #5", "demo B: x #6", "demo A: y #7", "demo B: y #8"]
    )


def test_templates_are_recorded_as_text():
    template = ChatPromptTemplate.from_messages([("system", "be brief"), ("human", "{q}")])
    records = generate(EchoSeedModel(), [template.invoke({"q": "why {braces}?"})], progress=False)
    assert records["prompt"].iloc[0] == "system: be brief\nhuman: why {braces}?"


class FlakyModel(EchoSeedModel):
    """Fails transiently (``TimeoutError``) the first ``failures[seed]`` calls with that seed;
    raises ``ValueError`` (not transient) for prompts containing ``BAD``."""

    failures: dict[int, int] = Field(default_factory=dict)
    seen: list[int] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        seed = kwargs["seed"]
        self.seen.append(seed)
        if "BAD" in str(messages[-1].content):
            raise ValueError("bad request")
        if self.failures.get(seed, 0) > 0:
            self.failures[seed] -= 1
            raise TimeoutError("timed out")
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_transient_failures_are_retried_and_others_fail_at_once():
    model = FlakyModel(failures={1: 2, 2: 9}, seen=[])
    records = generate(model, ["a", "b", "c", "BAD d"], seed=0, max_retries=3, retry_backoff=0.001, progress=False)
    assert records["text"].tolist()[:2] == ["a #0", "b #1"]
    assert model.seen.count(1) == 3  # two timeouts, then the answer
    assert records["error"].iloc[2] == "TimeoutError: timed out (after 4 attempts)"
    assert model.seen.count(2) == 4  # 1 + max_retries, then the row is marked failed
    assert records["error"].iloc[3] == "ValueError: bad request" and model.seen.count(3) == 1


def test_no_retries_when_max_retries_is_zero():
    model = FlakyModel(failures={0: 1}, seen=[])
    records = generate(model, ["a", "b"], max_retries=0, progress=False)
    assert records["error"].iloc[0] == "TimeoutError: timed out" and model.seen == [0, 1]


def test_which_errors_are_transient():
    import httpx
    import openai

    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")

    def status_error(cls, status):
        return cls("x", response=httpx.Response(status, request=request), body=None)

    assert is_transient(status_error(openai.RateLimitError, 429))
    assert is_transient(status_error(openai.InternalServerError, 503))
    assert is_transient(openai.APITimeoutError(request=request))
    assert is_transient(openai.APIConnectionError(request=request))
    assert is_transient(httpx.RemoteProtocolError("dropped")) and is_transient(ConnectionResetError())
    assert not is_transient(status_error(openai.BadRequestError, 400))
    assert not is_transient(ValueError("unparsable")) and not is_transient(RuntimeError("bug"))


def test_backoff_grows_with_jitter_and_honours_retry_after():
    plain = TimeoutError()
    assert all(0.5 <= backoff_delay(plain, 1, 1.0) <= 1.0 for _ in range(20))
    assert all(4.0 <= backoff_delay(plain, 4, 1.0) <= 8.0 for _ in range(20))
    assert backoff_delay(plain, 30, 1.0) == 60.0

    class Limited(Exception):
        response = type("Response", (), {"headers": {"retry-after": "7"}})()

    assert backoff_delay(Limited(), 1, 0.1) == 7.0


def test_bad_retry_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="max_retries and retry_backoff must be >= 0"):
        generate(EchoSeedModel(), ["a"], max_retries=-1)


def test_a_checkpointed_run_resumes_only_the_missing_and_failed_rows(tmp_path):
    path = tmp_path / "run.jsonl"
    first = generate(
        FlakyModel(failures={1: 9}, seen=[]),
        ["a", "b", "c"],
        seed=0,
        max_retries=1,
        retry_backoff=0.001,
        checkpoint=path,
        progress=False,
    )
    assert first["error"].notna().tolist() == [False, True, False]
    assert len(path.read_text().splitlines()) == 1 + 3  # header + every finished row
    again = FlakyModel(seen=[])
    resumed = generate(again, ["a", "b", "c"], seed=0, max_retries=1, checkpoint=path, progress=False)
    assert again.seen == [1]  # only the failed row is called again
    assert resumed["text"].tolist() == ["a #0", "b #1", "c #2"] and resumed["error"].isna().all()
    assert resumed["id"].iloc[0] == first["id"].iloc[0]  # saved rows come back unchanged
    done = FlakyModel(seen=[])
    generate(done, ["a", "b", "c"], seed=0, checkpoint=path, progress=False)
    assert done.seen == []


def test_an_interrupted_last_line_is_run_again(tmp_path):
    path = tmp_path / "run.jsonl"
    generate(FlakyModel(seen=[]), ["a", "b"], checkpoint=path, progress=False)
    path.write_text(path.read_text()[:-20])  # the process died while writing the last row
    model = FlakyModel(seen=[])
    records = generate(model, ["a", "b"], checkpoint=path, progress=False)
    assert model.seen == [1] and records["text"].tolist() == ["a #0", "b #1"]


def test_a_torn_checkpoint_is_mended_so_no_finished_row_is_ever_lost(tmp_path):
    """The process dies at any byte of the last row: resuming cuts the fragment off (the next row is not glued onto
    it), so a second and a third resume still read every finished row. Tried at every byte offset of that row."""
    prompts = ["a", "b", "c", "d"]
    whole = tmp_path / "whole.jsonl"
    generate(EchoSeedModel(), prompts, checkpoint=whole, progress=False)
    data = whole.read_bytes()
    last_start = data[:-1].rfind(b"\n") + 1
    for offset in range(last_start, len(data)):  # every way of cutting the last row, its newline included
        path = tmp_path / f"cut{offset}.jsonl"
        path.write_bytes(data[:offset])
        model = EchoSeedModel()
        first = generate(model, prompts, checkpoint=path, progress=False)
        assert model.calls == (1 if offset < len(data) - 1 else 0), offset  # only the torn row runs again
        assert first["text"].tolist() == ["a #0", "b #1", "c #2", "d #3"]
        again = EchoSeedModel()
        assert generate(again, prompts, checkpoint=path, progress=False)["text"].tolist() == first["text"].tolist()
        assert again.calls == 0 and path.read_bytes().endswith(b"\n")
    middle = tmp_path / "middle.jsonl"
    lines = data.split(b"\n")
    middle.write_bytes(b"\n".join([lines[0], lines[1][:10], *lines[2:]]))
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        generate(EchoSeedModel(), prompts, checkpoint=middle, progress=False)


def test_a_checkpoint_is_not_resumed_with_another_parser(tmp_path):
    path = tmp_path / "run.jsonl"
    generate(EchoSeedModel(), ["a", "b"], checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="different parse"):
        generate(EchoSeedModel(), ["a", "b"], checkpoint=path, parse=lambda s: {"text": s.upper()}, progress=False)
    shouting = tmp_path / "shouting.jsonl"
    generate(EchoSeedModel(), ["a", "b"], checkpoint=shouting, parse=lambda s: {"text": s.upper()}, progress=False)
    with pytest.raises(ValueError, match="different parse"):  # another lambda: another body
        generate(EchoSeedModel(), ["a", "b"], checkpoint=shouting, parse=lambda s: {"text": s.lower()}, progress=False)
    resumed = generate(
        EchoSeedModel(), ["a", "b"], checkpoint=shouting, parse=lambda s: {"text": s.upper()}, progress=False
    )
    assert resumed["text"].tolist() == ["A #0", "B #1"]


def test_resumed_rows_keep_the_types_of_their_labels(tmp_path):
    path = tmp_path / "run.jsonl"
    labels = np.array([0, 1] * 2)
    generate(EchoSeedModel(), ["a", "b", "c", "d"], labels=labels, checkpoint=path, progress=False)
    resumed = generate(EchoSeedModel(), ["a", "b", "c", "d"], labels=labels, checkpoint=path, progress=False)
    assert resumed["label"].tolist() == [0, 1, 0, 1] and all(isinstance(v, int) for v in resumed["label"])


def test_a_checkpoint_from_other_arguments_is_refused(tmp_path):
    path = tmp_path / "run.jsonl"
    generate(EchoSeedModel(), ["a", "b"], seed=0, checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="different prompts, seed; resume with the same arguments"):
        generate(EchoSeedModel(), ["a", "c"], seed=1, checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="different n"):
        generate(EchoSeedModel(), ["a", "b"], n=2, checkpoint=path, progress=False)
    other = tmp_path / "records.jsonl"
    other.write_text('{"id": "x"}\n')
    with pytest.raises(ValueError, match="is not a generate\\(\\) checkpoint"):
        generate(EchoSeedModel(), ["a"], checkpoint=other, progress=False)


def test_one_string_is_refused_where_a_list_is_wanted():
    with pytest.raises(TypeError, match="not one string; got 'Write a review.': pass \\[prompt\\]"):
        generate(EchoSeedModel(), "Write a review.")
    with pytest.raises(TypeError, match="labels must be a list with one item per prompt"):
        generate(EchoSeedModel(), ["a", "b", "c"], labels="pos")
