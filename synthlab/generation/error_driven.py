"""Error-driven generation, S3 (taxonomy G7, dataset-wise decomposition by a metric): "Let's
Synthesize Step by Step" (Wang et al., 2023).

Round 0 generates a synthetic set with the plain task prompt. Every later round trains a small
classifier on all synthetic rows so far, finds its errors on a small *real* validation set, and
asks the model for new rows like each misclassified validation text, with its gold label
(:func:`error_prompts`): the data grows where the small model is weak. :func:`s3` runs the loop
and scores every round on a real test set; :func:`one_round_baseline` spends the same number of
generations in one plain round, the comparison the survey asks for.

>>> result = s3(model, TaskSpec(), validation, test, n_initial=24, n_per_round=12, rounds=3)  # doctest: +SKIP
>>> result.table[["round", "n_rows", "val_error_rate", "test_accuracy"]]                     # doctest: +SKIP

Taught in ``notebooks/04_error_driven_generation.ipynb``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate

from synthlab.core.checks import check_at_least, check_frame
from synthlab.core.classifiers import train_and_test
from synthlab.core.parsing import strip_chatter
from synthlab.core.records import make_records
from synthlab.core.results import RoundsResult
from synthlab.curation.filters import drop_malformed
from synthlab.generation.prompts import TaskSpec, build_prompts
from synthlab.llm.generate import GenerationError, generate

__all__ = [
    "ERROR_REQUEST",
    "error_prompts",
    "one_round_baseline",
    "plain_rows",
    "s3",
    "S3Result",
    "sample_errors",
    "validation_errors",
]

ERROR_REQUEST = (
    "Here is a {text_type} whose {label_type} is {label_words}:\n{example}\n"
    "Write a new {text_type} like this one, about something else, whose {label_type} is also "
    "{label_words}.\n{output_format}"
)


@dataclass
class S3Result:
    """What :func:`s3` produced.

    ``table``: one row per round with ``round``, ``n_generated`` and ``n_kept`` (this round),
    ``n_generated_total`` (generations spent so far), ``n_rows`` (training rows so far),
    ``n_val_errors``, ``val_error_rate``, ``test_accuracy``, ``test_macro_f1`` and ``note`` (why
    the loop stopped early, else empty). ``kept``: the kept synthetic rows, the final training
    set. ``removed``: generated rows that :func:`synthlab.curation.filters.drop_malformed` removed, with
    their ``reason``.
    """

    table: pd.DataFrame
    kept: pd.DataFrame
    removed: pd.DataFrame


def _check_labelled(frame: Any, name: str, task: TaskSpec, text_col: str, label_col: str) -> None:
    """The layer's frame check, then S3's own: every label is one of the task's."""
    why = f"S3 needs a small real labelled {name} set (for example a stratified sample of the validation split)"
    check_frame(frame, name, text_col=text_col, columns={"label_col": label_col}, blank=False, hint=why)
    unknown = sorted(set(frame[label_col].dropna()) - set(task.labels), key=str)
    if unknown or frame[label_col].isna().any():
        raise ValueError(
            f"{name} has labels {unknown or [None]} that are not the task's labels "
            f"{list(task.labels)}; relabel them or change the TaskSpec's verbalizer"
        )


def plain_rows(
    model: BaseChatModel,
    task: TaskSpec,
    n: int,
    *,
    seed: int = 0,
    method: str = "one-round",
    progress: bool = True,
) -> pd.DataFrame:
    """``n`` rows from the plain task prompt (labels cycling, parsed with
    :func:`synthlab.core.parsing.strip_chatter`): S3's round 0 and the one-round baseline. Row ``k``
    has seed ``seed + k``, so the first ``m`` rows of a call are the rows of a call with ``n=m``."""
    prompts, labels, conditions = build_prompts(task, n, seed=seed)
    return generate(
        model,
        prompts,
        labels=labels,
        conditions=conditions,
        seed=seed,
        parse=strip_chatter,
        method=method,
        progress=progress,
    )


def validation_errors(
    classifier: Any,
    validation: pd.DataFrame,
    *,
    text_col: str = "text",
    label_col: str = "label",
) -> pd.DataFrame:
    """The rows of ``validation`` that a fitted ``classifier`` (``predict`` on raw texts) gets
    wrong, with its prediction in a ``predicted`` column."""
    predicted = pd.Series(np.asarray(classifier.predict(validation[text_col].tolist())), index=validation.index)
    wrong = predicted != validation[label_col]
    return validation[wrong].assign(predicted=predicted[wrong])


def sample_errors(errors: pd.DataFrame, n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` error rows to extrapolate from: a seeded random sample when there are more than
    ``n``; otherwise every error, shuffled and cycled until there are ``n`` (each repeat is
    generated with its own seed, so the per-round budget is always spent)."""
    if errors.empty:
        raise ValueError("errors is empty: the classifier made no mistake to generate more data from")
    check_at_least(n=(n, 1))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(errors))
    if len(errors) >= n:
        return errors.iloc[order[:n]]
    return errors.iloc[np.resize(order, n)]


def error_prompts(
    task: TaskSpec, errors: pd.DataFrame, *, text_col: str = "text", label_col: str = "label"
) -> list[PromptValue]:
    """One prompt per error row: the misclassified text as a one-shot example with its gold
    label (said with the task's verbalizer), and a request for a new text like it with the same
    label. Texts enter as values, so braces in them are safe."""
    messages = [("system", "{role}")] if task.role else []
    template = ChatPromptTemplate.from_messages([*messages, ("human", ERROR_REQUEST)])
    bound = {"text_type": task.text_type, "label_type": task.label_type, "output_format": task.output_format}
    if task.role:
        bound["role"] = task.role
    return [
        template.invoke({**bound, "example": text, "label_words": task.verbalizer[label]})
        for text, label in zip(errors[text_col], errors[label_col])
    ]


def _error_rows(
    model: BaseChatModel,
    task: TaskSpec,
    chosen: pd.DataFrame,
    *,
    round_: int,
    seed: int,
    text_col: str,
    label_col: str,
    progress: bool,
) -> pd.DataFrame:
    """Generate one row per chosen error; ``params`` records the validation row it came from."""
    conditions = [
        {"label": label, "source_index": index, "source_text": text, "predicted": predicted}
        for index, text, label, predicted in zip(
            chosen.index.tolist(), chosen[text_col], chosen[label_col], chosen["predicted"]
        )
    ]
    return generate(
        model,
        error_prompts(task, chosen, text_col=text_col, label_col=label_col),
        labels=chosen[label_col].tolist(),
        conditions=conditions,
        seed=seed,
        parse=strip_chatter,
        method="s3:errors",
        generation_round=round_,
        parent_ids=[f"validation:{i}" for i in chosen.index],
        progress=progress,
    )


def _generate_round(
    model: BaseChatModel,
    task: TaskSpec,
    round_: int,
    budget: int,
    errors: pd.DataFrame,
    *,
    seed: int,
    text_col: str,
    label_col: str,
    progress: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """One round's rows, curated: ``(kept, removed, failure)``, ``failure`` saying why nothing was kept."""
    try:
        if round_ == 0:
            rows = plain_rows(model, task, budget, seed=seed, method="s3:initial", progress=progress)
        else:
            chosen = sample_errors(errors, budget, seed=seed)
            rows = _error_rows(
                model,
                task,
                chosen,
                round_=round_,
                seed=seed,
                text_col=text_col,
                label_col=label_col,
                progress=progress,
            )
    except GenerationError as error:
        return make_records([]), make_records([]), f"every generation failed ({error})"
    kept, removed = drop_malformed(rows, text_col=text_col, label_col=label_col)
    if kept.empty:
        reasons = removed["reason"].value_counts().index.tolist()
        return kept, removed, f"no usable row among {len(rows)} generations (reasons: {reasons[:3]})"
    return kept, removed, ""


def s3(
    model: BaseChatModel,
    task: TaskSpec,
    validation: pd.DataFrame,
    test: pd.DataFrame,
    *,
    n_initial: int = 24,
    n_per_round: int = 12,
    rounds: int = 3,
    text_col: str = "text",
    label_col: str = "label",
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
    progress: bool = True,
) -> S3Result:
    """Run S3: round 0 generates ``n_initial`` rows with the plain prompt (:func:`plain_rows`);
    each of ``rounds`` further rounds samples ``n_per_round`` of the current classifier's errors
    on ``validation`` (:func:`sample_errors`, seeded per round) and generates one row like each
    (:func:`error_prompts`; method ``s3:errors``, ``round`` set, the source validation row's
    index, text, gold and predicted label in ``params``, ``parent_id`` ``"validation:<index>"``).
    After every round, ``classifier`` (see :func:`synthlab.core.classifiers.train_and_test`) is trained
    on all kept rows so far and scored on ``validation`` and ``test``.

    Seeds never repeat: round 0 uses ``seed, ..., seed + n_initial - 1`` and each later round
    continues from there. The loop stops early, with a warning and a ``note`` in the table,
    when a round keeps no usable row (for example a model that never returns parseable text),
    when the rows so far hold only one label, or when the classifier makes no validation error.
    """
    for name, frame in (("validation", validation), ("test", test)):
        _check_labelled(frame, name, task, text_col, label_col)
    check_at_least(n_initial=(n_initial, len(task.labels)), n_per_round=(n_per_round, 1), rounds=(rounds, 0))
    history: list[dict[str, Any]] = []
    kept, removed = make_records([]), []
    errors, spent = validation.iloc[:0], 0
    for round_ in range(rounds + 1):
        budget = n_initial if round_ == 0 else n_per_round
        fresh, dropped, failure = _generate_round(
            model,
            task,
            round_,
            budget,
            errors,
            seed=seed + spent,
            text_col=text_col,
            label_col=label_col,
            progress=progress,
        )
        spent += budget
        if len(fresh):
            kept = pd.concat([kept, fresh], ignore_index=True) if len(kept) else fresh.reset_index(drop=True)
        removed.append(dropped)
        row = {
            "round": round_,
            "n_generated": budget,
            "n_kept": len(fresh),
            "n_generated_total": spent,
            "n_rows": len(kept),
            "n_val_errors": math.nan,
            "val_error_rate": math.nan,
            "test_accuracy": math.nan,
            "test_macro_f1": math.nan,
            "note": "",
        }
        if not failure and kept[label_col].nunique() < 2:
            failure = f"the kept rows hold one label only ({kept[label_col].iloc[0]!r}); cannot train a classifier"
        if failure:
            history.append({**row, "note": f"stopped: {failure}"})
            warnings.warn(f"S3 stopped in round {round_}: {failure}", UserWarning, stacklevel=2)
            break
        result = train_and_test(kept, test, text_col=text_col, label_col=label_col, classifier=classifier, seed=seed)
        errors = validation_errors(result.classifier, validation, text_col=text_col, label_col=label_col)
        history.append(
            {
                **row,
                "n_val_errors": len(errors),
                "val_error_rate": len(errors) / len(validation),
                "test_accuracy": result.accuracy,
                "test_macro_f1": result.macro_f1,
            }
        )
        if errors.empty and round_ < rounds:
            history[-1]["note"] = "stopped: no validation error left to generate from"
            break
    removed = [frame for frame in removed if len(frame)] or [make_records([])]
    return S3Result(table=pd.DataFrame(history), kept=kept, removed=pd.concat(removed, ignore_index=True))


def one_round_baseline(
    model: BaseChatModel,
    task: TaskSpec,
    test: pd.DataFrame,
    sizes: Sequence[int],
    *,
    text_col: str = "text",
    label_col: str = "label",
    classifier: str | Any = "tfidf-logreg",
    seed: int = 0,
    progress: bool = True,
) -> RoundsResult:
    """The equal-budget baseline for :func:`s3`: ``max(sizes)`` generations in one round with the
    plain prompt (:func:`plain_rows`, method ``one-round``); for each size, the first ``size``
    rows (exactly a one-round set of that size) are curated, trained on and scored on ``test``.

    Returns a :class:`synthlab.core.results.RoundsResult`: ``table`` has ``n_generated_total``, ``n_rows`` (kept),
    ``test_accuracy`` and ``test_macro_f1`` per size (NaN with a warning when the kept rows of a
    size cannot train a classifier); ``rows`` are all generated rows, errors included. With the
    same ``seed`` its first ``n_initial`` rows are S3's round 0, so they come from the cache.
    """
    _check_labelled(test, "test", task, text_col, label_col)
    if len(sizes) == 0 or min(sizes) < len(task.labels):
        raise ValueError(f"sizes must be non-empty and each >= the {len(task.labels)} labels; got {list(sizes)}")
    rows = plain_rows(model, task, max(sizes), seed=seed, progress=progress)
    table = []
    for size in sorted(set(sizes)):
        kept = drop_malformed(rows.iloc[:size])[0]
        entry = {
            "n_generated_total": size,
            "n_rows": len(kept),
            "test_accuracy": math.nan,
            "test_macro_f1": math.nan,
        }
        if kept[label_col].nunique() < 2:
            warnings.warn(
                f"the first {size} one-round rows keep {len(kept)} usable row(s) with "
                f"{kept[label_col].nunique()} label(s); no classifier for this size",
                UserWarning,
                stacklevel=2,
            )
        else:
            result = train_and_test(
                kept, test, text_col=text_col, label_col=label_col, classifier=classifier, seed=seed
            )
            entry.update(test_accuracy=result.accuracy, test_macro_f1=result.macro_f1)
        table.append(entry)
    return RoundsResult(pd.DataFrame(table), rows)
