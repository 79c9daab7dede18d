"""Self-Instruct bootstrapping (Wang et al., 2023; taxonomy G8): a pool of tasks that grows from
human-written seeds, one step at a time.

Each step samples 8 in-context tasks (6 human seeds and 2 machine-generated tasks from earlier steps, when there are
any), asks the model for new tasks, drops those that fail the quality filter or have ROUGE-L >= 0.7 with any task
already in the pool (:func:`synthlab.generation.instructions.filters.filter_instructions`), and adds the survivors
to the pool, which the next step samples from. The per-step table records what was offered, rejected and accepted,
and the pool size, so the rejection rate as the pool grows can be plotted. The loop always ends: after ``steps``
steps, when the pool reaches ``target``, or after ``patience`` steps in a row that added nothing, with a warning
that says why.

>>> result = self_instruct(get_chat_model("local"), load("instruction_seeds")["instruction"])  # doctest: +SKIP
>>> result.table[["step", "offered", "accepted", "rejection_rate", "pool_size"]]               # doctest: +SKIP

Taught in ``notebooks/05_instruction_bootstrapping.ipynb``.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from tqdm.auto import tqdm

from synthlab.core.checks import check_at_least, check_texts
from synthlab.core.text import NoveltyPool
from synthlab.generation.instructions.filters import (
    explode_instructions,
    filter_instructions,
    mark_empty,
    parse_instruction_list,
)
from synthlab.llm.generate import generate

__all__ = ["PROMPT", "self_instruct", "self_instruct_prompt", "SelfInstructResult"]

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant who writes tasks for other assistants."),
        (
            "human",
            (
                "Here are some example tasks:\n{tasks}\n\nCome up with {n_new} new and different tasks. Write one "
                "task per line, numbered, each one a single instruction. Do not answer them."
            ),
        ),
    ]
)


@dataclass
class SelfInstructResult:
    """What :func:`self_instruct` made: ``kept`` (machine tasks admitted to the pool, in order),
    ``removed`` (rejected candidates with their ``reason``), ``calls`` (one row per model call,
    with ``raw`` and ``error``), ``table`` (one row per step), the ``pool`` and why it ``stopped``."""

    kept: pd.DataFrame
    removed: pd.DataFrame
    calls: pd.DataFrame
    table: pd.DataFrame
    pool: NoveltyPool
    stopped: str


def self_instruct_prompt(tasks: Sequence[str], n_new: int = 5) -> PromptValue:
    """The prompt of one Self-Instruct call: the in-context ``tasks`` as a numbered list and a
    request for ``n_new`` new ones (the chat-model form of the paper's "Come up with a series of tasks")."""
    listing = "\n".join(f"{number}. {task}" for number, task in enumerate(tasks, start=1))
    return PROMPT.invoke({"tasks": listing, "n_new": n_new})


def self_instruct(
    model: BaseChatModel,
    seeds: Sequence[str],
    *,
    steps: int = 6,
    prompts_per_step: int = 2,
    n_human: int = 6,
    n_machine: int = 2,
    n_new: int = 5,
    threshold: float = 0.7,
    target: int | None = None,
    patience: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> SelfInstructResult:
    """Grow a task pool from human ``seeds`` with Self-Instruct, for at most ``steps`` steps.

    Each step makes ``prompts_per_step`` calls; each call shows ``n_human`` seed tasks and
    ``n_machine`` machine tasks (seed tasks fill in while there are too few machine tasks), shuffled,
    and asks for ``n_new`` new tasks. Call ``j`` of step ``s`` is generated with seed
    ``seed + s * prompts_per_step + j``; its params record the tasks it was shown (``demos``).
    The loop stops early when the machine pool reaches ``target`` or after ``patience`` steps in a
    row without a new task (then it warns, quoting the last error: a model that never writes a
    parseable list ends the loop with a report, not a hang).
    """
    texts = check_texts(
        seeds,
        "seeds",
        at_least=1,
        blank=False,
        hint="pass at least one human-written instruction, for example load('instruction_seeds')['instruction']",
    )
    seeds = list(dict.fromkeys(text.strip() for text in texts))  # a task repeated with other inputs is one task
    check_at_least(
        steps=(steps, 1),
        prompts_per_step=(prompts_per_step, 1),
        n_human=(n_human, 1),
        n_machine=(n_machine, 0),
        n_new=(n_new, 1),
        patience=(patience, 1),
    )
    if target is not None and target < 1:
        raise ValueError(f"target must be >= 1 machine tasks, or None to run all steps; got {target}")
    rng = random.Random(seed)
    pool = NoveltyPool(threshold=threshold, texts=seeds)
    kept, removed, calls, rows = [], [], [], []
    machine: list[str] = []
    idle, stopped = 0, f"ran all {steps} steps"
    for step in tqdm(range(steps), desc="self-instruct", disable=not progress):
        shown = [_sample_tasks(rng, seeds, machine, n_human, n_machine) for _ in range(prompts_per_step)]
        step_calls = generate(
            model,
            [self_instruct_prompt(tasks, n_new) for tasks, _ in shown],
            seed=seed + step * prompts_per_step,
            parse=parse_instruction_list,
            conditions=[{"demos": tasks, "n_machine_demos": k} for tasks, k in shown],
            method="self-instruct",
            generation_round=step,
            progress=False,
        )
        step_calls = mark_empty(step_calls, "instructions", "no numbered list of tasks in the answer")
        step_kept, step_removed = filter_instructions(explode_instructions(step_calls), pool)
        machine += step_kept["text"].tolist()
        calls.append(step_calls)
        kept.append(step_kept)
        removed.append(step_removed)
        rows.append(_step_row(step, step_calls, step_kept, step_removed, len(pool.texts), len(machine)))
        idle = 0 if len(step_kept) else idle + 1
        if target is not None and len(machine) >= target:
            stopped = f"reached the target of {target} machine tasks at step {step}"
            break
        if idle >= patience:
            stopped = _idle_report(idle, step, step_calls, step_removed)
            warnings.warn(f"self_instruct stopped early: {stopped}", stacklevel=2)
            break
    return SelfInstructResult(
        pd.concat(kept, ignore_index=True),
        pd.concat(removed, ignore_index=True),
        pd.concat(calls, ignore_index=True),
        pd.DataFrame(rows),
        pool,
        stopped,
    )


def _sample_tasks(
    rng: random.Random, seeds: list[str], machine: list[str], n_human: int, n_machine: int
) -> tuple[list[str], int]:
    """The in-context tasks of one call, shuffled, and how many of them are machine-generated."""
    tasks = rng.sample(machine, min(n_machine, len(machine)))
    from_machine = len(tasks)
    tasks += rng.sample(seeds, min(n_human + n_machine - from_machine, len(seeds)))
    rng.shuffle(tasks)
    return tasks, from_machine


def _step_row(
    step: int,
    calls: pd.DataFrame,
    kept: pd.DataFrame,
    removed: pd.DataFrame,
    pool_size: int,
    machine_size: int,
) -> dict[str, float | int]:
    offered = len(kept) + len(removed)
    by_novelty = int(removed["rouge_l"].notna().sum())  # offered to the novelty filter, and rejected by it
    to_novelty = len(kept) + by_novelty
    return {
        "step": step,
        "calls": len(calls),
        "failed_calls": int(calls["error"].notna().sum()),
        "offered": offered,
        "rejected_quality": len(removed) - by_novelty,
        "rejected_novelty": by_novelty,
        "accepted": len(kept),
        "rejection_rate": (offered - len(kept)) / offered if offered else 0.0,
        "novelty_rejection_rate": by_novelty / to_novelty if to_novelty else 0.0,
        "pool_size": pool_size,
        "machine_size": machine_size,
    }


def _idle_report(idle: int, step: int, calls: pd.DataFrame, removed: pd.DataFrame) -> str:
    if calls["error"].notna().all():
        last = calls["error"].dropna().iloc[-1]
        why = f"no call of the last step gave a parseable list (last error: {last}; see result.calls['raw'])"
    else:
        reasons = removed["reason"].value_counts()
        why = f"every candidate was rejected (most often: {reasons.index[0]!r})" if len(reasons) else "no candidates"
    return f"{idle} steps in a row added no task, ending at step {step}: {why}"
