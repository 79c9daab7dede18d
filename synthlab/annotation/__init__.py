"""Labels from models and people: the LLM annotator (taxonomy G9), label parsing and constraints,
the on-disk label store, and the ipywidgets annotator and raters. Imports :mod:`synthlab.core` and
:mod:`synthlab.llm`.
"""
