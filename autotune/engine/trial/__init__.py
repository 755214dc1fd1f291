"""The trial and its contract: what a trial body is and how its result is recorded
(`_objective.py`), the built-in trainer's body and the probe (`_probes.py`), the bodies for a
user's own code (`_bodies.py`, `_code.py`), the context an objective reports through
(`_context.py`), and stopping an objective that overruns the budget (`_overrun.py`).
"""
