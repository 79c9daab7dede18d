"""synthlab: LLM-driven synthetic data generation, curation and evaluation, taught in notebooks.

The package holds what the notebooks need again: the foundation (:mod:`synthlab.llm.chat`, one
chat-model interface; :mod:`synthlab.llm.cache`, :mod:`synthlab.core.records`, :mod:`synthlab.llm.generate`,
:mod:`synthlab.core.parsing`, :mod:`synthlab.core.data`), generation (:mod:`synthlab.generation.prompts`,
:mod:`synthlab.generation.demos`, :mod:`synthlab.generation.chains`, :mod:`synthlab.generation.dialogue`, :mod:`synthlab.generation.error_driven`,
:mod:`synthlab.generation.instructions.self_instruct`, :mod:`synthlab.generation.instructions.explore_instruct`, :mod:`synthlab.generation.instructions.evol_instruct`,
:mod:`synthlab.annotation.llm`), curation (:mod:`synthlab.curation.filters`, :mod:`synthlab.curation.dedup`, :mod:`synthlab.curation.pii`,
:mod:`synthlab.core.text`, :mod:`synthlab.curation.noise`, :mod:`synthlab.core.crossfit`, :mod:`synthlab.curation.cartography`,
:mod:`synthlab.curation.likelihood`, :mod:`synthlab.curation.consistency`, :mod:`synthlab.curation.reweight`, :mod:`synthlab.curation.reannotate`,
:mod:`synthlab.annotation.widgets`, :mod:`synthlab.curation.distill`, :mod:`synthlab.curation.refinery`) and evaluation
(:mod:`synthlab.evaluation.diversity`, :mod:`synthlab.evaluation.diversity`, :mod:`synthlab.evaluation.downstream`, :mod:`synthlab.evaluation.judge`,
:mod:`synthlab.evaluation.human`, :mod:`synthlab.annotation.raters`, :mod:`synthlab.evaluation.pairwise`, :mod:`synthlab.evaluation.ranking`), the
survey's future directions (:mod:`synthlab.directions.planner`, :mod:`synthlab.directions.knowledge`, :mod:`synthlab.directions.synergy`,
:mod:`synthlab.directions.hitl`), the end-to-end workflow (:mod:`synthlab.workflows.capstone`, :mod:`synthlab.workflows.capstone`) and throughput
(:mod:`synthlab.llm.batching`, :mod:`synthlab.llm.serve`, :mod:`synthlab.workflows.scale`, the last one needing the ``ray`` extra).
The README's module table says what each holds.
"""

from synthlab.core.notebook import setup
from synthlab.llm.chat import get_chat_model

__all__ = ["get_chat_model", "setup"]
__version__ = "0.1.0"
