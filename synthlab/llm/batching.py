"""Continuous batching for the embedded model: several chat requests decoded together, one token
per sequence per ``llama_decode`` call, with freed slots refilled from a queue.

:class:`ContinuousBatcher` is the scheduler (a thread that owns the slots, admits waiting requests,
stops each sequence on its own and resolves its future); :class:`LlamaSlots` is its llama.cpp side:
one context with ``n_parallel`` sequences, each in its own KV stream, and one sampler chain per
sequence with its own seed; a new prompt takes the whole prompt blocks that some slot's stream
already holds (the chat template's header, shared instructions) instead of evaluating them again.
:class:`synthlab.llm.local.ChatLocalLlama` routes its plain calls here, so concurrent calls
(LangChain ``batch()``, ``generate(..., max_concurrency=B)``) are decoded together. The idea
is the iteration-level scheduling of Orca (Yu et al., OSDI 2022, "Orca: A Distributed Serving System for
Transformer-Based Generative Models"), the "continuous batching" of vLLM and llama.cpp's server.
Measured in ``benchmarks/bench_generation.py`` (speed) and ``benchmarks/check_batched_texts.py``
(identical texts); shown in ``notebooks/07_scale_out_with_ray.ipynb``.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

__all__ = [
    "BLOCK",
    "BatchRequest",
    "BatchResult",
    "ContinuousBatcher",
    "DecodeBackend",
    "Feed",
    "LlamaSlots",
    "reusable_prefix",
]

BLOCK = 16  # prompts are evaluated in blocks of this many tokens from position 0, as in the sequential path


def reusable_prefix(held: Sequence[int], prompt: Sequence[int]) -> int:
    """How many leading tokens of ``prompt`` can be taken from a cache holding ``held`` (tokens
    evaluated in blocks of :data:`BLOCK` from position 0): the whole blocks they share, leaving at
    least one prompt token to evaluate (its logits give the first sampled token)."""
    shared = 0
    for old, new in zip(held, prompt):
        if old != new:
            break
        shared += 1
    return min(shared // BLOCK, (len(prompt) - 1) // BLOCK) * BLOCK


@dataclass(frozen=True)
class BatchRequest:
    """One completion: the prompt's tokens and the sampling settings of ``Llama.create_chat_completion``."""

    prompt_tokens: list[int]
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    stop: list[str] = field(default_factory=list)


class Feed(NamedTuple):
    """What one sequence decodes in a step: ``tokens`` from ``position``; ``prompt`` when they are
    a block of its prompt; ``sample`` when a token is to be drawn after them."""

    tokens: list[int]
    position: int
    prompt: bool
    sample: bool


@dataclass(frozen=True)
class BatchResult:
    """The completion of one :class:`BatchRequest`, with llama-cpp-python's ``finish_reason`` and counts."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


class DecodeBackend(Protocol):
    """What the scheduler needs from a model: slots to start and release, one decode step, detokenization."""

    n_ctx: int

    def start(self, slot: int, request: BatchRequest) -> int:
        """Prepare ``slot`` for ``request``; return how many prompt tokens its cache already holds."""

    def step(self, feeds: dict[int, Feed]) -> dict[int, int]:
        """Decode every slot's :class:`Feed`; return ``{slot: sampled token}`` for those that sample."""

    def release(self, slot: int) -> None: ...

    def is_end(self, token: int) -> bool: ...

    def detokenize(self, tokens: list[int], prev_tokens: list[int]) -> bytes: ...


def _utf8_pending(text: bytes) -> int:
    """How many more bytes the multi-byte UTF-8 character at the end of ``text`` needs (as
    llama-cpp-python computes it: stop strings and ``max_tokens`` wait for a complete character)."""
    pending = 0
    for k, char in enumerate(text[-3:]):
        k = 3 - k
        for num, pattern in ((2, 192), (3, 224), (4, 240)):
            if num > k and pattern & char == pattern:
                pending = num - k
    return pending


class _Sequence:
    """The state of one request in a slot: prompt progress, sampled tokens, stopping rules."""

    def __init__(self, request: BatchRequest, future: Future, n_ctx: int) -> None:
        if not request.prompt_tokens:
            raise ValueError("the prompt has no tokens")
        if len(request.prompt_tokens) >= n_ctx:
            raise ValueError(f"Requested tokens ({len(request.prompt_tokens)}) exceed context window of {n_ctx}")
        self.request = request
        self.future = future
        self.max_tokens = min(request.max_tokens, n_ctx - len(request.prompt_tokens))
        self.stops = [stop.encode() for stop in request.stop if stop]
        self.evaluated = 0  # prompt tokens in the slot's cache; set by the backend's start()
        self.completion: list[int] = []
        self.pending_bytes = 0

    def feed(self) -> Feed:
        """What to decode next: the next block of the prompt, else the last sampled token."""
        prompt = self.request.prompt_tokens
        if self.evaluated < len(prompt):
            block = prompt[self.evaluated : self.evaluated + BLOCK]
            return Feed(block, self.evaluated, True, self.evaluated + len(block) == len(prompt))
        return Feed(self.completion[-1:], self.evaluated, False, True)

    def advance(self, n_fed: int, token: int | None, backend: DecodeBackend) -> BatchResult | None:
        """Record a decode step (``token`` sampled, or None while the prompt is being evaluated);
        return the result once the sequence has stopped (the rules of llama-cpp-python's
        ``_create_completion``: end token, then stop strings, then ``max_tokens``)."""
        self.evaluated += n_fed
        if token is None:
            return None
        prompt = self.request.prompt_tokens
        if backend.is_end(token):
            return self._result(backend.detokenize(self.completion, prompt), "stop")
        self.completion.append(token)
        text = backend.detokenize(self.completion, prompt)
        self.pending_bytes = _utf8_pending(text) or self.pending_bytes
        if self.pending_bytes > 0:
            self.pending_bytes -= 1
            return None
        found = [stop for stop in self.stops if stop in text]
        if found:
            return self._result(text[: text.index(found[0])], "stop")
        if len(self.completion) >= self.max_tokens:
            return self._result(text, "length")
        return None

    def _result(self, text: bytes, finish_reason: str) -> BatchResult:
        return BatchResult(
            text=text.decode("utf-8", errors="ignore"),
            finish_reason=finish_reason,
            prompt_tokens=len(self.request.prompt_tokens),
            completion_tokens=len(self.completion),
        )


class ContinuousBatcher:
    """A scheduler thread decoding up to ``backend``'s slots at once; :meth:`submit` from any thread.

    Every step admits waiting requests into free slots (first come, first served), decodes one
    block of each admitted prompt and one token of each generating sequence, and finishes each
    sequence on its own. A request that fails (prompt too long, an error while stopping) fails
    alone; a failed decode step fails the sequences of that step and the scheduler goes on.
    """

    def __init__(self, backend: DecodeBackend, n_slots: int, lock: threading.Lock | None = None) -> None:
        if n_slots < 1:
            raise ValueError(f"n_slots must be >= 1; got {n_slots}")
        self.backend = backend
        self.lock = lock or threading.Lock()  # held during each step; share it with other users of the model
        self.n_slots = n_slots
        self.waiting: deque[tuple[BatchRequest, Future]] = deque()
        self.active: dict[int, _Sequence] = {}
        self.batch_sizes: Counter[int] = Counter()  # how many steps decoded how many sequences
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="synthlab-batcher", daemon=True)
        self._thread.start()

    def submit(self, request: BatchRequest) -> Future:
        """Queue ``request``; the future resolves to a :class:`BatchResult` or the request's error."""
        future: Future = Future()
        with self._wake:
            self.waiting.append((request, future))
            self._wake.notify()
        return future

    def _admit(self) -> None:
        """Start waiting requests in free slots, first come first served. A request waits while an
        active prompt is still evaluating blocks it shares, so that it can take them from that
        slot's stream (see the backend's ``start``) instead of evaluating them again."""
        with self._wake:
            while not self.waiting and not self.active:
                self._wake.wait()
        while len(self.active) < self.n_slots:
            with self._wake:
                if not self.waiting or self._shares_unevaluated_blocks(self.waiting[0][0]):
                    return
                request, future = self.waiting.popleft()
            slot = min(set(range(self.n_slots)) - set(self.active))
            try:
                sequence = _Sequence(request, future, self.backend.n_ctx)
                sequence.evaluated = self.backend.start(slot, request)
            except Exception as error:  # noqa: BLE001 - the request fails alone
                future.set_exception(error)
                continue
            self.active[slot] = sequence

    def _shares_unevaluated_blocks(self, request: BatchRequest) -> bool:
        return any(
            reusable_prefix(sequence.request.prompt_tokens, request.prompt_tokens) > sequence.evaluated
            for sequence in self.active.values()
        )

    def _finish(self, slot: int, result: BatchResult | None = None, error: BaseException | None = None) -> None:
        sequence = self.active.pop(slot)
        self.backend.release(slot)
        if error is not None:
            sequence.future.set_exception(error)
        else:
            sequence.future.set_result(result)

    def _run(self) -> None:
        while True:
            self._admit()
            if not self.active:
                continue
            feeds = {slot: sequence.feed() for slot, sequence in self.active.items()}
            self.batch_sizes[len(feeds)] += 1
            try:
                with self.lock:
                    sampled = self.backend.step(feeds)
            except Exception as error:  # noqa: BLE001 - fail this step's sequences, keep serving
                for slot in list(feeds):
                    self._finish(slot, error=error)
                continue
            for slot, feed in feeds.items():
                try:
                    result = self.active[slot].advance(len(feed.tokens), sampled.get(slot), self.backend)
                except Exception as error:  # noqa: BLE001 - the request fails alone
                    self._finish(slot, error=error)
                    continue
                if result is not None:
                    self._finish(slot, result)


class LlamaSlots:
    """``n_parallel`` sequences of one llama.cpp model in one context (a private KV stream each).

    Shares the weights of ``llama`` (a loaded ``llama_cpp.Llama``), so it costs only its KV cache
    (``n_parallel x n_ctx`` cells). Each sequence gets the sampler chain of
    ``Llama.create_chat_completion`` (penalties off, top-k 40, typical 1, top-p, min-p 0.05,
    temperature, then a draw seeded with the request's seed; greedy at temperature 0).

    A new prompt starts from the longest run of whole prompt blocks that some slot's stream
    already holds (the chat template's header, shared instructions or demonstrations): its own
    stream is trimmed, or another's is copied and trimmed. Those blocks were evaluated from
    position 0 exactly as the new prompt's would be, so the text does not change.
    """

    def __init__(self, llama: Any, n_parallel: int, n_ctx: int, n_threads: int) -> None:
        import llama_cpp
        from llama_cpp._internals import LlamaBatch, LlamaContext

        self.llama_cpp = llama_cpp
        self.llama = llama
        self.n_ctx = n_ctx
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx * n_parallel
        params.n_seq_max = n_parallel
        params.n_batch = params.n_ubatch = BLOCK * n_parallel  # a prompt block of every slot in one micro-batch
        params.n_threads = params.n_threads_batch = n_threads
        params.kv_unified = False  # a stream per sequence: its cells sit at the positions of a lone decode
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as llama_cpp.Llama's default
        params.no_perf = True
        self.context = LlamaContext(model=llama._model, params=params, verbose=False)  # noqa: SLF001 - no public accessor
        self.memory = llama_cpp.llama_get_memory(self.context.ctx)
        self.batch = LlamaBatch(n_tokens=params.n_batch, embd=0, n_seq_max=1, verbose=False)
        self.samplers: dict[int, Any] = {}
        self.held: dict[int, list[int]] = {}  # the prompt tokens each slot's stream holds, from position 0
        self.reused_tokens = 0  # prompt tokens taken from a stream instead of evaluated

    def _reuse(self, slot: int, prompt: list[int]) -> int:
        """Fill ``slot``'s stream with the most whole blocks of ``prompt`` that any stream holds
        (its own first on ties; another's by a full-stream copy, which llama.cpp makes at the next
        decode); drop the rest of the stream; return how many prompt tokens it now holds."""
        source, reused = slot, reusable_prefix(self.held.get(slot, []), prompt)
        for other, held in self.held.items():
            shared = reusable_prefix(held, prompt)
            if shared > reused:
                source, reused = other, shared
        if source != slot:
            self.llama_cpp.llama_memory_seq_cp(self.memory, source, slot, -1, -1)
        self.llama_cpp.llama_memory_seq_rm(self.memory, slot, reused, -1)
        self.held[slot] = prompt[:reused]
        self.reused_tokens += reused
        return reused

    def start(self, slot: int, request: BatchRequest) -> int:
        from llama_cpp._internals import LlamaSampler

        reused = self._reuse(slot, request.prompt_tokens)
        sampler = LlamaSampler()
        sampler.add_penalties(self.llama.n_vocab(), self.llama.last_n_tokens_size, 1.0, 0.0, 0.0)
        if request.temperature == 0:
            sampler.add_greedy()
        else:
            for add, args in (
                (sampler.add_top_k, (40,)),
                (sampler.add_typical, (1.0, 1)),
                (sampler.add_top_p, (request.top_p, 1)),
                (sampler.add_min_p, (0.05, 1)),
                (sampler.add_temp, (request.temperature,)),
            ):
                add(*args)
            seed = self.llama_cpp.LLAMA_DEFAULT_SEED if request.seed is None else request.seed
            sampler.add_dist(seed)
        self.samplers[slot] = sampler
        return reused

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        batch = self.batch.batch
        for i, (slot, token, position, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = position
            batch.seq_id[i][0] = slot
            batch.n_seq_id[i] = 1
            batch.logits[i] = logits
        batch.n_tokens = len(entries)
        status = self.llama_cpp.llama_decode(self.context.ctx, batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed with status {status}")

    def step(self, feeds: dict[int, Feed]) -> dict[int, int]:
        """Decode the prompt blocks of equal length together (each a block from a block boundary,
        as the sequential path evaluates it, so its KV cache matches), then the last token of every
        generating sequence in one call; sample each sequence that asks. Tokens go in slot order:
        llama.cpp puts only consecutive sequences of separate streams in one micro-batch."""
        by_length: dict[int, list[int]] = {}
        for slot in sorted(feeds):
            if feeds[slot].prompt:
                by_length.setdefault(len(feeds[slot].tokens), []).append(slot)
        groups = [[(slot, feeds[slot].tokens) for slot in slots] for slots in by_length.values()]
        generating = [(slot, feeds[slot].tokens) for slot in sorted(feeds) if not feeds[slot].prompt]
        sampled = {}
        for group in groups + ([generating] if generating else []):
            entries, outputs = [], {}
            for slot, tokens in group:
                feed = feeds[slot]
                for i, token in enumerate(tokens):
                    last = i == len(tokens) - 1
                    if last and feed.sample:
                        outputs[slot] = len(entries)
                    entries.append((slot, token, feed.position + i, last and feed.sample))
            self._decode(entries)
            for slot, tokens in group:
                if feeds[slot].prompt:
                    self.held[slot].extend(tokens)
            for slot, index in outputs.items():
                sampled[slot] = self.samplers[slot].sample(self.context, index)
        return sampled

    def release(self, slot: int) -> None:
        """Free the slot's sampler; its stream stays, for the next prompts to reuse (see :meth:`_reuse`)."""
        sampler = self.samplers.pop(slot, None)
        if sampler is not None:
            sampler.close()

    def is_end(self, token: int) -> bool:
        return bool(self.llama_cpp.llama_vocab_is_eog(self.llama._model.vocab, token))  # noqa: SLF001

    def detokenize(self, tokens: list[int], prev_tokens: list[int]) -> bytes:
        return self.llama.detokenize(tokens, prev_tokens=prev_tokens)
