"""Consistency-based noise detectors (taxonomy C2): a label is suspicious when other views of the row
disagree with it.

Four views, one function each, every one returning a frame aligned with the input's index with a
``suspicion`` score (higher = more suspicious), a ``flagged`` column (the detector's own rule) and a
``reason`` (a sentence for flagged rows, None otherwise), so :func:`drop_flagged` can remove the flagged
rows with :func:`synthlab.core.steps.split_by_reason` and nothing vanishes without a recorded reason:

- :func:`classifier_disagreement`: a classifier that never saw the row (cross-fitted,
  :mod:`synthlab.core.crossfit`) names another label (confident learning, Northcutt et al., 2021);
- :func:`majority_vote` over several labelings: of small classifiers (:func:`classifier_votes`) or of
  several seeded LLM annotations (:func:`llm_votes`);
- :func:`neighbour_agreement`: few of the row's nearest TF-IDF neighbours share its label (Deep kNN,
  Bahri et al., 2020);
- :func:`synthlab.curation.rating.rate_labels`: an LLM rates how well the label fits the text, and rows under a
  threshold go (AlpaGasus, Chen et al., 2024).

Taught in ``notebooks/12_consistency.ipynb``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline

from synthlab.annotation.llm import llm_annotate
from synthlab.core.checks import check_frame
from synthlab.core.crossfit import label_loss, out_of_fold_proba
from synthlab.core.steps import split_by_reason

__all__ = [
    "classifier_disagreement",
    "classifier_votes",
    "default_voters",
    "detected_frame",
    "drop_flagged",
    "llm_votes",
    "majority_vote",
    "neighbour_agreement",
]


def detected_frame(
    suspicion: pd.Series, flagged: pd.Series, reasons: Sequence[str | None], **columns: Any
) -> pd.DataFrame:
    """A detector's result: ``columns``, then ``suspicion``, ``flagged`` and ``reason`` (None where not flagged)."""
    frame = pd.DataFrame(columns, index=suspicion.index)
    frame["suspicion"] = suspicion.astype(float)
    frame["flagged"] = flagged.astype(bool)
    frame["reason"] = pd.Series(list(reasons), index=suspicion.index, dtype=object).where(frame["flagged"], None)
    return frame


def classifier_disagreement(
    frame: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
    n_splits: int = 5,
    classifier: str | Any = "tfidf-logreg",
    min_proba: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """The intended label against a cross-fitted classifier's (confident learning, Northcutt et al., 2021).

    Columns: ``predicted_label`` and ``predicted_proba`` (the out-of-fold classifier's label and its
    probability), ``label_proba`` (its probability of the given label), ``suspicion`` (the given label's
    cross-entropy, :func:`synthlab.core.crossfit.label_loss`), ``flagged`` (another label predicted with
    probability >= ``min_proba``) and ``reason``, e.g. "cross-fitted classifier says negative (p=0.91)".
    """
    proba = out_of_fold_proba(
        frame, text_col=text_col, label_col=label_col, n_splits=n_splits, classifier=classifier, seed=seed
    )
    given = frame[label_col]
    predicted = proba.idxmax(axis=1)
    predicted_proba = proba.max(axis=1)
    flagged = (predicted != given) & (predicted_proba >= min_proba)
    reasons = [f"cross-fitted classifier says {label} (p={p:.2f})" for label, p in zip(predicted, predicted_proba)]
    label_proba = pd.Series(
        proba.to_numpy()[np.arange(len(proba)), [proba.columns.get_loc(x) for x in given]], index=frame.index
    )
    return detected_frame(
        label_loss(proba, given),
        flagged,
        reasons,
        predicted_label=predicted,
        predicted_proba=predicted_proba,
        label_proba=label_proba,
    )


def default_voters(seed: int = 0) -> dict[str, Any]:
    """Three small classifiers that see the text differently: word 1-2-gram TF-IDF with logistic
    regression, NLTK naive Bayes on word presence, character 2-4-gram TF-IDF with logistic regression."""
    characters = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
        LogisticRegression(max_iter=2000, random_state=seed),
    )
    return {"word tf-idf logreg": "tfidf-logreg", "naive bayes": "nltk-nb", "char tf-idf logreg": characters}


def classifier_votes(
    frame: pd.DataFrame,
    *,
    voters: Mapping[str, str | Any] | None = None,
    text_col: str = "text",
    label_col: str = "label",
    n_splits: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """One column per voter (default :func:`default_voters`) with its cross-fitted label for each row,
    ready for :func:`majority_vote`."""
    voters = default_voters(seed) if voters is None else voters
    if not voters:
        raise ValueError("voters is empty; pass {name: model} for at least one classifier")
    return pd.DataFrame(
        {
            name: out_of_fold_proba(
                frame, text_col=text_col, label_col=label_col, n_splits=n_splits, classifier=voter, seed=seed
            ).idxmax(axis=1)
            for name, voter in voters.items()
        },
        index=frame.index,
    )


def llm_votes(
    model: BaseChatModel,
    frame: pd.DataFrame,
    labels: Sequence[str],
    *,
    seeds: Sequence[int] = (0, 1, 2),
    text_col: str = "text",
    demos: pd.DataFrame | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """One column per seed (``"llm seed 0"``, ...) with the label ``model`` gave each row in
    :func:`synthlab.annotation.llm.llm_annotate` (None where it failed). Use a temperature above 0 so
    the seeds draw different votes; ``len(seeds) * len(frame)`` model calls."""
    if len(seeds) == 0:
        raise ValueError("seeds is empty; give one seed per LLM vote, e.g. seeds=(0, 1, 2)")
    return pd.DataFrame(
        {
            f"llm seed {seed}": llm_annotate(
                model,
                frame,
                labels,
                text_col=text_col,
                seed=seed,
                demos=demos,
                confidence=False,
                progress=progress,
            )["llm_label"]
            for seed in seeds
        },
        index=frame.index,
    )


def majority_vote(votes: pd.DataFrame, given: Sequence[Any]) -> pd.DataFrame:
    """The majority of several labelings (``votes``: one column per voter, None = abstained) against
    the ``given`` labels (aligned with ``votes``' rows).

    Columns: ``n_votes`` (votes cast), ``majority_label`` (a tie that includes the given label counts
    for it; None without votes), ``vote_share`` (the majority's share of the votes cast), ``agrees``
    (majority == given), ``suspicion`` (share of votes cast for another label; 0 without votes),
    ``flagged`` (the majority names another label) and ``reason``, e.g. "3 of 3 votes say negative".
    """
    given = pd.Series(list(given), index=votes.index)
    if votes.shape[1] == 0:
        raise ValueError("votes has no columns; give one column of labels per voter")
    rows = []
    for index, row in votes.iterrows():
        cast = row.dropna()
        counts = cast.value_counts()
        if counts.empty:
            rows.append({"n_votes": 0, "majority_label": None, "vote_share": np.nan, "against": 0.0})
            continue
        tied = sorted(counts[counts == counts.max()].index.tolist(), key=str)
        majority = given[index] if given[index] in tied else tied[0]
        rows.append(
            {
                "n_votes": len(cast),
                "majority_label": majority,
                "vote_share": counts.max() / len(cast),
                "against": float((cast != given[index]).mean()),
            }
        )
    table = pd.DataFrame(rows, index=votes.index)
    voted = table["n_votes"] > 0
    table["majority_label"] = table["majority_label"].astype(object).where(voted, None)
    agrees = (table["majority_label"] == given).astype(object).where(voted, None)
    reasons = [
        f"{round(share * n)} of {n} votes say {label}" if n else None
        for share, n, label in zip(table["vote_share"], table["n_votes"], table["majority_label"])
    ]
    return detected_frame(
        table["against"],
        voted & (table["majority_label"] != given),
        reasons,
        n_votes=table["n_votes"],
        majority_label=table["majority_label"],
        vote_share=table["vote_share"],
        agrees=agrees,
    )


def neighbour_agreement(
    frame: pd.DataFrame,
    *,
    k: int = 10,
    text_col: str = "text",
    label_col: str = "label",
    min_agreement: float = 0.5,
) -> pd.DataFrame:
    """The share of each row's ``k`` nearest other rows (cosine distance of TF-IDF vectors) that carry
    its label (Deep kNN, Bahri et al., 2020, with TF-IDF standing in for a network's representation).

    Columns: ``neighbour_agreement``, ``neighbour_label`` (the neighbours' commonest label),
    ``suspicion`` (1 - agreement), ``flagged`` (agreement < ``min_agreement``) and ``reason``, e.g.
    "only 2 of 10 nearest neighbours are labelled positive".
    """
    check_frame(frame, "frame", text_col=text_col, label_col=label_col)
    if not 1 <= k < len(frame):
        raise ValueError(f"k={k} needs 1 <= k < {len(frame)} (the number of rows); lower k or add rows")
    vectors = TfidfVectorizer(sublinear_tf=True).fit_transform(frame[text_col].tolist())
    _, found = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(vectors).kneighbors(vectors)
    labels = frame[label_col].to_numpy(dtype=object)
    # drop the row itself (not always first: duplicates tie at distance 0)
    neighbours = np.array([[j for j in row if j != i][:k] for i, row in enumerate(found)])
    agreeing = (labels[neighbours] == labels[:, None]).sum(axis=1)
    majority = [pd.Series(labels[row]).value_counts().idxmax() for row in neighbours]
    agreement = pd.Series(agreeing / k, index=frame.index)
    reasons = [f"only {n} of {k} nearest neighbours are labelled {label}" for n, label in zip(agreeing, labels)]
    return detected_frame(
        1 - agreement,
        agreement < min_agreement,
        reasons,
        neighbour_agreement=agreement,
        neighbour_label=majority,
    )


def drop_flagged(frame: pd.DataFrame, detected: pd.DataFrame, *, step: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(kept, removed)``: ``frame`` without the rows a detector flagged, each removed row with the
    detector's ``reason`` and ``step`` (see :func:`synthlab.core.steps.split_by_reason`). Rows the detector
    did not score (a missing flag, e.g. a slice's result reindexed onto the whole frame) are kept. Warns
    when every row is removed, since nothing is left to train on."""
    missing = {"flagged", "reason"} - set(detected.columns)
    if missing:
        raise KeyError(
            f"detected has no {sorted(missing)} column(s); pass the frame a detector of "
            "synthlab.curation.consistency returned"
        )
    if not detected.index.equals(frame.index):
        raise ValueError("detected is not aligned with frame (different index); run the detector on this frame")
    kept, removed = split_by_reason(frame, detected["reason"].where(detected["flagged"].eq(True), None), step)
    if kept.empty and not frame.empty:
        warnings.warn(f"{step} removed all {len(frame)} rows; loosen its threshold", UserWarning, stacklevel=2)
    return kept, removed
