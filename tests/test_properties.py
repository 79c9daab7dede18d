"""Property-based tests (hypothesis) of the text metrics and the curation steps: arbitrary unicode, empty,
whitespace-only and very long texts, repeated index labels. A metric equals a direct reference written here; a
curation step either raises its documented ValueError/TypeError or its kept and removed rows partition the input;
unscrub_pii(scrub_pii(x)) is x."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from synthlab.core.text import copy_rate, default_tokenize, max_rouge_l, rouge_l
from synthlab.curation.dedup import drop_near_duplicates, jaccard, shingles
from synthlab.curation.filters import (
    drop_bad_format,
    drop_by_length,
    drop_exact_duplicates,
    drop_low_novelty,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
)
from synthlab.curation.pii import PLACEHOLDERS, find_pii, scrub_pii, unscrub_pii
from synthlab.evaluation.diversity import (
    distinct_n,
    diversity_summary,
    ngram_entropy,
    repeated_ngram_share,
    self_bleu,
    type_token_ratio,
    vocabulary_size,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = ["the", "film", "was", "good", "bad", "I", "didn't", "like", "it", "!", ",", "Ünïcödé", "猫", "🙂", "e.g."]
WHITESPACE = " \t\n\r\u00a0\u2003\u3000\x0b\x0c\x1c"

texts = st.one_of(
    st.text(max_size=80),  # arbitrary unicode (no lone surrogates: they are not text)
    st.text(alphabet=WHITESPACE, max_size=10),  # empty or whitespace-only
    st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join),  # words that repeat across texts
    st.builds(
        lambda words, k: " ".join(words) * k, st.lists(st.sampled_from(WORDS), min_size=1, max_size=5), st.just(400)
    ),
)
corpora = st.lists(texts, max_size=12)


def reference_tokens(text: str) -> list[str]:
    """Lower-cased words (inner apostrophes kept) and single punctuation marks, read left to right by hand."""
    tokens, text, k = [], text.lower(), 0
    while k < len(text):
        if text[k].isspace():
            k += 1
        elif re.match(r"\w", text[k]):
            end = k
            while end < len(text) and re.match(r"\w", text[end]):
                end += 1
            if end + 1 < len(text) and text[end] == "'" and re.match(r"\w", text[end + 1]):
                end += 1
                while end < len(text) and re.match(r"\w", text[end]):
                    end += 1
            tokens.append(text[k:end])
            k = end
        else:
            tokens.append(text[k])
            k += 1
    return tokens


def reference_ngrams(corpus: list[str], n: int) -> list[tuple[str, ...]]:
    grams = []
    for text in corpus:
        tokens = reference_tokens(text)
        grams += [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


@FAST
@given(st.text(max_size=200))
def test_the_tokenizer_matches_a_hand_written_reader(text):
    assert default_tokenize(text) == reference_tokens(text)


@FAST
@given(corpora, st.integers(1, 4))
def test_vocabulary_statistics_equal_plain_counts(corpus, n):
    grams = reference_ngrams(corpus, n)
    counts = Counter(grams)
    assert distinct_n(corpus, n) == (len(set(grams)) / len(grams) if grams else 0.0)
    entropy = -sum(c / len(grams) * math.log2(c / len(grams)) for c in counts.values()) if grams else 0.0
    assert ngram_entropy(corpus, n) == pytest.approx(entropy, abs=1e-12)
    repeated = sum(c for c in counts.values() if c > 1) / len(grams) if grams else 0.0
    assert repeated_ngram_share(corpus, n) == repeated
    unigrams = reference_ngrams(corpus, 1)
    assert vocabulary_size(corpus) == len(set(unigrams))
    assert type_token_ratio(corpus) == (len(set(unigrams)) / len(unigrams) if unigrams else 0.0)
    summary = diversity_summary(corpus)
    assert summary["n_texts"] == len(corpus) and summary["distinct_2"] == distinct_n(corpus, 2)


@SLOW
@given(st.lists(texts, min_size=2, max_size=5), st.integers(1, 4))
def test_self_bleu_equals_nltk_sentence_bleu_against_the_others(corpus, max_n):
    tokens = [reference_tokens(text) for text in corpus]
    scores = [
        sentence_bleu(
            tokens[:i] + tokens[i + 1 :],
            hypothesis,
            weights=(1 / max_n,) * max_n,
            smoothing_function=SmoothingFunction().method1,
        )
        for i, hypothesis in enumerate(tokens)
    ]
    assert self_bleu(corpus, max_n=max_n) == pytest.approx(sum(scores) / len(scores), abs=1e-9)


def reference_rouge_l(a: str, b: str) -> float:
    """ROUGE-L F over word tokens with the full LCS table."""
    x = [t for t in reference_tokens(a) if any(ch.isalnum() for ch in t)]
    y = [t for t in reference_tokens(b) if any(ch.isalnum() for ch in t)]
    table = [[0] * (len(y) + 1) for _ in range(len(x) + 1)]
    for i, p in enumerate(x):
        for j, q in enumerate(y):
            table[i + 1][j + 1] = table[i][j] + 1 if p == q else max(table[i][j + 1], table[i + 1][j])
    lcs = table[-1][-1]
    return 0.0 if lcs == 0 else 2 * lcs / (len(x) + len(y))


short_texts = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(WORDS), max_size=20).map(" ".join))


@FAST
@given(short_texts, short_texts)
def test_rouge_l_equals_the_full_table_and_is_symmetric(a, b):
    assert rouge_l(a, b) == pytest.approx(reference_rouge_l(a, b), abs=1e-12)
    assert rouge_l(a, b) == pytest.approx(rouge_l(b, a), abs=1e-12)
    assert 0.0 <= rouge_l(a, b) <= 1.0
    assert rouge_l(a, a) == (1.0 if reference_rouge_l(a, a) else 0.0)


@FAST
@given(st.lists(short_texts, max_size=6), st.lists(short_texts, min_size=1, max_size=4), st.floats(0.05, 1.0))
def test_copy_scores_are_the_max_rouge_l_over_the_references(candidates, references, threshold):
    expected = [max(reference_rouge_l(text, other) for other in references) for text in candidates]
    assert max_rouge_l(candidates, references) == pytest.approx(expected, abs=1e-12)
    rate = (
        sum(score >= threshold for score in max_rouge_l(candidates, references)) / len(candidates) if candidates else 0
    )
    assert copy_rate(candidates, references, threshold=threshold) == rate


not_texts = st.one_of(st.none(), st.just(float("nan")), st.integers(), st.binary(max_size=5))


@FAST
@given(corpora, not_texts, st.data())
def test_a_missing_or_non_string_text_is_a_value_error_naming_its_position(corpus, bad, data):
    position = data.draw(st.integers(0, len(corpus)))
    corrupted = [*corpus[:position], bad, *corpus[position:]]
    for metric in (lambda c: distinct_n(c, 2), vocabulary_size, lambda c: max_rouge_l(c, ["x"]), self_bleu):
        with pytest.raises(ValueError, match=f"position {position}"):
            metric(corrupted + ["pad", "pad"])
    with pytest.raises(ValueError, match="not one string"):
        distinct_n(" ".join(corpus), 1)


# --- curation steps --------------------------------------------------------------------------------------------

cells = st.one_of(texts, st.none(), st.just(float("nan")))
index_labels = st.one_of(st.none(), st.lists(st.integers(0, 3)))  # None: a RangeIndex; a list: repeated labels


@st.composite
def frames(draw: Any, cell: Any = cells) -> pd.DataFrame:
    """A frame of texts with unique ids, optional labels and an index that may repeat its labels."""
    values = draw(st.lists(cell, min_size=1, max_size=10))
    labels = draw(st.lists(st.sampled_from(["pos", "neg", None]), min_size=len(values), max_size=len(values)))
    index = draw(index_labels)
    frame = pd.DataFrame({"id": [f"r{k}" for k in range(len(values))], "text": values, "label": labels})
    if index is not None:
        frame.index = (index * len(values))[: len(values)] if index else [0] * len(values)
    return frame


def check_partition(frame: pd.DataFrame, kept: pd.DataFrame, removed: pd.DataFrame, step: str) -> None:
    """Kept and removed are a partition of the input's ids; kept rows are unchanged and in input order; every
    removed row has the step and a reason."""
    assert sorted(kept["id"].tolist() + removed["id"].tolist()) == sorted(frame["id"].tolist())
    assert set(kept["id"]).isdisjoint(removed["id"])
    original = frame.set_index("id")
    assert kept["id"].tolist() == [row_id for row_id in frame["id"] if row_id in set(kept["id"])]
    pd.testing.assert_frame_equal(kept.set_index("id"), original.loc[kept["id"]])
    assert (removed["step"] == step).all() and removed["reason"].map(lambda r: isinstance(r, str) and r != "").all()


def is_text(value: Any) -> bool:
    return isinstance(value, str)


@FAST
@pytest.mark.filterwarnings("ignore:.*removed all")  # the documented warning when nothing is kept
@given(frames(), st.integers(0, 4))
def test_drop_malformed_partitions_and_removes_exactly_the_malformed(frame, min_words):
    kept, removed = drop_malformed(frame, min_words=min_words)
    check_partition(frame, kept, removed, "drop_malformed")
    for text, label in zip(kept["text"], kept["label"]):
        assert is_text(text) and len(re.findall(r"\w+", text)) >= min_words and text.strip() and label is not None


@FAST
@given(frames())
def test_drop_exact_duplicates_keeps_the_first_of_each_normalised_text(frame):
    kept, removed = drop_exact_duplicates(frame)
    check_partition(frame, kept, removed, "drop_exact_duplicates")
    key = {row_id: " ".join(t.lower().split()) if is_text(t) else None for row_id, t in zip(frame["id"], frame["text"])}
    first: dict[str, str] = {}
    for row_id in frame["id"]:
        if key[row_id] is not None:
            first.setdefault(key[row_id], row_id)
    assert set(kept["id"]) == {row_id for row_id in frame["id"] if key[row_id] is None or first[key[row_id]] == row_id}
    assert removed["duplicate_of"].tolist() == [first[key[row_id]] for row_id in removed["id"]]


text_steps = [
    ("drop_by_length", lambda f: drop_by_length(f, min_words=2, max_words=30)),
    ("drop_bad_format", drop_bad_format),
    ("drop_refusals", drop_refusals),
    ("drop_repetitive", drop_repetitive),
    ("drop_low_novelty", lambda f: drop_low_novelty(f, references=["the film was good"], progress=False)),
    ("drop_near_duplicates", lambda f: drop_near_duplicates(f, method="exact", threshold=0.6, progress=False)),
    ("drop_near_duplicates", lambda f: drop_near_duplicates(f, threshold=0.6, progress=False)),
]


@FAST
@pytest.mark.filterwarnings("ignore:.*removed all")  # the documented warning when nothing is kept
@given(frames(), st.sampled_from(text_steps))
def test_text_steps_partition_or_raise_their_documented_type_error(frame, named_step):
    name, step = named_step
    if not frame["text"].map(is_text).all():
        with pytest.raises(TypeError, match="not a string"):
            step(frame)
        return
    kept, removed = step(frame)
    check_partition(frame, kept, removed, name)


@FAST
@given(frames(cell=texts), st.sampled_from(["exact", "lsh"]))
def test_near_duplicates_removed_have_the_jaccard_they_report(frame, method):
    kept, removed = drop_near_duplicates(frame, method=method, threshold=0.6, progress=False)
    check_partition(frame, kept, removed, "drop_near_duplicates")
    text_of = dict(zip(frame["id"], frame["text"]))
    for row_id, other, score in zip(removed["id"], removed["duplicate_of"], removed["jaccard"]):
        assert other in set(kept["id"])
        assert score >= 0.6 and jaccard(shingles(text_of[row_id]), shingles(text_of[other])) == pytest.approx(score)


def test_every_step_refuses_an_empty_frame():
    empty = pd.DataFrame({"id": [], "text": [], "label": []})
    for step in [drop_malformed, drop_exact_duplicates, scrub_pii] + [step for _, step in text_steps]:
        with pytest.raises(ValueError, match="empty frame"):
            step(empty)


pii = st.one_of(
    st.builds(
        "{}@{}.{}".format,
        st.from_regex(r"[a-z][a-z.+]{0,6}", fullmatch=True),
        st.sampled_from(["ex", "a-b"]),
        st.sampled_from(["com", "co.uk", "org"]),
    ),
    st.builds(
        "www.{}.com/{}".format,
        st.from_regex(r"[a-z]{1,6}", fullmatch=True),
        st.from_regex(r"[a-z]{0,4}", fullmatch=True),
    ),
    st.builds("+{} {} {} {}".format, *(st.integers(10, 999) for _ in range(4))),
    st.sampled_from(["555-123-4567", "1999-2004", "2024-01-31", "<EMAIL>", "<PHONE>"]),
)
pii_texts = st.lists(st.one_of(st.text(max_size=12), pii), max_size=8).map(" ".join)


@FAST
@given(frames(cell=pii_texts), st.sampled_from([("email", "url", "phone"), ("phone",), ("url", "email")]))
def test_unscrub_of_scrub_is_the_input_and_the_log_names_each_span(frame, kinds):
    scrubbed, log = scrub_pii(frame, kinds=kinds)
    assert unscrub_pii(scrubbed, log).equals(frame)
    text_of = dict(zip(frame["id"], frame["text"]))
    for row_id, kind, original, start, end in log[["id", "kind", "original", "start", "end"]].itertuples(index=False):
        assert kind in kinds and text_of[row_id][start:end] == original
    assert scrubbed["text"].map(len).sum() == frame["text"].map(len).sum() + sum(
        len(PLACEHOLDERS[kind]) - len(original) for kind, original in zip(log["kind"], log["original"])
    )
    assume(len(log))
    assert all(find_pii(text_of[row_id], kinds) for row_id in log["id"])


@FAST
@given(frames(cell=pii_texts))
def test_scrub_keeps_rows_and_other_columns(frame):
    scrubbed, _ = scrub_pii(frame)
    assert scrubbed.index.equals(frame.index) and scrubbed.drop(columns="text").equals(frame.drop(columns="text"))
    assert np.all(scrubbed["id"].to_numpy() == frame["id"].to_numpy())


@FAST
@given(frames(cell=pii_texts), st.data())
def test_scrub_and_unscrub_refuse_repeated_ids_which_would_make_the_log_ambiguous(frame, data):
    assume(len(frame) > 1)
    ids = frame["id"].tolist()
    ids[data.draw(st.integers(1, len(frame) - 1))] = "r0"
    repeated = frame.assign(id=ids)
    with pytest.raises(ValueError, match=r"'id' column repeats \['r0'\]"):
        scrub_pii(repeated)
    scrubbed, log = scrub_pii(frame)
    with pytest.raises(ValueError, match=r"'id' column repeats \['r0'\]"):
        unscrub_pii(scrubbed.assign(id=repeated["id"]), log)
