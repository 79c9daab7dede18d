"""Ollama's chat API as :mod:`synthlab.llm.serve` speaks it: requests translated to the OpenAI chat-completion
body the server already answers, and replies, model lists and errors in Ollama's shapes.

``POST /api/chat`` takes ``messages`` and ``options`` (``temperature``, ``top_p``, ``num_predict``, ``seed``,
``stop``) and streams as NDJSON (one line with the whole reply, then the ``done`` line) unless ``"stream":
false``; ``GET /api/tags`` lists the one model; errors are ``{"error": "..."}``. This lets
``get_chat_model("ollama", base_url=server.ollama_url, model="smollm2")`` run against the embedded model
(``tests/test_serve_ollama.py``): a test of the wire protocol, not of an Ollama server.

>>> openai_request({"messages": [{"role": "user", "content": "hi"}], "options": {"num_predict": -1}})
({'messages': [{'role': 'user', 'content': 'hi'}]}, True)
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import BaseMessage

__all__ = ["ollama_chat_lines", "ollama_error", "ollama_tags", "openai_request"]

_OPTIONS = {"temperature": ((int, float), "a number"), "top_p": ((int, float), "a number"), "seed": (int, "an integer")}
_UNSUPPORTED = ("format", "tools", "think")


def openai_request(body: Any) -> tuple[dict[str, Any], bool]:
    """The OpenAI ``/v1/chat/completions`` body asking what an Ollama ``/api/chat`` ``body`` asks, and whether to
    stream (Ollama streams unless ``"stream": false``). Raises ``ValueError`` or ``TypeError`` (answered with HTTP
    400) naming an Ollama-only problem; the
    messages are checked where the OpenAI body is parsed (:func:`synthlab.llm.serve.parse_chat_request`)."""
    if not isinstance(body, dict):
        raise TypeError(f"the request body must be a JSON object; got {type(body).__name__}")
    for name in _UNSUPPORTED:
        if body.get(name):
            raise ValueError(f"{name!r} is not supported by synthlab.llm.serve; remove it from the request")
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise TypeError(f"options must be a JSON object; got {options!r}")
    kinds = {**_OPTIONS, "num_predict": (int, "an integer")}
    for name, (kind, what) in kinds.items():
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
            raise ValueError(f"options.{name} must be {what}; got {value!r}")
    stop = options.get("stop")
    if stop is not None and not (isinstance(stop, list) and all(isinstance(item, str) for item in stop)):
        raise ValueError(f"options.stop must be a list of strings; got {stop!r}")
    request = {"messages": body.get("messages"), **{name: options.get(name) for name in _OPTIONS}}
    if options.get("num_predict") is not None and options["num_predict"] >= 0:  # Ollama's -1: only the context
        request["max_tokens"] = options["num_predict"]
    request["stop"] = stop or None
    return {name: value for name, value in request.items() if value is not None}, body.get("stream", True) is not False


def ollama_chat_lines(message: BaseMessage, alias: str, stream: bool) -> list[dict[str, Any]]:
    """Ollama's ``/api/chat`` reply: one ``done`` object, or (``stream``) the whole text then an empty ``done``
    line, as Ollama ends a stream."""
    usage = getattr(message, "usage_metadata", None) or {}
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = {"role": "assistant", "content": str(message.content)}
    done = {
        "model": alias,
        "created_at": created,
        "message": {"role": "assistant", "content": ""} if stream else text,
        "done": True,
        "done_reason": message.response_metadata.get("finish_reason") or "stop",
        "prompt_eval_count": usage.get("input_tokens", 0),
        "eval_count": usage.get("output_tokens", 0),
    }
    return [{"model": alias, "created_at": created, "message": text, "done": False}, done] if stream else [done]


def ollama_tags(alias: str) -> dict[str, Any]:
    """Ollama's ``/api/tags`` reply: the server's one model, named ``alias``."""
    return {"models": [{"name": alias, "model": alias, "details": {}}]}


def ollama_error(message: str) -> dict[str, str]:
    """Ollama's error body, which its clients raise as ``ollama.ResponseError(message)``."""
    return {"error": message}
