"""Diverse and representative selection of texts: vote-k (Su et al., 2022) on a TF-IDF kNN graph.

Used to pick in-context demonstrations (taxonomy G5, :mod:`synthlab.generation.demos`) and the rows to
annotate under a budget (G9, :mod:`synthlab.annotation.llm`). Taught in
``notebooks/02_in_context_demonstrations.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["tfidf_vectors", "vote_k"]


def tfidf_vectors(texts: Sequence[str]) -> Any:
    return TfidfVectorizer(sublinear_tf=True).fit_transform(texts)


def vote_k(texts: Sequence[str], k: int, *, n_neighbors: int = 5, discount: float = 10.0) -> list[int]:
    """Positions of ``k`` diverse, representative texts by Su et al.'s (2022) graph vote (for
    demonstrations here, for selective annotation in :mod:`synthlab.annotation.llm`): each row ``v`` votes
    for its ``n_neighbors`` nearest rows (TF-IDF cosine), a vote worth ``discount ** -(number of v's
    neighbours already chosen)``; the best-voted row is chosen, k times. Chosen rows stop voting, so
    later picks come from uncovered regions."""
    vectors = tfidf_vectors(texts)
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argsort(-similarity, axis=1, kind="stable")[:, : min(n_neighbors, len(texts) - 1)]
    votes_for = np.zeros((len(texts), len(texts)), dtype=bool)  # votes_for[v, u]: u is a neighbour of v
    np.put_along_axis(votes_for, neighbours, True, axis=1)
    votes_for &= similarity > 0  # a text sharing no word with v is no neighbour, however few v has
    chosen: list[int] = []
    for _ in range(k):
        covered = votes_for[:, chosen].sum(axis=1)
        weight = np.where(np.isin(np.arange(len(texts)), chosen), 0.0, discount ** -covered.astype(float))
        score = weight @ votes_for
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return chosen
