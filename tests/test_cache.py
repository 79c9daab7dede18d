from __future__ import annotations

from synthlab.llm.cache import CACHE_ENV_VAR, default_cache_path, get_cache
from synthlab.llm.generate import generate
from tests.fake_models import EchoSeedModel


def test_n_samples_of_one_prompt_are_n_entries_and_a_rerun_makes_no_call(tmp_cache):
    model = EchoSeedModel(cache=tmp_cache)
    first = generate(model, ["same prompt"], n=4, seed=0, progress=False)
    assert first["text"].nunique() == 4
    assert (tmp_cache.stats.hits, tmp_cache.stats.misses, len(tmp_cache)) == (0, 4, 4)

    tmp_cache.reset_stats()
    model.calls = 0
    again = generate(model, ["same prompt"], n=4, seed=0, progress=False)
    assert again["text"].tolist() == first["text"].tolist()
    assert (tmp_cache.stats.hits, tmp_cache.stats.misses, model.calls) == (4, 0, 0)


def test_the_key_covers_messages_parameters_and_seed(tmp_cache):
    model = EchoSeedModel(cache=tmp_cache)
    model.invoke("a", seed=1)
    model.invoke("a", seed=2)
    model.invoke("b", seed=1)
    model.invoke("a", seed=1, temperature=0.5)
    assert tmp_cache.stats.misses == 4 and len(tmp_cache) == 4
    model.invoke("a", seed=1)
    assert tmp_cache.stats.hits == 1


def test_entries_persist_across_processes(tmp_path):
    from synthlab.llm.cache import SQLiteCache

    path = tmp_path / "persist.sqlite"
    EchoSeedModel(cache=SQLiteCache(path)).invoke("keep me", seed=5)
    reopened = SQLiteCache(path)
    model = EchoSeedModel(cache=reopened)
    assert model.invoke("keep me", seed=5).content == "keep me #5"
    assert (reopened.stats.hits, model.calls) == (1, 0)


def test_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "elsewhere.sqlite"))
    assert default_cache_path() == tmp_path / "elsewhere.sqlite"
    assert get_cache().path == (tmp_path / "elsewhere.sqlite").resolve()
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert default_cache_path().name == "llm-cache.sqlite"


def test_clear_empties_the_cache(tmp_cache):
    EchoSeedModel(cache=tmp_cache).invoke("x", seed=0)
    tmp_cache.clear()
    assert len(tmp_cache) == 0
    model = EchoSeedModel(cache=tmp_cache)
    model.invoke("x", seed=0)
    assert model.calls == 1
