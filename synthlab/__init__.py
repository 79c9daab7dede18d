"""synthlab: LLM-driven synthetic data generation, curation and evaluation, taught in notebooks.

The package holds what the notebooks need again: :mod:`synthlab.llm` (one chat-model
interface), :mod:`synthlab.cache`, :mod:`synthlab.records`, :mod:`synthlab.generate`,
:mod:`synthlab.curate`, :mod:`synthlab.evaluate`, :mod:`synthlab.viz`.
"""

from synthlab.llm import get_chat_model
from synthlab.notebook import setup

__all__ = ["get_chat_model", "setup"]
__version__ = "0.1.0"
