from __future__ import annotations

import pytest

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
