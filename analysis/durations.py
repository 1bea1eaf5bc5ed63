"""Durations as people write them: 900, 900s, 15m, 1h, 1.5h, 500ms (a bare number is seconds).

Every duration option of the command line and every duration key of service.yaml reads
through here, as kiam-server's and kube2iam's own flags (Go durations) are written.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$", re.I)
_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, None: 1.0}


def seconds(value: str | float | int, allow_zero: bool = False) -> float:
    """The duration in seconds; ValueError saying what is expected otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 900, 900s, 15m or 1h, got {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration like 900, 900s, 15m or 1h, got {value!r}")
        unit = match.group(2).lower() if match.group(2) else None
        number = float(match.group(1)) * _FACTORS[unit]
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        least = "of 0 or more" if allow_zero else "above 0"
        raise ValueError(f"expected a duration {least}, got {value!r}")
    return number


def minutes(value: float) -> str:
    """A configured duration for a sentence, exactly: `15 min`, `90 s`, `1.5 h`."""
    if value >= 3600 and value % 1800 == 0:
        return f"{value / 3600:g} h"
    return f"{value / 60:g} min" if value >= 120 else f"{value:g} s"


def span(value: float | timedelta) -> str:
    """A measured duration (seconds or a timedelta) for a sentence or a figure, rounded: whole
    minutes under 90 min (`45 min`), else hours to one decimal (`1.5 h`, `4 h`, `26.3 h`)."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    minutes = seconds / 60
    return f"{round(minutes / 60, 1):g} h" if minutes >= 90 else f"{minutes:.0f} min"
