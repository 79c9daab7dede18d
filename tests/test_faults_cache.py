"""Faults of the model-call cache file, done for real: deleted, made read-only or unreachable while a model is
alive, garbage in place of the database, two processes writing it while a third holds a long read."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthlab.llm.cache import CACHE_ENV_VAR, CacheFileError, SQLiteCache, get_cache
from tests.fake_models import EchoSeedModel

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` cannot be written, even by root (who ignores file modes): immutable for root, mode 444 else."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available here: no way to make a file read-only for root")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)


def test_a_cache_deleted_while_the_model_lives_keeps_the_generation_and_starts_a_new_file(tmp_path):
    path = tmp_path / "deleted.sqlite"
    cache = get_cache(path)
    model = EchoSeedModel(cache=cache)
    model.invoke("before", seed=0)
    path.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # deleting the cache is a way to clear it: no warning
        assert model.invoke("after", seed=1).content == "after #1"
    assert path.exists() and len(SQLiteCache(path)) == 1  # a new file, holding the new generation only
    assert get_cache(path) is cache and model.invoke("after", seed=1).content == "after #1"
    assert model.calls == 2 and cache.stats.hits == 1


def test_a_cache_made_read_only_while_the_model_lives_keeps_the_generation(tmp_path):
    path = tmp_path / "read-only.sqlite"
    model = EchoSeedModel(cache=SQLiteCache(path))
    model.invoke("old", seed=0)
    with read_only(path), pytest.warns(UserWarning, match="kept in memory") as caught:
        assert [model.invoke("new", seed=k).content for k in (1, 2, 1)] == ["new #1", "new #2", "new #1"]
    assert len(caught) == 1 and str(path) in str(caught[0].message) and CACHE_ENV_VAR in str(caught[0].message)
    assert model.calls == 3  # old, new #1, new #2: the repeat came from memory


def test_a_read_only_cache_answers_from_the_file_and_keeps_new_generations_in_memory(tmp_path):
    path = tmp_path / "read-only.sqlite"
    EchoSeedModel(cache=SQLiteCache(path)).invoke("old", seed=0)
    with read_only(path):
        cache = SQLiteCache(path)  # a shared, read-only cache: its hits still count
        model = EchoSeedModel(cache=cache)
        with pytest.warns(UserWarning, match="attempt to write a readonly database") as caught:
            replies = [model.invoke(prompt, seed=0).content for prompt in ("old", "new", "newer", "new")]
    assert replies == ["old #0", "new #0", "newer #0", "new #0"] and len(caught) == 1
    assert model.calls == 2 and (cache.stats.hits, cache.stats.misses) == (2, 2)


def test_a_cache_whose_folder_is_gone_warns_once_and_keeps_generations_in_memory(tmp_path):
    folder = tmp_path / "cache"
    cache = SQLiteCache(folder / "c.sqlite")
    model = EchoSeedModel(cache=cache)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_text("a file where the folder was: nothing can be created under it")
    with pytest.warns(UserWarning, match="kept in memory") as caught:
        replies = [model.invoke(f"prompt {k}", seed=k).content for k in range(3)]
    assert replies == [f"prompt {k} #{k}" for k in range(3)] and len(caught) == 1
    assert model.invoke("prompt 1", seed=1).content == "prompt 1 #1" and model.calls == 3


def test_a_garbage_cache_file_names_the_path_and_the_fix(tmp_path, monkeypatch):
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not an SQLite database\n" * 200)
    for opener in (SQLiteCache, get_cache):
        with pytest.raises(CacheFileError, match="file is not a database") as error:
            opener(path)
        assert isinstance(error.value, sqlite3.DatabaseError)
        assert str(path) in str(error.value) and "delete it" in str(error.value) and CACHE_ENV_VAR in str(error.value)
    path.unlink()
    assert len(get_cache(path)) == 0  # no handle kept from the failed opening


def test_a_cache_replaced_by_garbage_while_alive_keeps_the_generation(tmp_path):
    path = tmp_path / "replaced.sqlite"
    model = EchoSeedModel(cache=SQLiteCache(path))
    model.invoke("a", seed=0)
    path.unlink()
    path.write_bytes(b"garbage" * 1000)
    with pytest.warns(UserWarning, match="file is not a database"):
        assert model.invoke("b", seed=1).content == "b #1"


WRITER = """
import sys
from langchain_core.outputs import Generation
from synthlab.llm.cache import SQLiteCache
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cache = SQLiteCache(path)
print("ready", flush=True)
for i in range(n):
    if i % 50 == 0:
        cache = SQLiteCache(path)  # the constructor too meets the other writer
    cache.update(f"{name}-{i}", "llm", [Generation(text=f"{name} {i}")])
    assert cache.lookup(f"{name}-{i}", "llm")[0].text == f"{name} {i}"
"""


def test_two_processes_write_one_cache_while_a_third_holds_a_long_write(tmp_path):
    path, n, hold = tmp_path / "shared.sqlite", 100, 5.5  # SQLite's default wait was 5 s
    SQLiteCache(path)
    holder = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False
    )  # e.g. a big clear() or the sqlite3 CLI mid-transaction
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO generations VALUES ('k', 'p', 'l', 'v')")
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(n)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    assert [writer.stdout.readline() for writer in writers] == ["ready\n"] * 2
    release = threading.Timer(hold, holder.execute, ["COMMIT"])  # the writers wait from now on
    release.start()
    try:
        errors = [writer.communicate(timeout=30)[1] for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
        release.join()
    holder.close()
    assert [writer.returncode for writer in writers] == [0, 0], errors
    assert len(SQLiteCache(path)) == 2 * n + 1  # 2 writers x 100 entries and the holder's, none lost
