"""TensorFlow's private gradient registry: forgetting the custom gradients finished trials
registered (they keep each trial's traced graph alive). Where a TensorFlow release moves the
registry, nothing is forgotten: memory creeps as in a plain Keras loop, runs stay correct."""

from __future__ import annotations

import importlib
from typing import Any

MODULE = "tensorflow.python.framework.ops"
"""The module holding the registry (private)."""

REGISTRY = "_gradient_registry"
"""The registry's name in that module (private)."""


def gradient_registry() -> dict[str, Any]:
    """TensorFlow's registry of gradient functions by name; an empty dict where it is not found
    (nothing is then released)."""
    try:
        registry: dict[str, Any] = getattr(importlib.import_module(MODULE), REGISTRY)._registry
        return registry
    except (ImportError, AttributeError):
        return {}
