"""The one setup call every notebook starts with."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from synthlab.core.plots import use_defaults

__all__ = ["setup"]


def setup(seed: int = 0) -> None:
    """Seed Python and NumPy, set pandas display options and matplotlib defaults, enable
    ``DataFrame.progress_apply``."""
    random.seed(seed)
    np.random.seed(seed)
    pd.set_option("display.max_colwidth", 120)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    use_defaults()
    tqdm.pandas()
