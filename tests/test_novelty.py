from __future__ import annotations

import random
import time

import pytest

from synthlab.core import text
from synthlab.core.text import NoveltyPool, copy_rate, lcs_length, max_rouge_l, rouge_l


def test_lcs_and_rouge_l_match_hand_computed_values():
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "d", "e"]) == 3
    assert lcs_length([], ["a"]) == 0
    # LCS 5 of 6 words each way: P = R = F = 5/6
    assert rouge_l("the cat sat on the mat", "the cat lay on the mat") == pytest.approx(5 / 6)
    assert rouge_l("Same words, same order!", "same words same order") == 1.0  # case and punctuation ignored
    assert rouge_l("", "anything") == 0.0 and rouge_l("alpha beta", "gamma delta") == 0.0


def test_copy_scores_and_rate():
    demos = ["a warm and funny film", "a dull mess"]
    texts = ["a warm and funny film", "a warm film", "nothing alike here"]
    scores = max_rouge_l(texts, demos)
    assert scores == pytest.approx([1.0, 0.75, 0.0])  # "a warm film": LCS 3, P = 1, R = 3/5
    assert copy_rate(texts, demos) == pytest.approx(2 / 3)
    assert copy_rate(texts, demos, threshold=0.8) == pytest.approx(1 / 3)
    assert copy_rate([], demos) == 0.0
    with pytest.raises(ValueError, match="references is empty"):
        max_rouge_l(texts, [])


def test_novelty_pool_admits_only_novel_texts_and_counts_its_decisions():
    pool = NoveltyPool(threshold=0.7, texts=["Write a poem about the sea."])
    assert pool.offer("Write a poem about the sea!") == (False, 1.0, "Write a poem about the sea.")
    admitted, score, _ = pool.offer("List three rivers in Spain.")
    assert admitted and score < 0.7
    assert len(pool.texts) == 2 and pool.offered == 2 and pool.rejected == 1
    assert pool.rejection_rate == 0.5 and NoveltyPool().rejection_rate == 0.0
    with pytest.raises(ValueError, match="threshold"):
        NoveltyPool(threshold=0)


def _table_lcs(a: list[str], b: list[str]) -> int:
    """The full dynamic-programming table, the textbook LCS."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, start=1):
        for j, y in enumerate(b, start=1):
            table[i][j] = table[i - 1][j - 1] + 1 if x == y else max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def test_the_bit_vector_lcs_equals_the_full_table():
    rng = random.Random(0)
    for _ in range(500):
        vocabulary = "abcdefg"[: rng.randint(1, 7)]
        a = rng.choices(vocabulary, k=rng.randint(0, 70))  # past 64 tokens: more than one machine word
        b = rng.choices(vocabulary, k=rng.randint(0, 70))
        assert lcs_length(a, b) == _table_lcs(a, b) == lcs_length(b, a)


def test_rouge_l_of_two_100k_character_texts_is_fast():
    rng = random.Random(1)
    words = [f"w{index}" for index in range(3000)]
    a, b = (" ".join(rng.choices(words, k=20_000)) for _ in range(2))
    assert len(a) > 100_000 and len(b) > 100_000
    started = time.perf_counter()
    score = rouge_l(a, b)
    assert time.perf_counter() - started < 20  # the LCS table took minutes
    assert 0 < score < 1 and rouge_l(a, a) == 1.0


def test_rouge_l_over_the_limit_names_the_sizes_and_the_way_out(monkeypatch):
    monkeypatch.setattr(text, "MAX_LCS_CELLS", 99)
    with pytest.raises(
        ValueError, match=r"LCS of 10 and 10 tokens \(100 token pairs\) is over the limit of 99.*max_tokens="
    ):
        rouge_l("a " * 10, "a " * 10)
    assert rouge_l("a " * 10, "a b " * 10, max_tokens=9) == rouge_l("a " * 9, "a b a b a b a b a")
    assert max_rouge_l(["a " * 10], ["a " * 10], max_tokens=9) == [1.0]
    with pytest.raises(ValueError, match="max_tokens must be >= 1; got 0"):
        rouge_l("a", "a", max_tokens=0)


def test_the_limit_is_the_documented_one():
    assert text.MAX_LCS_CELLS == 10**9
    with pytest.raises(ValueError, match="31,623 and 31,623 tokens"):
        lcs_length(["x"] * 31_623, ["y"] * 31_623)
