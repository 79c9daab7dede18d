"""A label refinery (taxonomy C6): FreeAL's collaboration of an LLM annotator and a small model.

FreeAL (Xiao et al., 2023, "FreeAL: Towards Human-Free Active Learning in the Era of Large Language
Models"): the LLM labels the rows; a small model trained on those labels picks, per label, the rows
it finds easiest to fit (*small-loss selection*, :func:`small_loss_selection`, cross-fitted with
:mod:`synthlab.core.crossfit`), which are probably labelled right; that clean subset becomes the LLM's
demonstrations (the most similar clean rows of each label, :func:`nearest_demos`) to relabel the
rest; repeat for a fixed number of rounds (:func:`freeal`). No human label is used; gold labels, when
known, only score each round. Taught in ``notebooks/15_auxiliary_models.ipynb``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity
from tqdm.auto import tqdm

from synthlab.annotation.llm import llm_annotate
from synthlab.core.checks import check_column, check_frame, check_labels
from synthlab.core.crossfit import label_loss, out_of_fold_proba

__all__ = ["freeal", "FreeALResult", "nearest_demos", "small_loss_selection"]


def small_loss_selection(
    frame: pd.DataFrame,
    *,
    share: float = 0.5,
    text_col: str = "text",
    label_col: str = "label",
    n_splits: int = 3,
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
) -> pd.Series:
    """FreeAL's clean subset: for each label, the ``ceil(share * n)`` of its ``n`` rows with the lowest
    cross-fitted loss on their label (``n_splits`` folds, fewer when a label has fewer rows). A boolean
    Series aligned with ``frame`` (True = clean). Raises when a label has fewer than two rows."""
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1]; got {share}")
    counts = frame[label_col].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise ValueError(
            f"small-loss selection needs two labels with two rows or more each; the labels are "
            f"{counts.to_dict()}. Label more rows, or list the labels in another order if the "
            "annotator names one label only"
        )
    proba = out_of_fold_proba(
        frame,
        text_col=text_col,
        label_col=label_col,
        classifier=classifier,
        seed=seed,
        n_splits=min(n_splits, int(counts.min())),
    )
    loss = label_loss(proba, frame[label_col])
    clean = pd.Series(False, index=frame.index, name="clean")
    for _, group in loss.groupby(frame[label_col]):
        clean[group.sort_values(kind="stable").index[: math.ceil(share * len(group))]] = True
    return clean


def nearest_demos(
    text: str,
    pool: pd.DataFrame,
    labels: Sequence[str],
    *,
    n_per_label: int = 1,
    text_col: str = "text",
    label_col: str = "label",
    max_words: int = 20,
    vectorizer: TfidfVectorizer | None = None,
) -> pd.DataFrame:
    """Demonstrations for one ``text``: the ``n_per_label`` rows of ``pool`` most similar to it
    (TF-IDF cosine) for each label in ``labels`` order, texts cut to ``max_words`` words to keep
    prompts short, with their labels in a ``label`` column (what :func:`llm_annotate` reads)."""
    vectorizer = vectorizer or TfidfVectorizer(sublinear_tf=True).fit([text, *pool[text_col]])
    similarity = pd.Series(
        cosine_similarity(vectorizer.transform([text]), vectorizer.transform(pool[text_col]))[0],
        index=pool.index,
    )
    picked = [
        similarity[pool[label_col] == label].sort_values(ascending=False, kind="stable").index[:n_per_label]
        for label in labels
    ]
    demos = pool.loc[[index for indices in picked for index in indices]]
    return pd.DataFrame(
        {
            text_col: demos[text_col].map(lambda t: " ".join(t.split()[:max_words])),
            "label": demos[label_col].tolist(),
        },
        index=demos.index,
    )


@dataclass
class FreeALResult:
    """What :func:`freeal` produced: ``rows`` is the input with ``llm_label`` (the final labels),
    ``llm_label_round_<r>`` per round and ``clean_round_<r>`` (the clean subset chosen in round r);
    ``table`` has one row per round (round 0 = the zero-shot labels)."""

    rows: pd.DataFrame
    table: pd.DataFrame


def _accuracy(labels: pd.Series, gold: pd.Series | None) -> float:
    return float((labels == gold).mean()) if gold is not None and len(labels) else float("nan")


def freeal(
    model: BaseChatModel,
    frame: pd.DataFrame,
    labels: Sequence[str],
    *,
    rounds: int = 2,
    clean_share: float = 0.5,
    n_demos_per_label: int = 1,
    demo_words: int = 20,
    text_col: str = "text",
    gold_col: str | None = "label",
    classifier: str | Any = "tfidf-logreg",
    n_splits: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> FreeALResult:
    """FreeAL's refinery: ``model`` labels every row zero-shot (round 0); each of ``rounds`` rounds
    then selects the clean subset (:func:`small_loss_selection`, ``clean_share`` per label) and has
    ``model`` relabel only the other rows, each with its :func:`nearest_demos` from the clean subset.
    ``gold_col`` (never shown to the LLM) scores the labels: the table gives per round the LLM calls,
    the clean subset's size and accuracy, the rest's accuracy before and after relabelling, the
    accuracy over all rows, and the label counts. If the LLM labels leave the small model nothing to
    learn (one label named), it warns and stops.

    >>> result = freeal(annotator, real_rows, ["negative", "positive"], rounds=2)   # doctest: +SKIP
    """
    check_labels(labels, "labels", distinct=2)
    check_frame(frame, "frame", text_col=text_col, blank=False)
    if gold_col is not None:
        check_column(frame, gold_col, "gold_col")
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0; got {rounds}")
    gold = frame[gold_col] if gold_col is not None else None
    annotated = llm_annotate(model, frame, labels, text_col=text_col, seed=seed, confidence=False, progress=progress)
    current = annotated["llm_label"]
    rows = frame.copy()
    rows["llm_label_round_0"] = current
    table = [
        {
            "round": 0,
            "llm_calls": len(frame),
            "accuracy": _accuracy(current, gold),
            "label_counts": current.value_counts().to_dict(),
        }
    ]
    vectorizer = TfidfVectorizer(sublinear_tf=True).fit(frame[text_col])
    for round_ in range(1, rounds + 1):
        answered = rows.loc[current.notna(), [text_col]].assign(llm_label=current[current.notna()])
        try:
            clean = small_loss_selection(
                answered,
                share=clean_share,
                text_col=text_col,
                label_col="llm_label",
                n_splits=n_splits,
                classifier=classifier,
                seed=seed,
            )
        except ValueError as error:
            warnings.warn(f"FreeAL stopped before round {round_}: {error}", UserWarning, stacklevel=2)
            break
        clean = clean.reindex(frame.index, fill_value=False)
        pool = answered[clean[answered.index]]
        rest = frame.index[~clean]
        relabelled = current.copy()
        for index in tqdm(rest, desc=f"FreeAL round {round_}", disable=not progress):
            demos = nearest_demos(
                frame.at[index, text_col],
                pool,
                labels,
                n_per_label=n_demos_per_label,
                text_col=text_col,
                label_col="llm_label",
                max_words=demo_words,
                vectorizer=vectorizer,
            )
            answer = llm_annotate(
                model,
                frame.loc[[index]],
                labels,
                text_col=text_col,
                seed=seed,
                demos=demos,
                confidence=False,
                progress=False,
            )
            relabelled[index] = answer["llm_label"].iloc[0]
        table.append(
            {
                "round": round_,
                "llm_calls": len(rest),
                "n_clean": int(clean.sum()),
                "clean_accuracy": _accuracy(current[clean], None if gold is None else gold[clean]),
                "rest_accuracy_before": _accuracy(current[rest], None if gold is None else gold[rest]),
                "rest_accuracy_after": _accuracy(relabelled[rest], None if gold is None else gold[rest]),
                "accuracy": _accuracy(relabelled, gold),
                "label_counts": relabelled.value_counts().to_dict(),
            }
        )
        rows[f"clean_round_{round_}"] = clean
        rows[f"llm_label_round_{round_}"] = relabelled
        current = relabelled
    rows["llm_label"] = current
    return FreeALResult(rows=rows, table=pd.DataFrame(table).set_index("round"))
