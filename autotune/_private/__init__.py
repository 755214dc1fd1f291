"""Adapters: every reach into a dependency's private API goes through one module per
dependency, with the public way it falls back to where the private one is gone.

- ``_optuna.py``: a trial's and a study's id, a study's storage, the storage behind Optuna's
  cache, wrapping ``RDBStorage`` methods, a study's cached trials, stale trials, retry history,
  writing a trial's attrs in one SQLite statement.
- ``_keras.py``: seeding a trial without clearing Keras' caches.
- ``_tensorflow.py``: the gradient registry finished trials are released from.
- ``_keras_tuner.py``: the values of a stepped log-scale hyperparameter.

Each imports its dependency only when called. A test per hook
(``tests/test_private_adapters.py``) removes it and runs a study anyway.
"""
