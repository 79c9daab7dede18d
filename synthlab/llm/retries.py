"""Retries for transient failures of a model server (rate limits, timeouts, dropped connections, 5xx):
:func:`is_transient` tells them from real errors and :func:`call_with_retries` retries them with exponential
backoff and jitter (:func:`backoff_delay`). Used by :func:`synthlab.llm.generate.generate`; taught in
``notebooks/07_scale_out_with_ray.ipynb``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

__all__ = ["backoff_delay", "call_with_retries", "is_transient"]

# Errors of optional HTTP clients that mean "the request did not get through": matched by
# (top-level module, class name) along the exception's MRO, so neither client must be installed.
_TRANSIENT_CLASSES = {
    ("openai", "APIConnectionError"),  # also APITimeoutError
    ("httpx", "TimeoutException"),  # httpx: under ollama's client
    ("httpx", "NetworkError"),  # connection refused, reset, read or write failed
    ("httpx", "RemoteProtocolError"),  # the server closed the connection without a reply
}


def is_transient(error: BaseException) -> bool:
    """True when a failed model call may succeed if simply repeated: a rate limit (HTTP 429,
    ``openai.RateLimitError``), a request timeout (408), a server error (5xx), a timeout or a
    refused or dropped connection. Everything else (a 400, a parse ``ValueError``, a bug) is not."""
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        return status in (408, 429) or status >= 500
    return any((cls.__module__.split(".")[0], cls.__name__) in _TRANSIENT_CLASSES for cls in type(error).__mro__)


_jitter = random.Random()  # timing only: never touches the generated data


def backoff_delay(error: BaseException, attempt: int, retry_backoff: float) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): exponential,
    ``retry_backoff * 2**(attempt - 1)`` with random jitter in its upper half so that concurrent rows
    do not retry in lockstep, at least the server's ``Retry-After`` header, at most 60 s."""
    delay = retry_backoff * 2.0 ** min(attempt - 1, 16)
    delay = _jitter.uniform(delay / 2, delay)
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        delay = max(delay, float(headers.get("retry-after", 0)))
    except (TypeError, ValueError):
        pass  # an HTTP-date Retry-After: keep our own delay
    return min(delay, 60.0)


def call_with_retries(call: Callable[[], str], *, max_retries: int, retry_backoff: float) -> str:
    """Run ``call()``, repeating it up to ``max_retries`` times after transient failures
    (:func:`is_transient`) with :func:`backoff_delay` between attempts; any other error, or the
    last transient one, is raised at once."""
    attempt = 1
    while True:
        try:
            return call()
        except Exception as error:
            if attempt > max_retries or not is_transient(error):
                raise
            time.sleep(backoff_delay(error, attempt, retry_backoff))
            attempt += 1
