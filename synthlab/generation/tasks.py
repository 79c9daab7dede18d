"""The movie-review generation task used by the demo and the evaluation notebooks: prompts
that condition on the label only (ZeroGen-style) or on the label plus sampled attributes
(AttrPrompt-style), and a one-call generator of a labelled synthetic set.

Taught in ``notebooks/20_direct_evaluation.ipynb``; the generation notebooks build the
general prompt machinery.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate

from synthlab.core.parsing import strip_chatter
from synthlab.generation.prompts import label_schedule
from synthlab.llm.generate import generate

__all__ = ["ATTRIBUTES", "LABEL_ONLY", "LABELS", "SYSTEM", "WITH_ATTRIBUTES", "generate_reviews", "review_prompts"]

LABELS = ("positive", "negative")


SYSTEM = "You are a film critic who writes short movie reviews."


LABEL_ONLY = ChatPromptTemplate.from_messages(
    [
        ("system", SYSTEM),
        ("human", "Write a {label} review of a movie in one or two sentences. Reply with the review only."),
    ]
)


WITH_ATTRIBUTES = ChatPromptTemplate.from_messages(
    [
        ("system", SYSTEM),
        (
            "human",
            "Write a {label} review of a {genre} movie in one or two sentences. Focus on its {aspect} "
            "and write in a {style} style. Reply with the review only.",
        ),
    ]
)


ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "genre": (
        "comedy",
        "horror",
        "drama",
        "documentary",
        "science-fiction",
        "animated",
        "thriller",
        "romance",
    ),
    "aspect": ("acting", "plot", "music", "dialogue", "pacing", "visual effects", "ending", "characters"),
    "style": ("casual", "formal", "enthusiastic", "sarcastic", "poetic", "blunt"),
}


def review_prompts(
    n: int, *, labels: Sequence[str] = LABELS, attributes: bool = False, seed: int = 0
) -> tuple[list[PromptValue], list[str], list[dict[str, Any]]]:
    """``n`` prompts cycling through ``labels`` (:func:`synthlab.generation.prompts.label_schedule`),
    with their labels and condition values; with ``attributes=True`` each prompt also gets a
    genre, aspect and style drawn with ``seed`` from :data:`ATTRIBUTES`."""
    rng = random.Random(seed)
    prompts, chosen, conditions = [], [], []
    for label in label_schedule(n, labels):
        condition: dict[str, Any] = {"label": label}
        if attributes:
            condition |= {name: rng.choice(values) for name, values in ATTRIBUTES.items()}
        template = WITH_ATTRIBUTES if attributes else LABEL_ONLY
        prompts.append(template.invoke(condition))
        chosen.append(condition["label"])
        conditions.append(condition)
    return prompts, chosen, conditions


def generate_reviews(
    model: BaseChatModel,
    n: int,
    *,
    labels: Sequence[str] = LABELS,
    attributes: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Generate ``n`` labelled reviews as records (method ``reviews:label-only`` or
    ``reviews:attributes``); chatter is stripped and failures stay on their row."""
    prompts, chosen, conditions = review_prompts(n, labels=labels, attributes=attributes, seed=seed)
    method = "reviews:attributes" if attributes else "reviews:label-only"
    return generate(
        model,
        prompts,
        labels=chosen,
        conditions=conditions,
        seed=seed,
        parse=strip_chatter,
        method=method,
        progress=progress,
    )
