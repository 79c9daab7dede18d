"""Serve a chat model (by default the embedded SmolLM2) on an OpenAI-compatible HTTP endpoint with
``parallel`` slots, so that synthlab's concurrent remote generation can be tried on one machine.

    python -m synthlab.llm.serve --port 8000 --parallel 4

>>> model = get_chat_model("openai", base_url="http://127.0.0.1:8000/v1", model="smollm2")  # doctest: +SKIP
>>> generate(model, prompts, max_concurrency=4, checkpoint="run.jsonl")                     # doctest: +SKIP

Endpoints: ``GET /v1/models`` and non-streaming ``POST /v1/chat/completions`` (``messages``,
``temperature``, ``top_p``, ``max_tokens`` or ``max_completion_tokens``, ``seed``, ``stop``). A
request without ``seed`` uses the model's (0), so it is reproducible. At most ``parallel`` requests
are inside the model at once; the others wait for a slot. Each request runs on its own thread
(stdlib ``ThreadingHTTPServer``), and the embedded model is made with ``n_parallel=parallel``, so
concurrent requests are decoded together by its continuous batching (:mod:`synthlab.llm.batching`).
llama.cpp's own ``llama-server --parallel N`` does the same in C++ but ships on PyPI
only as a source build; ``python -m llama_cpp.server`` answers one request at a time. A malformed
request gets HTTP 400 with an OpenAI-style JSON error naming the problem in one line: a ``Content-Length``
that is not a number, a body that is not JSON or nested too deeply, or a body that stops short of its
``Content-Length`` (waited for ``read_timeout`` seconds at most); a body over ``max_body`` bytes gets 413, a
GET to the POST route (or the reverse) 405. Exercised in ``tests/test_serve.py``,
``tests/test_faults_server.py`` and ``benchmarks/bench_concurrency.py``.

The same server speaks Ollama's chat API over the same model (:mod:`synthlab.llm.ollama_api`), for
``get_chat_model("ollama", base_url=server.ollama_url, model="smollm2")``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

from synthlab.llm.ollama_api import ollama_chat_lines, ollama_error, ollama_tags, openai_request

__all__ = [
    "BadRequest",
    "ChatServer",
    "completion_body",
    "in_background",
    "main",
    "make_server",
    "one_line",
    "parse_chat_request",
    "running",
    "ServerT",
]

_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
_UNSUPPORTED = ("tools", "functions", "tool_choice", "response_format", "logprobs")


class BadRequest(ValueError):
    """A request the server cannot answer; its message is sent back with HTTP 400."""


def _number(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise BadRequest(f"{name} must be a {getattr(kind, '__name__', 'number')}; got {value!r}")
    return value


def parse_chat_request(body: Any) -> tuple[list[BaseMessage], dict[str, Any]]:
    """The LangChain messages and call options of an OpenAI ``/v1/chat/completions`` body;
    raises :class:`BadRequest` naming the problem."""
    if not isinstance(body, dict):
        raise BadRequest(f"the request body must be a JSON object; got {type(body).__name__}")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise BadRequest("'messages' must be a non-empty list of {'role': ..., 'content': ...} objects")
    messages: list[BaseMessage] = []
    for position, message in enumerate(raw_messages):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in _ROLES:
            raise BadRequest(f"messages[{position}].role must be one of {sorted(_ROLES)}; got {role!r}")
        if not isinstance(content, str) and not (isinstance(content, list) and all(map(_is_text_part, content))):
            raise BadRequest(
                f"messages[{position}].content must be a string or a list of text parts "
                "(strings or {'type': 'text', 'text': ...} objects)"
            )
        messages.append(_ROLES[role](content=content))
    if body.get("stream"):
        raise BadRequest("stream=true is not supported by synthlab.llm.serve; send a non-streaming request")
    if body.get("n", 1) != 1:
        raise BadRequest(
            f"n must be 1 (one choice per request); got {body['n']!r}. Send n requests with different seeds"
        )
    for name in _UNSUPPORTED:
        if body.get(name):
            raise BadRequest(f"{name!r} is not supported by synthlab.llm.serve; remove it from the request")
    options = {
        "temperature": _number(body, "temperature", (int, float)),
        "top_p": _number(body, "top_p", (int, float)),
        "max_tokens": _number(body, "max_completion_tokens", int) or _number(body, "max_tokens", int),
        "seed": _number(body, "seed", int),
    }
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise BadRequest(f"stop must be a string or a list of strings; got {stop!r}")
    options = {name: value for name, value in options.items() if value is not None}
    if stop:
        options["stop"] = stop
    return messages, options


def _is_text_part(part: Any) -> bool:
    return isinstance(part, str) or (isinstance(part, dict) and isinstance(part.get("text"), str))


def one_line(error: Exception) -> str:
    """A short one-line message for ``error`` (a pydantic ``ValidationError`` as its first problems)."""
    if isinstance(error, ValidationError):
        problems = [f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors()]
        text = f"{error.title}: " + "; ".join(problems[:3])
    else:
        text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text if len(text) <= 300 else text[:297] + '...'}"


def completion_body(message: BaseMessage, alias: str) -> dict[str, Any]:
    """The OpenAI ``chat.completion`` JSON for a model's reply."""
    usage = getattr(message, "usage_metadata", None) or {}
    prompt_tokens, completion_tokens = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": alias,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": str(message.content)},
                "finish_reason": message.response_metadata.get("finish_reason") or "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class ChatServer(ThreadingHTTPServer):
    """A threading HTTP server holding the model, its alias and a semaphore of ``parallel`` slots."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self,
        model: BaseChatModel,
        host: str,
        port: int,
        parallel: int,
        alias: str,
        verbose: bool,
        *,
        read_timeout: float = 10.0,
        max_body: int = 16 * 2**20,
    ) -> None:
        if parallel < 1:
            raise ValueError(f"parallel (slots) must be >= 1; got {parallel}")
        if read_timeout <= 0 or max_body < 1:
            raise ValueError(f"read_timeout and max_body must be positive; got {read_timeout} and {max_body}")
        super().__init__((host, port), _Handler)
        self.model, self.alias, self.parallel, self.verbose = model, alias, parallel, verbose
        self.read_timeout, self.max_body = read_timeout, max_body
        self.slots = threading.BoundedSemaphore(parallel)

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give ``get_chat_model("openai", ...)``."""
        return f"{self.ollama_url}/v1"

    @property
    def ollama_url(self) -> str:
        """The ``base_url`` to give ``get_chat_model("ollama", ...)``."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections
    server: ChatServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(
        self,
        status: int,
        body: dict[str, Any] | list[dict[str, Any]],
        headers: dict[str, str] | None = None,
    ) -> None:
        """``body`` as JSON, or a list of objects as NDJSON (one per line: Ollama's stream)."""
        lines = isinstance(body, list)
        data = "".join(json.dumps(line) + "\n" for line in body).encode() if lines else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-ndjson" if lines else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout): no one to answer
            self.close_connection = True

    def _error(
        self, status: int, message: str, kind: str = "invalid_request_error", headers: dict[str, str] | None = None
    ) -> None:
        """An OpenAI-style error, or Ollama's ``{"error": message}`` on its ``/api/`` routes."""
        if self.path.startswith("/api/"):
            self._send(status, ollama_error(message), headers)
        else:
            self._send(status, {"error": {"message": message, "type": kind, "code": status}}, headers)

    def _refuse(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        """An error after which the connection closes: the rest of the body, if any, is never read."""
        self.close_connection = True
        self._error(status, message, kind, {"Connection": "close"})

    def _wrong_method(self, allowed: str) -> None:
        self._error(405, f"{self.path} answers {allowed} only", "method_not_allowed", {"Allow": allowed})

    def _body(self) -> bytes | None:
        """The request body, or None after refusing it (a bad or too large Content-Length, a body cut short)."""
        declared = self.headers.get("Content-Length", "0").strip()
        if not (declared.isascii() and declared.isdigit()):
            self._refuse(400, f"Content-Length must be a whole number of bytes; got {declared!r}")
            return None
        length = int(declared)
        if length > self.server.max_body:
            limit = self.server.max_body
            self._refuse(413, f"the body of {length} bytes is over this server's limit of {limit}", "too_large")
            return None
        deadline, chunks, received = time.monotonic() + self.server.read_timeout, [], 0
        try:
            while received < length:
                self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = self.rfile.read1(length - received)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
        except TimeoutError:
            pass
        finally:
            self.connection.settimeout(None)
        if received < length:
            self._refuse(
                400,
                f"the body ended after {received} of the {length} bytes its Content-Length declares "
                f"(waited {self.server.read_timeout:g} s); send the whole body or the right Content-Length",
            )
            return None
        return b"".join(chunks)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/chat/completions", "/api/chat"):
            self._wrong_method("POST")
        elif self.path.rstrip("/") == "/api/tags":
            self._send(200, ollama_tags(self.server.alias))
        elif self.path.rstrip("/") == "/v1/models":
            models = [{"id": self.server.alias, "object": "model", "owned_by": "synthlab"}]
            self._send(200, {"object": "list", "data": models})
        else:
            self._error(
                404, f"no such endpoint {self.path!r}; use /v1/models, /v1/chat/completions or /api/tags", "not_found"
            )

    def do_POST(self) -> None:
        raw = self._body()
        if raw is None:
            return
        route = self.path.rstrip("/")
        if route in ("/v1/models", "/api/tags"):
            self._wrong_method("GET")
            return
        if route not in ("/v1/chat/completions", "/api/chat"):
            self._error(404, f"no such endpoint {self.path!r}; POST to /v1/chat/completions or /api/chat", "not_found")
            return
        try:
            request = json.loads(raw or b"null")
            body, stream = openai_request(request) if route == "/api/chat" else (request, False)
            messages, options = parse_chat_request(body)
            with self.server.slots:
                reply = self.server.model.invoke(messages, **options)
        except json.JSONDecodeError as error:
            self._error(400, f"the request body is not valid JSON: {error.msg} at position {error.pos}")
        except RecursionError:
            self._error(400, "the request body is nested too deeply; send a flat chat completion request")
        except (ValueError, TypeError) as error:  # BadRequest, or an option the model's validators reject
            self._error(400, one_line(error))
        except Exception as error:  # noqa: BLE001 - any model failure becomes a 500 for this request only
            self._error(500, f"{type(error).__name__}: {error}", "server_error")
        else:
            if route == "/api/chat":
                lines = ollama_chat_lines(reply, self.server.alias, stream)
                self._send(200, lines if stream else lines[0])  # NDJSON when streamed, else one JSON object
            else:
                self._send(200, completion_body(reply, self.server.alias))


def make_server(
    model: BaseChatModel | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    parallel: int = 1,
    alias: str = "smollm2",
    verbose: bool = False,
    read_timeout: float = 10.0,
    max_body: int = 16 * 2**20,
) -> ChatServer:
    """An OpenAI-compatible server for ``model`` (default: the embedded model, uncached, batching up
    to ``parallel`` sequences) bound to ``host:port`` (``port=0`` picks a free one; see
    ``server.base_url``); call ``serve_forever()``, or use :func:`running`. A request body must arrive
    within ``read_timeout`` seconds and hold at most ``max_body`` bytes."""
    if model is None:
        from synthlab.llm.chat import get_chat_model

        model = get_chat_model("local", cache=False, n_parallel=parallel)
    return ChatServer(model, host, port, parallel, alias, verbose, read_timeout=read_timeout, max_body=max_body)


ServerT = TypeVar("ServerT", bound=ThreadingHTTPServer)


@contextmanager
def in_background(server: ServerT) -> Iterator[ServerT]:
    """Serve ``server`` on a daemon thread for the duration of a ``with`` block, then shut it down."""
    thread = threading.Thread(target=server.serve_forever, name=type(server).__name__, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def running(model: BaseChatModel | None = None, **options: Any) -> Iterator[ChatServer]:
    """Run :func:`make_server` on a background thread for the duration of a ``with`` block."""
    with in_background(make_server(model, **options)) as server:
        yield server


def main(argv: list[str] | None = None) -> None:
    """``python -m synthlab.llm.serve``: serve the embedded model until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m synthlab.llm.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (printed)")
    parser.add_argument("--parallel", type=int, default=1, help="requests decoded at once; others wait")
    parser.add_argument("--alias", default="smollm2", help="the model name clients send and see")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context size of the embedded model")
    parser.add_argument(
        "--no-batching",
        action="store_true",
        help="decode the parallel requests one after another (to measure what batching brings)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    from synthlab.llm.chat import get_chat_model

    model = get_chat_model("local", cache=False, n_ctx=args.n_ctx, n_parallel=1 if args.no_batching else args.parallel)
    server = make_server(
        model, host=args.host, port=args.port, parallel=args.parallel, alias=args.alias, verbose=args.verbose
    )
    print(
        f"Serving {args.alias} on {server.base_url} with {args.parallel} parallel slot(s); Ctrl-C stops.",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
