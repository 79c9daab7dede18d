"""Shared fixtures: a private cache per test and one embedded model for the integration tests."""

from __future__ import annotations

import pytest

from synthlab.llm.cache import SQLiteCache
from synthlab.llm.local import ChatLocalLlama


@pytest.fixture
def tmp_cache(tmp_path) -> SQLiteCache:
    return SQLiteCache(tmp_path / "cache.sqlite")


@pytest.fixture
def local_model() -> ChatLocalLlama:
    """The real embedded model, uncached, short outputs (loaded once per process)."""
    return ChatLocalLlama(temperature=0.9, max_tokens=24, seed=0, cache=False)
