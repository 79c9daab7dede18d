"""Direct evaluation of synthetic text: vocabulary-statistics diversity (taxonomy E4).

Every metric is a pure function of a list of texts. Texts are split into tokens by
:func:`default_tokenize` (lower-cased words and punctuation marks) unless a ``tokenizer``
(a callable from text to a list of tokens) is given. Taught in ``notebooks/00_quickstart.ipynb``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable, Iterable, Sequence

Tokenizer = Callable[[str], list[str]]
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def default_tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (keeping inner apostrophes, as in "didn't") and punctuation marks."""
    return _TOKEN.findall(text.lower())


def _tokens(texts: Sequence[str], tokenizer: Tokenizer | None) -> list[list[str]]:
    tokenize = tokenizer or default_tokenize
    return [tokenize(text) for text in texts]


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


def ngram_counts(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> Counter:
    """Corpus-wide counts of token n-grams."""
    counts: Counter = Counter()
    for tokens in _tokens(texts, tokenizer):
        counts.update(_ngrams(tokens, n))
    return counts


def distinct_n(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Distinct-n (Li et al., 2016): distinct n-grams divided by all n-grams in the corpus."""
    counts = ngram_counts(texts, n, tokenizer)
    total = sum(counts.values())
    return len(counts) / total if total else 0.0


def ngram_entropy(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Shannon entropy (bits) of the corpus n-gram distribution."""
    counts = ngram_counts(texts, n, tokenizer)
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0


def repeated_ngram_share(texts: Sequence[str], n: int, tokenizer: Tokenizer | None = None) -> float:
    """Share of n-gram occurrences whose n-gram occurs more than once in the corpus."""
    counts = ngram_counts(texts, n, tokenizer)
    total = sum(counts.values())
    return sum(c for c in counts.values() if c > 1) / total if total else 0.0


def diversity_summary(texts: Sequence[str], tokenizer: Tokenizer | None = None) -> dict[str, float]:
    """The vocabulary statistics of one corpus in one dict (what the demo reports)."""
    lengths = [len(tokens) for tokens in _tokens(texts, tokenizer)]
    return {
        "n_texts": len(texts),
        "mean_tokens": sum(lengths) / len(lengths) if lengths else 0.0,
        "vocabulary_size": vocabulary_size(texts, tokenizer),
        "type_token_ratio": type_token_ratio(texts, tokenizer),
        "distinct_1": distinct_n(texts, 1, tokenizer),
        "distinct_2": distinct_n(texts, 2, tokenizer),
        "distinct_3": distinct_n(texts, 3, tokenizer),
        "entropy_2": ngram_entropy(texts, 2, tokenizer),
        "repeated_3gram_share": repeated_ngram_share(texts, 3, tokenizer),
    }
