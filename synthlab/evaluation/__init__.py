"""Evaluation (taxonomy E1-E8): texts or frames in, numbers out. Diversity (lexical and embedding),
train-on-synthetic and oracle agreement, LLM judges (label checks and pairwise), human-rating statistics and
rankings. Imports the layers below it (core, llm, annotation, curation).
"""
