"""Instruction bootstrapping (taxonomy G8): shared list parsing and Self-Instruct's filters, and
Self-Instruct, Explore-Instruct and Evol-Instruct on top of them.
"""
