"""One tabular schema for synthetic data, and lossless JSONL / Parquet / Hugging Face round trips.

A record set is a pandas DataFrame with the columns in :data:`RECORD_COLUMNS` (``id``, the
text field, ``label`` and provenance) plus any extra text or metadata columns a method
needs. ``params`` holds a dict (the sampling parameters and condition values); everything
else is a string or an integer. Taught in ``notebooks/00_quickstart.ipynb``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "RECORD_COLUMNS",
    "from_columnar",
    "from_hf_dataset",
    "load_jsonl",
    "load_parquet",
    "make_records",
    "new_id",
    "normalise_records",
    "now_iso",
    "save_jsonl",
    "save_parquet",
    "to_columnar",
    "to_hf_dataset",
    "validate_records",
]

RECORD_COLUMNS: tuple[str, ...] = (
    "id",
    "text",
    "label",
    "method",
    "model",
    "prompt",
    "params",
    "seed",
    "parent_id",
    "round",
    "created_at",
    "error",
)


_INTEGER_COLUMNS = ("seed", "round")
_JSON_COLUMNS = ("params",)


def new_id() -> str:
    """A fresh random record id."""
    return uuid.uuid4().hex[:16]


def now_iso() -> str:
    """The current UTC time in ISO 8601, as stored in ``created_at``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_records(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a record DataFrame from dicts, filling absent schema columns with defaults.

    >>> make_records([{"text": "A fine film.", "label": "positive", "method": "manual"}]).columns[:3].tolist()
    ['id', 'text', 'label']
    """
    filled = []
    for row in rows:
        record: dict[str, Any] = {
            "id": new_id(),
            "text": None,
            "label": None,
            "method": "",
            "model": "",
            "prompt": "",
            "params": {},
            "seed": None,
            "parent_id": None,
            "round": 0,
            "created_at": now_iso(),
            "error": None,
        }
        record.update(row)
        filled.append(record)
    frame = pd.DataFrame(filled, columns=_ordered_columns(filled))
    return normalise_records(frame)


def _ordered_columns(rows: list[dict[str, Any]]) -> list[str]:
    extra: list[str] = []
    for row in rows:
        extra.extend(key for key in row if key not in RECORD_COLUMNS and key not in extra)
    return list(RECORD_COLUMNS) + extra


def validate_records(frame: pd.DataFrame) -> None:
    """Raise ``ValueError`` naming the missing schema columns or duplicate ids."""
    missing = [column for column in RECORD_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(
            f"Not a synthlab record set: missing columns {missing}. "
            "Build records with synthlab.core.records.make_records()."
        )
    duplicated = frame["id"][frame["id"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"Record ids must be unique; repeated: {duplicated[:5]}")


def normalise_records(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in _INTEGER_COLUMNS:
        frame[column] = pd.array([None if pd.isna(v) else int(v) for v in frame[column]], dtype="Int64")
    for column in frame.columns:
        if column in _INTEGER_COLUMNS or column in _JSON_COLUMNS:
            continue
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column].dtype):
            # Plain objects with None for missing values: one representation, whatever pandas inferred.
            frame[column] = pd.Series(
                [None if _is_missing(v) else v for v in frame[column]], index=frame.index, dtype=object
            )
    return frame


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    if _is_missing(value) or value is pd.NA:
        return None
    return value


def save_jsonl(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write records as JSON Lines (one record per line, UTF-8), creating parent folders."""
    validate_records(frame)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in frame.to_dict(orient="records"):
            handle.write(json.dumps({k: _jsonable(v) for k, v in row.items()}, ensure_ascii=False))
            handle.write("\n")
    return path


def load_jsonl(path: str | Path) -> pd.DataFrame:
    """Read records written by :func:`save_jsonl`; a malformed line raises with its number."""
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}, line {number}: not valid JSON ({error.msg}).") from error
    frame = pd.DataFrame(rows, columns=_ordered_columns(rows) if rows else list(RECORD_COLUMNS))
    validate_records(frame)
    return normalise_records(frame)


def save_parquet(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write records as Parquet; dict columns are stored as JSON text and restored on load."""
    validate_records(frame)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_columnar(frame).to_parquet(path, index=False)
    return path


def load_parquet(path: str | Path) -> pd.DataFrame:
    """Read records written by :func:`save_parquet`."""
    return from_columnar(pd.read_parquet(path))


def to_hf_dataset(frame: pd.DataFrame) -> Any:
    """Export records to a Hugging Face ``datasets.Dataset`` (needs the ``hf`` extra; no Hub access).

    ``params`` becomes a JSON string column, since Arrow needs one type per column;
    :func:`from_hf_dataset` turns it back into dicts.
    """
    validate_records(frame)
    try:
        from datasets import Dataset
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("Export needs the 'datasets' package: pip install 'synthlab[hf]'") from error
    return Dataset.from_pandas(to_columnar(frame), preserve_index=False)


def to_columnar(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with dict columns as JSON text, since Arrow needs one type per column."""
    stored = frame.copy()
    for column in _JSON_COLUMNS:
        stored[column] = stored[column].map(lambda v: json.dumps(v, ensure_ascii=False))
    return stored


def from_hf_dataset(dataset: Any) -> pd.DataFrame:
    """Turn a ``datasets.Dataset`` made by :func:`to_hf_dataset` back into records."""
    return from_columnar(dataset.to_pandas())


def from_columnar(frame: pd.DataFrame) -> pd.DataFrame:
    """Restore dict columns stored as JSON text and plain object columns after Arrow."""
    validate_records(frame)
    for column in _JSON_COLUMNS:
        frame[column] = frame[column].map(json.loads)
    return normalise_records(frame)
