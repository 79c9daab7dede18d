"""End-to-end workflows: the capstone (``make demo``) and scale-out on Ray Data (the ``ray`` extra).
The top layer: it may import every other.
"""
