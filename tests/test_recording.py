"""Recorded runs (synthlab.llm.recording): what record writes, replay answers, strict refuses, and that every
notebook replays its own recording, whose calls the embedded model can still make with the same keys."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest
from langchain_core.caches import BaseCache
from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumps
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.llm import recording
from synthlab.llm.cache import SQLiteCache, cache_key
from synthlab.llm.generate import generate
from synthlab.llm.recording import (
    RecordedCache,
    RecordingMissing,
    compact_recording,
    iter_calls,
    llama_kernels,
    read_recording,
    recording_mode,
    recording_path,
    use_recording,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ANSWERS = {"prefix": "first machine"}  # what the model says now: another CPU is another prefix


class Machine(BaseChatModel):
    """Answers ``"<prefix>: <last message> #<seed>"``, the prefix read from ``ANSWERS`` (not a field, so the
    cache key stays the same when it changes, as it does for llama.cpp on another CPU)."""

    @property
    def _llm_type(self) -> str:
        return "machine"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        ANSWERS["calls"] = ANSWERS.get("calls", 0) + 1
        text = f"{ANSWERS['prefix']}: {messages[-1].content} #{kwargs.get('seed')}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


@pytest.fixture
def recordings(tmp_path, monkeypatch):
    monkeypatch.setenv(recording.DIR_ENV_VAR, str(tmp_path / "recordings"))
    monkeypatch.setattr(recording, "_recorded_caches", {})
    ANSWERS.update(prefix="first machine", calls=0)
    return tmp_path


def _model(cache: RecordedCache) -> Machine:
    return Machine(cache=cache)


def _run(tmp_path: Path, mode: str, prompts: list[str]) -> tuple[list[str], RecordedCache]:
    cache = RecordedCache("07_example", mode, SQLiteCache(tmp_path / f"{mode}-{random.random()}.sqlite"))
    rows = generate(_model(cache), prompts, n=2, seed=5, progress=False)
    return rows["text"].tolist(), cache


def test_a_replay_gives_the_recorded_texts_on_another_machine_without_a_model_call(recordings):
    recorded, cache = _run(recordings, "record", ["a", "b"])
    assert cache.stats.misses == 4 and cache.counts.recorded == 4
    path = compact_recording("07_example", seconds=1.5)
    header, entries = read_recording(path)
    assert header["name"] == "07_example" and header["calls"] == 4 and header["seconds"] == 1.5
    assert {"created_at", "cpu", "llama_cpp_python", "model_files"} <= set(header)
    assert header["kernels"] == llama_kernels() and header["kernels"], "the build's kernels decide the text"
    assert all(name.isupper() and "=" not in name for name in header["kernels"])
    assert list(entries) == sorted(entries), "entries are sorted by key, so a re-recording diffs line by line"
    assert not (path.parent / "07_example.partial.jsonl").exists()

    ANSWERS.update(prefix="second machine", calls=0)
    replayed, cache = _run(recordings, "replay", ["a", "b"])
    assert replayed == recorded and all(text.startswith("first machine") for text in replayed)
    assert ANSWERS["calls"] == 0 and cache.counts.replayed == 4 and cache.stats.hits == 4
    cold, _ = _run(recordings, "replay", ["c"])
    assert cold[0].startswith("second machine"), "a call the recording lacks goes to the model"


def test_replay_warns_once_and_counts_the_calls_it_lacks(recordings):
    _run(recordings, "record", ["a"])
    compact_recording("07_example")
    with pytest.warns(UserWarning, match="07_example.jsonl.gz has no entry") as caught:
        _, cache = _run(recordings, "replay", ["a", "new prompt"])
    assert cache.counts.missing == 2 and cache.counts.replayed == 2
    assert len([w for w in caught if "has no entry" in str(w.message)]) == 1


def test_strict_replay_fails_the_run_naming_the_prompt_instead_of_failing_a_row(recordings):
    _run(recordings, "record", ["a"])
    compact_recording("07_example")
    with pytest.raises(RecordingMissing, match=r"07_example\.jsonl\.gz has no call.*new prompt"):
        _run(recordings, "strict", ["a", "new prompt"])
    with pytest.raises(RecordingMissing, match="there is no recording"):
        RecordedCache("00_never_recorded", "strict", SQLiteCache(recordings / "x.sqlite"))


def test_record_mode_calls_the_model_once_per_call_and_a_torn_line_is_skipped(recordings):
    texts, cache = _run(recordings, "record", ["a"])
    again = generate(_model(cache), ["a"], n=2, seed=5, progress=False)
    assert again["text"].tolist() == texts and ANSWERS["calls"] == 2, "the same call twice is made once"
    partial = recording_path("07_example").with_name("07_example.partial.jsonl")
    with open(partial, "a") as file:
        file.write('{"key": "torn')  # a process killed mid-line
    header, entries = read_recording(compact_recording("07_example"))
    assert header["calls"] == 2 and len(entries) == 2


def test_modes_and_names_are_checked(recordings, monkeypatch):
    monkeypatch.setenv(recording.MODE_ENV_VAR, "cold")
    with pytest.raises(ValueError, match="replay, strict, off, record"):
        recording_mode()
    monkeypatch.delenv(recording.MODE_ENV_VAR)
    assert recording_mode() == "replay"
    with pytest.raises(ValueError, match="file name without .ipynb"):
        use_recording("../elsewhere")
    bad = recordings / "bad.jsonl.gz"
    with gzip.open(bad, "wt") as file:
        file.write('{"key": "no header"}\n')
    with pytest.raises(ValueError, match="not a synthlab recording"):
        read_recording(bad)


def test_every_notebook_replays_its_own_recording_and_every_recording_has_its_notebook():
    for path in NOTEBOOKS:
        sources = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]
        setups = [source for source in sources if "synthlab.setup(" in source]
        assert any(f'recording="{path.stem}"' in source for source in setups), f"{path.name} replays no recording"
        parameters = next(source for source in sources if source.startswith("## Parameters"))
        assert "SYNTHLAB_REPLAY" in parameters, f"{path.name}'s Parameters section does not say how to switch modes"
    names = {path.stem for path in NOTEBOOKS}
    stray = [
        path.name for path in (ROOT / "notebooks" / "recordings").glob("*.jsonl.gz") if path.name[:-9] not in names
    ]
    assert not stray, f"recordings without a notebook (dead weight): {stray}"


class _KeyLog(BaseCache):
    """A cache that only notes the keys it is asked for (and never answers)."""

    def __init__(self) -> None:
        self.looked_up: list[str] = []

    def lookup(self, prompt: str, llm_string: str) -> None:
        self.looked_up.append(cache_key(prompt, llm_string))

    def update(self, prompt: str, llm_string: str, return_val: Any) -> None:
        pass

    def clear(self, **kwargs: Any) -> None:
        pass


RECORDED = sorted((ROOT / "notebooks" / "recordings").glob("*.jsonl.gz"))


@pytest.mark.integration
@pytest.mark.parametrize("path", RECORDED, ids=[path.name for path in RECORDED])
def test_recorded_calls_are_made_again_with_the_same_keys_and_valid_replies(path):
    """Two recorded calls per recording, made again on this machine: the same prompt and parameters give the same
    cache key (so replay finds them), and the reply is a valid one. Its text may differ on another CPU, unless the
    llama.cpp build uses the same kernels as the one that recorded it (the Makefile's fixed AVX2 build): then it is
    the recorded text, and the log-probabilities are the recorded ones."""
    from synthlab.llm.local import ChatLocalLlama

    header, entries = read_recording(path)
    same_kernels = header.get("kernels") == llama_kernels()
    calls = [call for call in iter_calls(path) if call[1].get("_type") == "synthlab-llama-cpp"]
    forced = [call for call in calls if call[1].get("method") == "token_logprobs"]
    calls = [call for call in calls if call[1].get("method") is None]
    for messages, params, recorded in random.Random(0).sample(forced, min(2, len(forced))):
        keys = _KeyLog()
        *question, answer = messages
        values = ChatLocalLlama(cache=keys, n_ctx=params["n_ctx"]).token_logprobs(question, answer.content)
        assert keys.looked_up[0] in entries, "the forced call's key changed: replay would miss it"
        assert len(values) == len(json.loads(recorded)) and all(value <= 0 for value in values)
        if same_kernels:
            assert values == pytest.approx(json.loads(recorded), abs=1e-6)
    fields = ("temperature", "top_p", "max_tokens", "seed", "stop", "n_ctx", "logprobs", "top_logprobs")
    for messages, params, recorded in random.Random(0).sample(calls, min(2, len(calls))):
        options = {name: params[name] for name in fields}
        extra = {name: params[name] for name in params if name not in {*fields, "_type", "model", "model_bytes"}}
        model = ChatLocalLlama(cache=False, **options)
        llm_string = model._get_llm_string(**extra)
        assert cache_key(dumps(messages), llm_string) in entries, "the call's key changed: replay would miss it"
        reply = model.invoke(messages, **extra)
        assert isinstance(reply.content, str) and reply.usage_metadata["output_tokens"] <= options["max_tokens"]
        assert reply.response_metadata["finish_reason"] in {"stop", "length"}
        if "response_format" in extra and reply.response_metadata["finish_reason"] == "stop":
            json.loads(reply.content)  # the grammar holds on any CPU (unless the reply was cut by max_tokens)
        if same_kernels:
            assert reply.content == recorded, "the same build sampled other text: the recording is not portable"


def test_only_the_checked_cells_keep_their_outputs_and_nothing_else_changes():
    import copy

    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from synthlab.workflows.recorder import with_checked_outputs

    committed = new_notebook(
        cells=[new_markdown_cell("# Title"), new_code_cell("x = 1"), new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(x)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    executed = copy.deepcopy(committed)
    executed.metadata["language_info"] = {"version": "3.11"}
    executed.cells[1].outputs = [new_output("stream", name="stdout", text="noise\n")]
    executed.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-12-07T06:25:37Z"}
    executed.cells[2].execution_count = 7
    executed.cells[2].outputs = [
        new_output("stream", name="stdout", text="1\n"),
        new_output("stream", name="stderr", text="a warning\n"),
    ]
    kept = with_checked_outputs(copy.deepcopy(committed), executed)
    assert kept.metadata == committed.metadata and kept.cells[1].metadata == {}
    assert kept.cells[1].outputs == [] and [output.text for output in kept.cells[2].outputs] == ["1\n"]
    assert kept.cells[1].execution_count is None and kept.cells[2].execution_count == 7  # nbval compares run cells
    with pytest.raises(ValueError, match="other cells"):
        with_checked_outputs(committed, new_notebook(cells=[]))


@pytest.mark.integration
def test_record_goes_on_past_a_failing_notebook_and_leaves_it_as_it_was(recordings, capsys):
    """``python -m synthlab record``: a notebook whose cell fails keeps its notebook and (no) recording, the next one
    is still recorded, its executed copy is kept for writing the text, and the command exits with 1."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from synthlab.__main__ import main

    folder = recordings / "recordings"
    folder.mkdir()
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for name, source in [("01_bad", "raise ValueError('planted')"), ("02_good", "# NBVAL_CHECK_OUTPUT\nprint(6 * 7)")]:
        nbformat.write(
            new_notebook(cells=[new_code_cell(source)], metadata={"kernelspec": kernelspec}),
            recordings / f"{name}.ipynb",
        )
    before = (recordings / "01_bad.ipynb").read_text()
    assert main(["record", "--executed-dir", str(recordings / "executed")]) == 1
    printed = capsys.readouterr().out
    assert "01_bad.ipynb: FAILED" in printed and "planted" in printed and "failed: ['01_bad.ipynb']" in printed
    assert (recordings / "01_bad.ipynb").read_text() == before and not recording_path("01_bad").exists()
    assert read_recording(recording_path("02_good"))[0]["calls"] == 0
    good = nbformat.read(recordings / "02_good.ipynb", as_version=4)
    assert good.cells[0].outputs[0]["text"] == "42\n"
    assert (recordings / "executed" / "02_good.ipynb").exists()
