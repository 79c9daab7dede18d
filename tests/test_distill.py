import numpy as np
import pandas as pd
import pytest

from synthlab.curation.distill import cross_partition_relabel, mckd
from synthlab.curation.noise import plant_label_noise


def _frame(n: int = 80) -> pd.DataFrame:
    words = {"positive": "good great fine lovely", "negative": "bad awful poor dull"}
    labels = ["positive", "negative"] * (n // 2)
    return pd.DataFrame(
        {"text": [f"{words[y]} film number{i}" for i, y in enumerate(labels)], "label": labels},
        index=range(200, 200 + n),
    )


def test_cross_partition_relabel_fixes_planted_noise_and_is_aligned():
    noisy = plant_label_noise(_frame(), 0.2, seed=0)
    stage = cross_partition_relabel(noisy, seed=0)
    assert stage.index.equals(noisy.index) and list(stage.columns) == ["pseudo_label", "student_confidence"]
    assert stage["student_confidence"].between(0.5, 1).all()
    assert (stage["pseudo_label"] == noisy["true_label"]).mean() > (noisy["label"] == noisy["true_label"]).mean()


def test_min_confidence_keeps_the_current_label_when_the_student_is_unsure():
    noisy = plant_label_noise(_frame(), 0.2, seed=0)
    kept = cross_partition_relabel(noisy, min_confidence=1.0)["pseudo_label"]
    assert kept.equals(noisy["label"].astype(object))


def test_mckd_keeps_provenance_and_reports_each_stage():
    noisy = plant_label_noise(_frame(), 0.2, seed=1)
    test = _frame(20)
    result = mckd(noisy, stages=2, true_label_col="true_label", test=test, progress=False)
    assert list(result.table.index) == [0, 1, 2]
    assert result.table.loc[0, "label_accuracy"] == pytest.approx(0.8)
    assert result.table.loc[2, "label_accuracy"] > 0.9 and result.table.loc[2, "test_accuracy"] > 0.9
    assert result.rows["original_label"].equals(noisy["label"])
    assert result.rows["label"].equals(result.rows["pseudo_label_2"])
    assert result.rows.index.equals(noisy.index)


def test_mckd_without_truth_or_test_leaves_those_columns_out_or_nan():
    table = mckd(_frame(), stages=1, progress=False).table
    assert np.isnan(table["label_accuracy"]).all() and "test_accuracy" not in table.columns


def test_mckd_warns_and_stops_when_the_labels_collapse():
    frame = _frame().assign(label=["positive"] * 78 + ["negative"] * 2)
    with pytest.warns(UserWarning, match="collapsed"):
        result = mckd(frame, stages=3, n_partitions=3, progress=False)
    assert list(result.table.index) == [0]
    assert result.rows["label"].equals(frame["label"])


@pytest.mark.parametrize(
    "frame, kwargs, error, message",
    [
        (_frame().iloc[:0], {}, ValueError, "no rows"),
        (_frame().drop(columns="label"), {}, KeyError, "label"),
        (_frame().assign(text=[None] + ["ok text"] * 79), {}, ValueError, "not a string"),
        (_frame(), {"stages": 0}, ValueError, "stages"),
        (_frame(), {"true_label_col": "gold"}, KeyError, "gold"),
        (_frame(), {"min_confidence": 1.5}, ValueError, "min_confidence"),
    ],
)
def test_mckd_refuses_bad_input_clearly(frame, kwargs, error, message):
    with pytest.raises(error, match=message):
        mckd(frame, progress=False, **kwargs)
