"""Reserved trials: the study-wide count of trials kept as WAITING tickets (`_tickets.py`) and
claiming one, recording it unless it failed, waiting for other workers (`_claim.py`).
"""
