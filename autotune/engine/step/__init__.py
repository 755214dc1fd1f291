"""One trial, claimed to recorded (`_step.py`): the step the in-process loop and every worker
process run, with Ctrl-C held while the study or the results are written.
"""
