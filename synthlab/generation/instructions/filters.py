r"""Instructions as data (taxonomy G8): what the three bootstrapping methods of notebook 05 share.

- :func:`parse_instruction_list` reads a numbered list of tasks out of a completion
  ("1. ...", "Task 3: ...", "- ..."), without ever raising: an answer with no list gives no items,
  and :func:`mark_empty` records that on the call's row.
- :func:`explode_instructions` turns one row per model call into one row per instruction, each
  keeping the call's prompt, params, seed and round, with the call's id as ``parent_id``.
- :func:`instruction_problem` is Self-Instruct's quality filter (Wang et al., 2023): 4 to 150
  words, none of the words a text-only model cannot act on ("image", "graph", "file", "draw", ...),
  no "Write a program" opener, starting with an ASCII letter or digit; synthlab adds one rule of its
  own: an instruction ends like a sentence (a list cut by ``max_tokens`` ends mid-sentence).
- :func:`filter_instructions` applies that filter, then the ROUGE-L < 0.7 novelty filter
  (:class:`synthlab.core.text.NoveltyPool`), and returns ``(kept, removed)`` with a reason per row.
- :func:`looks_like_instruction` tells a task from an answer (Evol-Instruct's eliminator uses it).

The methods themselves are :mod:`synthlab.generation.instructions.self_instruct`,
:mod:`synthlab.generation.instructions.explore_instruct` and :mod:`synthlab.generation.instructions.evol_instruct`.
Taught in ``notebooks/05_instruction_bootstrapping.ipynb``.

>>> parse_instruction_list("Sure! Two tasks:\n1. Name three rivers.\nTask 2: Define a noun.")["instructions"]
['Name three rivers.', 'Define a noun.']
>>> instruction_problem("Draw a map of your town.")
"mentions 'map' (a text-only model cannot do it)"
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from synthlab.core.checks import check_column
from synthlab.core.records import make_records
from synthlab.core.steps import split_by_reason
from synthlab.core.text import NoveltyPool

__all__ = [
    "BANNED_WORDS",
    "INSTRUCTION_OPENERS",
    "explode_instructions",
    "filter_instructions",
    "instruction_problem",
    "looks_like_instruction",
    "mark_empty",
    "parse_instruction_list",
    "strip_markers",
]

# Self-Instruct's list (bootstrap_instructions.py): tasks a language model cannot do with text alone.
BANNED_WORDS: tuple[str, ...] = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
)


# First words of instructions: imperative verbs and polite requests. A text without a question mark
# that opens with none of them reads like an answer or a story, not a task.
INSTRUCTION_OPENERS: frozenset[str] = frozenset(
    (
        "add",
        "analyse",
        "analyze",
        "answer",
        "arrange",
        "ask",
        "assume",
        "brainstorm",
        "calculate",
        "change",
        "check",
        "choose",
        "classify",
        "combine",
        "compare",
        "complete",
        "compose",
        "compute",
        "consider",
        "convert",
        "correct",
        "count",
        "create",
        "decide",
        "define",
        "derive",
        "describe",
        "design",
        "determine",
        "develop",
        "discuss",
        "draft",
        "edit",
        "estimate",
        "evaluate",
        "explain",
        "express",
        "extract",
        "fill",
        "find",
        "fix",
        "format",
        "generate",
        "give",
        "guess",
        "identify",
        "imagine",
        "improve",
        "list",
        "make",
        "match",
        "name",
        "outline",
        "paraphrase",
        "pick",
        "plan",
        "predict",
        "prepare",
        "pretend",
        "propose",
        "prove",
        "provide",
        "rank",
        "read",
        "recommend",
        "remove",
        "rephrase",
        "replace",
        "rewrite",
        "select",
        "show",
        "simplify",
        "solve",
        "sort",
        "state",
        "suggest",
        "summarise",
        "summarize",
        "tell",
        "transform",
        "translate",
        "turn",
        "use",
        "verify",
        "write",
        "please",
        "can",
        "could",
        "would",
        "according",
        "based",
        "given",
        "using",
    )
)


_ITEM = re.compile(
    r"^\s*(?:(?:task|instruction|question)\s*\d{0,3}\s*[:.)]|\(?\d{1,3}[.):]|[-*\u2022])\s*(.*?)\s*$",
    re.IGNORECASE,
)


_MARKER = re.compile(
    r"^(?:\*\*)?(?:(?:the\s+)?(?:(?:new|rewritten|revised|harder)\s+)?"
    r"(?:task|instruction|question|request)s?\s*\d{0,3}\s*:|"
    r"\(?\d{1,3}(?:\.\d{1,3})*[.):](?=\s|$))\s*(?:\*\*)?\s*",
    re.IGNORECASE,
)


_SENTENCE_END = re.compile(r"[.?!:\"')\]\u201d]$")


def strip_markers(item: str) -> str:
    """``item`` without the list markers and labels a small model stacks in front of it
    ("1. 2.1: ...", "Task 3: ...", "**Instruction:** ...", "Rewritten instruction: ...")."""
    item = item.strip()
    while (stripped := _MARKER.sub("", item, count=1).strip()) != item:
        item = stripped
    return item


def _clean_item(item: str) -> str:
    item = strip_markers(item.strip().strip("*_`").strip())
    if len(item) >= 2 and item[0] in '"\u201c' and item[-1] in '"\u201d':
        item = item[1:-1]
    return " ".join(item.split())


def parse_instruction_list(output: str) -> dict[str, Any]:
    """A ``parse`` function for :func:`synthlab.llm.generate.generate` when the model was asked for a
    numbered list of tasks: ``{"text": the items one per line, "instructions": [items]}``.

    Numbered ("1.", "2)"), labelled ("Task 3:") and bulleted lines are items; chatter lines around
    them are not. It never raises: an answer without list items gives ``[]`` (and ``text`` None),
    so that the caller keeps the raw answer and records the reason with :func:`mark_empty`."""
    lines = str(output).splitlines() if output is not None else []
    items, seen = [], set()
    for match in filter(None, map(_ITEM.match, lines)):
        item = _clean_item(match.group(1))
        if item and item.lower() not in seen:
            seen.add(item.lower())
            items.append(item)
    return {"text": "\n".join(items) or None, "instructions": items}


def mark_empty(calls: pd.DataFrame, column: str, reason: str) -> pd.DataFrame:
    """Record ``reason`` in ``error`` on the rows whose ``column`` holds no items (an answer that
    did not parse), keeping their ``raw`` completion; rows that already failed keep their error."""
    check_column(calls, column, "column", frame_name="calls")
    out = calls.copy()
    empty = out[column].map(lambda items: not isinstance(items, list) or len(items) == 0)
    out.loc[empty & out["error"].isna(), "error"] = reason
    return out


def explode_instructions(
    calls: pd.DataFrame, *, column: str = "instructions", method: str | None = None
) -> pd.DataFrame:
    """One record per instruction in the ``column`` lists of ``calls`` (rows from
    :func:`synthlab.llm.generate.generate`). Each row keeps its call's prompt, model, seed and round,
    the call's params plus ``item`` (its position in the answer), and the call's id as
    ``parent_id``; ``method`` defaults to the call's."""
    check_column(calls, column, "column", frame_name="calls")
    rows = []
    for call in calls.itertuples(index=False):
        items = getattr(call, column)
        for position, text in enumerate(items if isinstance(items, list) else []):
            rows.append(
                {
                    "text": text,
                    "method": method or call.method,
                    "model": call.model,
                    "prompt": call.prompt,
                    "params": {**call.params, "item": position},
                    "seed": call.seed,
                    "parent_id": call.id,
                    "round": call.round,
                }
            )
    return make_records(rows)


def instruction_problem(
    text: Any, *, min_words: int = 4, max_words: int = 150, banned: Sequence[str] = BANNED_WORDS
) -> str | None:
    """Why Self-Instruct's quality filter would drop ``text``, or ``None`` when it passes.

    The rules, in order: not text; fewer than ``min_words`` or more than ``max_words`` words;
    a ``banned`` word (whole words, any case); starts with "Write a program"; starts with
    punctuation or a non-ASCII character; does not end like a sentence (synthlab's addition)."""
    if not isinstance(text, str) or not text.strip():
        return "empty instruction"
    text = text.strip()
    words = len(text.split())
    if words < min_words:
        return f"fewer than {min_words} words"
    if words > max_words:
        return f"more than {max_words} words"
    for word in banned:
        if re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE):
            return f"mentions {word!r} (a text-only model cannot do it)"
    if text.lower().startswith("write a program"):
        return "starts with 'Write a program'"
    if not (text[0].isascii() and text[0].isalnum()):
        return "starts with punctuation or a non-ASCII character"
    if not _SENTENCE_END.search(text):
        return "unfinished (does not end like a sentence)"
    return None


def looks_like_instruction(text: str) -> bool:
    """Whether ``text`` reads like a task: it asks a question ("?"), or opens with one of
    :data:`INSTRUCTION_OPENERS` ("Rewrite...", "Can you...", "Given..."). A heuristic (synthlab's,
    not the papers'): it catches a rewrite that answers the instruction instead of rewriting it.

    >>> looks_like_instruction("A compiler translates code into machine code."), looks_like_instruction("Why?")
    (False, True)
    """
    words = re.findall(r"[a-z]+", text.lower())
    return "?" in text or (bool(words) and words[0] in INSTRUCTION_OPENERS)


def filter_instructions(
    candidates: pd.DataFrame,
    pool: NoveltyPool,
    *,
    text_col: str = "text",
    min_words: int = 4,
    max_words: int = 150,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Self-Instruct's filters, in row order: :func:`instruction_problem`, then ``pool``'s novelty
    test (ROUGE-L with every instruction already in the pool below its threshold). ``pool`` grows
    with each admitted row, so a later near-copy of an earlier candidate is rejected too.

    Returns ``(kept, removed)``; both get a ``rouge_l`` column (the highest ROUGE-L to the pool
    when the row was offered; missing for rows the quality filter dropped first), and removed
    rows a ``reason`` ("ROUGE-L 0.83 >= 0.7 with 'Summarise the text in one sentence.'")."""
    check_column(candidates, text_col, "text_col", frame_name="candidates")
    frame = candidates.copy()
    scores: list[float | None] = []
    reasons: list[str | None] = []
    for text, error in zip(frame[text_col], frame["error"] if "error" in frame else [None] * len(frame)):
        reason = (
            f"generation error: {error}"
            if isinstance(error, str)
            else instruction_problem(text, min_words=min_words, max_words=max_words)
        )
        score = None
        if reason is None:
            admitted, score, nearest = pool.offer(text)
            if not admitted:
                reason = f"ROUGE-L {score:.2f} >= {pool.threshold} with {nearest!r}"
        scores.append(score)
        reasons.append(reason)
    frame["rouge_l"] = pd.array(scores, dtype="Float64")
    return split_by_reason(frame, reasons, "filter_instructions")
