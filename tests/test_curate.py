from __future__ import annotations

from synthlab.curate import drop_exact_duplicates, drop_malformed, restore
from synthlab.records import make_records


def _records():
    return make_records([
        {"text": "A warm and funny film.", "label": "positive"},
        {"text": "a  WARM and funny film.", "label": "positive"},
        {"text": "Too short", "label": "negative"},
        {"text": None, "label": "negative", "error": "RuntimeError: boom"},
        {"text": "Dull, long and loud.", "label": None},
        {"text": "Dull, long and loud.", "label": "negative"},
    ])


def test_every_removed_row_has_a_reason_and_can_be_restored():
    records = _records()
    well_formed, malformed = drop_malformed(records)
    assert malformed["reason"].tolist() == [
        "shorter than 3 words", "generation error: RuntimeError: boom", "missing label"]
    kept, duplicates = drop_exact_duplicates(well_formed)
    assert duplicates["reason"].tolist() == [f"exact duplicate of {records['id'].iloc[0]}"]
    assert len(kept) + len(malformed) + len(duplicates) == len(records)
    back = restore(kept, duplicates)
    assert sorted(back["id"]) == sorted(well_formed["id"])
    assert "reason" not in back.columns
