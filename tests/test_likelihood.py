"""Generation likelihood (synthlab.curation.likelihood): SuperGen's mean log-probability and perplexity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from langchain_core.messages import HumanMessage

from synthlab.curation.likelihood import score_likelihood, sequence_likelihood
from synthlab.generation.tasks import review_prompts
from synthlab.llm.cache import SQLiteCache
from synthlab.llm.local import ChatLocalLlama
from tests.fake_models import EchoSeedModel


def test_sequence_likelihood_mean_and_perplexity():
    result = sequence_likelihood([-1.0, -2.0, -3.0])
    assert result["mean_logprob"] == pytest.approx(-2.0)
    assert result["perplexity"] == pytest.approx(math.exp(2.0))
    assert result["n_tokens"] == 3
    assert sequence_likelihood([]) == {"mean_logprob": None, "perplexity": None, "n_tokens": None}


def test_score_likelihood_needs_the_embedded_model():
    with pytest.raises(TypeError, match="embedded model"):
        score_likelihood(EchoSeedModel(), ["Write a review."], ["Nice."])


def test_score_likelihood_checks_pairs_and_texts(local_model):
    with pytest.raises(ValueError, match="one prompt per text"):
        score_likelihood(local_model, ["a", "b"], ["only one"])
    with pytest.raises(TypeError, match=r"not strings \(index \[7\]\)"):
        score_likelihood(local_model, ["a"], pd.Series([None], index=[7]))


@pytest.mark.integration
def test_scores_match_the_log_probabilities_of_generation(local_model):
    prompts, _, _ = review_prompts(2, seed=0)
    generated = [local_model.invoke(prompt, seed=3, logprobs=True) for prompt in prompts]
    texts = pd.Series([message.content for message in generated], index=["x", "y"])
    scores = score_likelihood(local_model, prompts, texts, progress=False)
    assert scores.index.tolist() == ["x", "y"]
    for message, (_, row) in zip(generated, scores.iterrows()):
        at_generation = [entry["logprob"] for entry in message.response_metadata["logprobs"]["content"]]
        assert row["mean_logprob"] == pytest.approx(np.mean(at_generation), abs=0.1)
        assert row["perplexity"] == pytest.approx(math.exp(-row["mean_logprob"]))
        assert abs(row["n_tokens"] - len(at_generation)) <= 2
    off_task = score_likelihood(local_model, prompts[:1], ["Quarterly tax filings zebra spreadsheet."], progress=False)
    assert off_task["mean_logprob"].iloc[0] < scores["mean_logprob"].iloc[0]


@pytest.mark.integration
def test_forced_log_probabilities_are_cached_so_a_recording_replays_them(tmp_path, monkeypatch):
    cache = SQLiteCache(tmp_path / "cache.sqlite")
    model = ChatLocalLlama(cache=cache)
    question = [HumanMessage("Say hello.")]
    first = model.token_logprobs(question, "Hello there!")
    assert len(cache) == 1 and len(first) == model.get_num_tokens("Hello there!")

    def no_model(*args: object) -> list[float]:
        raise AssertionError("a cached call went to the model")

    monkeypatch.setattr(ChatLocalLlama, "_forced_logprobs", no_model)
    assert model.token_logprobs(question, "Hello there!") == first
    with pytest.raises(AssertionError, match="went to the model"):
        model.token_logprobs(question, "Hello again!")
