"""Direct evaluation of synthetic text: diversity as geometry of the samples (taxonomy E5).

Every text becomes a unit vector, and the metrics read the cosine similarities between them:
mean pairwise cosine (APS), remote-clique and Chamfer distance (distance = 1 - cosine), and
the Vendi score. By default a text's vector is its TF-IDF row: scikit-learn's
``TfidfVectorizer`` with its defaults, fitted on the texts given (lower-cased words of two or
more letters or digits, smoothed IDF, L2-normalised rows). ``embed=`` takes any callable from
a list of texts to a 2-D array with one row per text, for sentence embeddings (an optional
extra, for example ``SentenceTransformer("all-MiniLM-L6-v2").encode``; synthlab ships none).
A text without any feature (no word, or an all-zero embedding) is an error, since its cosine
is undefined. Taught in ``notebooks/20_direct_evaluation.ipynb``.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from synthlab.evaluate import _check_texts

Embed = Callable[[list[str]], np.ndarray]
# Similarities held in memory at once by chamfer_distance (4M float64 = 32 MB).
_BLOCK_ENTRIES = 1 << 22


def mean_pairwise_cosine(texts: Sequence[str], embed: Embed | None = None) -> float:
    """Mean cosine similarity over all distinct pairs of texts (APS); higher = less diverse.

    Exact and linear in the number of texts N: with unit rows x_i and s = sum of the rows,
    the sum over ordered pairs i != j of x_i . x_j is ||s||^2 - sum_i ||x_i||^2.

    >>> round(mean_pairwise_cosine(["red apple", "green pear", "red apple"]), 6)  # pairs: 1, 0, 0
    0.333333
    """
    vectors = _unit_vectors(texts, embed, "mean pairwise cosine")
    n = vectors.shape[0]
    total = np.asarray(vectors.sum(axis=0)).ravel()
    squared_norms = vectors.multiply(vectors).sum() if sparse.issparse(vectors) else np.sum(vectors**2)
    return float((total @ total - squared_norms) / (n * (n - 1)))


def remote_clique(texts: Sequence[str], embed: Embed | None = None) -> float:
    """Remote-clique diversity: mean over texts of the mean distance (1 - cosine) to all the others.

    Higher = more diverse. Averaging each text's mean distance over all texts weighs every
    ordered pair alike, so this is exactly ``1 - mean_pairwise_cosine``: linear, no sampling.
    """
    return 1.0 - mean_pairwise_cosine(texts, embed)


def chamfer_distance(texts: Sequence[str], embed: Embed | None = None, max_rows: int = 2000,
                     seed: int = 0) -> float:
    """Chamfer distance: mean over texts of the distance (1 - cosine) to the nearest other text.

    Higher = more diverse; 0 when every text has a duplicate. Nearest neighbours are exact,
    from the full similarity matrix computed a block of rows at a time (at most ~4M
    similarities in memory). For N <= ``max_rows`` texts every text is averaged (O(N^2) time);
    above that the mean is estimated on ``max_rows`` texts drawn without replacement with
    ``seed``, each still compared with all N (O(max_rows * N) time).
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise ValueError(f"max_rows must be an integer >= 1; got {max_rows!r}")
    vectors = _unit_vectors(texts, embed, "Chamfer distance")
    n = vectors.shape[0]
    rows = np.arange(n)
    if n > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))
    others = vectors.T.tocsr() if sparse.issparse(vectors) else vectors.T
    block = max(1, _BLOCK_ENTRIES // n)
    nearest = np.empty(len(rows))
    for start in range(0, len(rows), block):
        chunk = rows[start:start + block]
        similarities = vectors[chunk] @ others
        similarities = similarities.toarray() if sparse.issparse(similarities) else similarities
        similarities[np.arange(len(chunk)), chunk] = -np.inf  # a text is not its own neighbour
        nearest[start:start + len(chunk)] = similarities.max(axis=1)
    return float(np.mean(1.0 - np.clip(nearest, -1.0, 1.0)))


def vendi_score(texts: Sequence[str], embed: Embed | None = None, q: float = 1.0,
                max_words: int | None = 2000) -> float:
    """Vendi score (Friedman & Dieng, 2023): the effective number of distinct texts.

    The exponential of the Shannon entropy of the eigenvalues of K/N, where K is the N x N
    cosine-similarity matrix: 1 for N identical texts, N for N mutually orthogonal ones.
    ``q`` gives the order-q variant (Pasarkar & Dieng, 2023): exp of the Renyi entropy of
    order q; ``q=math.inf`` gives 1 / largest eigenvalue.

    K/N = X X^T / N has the same non-zero eigenvalues as the d x d matrix X^T X / N, so the
    smaller of the two is decomposed, exactly: O(min(N, d)^3), linear in N for embeddings.
    A TF-IDF vocabulary d grows with N, so when both N and d exceed ``max_words`` the
    TF-IDF rows keep only the ``max_words`` words found in the most texts (ties in
    alphabetical order) and are re-normalised: exact TF-IDF Vendi on that vocabulary, linear
    in N. A text left with none of those words counts as unlike every other text (its rare
    words are shared with few others). Below that size, and with ``max_words=None``
    (cubic), every word is kept. Eigenvalues under round-off (largest * size * machine
    epsilon) count as zero.

    >>> round(vendi_score(["red apple", "green pear", "blue plum"]), 6)  # orthogonal: 3 distinct texts
    3.0
    """
    if not q > 0:
        raise ValueError(f"q must be > 0 (1 is the Vendi score, math.inf gives 1 / largest eigenvalue); got {q!r}")
    if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
        raise ValueError(f"max_words must be an integer >= 1, or None to keep every word; got {max_words!r}")
    vectors = _unit_vectors(texts, embed, "Vendi score")
    n = vectors.shape[0]
    unlike_all = 0
    if embed is None and max_words is not None and min(vectors.shape) > max_words:
        vectors, unlike_all = _keep_common_words(vectors, max_words)
    gram = vectors.T @ vectors if vectors.shape[1] < vectors.shape[0] else vectors @ vectors.T
    gram = gram.toarray() if sparse.issparse(gram) else gram
    eigenvalues = np.concatenate([np.linalg.eigvalsh(gram / n), np.full(unlike_all, 1.0 / n)])
    tolerance = eigenvalues.max() * len(eigenvalues) * np.finfo(float).eps
    p = eigenvalues[eigenvalues > tolerance]
    if q == 1:
        return float(np.exp(-np.sum(p * np.log(p))))
    if math.isinf(q):
        return float(1.0 / p.max())
    return float(np.exp(np.log(np.sum(p**q)) / (1.0 - q)))


def _keep_common_words(vectors: sparse.csr_matrix, max_words: int) -> tuple[sparse.csr_matrix, int]:
    """The rows on the ``max_words`` words found in the most texts, re-normalised, less the rows
    left without a word, and how many those were (each adds one eigenvalue 1/N to K/N)."""
    in_texts = vectors.getnnz(axis=0)
    kept = np.sort(np.argsort(-in_texts, kind="stable")[:max_words])
    vectors = vectors[:, kept]
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    has_words = norms > 0
    return sparse.diags(1.0 / norms[has_words]) @ vectors[has_words], int((~has_words).sum())


def embedding_map(real_texts: Sequence[str], synthetic_texts: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """2-D coordinates of real and synthetic texts for one scatter plot, as columns x, y, source.

    One TF-IDF vectoriser is fitted on both sets together, then TruncatedSVD (LSA, randomised
    with ``seed``) keeps the two leading directions; nothing more (no t-SNE or UMAP), so
    distances on the plot are those of a linear projection. ``source`` is "real" or
    "synthetic"; rows are in input order, real texts first.
    """
    real = _check_texts(real_texts, 1, "embedding_map (real_texts)")
    synthetic = _check_texts(synthetic_texts, 1, "embedding_map (synthetic_texts)")
    vectors = _tfidf(real + synthetic, "embedding_map")
    if vectors.shape[1] < 2:
        raise ValueError(f"embedding_map needs at least 2 distinct words over all texts; found {vectors.shape[1]}")
    coordinates = TruncatedSVD(n_components=2, random_state=seed).fit_transform(vectors)
    return pd.DataFrame({
        "x": coordinates[:, 0],
        "y": coordinates[:, 1],
        "source": ["real"] * len(real) + ["synthetic"] * len(synthetic),
    })


def _tfidf(texts: list[str], metric: str) -> sparse.csr_matrix:
    try:
        return TfidfVectorizer().fit_transform(texts).tocsr()
    except ValueError as error:  # scikit-learn's "empty vocabulary"
        raise ValueError(f"{metric}: no text has a word (two or more letters or digits), so TF-IDF has "
                         "no features; check the texts, or pass embed= with sentence embeddings") from error


def _unit_vectors(texts: Sequence[str], embed: Embed | None, metric: str) -> sparse.csr_matrix | np.ndarray:
    """One L2-normalised row per text: TF-IDF by default, else the rows of ``embed(texts)``."""
    texts = _check_texts(texts, 2, metric)
    if embed is None:
        vectors = _tfidf(texts, metric)
        empty = np.flatnonzero(vectors.getnnz(axis=1) == 0)
        reason = "they have no word (two or more letters or digits); drop them or pass embed="
    else:
        vectors = np.asarray(embed(texts), dtype=float)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(f"{metric}: embed must return a 2-D array with one row per text "
                             f"({len(texts)} rows); got shape {vectors.shape}")
        if not np.isfinite(vectors).all():
            raise ValueError(f"{metric}: embed returned NaN or infinite values in rows "
                             f"{np.flatnonzero(~np.isfinite(vectors).all(axis=1))[:10].tolist()}; fix embed")
        norms = np.linalg.norm(vectors, axis=1)
        empty = np.flatnonzero(norms == 0)
        vectors = vectors / np.where(norms == 0, 1.0, norms)[:, None]
        reason = "their embeddings are all zero; drop them or fix embed"
    if empty.size:
        raise ValueError(f"{metric}: cosine similarity is undefined for the texts at positions "
                         f"{empty[:10].tolist()}: {reason}")
    return vectors
