"""Complex task decomposition (taxonomy F1): a generation graph that plans sub-tasks, writes each one,
assembles the parts and checks the result.

A multi-aspect review is a complex sample: it should cover several planned sub-topics *and* keep one
label. Notebook 03's chain (:func:`synthlab.generation.chains.review_chain`) decomposes *one* sample into a title,
aspects and a review written in one call; here the **plan** itself drives generation, as in the survey's
outlook on agent-style generation (Long et al., 2024, section 4; plan-and-solve prompting, Wang et al.,
2023): a planner picks ``k`` aspects per review (a seeded plan template, or the model itself), one call
writes each aspect's sentence, the sentences are assembled in plan order, and a small classifier checks
the label and which planned aspects the review mentions. The graph is plain LangChain runnables,
``plan | write | assemble | check``, each node a :class:`~langchain_core.runnables.RunnableLambda` over a
batch state dict; a :class:`~langchain_core.runnables.RunnableBranch` falls back to the plan template for
every review whose model plan did not parse. :func:`one_shot_with_plan` is the baseline: the same plans,
one call per review.

>>> graph = plan_graph(model, aspects=ATTRIBUTES["aspect"], k=3)            # doctest: +SKIP
>>> state = graph.invoke({"n": 10, "seed": 0}); state["reviews"]              # doctest: +SKIP

Taught in ``notebooks/30_task_decomposition_and_knowledge.ipynb``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda

from synthlab.core.classifiers import TrainTestResult
from synthlab.core.parsing import strip_chatter
from synthlab.core.records import make_records
from synthlab.evaluation.downstream import oracle_agreement
from synthlab.generation.chains import parse_aspects
from synthlab.generation.prompts import label_schedule
from synthlab.generation.tasks import LABELS, SYSTEM
from synthlab.llm.generate import generate

__all__ = [
    "ONE_SHOT",
    "PART",
    "PLAN",
    "aspect_coverage",
    "check_reviews",
    "one_shot_with_plan",
    "plan_graph",
    "template_plans",
]

PLAN = ChatPromptTemplate.from_messages(
    [
        ("system", SYSTEM),
        (
            "human",
            (
                "List {k} aspects of a movie that a {label} review would talk about. Write one per line, "
                "numbered, one or two words each."
            ),
        ),
    ]
)


PART = ChatPromptTemplate.from_messages(
    [
        ("system", SYSTEM),
        (
            "human",
            ("Write one sentence of a {label} movie review about the movie's {aspect}. Reply with the sentence only."),
        ),
    ]
)


ONE_SHOT = ChatPromptTemplate.from_messages(
    [
        ("system", SYSTEM),
        (
            "human",
            (
                "Write a {label} review of a movie in {k} sentences: one about its {aspect_list}. Reply with "
                "the review only."
            ),
        ),
    ]
)


def _check_plan_args(n: int, k: int, aspects: Sequence[str]) -> None:
    if n < 1 or k < 1:
        raise ValueError(f"n and k must be >= 1; got n={n}, k={k}")
    if isinstance(aspects, str) or len(set(aspects)) < k:
        raise ValueError(f"aspects must be a list of at least k={k} distinct aspects to plan from; got {aspects!r}")


def template_plans(
    n: int, aspects: Sequence[str], *, k: int = 3, labels: Sequence[str] = LABELS, seed: int = 0
) -> pd.DataFrame:
    """The plan template: ``n`` reviews (labels cycling through ``labels``), each with ``k`` distinct
    aspects drawn with ``seed`` from ``aspects``. Columns ``label``, ``plan`` (a list), ``plan_source``."""
    _check_plan_args(n, k, aspects)
    rng = random.Random(seed)
    return pd.DataFrame(
        {
            "label": label_schedule(n, labels),
            "plan": [rng.sample(list(dict.fromkeys(aspects)), k) for _ in range(n)],
            "plan_source": "template",
        }
    )


def _model_plans(
    model: BaseChatModel, state: dict[str, Any], *, k: int, labels: Sequence[str], progress: bool
) -> dict[str, Any]:
    n, seed = state["n"], state.get("seed", 0)
    chosen = label_schedule(n, labels)
    rows = generate(
        model,
        [PLAN.invoke({"k": k, "label": label}) for label in chosen],
        labels=chosen,
        seed=seed,
        parse=partial(parse_aspects, k=k),
        method="plan:plan",
        progress=progress,
    )
    plans = [None if error is not None else text.split("; ") for text, error in zip(rows["text"], rows["error"])]
    return {**state, "plans": pd.DataFrame({"label": chosen, "plan": plans, "plan_source": "model"})}


def _fill_failed_plans(
    state: dict[str, Any], *, aspects: Sequence[str], k: int, labels: Sequence[str]
) -> dict[str, Any]:
    plans = state["plans"].copy()
    fallback = template_plans(len(plans), aspects, k=k, labels=labels, seed=state.get("seed", 0))
    failed = plans["plan"].isna()
    plans.loc[failed, "plan"] = fallback.loc[failed, "plan"]
    plans.loc[failed, "plan_source"] = "template (model plan failed)"
    return {**state, "plans": plans}


def _write_parts(model: BaseChatModel, state: dict[str, Any], *, progress: bool) -> dict[str, Any]:
    plans, seed = state["plans"], state.get("seed", 0)
    jobs = [
        (review, label, aspect)
        for review, (label, plan) in enumerate(zip(plans["label"], plans["plan"]))
        for aspect in plan
    ]
    prompts = [PART.invoke({"label": label, "aspect": aspect}) for _, label, aspect in jobs]
    parts = generate(
        model,
        prompts,
        labels=[label for _, label, _ in jobs],
        conditions=[{"review": review, "aspect": aspect} for review, _, aspect in jobs],
        seed=seed + len(plans),
        parse=strip_chatter,
        method="plan:part",
        progress=progress,
    )
    parts["review"] = [review for review, _, _ in jobs]
    return {**state, "parts": parts}


def _assemble(state: dict[str, Any], *, method: str) -> dict[str, Any]:
    """One review per plan: its parts that parsed, in plan order; a review none of whose parts parsed
    keeps the reason in ``error``."""
    parts, rows = state["parts"], []
    for review, plan in enumerate(state["plans"].to_dict("records")):
        mine = parts[parts["review"] == review]
        good = mine[mine["error"].isna()]
        rows.append(
            {
                "text": " ".join(good["text"]) if len(good) else None,
                "label": plan["label"],
                "method": method,
                "params": {"plan": plan["plan"], "plan_source": plan["plan_source"]},
                "parts_ok": len(good),
                "parts_planned": len(plan["plan"]),
                "error": None if len(good) else f"every part failed: {mine['error'].iloc[0]}",
            }
        )
    return {**state, "reviews": make_records(rows)}


def aspect_coverage(texts: Sequence[Any], plans: Sequence[Sequence[str]]) -> pd.Series:
    """The share of each row's planned aspects that its text names (case-insensitive, whole words; a
    plural "characters" also counts for "character"). Rows without a text score NaN."""
    if len(texts) != len(plans):
        raise ValueError(f"texts and plans must align: {len(texts)} texts, {len(plans)} plans")
    scores = []
    for text, plan in zip(texts, plans):
        if not isinstance(text, str) or not plan:
            scores.append(float("nan"))
            continue
        found = [re.search(rf"\b{re.escape(aspect.lower().rstrip('s'))}s?\b", text.lower()) for aspect in plan]
        scores.append(sum(hit is not None for hit in found) / len(plan))
    return pd.Series(scores, dtype=float, name="aspect_coverage")


def check_reviews(reviews: pd.DataFrame, checker: TrainTestResult | Any) -> pd.DataFrame:
    """The graph's check node: ``reviews`` plus ``aspect_coverage`` of the plan in ``params`` and, for rows
    with a text, ``check_label`` (the label a small classifier, e.g. an oracle trained on real data,
    predicts) and ``check_agrees``. Rows are flagged, not dropped."""
    checked = reviews.copy()
    checked["aspect_coverage"] = aspect_coverage(
        checked["text"].tolist(), [params.get("plan", []) for params in checked["params"]]
    ).to_numpy()
    has_text = checked["text"].map(lambda text: isinstance(text, str) and bool(text.strip()))
    predicted = oracle_agreement(checker, checked[has_text])["predicted"] if has_text.any() else pd.Series(dtype=object)
    said = [predicted.get(index) for index in checked.index]
    checked["check_label"] = pd.Series(said, index=checked.index, dtype=object)
    checked["check_agrees"] = pd.Series(
        [None if label is None else label == intended for label, intended in zip(said, checked["label"])],
        index=checked.index,
        dtype=object,
    )
    return checked


def plan_graph(
    model: BaseChatModel,
    *,
    aspects: Sequence[str],
    k: int = 3,
    planner: str = "template",
    labels: Sequence[str] = LABELS,
    checker: TrainTestResult | Any | None = None,
    plan_model: BaseChatModel | None = None,
    method: str = "plan:assembled",
    progress: bool = True,
) -> Runnable:
    """The F1 graph ``plan | write | assemble | check`` as one LangChain runnable. Invoke it with
    ``{"n": n, "seed": seed}``; it returns that state plus ``plans`` (``label``, ``plan``, ``plan_source``),
    ``parts`` (one record per planned aspect, seeds from ``seed + n``) and ``reviews`` (one record per
    plan with ``parts_ok``/``parts_planned``; with a ``checker``, also the columns of :func:`check_reviews`).

    ``planner="template"`` draws ``k`` of ``aspects`` per review (no model call); ``"model"`` asks
    ``plan_model`` (default ``model``) for ``k`` aspects (:data:`PLAN`, seeds ``seed, ...``) and falls
    back to the template for every plan that did not parse. Cost: ``n * k`` calls, plus ``n`` to plan.
    """
    if planner not in ("template", "model"):
        raise ValueError(f"planner must be 'template' or 'model'; got {planner!r}")
    _check_plan_args(1, k, aspects)

    def template(state: dict[str, Any]) -> dict[str, Any]:
        if state.get("n", 0) < 1:
            raise ValueError(f"invoke the graph with {{'n': n >= 1, 'seed': seed}}; got {state!r}")
        return {
            **state,
            "plans": template_plans(state["n"], aspects, k=k, labels=labels, seed=state.get("seed", 0)),
        }

    if planner == "template":
        plan: Runnable = RunnableLambda(template, name="plan")
    else:
        plan = RunnableLambda(
            partial(_model_plans, plan_model or model, k=k, labels=labels, progress=progress), name="plan"
        ) | (
            RunnableBranch(
                (
                    lambda state: state["plans"]["plan"].isna().any(),
                    RunnableLambda(
                        partial(_fill_failed_plans, aspects=aspects, k=k, labels=labels),
                        name="template fallback",
                    ),
                ),
                RunnableLambda(lambda state: state),
            )
        )
    graph = (
        plan
        | RunnableLambda(partial(_write_parts, model, progress=progress), name="write")
        | RunnableLambda(partial(_assemble, method=method), name="assemble")
    )
    if checker is not None:
        graph = graph | RunnableLambda(
            lambda state: {**state, "reviews": check_reviews(state["reviews"], checker)}, name="check"
        )
    return graph


def one_shot_with_plan(
    model: BaseChatModel,
    plans: pd.DataFrame,
    *,
    seed: int = 0,
    method: str = "plan:one-shot",
    progress: bool = True,
) -> pd.DataFrame:
    """The baseline for :func:`plan_graph`: each plan (``label``, ``plan``) written in one call that asks
    for one sentence per planned aspect (:data:`ONE_SHOT`); row ``r`` has seed ``seed + r``. The plan is
    kept in ``params["plan"]`` so :func:`check_reviews` scores both the same way."""
    if plans.empty or not {"label", "plan"} <= set(plans.columns):
        raise ValueError("plans needs rows with 'label' and 'plan' columns, e.g. template_plans(n, aspects)")
    prompts = [
        ONE_SHOT.invoke({"label": label, "k": len(plan), "aspect_list": ", one about its ".join(plan)})
        for label, plan in zip(plans["label"], plans["plan"])
    ]
    return generate(
        model,
        prompts,
        labels=plans["label"].tolist(),
        conditions=[{"plan": p} for p in plans["plan"]],
        seed=seed,
        parse=strip_chatter,
        method=method,
        progress=progress,
    )
