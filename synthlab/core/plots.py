"""Plots shared by the notebooks and the demo report (matplotlib, one idea per figure)."""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["length_histogram", "use_defaults"]


def length_histogram(
    frame: pd.DataFrame, *, text_col: str = "text", label_col: str = "label", title: str = ""
) -> Figure:
    """Histogram of text lengths in words, one series per label."""
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    lengths = frame[text_col].fillna("").map(lambda text: len(str(text).split()))
    for label, group in lengths.groupby(frame[label_col].fillna("(none)")):
        axis.hist(group, bins=12, alpha=0.6, label=str(label))
    axis.set_xlabel("length (words)")
    axis.set_ylabel("rows")
    axis.set_title(title or "Length of generated texts by label")
    axis.legend(title=label_col)
    figure.tight_layout()
    return figure


def use_defaults() -> None:
    """matplotlib defaults for synthlab figures: readable sizes, no top/right spines."""
    matplotlib.rcParams.update(
        {
            "figure.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
        }
    )
