"""Automatic annotation (taxonomy G9): the LLM labels real, unlabelled text, and a budget of LLM
calls is spent on the rows worth labelling (selective annotation, LLMaAA; Zhang et al., 2023).

:func:`llm_annotate` labels rows with the judge's prompt and grammar (:mod:`synthlab.evaluation.judge`),
optionally after a few labelled demonstrations. :func:`select_for_annotation` picks the rows to
label: ``"random"``, ``"k-means"`` or ``"vote-k"`` (representative rows), or the rows a small task model is
least sure about (``"max-entropy"``, ``"least-confidence"``). :func:`annotation_loop` runs
LLMaAA's active loop: select, annotate, retrain the task model, repeat.
Taught in ``notebooks/06_automatic_annotation.ipynb``.
"""

from __future__ import annotations

import json
import math
import re
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompt_values import ChatPromptValue
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import pairwise_distances

from synthlab.annotation.labels import (
    JUDGE_PROMPT,
    label_parser,
    label_schema,
)
from synthlab.core.checks import check_frame, check_labels
from synthlab.core.classifiers import train_and_test
from synthlab.core.results import RoundsResult
from synthlab.core.selection import vote_k
from synthlab.llm.chat import constrain
from synthlab.llm.generate import GenerationError, generate, model_name
from synthlab.llm.local import ChatLocalLlama

__all__ = [
    "COLD_STARTS",
    "STRATEGIES",
    "TOP_LOGPROBS",
    "annotation_loop",
    "annotation_prompts",
    "label_confidence",
    "llm_annotate",
    "select_for_annotation",
]

STRATEGIES: tuple[str, ...] = ("random", "max-entropy", "least-confidence", "k-means", "vote-k")


COLD_STARTS: tuple[str, ...] = ("random", "k-means", "vote-k")


TOP_LOGPROBS = 10


def annotation_prompts(
    texts: Sequence[str],
    labels: Sequence[str],
    demos: pd.DataFrame | None = None,
    *,
    text_col: str = "text",
    label_col: str = "label",
) -> list[ChatPromptValue]:
    """The judge's prompt for each text, after one question-and-answer turn per row of ``demos``
    (answers written as the grammar's ``{"label": ...}``). Texts are values, never templates, so
    braces in them are safe."""
    listed = ", ".join(labels)
    turns = []
    for text, label in [] if demos is None else zip(demos[text_col], demos[label_col]):
        question = JUDGE_PROMPT.invoke({"labels": listed, "text": text}).to_messages()[1]
        turns += [question, AIMessage(content=json.dumps({"label": label}))]
    prompts = []
    for text in texts:
        system, question = JUDGE_PROMPT.invoke({"labels": listed, "text": text}).to_messages()
        prompts.append(ChatPromptValue(messages=[system, *turns, question]))
    return prompts


def label_confidence(output: str, logprobs: dict[str, Any] | None, labels: Sequence[str]) -> float | None:
    """Probability of the label named in a ``{"label": ...}`` output, from the token
    log-probabilities where the label's value starts: the mass of alternatives that begin a label,
    normalised over the labels. None when the value does not start on a token boundary or the
    chosen label is not among the ``top_logprobs`` alternatives (not reliable, so not guessed)."""
    found = re.search(r'"label"\s*:\s*"', output)
    if not found or not logprobs:
        return None
    chosen = next((label for label in labels if output.startswith(label, found.end())), None)
    offset = 0
    for entry in logprobs["content"]:
        if offset == found.end():
            mass = dict.fromkeys(labels, 0.0)
            for alternative in entry["top_logprobs"]:
                starts = [label for label in labels if alternative["token"] and label.startswith(alternative["token"])]
                if len(starts) == 1:  # a token that begins two labels says nothing between them
                    mass[starts[0]] += math.exp(alternative["logprob"])
            total = sum(mass.values())
            return mass[chosen] / total if chosen and mass[chosen] > 0 else None
        offset += len(entry["token"])
        if offset > found.end():
            return None
    return None


class _KeepMetadata:
    """A chat runnable that remembers, per thread, the metadata of its last answer, so that a
    ``generate`` parser can read token log-probabilities next to the text."""

    def __init__(self, runnable: Any, model: BaseChatModel) -> None:
        self.runnable, self.model, self.last = runnable, model, threading.local()
        self.model_name = model_name(model)
        self._identifying_params = getattr(model, "_identifying_params", {})

    def invoke(self, prompt: Any, **kwargs: Any) -> Any:
        message = self.runnable.invoke(prompt, **kwargs)
        self.last.metadata = message.response_metadata
        return message


def llm_annotate(
    model: BaseChatModel,
    frame: pd.DataFrame,
    labels: Sequence[str],
    *,
    text_col: str = "text",
    seed: int = 0,
    demos: pd.DataFrame | None = None,
    confidence: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Have ``model`` label every text of ``frame``; return ``frame`` with ``llm_label``,
    ``llm_confidence`` and ``llm_error`` (failed rows keep a None label and the reason).

    ``demos`` (a frame with ``text_col`` and ``label``) are shown first as few-shot turns.
    ``llm_confidence`` is the probability of the chosen label (:func:`label_confidence`) for the
    embedded model with ``confidence=True`` (it asks llama.cpp for log-probabilities, which makes
    each call slower); it is None for other backends, for ``confidence=False`` and where the
    log-probabilities do not pin it down.
    """
    check_labels(labels, "labels", distinct=2)
    check_frame(frame, "frame", text_col=text_col, blank=False)
    if demos is not None and not {text_col, "label"} <= set(demos.columns):
        raise KeyError(f"demos needs columns {text_col!r} and 'label'; it has {list(demos.columns)}")
    annotated = frame.copy()
    if frame.empty:
        return annotated.assign(llm_label=None, llm_confidence=None, llm_error=None)
    with_logprobs = confidence and isinstance(model, ChatLocalLlama)
    bound = constrain(model, label_schema(labels))
    runnable = _KeepMetadata(bound.bind(logprobs=True, top_logprobs=TOP_LOGPROBS) if with_logprobs else bound, model)
    parse_label = label_parser(labels)

    def parse(output: str) -> dict[str, Any]:
        label = parse_label(output)["judge_label"]
        logprobs = getattr(runnable.last, "metadata", {}).get("logprobs")
        return {"llm_label": label, "llm_confidence": label_confidence(output, logprobs, labels)}

    prompts = annotation_prompts(frame[text_col].tolist(), labels, demos, text_col=text_col)
    try:
        rows = generate(
            runnable,
            prompts,
            seed=seed,
            parse=parse,  # type: ignore[arg-type]
            method="annotate",
            progress=progress,
        )
    except GenerationError as error:
        return annotated.assign(llm_label=None, llm_confidence=None, llm_error=str(error))
    for column in ("llm_label", "llm_confidence"):
        values = rows[column].tolist() if column in rows else [None] * len(frame)
        annotated[column] = pd.Series([None if pd.isna(v) else v for v in values], index=frame.index, dtype=object)
    annotated["llm_error"] = pd.Series(rows["error"].tolist(), index=frame.index, dtype=object)
    return annotated


def _uncertainty(scores: np.ndarray, strategy: str) -> np.ndarray:
    if strategy == "max-entropy":
        return -(scores * np.log(np.clip(scores, 1e-12, 1))).sum(axis=1)
    return 1 - scores.max(axis=1)


def _representatives(texts: Sequence[str], budget: int, seed: int) -> list[int]:
    """Positions of the rows nearest each of ``budget`` k-means centroids of the TF-IDF vectors,
    one distinct row per centroid."""
    vectors = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    with warnings.catch_warnings():  # fewer distinct texts than clusters: k-means still ends
        warnings.simplefilter("ignore")
        kmeans = KMeans(n_clusters=budget, random_state=seed, n_init=3).fit(vectors)
    distances = pairwise_distances(kmeans.cluster_centers_, vectors)
    picked: list[int] = []
    for row in distances:
        picked.append(next(int(i) for i in np.argsort(row, kind="stable") if int(i) not in picked))
    return picked


def select_for_annotation(
    frame: pd.DataFrame,
    budget: int,
    strategy: str,
    *,
    text_col: str = "text",
    seed: int = 0,
    scores: np.ndarray | None = None,
) -> pd.DataFrame:
    """The ``budget`` rows of ``frame`` to send to the annotator, by ``strategy``: ``"random"``;
    ``"k-means"`` (TF-IDF + k-means with k = budget, the row nearest each centroid);
    ``"vote-k"`` (Su et al.'s graph vote, :func:`synthlab.core.selection.vote_k`: diverse, representative rows);
    ``"max-entropy"`` or ``"least-confidence"`` (the rows whose class probabilities ``scores``,
    one row per row of ``frame``, are most uncertain; ties go to the earlier row).

    >>> select_for_annotation(pool, 8, "max-entropy", scores=task_model.predict_proba(pool["text"]))  # doctest: +SKIP
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; use one of {list(STRATEGIES)}")
    if frame.empty:
        raise ValueError("the pool is empty: there is nothing left to select for annotation")
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be an integer >= 1; got {budget!r}")
    if budget > len(frame):
        raise ValueError(f"budget {budget} is larger than the pool ({len(frame)} rows); lower it or add rows")
    if strategy == "random":
        positions = np.random.default_rng(seed).permutation(len(frame))[:budget]
    elif strategy == "k-means":
        positions = np.array(_representatives(frame[text_col].tolist(), budget, seed))
    elif strategy == "vote-k":
        positions = np.array(vote_k(frame[text_col].tolist(), budget))
    else:
        if scores is None:
            raise ValueError(
                f"strategy {strategy!r} needs scores (class probabilities from a task model); "
                "start with 'random' or 'k-means' while nothing is labelled"
            )
        scores = np.asarray(scores, dtype=float)
        if scores.ndim != 2 or len(scores) != len(frame):
            raise ValueError(
                f"scores must have one row of class probabilities per row of frame "
                f"({len(frame)}); got shape {scores.shape}"
            )
        positions = np.argsort(-_uncertainty(scores, strategy), kind="stable")[:budget]
    return frame.iloc[positions]


def _task_round(
    annotated: pd.DataFrame, pool: pd.DataFrame, test: pd.DataFrame, text_col: str, label_col: str, seed: int
) -> tuple[float, np.ndarray | None]:
    """Test accuracy of the task model trained on the LLM labels so far, and its class
    probabilities on ``pool`` (None when it cannot rank: no labels, or one class only)."""
    train = annotated[annotated["llm_label"].notna()]
    if train.empty:
        return float("nan"), None
    if train["llm_label"].nunique() < 2:  # a classifier of one class predicts it everywhere
        return float((test[label_col] == train["llm_label"].iloc[0]).mean()), None
    result = train_and_test(
        train.assign(**{label_col: train["llm_label"]}),
        test,
        text_col=text_col,
        label_col=label_col,
        seed=seed,
    )
    scores = result.classifier.predict_proba(pool[text_col].tolist()) if len(pool) else None
    return result.accuracy, scores


def annotation_loop(
    model: BaseChatModel,
    pool: pd.DataFrame,
    test: pd.DataFrame,
    labels: Sequence[str],
    *,
    budget_per_round: int,
    rounds: int,
    strategy: str,
    cold_start: str = "random",
    demos: pd.DataFrame | None = None,
    text_col: str = "text",
    label_col: str = "label",
    seed: int = 0,
    progress: bool = True,
) -> RoundsResult:
    """LLMaAA's loop: each round select ``budget_per_round`` unlabelled rows of ``pool``, have
    the LLM annotate them, train the task model (TF-IDF + logistic regression) on every LLM label
    so far and score it on ``test``. ``pool``'s gold ``label_col`` is used only to score the LLM.

    Returns a :class:`synthlab.core.results.RoundsResult`: the ``table``, one row per round: ``budget_spent`` (LLM
    calls so far), ``labelled`` (calls that gave a label), ``llm_accuracy`` (LLM labels vs gold, over the rows
    annotated so far), ``task_accuracy`` and ``selected_by`` (uncertainty strategies use ``cold_start`` until the
    task model knows two classes), and the annotated ``rows`` (``llm_label``, ``llm_confidence``, ``llm_error``). A
    model that never gives a label leaves NaN accuracies and warns.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; use one of {list(STRATEGIES)}")
    if cold_start not in COLD_STARTS:
        raise ValueError(f"cold_start must be one of {list(COLD_STARTS)}; got {cold_start!r}")
    if len(set(labels)) < 2:
        raise ValueError(f"labels needs at least two distinct labels to choose from; got {list(labels)}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1; got {rounds}")
    if budget_per_round * rounds > len(pool):
        raise ValueError(
            f"{rounds} rounds x {budget_per_round} rows need {budget_per_round * rounds} rows, "
            f"but the pool has {len(pool)}; lower the budget or the rounds"
        )
    annotated = pool.iloc[:0].assign(llm_label=None, llm_confidence=None, llm_error=None)
    unlabelled, scores, history = pool, None, []
    for round_ in range(1, rounds + 1):
        how = strategy if strategy in COLD_STARTS or scores is not None else cold_start
        chosen = select_for_annotation(
            unlabelled, budget_per_round, how, text_col=text_col, seed=seed + round_, scores=scores
        )
        fresh = llm_annotate(
            model,
            chosen,
            labels,
            text_col=text_col,
            seed=seed,
            demos=demos,
            confidence=False,
            progress=progress,
        )
        annotated = pd.concat([annotated, fresh])
        unlabelled = unlabelled.drop(index=chosen.index)
        task_accuracy, scores = _task_round(annotated, unlabelled, test, text_col, label_col, seed)
        answered = annotated[annotated["llm_label"].notna()]
        correct = answered["llm_label"] == answered[label_col]
        history.append(
            {
                "strategy": strategy,
                "round": round_,
                "selected_by": how,
                "budget_spent": len(annotated),
                "labelled": len(answered),
                "llm_accuracy": float(correct.mean()) if len(answered) else float("nan"),
                "task_accuracy": task_accuracy,
            }
        )
    table = pd.DataFrame(history)
    if table["labelled"].iloc[-1] == 0:
        warnings.warn(
            f"the model gave no parseable label in {len(annotated)} calls; the first error was: "
            f"{annotated['llm_error'].iloc[0]}",
            UserWarning,
            stacklevel=2,
        )
    return RoundsResult(table, annotated)
