"""The 'ollama' backend (langchain-ollama's ChatOllama and the ollama client, unmodified) against synthlab.llm.serve's
Ollama-compatible /api/chat on loopback, over a fake model (fast). This is Ollama's wire protocol as the client
speaks it, not an Ollama server: tests/test_remote_backends.py tries a real one when it answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import ollama
import pytest

from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import generate
from synthlab.llm.ollama_api import openai_request
from synthlab.llm.serve import parse_chat_request, running
from tests.test_serve import SlowModel


def client(server, **params):
    return get_chat_model("ollama", base_url=server.ollama_url, model="smollm2", cache=False, **params)


def post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_chat_ollama_gets_answers_and_its_options_reach_the_model():
    model = SlowModel(delay=0)
    with running(model) as server:
        reply = client(server, temperature=0.3, num_predict=7, top_p=0.5, seed=11).invoke("hello", stop=["."])
    assert reply.content == "hello #11"
    assert model.options == {"stop": ["."], "temperature": 0.3, "top_p": 0.5, "max_tokens": 7, "seed": 11}


def test_generate_through_the_ollama_backend_seeds_every_row():
    with running(SlowModel(delay=0.05), parallel=2) as server:
        records = generate(client(server), ["a", "b"], n=2, seed=5, max_concurrency=2, progress=False)
    assert records["error"].isna().all()
    assert records["text"].tolist() == ["a #5", "a #6", "b #7", "b #8"]


def test_the_ollama_client_streams_and_does_not_stream():
    with running(SlowModel(delay=0)) as server:
        api = ollama.Client(host=server.ollama_url)
        assert [m.model for m in api.list().models] == ["smollm2"]
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
        whole = api.chat(model="smollm2", messages=messages, stream=False, options={"seed": 2})
        parts = list(api.chat(model="smollm2", messages=messages, stream=True, options={"seed": 2}))
    assert whole.message.content == "hi #2" and whole.done and whole.done_reason == "stop"
    assert "".join(part.message.content for part in parts) == "hi #2" and [p.done for p in parts] == [False, True]


def test_ollama_streams_ndjson_unless_told_not_to():
    """(No seed in the request: the model is called without one, as on the OpenAI route.)"""
    body = {"model": "smollm2", "messages": [{"role": "user", "content": "hi"}]}
    with running(SlowModel(delay=0)) as server:
        status, kind, data = post(f"{server.ollama_url}/api/chat", json.dumps(body).encode())
        assert status == 200 and kind == "application/x-ndjson"
        lines = [json.loads(line) for line in data.decode().splitlines()]
        assert [line["message"]["content"] for line in lines] == ["hi #None", ""] and lines[-1]["done"] is True
        status, kind, data = post(f"{server.ollama_url}/api/chat", json.dumps(body | {"stream": False}).encode())
    assert status == 200 and kind == "application/json" and json.loads(data)["message"]["content"] == "hi #None"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1]", "must be a JSON object"),
        (b'{"messages": []}', "'messages' must be a non-empty list"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "format": "json"}', "'format' is not supported"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "options": {"num_predict": "ten"}}', "num_predict must"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "options": {"stop": "."}}', "options.stop must be a list"),
    ],
)
def test_a_bad_ollama_request_gets_ollamas_error_shape(body, message):
    with running(SlowModel(delay=0)) as server:
        status, _, data = post(f"{server.ollama_url}/api/chat", body)
    assert status == 400 and message in json.loads(data)["error"]


def test_the_ollama_client_raises_the_servers_error():
    with running(SlowModel(delay=0)) as server:
        api = ollama.Client(host=server.ollama_url)
        with pytest.raises(ollama.ResponseError, match="'format' is not supported") as raised:
            api.chat(model="smollm2", messages=[{"role": "user", "content": "x"}], format="json")
    assert raised.value.status_code == 400


def test_an_ollama_request_becomes_the_openai_body_the_server_answers():
    messages = [{"role": "user", "content": "hi"}]
    options = {"temperature": 0.2, "top_p": 0.9, "num_predict": 5, "seed": 3, "stop": ["."]}
    assert openai_request({"messages": messages, "options": options}) == (
        {"messages": messages, "temperature": 0.2, "top_p": 0.9, "seed": 3, "max_tokens": 5, "stop": ["."]},
        True,
    )
    body, stream = openai_request({"messages": messages, "stream": False, "options": {"num_predict": -1, "stop": []}})
    assert body == {"messages": messages} and stream is False  # -1: no limit but the context; no stop words
    assert parse_chat_request(body)[1] == {}
    with pytest.raises(ValueError, match="options.seed must be an integer; got 1.5"):
        openai_request({"messages": messages, "options": {"seed": 1.5}})
