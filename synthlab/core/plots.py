"""Plots shared by the notebooks and the demo report (matplotlib, one idea per figure)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["curves_with_references", "length_histogram", "use_defaults"]


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


def curves_with_references(
    curves: Mapping[str, pd.DataFrame],
    *,
    x: str,
    xlabel: str,
    title: str,
    y: str = "accuracy",
    ylabel: str = "test accuracy",
    style_by: str | None = None,
    references: Mapping[str, float | None] | None = None,
    legend_outside: bool = False,
) -> Figure:
    """One line of ``y`` against ``x`` per curve (the mean over rows that share an ``x``, with a min-max band when
    there are several: repeated runs), one line style per value of ``style_by`` within a curve, and a labelled
    horizontal line per reference value (a noisy baseline, a clean ceiling; None is left out)."""
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 4) if legend_outside else (6.5, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", "-.", ":"]
    for number, (name, curve) in enumerate(curves.items()):
        color = colors[number % len(colors)]
        groups = curve.groupby(style_by, sort=False) if style_by else [(None, curve)]
        for position, (value, runs) in enumerate(groups):
            stats = runs.groupby(x)[y].agg(["mean", "min", "max", "size"])
            label = name if value is None else f"{name}, {value}"
            axes.plot(stats.index, stats["mean"], marker="o", color=color, linestyle=styles[position % 4], label=label)
            if (stats["size"] > 1).any():
                axes.fill_between(stats.index, stats["min"], stats["max"], color=color, alpha=0.12)
    shown = {name: value for name, value in (references or {}).items() if value is not None}
    reference_colors = ["grey", "black", *colors[len(curves) :]]
    for position, (name, value) in enumerate(shown.items()):
        color = reference_colors[position % len(reference_colors)]
        axes.axhline(value, color=color, linestyle=(":", "--", "-.")[position % 3], label=f"{name} ({value:.3f})")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if legend_outside:
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    else:
        axes.legend(fontsize="small")
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
