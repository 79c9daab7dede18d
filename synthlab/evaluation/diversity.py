"""Direct evaluation of synthetic text: diversity (taxonomy E4, E5).

Every metric is a pure function of a list of texts.

- Vocabulary statistics (E4): vocabulary size, type-token ratio, distinct-n, n-gram entropy, repeated
  n-gram share and an exact, fast self-BLEU. Texts are split into tokens by
  :func:`synthlab.core.text.default_tokenize` unless a ``tokenizer`` is given.
- Sample relevance (E5): every text becomes a unit vector and the metrics read the cosine similarities
  between them: mean pairwise cosine (APS), remote-clique and Chamfer distance (distance = 1 - cosine),
  and the Vendi score. By default a text's vector is its TF-IDF row: scikit-learn's ``TfidfVectorizer``
  with its defaults, fitted on the texts given. ``embed=`` takes any callable from a list of texts to a
  2-D array with one row per text, for sentence embeddings (synthlab ships none). A text without any
  feature (no word, or an all-zero embedding) is an error, since its cosine is undefined.

Taught in ``notebooks/00_quickstart.ipynb`` (distinct-n) and ``notebooks/20_direct_evaluation.ipynb``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from synthlab.core.checks import check_texts
from synthlab.core.text import Tokenizer, default_tokenize

__all__ = [
    "chamfer_distance",
    "distinct_n",
    "diversity_summary",
    "Embed",
    "embedding_map",
    "mean_pairwise_cosine",
    "ngram_counts",
    "ngram_entropy",
    "remote_clique",
    "repeated_ngram_share",
    "self_bleu",
    "type_token_ratio",
    "vendi_score",
    "vocabulary_size",
]


def _tokens(texts: Sequence[str], tokenizer: Tokenizer | None) -> list[list[str]]:
    tokenize = tokenizer or default_tokenize
    # one string is not a corpus (its characters would be counted), and a missing text is not a text
    return [tokenize(text) for text in check_texts(texts, "a diversity metric")]


def _ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    return zip(*(tokens[i:] for i in range(n)))


def vocabulary_size(texts: Sequence[str], tokenizer: Tokenizer | None = None) -> int:
    """Number of distinct tokens over all texts."""
    return len({token for tokens in _tokens(texts, tokenizer) for token in tokens})


def type_token_ratio(texts: Sequence[str], tokenizer: Tokenizer | None = None) -> float:
    """Distinct tokens divided by all tokens over the corpus (0.0 for an empty corpus)."""
    all_tokens = [token for tokens in _tokens(texts, tokenizer) for token in tokens]
    return len(set(all_tokens)) / len(all_tokens) if all_tokens else 0.0


def _count(token_lists: Iterable[Sequence[str]], n: int) -> Counter:
    counts: Counter = Counter()
    for tokens in token_lists:
        counts.update(_ngrams(tokens, n))
    return counts


def _distinct(counts: Counter) -> float:
    total = sum(counts.values())
    return len(counts) / total if total else 0.0


def _entropy(counts: Counter) -> float:
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0


def _repeated_share(counts: Counter) -> float:
    total = sum(counts.values())
    return sum(c for c in counts.values() if c > 1) / total if total else 0.0


def ngram_counts(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> Counter:
    """Corpus-wide counts of token n-grams."""
    return _count(_tokens(texts, tokenizer), n)


def distinct_n(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Distinct-n (Li et al., 2016): distinct n-grams divided by all n-grams in the corpus."""
    return _distinct(ngram_counts(texts, n, tokenizer))


def ngram_entropy(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Shannon entropy (bits) of the corpus n-gram distribution."""
    return _entropy(ngram_counts(texts, n, tokenizer))


def repeated_ngram_share(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Share of n-gram occurrences whose n-gram occurs more than once in the corpus."""
    return _repeated_share(ngram_counts(texts, n, tokenizer))


def diversity_summary(texts: Sequence[str], tokenizer: Tokenizer | None = None) -> dict[str, float]:
    """The vocabulary statistics of one corpus in one dict (what the demo reports); the texts
    are tokenized once and each n-gram order is counted once."""
    token_lists = _tokens(texts, tokenizer)
    lengths = [len(tokens) for tokens in token_lists]
    unigrams, bigrams, trigrams = (_count(token_lists, n) for n in (1, 2, 3))
    return {
        "n_texts": len(texts),
        "mean_tokens": sum(lengths) / len(lengths) if lengths else 0.0,
        "vocabulary_size": len(unigrams),
        "type_token_ratio": _distinct(unigrams),
        "distinct_1": _distinct(unigrams),
        "distinct_2": _distinct(bigrams),
        "distinct_3": _distinct(trigrams),
        "entropy_2": _entropy(bigrams),
        "repeated_3gram_share": _repeated_share(trigrams),
    }


def self_bleu(texts: Sequence[str], max_n: int = 4, tokenizer: Tokenizer | None = None) -> float:
    """Self-BLEU (Zhu et al., 2018, Texygen): the mean BLEU of each text against all the others.

    Higher means the texts repeat each other's n-grams (less diverse). It equals, to
    floating-point round-off, the mean over i of NLTK's ``sentence_bleu(references=<every
    other text>, hypothesis=<text i>, weights=(1/max_n,) * max_n,
    smoothing_function=SmoothingFunction().method1)``, but in time linear in the corpus
    instead of quadratic: the clip count of an n-gram against "all the other texts" is the
    largest count in any text but i, so the two largest per-text counts of every n-gram
    (and which text holds the largest) are found once; likewise the closest other length
    for the brevity penalty comes from the sorted distinct lengths. Tokens come from
    :func:`default_tokenize` unless ``tokenizer=`` is given. Taught in
    ``notebooks/20_direct_evaluation.ipynb``.

    >>> self_bleu(["the cat sat on the mat", "the cat sat on the mat"])
    1.0
    """
    texts = check_texts(texts, "self-BLEU", at_least=2)
    if isinstance(max_n, bool) or not isinstance(max_n, int) or max_n < 1:
        raise ValueError(f"max_n must be an integer >= 1 (4 is BLEU-4); got {max_n!r}")
    documents = _tokens(texts, tokenizer)
    numerators = [[0] * max_n for _ in documents]
    for n in range(1, max_n + 1):
        counts = [Counter(_ngrams(tokens, n)) for tokens in documents]
        largest = _two_largest_counts(counts)
        for i, text_counts in enumerate(counts):
            clipped = 0
            for ngram, count in text_counts.items():
                top, holder, second = largest[ngram]
                clipped += min(count, second if holder == i else top)
            numerators[i][n - 1] = clipped
    lengths = [len(tokens) for tokens in documents]
    scores = [
        _bleu_from_counts(numerators[i], lengths[i], reference_length, max_n)
        for i, reference_length in enumerate(_closest_other_lengths(lengths))
    ]
    return math.fsum(scores) / len(scores)


def _two_largest_counts(counts: list[Counter]) -> dict[tuple[str, ...], list[int]]:
    """Per n-gram: [largest count in one text, index of that text, largest count in any other text]."""
    largest: dict[tuple[str, ...], list[int]] = {}
    for i, text_counts in enumerate(counts):
        for ngram, count in text_counts.items():
            entry = largest.get(ngram)
            if entry is None:
                largest[ngram] = [count, i, 0]
            elif count > entry[0]:
                entry[2], entry[0], entry[1] = entry[0], count, i
            elif count > entry[2]:
                entry[2] = count
    return largest


def _closest_other_lengths(lengths: list[int]) -> list[int]:
    """Per text, NLTK's ``closest_ref_length`` over the other texts' lengths (ties go to the shorter)."""
    frequency = Counter(lengths)
    distinct = sorted(frequency)
    position = {length: k for k, length in enumerate(distinct)}
    closest = []
    for length in lengths:
        if frequency[length] > 1:
            closest.append(length)
            continue
        k = position[length]
        neighbours = distinct[max(k - 1, 0) : k] + distinct[k + 1 : k + 2]
        closest.append(min(neighbours, key=lambda other: (abs(other - length), other)))
    return closest


def _bleu_from_counts(clipped: list[int], hyp_len: int, ref_len: int, max_n: int) -> float:
    """NLTK's ``corpus_bleu`` arithmetic for one hypothesis, step for step, so the floats agree.

    The denominator of each modified precision is the number of hypothesis n-grams, at least 1;
    method1 smoothing replaces a zero numerator by 0.1.
    """
    if clipped[0] == 0:  # NLTK returns 0 before smoothing when no unigram matches
        return 0.0
    penalty = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    weight = 1 / max_n
    logs = []
    for n, numerator in enumerate(clipped, start=1):
        denominator = max(1, hyp_len - n + 1)
        logs.append(weight * math.log(numerator / denominator if numerator else 0.1 / denominator))
    return penalty * math.exp(math.fsum(logs))


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


def chamfer_distance(texts: Sequence[str], embed: Embed | None = None, max_rows: int = 2000, seed: int = 0) -> float:
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
        chunk = rows[start : start + block]
        similarities = vectors[chunk] @ others
        similarities = similarities.toarray() if sparse.issparse(similarities) else similarities
        similarities[np.arange(len(chunk)), chunk] = -np.inf  # a text is not its own neighbour
        nearest[start : start + len(chunk)] = similarities.max(axis=1)
    return float(np.mean(1.0 - np.clip(nearest, -1.0, 1.0)))


def vendi_score(
    texts: Sequence[str], embed: Embed | None = None, q: float = 1.0, max_words: int | None = 2000
) -> float:
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
    real = check_texts(real_texts, "embedding_map (real_texts)", at_least=1)
    synthetic = check_texts(synthetic_texts, "embedding_map (synthetic_texts)", at_least=1)
    vectors = _tfidf(real + synthetic, "embedding_map")
    if vectors.shape[1] < 2:
        raise ValueError(f"embedding_map needs at least 2 distinct words over all texts; found {vectors.shape[1]}")
    coordinates = TruncatedSVD(n_components=2, random_state=seed).fit_transform(vectors)
    return pd.DataFrame(
        {
            "x": coordinates[:, 0],
            "y": coordinates[:, 1],
            "source": ["real"] * len(real) + ["synthetic"] * len(synthetic),
        }
    )


def _tfidf(texts: list[str], metric: str) -> sparse.csr_matrix:
    try:
        return TfidfVectorizer().fit_transform(texts).tocsr()
    except ValueError as error:  # scikit-learn's "empty vocabulary"
        raise ValueError(
            f"{metric}: no text has a word (two or more letters or digits), so TF-IDF has "
            "no features; check the texts, or pass embed= with sentence embeddings"
        ) from error


def _unit_vectors(texts: Sequence[str], embed: Embed | None, metric: str) -> sparse.csr_matrix | np.ndarray:
    """One L2-normalised row per text: TF-IDF by default, else the rows of ``embed(texts)``."""
    texts = check_texts(texts, metric, at_least=2)
    if embed is None:
        vectors = _tfidf(texts, metric)
        empty = np.flatnonzero(vectors.getnnz(axis=1) == 0)
        reason = "they have no word (two or more letters or digits); drop them or pass embed="
    else:
        vectors = np.asarray(embed(texts), dtype=float)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(
                f"{metric}: embed must return a 2-D array with one row per text "
                f"({len(texts)} rows); got shape {vectors.shape}"
            )
        if not np.isfinite(vectors).all():
            raise ValueError(
                f"{metric}: embed returned NaN or infinite values in rows "
                f"{np.flatnonzero(~np.isfinite(vectors).all(axis=1))[:10].tolist()}; fix embed"
            )
        norms = np.linalg.norm(vectors, axis=1)
        empty = np.flatnonzero(norms == 0)
        vectors = vectors / np.where(norms == 0, 1.0, norms)[:, None]
        reason = "their embeddings are all zero; drop them or fix embed"
    if empty.size:
        raise ValueError(
            f"{metric}: cosine similarity is undefined for the texts at positions {empty[:10].tolist()}: {reason}"
        )
    return vectors
