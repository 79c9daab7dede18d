"""The survey's future directions (taxonomy F1-F4): task decomposition (planner), knowledge retrieval,
model synergy and human-in-the-loop rounds. Built on every layer below.
"""
