"""Curation (taxonomy C1-C7): a frame in, ``(kept, removed)`` or a score per row out. Hygiene filters,
deduplication, PII scrubbing, the planted-noise harness, noise detectors (consistency, cartography, likelihood),
re-weighting, relabelling by auxiliary models and manual re-annotation. Imports the layers below it
(core, llm, annotation).
"""
