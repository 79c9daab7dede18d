from __future__ import annotations

import math
import random
import warnings

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from synthlab.core.text import default_tokenize
from synthlab.evaluation.diversity import (
    distinct_n,
    diversity_summary,
    ngram_entropy,
    repeated_ngram_share,
    self_bleu,
    type_token_ratio,
    vocabulary_size,
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


def nltk_self_bleu(texts, max_n=4, tokenizer=default_tokenize):
    """The definition: NLTK's sentence_bleu of each text against all the others, averaged."""
    documents = [tokenizer(text) for text in texts]
    weights = (1 / max_n,) * max_n
    smoothing = SmoothingFunction().method1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = [
            sentence_bleu(documents[:i] + documents[i + 1 :], hypothesis, weights, smoothing)
            for i, hypothesis in enumerate(documents)
        ]
    return sum(scores) / len(scores)


EDGE_CASES = [
    ["", ""],
    ["", "a"],
    ["a", "a"],
    ["a", "b"],
    ["a a a a", "a a a a a", "a"],
    ["the cat sat on the mat", "the cat sat on the mat"],
    ["the cat", "the cat sat on the mat", "on the mat the cat sat", ""],
    ["x y", "x y z w v", "x"],
    ["naïve café déjà vu", "café naïve", "猫 が 好き", "猫 が 好き です", "Ünïcödé!"],
    ["a b c d e f g", "a b c d e f g", "g f e d c b a", "a b", "b a"],
]


@pytest.mark.parametrize("texts", EDGE_CASES)
@pytest.mark.parametrize("max_n", [1, 2, 4, 6])
def test_self_bleu_matches_nltk_on_edge_cases(texts, max_n):
    assert self_bleu(texts, max_n) == pytest.approx(nltk_self_bleu(texts, max_n), abs=1e-9)


def test_self_bleu_matches_nltk_on_random_corpora():
    """Hypothesis-style: many small corpora over a tiny vocabulary, so n-grams and lengths collide."""
    for seed in range(400):
        rng = random.Random(seed)
        vocabulary = rng.choice([["a", "b"], ["a", "b", "c"], ["é", "猫", "x", "y", "."]])
        texts = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 9))) for _ in range(rng.randint(2, 9))]
        if rng.random() < 0.3:
            texts.append(rng.choice(texts))
        max_n = rng.randint(1, 5)
        tokenizer = rng.choice([default_tokenize, str.split, list])
        expected = nltk_self_bleu(texts, max_n, tokenizer)
        assert self_bleu(texts, max_n, tokenizer) == pytest.approx(expected, abs=1e-9), (seed, texts, max_n)


def test_self_bleu_hand_values():
    assert self_bleu(["the cat sat on the mat"] * 3) == 1.0
    assert self_bleu(["alpha beta", "gamma delta"]) == 0.0  # no shared unigram: NLTK's 0
    # Unigram BLEU of "a b" against "a c" (and back): precision 1/2, equal lengths so no penalty.
    assert self_bleu(["a b", "a c"], max_n=1) == pytest.approx(0.5)


def test_self_bleu_rejects_bad_input():
    with pytest.raises(ValueError, match="fewer than 2 texts; got 1"):
        self_bleu(["only one"])
    with pytest.raises(ValueError, match="fewer than 2 texts; got 0"):
        self_bleu([])
    with pytest.raises(ValueError, match="position 1 is nan"):
        self_bleu(["fine", float("nan"), "also fine"])
    with pytest.raises(ValueError, match="position 0 is None"):
        self_bleu([None, "x"])
    with pytest.raises(ValueError, match="not one string"):
        self_bleu("a single text")
    with pytest.raises(ValueError, match="max_n must be an integer >= 1"):
        self_bleu(["a", "b"], max_n=0)
