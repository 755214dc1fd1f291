"""Result output while a study runs: when result files are rewritten (`_refresh.py`), which
trained models are kept (`_kept_models.py`), and the review note (`_review.py`).
"""
