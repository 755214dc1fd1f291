"""Keras' private seeding state: seeding a trial without clearing Keras' caches.

``keras.utils.set_random_seed`` also resets Keras' global seed generator, which (in a process
that runs many trials) drops cached random state and retraces; setting the two global
attributes it writes keeps the caches. Where a Keras release moves them, the public function
runs instead: the same seeds, slower trials.
"""

from __future__ import annotations

import importlib
import random

import numpy as np

MODULES = ("keras.src.backend.common.global_state", "keras.src.random.seed_generator")
"""Where Keras keeps its global seed state (private)."""

RNG_UTILS = "keras.src.utils.rng_utils"
"""Where Keras names its global random seed attribute (private)."""


def seed(value: int) -> None:
    """Seed Python, NumPy and Keras with ``value`` (Keras' private state where it is found,
    else ``keras.utils.set_random_seed``)."""
    try:
        global_state, seed_generator = (importlib.import_module(name) for name in MODULES)
        rng_utils = importlib.import_module(RNG_UTILS)
        global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, value)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    except (ImportError, AttributeError):  # a Keras that moved these: seed everything
        import keras

        keras.utils.set_random_seed(value)
        return
    random.seed(value)
    np.random.seed(value)
