"""Continuous batching (synthlab.llm.batching) with a scripted decoder, and ChatLocalLlama's batched path
with the real model (integration)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from synthlab.llm.batching import (
    BLOCK,
    BatchRequest,
    ContinuousBatcher,
    Feed,
    _utf8_pending,
    reusable_prefix,
)
from synthlab.llm.local import ChatLocalLlama

END = 0


class ScriptedSlots:
    """A decoder whose sampled tokens are ``scripts[seed]`` in order; token t reads as chr(96 + t)."""

    def __init__(
        self,
        scripts: dict[int, list[int]],
        n_ctx: int = 64,
        fail_start_seed: int | None = None,
        fail_step_once: bool = False,
    ) -> None:
        self.scripts = scripts
        self.n_ctx = n_ctx
        self.fail_start_seed = fail_start_seed
        self.fail_step_once = fail_step_once
        self.requests: dict[int, BatchRequest] = {}
        self.drawn: dict[int, int] = {}
        self.feeds: list[dict[int, Feed]] = []
        self.started: list[int] = []
        self.reused = 0  # prompt tokens every slot claims to hold already
        self.gate = threading.Event()
        self.gate.set()

    def start(self, slot: int, request: BatchRequest) -> int:
        if request.seed == self.fail_start_seed:
            raise RuntimeError("cannot start this one")
        assert slot not in self.requests, "a slot was given twice"
        self.requests[slot], self.drawn[slot] = request, 0
        self.started.append(slot)
        return self.reused

    def step(self, feeds: dict[int, Feed]) -> dict[int, int]:
        self.gate.wait()
        self.feeds.append(feeds)
        if self.fail_step_once:
            self.fail_step_once = False
            raise RuntimeError("decode failed")
        sampled = {}
        for slot, feed in feeds.items():
            if feed.sample:
                script = self.scripts[self.requests[slot].seed]
                sampled[slot] = script[self.drawn[slot]] if self.drawn[slot] < len(script) else 1
                self.drawn[slot] += 1
        return sampled

    def release(self, slot: int) -> None:
        del self.requests[slot]

    def is_end(self, token: int) -> bool:
        return token == END

    def detokenize(self, tokens: list[int], prev_tokens: list[int]) -> bytes:
        return "".join(chr(96 + token) for token in tokens).encode()


def request(seed: int, max_tokens: int = 10, prompt_len: int = 3, stop: list[str] | None = None) -> BatchRequest:
    return BatchRequest(
        prompt_tokens=list(range(1, prompt_len + 1)),
        max_tokens=max_tokens,
        temperature=0.8,
        top_p=0.95,
        seed=seed,
        stop=stop or [],
    )


SCRIPTS = {
    0: [1, 2, END],
    1: [3, 3, 3, 3, 3, 3, 3, END],
    2: [END],
    3: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    4: [2, 1, 2, END],
    5: [8, 9, END],
}


@pytest.mark.parametrize("n_slots", [1, 2, 4, 8])
def test_each_sequence_stops_on_its_own_whatever_the_batch_size(n_slots):
    backend = ScriptedSlots(SCRIPTS)
    batcher = ContinuousBatcher(backend, n_slots)
    results = [future.result(timeout=10) for future in [batcher.submit(request(seed)) for seed in SCRIPTS]]
    assert [r.text for r in results] == ["ab", "ccccccc", "", "defghijklm", "bab", "hi"]
    assert [r.finish_reason for r in results] == ["stop", "stop", "stop", "length", "stop", "stop"]
    # The end token is not counted; a length stop counts every token up to max_tokens.
    assert [r.completion_tokens for r in results] == [2, 7, 0, 10, 3, 2]
    assert all(r.prompt_tokens == 3 for r in results)
    assert max(batcher.batch_sizes) <= n_slots
    assert not backend.requests, "every slot is released"


def test_freed_slots_are_refilled_while_others_still_decode():
    backend = ScriptedSlots(SCRIPTS)
    backend.gate.clear()  # queue everything before the first step
    batcher = ContinuousBatcher(backend, 2)
    futures = [batcher.submit(request(seed)) for seed in SCRIPTS]
    backend.gate.set()
    for future in futures:
        future.result(timeout=10)
    assert sorted(set(backend.started)) == [0, 1] and len(backend.started) == len(SCRIPTS)
    assert max(batcher.batch_sizes) == 2
    # Six requests through two slots: each slot is refilled as soon as its sequence ends, so
    # nearly every step decodes two sequences (the steps would be 2 + 1 + ... if a slot stayed idle).
    assert batcher.batch_sizes[2] >= 10


def test_max_tokens_and_stop_strings():
    backend = ScriptedSlots({3: SCRIPTS[3]})
    batcher = ContinuousBatcher(backend, 4)
    cut = batcher.submit(request(3, max_tokens=4)).result(timeout=10)
    assert (cut.text, cut.finish_reason, cut.completion_tokens) == ("defg", "length", 4)
    stopped = batcher.submit(request(3, stop=["fg"])).result(timeout=10)
    assert (stopped.text, stopped.finish_reason, stopped.completion_tokens) == ("de", "stop", 4)


def test_prompt_is_evaluated_in_blocks_from_position_zero():
    backend = ScriptedSlots({0: SCRIPTS[0]})
    ContinuousBatcher(backend, 2).submit(request(0, prompt_len=2 * BLOCK + 5)).result(timeout=10)
    prompt_feeds = [feeds[0] for feeds in backend.feeds if feeds[0].prompt]
    assert [(len(f.tokens), f.position, f.sample) for f in prompt_feeds] == [
        (BLOCK, 0, False),
        (BLOCK, BLOCK, False),
        (5, 2 * BLOCK, True),
    ]
    generated = [feeds[0] for feeds in backend.feeds if not feeds[0].prompt]
    assert [f.position for f in generated] == [2 * BLOCK + 5, 2 * BLOCK + 6]


def test_prompt_evaluation_starts_after_the_tokens_the_slot_holds():
    backend = ScriptedSlots({0: SCRIPTS[0]})
    backend.reused = BLOCK
    ContinuousBatcher(backend, 2).submit(request(0, prompt_len=2 * BLOCK + 5)).result(timeout=10)
    prompt_feeds = [feeds[0] for feeds in backend.feeds if feeds[0].prompt]
    assert [(len(f.tokens), f.position) for f in prompt_feeds] == [(BLOCK, BLOCK), (5, 2 * BLOCK)]


@pytest.mark.parametrize(
    ("held", "prompt", "expected"),
    [
        ([], list(range(40)), 0),
        (list(range(40)), list(range(40)), 32),  # the whole prompt is held: its last block is evaluated again
        (list(range(40)), list(range(32)), 16),  # at least one token is left to evaluate
        (list(range(20)), list(range(40)), 16),  # only whole blocks
        (list(range(16)) + [-1] * 20, list(range(40)), 16),
        ([-1] + list(range(1, 40)), list(range(40)), 0),
    ],
)
def test_reusable_prefix_counts_whole_shared_blocks(held, prompt, expected):
    assert reusable_prefix(held, prompt) == expected


def test_a_failing_request_does_not_break_the_others():
    backend = ScriptedSlots(SCRIPTS, n_ctx=8, fail_start_seed=4)
    batcher = ContinuousBatcher(backend, 2)
    too_long = batcher.submit(request(0, prompt_len=8))
    cannot_start = batcher.submit(request(4))
    fine = [batcher.submit(request(seed)) for seed in (0, 1, 5)]
    with pytest.raises(ValueError, match="exceed context window"):
        too_long.result(timeout=10)
    with pytest.raises(RuntimeError, match="cannot start"):
        cannot_start.result(timeout=10)
    assert [future.result(timeout=10).text for future in fine] == [
        "ab",
        "ccccc",
        "hi",
    ]  # n_ctx 8 - 3 = 5 tokens
    assert [future.result().finish_reason for future in fine] == ["stop", "length", "stop"]


def test_a_failed_decode_step_fails_its_sequences_and_the_scheduler_goes_on():
    backend = ScriptedSlots(SCRIPTS, fail_step_once=True)
    batcher = ContinuousBatcher(backend, 2)
    first = batcher.submit(request(0))
    with pytest.raises(RuntimeError, match="decode failed"):
        first.result(timeout=10)
    assert batcher.submit(request(5)).result(timeout=10).text == "hi"
    assert not batcher.waiting and not batcher.active


def test_many_threads_submitting_at_once():
    backend = ScriptedSlots({seed: [1 + seed % 5] * (seed % 7) + [END] for seed in range(40)})
    batcher = ContinuousBatcher(backend, 8)
    with ThreadPoolExecutor(16) as pool:
        texts = list(pool.map(lambda seed: batcher.submit(request(seed)).result(timeout=10).text, range(40)))
    assert texts == [chr(97 + seed % 5) * (seed % 7) for seed in range(40)]


def test_incomplete_utf8_characters_are_detected():
    euro = "€".encode()  # three bytes; like llama-cpp-python, look at the last three bytes of the text
    assert _utf8_pending(b"ab" + euro[:1]) == 2
    assert _utf8_pending(b"ab" + euro[:2]) == 1
    assert _utf8_pending(b"ab" + euro) == 0
    assert _utf8_pending(b"abc") == 0


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_slots"):
        ContinuousBatcher(ScriptedSlots({}), 0)
    with pytest.raises(ValueError, match="n_parallel"):
        ChatLocalLlama(n_parallel=0)


def test_n_parallel_does_not_change_the_cache_key():
    assert ChatLocalLlama(n_parallel=1)._identifying_params == ChatLocalLlama(n_parallel=16)._identifying_params


def test_generate_batches_the_embedded_model_by_default_and_nothing_else():
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from synthlab.annotation.labels import label_schema
    from synthlab.llm.chat import constrain
    from synthlab.llm.generate import default_concurrency

    model = ChatLocalLlama(n_parallel=6, cache=False)
    assert default_concurrency(model) == 6
    assert default_concurrency(model.bind(temperature=0.2)) == 6
    assert default_concurrency(model.model_copy(update={"n_parallel": 1})) == 1
    assert default_concurrency(constrain(model, label_schema(["a", "b"]))) == 1  # grammar: decoded one by one
    assert default_concurrency(model.bind(logprobs=True)) == 1
    assert default_concurrency(model.model_copy(update={"logprobs": True})) == 1
    assert default_concurrency(FakeListChatModel(responses=["x"])) == 1  # a server: the caller decides


@pytest.mark.integration
def test_batched_texts_equal_sequential_texts(local_model):
    from synthlab.llm.generate import generate

    prompts = [
        "Name a fruit.",
        "Write one word about rain.",
        "Say hello to a cat.",
        "Write a short review of a western.",
        "Name a colour.",
        "Give a movie title.",
    ]
    model = local_model.model_copy(update={"max_tokens": 24, "temperature": 0.9, "n_parallel": 4})
    sequential = model.model_copy(update={"n_parallel": 1})
    alone = [sequential.invoke(prompt, seed=100 + k) for k, prompt in enumerate(prompts)]
    batched = generate(
        model,
        prompts,
        seed=100,
        group_prefixes=False,  # no max_concurrency: the embedded model batches its n_parallel by default
        progress=False,
        parse=lambda text: {"text": text},
    )
    assert batched["raw"].tolist() == [message.content for message in alone]
    loaded = model._model_for({})
    assert max(loaded.batchers[4].batch_sizes) > 1, "the calls were decoded together"
    assert loaded.batchers[4].backend.reused_tokens >= BLOCK, "the chat header was copied, not evaluated again"
    lone_steps = loaded.batchers[4].batch_sizes[1]
    assert model.invoke(prompts[0], seed=100).content == alone[0].content  # a lone call: a batch of one
    assert loaded.batchers[4].batch_sizes[1] > lone_steps
    together = model.batch(prompts[:3], config={"max_concurrency": 3}, seed=100)
    assert together[0].content == alone[0].content
    assert together[0].usage_metadata == alone[0].usage_metadata
    assert together[0].response_metadata["finish_reason"] == alone[0].response_metadata["finish_reason"]
    assert all(0 < m.usage_metadata["output_tokens"] <= 24 for m in together)
