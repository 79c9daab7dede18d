"""In-context demonstrations: where they come from (taxonomy G4) and which ones a prompt shows (G5).

The survey's prompt is ``p = E(e_task, e_condition, e_demo)`` (Long et al., 2024); this module
fills ``e_demo``.

- Acquisition (G4): a *pool* of labelled ``(text, label)`` rows, either real seed rows (any
  labelled frame, e.g. the ``seed`` split of ``rotten_tomatoes``) or rows the model wrote
  itself zero-shot (:func:`self_generated_pool`; Self-Instruct, Wang et al., 2023; Self-Prompt).
- Selection (G5, :func:`select_demos`): ``k`` rows per label from the pool, at ``"random"``;
  ``"nearest"`` to an anchor text by TF-IDF cosine (KATE, Liu et al., 2022); ``"vote-k"``, diverse
  and representative rows of a kNN graph (Su et al., 2022); or ``"feedback"``, the rows a small task
  model finds most helpful on real validation data (:func:`helpfulness`; ProGen, Ye et al., 2022).
- Generation (:func:`generate_with_demos`): one demo set serves all ``n`` prompts of a call, so
  llama.cpp reuses the evaluated demo prefix; demos that overflow the context window are dropped
  from the end with a warning (:func:`fit_demos_to_context`). Each row's ``params`` records the
  ids and texts of its demos, so the copy rate (:func:`copy_scores`) can be read off the rows.
- Rounds (:func:`synthlab.generation.demo_rounds.demo_rounds`): select, generate, add to the synthetic
  training set, retrain the small classifier and score it on real test data, round after round.

>>> demos = select_demos(seed_rows, 2, "vote-k")                        # doctest: +SKIP
>>> rows = generate_with_demos(model, TaskSpec(), demos, 16, seed=0)   # doctest: +SKIP

Taught in ``notebooks/02_in_context_demonstrations.ipynb``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.core.checks import check_column, check_frame
from synthlab.core.classifiers import train_and_test
from synthlab.core.parsing import clean_text
from synthlab.core.selection import tfidf_vectors, vote_k
from synthlab.core.text import max_rouge_l
from synthlab.curation.filters import drop_exact_duplicates, drop_malformed
from synthlab.generation.prompts import TaskSpec, build_prompts
from synthlab.llm.generate import generate

__all__ = [
    "STRATEGIES",
    "copy_scores",
    "demo_parser",
    "demo_prompts",
    "fit_demos_to_context",
    "generate_with_demos",
    "helpfulness",
    "Parser",
    "select_demos",
    "self_generated_pool",
]

STRATEGIES: tuple[str, ...] = ("random", "nearest", "vote-k", "feedback")
Parser = Callable[[str], Mapping[str, Any]]


def demo_parser(task: TaskSpec) -> Parser:
    """A ``parse`` function for replies to prompts with demonstrations. Small models often continue
    the demo list ("4. movie review: ... \\n sentiment: positive"): the list number, the
    ``text_type:`` prefix and everything from a ``label_type:`` line on are cut, then
    :func:`synthlab.core.parsing.clean_text` removes the usual chatter."""
    label_line = re.compile(rf"\n\s*(?:\d+\.\s*)?{re.escape(task.label_type)}\s*:.*$", re.IGNORECASE | re.DOTALL)
    prefix = re.compile(rf"^\s*(?:\d+\.\s*)?(?:{re.escape(task.text_type)}\s*:\s*)?", re.IGNORECASE)

    def parse(output: str) -> dict[str, Any]:
        return {"text": clean_text(prefix.sub("", label_line.sub("", output), count=1))}

    return parse


def self_generated_pool(
    model: BaseChatModel,
    task: TaskSpec,
    n: int,
    *,
    seed: int = 0,
    parse: Parser | None = None,
    method: str = "self-generated",
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Self-generated demonstrations (G4): the model writes ``n`` rows zero-shot from the task
    specification (labels balanced); malformed rows and exact duplicates are removed and the rest
    is the pool. Returns ``(pool, removed)``; raises ``ValueError`` when nothing usable is left."""
    prompts, labels, conditions = build_prompts(task, n, seed=seed)
    rows = generate(
        model,
        prompts,
        labels=labels,
        conditions=conditions,
        seed=seed,
        parse=parse or demo_parser(task),
        method=method,
        progress=progress,
    )
    well_formed, malformed = drop_malformed(rows)
    pool, duplicates = drop_exact_duplicates(well_formed) if len(well_formed) else (well_formed, malformed.iloc[:0])
    removed = pd.concat([malformed, duplicates], ignore_index=True)
    if pool.empty:
        raise ValueError(
            f"the model wrote no usable row in {n} tries (first reason: {removed['reason'].iloc[0]}); "
            "use real seed demos, a larger n or another model"
        )
    return pool, removed


def _check_pool(
    pool: pd.DataFrame, k_per_label: int, labels: Sequence[Any] | None, text_col: str, label_col: str
) -> list[Any]:
    """The labels to select for, after checking that ``pool`` has ``k_per_label`` rows of each."""
    why = "pass labelled rows (real seeds, or self_generated_pool(...)) to draw demonstrations from"
    check_frame(pool, "pool", text_col=text_col, columns={"label_col": label_col}, blank=False, hint=why)
    if isinstance(k_per_label, bool) or not isinstance(k_per_label, (int, np.integer)) or k_per_label < 1:
        raise ValueError(f"k_per_label must be an integer >= 1; got {k_per_label!r}")
    counts = pool[label_col].value_counts()
    wanted = list(labels) if labels is not None else sorted(counts.index.tolist(), key=str)
    if len(set(wanted)) < 2:
        raise ValueError(
            f"demonstrations need at least two labels, but the pool's label set is {wanted}; "
            "add rows of the other class(es) so the model sees what separates them"
        )
    short = {label: int(counts.get(label, 0)) for label in wanted if counts.get(label, 0) < k_per_label}
    if short:
        raise ValueError(
            f"the pool has fewer than k_per_label={k_per_label} rows for label(s) {short}; "
            "lower k_per_label or add rows of those labels"
        )
    return wanted


def helpfulness(
    rows: pd.DataFrame,
    validation: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    seed: int = 0,
) -> pd.Series:
    """How much each training row helps on real validation data (ProGen's feedback, Ye et al.,
    2022), as a TracIn score (Pruthi et al., 2020): fit TF-IDF + logistic regression on ``rows``;
    a row's score is the dot product of the gradient of its log-loss with the gradient of the
    validation log-loss. Positive: a gradient step on the row lowers the validation loss;
    negative (say, a text whose label is wrong): it raises it. Each validation label weighs the
    same in that loss, so a score does not merely echo the validation set's label balance.
    Aligned to ``rows.index``."""
    check_column(validation, text_col, "text_col", frame_name="validation")
    fitted = train_and_test(rows, validation, text_col=text_col, label_col=label_col, seed=seed).classifier
    vectorizer, classifier = fitted[:-1], fitted[-1]
    classes = list(classifier.classes_)

    def residuals(frame: pd.DataFrame) -> tuple[Any, np.ndarray]:
        features = vectorizer.transform(frame[text_col].tolist())
        one_hot = np.array([[label == c for c in classes] for label in frame[label_col]], dtype=float)
        return features, classifier.predict_proba(features) - one_hot

    features, residual = residuals(rows)
    val_features, val_residual = residuals(validation)
    labels = validation[label_col]
    val_residual *= (1 / (labels.nunique() * labels.map(labels.value_counts()))).to_numpy()[:, None]
    # d loss / d (weights of class c, intercept) = residual_c * (x, 1); weighted sum over validation rows:
    val_gradient = np.asarray((val_features.T @ val_residual).T)  # classes x features
    dot = np.asarray(features @ val_gradient.T) + val_residual.sum(axis=0)  # rows x classes
    return pd.Series((residual * dot).sum(axis=1), index=rows.index, name="helpfulness")


def select_demos(
    pool: pd.DataFrame,
    k_per_label: int,
    strategy: str = "random",
    *,
    labels: Sequence[Any] | None = None,
    anchor: str | None = None,
    validation: pd.DataFrame | None = None,
    n_neighbors: int = 5,
    discount: float = 10.0,
    seed: int = 0,
    text_col: str = "text",
    label_col: str = "label",
) -> pd.DataFrame:
    """``k_per_label`` demonstrations per label from ``pool`` (G5), interleaved label by label
    (so dropping demos from the end keeps them balanced), by ``strategy``:

    - ``"random"``: drawn with ``seed``;
    - ``"nearest"``: highest TF-IDF cosine to ``anchor``, a real text like the data wanted (KATE);
    - ``"vote-k"``: per label, a kNN-graph vote (Su et al., 2022): every row votes for its
      ``n_neighbors`` nearest, a vote divided by ``discount`` for each of the voter's neighbours
      already chosen; representative rows that do not crowd one region;
    - ``"feedback"``: highest :func:`helpfulness` on ``validation`` (ProGen).

    ``labels`` (default: the pool's) fixes which labels, in which order; an empty pool, a single
    label, or fewer than ``k_per_label`` rows of a label raise ``ValueError``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; use one of {list(STRATEGIES)}")
    wanted = _check_pool(pool, k_per_label, labels, text_col, label_col)
    if strategy == "nearest" and not (isinstance(anchor, str) and anchor.strip()):
        raise ValueError("strategy 'nearest' needs anchor=, a real text the demos should be similar to")
    if strategy == "feedback" and validation is None:
        raise ValueError("strategy 'feedback' needs validation=, real labelled rows to measure helpfulness on")
    texts, score = pool[text_col].tolist(), None
    if strategy == "nearest":
        vectors = tfidf_vectors([*texts, anchor])
        score = (vectors[:-1] @ vectors[-1].T).toarray().ravel()
    elif strategy == "feedback":
        score = helpfulness(pool, validation, text_col=text_col, label_col=label_col, seed=seed).to_numpy()
    rng = np.random.default_rng(seed)
    picks = []
    for label in wanted:
        positions = np.flatnonzero((pool[label_col] == label).to_numpy())
        if strategy == "random":
            order = rng.permutation(positions)
        elif strategy == "vote-k":
            order = positions[
                vote_k([texts[p] for p in positions], k_per_label, n_neighbors=n_neighbors, discount=discount)
            ]
        else:
            order = positions[np.argsort(-score[positions], kind="stable")]
        picks.append(order[:k_per_label])
    return pool.iloc[[int(group[i]) for i in range(k_per_label) for group in picks]]


def _demo_ids(demos: pd.DataFrame) -> list[Any]:
    """Record ids for synthetic demos, index labels for real ones (plain Python values)."""
    ids = demos["id"] if "id" in demos.columns else demos.index.to_series()
    return [value.item() if hasattr(value, "item") else value for value in ids]


def fit_demos_to_context(
    model: BaseChatModel,
    task: TaskSpec,
    demos: pd.DataFrame,
    *,
    context_window: int | None = None,
    text_col: str = "text",
    label_col: str = "label",
) -> pd.DataFrame:
    """``demos`` without the trailing ones that do not fit: the longest prompt (over the task's
    labels) plus the reply's ``max_tokens`` must fit in ``context_window`` (default: the model's
    ``n_ctx``; no check when neither is known). Prompt tokens are counted exactly with
    ``model.get_num_tokens_from_messages``. Dropping warns with how many were dropped; if even
    the first demo does not fit, ``ValueError``."""
    window = context_window if context_window is not None else getattr(model, "n_ctx", None)
    if window is None:
        return demos
    reply = int(getattr(model, "max_tokens", 0) or 0)

    def prompt_tokens(frame: pd.DataFrame) -> int:
        pairs = list(zip(frame[text_col], frame[label_col]))
        prompts, _, _ = build_prompts(task, len(task.labels), demos=pairs)
        return max(model.get_num_tokens_from_messages(prompt.to_messages()) for prompt in prompts)

    kept = demos
    while (needed := prompt_tokens(kept)) + reply > window:
        if len(kept) == 1:
            raise ValueError(
                f"even one demonstration makes a prompt of {needed} tokens, which with max_tokens="
                f"{reply} exceeds the context window of {window}; shorten the demos (or pick "
                "shorter ones) or use a model with a larger n_ctx"
            )
        kept = kept.iloc[:-1]
    if len(kept) < len(demos):
        warnings.warn(
            f"dropped {len(demos) - len(kept)} of {len(demos)} demonstrations from the end: with all "
            f"of them the prompt plus max_tokens={reply} exceeds the context window of {window} tokens",
            UserWarning,
            stacklevel=2,
        )
    return kept


def demo_prompts(
    model: BaseChatModel,
    task: TaskSpec,
    demos: pd.DataFrame,
    n: int,
    *,
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    context_window: int | None = None,
    text_col: str = "text",
    label_col: str = "label",
) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
    """The ``(prompts, labels, conditions)`` of :func:`generate_with_demos`, for a caller that generates them
    itself (say, :func:`synthlab.generation.attrition.generate_until`): every prompt shows ``demos`` (fitted to the
    context window), and every condition dict holds ``demo_ids``, ``demo_texts`` and any extra ``params``."""
    demos = fit_demos_to_context(
        model, task, demos, context_window=context_window, text_col=text_col, label_col=label_col
    )
    pairs = list(zip(demos[text_col], demos[label_col]))
    prompts, labels, conditions = build_prompts(task, n, demos=pairs, seed=seed)
    provenance = {**(params or {}), "demo_ids": _demo_ids(demos), "demo_texts": demos[text_col].tolist()}
    return prompts, labels, [{**condition, **provenance} for condition in conditions]


def generate_with_demos(
    model: BaseChatModel,
    task: TaskSpec,
    demos: pd.DataFrame,
    n: int,
    *,
    seed: int = 0,
    parse: Parser | None = None,
    method: str = "demos",
    generation_round: int = 0,
    params: Mapping[str, Any] | None = None,
    context_window: int | None = None,
    text_col: str = "text",
    label_col: str = "label",
    progress: bool = True,
) -> pd.DataFrame:
    """``n`` rows (labels balanced) from prompts that all show the same ``demos`` (G4), so the
    demo prefix is evaluated once. Demos are first fitted to the context window
    (:func:`fit_demos_to_context`). Each row's ``params`` hold ``demo_ids``, ``demo_texts`` and
    any extra ``params`` (say, the selection strategy); ``parse`` defaults to :func:`demo_parser`."""
    prompts, labels, conditions = demo_prompts(
        model, task, demos, n, seed=seed, params=params, context_window=context_window,
        text_col=text_col, label_col=label_col,
    )  # fmt: skip
    return generate(
        model,
        prompts,
        labels=labels,
        conditions=conditions,
        seed=seed,
        parse=parse or demo_parser(task),
        method=method,
        generation_round=generation_round,
        progress=progress,
    )


def copy_scores(records: pd.DataFrame) -> pd.Series:
    """Each row's copy score: its max ROUGE-L to the demos of its own prompt
    (:func:`synthlab.core.text.max_rouge_l` against ``params["demo_texts"]``). Rows without a text
    score NaN; the copy rate is ``(scores >= 0.7).mean()``."""
    scores = []
    for text, params in zip(records["text"], records["params"]):
        demos = params.get("demo_texts") if isinstance(params, Mapping) else None
        if not demos:
            raise ValueError(
                "a row has no params['demo_texts']; copy scores need rows made by generate_with_demos "
                "(for zero-shot rows compare with synthlab.core.text.max_rouge_l against chosen texts)"
            )
        scores.append(max_rouge_l([text], demos)[0] if isinstance(text, str) else np.nan)
    return pd.Series(scores, index=records.index, name="copy_score", dtype=float)
