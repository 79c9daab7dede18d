from __future__ import annotations

import pandas as pd
import pytest

from synthlab.core.records import (
    RECORD_COLUMNS,
    from_hf_dataset,
    load_jsonl,
    load_parquet,
    make_records,
    save_jsonl,
    save_parquet,
    to_hf_dataset,
    validate_records,
)


@pytest.fixture
def records() -> pd.DataFrame:
    return make_records(
        [
            {
                "text": "A warm film. Ünïcode ✓",
                "label": "positive",
                "method": "m",
                "model": "smol",
                "prompt": "Write {x}",
                "params": {"temperature": 0.8, "topic": ["a", "b"], "nested": {"k": 1}},
                "seed": 3,
                "round": 1,
                "aspect": "acting",
            },
            {
                "text": None,
                "label": None,
                "method": "m",
                "model": "smol",
                "prompt": "p",
                "params": {},
                "seed": None,
                "parent_id": "abc",
                "error": "ValueError: empty",
                "aspect": None,
            },
        ]
    )


def test_schema_columns_come_first(records):
    assert list(records.columns) == [*RECORD_COLUMNS, "aspect"]
    assert str(records["seed"].dtype) == "Int64"


def test_jsonl_round_trip_is_lossless(records, tmp_path):
    pd.testing.assert_frame_equal(load_jsonl(save_jsonl(records, tmp_path / "r.jsonl")), records)


def test_parquet_round_trip_is_lossless(records, tmp_path):
    pd.testing.assert_frame_equal(load_parquet(save_parquet(records, tmp_path / "r.parquet")), records)


def test_hugging_face_round_trip_is_lossless(records):
    dataset = to_hf_dataset(records)
    assert dataset.num_rows == 2 and "params" in dataset.column_names
    pd.testing.assert_frame_equal(from_hf_dataset(dataset), records)


def test_bad_input_is_named(records, tmp_path):
    with pytest.raises(ValueError, match=r"missing columns \['label'"):
        validate_records(records.drop(columns=["label", "seed"]))
    with pytest.raises(ValueError, match="repeated"):
        validate_records(pd.concat([records, records]))
    broken = tmp_path / "broken.jsonl"
    broken.write_text(save_jsonl(records, tmp_path / "ok.jsonl").read_text() + "{not json\n")
    with pytest.raises(ValueError, match="line 3"):
        load_jsonl(broken)
