"""A persistent SQLite cache of chat-model calls, with hit and miss counters.

LangChain asks a cache with two strings: the prompt (the serialised messages) and the
"llm string" (the model's identity, its sampling parameters and the call's keyword
arguments, among them the per-call ``seed``). synthlab's batch helper gives every sample
of a prompt its own seed, so n samples of one prompt are n cache entries, never one
answer repeated n times. Taught in ``notebooks/00_quickstart.ipynb``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core._api.beta_decorator import LangChainBetaWarning
from langchain_core.caches import BaseCache
from langchain_core.load import dumps, loads
from langchain_core.outputs import Generation

__all__ = ["CACHE_ENV_VAR", "CacheStats", "cache_key", "default_cache_path", "get_cache", "SQLiteCache"]

CACHE_ENV_VAR = "SYNTHLAB_CACHE"


def default_cache_path() -> Path:
    """Where the model-call cache lives: ``$SYNTHLAB_CACHE`` or ``~/.cache/synthlab/llm-cache.sqlite``."""
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "synthlab" / "llm-cache.sqlite"


def cache_key(prompt: str, llm_string: str) -> str:
    """The key of one call: a hash of the model's llm string (identity, parameters, seed) and the prompt."""
    return hashlib.sha256(f"{llm_string}\x00{prompt}".encode()).hexdigest()


@dataclass
class CacheStats:
    """How many lookups were answered from the cache (hits) or had to call the model (misses)."""

    hits: int = 0
    misses: int = 0

    @property
    def lookups(self) -> int:
        return self.hits + self.misses


class SQLiteCache(BaseCache):
    """LangChain cache stored in one SQLite file, safe to share between threads.

    >>> cache = SQLiteCache("/tmp/example-cache.sqlite")
    >>> model = get_chat_model("local", cache=cache)  # doctest: +SKIP
    >>> cache.stats.hits, cache.stats.misses  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False)
        with self._connection:
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS generations ("
                " key TEXT PRIMARY KEY, prompt TEXT NOT NULL, llm_string TEXT NOT NULL,"
                " value TEXT NOT NULL)"
            )
        self.stats = CacheStats()

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        with self._lock:
            row = self._connection.execute(
                "SELECT value FROM generations WHERE key = ?", (cache_key(prompt, llm_string),)
            ).fetchone()
            if row is None:
                self.stats.misses += 1
                return None
            self.stats.hits += 1
        with warnings.catch_warnings():
            # loads() is marked beta; we only read back what dumps() wrote (core objects only).
            warnings.simplefilter("ignore", LangChainBetaWarning)
            return loads(row[0], allowed_objects="core")

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        value = dumps(list(return_val))
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?)",
                (cache_key(prompt, llm_string), prompt, llm_string, value),
            )

    def clear(self, **kwargs: Any) -> None:
        with self._lock, self._connection:
            self._connection.execute("DELETE FROM generations")

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def reset_stats(self) -> None:
        """Start counting hits and misses from zero (the stored entries stay)."""
        self.stats = CacheStats()


_shared_caches: dict[Path, SQLiteCache] = {}
_shared_lock = threading.Lock()


def get_cache(path: str | os.PathLike[str] | None = None) -> SQLiteCache:
    """The process-wide cache for ``path`` (default: :func:`default_cache_path`), opened once."""
    resolved = (Path(path) if path is not None else default_cache_path()).expanduser().resolve()
    with _shared_lock:
        if resolved not in _shared_caches:
            _shared_caches[resolved] = SQLiteCache(resolved)
        return _shared_caches[resolved]
