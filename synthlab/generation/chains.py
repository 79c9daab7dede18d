"""Sample-wise decomposition (taxonomy G6): build one sample in parts, a model call per part.

The review chain asks the model for a title for the intended label (step 1), a few aspects of
that title (step 2), the review from title + aspects + label (step 3), and finally which label
the review has (step 4, a self-check in the spirit of Self-Prompt's and ZeroGen's label checks).
Each step is one :func:`synthlab.llm.generate.generate` call over all rows, so the calls of a step run
back to back, and each step's rows point at the previous step's row through ``parent_id``. A row
whose step failed is not lost: it becomes a final row with the reason in ``error`` (so
:func:`synthlab.curation.filters.drop_malformed` counts it), and a review whose self-check names another label
is flagged (``check_agrees`` is ``False``), not dropped.

>>> final, steps = review_chain(get_chat_model("local"), TaskSpec(), 8)     # doctest: +SKIP
>>> final[["label", "title", "aspects", "text", "check_label", "check_agrees"]]  # doctest: +SKIP

Taught in ``notebooks/03_sample_wise_decomposition.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from synthlab.annotation.labels import label_parser, label_schema
from synthlab.core.checks import check_frame, check_labels
from synthlab.core.parsing import clean_text, parse_list, parse_title, strip_chatter
from synthlab.core.records import make_records, new_id
from synthlab.generation.prompts import TaskSpec, format_conditions, label_schedule, task_template
from synthlab.llm.chat import constrain
from synthlab.llm.generate import GenerationError, generate

__all__ = ["ASPECTS", "CHECK", "STEPS", "TITLE", "extract_title", "parse_aspects", "review_chain", "self_check"]

STEPS = ("title", "aspects", "review", "check")
TITLE = ChatPromptTemplate.from_messages(
    [
        ("system", "{role}"),
        (
            "human",
            (
                "Invent the title of a {subject} that you would give a {label} {text_type}. Reply with the title "
                "only, in two to five words."
            ),
        ),
    ]
)


ASPECTS = ChatPromptTemplate.from_messages(
    [
        ("system", "{role}"),
        (
            "human",
            (
                'List {k} aspects of the {subject} "{title}" that a {label} {text_type} would talk about. '
                "Write one per line, numbered, a few words each, with no explanations."
            ),
        ),
    ]
)


# Short on purpose: with the labels listed one per line (with the verbalizer's explanations), the 135M
# model named the first-listed label for every real review; this form does better on gold labels.
CHECK = ChatPromptTemplate.from_messages(
    [
        ("system", "You read a {text_type} and name its {label_type}."),
        ("human", "{text}\n\nIs the {label_type} of this {text_type} {label_choice}?"),
    ]
)


_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.):]?\s*)+")
_OPENED_QUOTE = re.compile(r"[\"\u201c]([^\"\u201c\u201d]+)")


def extract_title(output: str, *, max_words: int = 10) -> dict[str, Any]:
    """A ``generate`` parser for step 1: :func:`synthlab.core.parsing.parse_title`, after taking the quoted
    part of a sentence that names the title (``The title is "Echoes of the Past"``, closing quote
    optional, since short ``max_tokens`` cut it off). More than ``max_words`` words is a ``ValueError``.

    >>> extract_title('The title of the movie is "Echoes of the Past')
    {'text': 'Echoes of the Past'}
    """
    first = next((line for line in clean_text(output).splitlines() if line.strip()), "")
    quoted = _OPENED_QUOTE.search(first)
    return parse_title(quoted.group(1) if quoted and quoted.start() > 0 else first, max_words=max_words)


def parse_aspects(output: str, *, k: int = 3) -> dict[str, Any]:
    """A ``generate`` parser for step 2: up to ``k`` list items (:func:`synthlab.core.parsing.parse_list`)
    joined by ``"; "`` as the row's ``text``; no item at all is a ``ValueError``.

    >>> parse_aspects("1. The acting\\n2. Plot twists - surprising\\n3. Music\\n4. Pacing")
    {'text': 'The acting; Plot twists; Music'}
    """
    items = [_NUMBERING.sub("", item) for item in parse_list(output.replace("**", ""), max_words=6)]
    items = list(dict.fromkeys(item for item in items if item))[:k]
    if not items:
        raise ValueError(f"no list of aspects in {output[:80]!r}")
    return {"text": "; ".join(items)}


def _labels_by_name(task: TaskSpec) -> dict[str, Any]:
    named = {str(label): label for label in task.labels}
    if len(named) != len(task.labels):
        raise ValueError(f"the task's labels {list(task.labels)} are not distinct as text; rename them")
    return named


def self_check(
    model: BaseChatModel,
    frame: pd.DataFrame,
    task: TaskSpec,
    *,
    text_col: str = "text",
    label_col: str = "label",
    seed: int = 0,
    method: str = "self-check",
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ask ``model`` which of ``task``'s labels each text has (the chain's step 4; run it on any
    generated set to compare). With the embedded model the answer is constrained to the labels
    (:func:`synthlab.llm.chat.constrain` with :func:`synthlab.annotation.labels.label_schema`).

    Returns ``(checked, checks)``: ``checked`` is ``frame`` plus ``check_label`` (the label the
    model named, ``None`` where the check failed) and ``check_agrees`` (``True``/``False`` against
    ``label_col``, ``None`` where it failed); ``checks`` are the check records, whose ``parent_id``
    is the checked row's ``id`` (when ``frame`` has one). Texts must be non-empty (drop malformed rows
    first). Pass a ``model`` with temperature 0 for a deterministic check, and try it on real,
    gold-labelled texts first: a 135M model's check is weak.
    """
    named = _labels_by_name(task)
    names = list(named)
    check_labels(names, "the task's labels", distinct=2)
    check_frame(frame, "frame", text_col=text_col, columns={"label_col": label_col}, blank=False)
    unknown = sorted({str(label) for label in frame[label_col]} - set(named))
    if unknown:
        raise ValueError(f"{label_col!r} holds labels the task does not know: {unknown}; the task's labels are {names}")
    bound = {
        "text_type": task.text_type,
        "label_type": task.label_type,
        "label_choice": ", ".join(names[:-1]) + " or " + names[-1],
    }
    prompts = [CHECK.invoke({**bound, "text": text}) for text in frame[text_col]]
    checks = generate(
        constrain(model, label_schema(names)),
        prompts,
        labels=frame[label_col].tolist(),
        parent_ids=frame["id"].tolist() if "id" in frame else None,
        seed=seed,
        parse=label_parser(names),
        method=method,
        progress=progress,
    )
    checks = checks.rename(columns={"judge_label": "check_label"})
    said = [None if pd.isna(name) else named[name] for name in checks["check_label"]]
    checked = frame.copy()
    checked["check_label"] = pd.Series(said, index=frame.index, dtype=object)
    checked["check_agrees"] = pd.Series(
        [None if label is None else label == intended for label, intended in zip(said, frame[label_col])],
        index=frame.index,
        dtype=object,
    )
    return checked, checks


@contextmanager
def _step(name: str) -> Iterator[None]:
    """Name the chain step in the error raised when it failed on every row."""
    try:
        yield
    except GenerationError as error:
        raise GenerationError(
            f"chain step {name!r} failed on every row, so the chain stops there ({error}). The model never "
            "returned parseable output for this step: read one raw answer with model.invoke(prompt), give "
            "the model more max_tokens, or use another model"
        ) from error


def _broken_chains(rows: pd.DataFrame, step: str, method: str) -> pd.DataFrame:
    """The rows of ``step`` that failed, as final rows of their chain: no text, the reason in
    ``error``, and the failed row as parent."""
    failed = rows[rows["error"].notna()]
    return make_records(
        {
            **row,
            "id": new_id(),
            "text": None,
            "method": method,
            "parent_id": row["id"],
            "error": f"{step} step failed: {row['error']}",
        }
        for row in failed.to_dict("records")
    )


def review_chain(
    model: BaseChatModel,
    task: TaskSpec,
    n: int,
    *,
    subject: str = "movie",
    k_aspects: int = 3,
    seed: int = 0,
    title_model: BaseChatModel | None = None,
    check_model: BaseChatModel | None = None,
    method: str = "chain",
    progress: bool = True,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """``n`` texts for ``task`` built in four steps: a title of a ``subject`` for the label (its plain
    name, e.g. "positive"), ``k_aspects`` aspects of that title, the text from title + aspects + label
    (the one-shot prompt of :func:`synthlab.generation.prompts.build_prompts` plus these two conditions), and a
    label self-check (:func:`self_check`).

    Labels cycle through ``task.labels``. Step ``i`` uses seeds ``seed + i * n, ...``; ``title_model``
    (default ``model``) may have a smaller ``max_tokens``, ``check_model`` (default ``model``) a
    temperature of 0. Returns ``(final, steps)``: ``final`` has one row per intended sample (the
    text rows with ``title``, ``aspects``, ``check_label``, ``check_agrees``, then a row with
    ``error`` for every chain that broke at some step); ``steps`` maps each name in :data:`STEPS`
    to that step's records. Raises :class:`synthlab.llm.generate.GenerationError` naming the
    step when a step fails on every row.
    """
    if k_aspects < 1:
        raise ValueError(f"k_aspects must be >= 1; got {k_aspects}")
    labels = label_schedule(n, task.labels)
    _labels_by_name(task)  # fail before any model call, not at the check step
    steps: dict[str, pd.DataFrame] = {}
    common = {"role": task.role or "", "text_type": task.text_type, "subject": subject}
    prompts = [TITLE.invoke({**common, "label": label}) for label in labels]
    with _step("title"):
        steps["title"] = generate(
            title_model or model,
            prompts,
            labels=labels,
            seed=seed,
            parse=extract_title,
            method=f"{method}:title",
            progress=progress,
        )

    titled = steps["title"][steps["title"]["error"].isna()]
    conditions = [{"label": label, "title": title} for label, title in zip(titled["label"], titled["text"])]
    prompts = [ASPECTS.invoke({**common, "k": k_aspects, "title": c["title"], "label": c["label"]}) for c in conditions]
    with _step("aspects"):
        steps["aspects"] = generate(
            model,
            prompts,
            labels=titled["label"].tolist(),
            conditions=conditions,
            parent_ids=titled["id"].tolist(),
            seed=seed + n,
            method=f"{method}:aspects",
            parse=partial(parse_aspects, k=k_aspects),
            progress=progress,
        )

    listed = steps["aspects"][steps["aspects"]["error"].isna()]
    conditions = [
        {"label": p["label"], "title": p["title"], "aspects": aspects}
        for p, aspects in zip(listed["params"], listed["text"])
    ]
    template = task_template(task, conditions=True)
    prompts = [
        template.invoke(
            {
                "label_words": task.verbalizer[c["label"]],
                "conditions": format_conditions({"title": c["title"], "aspects": c["aspects"]}),
            }
        )
        for c in conditions
    ]
    with _step("review"):
        steps["review"] = generate(
            model,
            prompts,
            labels=listed["label"].tolist(),
            conditions=conditions,
            parent_ids=listed["id"].tolist(),
            seed=seed + 2 * n,
            parse=strip_chatter,
            method=method,
            progress=progress,
        )

    reviews = steps["review"][steps["review"]["error"].isna()]
    with _step("check"):
        checked, steps["check"] = self_check(
            check_model or model,
            reviews,
            task,
            seed=seed + 3 * n,
            method=f"{method}:check",
            progress=progress,
        )
    checked["error"] = [None if error is None else f"check step failed: {error}" for error in steps["check"]["error"]]
    failed_reviews = steps["review"][steps["review"]["error"].notna()].assign(
        error=lambda rows: "review step failed: " + rows["error"]
    )
    parts = [
        checked,
        failed_reviews,
        _broken_chains(steps["aspects"], "aspects", method),
        _broken_chains(steps["title"], "title", method),
    ]
    final = pd.concat([part for part in parts if len(part)], ignore_index=True)
    final["title"] = [params.get("title") for params in final["params"]]
    final["aspects"] = [params.get("aspects") for params in final["params"]]
    return make_records(final.to_dict("records")), steps  # one missing-value representation (None)
