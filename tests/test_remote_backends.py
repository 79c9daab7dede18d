"""The 'openai' backend against a real OpenAI-compatible server on loopback (llama.cpp's own
server serving the embedded GGUF), and the 'ollama' backend when an Ollama server answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import generate
from synthlab.llm.loading import embedded_model_path

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(arguments: list[str], log_path) -> tuple[subprocess.Popen, str]:
    """Start ``python <arguments>`` on a free loopback port (``--port`` is appended) and wait until
    its ``/v1/models`` answers; return the process and the base URL."""
    port = _free_port()
    log = log_path.open("wb")  # a file, not a pipe: the server logs a lot and a full pipe would block it
    process = subprocess.Popen(
        [sys.executable, *arguments, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/models", timeout=1)
            return process, base_url
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"{arguments[1]} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """``python -m llama_cpp.server`` serving the embedded GGUF; stopped after the tests."""
    process, base_url = _serve(
        [
            "-m",
            "llama_cpp.server",
            "--model",
            str(embedded_model_path()),
            "--model_alias",
            "smollm2",
            "--n_ctx",
            "2048",
        ],
        tmp_path_factory.mktemp("server") / "server.log",
    )
    yield base_url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def synthlab_server(tmp_path_factory):
    """``python -m synthlab.llm.serve --parallel 2`` (the embedded model); stopped after the tests."""
    process, base_url = _serve(
        ["-m", "synthlab.llm.serve", "--parallel", "2"], tmp_path_factory.mktemp("serve") / "serve.log"
    )
    yield base_url
    process.terminate()
    process.wait(timeout=20)


def test_synthlab_serve_answers_concurrent_rows_like_the_embedded_model(synthlab_server, local_model):
    remote = get_chat_model(
        "openai", base_url=synthlab_server, model="smollm2", temperature=0.9, max_tokens=24, cache=False
    )
    prompts = ["Write a movie title.", "Write a book title."]
    records = generate(remote, prompts, n=2, seed=3, max_concurrency=2, progress=False)
    assert records["error"].isna().all() and (records["model"] == "smollm2").all()
    direct = generate(local_model, prompts, n=2, seed=3, progress=False)
    assert records["text"].tolist() == direct["text"].tolist()  # every row: same model, settings, seeds, over HTTP


def test_openai_backend_generates_through_the_loopback_server(llama_server, tmp_path):
    model = get_chat_model(
        "openai",
        base_url=llama_server,
        model="smollm2",
        temperature=0.8,
        max_tokens=24,
        cache=tmp_path / "cache.sqlite",
    )
    records = generate(model, ["Write a movie title.", "Write a book title."], n=2, seed=3, progress=False)
    assert records["error"].isna().all() and records["text"].str.len().gt(0).all()
    assert (records["model"] == "smollm2").all()
    assert model.cache.stats.misses == 4
    again = generate(model, ["Write a movie title.", "Write a book title."], n=2, seed=3, progress=False)
    assert again["text"].tolist() == records["text"].tolist() and model.cache.stats.hits == 4


def test_openai_backend_seed_is_reproducible(llama_server):
    model = get_chat_model(
        "openai", base_url=llama_server, model="smollm2", temperature=0.9, max_tokens=16, cache=False
    )
    assert model.invoke("Name a fruit.", seed=4).content == model.invoke("Name a fruit.", seed=4).content


def _ollama_models() -> list[str] | None:
    try:
        import json

        with urllib.request.urlopen("http://127.0.0.1:11434/api/tags", timeout=1) as response:
            return [m["name"] for m in json.load(response)["models"]]
    except (urllib.error.URLError, ConnectionError, OSError):
        return None


def test_ollama_backend_when_a_server_answers(tmp_path):
    models = _ollama_models()
    if not models:
        reason = "no Ollama server answers on 127.0.0.1:11434" if models is None else "Ollama has no model pulled"
        print(f"SKIPPED: {reason}")
        pytest.skip(reason)
    model = get_chat_model("ollama", model=models[0], num_predict=16, cache=tmp_path / "c.sqlite")
    records = generate(model, ["Say hi."], n=2, progress=False)
    assert records["error"].isna().all()
