"""Bad requests to synthlab.llm.serve, sent raw over loopback: every one gets an HTTP reply with a short JSON
error, within a bounded time, and the server goes on answering."""

from __future__ import annotations

import http.client
import json
import socket
import time

import pytest

from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import GenerationError, generate
from synthlab.llm.serve import one_line, running
from tests.fake_models import EchoSeedModel, SleepyEchoModel

GOOD = b'{"messages": [{"role": "user", "content": "hi"}]}'


def exchange(server, request: bytes, *, wait: float = 5.0) -> tuple[int, dict, http.client.HTTPResponse, float]:
    """Send ``request`` as it is; the status, JSON body and response, and the seconds the reply took."""
    started = time.perf_counter()
    with socket.create_connection(server.server_address[:2], timeout=wait) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = json.loads(response.read())
    return response.status, body, response, time.perf_counter() - started


def post(path: str, body: bytes, length: str | None = None) -> bytes:
    length = str(len(body)) if length is None else length
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode() + body


@pytest.fixture(scope="module")
def server():
    with running(EchoSeedModel(), read_timeout=0.5) as server:
        yield server


@pytest.mark.parametrize(
    ("length", "status", "message"),
    [
        ("abc", 400, "Content-Length must be a whole number of bytes; got 'abc'"),
        ("-5", 400, "Content-Length must be a whole number"),
        (str(10**12), 413, "the body of 1000000000000 bytes is over this server's limit"),
    ],
)
def test_a_bad_or_huge_content_length_gets_a_json_error(server, length, status, message):
    code, body, response, _ = exchange(server, post("/v1/chat/completions", b"{}", length))
    assert code == status and message in body["error"]["message"]
    assert response.getheader("Connection") == "close"  # the unread body is never taken for the next request


def test_a_body_shorter_than_its_content_length_times_out_with_a_400(server):
    code, body, _, seconds = exchange(server, post("/v1/chat/completions", b"{}", "100"))
    assert code == 400 and "ended after 2 of the 100 bytes" in body["error"]["message"]
    assert seconds < 3  # the server's read_timeout is 0.5 s; before, it waited until the client closed


def test_the_wrong_method_gets_405_naming_the_allowed_one(server):
    code, body, response, _ = exchange(server, b"GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n")
    assert code == 405 and response.getheader("Allow") == "POST" and "POST only" in body["error"]["message"]
    code, _, response, _ = exchange(server, post("/v1/models", b"{}"))
    assert code == 405 and response.getheader("Allow") == "GET"


@pytest.mark.parametrize(
    "content", [[1], [{"type": "image_url", "image_url": "x"}], {"text": "hi"}], ids=["number", "image", "object"]
)
def test_a_bad_content_gets_a_short_one_line_400(server, content):
    body = json.dumps({"messages": [{"role": "user", "content": content}]}).encode()
    code, answer, _, _ = exchange(server, post("/v1/chat/completions", body))
    message = answer["error"]["message"]
    assert code == 400 and "messages[0].content must be a string or a list of text parts" in message
    assert "\n" not in message and len(message) < 200


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"],
    ids=["array", "messages"],
)
def test_a_deeply_nested_body_gets_a_400_not_a_500(server, body):
    code, answer, _, _ = exchange(server, post("/v1/chat/completions", body))
    assert code == 400 and "nested too deeply" in answer["error"]["message"]


def test_the_server_still_answers_after_the_bad_requests(server):
    code, answer, _, _ = exchange(server, post("/v1/chat/completions", GOOD))
    assert code == 200 and answer["choices"][0]["message"]["content"].startswith("hi")


def test_one_line_shortens_a_pydantic_error_and_a_multi_line_message():
    from langchain_core.messages import HumanMessage
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as error:
        HumanMessage(content=[1])
    assert "\n" in str(error.value)
    short = one_line(error.value)
    assert short.startswith("ValidationError: HumanMessage: content.str: Input should be a valid string; ")
    assert "\n" not in short and "errors.pydantic.dev" not in short
    assert one_line(ValueError("first\n  second " + "x" * 400)).startswith("ValueError: first second x")
    assert len(one_line(ValueError("x" * 400))) < 320


def _openai_client(base_url: str, timeout: float):
    return get_chat_model("openai", base_url=base_url, api_key="none", model="smollm2", timeout=timeout, cache=False)


def test_a_hung_server_costs_a_bounded_wait_and_a_clear_error_not_a_hang():
    with socket.socket() as listener:  # takes connections (the kernel's backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        model = _openai_client(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", timeout=0.5)
        started = time.perf_counter()
        with pytest.raises(GenerationError, match=r"timed out\. \(after 2 attempts\)") as failed:
            generate(model, ["hi", "there"], seed=0, max_retries=1, retry_backoff=0.1, progress=False)
        seconds = time.perf_counter() - started
    # a timeout is transient: each row is retried once, then its error is kept on the row
    assert failed.value.records["error"].str.contains("timed out", case=False).all()
    assert seconds < 10, seconds


def test_a_slow_server_times_out_under_a_short_client_timeout_and_answers_under_a_long_one():
    with running(SleepyEchoModel(delay=1.0)) as server:
        base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with pytest.raises(GenerationError, match="timed out"):
            generate(_openai_client(base_url, 0.3), ["hi"], seed=0, max_retries=0, progress=False)
        answered = generate(_openai_client(base_url, 10.0), ["hi"], seed=0, max_retries=0, progress=False)
    assert answered["error"].isna().all() and answered["text"].iloc[0] == "hi #0"
