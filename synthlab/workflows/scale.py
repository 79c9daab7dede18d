"""Scale-out on Ray Data: synthlab's own generation, curation filters and metrics, run over a
``ray.data.Dataset`` on pandas blocks (``map_batches(batch_format="pandas")``), so a run on a
cluster gives the same rows as a run in one process.

- :func:`generate_on_ray` starts ``workers`` Ray actors; each builds its chat model once from a
  picklable spec (``("openai", {"base_url": ..., "model": ...})``, ``("local", {...})`` or a
  zero-argument callable) and calls :func:`synthlab.llm.generate.generate` on its blocks. A block of
  prompts starting at prompt ``p`` is generated with seed ``seed + p * n``, so every row keeps the
  seed of a plain ``generate(model, prompts, n=n, seed=seed)`` call; failed rows stay on their rows.
- :func:`filter_on_ray` runs :func:`synthlab.core.steps.run_filters`: the leading steps that judge one
  row at a time (:data:`ROW_WISE_STEPS`) run on every block in parallel; the first step that looks
  at other rows (exact, ROUGE-L or MinHash near-duplicates) needs the whole corpus in order, so the
  survivors are collected and it and the steps after it run in the driver. The result equals
  ``run_filters`` on the collected frame.
- :func:`metrics_on_ray` computes corpus metrics (:mod:`synthlab.evaluation.diversity`)
  on one worker per group: a corpus metric is not the mean of its values on blocks.

Ray is an optional extra (``pip install 'synthlab[ray]'``); the core package never imports it.
:func:`synthlab.workflows.ray_data.init_ray` starts a local Ray on this machine or joins a cluster by
address (``init_ray("ray://head:10001")``). Rows come back with a fresh ``id`` and ``created_at`` (as any
new run does); order them with :func:`synthlab.workflows.ray_data.to_records`.
Taught in ``notebooks/07_scale_out_with_ray.ipynb``.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import messages_from_dict, messages_to_dict
from langchain_core.prompt_values import PromptValue

from synthlab.core.checks import check_at_least
from synthlab.core.steps import Step, run_filters
from synthlab.curation.filters import (
    drop_bad_format,
    drop_by_length,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
)
from synthlab.llm.chat import BACKENDS, get_chat_model
from synthlab.llm.generate import GenerationError, Parser, PromptLike, generate, plain_text
from synthlab.workflows.ray_data import arrow_ready, collect, require_ray, split_blocks, to_dataset, to_records

__all__ = [
    "ROW_WISE_STEPS",
    "build_model",
    "check_spec",
    "filter_on_ray",
    "generate_on_ray",
    "metrics_on_ray",
    "ModelSpec",
]

if TYPE_CHECKING:
    import ray.data


#: A chat model as something a Ray worker can rebuild: ``(backend, params)`` for
#: :func:`synthlab.llm.chat.get_chat_model`, or a picklable callable returning a chat model.
ModelSpec = tuple[str, Mapping[str, Any]] | Callable[[], BaseChatModel]


#: Curation steps whose decision on a row depends on that row alone, so running them block by
#: block gives the same result as running them on the whole frame.
ROW_WISE_STEPS: tuple[Callable[..., Any], ...] = (
    drop_malformed,
    drop_by_length,
    drop_bad_format,
    drop_refusals,
    drop_repetitive,
)


_INDEX, _PROMPT, _CHAT, _LABEL, _CONDITIONS = "_index", "_prompt", "_chat", "_label", "_conditions"


_REMOVED = "_removed"


def build_model(spec: ModelSpec) -> BaseChatModel:
    """The chat model a :data:`ModelSpec` describes: ``get_chat_model(backend, **params)`` or ``spec()``."""
    check_spec(spec)
    return spec() if callable(spec) else get_chat_model(spec[0], **spec[1])  # type: ignore[arg-type,index]


def check_spec(spec: ModelSpec) -> None:
    """Raise ``TypeError`` (or ``ValueError`` for an unknown backend) unless ``spec`` is a model recipe."""
    if callable(spec) and not isinstance(spec, BaseChatModel):
        return
    if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], Mapping)):
        raise TypeError(
            f"model spec must be (backend, params) such as ('local', {{'temperature': 0.9}}) or a "
            f"callable returning a chat model; got {spec!r}. Workers rebuild the model from it, so "
            "pass the recipe, not a model object."
        )
    if spec[0] not in BACKENDS:
        raise ValueError(f"unknown backend {spec[0]!r} in the model spec; choose one of {', '.join(BACKENDS)}")


class _Generator:
    """A Ray actor: loads the chat model once, then generates the rows of each block it is given."""

    def __init__(self, spec: ModelSpec, options: Mapping[str, Any]) -> None:
        self.model = build_model(spec)
        self.options = dict(options)
        self.n, self.seed = self.options.pop("n"), self.options.pop("seed")

    def __call__(self, block: pd.DataFrame) -> pd.DataFrame:
        # Prompts of one run of consecutive indexes go to one generate() call seeded at its first row.
        run_ids = block[_INDEX].to_numpy() - np.arange(len(block))
        frames = []
        for _, run in block.groupby(run_ids, sort=False):
            try:
                frames.append(
                    generate(
                        self.model,
                        [_decode_prompt(prompt, chat) for prompt, chat in zip(run[_PROMPT], run[_CHAT])],
                        n=self.n,
                        seed=self.seed + int(run[_INDEX].iloc[0]) * self.n,
                        labels=run[_LABEL].tolist(),
                        conditions=[json.loads(value) for value in run[_CONDITIONS]],
                        progress=False,
                        **self.options,
                    )
                )
            except GenerationError as error:  # every row of this run failed: keep them, with their errors
                frames.append(error.records)
        return arrow_ready(pd.concat(frames, ignore_index=True))


def _encode_prompt(prompt: PromptLike) -> tuple[str, bool]:
    """A prompt as text for an Arrow column: itself, or its chat messages as JSON."""
    if isinstance(prompt, str):
        return prompt, False
    messages = prompt.to_messages() if isinstance(prompt, PromptValue) else list(prompt)
    return json.dumps(messages_to_dict(messages)), True


def _decode_prompt(text: str, chat: bool) -> PromptLike:
    return messages_from_dict(json.loads(text)) if chat else text


def _prompt_frame(
    prompts: Sequence[PromptLike],
    labels: Sequence[Any] | None,
    conditions: Sequence[Mapping[str, Any]] | None,
) -> pd.DataFrame:
    if len(prompts) == 0:
        raise ValueError("prompts is empty: pass at least one prompt to generate from.")
    for name, aligned in (("labels", labels), ("conditions", conditions)):
        if aligned is not None and len(aligned) != len(prompts):
            raise ValueError(f"{name} has {len(aligned)} items but prompts has {len(prompts)}; they must align.")
    bad = next(
        (k for k, prompt in enumerate(prompts) if not isinstance(prompt, (str, PromptValue, list, tuple))),
        None,
    )
    if bad is not None:
        raise TypeError(f"prompt {bad} is {prompts[bad]!r}; a prompt is a string, a PromptValue or a list of messages")
    encoded = [_encode_prompt(prompt) for prompt in prompts]
    return pd.DataFrame(
        {
            _INDEX: np.arange(len(prompts)),
            _PROMPT: [text for text, _ in encoded],
            _CHAT: [chat for _, chat in encoded],
            _LABEL: list(labels) if labels is not None else [None] * len(prompts),
            _CONDITIONS: [json.dumps(dict(condition)) for condition in conditions]
            if conditions is not None
            else ["{}"] * len(prompts),
        }
    )


def generate_on_ray(
    spec: ModelSpec,
    prompts: Sequence[PromptLike],
    *,
    n: int = 1,
    seed: int = 0,
    labels: Sequence[Any] | None = None,
    conditions: Sequence[Mapping[str, Any]] | None = None,
    parse: Parser = plain_text,
    method: str = "generate",
    workers: int = 1,
    batch_size: int = 8,
    cpus_per_worker: float = 1,
    max_concurrency: int | None = None,
    **generate_options: Any,
) -> ray.data.Dataset:
    """:func:`synthlab.llm.generate.generate` on Ray, with the same arguments: ``workers`` actors each
    build the model from ``spec`` once and generate blocks of ``batch_size`` prompts
    (``max_concurrency`` calls at a time each; by default the embedded model batches its ``n_parallel`` and a
    server gets one call at a time). Row ``k`` gets seed ``seed + k``
    exactly as in one ``generate`` call, so the texts match a local run of the same model; rows
    whose call failed keep their ``error``. Returns a lazy ``ray.data.Dataset`` of records (nothing
    runs until it is read); :func:`to_records` collects it in order. Other keyword arguments
    (``max_retries``, ``retry_backoff``, ``generation_round``, ``group_prefixes``) go to ``generate`` as they are.

    >>> spec = ("openai", {"base_url": "http://vllm-host:8000/v1", "model": "m", "temperature": 0.9})  # doctest: +SKIP
    >>> rows = to_records(generate_on_ray(spec, prompts, n=4, workers=8))                       # doctest: +SKIP
    """
    ray = require_ray()
    check_at_least(n=(n, 1), workers=(workers, 1), batch_size=(batch_size, 1))
    if max_concurrency is not None:
        check_at_least(max_concurrency=(max_concurrency, 1))
    check_spec(spec)
    unsupported = sorted(set(generate_options) & {"checkpoint", "parent_ids", "progress"})
    if unsupported:
        raise TypeError(
            f"generate_on_ray does not take {unsupported}: Ray re-runs a failed block itself, and "
            "a finished dataset is saved with dataset.write_parquet(path) or to_records(...)"
        )
    frame = _prompt_frame(prompts, labels, conditions)
    options = {
        "n": n,
        "seed": seed,
        "parse": parse,
        "method": method,
        "max_concurrency": max_concurrency,
        **generate_options,
    }
    return ray.data.from_pandas(split_blocks(frame, batch_size)).map_batches(
        _Generator,
        batch_format="pandas",
        batch_size=batch_size,
        concurrency=workers,
        num_cpus=cpus_per_worker,
        fn_constructor_args=(spec, options),
    )


def _step_function(step: Step) -> Callable[..., Any]:
    while isinstance(step, functools.partial):
        step = step.func
    return step


def _filter_block(block: pd.DataFrame, steps: Sequence[Step]) -> pd.DataFrame:
    """The block's kept rows and its removed rows (with ``reason`` and ``step``) in one frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "removed every row" of one block is not news; the driver warns for all
        kept, removed = run_filters(block, steps)
    kept = kept.assign(reason=None, step=None, **{_REMOVED: False})
    return pd.concat([kept, removed.assign(**{_REMOVED: True})], ignore_index=True)


def filter_on_ray(
    dataset: ray.data.Dataset,
    steps: Sequence[Step],
    *,
    row_wise: Sequence[Callable[..., Any]] = ROW_WISE_STEPS,
    order_by: str | None = "seed",
) -> tuple[ray.data.Dataset, pd.DataFrame]:
    """:func:`synthlab.core.steps.run_filters` on a Ray dataset: returns the kept rows (a dataset) and
    the removal log (a frame). The leading steps whose function is in ``row_wise`` (bound with
    :func:`functools.partial` or not) run on each block in parallel; from the first other step on
    (a duplicate or novelty filter, which compares a row with the rows before it), the survivors
    are collected in ``order_by`` order and the remaining steps run here, as in ``run_filters``.
    Add your own one-row-at-a-time steps to ``row_wise`` to run them on the blocks too."""
    require_ray()
    if not steps:
        raise ValueError("steps is empty; pass curation steps such as [drop_malformed, drop_refusals]")
    split = next((i for i, step in enumerate(steps) if _step_function(step) not in row_wise), len(steps))
    kept, log = dataset, pd.DataFrame(columns=[*dataset.columns(), "reason", "step"])
    if split:
        marked = dataset.map_batches(_filter_block, batch_format="pandas", fn_args=(list(steps[:split]),)).materialize()
        from ray.data.expressions import col

        kept = marked.filter(expr=~col(_REMOVED)).drop_columns([_REMOVED, "reason", "step"])
        removed = to_records(marked.filter(expr=col(_REMOVED)), order_by=order_by)
        log = removed.drop(columns=[_REMOVED]) if len(removed) else log
    if split < len(steps):
        frame = to_records(kept, order_by=order_by)
        if frame.empty:
            warnings.warn(
                "the row-wise steps removed every row; the duplicate and novelty steps were not run",
                stacklevel=2,
            )
            return kept, log
        rest, rest_log = run_filters(frame, steps[split:])
        kept, log = to_dataset(rest), pd.concat([log, rest_log], ignore_index=True)
    elif kept.count() == 0:
        warnings.warn(
            f"the {len(steps)} filter step(s) removed every row; read the removal log's 'reason' column",
            stacklevel=2,
        )
    return kept, log


def metrics_on_ray(
    dataset: ray.data.Dataset,
    metrics: Mapping[str, Callable[[list[str]], float]],
    *,
    text_col: str = "text",
    by: str | None = None,
    partitions: int = 4,
) -> pd.DataFrame:
    """Corpus metrics (any function of a list of texts, such as :func:`synthlab.evaluation.diversity.distinct_n`
    bound with :func:`functools.partial`, or :func:`synthlab.evaluation.diversity.vendi_score`) on Ray: one row
    per group of ``by`` (or one row for the whole dataset) with ``n`` texts and one column per metric.
    Each group's texts go to one worker, because a corpus metric compares every text with the
    others: its value on the corpus is not the mean of its values on blocks. ``partitions`` is the
    number of hash partitions of the group-by shuffle (Ray's default, 200, suits large data and costs
    seconds of empty tasks on a small one)."""
    require_ray()
    check_at_least(partitions=(partitions, 1))
    if not metrics:
        raise ValueError(
            "metrics is empty; pass {name: function of a list of texts}, e.g. {'distinct-2': partial(distinct_n, n=2)}"
        )
    columns = [text_col] if by is None else [text_col, by]
    missing = [column for column in columns if column not in dataset.columns()]
    if missing:
        raise KeyError(f"column(s) {missing} are not in the dataset; its columns are {dataset.columns()}")

    def measure(group: pd.DataFrame) -> pd.DataFrame:
        texts = group[text_col].tolist()
        row = {**({by: group[by].iloc[0]} if by else {}), "n": len(texts)}
        return pd.DataFrame([{**row, **{name: metric(texts) for name, metric in metrics.items()}}])

    selected = dataset.select_columns(columns)
    if by is None:
        result = selected.repartition(1).map_batches(measure, batch_format="pandas", batch_size=None)
    else:
        result = selected.groupby(by, num_partitions=partitions).map_groups(measure, batch_format="pandas")
    return collect(result, order_by=by)
