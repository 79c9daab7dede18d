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

__all__ = [
    "BUSY_TIMEOUT",
    "CACHE_ENV_VAR",
    "CacheFileError",
    "CacheStats",
    "cache_key",
    "default_cache_path",
    "get_cache",
    "SQLiteCache",
]

CACHE_ENV_VAR = "SYNTHLAB_CACHE"
BUSY_TIMEOUT = 60.0  # seconds a write waits for another process's write to the same file


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


class CacheFileError(sqlite3.DatabaseError):
    """The cache file cannot be opened, read or written; the message names it and what to do."""


class SQLiteCache(BaseCache):
    """LangChain cache stored in one SQLite file, safe to share between threads and processes.

    No fault of the file costs a generation: several processes (notebooks, Ray workers) can write one file,
    a write waiting up to :data:`BUSY_TIMEOUT` seconds for another's; a file deleted or replaced while in use
    is opened anew at the next call; when the file cannot be written (made read-only, its folder gone) the
    cache warns once and keeps this process's new entries in memory. Opening a file that is not an SQLite
    database raises :class:`CacheFileError` naming it and the fix. The file keeps SQLite's rollback journal,
    not WAL: a deleted cache's ``-wal`` file would be replayed into the next file made at its path, and WAL
    needs shared memory that network home folders lack.

    >>> cache = SQLiteCache("/tmp/example-cache.sqlite")
    >>> model = get_chat_model("local", cache=cache)  # doctest: +SKIP
    >>> cache.stats.hits, cache.stats.misses  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._opened: tuple[int, int] | None = None
        self._memory: dict[str, str] = {}  # entries the file could not take, kept for this process
        self._warned = False
        self._connect()
        self.stats = CacheStats()

    def _connect(self) -> sqlite3.Connection:
        """The connection to the file now at ``path``: reopened when that file was deleted or replaced."""
        if self._connection is not None and self._opened == _identity(self.path):
            return self._connection
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise self._fault(error) from None
        try:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS generations ("
                " key TEXT PRIMARY KEY, prompt TEXT NOT NULL, llm_string TEXT NOT NULL,"
                " value TEXT NOT NULL)"
            )
        except sqlite3.Error as error:
            connection.close()
            raise self._fault(error) from None
        self._connection, self._opened = connection, _identity(self.path)
        return connection

    def _fault(self, error: OSError | sqlite3.Error) -> CacheFileError:
        if isinstance(error, CacheFileError):
            return error
        return CacheFileError(
            f"the model-call cache {self.path} cannot be used ({error}); make it writable, delete it (it holds "
            f"only cached model calls) or set ${CACHE_ENV_VAR} to another file"
        )

    def _keep_going(self, error: sqlite3.Error) -> None:
        """A fault met after the constructor: warn once; the caller goes on without the file."""
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"{self._fault(error)}. Until then new generations are kept in memory for this process: none "
                "is lost now, but a new process makes them again",
                UserWarning,
                stacklevel=4,
            )

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        key = cache_key(prompt, llm_string)
        with self._lock:
            value = self._memory.get(key)
            if value is None:
                try:
                    row = self._connect().execute("SELECT value FROM generations WHERE key = ?", (key,)).fetchone()
                except sqlite3.Error as error:  # unreadable now: a miss, and the generation will be kept
                    self._keep_going(error)
                    row = None
                value = row[0] if row else None
            if value is None:
                self.stats.misses += 1
                return None
            self.stats.hits += 1
        with warnings.catch_warnings():
            # loads() is marked beta; we only read back what dumps() wrote (core objects only).
            warnings.simplefilter("ignore", LangChainBetaWarning)
            return loads(value, allowed_objects="core")

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        key, value = cache_key(prompt, llm_string), dumps(list(return_val))
        with self._lock:
            try:
                with self._connect() as connection:
                    connection.execute(
                        "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?)", (key, prompt, llm_string, value)
                    )
            except sqlite3.Error as error:  # the generation is made: keep it rather than raise it away
                self._memory[key] = value
                self._keep_going(error)

    def clear(self, **kwargs: Any) -> None:
        with self._lock, self._connect() as connection:
            self._memory.clear()
            connection.execute("DELETE FROM generations")

    def __len__(self) -> int:
        with self._lock:
            return self._connect().execute("SELECT COUNT(*) FROM generations").fetchone()[0] + len(self._memory)

    def reset_stats(self) -> None:
        """Start counting hits and misses from zero (the stored entries stay)."""
        self.stats = CacheStats()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_dev, status.st_ino


_shared_caches: dict[Path, SQLiteCache] = {}
_shared_lock = threading.Lock()


def get_cache(path: str | os.PathLike[str] | None = None) -> SQLiteCache:
    """The process-wide cache for ``path`` (default: :func:`default_cache_path`), opened once."""
    resolved = (Path(path) if path is not None else default_cache_path()).expanduser().resolve()
    with _shared_lock:
        if resolved not in _shared_caches:
            _shared_caches[resolved] = SQLiteCache(resolved)
        return _shared_caches[resolved]
