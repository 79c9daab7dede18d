"""Batch generation with any LangChain chat model: a seed per row, a progress bar, and
failures recorded on their row instead of dropping it.

>>> model = get_chat_model("local")                                           # doctest: +SKIP
>>> records = generate(model, ["Write a positive movie review."], n=3, seed=7)  # doctest: +SKIP

Row ``k`` of a call (counting every sample of every prompt in order) is generated with
seed ``seed + k``, so n samples of one prompt are n different draws, and a re-run with the
same arguments is the same data (and, with the cache, costs no model call).
Taught in ``notebooks/00_quickstart.ipynb``.

Against a model server, ``max_concurrency`` calls run at once, transient failures (rate limits,
timeouts, dropped connections, 5xx) are retried with exponential backoff, and
``checkpoint="run.jsonl"`` saves each finished row so that an interrupted run resumes where it
stopped (``python -m synthlab.llm.serve`` serves the embedded model for this; see its docstring).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import types
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.prompt_values import PromptValue
from tqdm.auto import tqdm

from synthlab.core.records import make_records, new_id, now_iso
from synthlab.llm.checkpoint import Checkpoint
from synthlab.llm.local import ChatLocalLlama
from synthlab.llm.recording import RecordingMissing
from synthlab.llm.retries import call_with_retries

__all__ = [
    "default_concurrency",
    "generate",
    "GenerationError",
    "model_name",
    "Parser",
    "plain_text",
    "prompt_text",
    "PromptLike",
]

PromptLike = str | Sequence[BaseMessage] | PromptValue


Parser = Callable[[str], Mapping[str, Any]]


class GenerationError(RuntimeError):
    """Every row of a generation call failed. The failed rows (raw output and reason on each) are
    kept on the exception as ``records``, so a caller can still log or save them."""

    def __init__(self, message: str, records: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.records = records


def plain_text(output: str) -> dict[str, Any]:
    """The default parser: the stripped completion is the ``text``; an empty one is an error."""
    text = output.strip()
    if not text:
        raise ValueError("empty generation")
    return {"text": text}


def model_name(model: BaseChatModel) -> str:
    """A short, human-readable identity of a chat model (or of the model inside a ``.bind(...)``)
    for the ``model`` column."""
    model = getattr(model, "bound", model)
    for attribute in ("model_name", "model"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    path = getattr(model, "model_path", None)
    if path:
        return str(path).rsplit("/", 1)[-1].removesuffix(".gguf")
    return type(model).__name__


def prompt_text(prompt: PromptLike) -> str:
    """The prompt as one string for the ``prompt`` column (``role: content`` lines for chats)."""
    if isinstance(prompt, str):
        return prompt
    messages = prompt.to_messages() if isinstance(prompt, PromptValue) else prompt
    return "\n".join(f"{message.type}: {message.content}" for message in messages)


def default_concurrency(model: Any) -> int:
    """How many calls :func:`generate` runs at once when ``max_concurrency`` is not given: the embedded model's
    ``n_parallel`` when its calls take the batched path (no log-probabilities, no grammar bound), since its
    batcher decodes them together with the same texts as one at a time; 1 for every other model (calls that
    llama.cpp runs one by one, or a server whose rate limits are the caller's to judge)."""
    options: dict[str, Any] = {}
    while not isinstance(model, BaseChatModel):
        options |= getattr(model, "kwargs", {}) or {}
        inner = getattr(model, "bound", None) or getattr(model, "runnable", None)
        if inner is None:
            return 1
        model = inner
    if not isinstance(model, ChatLocalLlama) or model.logprobs or options.get("logprobs"):
        return 1
    return 1 if options.get("response_format") is not None else model.n_parallel


def _seeded_call(model: BaseChatModel, prompt: PromptLike, seed: int) -> str:
    if type(model).__name__ == "ChatOllama":
        # ChatOllama takes sampling options from its fields, not from call arguments.
        return str(model.model_copy(update={"seed": seed}).invoke(prompt).content)
    return str(model.invoke(prompt, seed=seed).content)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _code_digest(code: types.CodeType) -> str:
    consts = [_code_digest(const) if isinstance(const, types.CodeType) else repr(const) for const in code.co_consts]
    return hashlib.sha256(code.co_code + repr((consts, code.co_names)).encode()).hexdigest()[:12]


def _parser_identity(parse: Parser) -> str:
    """A name for ``parse`` that changes when its code does (a lambda is told apart by its body), so a checkpoint
    is not resumed with another parser; a ``functools.partial`` adds its bound arguments."""
    if isinstance(parse, functools.partial):
        return f"partial({_parser_identity(parse.func)}, {parse.args!r}, {sorted(parse.keywords.items())!r})"
    name = f"{getattr(parse, '__module__', '?')}.{getattr(parse, '__qualname__', type(parse).__qualname__)}"
    code = getattr(parse, "__code__", None)
    return f"{name}:{_code_digest(code)}" if code is not None else name


def generate(
    model: BaseChatModel,
    prompts: Sequence[PromptLike],
    *,
    n: int = 1,
    seed: int = 0,
    labels: Sequence[Any] | None = None,
    conditions: Sequence[Mapping[str, Any]] | None = None,
    parse: Parser = plain_text,
    method: str = "generate",
    generation_round: int = 0,
    parent_ids: Sequence[str | None] | None = None,
    max_concurrency: int | None = None,
    max_retries: int = 3,
    retry_backoff: float = 1.0,
    checkpoint: str | os.PathLike[str] | None = None,
    group_prefixes: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Generate ``n`` samples per prompt and return them as records (see :mod:`synthlab.core.records`).

    ``labels``, ``conditions`` (dicts recorded in ``params``) and ``parent_ids`` align with ``prompts``. With
    ``group_prefixes`` the calls are issued sorted by prompt text, so prompts that share a long prefix (a system
    prompt and demonstrations) run back to back and llama.cpp reuses that prefix's evaluation; rows come back in the
    input order with the same seeds. ``parse`` turns a completion into row fields (``text`` and any others); when it
    raises ``ValueError``, or the model call fails, the row keeps the raw output in ``raw`` and the reason in
    ``error``. Raises :class:`GenerationError` only when every row failed.

    ``max_concurrency`` calls run at once (threads); by default :func:`default_concurrency`: the embedded model's
    ``n_parallel`` rows decoded together (the same texts as one at a time), one call at a time otherwise (pass
    ``max_concurrency`` for a model server). A call that fails
    transiently (:func:`is_transient`: 429, 5xx, timeout, dropped connection) is repeated up to
    ``max_retries`` times, waiting ``retry_backoff`` seconds doubled at each attempt (with jitter);
    its ``error`` then ends with the number of attempts. Other failures (a 400, a parse error) fail
    the row at once. Retrying is this function's job: ``get_chat_model("openai")`` turns the OpenAI
    client's own retries off, so the two layers do not multiply. With ``checkpoint`` (a ``.jsonl``
    path) every finished row is appended as it completes, and a re-run with the same arguments
    keeps the saved successful rows (same ids and texts) and runs only the missing or failed ones;
    a checkpoint written by a call with other arguments raises ``ValueError``. Taught in
    ``notebooks/00_quickstart.ipynb``; the retry/resume behaviour is exercised in ``tests/test_serve.py``.
    """
    if max_concurrency is None:
        max_concurrency = default_concurrency(model)
    _check_arguments(
        prompts,
        n,
        max_concurrency,
        max_retries,
        retry_backoff,
        {"labels": labels, "conditions": conditions, "parent_ids": parent_ids},
    )
    plan = _plan(model, prompts, n, group_prefixes)

    def run(row: int) -> dict[str, Any]:
        index = plan.jobs[row][0]
        record = _new_record(plan, row, seed, labels, conditions, parent_ids, method, generation_round)
        return _call_and_parse(model, prompts[index], record, parse, max_retries, retry_backoff)

    results: list[dict[str, Any] | None] = [None] * len(plan.jobs)
    store = None
    if checkpoint is not None:
        arguments = {
            "n": n,
            "seed": seed,
            "labels": labels,
            "conditions": conditions,
            "parent_ids": parent_ids,
            "method": method,
            "generation_round": generation_round,
            "parse": parse,
        }
        store, saved = _open_checkpoint(checkpoint, plan, arguments)
        for row, record in saved.items():
            results[row] = record
    todo = [row for row in plan.order if results[row] is None]
    with tqdm(total=len(results), initial=len(results) - len(todo), desc=method, disable=not progress) as bar:
        _run_rows(run, todo, results, store, max_concurrency, bar)

    records = make_records(results)  # type: ignore[arg-type]
    if records["error"].notna().all():
        raise GenerationError(
            f"All {len(records)} generations failed; the first error was: {records['error'].iloc[0]}",
            records,
        )
    return records


def _check_arguments(
    prompts: Sequence[PromptLike],
    n: int,
    max_concurrency: int,
    max_retries: int,
    retry_backoff: float,
    aligned: Mapping[str, Sequence[Any] | None],
) -> None:
    """Raise ``ValueError`` naming the first argument ``generate`` cannot run with (``TypeError`` for one string
    where a list is wanted: iterating it would make a prompt, or a label, of each character)."""
    if isinstance(prompts, str):
        raise TypeError(f"prompts must be a list of prompts, not one string; got {prompts[:40]!r}: pass [prompt]")
    for name, values in aligned.items():
        if isinstance(values, str):
            raise TypeError(f"{name} must be a list with one item per prompt, not one string; got {values[:40]!r}")
    if len(prompts) == 0:
        raise ValueError("prompts is empty: pass at least one prompt to generate from.")
    if n < 1:
        raise ValueError(f"n (samples per prompt) must be >= 1; got {n}")
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be >= 1; got {max_concurrency}")
    if max_retries < 0 or retry_backoff < 0:
        raise ValueError(f"max_retries and retry_backoff must be >= 0; got {max_retries} and {retry_backoff}")
    for name, values in aligned.items():
        if values is not None and len(values) != len(prompts):
            raise ValueError(f"{name} has {len(values)} items but prompts has {len(prompts)}; they must align.")


@dataclass(frozen=True)
class _Plan:
    """What one ``generate`` call will run: row ``k`` is sample ``jobs[k][1]`` of prompt ``jobs[k][0]``, with seed
    ``seed + k``; ``order`` is the order the rows are issued in."""

    jobs: list[tuple[int, int]]
    texts: list[str]
    order: list[int]
    identity: str
    model_params: dict[str, Any]


def _plan(model: BaseChatModel, prompts: Sequence[PromptLike], n: int, group_prefixes: bool) -> _Plan:
    """The rows of a call, and the issue order (sorted by prompt text, so shared prefixes run back to back)."""
    jobs = [(index, sample) for index in range(len(prompts)) for sample in range(n)]
    texts = [prompt_text(prompt) for prompt in prompts]
    order = sorted(range(len(jobs)), key=lambda row: texts[jobs[row][0]]) if group_prefixes else list(range(len(jobs)))
    base = getattr(model, "bound", model)
    model_params = {k: v for k, v in getattr(base, "_identifying_params", {}).items() if _is_plain(v)}
    return _Plan(jobs, texts, order, model_name(model), model_params)


def _new_record(
    plan: _Plan,
    row: int,
    seed: int,
    labels: Sequence[Any] | None,
    conditions: Sequence[Mapping[str, Any]] | None,
    parent_ids: Sequence[str | None] | None,
    method: str,
    generation_round: int,
) -> dict[str, Any]:
    """Row ``row``'s record before its model call: provenance, its seed (``seed + row``) and no text yet."""
    index, sample = plan.jobs[row]
    return {
        "id": new_id(),
        "label": labels[index] if labels is not None else None,
        "method": method,
        "model": plan.identity,
        "prompt": plan.texts[index],
        "params": {**plan.model_params, **(dict(conditions[index]) if conditions else {}), "sample": sample},
        "seed": seed + row,
        "parent_id": parent_ids[index] if parent_ids is not None else None,
        "round": generation_round,
        "created_at": now_iso(),
        "raw": None,
    }


def _call_and_parse(
    model: BaseChatModel,
    prompt: PromptLike,
    record: dict[str, Any],
    parse: Parser,
    max_retries: int,
    retry_backoff: float,
) -> dict[str, Any]:
    """Fill ``record`` from one seeded call (retried when transient) and ``parse``; a failure goes in ``error``."""
    attempts = 0

    def call() -> str:
        nonlocal attempts
        attempts += 1
        return _seeded_call(model, prompt, record["seed"])

    try:
        record["raw"] = call_with_retries(call, max_retries=max_retries, retry_backoff=retry_backoff)
        record.update(parse(record["raw"]))
    except RecordingMissing:
        raise  # strict replay: a stale recording fails the run, it is not a failed row
    except Exception as error:  # noqa: BLE001 - any failure is recorded on its row
        record["error"] = f"{type(error).__name__}: {error}" + (f" (after {attempts} attempts)" if attempts > 1 else "")
    return record


def _open_checkpoint(
    path: str | os.PathLike[str], plan: _Plan, arguments: Mapping[str, Any]
) -> tuple[Checkpoint, dict[int, dict[str, Any]]]:
    """The checkpoint of this call (its key covers every argument that changes the rows) and its saved rows."""
    key = {
        "prompts": _digest(plan.texts),
        "n": arguments["n"],
        "seed": arguments["seed"],
        "labels": _digest(arguments["labels"]),
        "conditions": _digest(arguments["conditions"]),
        "parent_ids": _digest(arguments["parent_ids"]),
        "method": arguments["method"],
        "round": arguments["generation_round"],
        "model": plan.identity,
        "model_params": _digest(plan.model_params),
        "parse": _parser_identity(arguments["parse"]),
    }
    store = Checkpoint(path, key)
    return store, store.load()


def _run_rows(
    run: Callable[[int], dict[str, Any]],
    rows: Sequence[int],
    results: list[dict[str, Any] | None],
    store: Checkpoint | None,
    max_concurrency: int,
    bar: Any,
) -> None:
    """Run ``rows`` on ``max_concurrency`` threads, filling ``results`` (and the checkpoint) as each finishes."""
    with ThreadPoolExecutor(max_workers=max_concurrency) as pool:
        futures = {pool.submit(run, row): row for row in rows}
        try:
            for future in as_completed(futures):
                row = futures[future]
                results[row] = future.result()
                if store is not None:
                    store.append(row, results[row])  # type: ignore[arg-type]
                bar.update(1)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # on Ctrl-C, start no new calls
            raise


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list))
