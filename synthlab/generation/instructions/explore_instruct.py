"""Explore-Instruct (Wan et al., 2023; taxonomy G8): explore a domain as a tree of topics, then
write instructions at the leaves, so that the data covers the domain's sub-areas instead of the
few a model writes about when asked for "tasks" in general.

:func:`expand_tree` asks the model for ``breadth`` subtopics of the root domain, then of each subtopic, down to
``depth`` (asking again, with the next seed, while a node has too few); :func:`explore_instruct` then asks for
instructions at every leaf, each row carrying its ``path`` in ``params``, and filters them with Self-Instruct's
filters (:func:`synthlab.generation.instructions.filters.filter_instructions`). :func:`leaf_coverage` counts the
kept instructions per leaf: the share of leaves with at least one is the subtopic coverage.

>>> result = explore_instruct(get_chat_model("local"), "math", depth=2, breadth=3)   # doctest: +SKIP
>>> result.coverage                                                                   # doctest: +SKIP

Taught in ``notebooks/05_instruction_bootstrapping.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from tqdm.auto import tqdm

from synthlab.core.parsing import parse_list
from synthlab.core.records import make_records
from synthlab.core.text import NoveltyPool
from synthlab.generation.instructions.filters import (
    explode_instructions,
    filter_instructions,
    mark_empty,
    parse_instruction_list,
    strip_markers,
)
from synthlab.llm.generate import generate

__all__ = [
    "EXPAND",
    "LEAF",
    "expand_tree",
    "explore_instruct",
    "ExploreResult",
    "leaf_coverage",
    "leaves",
    "parse_subtopics",
]

EXPAND = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant who writes short lists."),
        (
            "human",
            "What are {k} subtopics of {topic}{context}? Answer with a numbered list of short names only.",
        ),
    ]
)


LEAF = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant who writes short lists."),
        (
            "human",
            (
                "Write {n} questions or requests about {topic} ({path}) that a user could ask an AI assistant. "
                "Number them, one per line. Do not answer them."
            ),
        ),
    ]
)


_NODE = "explore-instruct:node"


@dataclass
class ExploreResult:
    """What :func:`explore_instruct` made: the ``tree`` (one row per topic node: ``text`` is the
    topic, ``parent_id`` its parent node, ``round`` its depth, ``params["path"]`` the topics from
    the root), the ``kept`` and ``removed`` instructions, and every model call (``calls``)."""

    tree: pd.DataFrame
    kept: pd.DataFrame
    removed: pd.DataFrame
    calls: pd.DataFrame

    @property
    def coverage(self) -> float:
        """Share of leaves with at least one kept instruction."""
        return float((leaf_coverage(self.tree, self.kept)["kept"] > 0).mean())


def parse_subtopics(output: str, *, max_words: int = 5) -> dict[str, Any]:
    """A ``parse`` function for :func:`synthlab.llm.generate.generate`: the list items of the answer
    (:func:`synthlab.core.parsing.parse_list`) in ``subtopics``. It never raises; an answer without a
    list gives ``[]``, recorded as an error by the caller."""
    unique: dict[str, str] = {}
    for item in parse_list(output, max_words=max_words):
        if item := strip_markers(item):  # "1. 1. Algebra"
            unique.setdefault(item.lower(), item)
    items = list(unique.values())
    return {"text": "\n".join(items) or None, "subtopics": items}


def _expand_prompt(path: list[str], k: int) -> PromptValue:
    context = f" (within {' > '.join(path[:-1])})" if len(path) > 1 else ""
    return EXPAND.invoke({"k": k, "topic": path[-1], "context": context})


def _node(topic: str, path: list[str], parent: Any = None, call: Any = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "text": topic,
        "method": _NODE,
        "params": {"path": path},
        "parent_id": parent,
        "round": len(path) - 1,
    }
    if call is not None:
        row.update(model=call.model, prompt=call.prompt, seed=call.seed)
    return row


def expand_tree(
    model: BaseChatModel,
    root: str,
    *,
    depth: int = 2,
    breadth: int = 3,
    attempts: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A topic tree under ``root``: ``breadth`` subtopics per node, ``depth`` levels below the
    root. A node with fewer than ``breadth`` new subtopics (not one of its ancestors, not a repeat
    of a sibling) is asked again, up to ``attempts`` calls; one that gets none stays a leaf.
    Returns ``(tree, calls)``; calls are seeded ``seed, seed+1, ...`` in order."""
    if not isinstance(root, str) or not root.strip():
        raise ValueError(f"root must name a domain, such as 'math' or 'writing'; got {root!r}")
    for name, value in (("depth", depth), ("breadth", breadth), ("attempts", attempts)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1; got {value}")
    nodes = make_records([_node(root.strip(), [root.strip()])])
    frontier, calls, next_seed = nodes, [], seed
    for level in tqdm(range(1, depth + 1), desc="explore-instruct: expand", disable=not progress):
        found: dict[str, list[tuple[str, Any]]] = {node_id: [] for node_id in frontier["id"]}
        for attempt in range(attempts):
            todo = frontier[[len(found[node_id]) < breadth for node_id in frontier["id"]]]
            if todo.empty:
                break
            batch = generate(
                model,
                [_expand_prompt(p["path"], breadth) for p in todo["params"]],
                seed=next_seed,
                conditions=[{"path": p["path"], "attempt": attempt} for p in todo["params"]],
                parent_ids=todo["id"].tolist(),
                parse=parse_subtopics,
                method="explore-instruct:expand",
                generation_round=level,
                progress=False,
            )
            next_seed += len(todo)
            batch = mark_empty(batch, "subtopics", "no list of subtopics in the answer")
            calls.append(batch)
            for node, call in zip(todo.itertuples(index=False), batch.itertuples(index=False)):
                taken = {topic.lower() for topic in node.params["path"]} | {t.lower() for t, _ in found[node.id]}
                for topic in call.subtopics:
                    if topic.lower() not in taken and len(found[node.id]) < breadth:
                        taken.add(topic.lower())
                        found[node.id].append((topic, call))
        paths = dict(zip(frontier["id"], frontier["params"].map(lambda p: p["path"])))
        frontier = make_records(
            [
                _node(topic, [*paths[node_id], topic], node_id, call)
                for node_id, children in found.items()
                for topic, call in children
            ]
        )
        nodes = pd.concat([nodes, frontier], ignore_index=True)
        if frontier.empty:
            break
    return nodes, pd.concat(calls, ignore_index=True)


def leaves(tree: pd.DataFrame) -> pd.DataFrame:
    """The nodes of ``tree`` that have no children."""
    return tree[~tree["id"].isin(tree["parent_id"].dropna())]


def explore_instruct(
    model: BaseChatModel,
    root: str,
    *,
    depth: int = 2,
    breadth: int = 3,
    per_leaf: int = 3,
    attempts: int = 3,
    threshold: float = 0.7,
    seed: int = 0,
    progress: bool = True,
) -> ExploreResult:
    """Explore-Instruct: :func:`expand_tree`, then one call per leaf asking for ``per_leaf``
    instructions about it (seeded after the expansion calls), filtered in leaf order by
    :func:`synthlab.generation.instructions.filters.filter_instructions` against one pool for the whole domain
    (ROUGE-L < ``threshold``). Each instruction row has the leaf's ``path`` in ``params`` and
    its call's id in ``parent_id``; the call's ``parent_id`` is the leaf node."""
    if per_leaf < 1:
        raise ValueError(f"per_leaf must be >= 1; got {per_leaf}")
    tree, expand_calls = expand_tree(
        model, root, depth=depth, breadth=breadth, attempts=attempts, seed=seed, progress=progress
    )
    ends = leaves(tree)
    paths = [params["path"] for params in ends["params"]]
    prompts = [LEAF.invoke({"path": " > ".join(path), "topic": path[-1], "n": per_leaf}) for path in paths]
    leaf_calls = generate(
        model,
        prompts,
        seed=seed + len(expand_calls),
        conditions=[{"path": p} for p in paths],
        parent_ids=ends["id"].tolist(),
        parse=parse_instruction_list,
        method="explore-instruct:instructions",
        generation_round=depth,
        progress=progress,
    )
    leaf_calls = mark_empty(leaf_calls, "instructions", "no numbered list of instructions in the answer")
    kept, removed = filter_instructions(
        explode_instructions(leaf_calls, method="explore-instruct"), NoveltyPool(threshold=threshold)
    )
    return ExploreResult(tree, kept, removed, pd.concat([expand_calls, leaf_calls], ignore_index=True))


def leaf_coverage(tree: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """One row per leaf of ``tree``: its ``path`` (topics joined by " > "), ``depth`` and the
    number of ``kept`` instructions written for it."""
    counts = kept["params"].map(lambda p: " > ".join(p["path"])).value_counts() if len(kept) else pd.Series(dtype=int)
    ends = leaves(tree)
    paths = ends["params"].map(lambda p: " > ".join(p["path"]))
    return pd.DataFrame(
        {
            "path": paths.tolist(),
            "depth": ends["round"].astype(int).tolist(),
            "kept": [int(counts.get(path, 0)) for path in paths],
        }
    )
