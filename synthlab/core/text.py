"""Text primitives shared by every layer: tokenisation, ROUGE-L and the novelty pool.

:func:`default_tokenize` (lower-cased words and punctuation marks) is the tokenizer of every metric unless
a ``tokenizer`` (a callable from text to a list of tokens) is given; every metric over a list of texts checks
it with :func:`synthlab.core.checks.check_texts`.

ROUGE-L (Lin, 2004) is the F-measure of the longest common subsequence (LCS) of two token lists. The LCS is
computed exactly with bit vectors (:func:`lcs_length`), so two 100,000-character texts take a fraction of a second;
pairs over :data:`MAX_LCS_CELLS` token pairs (about 31,600 words each) raise ``ValueError`` rather than run for
minutes: truncate such texts, or pass ``max_tokens=`` to :func:`rouge_l` or :func:`max_rouge_l`.
Self-Instruct (Wang et al., 2023) keeps a generated instruction only when its ROUGE-L with every
instruction already in the pool is below 0.7 (:class:`NoveltyPool`); the survey's "copy rate" of a
generated text is its highest ROUGE-L to the demonstrations it was shown (taxonomy G4, G8).

>>> round(rouge_l("the cat sat on the mat", "the cat lay on the mat"), 3)
0.833
>>> pool = NoveltyPool(threshold=0.7)
>>> pool.offer("Write a poem about the sea.")[0], pool.offer("Write a poem about the sea!")[0]
(True, False)

Taught in ``notebooks/02_in_context_demonstrations.ipynb`` (copy rate) and
``notebooks/05_instruction_bootstrapping.ipynb`` (the novelty filter).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from synthlab.core.checks import check_at_least, check_texts

__all__ = [
    "MAX_LCS_CELLS",
    "copy_rate",
    "default_tokenize",
    "lcs_length",
    "max_rouge_l",
    "NoveltyPool",
    "rouge_l",
    "Tokenizer",
]

Tokenizer = Callable[[str], list[str]]
MAX_LCS_CELLS = 10**9  # len(a) * len(b) above this raises: about a second and 60 MB of bit vectors at the limit
_TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def default_tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (keeping inner apostrophes, as in "didn't") and punctuation marks.

    The tokenizer of every metric here unless ``tokenizer=`` is given.

    >>> default_tokenize("It didn't work, Sadly!")
    ['it', "didn't", 'work', ',', 'sadly', '!']
    """
    return _TOKEN.findall(text.lower())


def _words(tokens: Sequence[str]) -> list[str]:
    return [token for token in tokens if any(ch.isalnum() for ch in token)]


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences, exactly, by the bit-vector algorithm
    (Allison and Dix, 1986; Hyyrö, 2004): one row of the LCS table is one integer, updated per token of ``a``
    with a few word-wide operations, so the work is len(a)·len(b)/64 machine words instead of len(a)·len(b) steps.

    Raises ``ValueError`` naming the sizes when len(a)·len(b) is over :data:`MAX_LCS_CELLS`.

    >>> lcs_length("a b c d".split(), "a c d e".split())
    3
    """
    if len(a) * len(b) > MAX_LCS_CELLS:
        raise ValueError(
            f"the LCS of {len(a):,} and {len(b):,} tokens ({len(a) * len(b):,} token pairs) is over the limit of "
            f"{MAX_LCS_CELLS:,} (synthlab.core.text.MAX_LCS_CELLS); truncate the texts, or pass max_tokens= "
            "(for example 5000) to rouge_l or max_rouge_l"
        )
    if len(a) < len(b):
        a, b = b, a  # the bits run over the shorter sequence
    if not b:
        return 0
    matches: dict[str, int] = {}  # token -> the positions in b that hold it, as bits
    for position, token in enumerate(b):
        matches[token] = matches.get(token, 0) | (1 << position)
    row = full = (1 << len(b)) - 1  # zero bits of row: where the LCS so far grows
    for token in a:
        hit = row & matches.get(token, 0)
        row = ((row + hit) | (row - hit)) & full
    return len(b) - row.bit_count()


def _f_measure(a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return 0.0
    lcs = lcs_length(a, b)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(a), lcs / len(b)
    return 2 * precision * recall / (precision + recall)


def _word_tokens(text: str, tokenizer: Tokenizer | None, max_tokens: int | None) -> list[str]:
    return _words((tokenizer or default_tokenize)(text))[:max_tokens]


def rouge_l(
    candidate: str, reference: str, tokenizer: Tokenizer | None = None, *, max_tokens: int | None = None
) -> float:
    """ROUGE-L F-measure of two texts over their word tokens (punctuation ignored, lower-cased
    by :func:`synthlab.core.text.default_tokenize`); 0.0 when either has no words. ``max_tokens``: score only
    the first that many words of each text (for texts too long for :func:`lcs_length`)."""
    if max_tokens is not None:
        check_at_least(max_tokens=(max_tokens, 1))
    return _f_measure(_word_tokens(candidate, tokenizer, max_tokens), _word_tokens(reference, tokenizer, max_tokens))


def max_rouge_l(
    texts: Sequence[str],
    references: Sequence[str],
    tokenizer: Tokenizer | None = None,
    *,
    max_tokens: int | None = None,
) -> list[float]:
    """For each text, its highest ROUGE-L against any of ``references`` (the copy score); ``max_tokens`` as in
    :func:`rouge_l`."""
    texts = check_texts(texts, "max_rouge_l texts")
    why = "pass the texts to compare against (e.g. the demonstrations)"
    references = check_texts(references, "max_rouge_l references", at_least=1, hint=why)
    if max_tokens is not None:
        check_at_least(max_tokens=(max_tokens, 1))
    reference_tokens = [_word_tokens(reference, tokenizer, max_tokens) for reference in references]
    return [
        max(_f_measure(_word_tokens(text, tokenizer, max_tokens), other) for other in reference_tokens)
        for text in texts
    ]


def copy_rate(
    texts: Sequence[str],
    references: Sequence[str],
    threshold: float = 0.7,
    tokenizer: Tokenizer | None = None,
) -> float:
    """Share of ``texts`` whose max ROUGE-L to ``references`` reaches ``threshold``: near copies
    of a demonstration (0.0 for no texts)."""
    texts = check_texts(texts, "copy_rate")
    if not texts:
        return 0.0
    scores = max_rouge_l(texts, references, tokenizer)
    return sum(score >= threshold for score in scores) / len(scores)


@dataclass
class NoveltyPool:
    """A growing pool that admits a text only when its ROUGE-L with every text already in it is
    below ``threshold`` (Self-Instruct's filter). ``offered``/``rejected`` count the decisions, so
    the rejection rate as the pool grows can be plotted."""

    threshold: float = 0.7
    tokenizer: Tokenizer | None = None
    texts: list[str] = field(default_factory=list)
    offered: int = 0
    rejected: int = 0
    _tokens: list[list[str]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1]; got {self.threshold}")
        seeds, self.texts = list(self.texts), []
        for text in seeds:
            self.add(text)

    def add(self, text: str) -> None:
        """Put ``text`` in the pool without checking it (seed tasks)."""
        self.texts.append(text)
        self._tokens.append(_words((self.tokenizer or default_tokenize)(text)))

    def nearest(self, text: str) -> tuple[float, str | None]:
        """The highest ROUGE-L of ``text`` to the pool and the pool text that reaches it."""
        tokens = _words((self.tokenizer or default_tokenize)(text))
        best, match = 0.0, None
        for other, original in zip(self._tokens, self.texts):
            score = _f_measure(tokens, other)
            if score > best:
                best, match = score, original
        return best, match

    def offer(self, text: str) -> tuple[bool, float, str | None]:
        """Add ``text`` if it is novel (max ROUGE-L below the threshold). Returns whether it was
        admitted, its highest ROUGE-L to the pool before the offer, and the pool text reaching it."""
        self.offered += 1
        score, match = self.nearest(text)
        if score >= self.threshold:
            self.rejected += 1
            return False, score, match
        self.add(text)
        return True, score, match

    @property
    def rejection_rate(self) -> float:
        """Rejected share of everything offered so far (0.0 before the first offer)."""
        return self.rejected / self.offered if self.offered else 0.0
