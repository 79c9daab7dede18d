"""Prompts as the survey writes them, ``p = E(e_task, e_condition, e_demo)`` (Long et al., 2024):
a task specification (G1), generation conditions (G2, G3) and a demonstrations slot, composed
into one LangChain ``ChatPromptTemplate``.

- :class:`TaskSpec`: a role preamble ("Suppose you are a movie reviewer."), GPT3Mix's text type,
  label type and label verbalizer (Yoo et al., 2021), and an output-format instruction.
- Conditions: attribute dimensions with value lists, sampled per row with a seed
  (:func:`sample_conditions`; AttrPrompt, Yu et al., 2023), and how many of the values the texts
  show (:func:`value_coverage`); values written by hand or from :mod:`synthlab.generation.conditions`
  (proposed by the model, random words, ZeroGen's titles).
- Demonstrations: ``(text, label)`` pairs formatted into the prompt (:func:`format_demos`).

Every piece of user text (labels, values, demos, titles) enters the template as a variable's
*value*, never as template source, so braces in it are kept verbatim and cannot inject.

>>> task = TaskSpec()
>>> prompts, labels, conditions = build_prompts(task, 4, attributes={"genre": ["comedy", "drama"]})
>>> labels
['positive', 'negative', 'positive', 'negative']

Taught in ``notebooks/01_task_specification_and_conditions.ipynb``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate

from synthlab.core.checks import check_labels

__all__ = [
    "build_prompts",
    "format_conditions",
    "format_demos",
    "label_schedule",
    "sample_conditions",
    "task_template",
    "TaskSpec",
    "value_coverage",
]


@dataclass(frozen=True)
class TaskSpec:
    """A task specification (G1): who writes (``role``), what (``text_type``), which label
    (``label_type``), how each label is said (``verbalizer``: label -> words) and the reply's
    form (``output_format``). Defaults describe movie-review sentiment; change them for any task.

    >>> TaskSpec(text_type="news headline", label_type="topic",
    ...          verbalizer={"sport": "sport", "business": "business"}, role=None).labels
    ('sport', 'business')
    """

    text_type: str = "movie review"
    label_type: str = "sentiment"
    verbalizer: Mapping[str, str] = field(
        default_factory=lambda: {
            "positive": "positive (the reviewer liked the movie)",
            "negative": "negative (the reviewer disliked the movie)",
        }
    )
    role: str | None = "Suppose you are a movie reviewer."
    output_format: str = "Reply with the review only, in one or two sentences, without a title or quotes."

    def __post_init__(self) -> None:
        if len(self.verbalizer) < 2:
            raise ValueError(
                f"a labelled task needs at least two labels; verbalizer has {dict(self.verbalizer)}. "
                "Add the other class(es), e.g. {'positive': 'positive', 'negative': 'negative'}"
            )
        empty = [label for label, words in self.verbalizer.items() if not str(words).strip()]
        if empty:
            raise ValueError(
                f"verbalizer gives no words for label(s) {empty}; map each label to the words "
                "the prompt should use for it"
            )

    @property
    def labels(self) -> tuple[Any, ...]:
        """The labels, in the verbalizer's order."""
        return tuple(self.verbalizer)


def task_template(task: TaskSpec, *, conditions: bool = False, demos: bool = False) -> ChatPromptTemplate:
    """The ``ChatPromptTemplate`` for ``task``; its variables are ``label_words`` plus
    ``conditions`` and ``demos`` when asked for (fill them with :func:`format_conditions` and
    :func:`format_demos`). The task's own strings are bound as values, so braces in them are safe."""
    human = [
        (
            "Each item in the following list contains a {text_type} and its {label_type}. "
            "The {label_type} is one of: {label_list}."
        )
    ]
    if demos:
        human.append("{demos}")
    human.append("Write one new {text_type} whose {label_type} is {label_words}.")
    if conditions:
        human.append("{conditions}")
    human.append("{output_format}")
    messages = [("system", "{role}")] if task.role else []
    template = ChatPromptTemplate.from_messages([*messages, ("human", "\n".join(human))])
    bound = {
        "text_type": task.text_type,
        "label_type": task.label_type,
        "label_list": ", ".join(str(label) for label in task.labels),
        "output_format": task.output_format,
    }
    if task.role:
        bound["role"] = task.role
    return template.partial(**bound)


def label_schedule(n: int, labels: Sequence[Any]) -> list[Any]:
    """``n`` labels cycling through ``labels``: balanced when ``n`` is a multiple of their number."""
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    labels = check_labels(labels, "labels")
    if len(labels) < 2:
        raise ValueError(f"labels must hold at least two classes; got {labels}")
    return [labels[index % len(labels)] for index in range(n)]


def _check_attributes(attributes: Mapping[str, Sequence[str]]) -> None:
    if not attributes:
        raise ValueError("attributes is empty; pass {dimension: [value, ...]} with at least one dimension")
    for name, values in attributes.items():
        if isinstance(values, str) or len(values) == 0:
            raise ValueError(
                f"attribute {name!r} has no values ({values!r}); give it a list of at least one "
                "value, or leave the dimension out"
            )


def sample_conditions(attributes: Mapping[str, Sequence[str]], n: int, *, seed: int = 0) -> list[dict[str, str]]:
    """``n`` condition dicts, one value per dimension drawn at random with ``seed`` (AttrPrompt)."""
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    _check_attributes(attributes)
    rng = random.Random(seed)
    return [{name: rng.choice(list(values)) for name, values in attributes.items()} for _ in range(n)]


def format_conditions(values: Mapping[str, Any]) -> str:
    """Condition values as prompt lines: ``{"genre": "comedy"}`` -> ``"Its genre: comedy."``;
    a ``words`` entry (random words) becomes an instruction to use them."""
    lines = []
    for name, value in values.items():
        if name == "words":
            lines.append(f"Use these words: {value}.")
        elif name == "title":
            lines.append(f"Its title: {value}")
        else:
            lines.append(f"Its {name}: {value}.")
    return "\n".join(lines)


def format_demos(demos: Sequence[tuple[str, Any]], task: TaskSpec) -> str:
    """Demonstrations as numbered list items in the GPT3Mix layout (``text type: ...`` then
    ``label type: ...``, the label said with the task's verbalizer). Raises on an empty list or a
    label the task does not know."""
    if len(demos) == 0:
        raise ValueError(
            "demos is empty but the prompt has a demonstrations slot; pass at least one "
            "(text, label) pair, or build the prompt with demos=None"
        )
    lines = []
    for number, (text, label) in enumerate(demos, start=1):
        if label not in task.verbalizer:
            raise ValueError(f"demo {number} has label {label!r}, not one of {list(task.labels)}")
        lines.append(f"{number}. {task.text_type}: {text}\n   {task.label_type}: {task.verbalizer[label]}")
    return "\n".join(lines)


def build_prompts(
    task: TaskSpec,
    n: int,
    *,
    attributes: Mapping[str, Sequence[str]] | None = None,
    conditions: Sequence[Mapping[str, Any]] | None = None,
    demos: Sequence[tuple[str, Any]] | None = None,
    seed: int = 0,
) -> tuple[list[PromptValue], list[Any], list[dict[str, Any]]]:
    """``n`` prompts for ``task`` with their labels and condition dicts, ready for
    :func:`synthlab.llm.generate.generate` (``labels=``, ``conditions=``).

    Labels cycle through ``task.labels``. Conditions come from ``attributes`` (sampled with
    ``seed``) or are given per row in ``conditions`` (say, from :func:`sample_words`); not both.
    ``demos`` (``(text, label)`` pairs) go into every prompt.
    """
    if attributes is not None and conditions is not None:
        raise ValueError("pass attributes (sampled here) or conditions (one dict per row), not both")
    labels = label_schedule(n, task.labels)
    if attributes is not None:
        conditions = sample_conditions(attributes, n, seed=seed)
    if conditions is not None and len(conditions) != n:
        raise ValueError(f"conditions has {len(conditions)} rows but n={n}; give one dict per prompt")
    template = task_template(task, conditions=conditions is not None, demos=demos is not None)
    fixed = {"demos": format_demos(demos, task)} if demos is not None else {}
    prompts, recorded = [], []
    for index, label in enumerate(labels):
        values = dict(conditions[index]) if conditions is not None else {}
        variables = {**fixed, "label_words": task.verbalizer[label]}
        if conditions is not None:
            variables["conditions"] = format_conditions(values)
        prompts.append(template.invoke(variables))
        recorded.append({"label": label, **values})
    return prompts, labels, recorded


def value_coverage(
    records: pd.DataFrame,
    attributes: Mapping[str, Sequence[str]],
    *,
    params_col: str = "params",
) -> pd.DataFrame:
    """G3 coverage: per dimension, how many of its values appear in the rows' conditions
    (``n_used`` of ``n_values``, ``coverage``) and ``max_share``, the commonest value's share
    of rows (a balance check). Pass the rows that survived curation."""
    _check_attributes(attributes)
    rows = {}
    for name, values in attributes.items():
        used = pd.Series([params.get(name) for params in records[params_col]], dtype=object).dropna()
        n_used = used[used.isin(list(values))].nunique()
        rows[name] = {
            "n_values": len(set(values)),
            "n_used": int(n_used),
            "coverage": n_used / len(set(values)),
            "max_share": float(used.value_counts().iloc[0] / len(used)) if len(used) else 0.0,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
