"""Generation likelihood (taxonomy C1, SuperGen; Meng et al., 2022, "Generating Training Data with
Language Models: Towards Zero-Shot Language Understanding"): how probable the model finds each
generated text as the answer to its prompt, a quality signal for the rows it wrote.

:func:`score_likelihood` runs the embedded model once over each prompt followed by its text and
reads the log-probability of every text token (teacher forcing): ``mean_logprob``, ``perplexity``
(``exp(-mean_logprob)``) and ``n_tokens`` per row (:func:`sequence_likelihood` computes them from a
list of token log-probabilities). For the model's own completion this is the probability it gave
those tokens while generating (llama.cpp's log-probabilities come from the logits before
temperature), but it costs one forward pass instead of asking llama.cpp for ``logprobs=True`` at
generation time, which sorts the whole 49k-token vocabulary in Python at every token (about ten
times slower), and it scores rows that were generated (and cached) without log-probabilities.
SuperGen keeps the most likely rows: ``suspicion = -mean_logprob`` ranks the others first.
Taught in ``notebooks/11_learning_dynamics.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.prompt_values import PromptValue
from tqdm.auto import tqdm

from synthlab.llm.generate import PromptLike, prompt_text
from synthlab.llm.local import ChatLocalLlama

__all__ = ["score_likelihood", "sequence_likelihood"]


def sequence_likelihood(logprobs: Sequence[float]) -> dict[str, float | int | None]:
    """``mean_logprob`` (mean of the token log-probabilities), ``perplexity``
    (``exp(-mean_logprob)``) and ``n_tokens``; all None for an empty sequence.

    >>> sequence_likelihood([-1.0, -3.0])
    {'mean_logprob': -2.0, 'perplexity': 7.38905609893065, 'n_tokens': 2}
    """
    if len(logprobs) == 0:
        return {"mean_logprob": None, "perplexity": None, "n_tokens": None}
    mean = float(np.mean(logprobs))
    return {"mean_logprob": mean, "perplexity": math.exp(-mean), "n_tokens": len(logprobs)}


def _as_messages(prompt: PromptLike) -> list[BaseMessage]:
    if isinstance(prompt, str):
        return [HumanMessage(prompt)]
    return prompt.to_messages() if isinstance(prompt, PromptValue) else list(prompt)


def score_likelihood(
    model: ChatLocalLlama,
    prompts: Sequence[PromptLike],
    texts: Sequence[str],
    *,
    progress: bool = True,
) -> pd.DataFrame:
    """SuperGen's signal for each ``(prompt, text)`` pair: ``mean_logprob``, ``perplexity`` and
    ``n_tokens`` of ``text`` as the embedded model's answer to ``prompt`` (one row per pair; a
    ``pd.Series`` of texts keeps its index). Higher ``mean_logprob`` = more likely; rank rows for
    removal with ``-mean_logprob``. Only the embedded model (``get_chat_model("local")``) exposes its
    logits; another model raises a ``TypeError``. Texts that are not strings raise, naming the rows.

    >>> prompts, labels, _ = review_prompts(40, seed=0)                       # doctest: +SKIP
    >>> scores = score_likelihood(model, prompts, rows["raw"])                 # doctest: +SKIP
    """
    if not isinstance(model, ChatLocalLlama):
        raise TypeError(
            f"score_likelihood needs the embedded model (get_chat_model('local')), whose token "
            f"log-probabilities it reads; got {type(model).__name__}"
        )
    if len(prompts) != len(texts):
        raise ValueError(f"prompts has {len(prompts)} items but texts has {len(texts)}; give one prompt per text")
    index = texts.index if isinstance(texts, pd.Series) else pd.RangeIndex(len(texts))
    values = list(texts)
    bad = [label for label, text in zip(index, values) if not isinstance(text, str)]
    if bad:
        raise TypeError(
            f"{len(bad)} text(s) are not strings (index {bad[:5]}); drop failed rows first, e.g. "
            "with synthlab.curation.filters.drop_malformed"
        )
    # Score in prompt order, so prompts that share a prefix run back to back and llama.cpp reuses it.
    order = sorted(range(len(values)), key=lambda position: prompt_text(prompts[position]))
    rows: list[dict[str, float | int | None]] = [{}] * len(values)
    for position in tqdm(order, desc="likelihood", disable=not progress):
        rows[position] = sequence_likelihood(model.token_logprobs(_as_messages(prompts[position]), values[position]))
    return pd.DataFrame(rows, index=index, columns=["mean_logprob", "perplexity", "n_tokens"])
