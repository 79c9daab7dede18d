"""Evol-Instruct (Xu et al., 2023, WizardLM; taxonomy G8): rewrite instructions into harder ones
(in-depth evolving: add a constraint, deepen, concretize, ask for more reasoning steps) or into new
ones of the same domain (in-breadth evolving), and eliminate the evolutions that failed.

:func:`evol_instruct` evolves every instruction of a population once per generation, with an
evolution drawn at random (in-breadth is one of five, so the rarer kind); :func:`eliminate` is the
instruction eliminator; a failed evolution leaves its parent in the population, to be evolved
again in the next generation, as in WizardLM. :func:`elimination_rates` tabulates the failures
per evolution type or per generation. The prompts are short versions of WizardLM's (a 135M model
loses its way in the long ones; see the notebook).

>>> kept, removed = evol_instruct(get_chat_model("local"), ["Why is the sky blue?"], generations=2)  # doctest: +SKIP
>>> elimination_rates(kept, removed, by="evolution")                                               # doctest: +SKIP

Taught in ``notebooks/05_instruction_bootstrapping.ipynb``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from tqdm.auto import tqdm

from synthlab.core.checks import check_texts
from synthlab.core.parsing import clean_text
from synthlab.core.records import make_records
from synthlab.core.text import default_tokenize, lcs_length, rouge_l
from synthlab.generation.instructions.filters import (
    looks_like_instruction,
    strip_markers,
)
from synthlab.llm.generate import generate

__all__ = [
    "EVOLUTIONS",
    "IN_BREADTH",
    "IN_DEPTH",
    "eliminate",
    "elimination_rates",
    "evol_instruct",
    "EvolInstructResult",
    "evolve_prompt",
    "parse_rewrite",
]

EVOLUTIONS: dict[str, str] = {
    "constraints": "Add one more constraint or requirement to it.",
    "deepen": "If it asks about an issue, ask about the issue in more depth and breadth.",
    "concretize": "Replace general concepts with more specific ones.",
    "reasoning": "If it can be solved with a few simple steps, rewrite it to explicitly ask for several steps "
    "of reasoning.",
    "breadth": "",
}


IN_DEPTH = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant who rewrites instructions."),
        (
            "human",
            (
                "Rewrite the following instruction to make it a bit harder. {method} Add 10 to 20 words at most. "
                "Reply with the rewritten instruction only, do not answer it.\n\nInstruction: {instruction}"
            ),
        ),
    ]
)


IN_BREADTH = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant who rewrites instructions."),
        (
            "human",
            (
                "Write a brand new instruction inspired by the following one. It should belong to the same domain "
                "but be rarer, and be about as long. Reply with the new instruction only, do not answer it.\n\n"
                "Instruction: {instruction}"
            ),
        ),
    ]
)


_ARTEFACT = re.compile(
    r"#|\b(?:given|rewritten|revised|created|original|new)\s+(?:prompt|instruction)s?\b|"
    r"\bprompt\s+rewriter\b|^the\s+task\s*:|\bmake\s+it\s+(?:a\s+bit\s+)?harder\b|"
    r"\bre-?write\s+(?:the\s+|this\s+|following\s+)*instructions?\b",
    re.IGNORECASE,
)


_CHATTER = re.compile(
    r"\b(?:sorry|as an ai|i cannot|i can't|i am unable|i'm unable)\b|"
    r"^(?:i will|i'll|i'd|i'm|i am|let's|let me|here is|here's|sure)\b",
    re.IGNORECASE,
)


def evolve_prompt(instruction: str, evolution: str) -> PromptValue:
    """The prompt that asks for one ``evolution`` (a key of :data:`EVOLUTIONS`) of ``instruction``."""
    if evolution not in EVOLUTIONS:
        raise ValueError(f"unknown evolution {evolution!r}; choose from {list(EVOLUTIONS)}")
    if evolution == "breadth":
        return IN_BREADTH.invoke({"instruction": instruction})
    return IN_DEPTH.invoke({"instruction": instruction, "method": EVOLUTIONS[evolution]})


def parse_rewrite(output: str) -> dict[str, Any]:
    """A ``parse`` function for :func:`synthlab.llm.generate.generate`: the rewrite without leading
    chatter (:func:`synthlab.core.parsing.clean_text`) or a label ("New instruction:",
    :func:`synthlab.generation.instructions.filters.strip_markers`), or ``None`` when nothing usable is left. It never
    raises, so the eliminator records every failure with its reason.

    >>> parse_rewrite('Sure! Rewritten instruction: "Name two rivers in Peru."')
    {'text': 'Name two rivers in Peru.'}
    """
    try:
        text = clean_text(output)
        labelled = strip_markers(text)  # "Rewritten instruction: ..." is a label, not a failure
        return {"text": clean_text(labelled) if labelled != text else text}
    except ValueError:
        return {"text": None}


def _words(text: str) -> list[str]:
    return [token for token in default_tokenize(text) if any(ch.isalnum() for ch in token)]


def _failure(text: Any, parent: str, directions: str, *, max_similarity: float, min_words: int) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "empty rewrite (nothing usable after removing chatter)"
    if match := _ARTEFACT.search(text):
        return f"prompt artefact {match.group(0)!r}"
    if match := _CHATTER.search(text):
        return f"chatter or refusal {match.group(0)!r}"
    if "\n" in text.strip():
        return "more than one line (a list, or the rewrite followed by commentary)"
    words = _words(text)
    if len(words) < min_words:
        return f"fewer than {min_words} words"
    if lcs_length(words, _words(directions)) / len(words) >= 0.7:
        return "copies the evolving prompt"
    if not looks_like_instruction(text):
        return "reads like an answer, not an instruction"
    similarity = rouge_l(text, parent)
    if similarity >= max_similarity:
        return f"no real change: ROUGE-L {similarity:.2f} >= {max_similarity} with its parent"
    return None


def eliminate(
    candidates: pd.DataFrame, *, max_similarity: float = 0.9, min_words: int = 4, text_col: str = "text"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """WizardLM's instruction eliminator, as heuristics: a candidate (a row of :func:`evol_instruct`,
    with ``params["parent"]``) fails when its call failed, its text is empty, it contains prompt artefacts
    ("#Rewritten Prompt#", "the given prompt", "Rewrite the instruction"), chatter or a refusal, it runs over more
    than one line, it has fewer than ``min_words`` words, most of its words come in order from the evolving prompt's
    directions, it does not read like an instruction
    (:func:`synthlab.generation.instructions.filters.looks_like_instruction`: the model answered instead of
    rewriting), or its ROUGE-L with its parent reaches ``max_similarity`` (nothing changed). Returns ``(kept,
    removed)``, removed rows with a ``reason``."""
    if candidates.empty:
        return candidates.copy(), candidates.assign(reason=pd.Series(dtype=object), step="eliminate")
    reasons = []
    for row in candidates.itertuples(index=False):
        params, text = row.params, getattr(row, text_col)
        directions = row.prompt.replace(params["parent"], "")
        reason = (
            f"generation error: {row.error}"
            if isinstance(row.error, str)
            else _failure(text, params["parent"], directions, max_similarity=max_similarity, min_words=min_words)
        )
        reasons.append(reason)
    drop = pd.Series([reason is not None for reason in reasons], index=candidates.index, dtype=bool)
    removed = candidates[drop].assign(reason=[reason for reason in reasons if reason is not None], step="eliminate")
    return candidates[~drop].copy(), removed


@dataclass
class EvolInstructResult:
    """What :func:`evol_instruct` made: ``kept``, every successful evolution of every generation, and
    ``removed``, every failed one with its ``reason`` (see :func:`elimination_rates`)."""

    kept: pd.DataFrame
    removed: pd.DataFrame


def evol_instruct(
    model: BaseChatModel,
    instructions: Sequence[str],
    *,
    generations: int = 1,
    evolutions: Sequence[str] = tuple(EVOLUTIONS),
    max_similarity: float = 0.9,
    seed: int = 0,
    progress: bool = True,
) -> EvolInstructResult:
    """Evolve every instruction ``generations`` times. Per generation, each member of the population
    gets one evolution drawn from ``evolutions`` (with ``seed``); the candidates go through
    :func:`eliminate`; a survivor replaces its parent, a failure leaves the parent in place.

    Returns an :class:`EvolInstructResult`: ``kept``, every successful evolution of every generation, and
    ``removed``, every failed one with its ``reason``. Rows have ``method="evol-instruct"``, ``round`` = generation,
    ``parent_id`` = the evolved row (the starting instructions get ids of their own, but are not
    returned) and ``params`` with ``evolution`` and ``parent`` (the parent's text)."""
    texts = [
        text.strip()
        for text in check_texts(
            instructions,
            "instructions",
            at_least=1,
            blank=False,
            hint="pass at least one human-written instruction, for example load('instruction_seeds')['instruction']",
        )
    ]
    unknown = [name for name in evolutions if name not in EVOLUTIONS]
    if unknown or not evolutions:
        raise ValueError(f"evolutions must be a non-empty list from {list(EVOLUTIONS)}; got {list(evolutions)}")
    if generations < 1:
        raise ValueError(f"generations must be >= 1; got {generations}")
    rng = random.Random(seed)
    population = make_records([{"text": text, "method": "human"} for text in texts])[["id", "text"]]
    kept, removed = [], []
    for generation in tqdm(range(1, generations + 1), desc="evol-instruct", disable=not progress):
        pairs = [(text, rng.choice(list(evolutions))) for text in population["text"]]
        candidates = generate(
            model,
            [evolve_prompt(text, kind) for text, kind in pairs],
            seed=seed + (generation - 1) * len(population),
            parse=parse_rewrite,
            conditions=[{"evolution": kind, "parent": text} for text, kind in pairs],
            parent_ids=population["id"].tolist(),
            method="evol-instruct",
            generation_round=generation,
            progress=False,
        )
        survived, failed = eliminate(candidates, max_similarity=max_similarity)
        kept.append(survived)
        removed.append(failed)
        replaced = dict(zip(survived["parent_id"], zip(survived["id"], survived["text"])))
        population = pd.DataFrame(
            [replaced.get(row.id, (row.id, row.text)) for row in population.itertuples()],
            columns=["id", "text"],
        )
    return EvolInstructResult(pd.concat(kept, ignore_index=True), pd.concat(removed, ignore_index=True))


def elimination_rates(kept: pd.DataFrame, removed: pd.DataFrame, *, by: str = "evolution") -> pd.DataFrame:
    """Per evolution type (``by="evolution"``) or per generation (``by="generation"``): how many
    evolutions were tried, how many the eliminator removed, and the elimination rate."""
    if by not in ("evolution", "generation"):
        raise ValueError(f"by must be 'evolution' or 'generation'; got {by!r}")
    rows = pd.concat([kept.assign(eliminated=False), removed.assign(eliminated=True)], ignore_index=True)
    if rows.empty:
        raise ValueError("kept and removed are both empty: there are no evolutions to count")
    key = rows["params"].map(lambda p: p["evolution"]) if by == "evolution" else rows["round"].astype(int)
    table = rows.groupby(key.rename(by))["eliminated"].agg(tried="size", eliminated="sum")
    table["elimination_rate"] = table["eliminated"] / table["tried"]
    return table
