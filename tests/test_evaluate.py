from __future__ import annotations

import math

import pytest

from synthlab.evaluate import (
    default_tokenize, distinct_n, diversity_summary, ngram_entropy, repeated_ngram_share,
    type_token_ratio, vocabulary_size,
)


def test_tokenizer_keeps_contractions_and_punctuation():
    assert default_tokenize("It didn't work, Sadly!") == ["it", "didn't", "work", ",", "sadly", "!"]


def test_vocabulary_statistics_on_a_hand_counted_corpus():
    texts = ["a b a", "a c"]
    assert vocabulary_size(texts) == 3
    assert type_token_ratio(texts) == pytest.approx(3 / 5)
    assert distinct_n(texts, 1) == pytest.approx(3 / 5)
    assert distinct_n(texts, 2) == pytest.approx(3 / 3)
    assert ngram_entropy(["a a b b"], 1) == pytest.approx(1.0)
    assert repeated_ngram_share(texts, 1) == pytest.approx(3 / 5)
    # Character bigrams: "a b a" has a_, _b, b_, _a and "a c" has a_, _c: 5 distinct of 6.
    assert distinct_n(texts, 2, tokenizer=list) == pytest.approx(5 / 6)


def test_empty_corpus_and_bad_n():
    assert distinct_n([], 2) == 0.0 and type_token_ratio([""]) == 0.0
    with pytest.raises(ValueError, match="n must be >= 1"):
        distinct_n(["a"], 0)
    summary = diversity_summary(["one two three", "four five"])
    assert summary["n_texts"] == 2 and math.isclose(summary["mean_tokens"], 2.5)
