from __future__ import annotations

import random

import pandas as pd
import pytest

import synthlab.curation.dedup as dedup
from synthlab.core.records import make_records
from synthlab.curation.dedup import (
    drop_near_duplicates,
    jaccard,
    minhash_signatures,
    plant_near_duplicates,
    planted_recall,
    shingle_hashes,
    shingles,
)
from synthlab.curation.noise import detection_report


def _corpus(n: int = 120) -> pd.DataFrame:
    """Distinct sentences of 12 words drawn from 300 made-up ones: unrelated rows share few shingles."""
    rng = random.Random(0)
    vocabulary = [f"w{k}" for k in range(300)]
    return make_records([{"id": f"r{i}", "text": " ".join(rng.choices(vocabulary, k=12)) + "."} for i in range(n)])


def test_shingles_of_words_and_characters():
    assert shingles("The cat sat", size=2, unit="word") == {"the cat", "cat sat"}
    assert shingles("Hi!", size=3, unit="word") == {"hi"}
    assert shingles("...", size=3, unit="word") == frozenset()
    assert shingles("   ") == frozenset()
    assert shingles("Ab  cd", size=4, unit="char") == {"ab c", "b cd"}
    assert shingles("ab", size=4, unit="char") == {"ab"}
    with pytest.raises(ValueError, match="unit must be"):
        shingles("text", unit="token")


def test_jaccard_is_exact():
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0
    assert jaccard({"a"}, {"a"}) == 1.0


def test_shingle_hashes_count_the_shingles_and_hash_equal_shingles_equally():
    texts = ["the cat sat on the mat", "the cat", "", "the cat sat on the mat"]
    hashes, counts = shingle_hashes(texts, 3, "word")
    assert counts.tolist() == [4, 1, 0, 4]
    assert hashes[:4].tolist() == hashes[5:].tolist()
    hashes, counts = shingle_hashes(["abcdef"], 5, "char")
    assert counts.tolist() == [2] and hashes[0] != hashes[1]


def test_minhash_estimates_jaccard():
    a = "a quiet and moving portrait of a family that falls apart over one long winter in the north"
    b = "a quiet and moving portrait of a family that falls apart over one long summer in the north"
    exact = jaccard(shingles(a, 3, "word"), shingles(b, 3, "word"))
    first, second, same = minhash_signatures([a, b, a], shingle_size=3, unit="word", num_perm=256)
    assert abs(first.jaccard(second) - exact) < 0.12
    assert first.jaccard(same) == 1.0


def test_drop_near_duplicates_keeps_the_first_and_names_it():
    frame = make_records(
        [
            {
                "id": "a",
                "text": "A quiet and moving portrait of a family that falls apart over one long winter.",
            },
            {"id": "b", "text": "Loud, long and empty: the worst blockbuster of the summer."},
            {
                "id": "c",
                "text": "A quiet and moving portrait of a family that falls apart over one long summer.",
            },
        ]
    )
    for method in ("lsh", "exact"):
        kept, removed = drop_near_duplicates(frame, threshold=0.5, method=method, progress=False)
        assert kept["id"].tolist() == ["a", "b"]
        assert removed["duplicate_of"].tolist() == ["a"]
        assert removed["reason"].iloc[0] == f"near duplicate of a (Jaccard {removed['jaccard'].iloc[0]:.2f})"
    _, removed = drop_near_duplicates(frame, threshold=0.5, method="lsh-estimate", progress=False)
    assert "(Jaccard ~" in removed["reason"].iloc[0]


def test_plant_near_duplicates_is_seeded_and_records_sources():
    corpus = _corpus()
    planted = plant_near_duplicates(corpus, 30, max_edits=2, seed=3)
    copies = planted[planted["copy_of"].notna()]
    assert len(planted) == len(corpus) + 30 and len(copies) == 30
    assert copies["id"].tolist() == [f"{source}~copy" for source in copies["copy_of"]]
    assert copies["edits"].str.count(";").max() <= 1
    assert set(copies["copy_of"]) <= set(corpus["id"]) and copies["copy_of"].is_unique
    assert planted.equals(plant_near_duplicates(corpus, 30, max_edits=2, seed=3))
    assert not planted.equals(plant_near_duplicates(corpus, 30, max_edits=2, seed=4))
    assert planted.index.tolist() == list(range(len(planted)))
    with pytest.raises(ValueError, match="n=500 copies need 500 distinct rows"):
        plant_near_duplicates(corpus, 500)


@pytest.mark.parametrize("unit, size", [("word", 3), ("char", 5)])
def test_lsh_finds_what_exact_search_finds(unit, size):
    planted = plant_near_duplicates(_corpus(), 40, seed=0)
    _, truth = drop_near_duplicates(
        planted, threshold=0.5, shingle_size=size, unit=unit, method="exact", progress=False
    )
    _, found = drop_near_duplicates(planted, threshold=0.5, shingle_size=size, unit=unit, progress=False)
    report = detection_report(planted["id"].isin(found["id"]), planted["id"].isin(truth["id"]))
    assert report["precision"] == 1.0 and report["recall"] >= 0.9
    assert (found["jaccard"] >= 0.5).all()
    recall = planted_recall(planted, found, threshold=0.5, shingle_size=size, unit=unit)
    assert recall["copies"] == 40 and recall["near_duplicates"] >= 20 and recall["recall"] >= 0.9


def test_planted_recall_counts_pairs_of_which_one_was_removed():
    planted = pd.DataFrame(
        {
            "id": ["s", "s~copy", "t", "t~copy"],
            "text": ["a b c d e f", "a b c d e g", "g h i j k l", "z y x w v u"],
            "copy_of": [None, "s", None, "t"],
        }
    )
    report = planted_recall(planted, pd.DataFrame({"id": ["s"]}), threshold=0.5)
    assert report == {"copies": 2, "near_duplicates": 1, "found": 1, "recall": 1.0}
    assert planted_recall(planted, pd.DataFrame({"id": ["t"]}), threshold=0.5)["found"] == 0


def test_bad_input_gets_clear_messages(monkeypatch):
    frame = _corpus(10)
    with pytest.raises(ValueError, match="threshold must be in"):
        drop_near_duplicates(frame, threshold=0)
    with pytest.raises(ValueError, match="method must be"):
        drop_near_duplicates(frame, method="brute")
    with pytest.raises(ValueError, match="empty frame"):
        drop_near_duplicates(frame.iloc[:0])
    with pytest.raises(KeyError, match="text_col 'review'"):
        drop_near_duplicates(frame, text_col="review")
    with pytest.raises(TypeError, match="not a string"):
        drop_near_duplicates(make_records([{"text": "fine text here"}, {"text": None}]))
    monkeypatch.setattr(dedup, "MAX_EXACT_ROWS", 5)
    with pytest.raises(ValueError, match="use method='lsh'"):
        drop_near_duplicates(frame, method="exact")
    with pytest.raises(KeyError, match="copy_of"):
        planted_recall(frame, frame)


def test_rows_without_words_are_never_duplicates():
    frame = make_records([{"id": "a", "text": "!!!"}, {"id": "b", "text": "???"}, {"id": "c", "text": "A fine film."}])
    for method in ("lsh", "lsh-estimate", "exact"):
        kept, removed = drop_near_duplicates(frame, method=method, progress=False)
        assert removed.empty and len(kept) == 3
