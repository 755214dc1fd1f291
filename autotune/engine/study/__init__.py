"""The study: opening or resuming it with its sampler, pruner and stored run file (`_study.py`),
and the budget planner that says whether another trial may start (`_planner.py`).
"""
