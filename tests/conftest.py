"""Shared test settings: quiet TensorFlow, and service-backed tests only when asked for.

Tests marked ``postgres`` or ``browser`` need a service a fresh machine may lack. They run when
``AUTOTUNE_TEST_POSTGRES=1`` / ``AUTOTUNE_TEST_BROWSER=1`` asks for them (``.ci/run`` sets these)
and then fail, not skip, if the service is missing; otherwise pytest reports them deselected.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_SERVICE_MARKS = {"postgres": "AUTOTUNE_TEST_POSTGRES", "browser": "AUTOTUNE_TEST_BROWSER"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skipped = {mark for mark, env in _SERVICE_MARKS.items() if os.environ.get(env) != "1"}
    if not skipped:
        return
    keep, drop = [], []
    for item in items:
        (drop if skipped & {m.name for m in item.iter_markers()} else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
