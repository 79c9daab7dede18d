"""TEST DOUBLE, never used outside tests: an HTTP proxy in front of an OpenAI-compatible server
that injects the faults of a real network (dropped connections, malformed JSON, rate limits, 5xx,
a server that goes away mid-batch), so tests can show that generate() retries or marks rows and
that a checkpointed run resumes."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from synthlab.llm.serve import in_background

FAULTS = ("drop", "malformed", "429", "503")


class FlakyProxy(ThreadingHTTPServer):
    """Forwards requests to ``upstream`` except where a fault is scripted.

    ``faults[seed]`` lists the faults that the 1st, 2nd, ... request carrying that ``seed`` gets
    (by seed, so the script does not depend on thread timing); later requests pass. Once
    ``fail_after`` requests have been forwarded, every further request is dropped (the server
    "goes down" mid-batch) until ``fail_after`` is set back to ``None``.
    """

    daemon_threads = True
    request_queue_size = 64

    def __init__(
        self, upstream: str, faults: dict[int, list[str]] | None = None, fail_after: int | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.faults = {seed: list(kinds) for seed, kinds in (faults or {}).items()}
        self.fail_after = fail_after
        self.forwarded = 0
        self.log: list[tuple[int | None, str]] = []  # (seed, what happened) per request
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def decide(self, seed: int | None) -> str:
        with self.lock:
            scripted = self.faults.get(seed, [])
            action = scripted.pop(0) if scripted else "pass"
            if action == "pass" and self.fail_after is not None and self.forwarded >= self.fail_after:
                action = "drop"
            if action == "pass":
                self.forwarded += 1
            self.log.append((seed, action))
            return action


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FlakyProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            seed = json.loads(body).get("seed")
        except (json.JSONDecodeError, AttributeError):
            seed = None
        action = self.server.decide(seed)
        if action == "drop":
            self.close_connection = True  # no reply at all: the client sees the connection close
            return
        if action == "malformed":
            self._reply(200, b'{"id": "chatcmpl-x", "choices": [{"message": {"content": "cut sh')
            return
        if action in ("429", "503"):
            error = {"error": {"message": f"injected {action}", "type": "test_fault", "code": int(action)}}
            self._reply(int(action), json.dumps(error).encode(), {"Retry-After": "0"})
            return
        connection = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        try:
            connection.request("POST", self.path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            self._reply(response.status, response.read())
        finally:
            connection.close()


@contextmanager
def flaky_proxy(
    upstream: str, faults: dict[int, list[str]] | None = None, fail_after: int | None = None
) -> Iterator[FlakyProxy]:
    """A :class:`FlakyProxy` running on a background thread for a ``with`` block."""
    with in_background(FlakyProxy(upstream, faults, fail_after)) as proxy:
        yield proxy
