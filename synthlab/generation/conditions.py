"""Where condition values come from, besides a hand-written list (taxonomy G2, G3): proposed by the model
(:func:`propose_values`; ClinGen, UltraChat), random words from a corpus (:func:`frequent_words`,
:func:`sample_words`; TinyStories), or ZeroGen's two stages, a title first and the text for it next
(:func:`two_stage`). The values feed :func:`synthlab.generation.prompts.build_prompts`.

>>> values = propose_values(model, "genres", about="movies", k=8, seed=0)   # doctest: +SKIP

Taught in ``notebooks/01_task_specification_and_conditions.ipynb``.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from synthlab.core.parsing import parse_list, parse_title, strip_chatter
from synthlab.generation.prompts import TaskSpec, format_conditions, label_schedule, task_template
from synthlab.llm.generate import generate

__all__ = ["PROPOSE", "TITLE", "frequent_words", "propose_values", "sample_words", "two_stage"]


PROPOSE = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant who writes short lists."),
        (
            "human",
            (
                "List {k} different {dimension} for {about}. Write one per line, numbered, a few words each, "
                "with no explanations."
            ),
        ),
    ]
)


def propose_values(
    model: BaseChatModel,
    dimension: str,
    *,
    about: str = "movie reviews",
    k: int = 8,
    seed: int = 0,
    attempts: int = 3,
    max_words: int = 4,
) -> list[str]:
    """Ask ``model`` for ``k`` values of an attribute ``dimension`` (ClinGen / UltraChat-style
    concept lists), parse the answer robustly (:func:`synthlab.core.parsing.parse_list`) and dedupe.
    Tries seeds ``seed, seed+1, ...`` up to ``attempts`` calls until at least ``k`` values are
    collected, and returns what it has if that is at least two; otherwise raises ``ValueError``
    quoting the raw answers, so a failed proposal is never silently an empty condition.

    >>> propose_values(get_chat_model("local"), "movie genres")   # doctest: +SKIP
    ['Action', 'Comedy', 'Drama', ...]
    """
    if k < 2:
        raise ValueError(f"k must be >= 2 (a dimension with one value does not vary); got {k}")
    values: list[str] = []
    answers = []
    for attempt in range(attempts):
        prompt = PROPOSE.invoke({"k": k, "dimension": dimension, "about": about})
        answer = str(model.invoke(prompt, seed=seed + attempt).content)
        answers.append(answer)
        for value in parse_list(answer, max_words=max_words):
            if value.lower() not in {v.lower() for v in values}:
                values.append(value)
        if len(values) >= k:
            return values[:k]
    if len(values) < 2:
        raise ValueError(
            f"the model proposed {len(values)} usable value(s) for {dimension!r} in {attempts} "
            f"attempts; its answers were {[a[:120] for a in answers]}. Write the values by hand "
            "or try another seed or model"
        )
    return values


def frequent_words(
    texts: Sequence[str],
    *,
    k: int = 300,
    min_length: int = 4,
    skip: int = 0,
    stop_words: frozenset[str] | set[str] = ENGLISH_STOP_WORDS,
) -> list[str]:
    """The ``k`` most frequent content words of ``texts`` (lower-cased, alphabetic, at least
    ``min_length`` letters, not stop words), after skipping the ``skip`` most frequent: a
    vocabulary to draw TinyStories-style random words from. Ties break alphabetically."""
    counts = Counter(
        word
        for text in texts
        for word in re.findall(r"[a-z]+", str(text).lower())
        if len(word) >= min_length and word not in stop_words
    )
    if not counts:
        raise ValueError("texts hold no content words; pass real texts (for example the training split)")
    ranked = sorted(counts, key=lambda word: (-counts[word], word))
    return ranked[skip : skip + k]


def sample_words(vocabulary: Sequence[str], n: int, *, k: int = 3, seed: int = 0) -> list[dict[str, str]]:
    """``n`` condition dicts ``{"words": "w1, w2, w3"}``, ``k`` distinct words each drawn from
    ``vocabulary`` with ``seed`` (TinyStories, Eldan & Li, 2023)."""
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if not 1 <= k <= len(set(vocabulary)):
        raise ValueError(f"cannot draw k={k} distinct words from a vocabulary of {len(set(vocabulary))}")
    rng = random.Random(seed)
    pool = sorted(set(vocabulary))
    return [{"words": ", ".join(rng.sample(pool, k))} for _ in range(n)]


TITLE = ChatPromptTemplate.from_messages(
    [
        ("system", "{role}"),
        (
            "human",
            "Write the title of a {label_words} {text_type}. Reply with the title only, in a few words.",
        ),
    ]
)


def two_stage(
    model: BaseChatModel,
    task: TaskSpec,
    n: int,
    *,
    seed: int = 0,
    title_model: BaseChatModel | None = None,
    method: str = "two-stage",
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ZeroGen's two stages (Ye et al., 2022): first ``n`` titles, then one text per title,
    conditioned on it. Returns ``(texts, titles)``: text rows carry their title in ``params``
    and the title row's id in ``parent_id``; a title that failed to parse becomes a text row
    with that error (so it counts as malformed), not a silent gap. ``title_model`` (default
    ``model``) can have a smaller ``max_tokens``."""
    labels = label_schedule(n, task.labels)
    bound = {"role": task.role or "", "text_type": task.text_type}
    title_prompts = [TITLE.invoke({**bound, "label_words": task.verbalizer[label]}) for label in labels]
    titles = generate(
        title_model or model,
        title_prompts,
        labels=labels,
        seed=seed,
        parse=parse_title,
        method=f"{method}:title",
        progress=progress,
    )
    good = titles[titles["error"].isna()]
    template = task_template(task, conditions=True)
    conditions = [{"label": label, "title": title} for label, title in zip(good["label"], good["text"])]
    prompts = [
        template.invoke(
            {
                "label_words": task.verbalizer[c["label"]],
                "conditions": format_conditions({"title": c["title"]}),
            }
        )
        for c in conditions
    ]
    chosen = good["label"].tolist()
    texts = (
        generate(
            model,
            prompts,
            labels=chosen,
            conditions=conditions,
            parent_ids=good["id"].tolist(),
            seed=seed + n,
            parse=strip_chatter,
            method=method,
            progress=progress,
        )
        if prompts
        else None
    )
    failed = titles[titles["error"].notna()].assign(method=method, text=None, parent_id=lambda f: f["id"])
    failed["error"] = "title stage failed: " + failed["error"].astype(str)
    return pd.concat([frame for frame in (texts, failed) if frame is not None], ignore_index=True), titles
