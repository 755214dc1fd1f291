from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from autotune.space import Space, TrialConfig, defaults


@pytest.fixture
def make_config() -> Callable[..., TrialConfig]:
    """A TrialConfig as a default run file makes it, with some values changed."""
    base = Space(defaults()).fixed({})

    def make(**changes: Any) -> TrialConfig:
        return base.replace(**changes)

    return make
