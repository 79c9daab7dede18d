"""synthlab.llm.serve over fake models (fast), with the real 'openai' backend as client, and
generate()'s retries and resume through a fault-injecting proxy (tests/flaky_server.py)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from pydantic import Field

from synthlab.llm.chat import get_chat_model
from synthlab.llm.generate import generate
from synthlab.llm.serve import make_server, running
from tests.fake_models import EchoSeedModel
from tests.flaky_server import flaky_proxy

PROMPTS = [f"prompt {i}" for i in range(6)]
_counting = threading.Lock()


class SlowModel(EchoSeedModel):
    """Takes ``delay`` seconds per call and records the most calls it ever had in flight, and the
    options of the last call."""

    delay: float = 0.3
    in_flight: int = 0
    peak: int = 0
    options: dict = Field(default_factory=dict)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        with _counting:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.options = {"stop": stop, **kwargs}
        time.sleep(self.delay)
        with _counting:
            self.in_flight -= 1
        return super()._generate(messages, stop, run_manager, **kwargs)


def client(base_url: str, **params):
    return get_chat_model("openai", base_url=base_url, model="smollm2", cache=False, **params)


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_the_openai_backend_talks_to_the_server_and_options_reach_the_model():
    model = SlowModel(delay=0)
    with running(model) as server:
        with urllib.request.urlopen(f"{server.base_url}/models") as response:
            assert json.load(response)["data"][0]["id"] == "smollm2"
        reply = client(server.base_url, temperature=0.3, max_tokens=7, top_p=0.5).invoke("hello", seed=11, stop=["."])
    assert reply.content == "hello #11"
    assert model.options == {"stop": ["."], "temperature": 0.3, "top_p": 0.5, "max_tokens": 7, "seed": 11}


@pytest.mark.parametrize("parallel", [1, 2, 4])
def test_at_most_parallel_requests_are_in_the_model_at_once(parallel):
    model = SlowModel(delay=0.3)
    with running(model, parallel=parallel) as server:
        records = generate(client(server.base_url), PROMPTS, seed=0, max_concurrency=6, progress=False)
    assert records["text"].tolist() == [f"prompt {i} #{i}" for i in range(6)]
    assert model.peak == parallel


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"model": "smollm2"}', "'messages' must be a non-empty list"),
        (b'{"messages": [{"role": "robot", "content": "hi"}]}', "role must be one of"),
        (b'{"messages": [{"role": "user", "content": 3}]}', "content must be a string"),
        (
            b'{"messages": [{"role": "user", "content": "hi"}], "stream": true}',
            "stream=true is not supported",
        ),
        (b'{"messages": [{"role": "user", "content": "hi"}], "n": 2}', "n must be 1"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}', "temperature must be a"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "stop": [1]}', "stop must be a string"),
        (b'{"messages": [{"role": "user", "content": "hi"}], "tools": [{}]}', "'tools' is not supported"),
    ],
)
def test_a_malformed_request_gets_a_400_naming_the_problem(body, message):
    with running(EchoSeedModel()) as server:
        status, answer = post(f"{server.base_url}/chat/completions", body)
    assert status == 400 and message in answer["error"]["message"]


def test_a_model_failure_is_a_500_that_generate_retries_then_records():
    with running(EchoSeedModel()) as server:
        status, answer = post(
            f"{server.base_url}/chat/completions", b'{"messages": [{"role": "user", "content": "FAIL"}]}'
        )
        assert status == 500 and "model failed" in answer["error"]["message"]
        status, _ = post(f"{server.base_url}/nowhere", b"{}")
        assert status == 404
        records = generate(client(server.base_url), ["ok", "FAIL"], max_retries=2, retry_backoff=0.001, progress=False)
    assert records["text"].iloc[0] == "ok #0"
    assert records["error"].iloc[1].endswith("(after 3 attempts)")


def test_bad_server_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="parallel \\(slots\\) must be >= 1"):
        make_server(EchoSeedModel(), parallel=0)


def test_dropped_connections_rate_limits_and_5xx_are_retried_malformed_json_fails_the_row():
    faults = {0: ["drop"], 1: ["429", "503"], 2: ["malformed"], 3: ["drop"] * 5}
    with running(EchoSeedModel(), parallel=2) as server, flaky_proxy(server.base_url, faults) as proxy:
        records = generate(
            client(proxy.base_url),
            PROMPTS,
            seed=0,
            max_concurrency=4,
            max_retries=3,
            retry_backoff=0.001,
            progress=False,
        )
    assert len(records) == len(PROMPTS) and records["seed"].tolist() == list(range(6))  # no row lost
    assert records["text"].iloc[[0, 1, 4, 5]].tolist() == [
        "prompt 0 #0",
        "prompt 1 #1",
        "prompt 4 #4",
        "prompt 5 #5",
    ]
    assert records["error"].iloc[2].startswith("JSONDecodeError")  # a garbled reply is not retried
    assert records["error"].iloc[3] == "OpenAIConnectionError: Connection error. (after 4 attempts)"
    assert [action for seed, action in proxy.log if seed == 3] == ["drop"] * 4


def test_a_run_cut_off_by_a_server_going_down_resumes_from_its_checkpoint(tmp_path):
    path = tmp_path / "run.jsonl"
    with running(EchoSeedModel(), parallel=2) as server, flaky_proxy(server.base_url, fail_after=3) as proxy:
        first = generate(
            client(proxy.base_url),
            PROMPTS,
            seed=0,
            max_concurrency=2,
            max_retries=1,
            retry_backoff=0.001,
            checkpoint=path,
            progress=False,
        )
        assert first["error"].isna().sum() == 3 and first["error"].notna().sum() == 3
        proxy.fail_after = None  # the server is back
        resumed = generate(client(proxy.base_url), PROMPTS, seed=0, max_concurrency=2, checkpoint=path, progress=False)
    assert resumed["text"].tolist() == [f"prompt {i} #{i}" for i in range(6)]
    assert proxy.forwarded == 6  # each row reached the model exactly once over both runs
    kept = first["error"].isna()
    assert resumed.loc[kept, "id"].tolist() == first.loc[kept, "id"].tolist()


def test_the_openai_client_does_not_retry_on_top_of_generate():
    assert client("http://127.0.0.1:9/v1").max_retries == 0  # generate() owns retries
    assert client("http://127.0.0.1:9/v1", max_retries=2).max_retries == 2  # unless asked for
