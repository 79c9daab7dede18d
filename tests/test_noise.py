import numpy as np
import pandas as pd
import pytest

from synthlab.curation.noise import (
    detection_report,
    flag_top,
    plant_label_noise,
    plot_removal_curves,
    removal_curve,
)


def _frame(n: int = 40) -> pd.DataFrame:
    words = {"positive": "good great fine", "negative": "bad awful poor"}
    labels = ["positive", "negative"] * (n // 2)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "text": [f"{words[y]} film {i}" for i, y in enumerate(labels)],
            "label": labels,
        }
    )


def test_plant_label_noise_flips_exactly_the_share_and_records_the_truth():
    noisy = plant_label_noise(_frame(40), 0.25, seed=3)
    assert noisy["is_noisy"].sum() == 10
    assert (noisy["label"] != noisy["true_label"]).tolist() == noisy["is_noisy"].tolist()
    assert noisy["true_label"].tolist() == _frame(40)["label"].tolist()
    assert plant_label_noise(_frame(40), 0.25, seed=3).equals(noisy)
    assert not plant_label_noise(_frame(40), 0.25, seed=4)["is_noisy"].equals(noisy["is_noisy"])


def test_plant_label_noise_draws_among_other_labels_for_many_classes():
    frame = pd.DataFrame({"text": list("abcdefghi"), "label": ["x", "y", "z"] * 3})
    noisy = plant_label_noise(frame, 1.0, seed=0)
    assert noisy["is_noisy"].all() and (noisy["label"] != noisy["true_label"]).all()
    assert set(noisy["label"]) <= {"x", "y", "z"}


@pytest.mark.parametrize(
    "frame, share, message",
    [
        (_frame(), 1.5, "between 0 and 1"),
        (_frame().assign(label="positive"), 0.3, "single class"),
        (_frame().assign(label=None), 0.3, "missing"),
        (_frame().drop(columns="label"), 0.3, "label"),
    ],
)
def test_plant_label_noise_rejects_bad_input(frame, share, message):
    with pytest.raises((ValueError, KeyError), match=message):
        plant_label_noise(frame, share)


def test_detection_report_counts_hits():
    report = detection_report([True, True, False, False], [True, False, True, False])
    assert report == {"flagged": 2, "noisy": 2, "precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert detection_report([False, False], [True, False])["precision"] == 0.0
    with pytest.raises(ValueError, match="one entry per row"):
        detection_report([True], [True, False])


def test_flag_top_flags_the_most_suspicious_share():
    assert flag_top([0.1, 0.9, 0.5, 0.7], 0.5).tolist() == [False, True, False, True]
    assert not flag_top([0.1, 0.9], 0.0).any()
    with pytest.raises(ValueError, match="missing"):
        flag_top([0.1, np.nan], 0.5)


def test_removal_curve_removes_the_most_suspicious_rows_first():
    train = plant_label_noise(_frame(40), 0.25, seed=0)
    test = _frame(20)
    perfect = train["is_noisy"].astype(float).to_numpy()
    curve = removal_curve(train, perfect, test, shares=(0.0, 0.25))
    assert curve["n_train"].tolist() == [40, 30]
    assert curve["noise_left"].tolist() == [0.25, 0.0]
    assert curve["accuracy"].iloc[1] == 1.0
    with pytest.raises(ValueError, match="one per row"):
        removal_curve(train, perfect[:5], test)
    figure = plot_removal_curves({"perfect": curve}, baseline=0.5, ceiling=1.0)
    assert figure.axes[0].get_xlabel().startswith("share")
