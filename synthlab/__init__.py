"""synthlab: LLM-driven synthetic data generation, curation and evaluation, taught in notebooks.

The package holds what the notebooks need again, in layers that import only downward (a test checks it):

- :mod:`synthlab.core`: no LLM and no stage: records, parsing, the real datasets, the ``(kept, removed)`` step,
  text primitives (tokens, ROUGE-L), the small classifiers, cross-fitting, selection, plots.
- :mod:`synthlab.llm`: one chat-model interface (:func:`get_chat_model`), the embedded llama.cpp model with
  continuous batching, the call cache and recorded runs, batch generation with seeds, retries and checkpoints, the
  loopback server.
- :mod:`synthlab.annotation`: labels from models and people: the LLM annotator, label parsing, the label store,
  the annotator widgets and raters.
- :mod:`synthlab.curation`: hygiene filters, dedup, PII, planted noise, noise detectors, re-weighting,
  relabelling and manual re-annotation (taxonomy C1-C7).
- :mod:`synthlab.evaluation`: diversity, train-on-synthetic and oracle agreement, judges, human-rating
  statistics, rankings (E1-E8).
- :mod:`synthlab.generation`: prompts and tasks, demonstrations, chains and dialogues, error-driven generation,
  instruction bootstrapping (G1-G9).
- :mod:`synthlab.directions`: the survey's future directions (F1-F4).
- :mod:`synthlab.workflows`: the capstone (``make demo``), scale-out on Ray Data, notebook setup and recording.

The README's module table says what each module holds.
"""

from synthlab.llm.chat import get_chat_model
from synthlab.workflows.notebook import setup

__all__ = ["get_chat_model", "setup"]
__version__ = "0.1.0"
