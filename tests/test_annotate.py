from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from synthlab.annotation.llm import (
    annotation_loop,
    annotation_prompts,
    label_confidence,
    llm_annotate,
    select_for_annotation,
)
from synthlab.llm.local import ChatLocalLlama
from tests.fake_models import ScriptedModel

LABELS = ["negative", "positive"]


def _pool(n: int = 24) -> pd.DataFrame:
    words = {"positive": "great wonderful moving", "negative": "awful dull boring"}
    labels = [LABELS[i % 2] for i in range(n)]
    return pd.DataFrame(
        {"text": [f"{words[label]} film number {i}" for i, label in enumerate(labels)], "label": labels},
        index=range(100, 100 + n),
    )


def test_annotate_records_labels_and_failures_on_their_rows():
    model = ScriptedModel(answers={"number 0": "positive", "number 1": "It is negative.", "number 2": "no idea"})
    annotated = llm_annotate(model, _pool(3), LABELS, progress=False)
    assert annotated["llm_label"].tolist() == ["positive", "negative", None]
    assert annotated["llm_confidence"].tolist() == [None, None, None]  # no log-probabilities here
    assert "named none of" in annotated["llm_error"].iloc[2]
    assert annotated.index.tolist() == [100, 101, 102]


def test_a_model_that_never_parses_fails_every_row_without_raising():
    annotated = llm_annotate(FakeListChatModel(responses=["hmm"]), _pool(4), LABELS, progress=False)
    assert annotated["llm_label"].isna().all() and annotated["llm_error"].str.contains("failed").all()


def test_demos_become_turns_and_braces_are_safe():
    demos = pd.DataFrame({"text": ["a {weird} one"], "label": ["negative"]})
    prompt = annotation_prompts(["b {x}"], LABELS, demos)[0].to_messages()
    assert [m.type for m in prompt] == ["system", "human", "ai", "human"]
    assert "{weird}" in prompt[1].content and prompt[2].content == '{"label": "negative"}'
    assert "b {x}" in prompt[3].content


def test_confidence_comes_from_the_label_token():
    def entry(token, alternatives):
        return {
            "token": token,
            "logprob": 0.0,
            "top_logprobs": [{"token": t, "logprob": lp} for t, lp in alternatives],
        }

    content = [
        entry('{"', []),
        entry("label", []),
        entry('":"', []),
        entry("positive", [("positive", np.log(0.6)), ("negative", np.log(0.2)), ("l", np.log(0.1))]),
        entry('"}', []),
    ]
    assert label_confidence('{"label":"positive"}', {"content": content}, LABELS) == pytest.approx(0.75)
    misaligned = [entry('{"label":"pos', []), entry("itive", []), entry('"}', [])]
    assert label_confidence('{"label":"positive"}', {"content": misaligned}, LABELS) is None
    assert label_confidence("positive", None, LABELS) is None


@pytest.mark.parametrize("strategy", ["random", "k-means", "vote-k", "max-entropy", "least-confidence"])
def test_selection_is_deterministic_and_distinct(strategy):
    pool = _pool()
    scores = np.random.default_rng(0).dirichlet([1, 1], size=len(pool))
    first = select_for_annotation(pool, 5, strategy, seed=3, scores=scores)
    again = select_for_annotation(pool, 5, strategy, seed=3, scores=scores)
    assert first.index.tolist() == again.index.tolist()
    assert len(first) == 5 and first.index.is_unique


def test_uncertainty_strategies_pick_the_most_uncertain_rows():
    pool = _pool(4)
    scores = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.6, 0.4]])
    for strategy in ("max-entropy", "least-confidence"):
        assert select_for_annotation(pool, 2, strategy, scores=scores).index.tolist() == [101, 103]
    three = np.array([[0.5, 0.5, 0.0], [0.4, 0.3, 0.3], [0.9, 0.05, 0.05]])
    assert select_for_annotation(_pool(3), 1, "max-entropy", scores=three).index.tolist() == [101]


def test_k_means_picks_one_representative_per_cluster():
    pool = pd.DataFrame({"text": ["red apple"] * 3 + ["green pear"] * 3 + ["blue sky today"] * 3})
    chosen = select_for_annotation(pool, 3, "k-means", seed=0)
    assert sorted(chosen["text"]) == ["blue sky today", "green pear", "red apple"]


def test_bad_selection_input_is_named():
    pool = _pool(4)
    with pytest.raises(ValueError, match="larger than the pool"):
        select_for_annotation(pool, 5, "random")
    with pytest.raises(ValueError, match="budget must be"):
        select_for_annotation(pool, 0, "random")
    with pytest.raises(ValueError, match="Unknown strategy 'core-set'"):
        select_for_annotation(pool, 1, "core-set")
    with pytest.raises(ValueError, match="pool is empty"):
        select_for_annotation(pool.iloc[:0], 1, "random")
    with pytest.raises(ValueError, match="needs scores"):
        select_for_annotation(pool, 1, "max-entropy")
    with pytest.raises(ValueError, match="two distinct labels"):
        llm_annotate(FakeListChatModel(responses=["x"]), pool, ["positive"])


def test_the_loop_records_every_round():
    pool, test = _pool(24), _pool(6)
    model = FakeListChatModel(responses=["positive", "negative"])  # alternates, so half right
    result = annotation_loop(
        model,
        pool,
        test,
        LABELS,
        budget_per_round=4,
        rounds=3,
        strategy="max-entropy",
        progress=False,
    )
    rounds, annotated = result.table, result.rows
    assert rounds["round"].tolist() == [1, 2, 3]
    assert rounds["budget_spent"].tolist() == [4, 8, 12]
    assert rounds["selected_by"].iloc[0] == "random"
    assert rounds["llm_accuracy"].between(0, 1).all() and rounds["task_accuracy"].between(0, 1).all()
    assert annotated.index.is_unique and len(annotated) == 12


def test_the_loop_ends_with_a_report_when_nothing_parses():
    with pytest.warns(UserWarning, match="no parseable label in 4 calls"):
        rounds = annotation_loop(
            FakeListChatModel(responses=["hmm"]),
            _pool(8),
            _pool(4),
            LABELS,
            budget_per_round=2,
            rounds=2,
            strategy="least-confidence",
            progress=False,
        ).table
    assert rounds["llm_accuracy"].isna().all() and rounds["labelled"].eq(0).all()


def test_bad_loop_input_is_named():
    model = FakeListChatModel(responses=["positive"])
    with pytest.raises(ValueError, match="the pool has 4"):
        annotation_loop(model, _pool(4), _pool(2), LABELS, budget_per_round=3, rounds=2, strategy="random")
    with pytest.raises(ValueError, match="two distinct labels"):
        annotation_loop(model, _pool(4), _pool(2), ["positive"], budget_per_round=1, rounds=1, strategy="random")
    with pytest.raises(ValueError, match="cold_start"):
        annotation_loop(
            model,
            _pool(4),
            _pool(2),
            LABELS,
            budget_per_round=1,
            rounds=1,
            strategy="random",
            cold_start="max-entropy",
        )


@pytest.mark.integration
def test_the_embedded_model_annotates_with_a_confidence():
    model = ChatLocalLlama(temperature=0, max_tokens=16, cache=False)
    annotated = llm_annotate(model, _pool(4), LABELS, progress=False)
    assert annotated["llm_error"].isna().all()
    assert set(annotated["llm_label"]) <= set(LABELS)
    confidences = [c for c in annotated["llm_confidence"] if c is not None]
    assert confidences and all(0 < c <= 1 for c in confidences)


def test_vote_k_covers_every_cluster_once():
    pool = pd.DataFrame({"text": ["red apple pie"] * 4 + ["green pear tart"] * 3 + ["blue sky today"] * 2})
    chosen = select_for_annotation(pool, 3, "vote-k")
    assert sorted(chosen["text"]) == ["blue sky today", "green pear tart", "red apple pie"]
