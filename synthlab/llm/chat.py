"""One chat-model interface for every backend: the embedded SmolLM2 model, OpenAI-compatible
servers and Ollama, all as LangChain ``BaseChatModel`` objects with a persistent cache.

>>> model = get_chat_model("local", temperature=0.8, seed=1)     # doctest: +SKIP
>>> model.invoke("Write a one-line movie review.").content       # doctest: +SKIP

Taught in ``notebooks/00_quickstart.ipynb``.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from langchain_core.caches import BaseCache
from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable

from synthlab.llm.cache import get_cache
from synthlab.llm.llama_io import json_schema_format
from synthlab.llm.local import ChatLocalLlama
from synthlab.llm.recording import active_recording, recorded_cache

__all__ = ["BACKENDS", "constrain", "get_chat_model"]

BACKENDS = ("local", "openai", "ollama")


def _cache_argument(cache: bool | BaseCache | str | os.PathLike[str] | None, seeded: bool) -> BaseCache | bool:
    if cache is False or cache is None:
        return False
    if isinstance(cache, BaseCache):
        return cache
    if not seeded:
        # An unseeded call is a fresh random draw; caching it would return one draw forever.
        return False
    if cache is True and (name := active_recording()) is not None:
        return recorded_cache(name)  # the run's recording (replayed, checked or written, per $SYNTHLAB_REPLAY)
    return get_cache(None if cache is True else cache)


def get_chat_model(
    name: Literal["local", "openai", "ollama"] = "local",
    *,
    cache: bool | BaseCache | str | os.PathLike[str] | None = True,
    **params: Any,
) -> BaseChatModel:
    """Return a LangChain chat model for a backend, with synthlab's persistent cache.

    - ``"local"``: the embedded SmolLM2-135M-Instruct on the CPU (:class:`ChatLocalLlama`);
      params: temperature, top_p, max_tokens, seed, stop, n_ctx, logprobs, top_logprobs.
    - ``"openai"``: ``ChatOpenAI`` for any OpenAI-compatible server; params ``base_url``,
      ``model`` and the usual ChatOpenAI options; the key comes from ``OPENAI_API_KEY``.
      The OpenAI client's own retries are off (``max_retries=0``) because
      :func:`synthlab.llm.generate.generate` retries transient failures per row with backoff and
      records the attempts; pass ``max_retries=N`` to retry direct ``invoke`` calls too
      (inside ``generate`` the two layers then multiply). ``python -m synthlab.llm.serve`` serves
      the embedded model on such an endpoint.
    - ``"ollama"``: ``ChatOllama``; params ``model`` and ``base_url``.

    ``cache=True`` uses the shared cache at :func:`synthlab.llm.cache.default_cache_path`, seen through the
    run's recording when one is in use (:mod:`synthlab.llm.recording`: notebooks replay their recorded calls);
    pass a path or a cache object to use another, or ``False`` for none. Every backend is
    seeded (``seed=0`` unless given); a model made with ``seed=None`` is not cached, since
    each of its calls is meant to be a fresh draw.
    """
    params.setdefault("seed", 0)
    seeded = params["seed"] is not None
    cache_arg = _cache_argument(cache, seeded)
    if name == "local":
        return ChatLocalLlama(cache=cache_arg, **params)
    if name == "openai":
        from langchain_openai import ChatOpenAI

        if "base_url" not in params and not os.environ.get("OPENAI_BASE_URL"):
            if not os.environ.get("OPENAI_API_KEY"):
                raise ValueError(
                    "The 'openai' backend needs a server: pass base_url='http://host:port/v1' "
                    "(vLLM, llama.cpp server, LM Studio) or set OPENAI_API_KEY for OpenAI itself."
                )
        params.setdefault("max_retries", 0)  # generate() owns retries; see the docstring
        if params.get("base_url") and not os.environ.get("OPENAI_API_KEY") and "api_key" not in params:
            params["api_key"] = "not-needed"  # local OpenAI-compatible servers accept any key
        return ChatOpenAI(cache=cache_arg, **params)
    if name == "ollama":
        from langchain_ollama import ChatOllama

        if "model" not in params:
            raise ValueError("The 'ollama' backend needs model='<name>' (for example model='smollm2:135m').")
        return ChatOllama(cache=cache_arg, **params)
    raise ValueError(f"Unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")


def constrain(model: BaseChatModel, schema: dict[str, Any]) -> BaseChatModel | Runnable:
    """``model`` bound to a grammar that makes every reply a JSON value of ``schema``, where the backend decodes
    under one (the embedded model, through llama.cpp's JSON-schema grammar); any other backend unchanged, so its
    free-text reply goes to the caller's parser, which must read both.

    >>> constrain(get_chat_model("local"), {"type": "string", "enum": ["A", "B"]})   # doctest: +SKIP
    """
    if isinstance(model, ChatLocalLlama):
        return model.bind(response_format=json_schema_format(schema))
    return model
