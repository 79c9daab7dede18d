"""synthlab: LLM-driven synthetic data generation, curation and evaluation, taught in notebooks.

The package holds what the notebooks need again: the foundation (:mod:`synthlab.llm`, one
chat-model interface; :mod:`synthlab.cache`, :mod:`synthlab.records`, :mod:`synthlab.generate`,
:mod:`synthlab.parsing`, :mod:`synthlab.datasets`), generation (:mod:`synthlab.prompts`,
:mod:`synthlab.demos`, :mod:`synthlab.chains`, :mod:`synthlab.dialogue`, :mod:`synthlab.s3`,
:mod:`synthlab.self_instruct`, :mod:`synthlab.explore_instruct`, :mod:`synthlab.evol_instruct`,
:mod:`synthlab.annotate`), curation (:mod:`synthlab.curate`, :mod:`synthlab.dedup`, :mod:`synthlab.pii`,
:mod:`synthlab.novelty`, :mod:`synthlab.noise`, :mod:`synthlab.crossfit`, :mod:`synthlab.cartography`,
:mod:`synthlab.likelihood`, :mod:`synthlab.consistency`, :mod:`synthlab.reweight`, :mod:`synthlab.reannotate`,
:mod:`synthlab.widgets`, :mod:`synthlab.distill`, :mod:`synthlab.refinery`) and evaluation
(:mod:`synthlab.evaluate`, :mod:`synthlab.relevance`, :mod:`synthlab.downstream`, :mod:`synthlab.judge`,
:mod:`synthlab.agreement`, :mod:`synthlab.human_eval`, :mod:`synthlab.pairwise`, :mod:`synthlab.ranking`), the
survey's future directions (:mod:`synthlab.planner`, :mod:`synthlab.knowledge`, :mod:`synthlab.synergy`,
:mod:`synthlab.hitl`), the end-to-end workflow (:mod:`synthlab.capstone`, :mod:`synthlab.demo`) and throughput
(:mod:`synthlab.batching`, :mod:`synthlab.serve`, :mod:`synthlab.scale`, the last one needing the ``ray`` extra).
The README's module table says what each holds.
"""

from synthlab.llm import get_chat_model
from synthlab.notebook import setup

__all__ = ["get_chat_model", "setup"]
__version__ = "0.1.0"
