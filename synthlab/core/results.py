"""The result of a method that runs in rounds: a table with one row per round and the rows it made.

Methods with more to return (kept and removed rows, model calls) have their own dataclass with the same
field names for the same things: ``table`` (one row per round or step), ``rows`` (every row made),
``kept`` / ``removed`` (after a filter, removed rows with their ``reason``) and ``calls`` (one row per
model call).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["RoundsResult"]


@dataclass
class RoundsResult:
    """``table``: one row per round; ``rows``: every row the rounds made, with its ``round``."""

    table: pd.DataFrame
    rows: pd.DataFrame
