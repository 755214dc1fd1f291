"""Memory sizes in run files: ``4096`` (MiB), ``"1500MB"``, ``"4GiB"``, ``"2G"``."""

from __future__ import annotations

import math
import re
from typing import Any

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?)?\s*$", re.IGNORECASE)
_MIB = {"k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0**2}
_DECIMAL = {"k": 1e3 / 2**20, "m": 1e6 / 2**20, "g": 1e9 / 2**20, "t": 1e12 / 2**20}


def parse_mebibytes(value: Any) -> float:
    """MiB in a memory size given as a number of MiB or a string with a unit.

    ``KiB/MiB/GiB/TiB`` (and ``K/M/G/T``) are powers of 1024; ``KB/MB/GB/TB`` powers of 1000.

    Raises:
        ValueError: the value is not a positive size.

    Example:
        >>> parse_mebibytes("4GiB"), parse_mebibytes(512), parse_mebibytes("1000MB")
        (4096.0, 512.0, 953.67431640625)
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a memory size like 4GiB or 1500MB, got {value!r}")
    if isinstance(value, int | float):
        mib = float(value)
    else:
        match = _PATTERN.match(str(value))
        if match is None:
            raise ValueError(f"expected a memory size like 4GiB or 1500MB, got {value!r}")
        unit = (match.group(2) or "m").lower()
        scale = _DECIMAL if unit.endswith("b") and not unit.endswith("ib") else _MIB
        mib = float(match.group(1)) * scale[unit[0]]
    if not (mib > 0 and math.isfinite(mib)):
        raise ValueError(f"expected a positive memory size, got {value!r}")
    return mib
