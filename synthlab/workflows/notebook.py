"""The one setup call every notebook starts with: seeds, display defaults, and the run's recording."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from synthlab.core.plots import use_defaults
from synthlab.llm.recording import MODE_ENV_VAR, recording_summary, use_recording

__all__ = ["setup"]


def setup(seed: int = 0, *, recording: str | None = None) -> None:
    """Seed Python and NumPy, set pandas display options and matplotlib defaults, enable
    ``DataFrame.progress_apply``; with ``recording`` (the notebook's file name without ``.ipynb``), the chat models
    made afterwards replay that notebook's recorded calls (:mod:`synthlab.llm.recording`), and one line says so.
    ``$SYNTHLAB_REPLAY`` picks the mode: ``replay`` (default), ``strict``, ``off`` (run cold) or ``record``."""
    random.seed(seed)
    np.random.seed(seed)
    pd.set_option("display.max_colwidth", 120)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    use_defaults()
    tqdm.pandas()
    use_recording(recording)
    if recording is not None:
        print(f"{recording_summary(recording)}; set {MODE_ENV_VAR}=replay|strict|off to change")
