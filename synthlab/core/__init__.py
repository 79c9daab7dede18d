"""The ground layer: no LLM and no workflow stage. The input checks of every public function (texts, frames,
labels), records and their files, output parsing, the real datasets, the ``(kept, removed)`` step primitive, text
primitives (tokens, ROUGE-L), the small classifiers, cross-fitting, diverse selection, shared plots and the notebook
setup. Every other layer builds on it.
"""
