"""Generation (taxonomy G1-G9): a model and a task in, records out. Prompts and task presets,
in-context demonstrations, chains and dialogues, error-driven generation (S3) and instruction bootstrapping
(:mod:`synthlab.generation.instructions`). Multi-step methods filter and measure inside their loops, so this
layer sits above curation and evaluation.
"""
