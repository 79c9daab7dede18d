from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from synthlab.core.classifiers import train_and_test
from synthlab.generation.demo_rounds import demo_rounds
from synthlab.generation.demos import (
    copy_scores,
    demo_parser,
    fit_demos_to_context,
    generate_with_demos,
    helpfulness,
    select_demos,
    self_generated_pool,
)
from synthlab.generation.prompts import TaskSpec, build_prompts
from synthlab.llm.local import ChatLocalLlama
from tests.fake_models import EchoSeedModel

TASK = TaskSpec()
WORDS = {
    "positive": ["great", "wonderful", "moving", "brilliant"],
    "negative": ["awful", "dull", "boring", "tedious"],
}


def _frame(n: int = 12, start: int = 0) -> pd.DataFrame:
    labels = [("positive", "negative")[i % 2] for i in range(n)]
    texts = [f"a {WORDS[label][i % 4]} film number {i + start}" for i, label in enumerate(labels)]
    return pd.DataFrame({"text": texts, "label": labels}, index=range(100 + start, 100 + start + n))


class CountingModel(EchoSeedModel):
    """An echo model with a context window; a prompt's tokens are its words."""

    n_ctx: int = 10_000
    max_tokens: int = 10

    def get_num_tokens_from_messages(self, messages, tools=None) -> int:
        return sum(len(str(message.content).split()) for message in messages)


def test_parser_cuts_the_continued_demo_list():
    parse = demo_parser(TASK)
    assert parse("4. movie review: A warm, funny film.\n   sentiment: positive (the reviewer liked it)") == {
        "text": "A warm, funny film."
    }
    assert parse('Sure! Here is a review:\n"Dull and slow."') == {"text": "Dull and slow."}
    with pytest.raises(ValueError):
        parse("5. movie review:\n   sentiment: negative")


@pytest.mark.parametrize("strategy", ["random", "nearest", "vote-k", "feedback"])
def test_selection_is_balanced_interleaved_and_deterministic(strategy):
    pool = _frame(16)
    kwargs = {"anchor": "a wonderful film", "validation": _frame(8, start=50), "seed": 3}
    first = select_demos(pool, 3, strategy, **kwargs)
    assert first["label"].tolist() == ["negative", "positive"] * 3  # the pool's labels, sorted
    assert first.index.is_unique and first.index.isin(pool.index).all()
    assert first.index.tolist() == select_demos(pool, 3, strategy, **kwargs).index.tolist()


def test_labels_fix_the_order_and_random_depends_on_the_seed():
    pool = _frame(40)
    ordered = select_demos(pool, 1, labels=TASK.labels)
    assert ordered["label"].tolist() == ["positive", "negative"]
    draws = {tuple(select_demos(pool, 2, seed=seed).index) for seed in range(5)}
    assert len(draws) > 1


def test_nearest_picks_the_rows_most_like_the_anchor():
    pool = pd.DataFrame(
        {
            "text": [
                "lovely music score",
                "great acting",
                "lovely music songs",
                "fine acting",
                "dull music score",
                "awful plot",
                "bad acting",
                "boring plot",
            ],
            "label": ["positive"] * 4 + ["negative"] * 4,
        }
    )
    chosen = select_demos(pool, 2, "nearest", anchor="the music score")
    # labels in sorted order; the rows sharing words with the anchor first, ties at zero in the pool's order
    assert chosen["text"].tolist() == [
        "dull music score",
        "lovely music score",
        "awful plot",
        "lovely music songs",
    ]


def test_vote_k_covers_both_clusters_instead_of_the_densest_twice():
    positive = [
        "great acting great film",
        "great acting great movie",
        "great acting great story",
        "lovely music lovely score",
        "lovely music lovely songs",
    ]
    negative = ["awful plot awful film", "awful plot awful movie", "dull sound dull score"]
    pool = pd.DataFrame({"text": positive + negative, "label": ["positive"] * 5 + ["negative"] * 3})
    chosen = select_demos(pool, 2, "vote-k", n_neighbors=2)
    picked = chosen[chosen["label"] == "positive"]["text"].tolist()
    assert sum("great" in text for text in picked) == 1 and sum("lovely" in text for text in picked) == 1


def test_helpfulness_matches_explicit_gradients_and_flags_a_wrong_label():
    rows = _frame(12)
    rows.loc[rows.index[0], "label"] = "negative"  # "a great film number 0", labelled negative
    validation = _frame(8, start=40).iloc[:6]  # 3 positive, 3 negative
    validation = pd.concat([validation, _frame(4, start=60).query("label == 'negative'")])  # 3 + 5
    scores = helpfulness(rows, validation)
    assert scores.idxmin() == rows.index[0] and scores.iloc[0] < 0
    fitted = train_and_test(rows, validation).classifier
    vectorizer, classifier = fitted[:-1], fitted[-1]

    def gradient(text, label):
        x = np.append(vectorizer.transform([text]).toarray().ravel(), 1.0)
        residual = classifier.predict_proba(vectorizer.transform([text]))[0] - (classifier.classes_ == label)
        return np.outer(residual, x).ravel()

    weight = {"positive": 1 / (2 * 3), "negative": 1 / (2 * 5)}  # each label weighs the same
    total = sum(weight[y] * gradient(t, y) for t, y in zip(validation["text"], validation["label"]))
    expected = [gradient(t, y) @ total for t, y in zip(rows["text"], rows["label"])]
    assert scores.tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    "pool, message",
    [
        (_frame(0), "pool has no rows"),
        (_frame(8).assign(label="positive"), "at least two labels"),
        (_frame(3), "fewer than k_per_label"),
        (_frame(8).assign(text=[None] + ["a film"] * 7), "missing or empty"),
    ],
)
def test_bad_pools_are_refused_clearly(pool, message):
    with pytest.raises(ValueError, match=message):
        select_demos(pool, 2)


def test_bad_selection_arguments_are_refused_clearly():
    pool = _frame(8)
    for kwargs, message in [
        ({"strategy": "best"}, "Unknown strategy"),
        ({"strategy": "nearest"}, "anchor"),
        ({"strategy": "feedback"}, "validation"),
        ({"k_per_label": 0}, "k_per_label"),
    ]:
        with pytest.raises(ValueError, match=message):
            select_demos(pool, **{"k_per_label": 2, **kwargs})
    with pytest.raises(ValueError, match="'neutral'"):
        select_demos(pool, 1, labels=("positive", "neutral"))
    with pytest.raises(KeyError, match="sentence"):
        select_demos(pool, 1, text_col="sentence")


def test_generated_rows_record_their_demos_and_copy_them():
    model = CountingModel()
    demos = select_demos(_frame(8), 1)
    rows = generate_with_demos(
        model,
        TASK,
        demos,
        4,
        seed=5,
        method="demos:test",
        generation_round=2,
        params={"selection": "random"},
        progress=False,
    )
    assert rows["label"].tolist() == ["positive", "negative"] * 2
    assert rows["seed"].tolist() == [5, 6, 7, 8] and rows["round"].eq(2).all()
    params = rows["params"].iloc[0]
    assert params["demo_ids"] == demos.index.tolist() and params["demo_texts"] == demos["text"].tolist()
    assert params["selection"] == "random"
    assert demos["text"].iloc[0] in rows["prompt"].iloc[0]
    scores = copy_scores(rows)  # the echo model repeats its prompt, demos included
    assert scores.between(0, 1).all() and scores.gt(0).all()
    assert copy_scores(rows.assign(text=demos["text"].iloc[0]))[0] == pytest.approx(1.0)


def test_copy_scores_need_rows_made_with_demos():
    with pytest.raises(ValueError, match="demo_texts"):
        copy_scores(pd.DataFrame({"text": ["a film"], "params": [{}]}))


def test_demos_beyond_the_context_window_are_dropped_from_the_end_with_a_warning():
    demos = select_demos(_frame(8), 2)
    full = fit_demos_to_context(CountingModel(), TASK, demos)
    assert len(full) == 4
    two = build_prompts(TASK, 2, demos=list(zip(demos["text"][:2], demos["label"][:2])))[0]
    window = max(CountingModel().get_num_tokens_from_messages(p.to_messages()) for p in two) + 10  # 2 demos + reply
    with pytest.warns(UserWarning, match="dropped 2 of 4 demonstrations"):
        fitted = fit_demos_to_context(CountingModel(n_ctx=window), TASK, demos)
    assert fitted.index.tolist() == demos.index[:2].tolist()
    with pytest.raises(ValueError, match="even one demonstration"):
        fit_demos_to_context(CountingModel(n_ctx=20), TASK, demos)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(fit_demos_to_context(FakeListChatModel(responses=["x"]), TASK, demos)) == 4  # no n_ctx: no check


def test_self_generated_pool_drops_malformed_rows_and_duplicates():
    model = FakeListChatModel(responses=["A fine, warm film.", "Meh.", "A fine, warm film.", "A dull, slow film."])
    pool, removed = self_generated_pool(model, TASK, 4, progress=False)
    assert pool["text"].tolist() == ["A fine, warm film.", "A dull, slow film."]
    assert sorted(removed["step"]) == ["drop_exact_duplicates", "drop_malformed"]
    with pytest.raises(ValueError, match="no usable row"):
        self_generated_pool(FakeListChatModel(responses=["Meh."]), TASK, 2, progress=False)


def test_rounds_train_on_a_growing_set_and_feed_back_synthetic_rows():
    model, pool, test, validation = CountingModel(), _frame(8), _frame(20, start=200), _frame(8, start=300)
    tables, rows = {}, {}
    for strategy in ("random", "feedback"):
        result = demo_rounds(
            model,
            TASK,
            pool,
            test,
            strategy=strategy,
            rounds=2,
            n_per_round=4,
            k_per_label=1,
            validation=validation,
            progress=False,
        )
        tables[strategy], rows[strategy] = result.table, result.rows
    table = tables["feedback"]
    assert table["selected_by"].tolist() == ["random", "feedback"] and table["train_rows"].tolist() == [4, 8]
    assert table[["accuracy", "macro_f1", "well_formed", "mean_copy_score"]].stack().between(0, 1).all()
    assert rows["feedback"]["round"].tolist() == [1] * 4 + [2] * 4
    round_1_ids = set(rows["feedback"].loc[rows["feedback"]["round"] == 1, "id"])
    assert set(rows["feedback"]["params"].iloc[-1]["demo_ids"]) <= round_1_ids  # synthetic rows fed back
    first = [r[r["round"] == 1] for r in rows.values()]
    assert first[0]["text"].tolist() == first[1]["text"].tolist()  # same cold start, same seeds
    assert rows["random"]["seed"].tolist() == list(range(8))


def test_rounds_refuse_missing_validation_and_bad_sizes():
    model, pool, test = CountingModel(), _frame(8), _frame(8, start=50)
    with pytest.raises(ValueError, match="validation"):
        demo_rounds(model, TASK, pool, test, strategy="nearest")
    with pytest.raises(ValueError, match="n_per_round"):
        demo_rounds(model, TASK, pool, test, strategy="random", n_per_round=1)
    with pytest.raises(ValueError, match="Unknown strategy"):
        demo_rounds(model, TASK, pool, test, strategy="kate")


@pytest.mark.integration
def test_the_real_model_counts_tokens_and_drops_demos_that_overflow():
    model = ChatLocalLlama(temperature=0.9, max_tokens=24, seed=0, cache=False, n_ctx=288)  # ~86 tokens a long demo
    long_text = "An endless, meandering film that keeps going and going without any point at all. " * 4
    demos = pd.DataFrame(
        {"text": [long_text, long_text, "Short and sweet."], "label": ["positive", "negative", "positive"]}
    )
    with pytest.warns(UserWarning, match="dropped 1 of 3"):
        rows = generate_with_demos(model, TASK, demos, 2, progress=False)
    assert len(rows["params"].iloc[0]["demo_texts"]) == 2 and rows["text"].notna().any()
