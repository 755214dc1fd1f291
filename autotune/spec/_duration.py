"""Durations in run files and on the command line: ``90``, ``"90s"``, ``"10m"``, ``"1.5h"``."""

from __future__ import annotations

import re
from typing import Any

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)?\s*$")
_SCALE = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds in a duration given as a number of seconds or a string with a unit.

    Raises:
        ValueError: the value is not a positive duration.

    Example:
        >>> parse_duration("10m"), parse_duration(90), parse_duration("1.5h")
        (600.0, 90.0, 5400.0)
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 90s, 10m or 1.5h, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _PATTERN.match(str(value))
        if match is None:
            raise ValueError(f"expected a duration like 90s, 10m or 1.5h, got {value!r}")
        seconds = float(match.group(1)) * _SCALE[match.group(2)]
    if not seconds > 0:
        raise ValueError(f"expected a positive duration, got {value!r}")
    return seconds
