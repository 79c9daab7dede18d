"""What crosses between LangChain and llama.cpp for the embedded model (:class:`synthlab.llm.local.ChatLocalLlama`):
messages in, the ``response_format`` of a JSON-schema grammar, and the reply's token log-probabilities and usage
out, in OpenAI's layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.messages import BaseMessage, ChatMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.utils.function_calling import convert_to_json_schema
from pydantic import BaseModel
from pydantic.v1 import BaseModel as BaseModelV1

__all__ = ["json_schema_format", "reply_logprobs", "text_content", "to_llama_messages", "usage_metadata"]


def text_content(message: BaseMessage) -> str:
    """The text of a message (its text blocks joined); any other block raises ``ValueError``."""
    if isinstance(message.content, str):
        return message.content
    parts = []
    for block in message.content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(block["text"])
        else:
            raise ValueError(
                f"The local model reads text only; got a {block.get('type', type(block).__name__)!r} "
                "content block. Send plain text, or use a multimodal backend."
            )
    return "".join(parts)


def to_llama_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as llama.cpp's ``{"role", "content"}`` dicts (system, user, assistant)."""
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    converted = []
    for message in messages:
        if isinstance(message, ChatMessage):
            role = message.role
        elif message.type in roles:
            role = roles[message.type]
        else:
            raise ValueError(
                f"The local model does not take {message.type!r} messages (no tool calling); "
                "use system, human and AI messages."
            )
        converted.append({"role": role, "content": text_content(message)})
    return converted


def reply_logprobs(llama: Any, n_prompt: int, sampled: list[dict[str, Any]], top: int) -> dict[str, Any]:
    """The reply's token log-probabilities in OpenAI's layout, read from the logits llama.cpp kept for every
    position (call under the model's lock, right after the completion). Each token carries its ``bytes``, as
    OpenAI's ``logprobs.content[].bytes`` does: a character split over several tokens (an emoji, an accent,
    a non-Latin script) has no text of its own, so its ``token`` text shows the bytes escaped and only the
    bytes of all tokens join into the reply. ``top_logprobs`` are the ``top`` most likely distinct token ids.
    ``sampled`` is llama-cpp-python's own list, used for the reported log-probabilities only."""
    rows = np.array(llama.scores[n_prompt - 1 : n_prompt - 1 + len(sampled)], dtype=np.float64)
    shifted = rows - rows.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    ids = llama.input_ids[n_prompt : llama.n_tokens].tolist()[: len(sampled)]
    if len(ids) < len(sampled):  # a reply cut by max_tokens: its last token was sampled but never evaluated
        ids.append(int(np.abs(log_softmax[len(ids)] - sampled[len(ids)]["logprob"]).argmin()))

    def entry(token: int, logprob: float) -> dict[str, Any]:
        piece = llama.detokenize([token])
        return {"token": piece.decode("utf-8", errors="backslashreplace"), "bytes": list(piece), "logprob": logprob}

    content = []
    for position, token in enumerate(ids):
        best = np.argsort(-log_softmax[position], kind="stable")[:top]
        content.append(
            entry(token, float(log_softmax[position, token]))
            | {"top_logprobs": [entry(int(other), float(log_softmax[position, other])) for other in best]}
        )
    return {"content": content}


def usage_metadata(usage: dict[str, int] | None) -> UsageMetadata | None:
    """llama.cpp's ``usage`` as LangChain's ``UsageMetadata`` (None when it reported none)."""
    if not usage:
        return None
    return UsageMetadata(
        input_tokens=usage["prompt_tokens"],
        output_tokens=usage["completion_tokens"],
        total_tokens=usage["prompt_tokens"] + usage["completion_tokens"],
    )


def json_schema_format(schema: dict[str, Any] | type[BaseModel] | type) -> dict[str, Any]:
    """The ``response_format`` that makes llama.cpp's grammar follow ``schema`` (a pydantic model,
    TypedDict or JSON schema). Bind it to keep plain-text replies that are valid JSON, for example
    ``generate(model.bind(response_format=json_schema_format(Review)), prompts, parse=parse_json)``
    (taught in ``notebooks/00_quickstart.ipynb``); :meth:`ChatLocalLlama.with_structured_output`
    uses it and parses into objects."""
    if isinstance(schema, dict) and "title" not in schema:
        json_schema = schema  # a bare JSON schema (a string enum, an object without a title) is used as it is
    elif isinstance(schema, type) and issubclass(schema, BaseModel):
        json_schema = schema.model_json_schema()
    elif isinstance(schema, type) and issubclass(schema, BaseModelV1):
        json_schema = schema.schema()
    else:
        json_schema = convert_to_json_schema(schema)
    return {"type": "json_object", "schema": json_schema}
