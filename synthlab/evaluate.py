"""Direct evaluation of synthetic text: vocabulary-statistics diversity (taxonomy E4).

Every metric is a pure function of a list of texts. Texts are split into tokens by
:func:`default_tokenize` (lower-cased words and punctuation marks) unless a ``tokenizer``
(a callable from text to a list of tokens) is given. Taught in ``notebooks/00_quickstart.ipynb``;
:func:`self_bleu` in ``notebooks/20_direct_evaluation.ipynb``. Embedding-space diversity
(taxonomy E5) is in :mod:`synthlab.relevance`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable, Iterable, Sequence

Tokenizer = Callable[[str], list[str]]
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def default_tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (keeping inner apostrophes, as in "didn't") and punctuation marks.

    The tokenizer of every metric here unless ``tokenizer=`` is given.

    >>> default_tokenize("It didn't work, Sadly!")
    ['it', "didn't", 'work', ',', 'sadly', '!']
    """
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


def _check_texts(texts: Sequence[str], at_least: int, metric: str) -> list[str]:
    """The texts as a list, or a ValueError naming the first non-string and its position."""
    if isinstance(texts, str):
        raise ValueError(f"{metric} takes a list of texts, not one string; got {texts[:40]!r}")
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"{metric}: the text at position {position} is {text!r} ({type(text).__name__}), not a "
                "string; drop or fill missing texts first (for example df[text_col].dropna())")
    if len(texts) < at_least:
        need = f"is undefined for fewer than {at_least} texts" if at_least > 1 else "needs at least one text"
        raise ValueError(f"{metric} {need}; got {len(texts)}")
    return texts


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
    texts = _check_texts(texts, 2, "self-BLEU")
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
        neighbours = distinct[max(k - 1, 0):k] + distinct[k + 1:k + 2]
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
