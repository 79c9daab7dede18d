from __future__ import annotations

import pandas as pd
import pytest

from synthlab.directions.knowledge import (
    concept_coverage,
    generate_with_knowledge,
    load_concepts,
    retrieve,
)
from synthlab.generation.tasks import generate_reviews
from tests.fake_models import EchoSeedModel


def test_the_shipped_concepts_load():
    concepts = load_concepts()
    assert len(concepts) >= 40 and concepts["concept"].is_unique
    assert list(concepts.columns) == ["concept", "kind", "fact"]


def test_load_names_the_bad_line(tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_text('{"concept": "a", "kind": "b", "fact": "c"}\n{"concept": "d", "kind": "e"}\n')
    with pytest.raises(ValueError, match="line 2: missing or empty field"):
        load_concepts(path)
    path.write_text('{"concept": "a", "kind": "b", "fact": "c"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        load_concepts(path)
    path.write_text('{"concept": "a", "kind": "b", "fact": "c"}\n' * 2)
    with pytest.raises(ValueError, match="more than once"):
        load_concepts(path)
    with pytest.raises(FileNotFoundError, match="missing"):
        load_concepts(tmp_path / "nothing.jsonl")


def test_retrieve_finds_the_matching_concepts():
    hits = retrieve(load_concepts(), ["horror movie, its visual effects", "romance movie, its characters"], k=2)
    assert len(hits) == 2 and all(len(c) == 2 for c in hits["concepts"])
    assert hits["concepts"].iloc[0][0] == "creature effects"
    assert "chemistry" in hits["concepts"].iloc[1]
    assert all(s[0] >= s[1] for s in hits["scores"])


def test_retrieve_rejects_bad_input():
    concepts = load_concepts()
    with pytest.raises(ValueError, match="k must be"):
        retrieve(concepts, ["x"], k=0)
    with pytest.raises(TypeError, match="queries takes a list of texts, not one string"):
        retrieve(concepts, "horror")
    with pytest.raises(TypeError, match="position 1 is None"):
        retrieve(concepts, ["horror", None])
    with pytest.raises(ValueError, match="it is empty"):
        retrieve(concepts.iloc[:0], ["x"])


def test_concept_coverage():
    scores = concept_coverage(
        ["Great jump-scares and a fine soundtrack.", None, "Nothing here."],
        [["jump scare", "soundtrack"], ["villain"], ["CGI"]],
    )
    assert scores.tolist()[0] == 1.0 and pd.isna(scores.iloc[1]) and scores.iloc[2] == 0.0
    with pytest.raises(ValueError, match="align"):
        concept_coverage(["a"], [])


def test_knowledge_rows_match_the_attribute_rows_but_for_the_facts():
    model = EchoSeedModel()
    rows = generate_with_knowledge(model, 4, load_concepts(), k=2, seed=3, progress=False)
    plain = generate_reviews(model, 4, attributes=True, seed=3, progress=False)
    assert rows["seed"].tolist() == plain["seed"].tolist() == [3, 4, 5, 6]
    for params, base in zip(rows["params"], plain["params"]):
        assert {key: params[key] for key in base} == base and len(params["concepts"]) == 2
    assert rows["prompt"].str.contains("Background: ").all() and (rows["method"] == "reviews:knowledge").all()


@pytest.mark.integration
def test_knowledge_generation_on_the_embedded_model(local_model):
    rows = generate_with_knowledge(local_model, 2, load_concepts(), k=1, progress=False)
    assert (
        len(rows) == 2
        and concept_coverage(rows["text"].tolist(), [p["concepts"] for p in rows["params"]])
        .dropna()
        .between(0, 1)
        .all()
    )
