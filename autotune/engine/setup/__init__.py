"""What a run needs before its first trial: the data, the space, the sampler and pruner, the
trial body and the objective (`_prepare.py`).
"""
