"""Dataset cartography and CLLM (synthlab.curation.cartography): the data map, regions, filters, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt

from synthlab.curation.cartography import (
    REGIONS,
    assign_regions,
    cllm_groups,
    cllm_suspicion,
    data_map,
    filter_regions,
    plot_data_map,
)

POSITIVE = [
    "a great film",
    "wonderful acting and a great plot",
    "great fun",
    "a wonderful moving story",
    "loved it, great",
    "wonderful and great",
]
NEGATIVE = [
    "a dull film",
    "terrible acting and a dull plot",
    "boring and dull",
    "a terrible tedious story",
    "hated it, terrible",
    "dull and terrible",
]


@pytest.fixture
def noisy_frame() -> pd.DataFrame:
    """60 short reviews with the label of every tenth row flipped (index starts at 100)."""
    texts = [POSITIVE[i % 6] if i % 2 == 0 else NEGATIVE[i % 6] for i in range(60)]
    labels = ["positive" if i % 2 == 0 else "negative" for i in range(60)]
    flipped = [i % 10 == 3 for i in range(60)]
    labels = [
        ("negative" if label == "positive" else "positive") if flip else label for label, flip in zip(labels, flipped)
    ]
    return pd.DataFrame(
        {"id": [f"r{i}" for i in range(60)], "text": texts, "label": labels, "is_noisy": flipped},
        index=range(100, 160),
    )


def test_data_map_is_aligned_and_in_range(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=4, progress=False)
    assert dynamics.index.equals(noisy_frame.index)
    assert list(dynamics.columns) == ["confidence", "variability", "correctness", "aleatoric", "region"]
    for column in ("confidence", "correctness"):
        assert dynamics[column].between(0, 1).all()
    assert dynamics["variability"].between(0, 0.5).all() and dynamics["aleatoric"].between(0, 0.25).all()
    assert set(dynamics["region"]) <= set(REGIONS)


def test_flipped_rows_have_low_confidence_and_correctness(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=5, progress=False)
    noisy = noisy_frame["is_noisy"]
    assert dynamics.loc[noisy, "confidence"].mean() < dynamics.loc[~noisy, "confidence"].mean() - 0.05
    assert dynamics.loc[noisy, "correctness"].mean() < dynamics.loc[~noisy, "correctness"].mean()


def test_aleatoric_is_confidence_and_variability_in_other_coordinates(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=3, progress=False)
    expected = dynamics["confidence"] * (1 - dynamics["confidence"]) - dynamics["variability"] ** 2
    assert np.allclose(dynamics["aleatoric"], expected)


def test_data_map_is_seeded(noisy_frame):
    first = data_map(noisy_frame, epochs=3, seed=4, progress=False)
    assert first.equals(data_map(noisy_frame, epochs=3, seed=4, progress=False))
    assert not first.equals(data_map(noisy_frame, epochs=3, seed=5, progress=False))


def test_reference_trains_the_classifier_and_scores_frame(noisy_frame):
    clean = noisy_frame[~noisy_frame["is_noisy"]]
    dynamics = data_map(noisy_frame, reference=clean, epochs=3, progress=False)
    assert dynamics.index.equals(noisy_frame.index)
    noisy = noisy_frame["is_noisy"]
    assert dynamics.loc[noisy, "confidence"].max() < dynamics.loc[~noisy, "confidence"].min()


def test_regions_follow_the_quantiles():
    dynamics = pd.DataFrame(
        {"confidence": [0.9, 0.8, 0.2, 0.1, 0.5, 0.6], "variability": [0.01, 0.02, 0.01, 0.02, 0.3, 0.4]}
    )
    regions = assign_regions(dynamics, ambiguous_quantile=2 / 3, hard_quantile=0.4)
    assert regions.tolist() == [
        "easy-to-learn",
        "easy-to-learn",
        "hard-to-learn",
        "hard-to-learn",
        "ambiguous",
        "ambiguous",
    ]
    with pytest.raises(ValueError, match="hard_quantile"):
        assign_regions(dynamics, hard_quantile=1.5)


def test_cllm_groups_and_suspicion():
    dynamics = pd.DataFrame(
        {"confidence": [0.95, 0.9, 0.1, 0.05, 0.5, 0.45], "aleatoric": [0.04, 0.05, 0.05, 0.04, 0.25, 0.24]}
    )
    groups = cllm_groups(dynamics, low_quantile=0.3, high_quantile=0.7, aleatoric_quantile=0.6)
    assert groups.tolist() == ["easy", "easy", "hard", "hard", "ambiguous", "ambiguous"]
    suspicion = cllm_suspicion(dynamics)
    assert suspicion.idxmax() == 3 and suspicion.idxmin() == 0
    with pytest.raises(ValueError, match="must not exceed"):
        cllm_groups(dynamics, low_quantile=0.8, high_quantile=0.2)


def test_filter_regions_records_reasons_and_selects(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=3, progress=False)
    kept, removed = filter_regions(noisy_frame, dynamics, ["hard-to-learn"])
    assert len(kept) + len(removed) == len(noisy_frame)
    assert (dynamics.loc[removed.index, "region"] == "hard-to-learn").all()
    assert removed["reason"].str.startswith("hard-to-learn (confidence ").all()
    assert (removed["step"] == "filter_regions:region").all()
    assert filter_regions(noisy_frame, dynamics, "hard-to-learn")[1].index.equals(removed.index)
    groups = dynamics.assign(cllm_group=cllm_groups(dynamics))
    _, not_easy = filter_regions(noisy_frame, groups, ["hard", "ambiguous"], column="cllm_group")
    assert (groups.loc[not_easy.index, "cllm_group"] != "easy").all()


def test_filter_regions_warns_when_everything_goes(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=3, progress=False)
    with pytest.warns(UserWarning, match="removed all"):
        kept, removed = filter_regions(noisy_frame, dynamics, list(REGIONS))
    assert kept.empty and len(removed) == len(noisy_frame)


def test_filter_regions_refuses_misaligned_or_unknown(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=3, progress=False)
    with pytest.raises(ValueError, match="not aligned"):
        filter_regions(noisy_frame.reset_index(drop=True), dynamics)
    with pytest.raises(ValueError, match="names no region"):
        filter_regions(noisy_frame, dynamics, ["hard to learn"])
    with pytest.raises(KeyError, match="data_map"):
        filter_regions(noisy_frame, dynamics.drop(columns="region"))


def test_plot_data_map_labels_axes_and_highlights(noisy_frame):
    dynamics = data_map(noisy_frame, epochs=3, progress=False)
    figure = plot_data_map(dynamics, highlight=noisy_frame["is_noisy"], highlight_label="flipped")
    axes = figure.axes[0]
    assert "variability" in axes.get_xlabel() and "confidence" in axes.get_ylabel() and axes.get_title()
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["flipped"]
    with pytest.raises(ValueError, match="one flag per row"):
        plot_data_map(dynamics, highlight=[True])
    plt.close("all")


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda f: f.iloc[:0], ValueError, "no rows"),
        (lambda f: f.drop(columns="text"), KeyError, "text"),
        (lambda f: f.drop(columns="label"), KeyError, "label"),
        (lambda f: f.assign(text=[None] + f["text"].tolist()[1:]), ValueError, "not a string"),
        (lambda f: f.assign(label="positive"), ValueError, "two labels"),
    ],
)
def test_bad_input_is_named(noisy_frame, change, error, message):
    with pytest.raises(error, match=message):
        data_map(change(noisy_frame), progress=False)


def test_bad_epochs_and_reference(noisy_frame):
    with pytest.raises(ValueError, match="epochs"):
        data_map(noisy_frame, epochs=1, progress=False)
    positives = noisy_frame[noisy_frame["label"] == "positive"]
    reference = pd.concat([positives, positives.assign(label="neutral")])
    with pytest.raises(ValueError, match="reference never shows"):
        data_map(noisy_frame, reference=reference, progress=False)
    with pytest.raises(TypeError, match="data_map"):
        cllm_suspicion(np.zeros(3))
