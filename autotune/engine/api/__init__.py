"""The Python API: `tune` and `objective` (`_tune.py`, `_tune_parts.py`) and the `Study` it
returns (`_tuned.py`).
"""
