"""Near-duplicate removal with MinHash LSH, and planted near-duplicates to measure it (taxonomy C7).

Two texts are near-duplicates when the Jaccard similarity of their shingle sets (word or character
n-grams, :func:`shingles`) reaches a threshold. Comparing every pair is quadratic, so
:func:`drop_near_duplicates` uses MinHash (Broder, 1997, "On the resemblance and containment of
documents") to sketch each set and locality-sensitive hashing (LSH; Indyk & Motwani, 1998) to find
candidate pairs without comparing all of them, both from ``datasketch``; candidates are then
verified with the exact Jaccard so that what is removed really is that similar. The same function
with ``method="exact"`` compares all pairs: the ground truth the LSH is measured against.
:func:`plant_near_duplicates` makes edited copies of real rows (a few words deleted, swapped or
substituted) whose sources are known, and :func:`planted_recall` says how many of them were found.
Taught in ``notebooks/10_hygiene_filters.ipynb``; timed in ``benchmarks/bench_curation.py``.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Literal

import numpy as np
import pandas as pd
from datasketch import LeanMinHash, MinHash, MinHashLSH
from scipy import sparse
from tqdm.auto import tqdm

from synthlab.core.checks import check_at_least, check_column, check_frame
from synthlab.core.steps import row_ids, split_by_reason

__all__ = [
    "LSH_WEIGHTS",
    "MAX_EXACT_ROWS",
    "drop_near_duplicates",
    "jaccard",
    "Matcher",
    "Method",
    "minhash_signatures",
    "plant_near_duplicates",
    "planted_recall",
    "shingle_hashes",
    "shingles",
    "Unit",
]

Unit = Literal["word", "char"]
Method = Literal["lsh", "lsh-estimate", "exact"]
MAX_EXACT_ROWS = 20_000


#: MinHashLSH's weights of false positives and false negatives when it picks its bands. Candidates are
#: verified (or at least scored) afterwards, so a missed pair costs more than an extra candidate.
LSH_WEIGHTS = (0.02, 0.98)
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 5, unit: Unit = "char") -> frozenset[str]:
    """The set of ``size``-grams of ``text`` after lower-casing: of its words (``unit="word"``,
    punctuation ignored) or of its characters with runs of spaces collapsed (``unit="char"``).
    A text shorter than ``size`` units is one shingle; a text with no words, none. Character
    5-grams (the default) suit short texts: one edited word changes ~5 of a review's ~100 of them,
    but 3 of its ~15 word 3-grams (``notebooks/10_hygiene_filters.ipynb`` measures both).

    >>> sorted(shingles("The cat sat on the mat", size=2, unit="word"))
    ['cat sat', 'on the', 'sat on', 'the cat', 'the mat']
    """
    if unit == "word":
        words = _WORD.findall(text.lower())
        if len(words) <= size:
            return frozenset([" ".join(words)]) if words else frozenset()
        return frozenset({" ".join(words[i : i + size]) for i in range(len(words) - size + 1)})
    if unit == "char":
        chars = " ".join(text.lower().split())
        if len(chars) <= size:
            return frozenset([chars]) if chars else frozenset()
        return frozenset({chars[i : i + size] for i in range(len(chars) - size + 1)})
    raise ValueError(f"unit must be 'word' or 'char'; got {unit!r}")


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    """Exact Jaccard similarity ``|a & b| / |a | b|`` of two shingle sets (0.0 when both are empty)."""
    common = len(a & b)
    union = len(a) + len(b) - common
    return common / union if union else 0.0


def _unit_codes(text: str, unit: Unit) -> np.ndarray:
    if unit == "char":
        return np.frombuffer(" ".join(text.lower().split()).encode("utf-32-le"), dtype=np.uint32)
    words = _WORD.findall(text.lower())
    return np.fromiter((zlib.crc32(word.encode("utf-8")) for word in words), dtype=np.uint32, count=len(words))


def _mix(values: np.ndarray) -> np.ndarray:
    # MurmurHash3's 32-bit finalizer: spreads the polynomial hashes over all 32 bits.
    values = (values ^ (values >> np.uint32(16))) * np.uint32(0x85EBCA6B)
    values = (values ^ (values >> np.uint32(13))) * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def shingle_hashes(texts: Sequence[str], size: int = 5, unit: Unit = "char") -> tuple[np.ndarray, np.ndarray]:
    """A 32-bit hash of every shingle of every text, computed with numpy (no Python string per
    shingle): the hashes, text after text, and how many belong to each text. The shingles are
    those of :func:`shingles` (with repeats, which MinHash ignores): a polynomial hash of their
    characters (or of their words' CRC-32), mixed by MurmurHash3's finalizer."""
    codes = [_unit_codes(text, unit) for text in texts]
    lengths = np.array([len(code) for code in codes], dtype=np.int64)
    counts = np.where(lengths > size, lengths - size + 1, np.minimum(lengths, 1))
    widths = np.minimum(lengths, size)
    flat = np.concatenate(codes) if codes else np.zeros(0, dtype=np.uint32)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    window_text = np.repeat(np.arange(len(texts)), counts)
    first_window = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    starts = offsets[window_text] + np.arange(counts.sum()) - first_window[window_text]
    hashes = np.zeros(len(starts), dtype=np.uint32)
    for k in range(size):
        inside = widths[window_text] > k  # windows of short texts stop early
        hashes[inside] = hashes[inside] * np.uint32(0x01000193) + flat[starts[inside] + k]
    return _mix(hashes ^ widths[window_text].astype(np.uint32)), counts


def minhash_signatures(
    texts: Sequence[str],
    *,
    shingle_size: int = 5,
    unit: Unit = "char",
    num_perm: int = 128,
    seed: int = 1,
    batch: int = 2000,
) -> list[LeanMinHash]:
    """One datasketch MinHash of ``num_perm`` permutations (datasketch's own, drawn from ``seed``)
    per text, over the :func:`shingle_hashes` of its ``shingle_size``-gram shingles. Computed for
    ``batch`` texts at a time with numpy, which is ~20x faster than ``MinHash.update`` per shingle."""
    check_at_least(num_perm=(num_perm, 2), shingle_size=(shingle_size, 1), batch=(batch, 1))
    template = MinHash(num_perm=num_perm, seed=seed)
    a, b = (np.asarray(values, dtype=np.uint32) for values in template.permutations)
    hashes, counts = shingle_hashes(texts, shingle_size, unit)
    ends = np.cumsum(counts)
    signatures = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    for first in range(0, len(texts), batch):
        last = min(first + batch, len(texts))
        low = int(ends[first - 1]) if first else 0
        block = a[:, None] * hashes[None, low : int(ends[last - 1])] + b[:, None]
        has_shingles = counts[first:last] > 0
        block_starts = (ends[first:last] - counts[first:last] - low)[has_shingles]
        if len(block_starts):
            signatures[first:last][has_shingles] = np.minimum.reduceat(block, block_starts, axis=1).T
    return [LeanMinHash(seed=seed, hashvalues=signature, scheme=template.scheme) for signature in signatures]


def _intersections(shingle_sets: Sequence[AbstractSet[str]]) -> sparse.csr_matrix:
    vocabulary: dict[str, int] = {}
    rows, columns = [], []
    for row, shingle_set in enumerate(shingle_sets):
        for shingle in shingle_set:
            rows.append(row)
            columns.append(vocabulary.setdefault(shingle, len(vocabulary)))
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, columns)),
        shape=(len(shingle_sets), max(len(vocabulary), 1)),
    )
    return (incidence @ incidence.T).tocsr()


Matcher = Callable[[int], list[tuple[int, float]]]


def _exact_matcher(texts: Sequence[str], kept: np.ndarray, shingle_size: int, unit: Unit) -> Matcher:
    """Row i -> the earlier kept rows sharing a shingle with it, with their exact Jaccard."""
    sets = [shingles(text, shingle_size, unit) for text in texts]
    overlaps = _intersections(sets)
    sizes = np.array([len(shingle_set) for shingle_set in sets])

    def similar(i: int) -> list[tuple[int, float]]:
        start, end = overlaps.indptr[i], overlaps.indptr[i + 1]
        others, common = overlaps.indices[start:end], overlaps.data[start:end]
        mask = kept[others]
        scores = common[mask] / (sizes[i] + sizes[others[mask]] - common[mask])
        return list(zip(others[mask].tolist(), scores.tolist()))

    return similar


def _lsh_matcher(
    texts: Sequence[str],
    shingle_size: int,
    unit: Unit,
    threshold: float,
    num_perm: int,
    seed: int,
    verify: bool,
) -> tuple[Matcher, Callable[[int], None]]:
    """Row i -> the kept rows the LSH index proposes, with their exact (``verify``) or estimated
    Jaccard; and the function that adds a kept row to the index."""
    signatures = minhash_signatures(texts, shingle_size=shingle_size, unit=unit, num_perm=num_perm, seed=seed)
    index = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    sets: dict[int, frozenset[str]] = {}  # built only for the rows of candidate pairs
    has_shingles = [bool(_WORD.search(text)) if unit == "word" else bool(text.strip()) for text in texts]

    def shingle_set(i: int) -> frozenset[str]:
        if i not in sets:
            sets[i] = shingles(texts[i], shingle_size, unit)
        return sets[i]

    def similar(i: int) -> list[tuple[int, float]]:
        if not has_shingles[i]:
            return []
        candidates = index.query(signatures[i])
        if verify:
            return [(j, jaccard(shingle_set(i), shingle_set(j))) for j in candidates]
        return [(j, signatures[i].jaccard(signatures[j])) for j in candidates]

    def keep(i: int) -> None:
        if has_shingles[i]:
            index.insert(i, signatures[i], check_duplication=False)

    return similar, keep


def drop_near_duplicates(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    threshold: float = 0.5,
    shingle_size: int = 5,
    unit: Unit = "char",
    num_perm: int = 128,
    method: Method = "lsh",
    seed: int = 1,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the first row of each group of near-duplicates (Jaccard of their ``shingle_size``-gram
    :func:`shingles` >= ``threshold``); each later row is removed with the ``id`` of the kept row
    it duplicates (``duplicate_of``) and their Jaccard (``jaccard``, also in the ``reason``).

    ``method="lsh"`` finds candidate pairs with datasketch's MinHash LSH (``num_perm`` permutations,
    ``seed``) and verifies them with the exact Jaccard: no false positives, and near-linear time;
    a pair close to the threshold can be missed. ``"lsh-estimate"`` trusts the MinHash estimate
    instead (faster, some false positives); ``"exact"`` compares all pairs (quadratic; up to
    20,000 rows): the ground truth. Texts with no shingles are never duplicates."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1]; got {threshold}")
    if method not in ("lsh", "lsh-estimate", "exact"):
        raise ValueError(f"method must be 'lsh', 'lsh-estimate' or 'exact'; got {method!r}")
    check_at_least(shingle_size=(shingle_size, 1))
    texts = check_frame(frame, "drop_near_duplicates: frame", text_col=text_col)[text_col].tolist()
    if method == "exact" and len(texts) > MAX_EXACT_ROWS:
        raise ValueError(
            f"method='exact' compares all pairs of {len(texts)} rows; above {MAX_EXACT_ROWS} use method='lsh'"
        )
    kept = np.zeros(len(texts), dtype=bool)
    if method == "exact":
        similar, keep = _exact_matcher(texts, kept, shingle_size, unit), None
    else:
        similar, keep = _lsh_matcher(texts, shingle_size, unit, threshold, num_perm, seed, method == "lsh")
    ids = row_ids(frame).tolist()
    reasons, duplicate_of, similarity = [None] * len(texts), [None] * len(texts), [np.nan] * len(texts)
    approx = "~" if method == "lsh-estimate" else ""
    for i in tqdm(range(len(texts)), desc="near duplicates", disable=not progress):
        best, score = min(similar(i), key=lambda pair: (-pair[1], pair[0]), default=(None, 0.0))
        if best is not None and score >= threshold:
            reasons[i] = f"near duplicate of {ids[best]} (Jaccard {approx}{score:.2f})"
            duplicate_of[i], similarity[i] = ids[best], score
        else:
            kept[i] = True
            if keep is not None:
                keep(i)
    kept_rows, removed = split_by_reason(frame, reasons, "drop_near_duplicates")
    removed_rows = ~kept  # by position: the index may repeat a label
    removed["duplicate_of"] = np.array(duplicate_of, dtype=object)[removed_rows]
    removed["jaccard"] = np.array(similarity)[removed_rows]
    return kept_rows, removed


def _edit(words: list[str], vocabulary: Sequence[str], rng: random.Random) -> str:
    position = rng.randrange(len(words))
    operation = rng.choice(("delete", "swap", "substitute"))
    if operation == "delete":
        return f"delete {words.pop(position)!r}"
    if operation == "swap":
        position = min(position, len(words) - 2)
        words[position], words[position + 1] = words[position + 1], words[position]
        return f"swap {words[position + 1]!r} and {words[position]!r}"
    old, words[position] = words[position], rng.choice(vocabulary)
    return f"substitute {old!r} -> {words[position]!r}"


def plant_near_duplicates(
    frame: pd.DataFrame,
    n: int,
    *,
    text_col: str = "text",
    max_edits: int = 2,
    min_words: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """``frame`` plus ``n`` edited copies of ``n`` distinct rows of at least ``min_words`` words,
    shuffled among them (so a copy can come before its source). Each copy gets 1 to ``max_edits``
    edits, each deleting a word, swapping two neighbouring words or substituting a word drawn from
    the frame's own words; ``copy_of`` names its source's id and ``edits`` what was done (both
    ``None`` on the original rows). Copies get the id ``"<source id>~copy"``."""
    check_at_least(n=(n, 1), max_edits=(max_edits, 1), min_words=(min_words, 2))
    texts = check_frame(frame, "plant_near_duplicates: frame", text_col=text_col)[text_col]
    original = frame.assign(id=row_ids(frame).astype(str), copy_of=None, edits=None)
    eligible = [position for position, text in enumerate(texts) if len(text.split()) >= min_words]
    if n > len(eligible):
        raise ValueError(
            f"n={n} copies need {n} distinct rows of >= {min_words} words; the frame has "
            f"{len(eligible)}: lower n or min_words"
        )
    rng = random.Random(seed)
    vocabulary = sorted({word for text in texts for word in text.split()})
    copies = []
    for position in rng.sample(eligible, n):
        source = original.iloc[position]
        words = source[text_col].split()
        edits = [_edit(words, vocabulary, rng) for _ in range(rng.randint(1, max_edits))]
        copies.append(
            {
                **source.to_dict(),
                "id": f"{source['id']}~copy",
                text_col: " ".join(words),
                "copy_of": source["id"],
                "edits": "; ".join(edits),
            }
        )
    planted = pd.concat([original, pd.DataFrame(copies, columns=original.columns)], ignore_index=True)
    order = list(range(len(original)))
    for copy_position in range(len(original), len(planted)):
        order.insert(rng.randint(0, len(order)), copy_position)
    return planted.iloc[order].reset_index(drop=True)


def planted_recall(
    planted: pd.DataFrame,
    removed: pd.DataFrame,
    *,
    threshold: float = 0.5,
    text_col: str = "text",
    shingle_size: int = 5,
    unit: Unit = "char",
) -> dict[str, float]:
    """How many planted copies (rows of :func:`plant_near_duplicates` with ``copy_of``) a removal
    log dealt with. The ground truth is the exact Jaccard of copy and source: a copy is a
    near-duplicate when it reaches ``threshold``; it is found when the copy or its source was
    removed, so that the data no longer holds both. Returns ``copies``, ``near_duplicates``,
    ``found`` and ``recall`` (found / near_duplicates)."""
    check_column(planted, "copy_of", "planted copies column", frame_name="planted")
    check_column(removed, "id", "id column", frame_name="removed")
    texts = planted.set_index("id")[text_col]
    gone = set(removed["id"])
    copies = planted[planted["copy_of"].notna()]
    similarity = {
        copy: jaccard(shingles(texts[copy], shingle_size, unit), shingles(texts[source], shingle_size, unit))
        for copy, source in zip(copies["id"], copies["copy_of"])
    }
    near = [(copy, source) for copy, source in zip(copies["id"], copies["copy_of"]) if similarity[copy] >= threshold]
    found = sum(copy in gone or source in gone for copy, source in near)
    return {
        "copies": len(copies),
        "near_duplicates": len(near),
        "found": found,
        "recall": found / len(near) if near else 0.0,
    }
