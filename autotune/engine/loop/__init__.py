"""The study loop (`_run.py`): claim a trial, run it (here or in the worker pool), record it,
rewrite the results, until the trials or the budget are spent.
"""
