"""Knowledge enhancement (taxonomy F2): retrieve concepts from a shipped knowledge source and put them in
the prompt.

A small model writes what it already knows, so its reviews repeat a few stock phrases. Knowledge-enhanced
generation (Long et al., 2024, section 4: "knowledge enhancement"; retrieval-augmented generation, Lewis
et al., 2020) retrieves facts for each row and conditions the prompt on them. The knowledge source is
``datasets/film_concepts.jsonl`` (45 film concepts with a one-sentence fact each, written for synthlab;
see ``datasets/film_concepts.md``); retrieval is TF-IDF cosine (scikit-learn), no network and no
embedding model. The query of a row is its sampled genre and aspect (:func:`synthlab.generation.tasks.review_prompts`
with ``attributes=True``), so a knowledge-enhanced row differs from the attribute-conditioned row with the
same seed by the retrieved facts only. :func:`concept_coverage` measures whether the texts use them.

>>> concepts = load_concepts()
>>> retrieve(concepts, ["horror movie, its music"], k=2)["concepts"].iloc[0]   # doctest: +SKIP
['jump scare', 'soundtrack']

Taught in ``notebooks/30_task_decomposition_and_knowledge.ipynb``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from synthlab.core.checks import check_texts
from synthlab.core.parsing import strip_chatter
from synthlab.generation.tasks import LABELS, SYSTEM, review_prompts
from synthlab.llm.generate import generate

__all__ = [
    "CONCEPTS_FILE",
    "WITH_KNOWLEDGE",
    "concept_coverage",
    "generate_with_knowledge",
    "load_concepts",
    "retrieve",
]

CONCEPTS_FILE = Path(__file__).resolve().parents[2] / "datasets" / "film_concepts.jsonl"
_FIELDS = ("concept", "kind", "fact")
_STOP_WORDS = sorted(ENGLISH_STOP_WORDS | {"movie", "movies", "film", "films"})  # in every query
WITH_KNOWLEDGE = ChatPromptTemplate.from_messages(
    [
        ("system", SYSTEM),
        (
            "human",
            (
                "Background: {facts}\n\nWrite a {label} review of a {genre} movie in one or two sentences. Focus on "
                "its {aspect}, write in a {style} style and mention {concept_list}. Reply with the review only."
            ),
        ),
    ]
)


def load_concepts(path: str | Path = CONCEPTS_FILE) -> pd.DataFrame:
    """The knowledge source as a DataFrame with ``concept``, ``kind`` and ``fact`` (one JSON object a line).
    A missing file, a line that is not JSON, a missing field or a repeated concept raises, naming it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the film concepts live in the repository's datasets/ folder, "
            "so install synthlab from a checkout (pip install -e .) or pass path="
        )
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: not valid JSON ({error.msg})") from error
        missing = [field for field in _FIELDS if not isinstance(row.get(field), str) or not row[field].strip()]
        if missing:
            raise ValueError(f"{path}, line {number}: missing or empty field(s) {missing}")
        rows.append({field: row[field] for field in _FIELDS})
    frame = pd.DataFrame(rows, columns=list(_FIELDS))
    if frame.empty:
        raise ValueError(f"{path} holds no concepts; add one JSON object a line with fields {list(_FIELDS)}")
    repeated = frame["concept"][frame["concept"].duplicated()].tolist()
    if repeated:
        raise ValueError(f"{path}: concept(s) {repeated} appear more than once; give each concept one line")
    return frame


def retrieve(knowledge: pd.DataFrame, queries: Sequence[str], *, k: int = 2) -> pd.DataFrame:
    """The ``k`` entries of ``knowledge`` (``concept``, ``kind``, ``fact``) most similar to each query by
    TF-IDF cosine over concept, kind and fact; ties go to the earlier entry. One row per query (index
    aligned with ``queries``) with lists ``concepts``, ``facts`` and ``scores``, best first."""
    missing = [field for field in _FIELDS if field not in knowledge.columns]
    if missing or knowledge.empty:
        raise ValueError(
            f"knowledge needs rows with columns {list(_FIELDS)} (see load_concepts); "
            f"{'it is empty' if knowledge.empty else f'it lacks {missing}'}"
        )
    check_texts(queries, "queries")
    if not 1 <= k <= len(knowledge):
        raise ValueError(f"k must be between 1 and the number of entries ({len(knowledge)}); got {k}")
    documents = (knowledge["concept"] + ". " + knowledge["kind"] + ". " + knowledge["fact"]).tolist()
    vectorizer = TfidfVectorizer(stop_words=_STOP_WORDS, token_pattern=r"(?u)\b\w[\w-]*\b").fit(documents)
    scores = (vectorizer.transform(list(queries)) @ vectorizer.transform(documents).T).toarray()
    best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return pd.DataFrame(
        {
            "concepts": [knowledge["concept"].iloc[row].tolist() for row in best],
            "facts": [knowledge["fact"].iloc[row].tolist() for row in best],
            "scores": [scores[i, row].round(4).tolist() for i, row in enumerate(best)],
        }
    )


def _mentions(text: str, concept: str) -> bool:
    words = [re.escape(word) for word in re.split(r"[\s-]+", concept.lower()) if word]
    return re.search(r"\b" + r"[\s-]*".join(words) + r"s?\b", text.lower()) is not None


def concept_coverage(texts: Sequence[Any], concepts: Sequence[Sequence[str]]) -> pd.Series:
    """The share of each row's ``concepts`` that its text mentions (case-insensitive, whole words, a
    hyphen or space between words, a plural allowed). Rows without a text score NaN."""
    if len(texts) != len(concepts):
        raise ValueError(f"texts and concepts must align: {len(texts)} texts, {len(concepts)} concept lists")
    return pd.Series(
        [
            float("nan")
            if not isinstance(text, str) or not wanted
            else sum(_mentions(text, concept) for concept in wanted) / len(wanted)
            for text, wanted in zip(texts, concepts)
        ],
        dtype=float,
        name="concept_coverage",
    )


def generate_with_knowledge(
    model: BaseChatModel,
    n: int,
    knowledge: pd.DataFrame,
    *,
    k: int = 2,
    labels: Sequence[str] = LABELS,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """``n`` labelled reviews (method ``reviews:knowledge``) whose prompts add the ``k`` facts retrieved for
    the row's genre and aspect (the conditions of ``review_prompts(n, attributes=True, seed=seed)``, so row
    ``r`` matches the attribute-conditioned row with the same seed). ``params`` keep the conditions and
    the retrieved ``concepts``; chatter is stripped and failures stay on their row."""
    _, chosen, conditions = review_prompts(n, labels=labels, attributes=True, seed=seed)
    hits = retrieve(knowledge, [f"{c['genre']} movie, its {c['aspect']}" for c in conditions], k=k)
    conditions = [
        {**condition, "concepts": hit_concepts} for condition, hit_concepts in zip(conditions, hits["concepts"])
    ]
    prompts = [
        WITH_KNOWLEDGE.invoke(
            {
                **condition,
                "facts": " ".join(facts),
                "concept_list": " and ".join(f'"{c}"' for c in condition["concepts"]),
            }
        )
        for condition, facts in zip(conditions, hits["facts"])
    ]
    return generate(
        model,
        prompts,
        labels=chosen,
        conditions=conditions,
        seed=seed,
        parse=strip_chatter,
        method="reviews:knowledge",
        progress=progress,
    )
