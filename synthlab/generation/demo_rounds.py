"""Demonstrations round after round (taxonomy G5 at a fixed budget): select demos, generate with them, add the
well-formed rows to the synthetic training set, retrain the small classifier and score it on real test data.

>>> run = demo_rounds(model, TaskSpec(), seed_rows, test, strategy="vote-k", rounds=2)   # doctest: +SKIP
>>> run.table[["round", "accuracy", "copy_rate"]]                                          # doctest: +SKIP

Taught in ``notebooks/02_in_context_demonstrations.ipynb``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel

from synthlab.core.classifiers import TrainTestResult, train_and_test
from synthlab.core.results import RoundsResult
from synthlab.curation.filters import drop_malformed
from synthlab.evaluation.downstream import oracle_agreement
from synthlab.generation.demos import STRATEGIES, Parser, copy_scores, generate_with_demos, select_demos
from synthlab.generation.prompts import TaskSpec

__all__ = ["demo_rounds"]


def demo_rounds(
    model: BaseChatModel,
    task: TaskSpec,
    pool: pd.DataFrame,
    test: pd.DataFrame,
    *,
    strategy: str,
    rounds: int = 2,
    n_per_round: int = 8,
    k_per_label: int = 2,
    validation: pd.DataFrame | None = None,
    oracle: TrainTestResult | None = None,
    seed: int = 0,
    parse: Parser | None = None,
    text_col: str = "text",
    label_col: str = "label",
    progress: bool = True,
) -> RoundsResult:
    """G5 at a fixed budget: each round selects ``k_per_label`` demos per label from ``pool`` by
    ``strategy``, generates ``n_per_round`` rows with them (one demo set per round), adds the
    well-formed rows to the synthetic training set and scores a classifier trained on it on
    ``test``. ``"nearest"`` anchors each round on a text drawn from ``validation``;
    ``"feedback"`` starts at random from ``pool`` and from round 2 feeds back the most helpful
    synthetic rows so far (ProGen). Generation seeds depend on the round only, so strategies
    differ by their demos alone.

    Returns ``(table, rows)``: one table row per round (``selected_by``, ``generated``,
    ``well_formed``, ``train_rows``, ``accuracy``, ``macro_f1``, ``mean_copy_score``, ``copy_rate``
    and, with an ``oracle``, ``oracle_agreement`` of the round's rows; accuracy is NaN while the
    well-formed rows hold one label only) and every generated row (``round`` set, selection and
    demos in ``params``).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; use one of {list(STRATEGIES)}")
    if rounds < 1 or n_per_round < len(task.labels):
        raise ValueError(
            f"need rounds >= 1 and n_per_round >= {len(task.labels)} (one row per label); "
            f"got rounds={rounds}, n_per_round={n_per_round}"
        )
    if strategy in ("nearest", "feedback") and (validation is None or validation.empty):
        raise ValueError(f"strategy {strategy!r} needs validation=, real labelled rows (anchors / feedback)")
    batches, kept, history = [], [], []
    for round_ in range(1, rounds + 1):
        how = "random" if strategy == "feedback" and round_ == 1 else strategy
        source = pool
        if how == "feedback":
            source = pd.concat(kept).rename(columns={"text": text_col, "label": label_col})
        anchor = None
        if how == "nearest":
            anchor = validation[text_col].iloc[int(np.random.default_rng(seed + round_).integers(len(validation)))]
        demos = select_demos(
            source,
            k_per_label,
            how,
            labels=task.labels,
            anchor=anchor,
            validation=validation,
            seed=seed + round_ - 1,
            text_col=text_col,
            label_col=label_col,
        )
        rows = generate_with_demos(
            model,
            task,
            demos,
            n_per_round,
            seed=seed + (round_ - 1) * n_per_round,
            parse=parse,
            method=f"demos:{strategy}",
            generation_round=round_,
            params={"selection": how, "anchor": anchor},
            text_col=text_col,
            label_col=label_col,
            progress=progress,
        )
        batches.append(rows)
        kept.append(drop_malformed(rows)[0])
        train = pd.concat(kept).rename(columns={"text": text_col, "label": label_col})
        trainable = train[label_col].nunique() >= 2
        result = train_and_test(train, test, text_col=text_col, label_col=label_col, seed=seed) if trainable else None
        copies = copy_scores(kept[-1]) if len(kept[-1]) else pd.Series(dtype=float)
        entry = {
            "strategy": strategy,
            "round": round_,
            "selected_by": how,
            "generated": len(rows),
            "well_formed": len(kept[-1]) / len(rows),
            "train_rows": len(train),
            "accuracy": result.accuracy if result else np.nan,
            "macro_f1": result.macro_f1 if result else np.nan,
            "mean_copy_score": copies.mean(),
            "copy_rate": (copies >= 0.7).mean() if len(copies) else np.nan,
        }
        if oracle is not None:
            entry["oracle_agreement"] = oracle_agreement(oracle, kept[-1])["agreement"] if len(kept[-1]) else np.nan
        history.append(entry)
    return RoundsResult(pd.DataFrame(history), pd.concat(batches, ignore_index=True))
