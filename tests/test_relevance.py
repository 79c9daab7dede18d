from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

import synthlab.evaluation.diversity as relevance
from synthlab.evaluation.diversity import (
    chamfer_distance,
    embedding_map,
    mean_pairwise_cosine,
    remote_clique,
    vendi_score,
)

IDENTICAL = ["the cat sat", "the cat sat", "the cat sat"]
ORTHOGONAL = ["apple banana", "cherry date", "elder fig", "grape honeydew"]
# Unit vectors (1,0), (0,1), (1,1)/sqrt2: cosines 0, 1/sqrt2, 1/sqrt2. K has eigenvalues 2, 1, 0.
PLANE = {"x": [1.0, 0.0], "y": [0.0, 1.0], "xy": [3.0, 3.0]}


def plane(texts):
    return np.array([PLANE[text] for text in texts])


def brute_force(vectors: np.ndarray) -> dict[str, float]:
    """Every metric from the full N x N cosine matrix, by its definition."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    n = len(unit)
    off = ~np.eye(n, dtype=bool)
    eigenvalues = np.linalg.eigvalsh(cosine / n)
    p = eigenvalues[eigenvalues > 1e-12]
    return {
        "cosine": cosine[off].mean(),
        "remote_clique": np.mean([(1 - cosine[i][off[i]]).mean() for i in range(n)]),
        "chamfer": np.mean([(1 - cosine[i][off[i]]).min() for i in range(n)]),
        "vendi": math.exp(-np.sum(p * np.log(p))),
    }


def test_identical_texts():
    assert mean_pairwise_cosine(IDENTICAL) == pytest.approx(1.0)
    assert remote_clique(IDENTICAL) == pytest.approx(0.0, abs=1e-12)
    assert chamfer_distance(IDENTICAL) == pytest.approx(0.0, abs=1e-12)
    assert vendi_score(IDENTICAL) == pytest.approx(1.0)


def test_orthogonal_texts():
    assert mean_pairwise_cosine(ORTHOGONAL) == pytest.approx(0.0, abs=1e-12)
    assert remote_clique(ORTHOGONAL) == pytest.approx(1.0)
    assert chamfer_distance(ORTHOGONAL) == pytest.approx(1.0)
    assert vendi_score(ORTHOGONAL) == pytest.approx(4.0)
    assert vendi_score(ORTHOGONAL, q=2) == pytest.approx(4.0)
    assert vendi_score(ORTHOGONAL, q=math.inf) == pytest.approx(4.0)


def test_hand_computed_embeddings():
    texts = ["x", "y", "xy"]
    assert mean_pairwise_cosine(texts, embed=plane) == pytest.approx(math.sqrt(2) / 3)
    assert remote_clique(texts, embed=plane) == pytest.approx(1 - math.sqrt(2) / 3)
    assert chamfer_distance(texts, embed=plane) == pytest.approx(1 - 1 / math.sqrt(2))
    # Eigenvalues of K/N: 2/3, 1/3, 0.
    assert vendi_score(texts, embed=plane) == pytest.approx(3 / 2 ** (2 / 3))
    assert vendi_score(texts, embed=plane, q=2) == pytest.approx(1 / (4 / 9 + 1 / 9))
    assert vendi_score(texts, embed=plane, q=math.inf) == pytest.approx(1.5)


@pytest.mark.parametrize("n, d", [(12, 3), (3, 12), (40, 40)])
def test_embeddings_match_the_definitions(n, d):
    """Both eigen-paths of the Vendi score (d < N and N <= d) and every identity, against brute force."""
    vectors = np.random.default_rng(n * 100 + d).normal(size=(n, d))
    texts = [str(i) for i in range(n)]

    def embed(given):
        return vectors

    expected = brute_force(vectors)
    assert mean_pairwise_cosine(texts, embed) == pytest.approx(expected["cosine"], abs=1e-12)
    assert remote_clique(texts, embed) == pytest.approx(expected["remote_clique"], abs=1e-12)
    assert chamfer_distance(texts, embed) == pytest.approx(expected["chamfer"], abs=1e-12)
    assert vendi_score(texts, embed) == pytest.approx(expected["vendi"], rel=1e-9)


def test_tfidf_metrics_match_the_definitions_with_duplicates_and_a_small_vocabulary():
    texts = ["aa bb", "bb cc", "aa cc", "aa", "bb", "cc", "aa bb", "cc cc aa"]  # d = 3 < N = 8
    expected = brute_force(TfidfVectorizer().fit_transform(texts).toarray())
    assert mean_pairwise_cosine(texts) == pytest.approx(expected["cosine"], abs=1e-12)
    assert chamfer_distance(texts) == pytest.approx(expected["chamfer"], abs=1e-12)
    assert vendi_score(texts) == pytest.approx(expected["vendi"], rel=1e-9)


def test_vendi_cuts_the_vocabulary_only_when_both_sides_exceed_max_words():
    texts = ["aa bb", "aa cc dd", "bb ee", "aa ff gg", "hh aa bb", "bb ii", "jj kk", "jj ll", "mm"]
    full = TfidfVectorizer().fit_transform(texts).toarray()  # 13 words, alphabetical columns
    assert vendi_score(texts, max_words=None) == pytest.approx(brute_force(full)["vendi"], rel=1e-9)
    assert vendi_score(texts, max_words=9) == pytest.approx(brute_force(full)["vendi"], rel=1e-9)  # N = 9
    # max_words=3 keeps aa, bb (4 texts each) and jj (2; the first of the ties in alphabetical order).
    # "bb ee" and "bb ii" keep only bb; "mm" keeps nothing and counts as unlike every other text.
    cut = full[:, [0, 1, 9]]
    kept = cut.any(axis=1)
    kernel = np.eye(len(texts))
    unit = cut[kept] / np.linalg.norm(cut[kept], axis=1, keepdims=True)
    kernel[np.ix_(kept, kept)] = unit @ unit.T
    p = np.linalg.eigvalsh(kernel / len(texts))
    p = p[p > 1e-12]
    assert vendi_score(texts, max_words=3) == pytest.approx(math.exp(-np.sum(p * np.log(p))), rel=1e-9)


def test_chamfer_blocks_and_sampling(monkeypatch):
    vectors = np.random.default_rng(0).normal(size=(30, 5))
    texts = [str(i) for i in range(30)]

    def embed(given):
        return vectors

    exact = brute_force(vectors)["chamfer"]
    monkeypatch.setattr(relevance, "_BLOCK_ENTRIES", 70)  # two rows a block: 15 blocks
    assert chamfer_distance(texts, embed) == pytest.approx(exact, abs=1e-12)
    sampled = chamfer_distance(texts, embed, max_rows=10, seed=3)
    assert sampled == chamfer_distance(texts, embed, max_rows=10, seed=3)
    rows = np.sort(np.random.default_rng(3).choice(30, size=10, replace=False))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    assert sampled == pytest.approx(np.mean(1 - cosine[rows].max(axis=1)), abs=1e-12)


@pytest.mark.parametrize("metric", [mean_pairwise_cosine, remote_clique, chamfer_distance, vendi_score])
def test_bad_input_raises_clear_errors(metric):
    with pytest.raises(ValueError, match="fewer than 2 texts; got 0"):
        metric([])
    with pytest.raises(ValueError, match="fewer than 2 texts; got 1"):
        metric(["one text"])
    with pytest.raises(ValueError, match="position 1 is nan"):
        metric(["one text", float("nan")])
    with pytest.raises(ValueError, match=r"positions \[1, 2\]: they have no word"):
        metric(["a real text", "", "?!"])
    with pytest.raises(ValueError, match="no text has a word"):
        metric(["", "a"])
    with pytest.raises(ValueError, match=r"positions \[0\]: their embeddings are all zero"):
        metric(["x", "y"], embed=lambda texts: np.array([[0.0, 0.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="one row per text"):
        metric(["x", "y"], embed=lambda texts: np.ones(2))


def test_bad_parameters():
    with pytest.raises(ValueError, match="q must be > 0"):
        vendi_score(ORTHOGONAL, q=0)
    with pytest.raises(ValueError, match="max_words must be an integer"):
        vendi_score(ORTHOGONAL, max_words=0)
    with pytest.raises(ValueError, match="max_rows must be an integer"):
        chamfer_distance(ORTHOGONAL, max_rows=0)


def test_embedding_map():
    real = ["a gripping thriller", "a dull thriller", "a warm comedy"]
    synthetic = ["this movie is great", "this movie is bad"]
    frame = embedding_map(real, synthetic, seed=0)
    assert list(frame.columns) == ["x", "y", "source"]
    assert frame["source"].tolist() == ["real"] * 3 + ["synthetic"] * 2
    assert np.isfinite(frame[["x", "y"]].to_numpy()).all()
    assert frame.equals(embedding_map(real, synthetic, seed=0))
    with pytest.raises(ValueError, match=r"embedding_map \(synthetic_texts\) is empty: it needs at least one text"):
        embedding_map(real, [])
    with pytest.raises(ValueError, match="at least 2 distinct words"):
        embedding_map(["good"], ["good good"])
