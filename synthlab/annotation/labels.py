"""Label answers from a chat model: the labelling prompt, parsing a reply into one label, and
the JSON schema of a reply that names one label (for :func:`synthlab.llm.chat.constrain`).

Shared by the LLM annotator (:mod:`synthlab.annotation.llm`), the LLM judge
(:mod:`synthlab.evaluation.judge`) and the label self-check of chains. Taught in
``notebooks/06_automatic_annotation.ipynb`` and ``notebooks/20_direct_evaluation.ipynb``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.prompts import ChatPromptTemplate

__all__ = ["JUDGE_PROMPT", "label_parser", "label_schema"]

JUDGE_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You label texts. Answer with exactly one of these labels: {labels}."),
        ("human", "Text: {text}\n\nWhich label fits this text best: {labels}?"),
    ]
)


def label_parser(labels: Sequence[str]) -> Callable[[str], dict[str, Any]]:
    """A ``generate`` parser that takes the first of ``labels`` named in a JSON ``{"label": ...}``
    answer or in free text, as ``{"judge_label": label}``; naming none is a ``ValueError``."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(label) for label in labels) + r")\b", re.IGNORECASE)
    canonical = {label.lower(): label for label in labels}

    def parse(output: str) -> dict[str, Any]:
        try:
            answer = json.loads(output).get("label", "")
        except (json.JSONDecodeError, AttributeError):
            answer = output
        found = pattern.search(str(answer))
        if not found:
            raise ValueError(f"the judge named none of {list(labels)}")
        return {"judge_label": canonical[found.group(1).lower()]}

    return parse


def label_schema(labels: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of a reply ``{"label": one of labels}``, which :func:`label_parser` reads (as it reads the
    free text of a backend that :func:`synthlab.llm.chat.constrain` leaves unconstrained)."""
    return {"type": "object", "properties": {"label": {"enum": list(labels)}}, "required": ["label"]}
