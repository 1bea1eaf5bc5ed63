"""Values that cannot be true: rejected per line, with the reason, before they reach a table.

A timestamp in year 9999 once made a per-minute series of 4 billion minutes (MemoryError), and
1e300 seconds or a negative latency went straight into the percentiles. Evidence is from this
century and not from the future; no request takes a day. ALB's -1 ("no answer") and nginx's
`-` are read as "no backend answer" (NaN) before these checks, not rejected by them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

EARLIEST = np.datetime64("2000-01-01T00:00:00", "s")
#: clocks drift and zones get mixed up, but evidence from more than a day ahead is wrong
FUTURE_MARGIN = timedelta(days=1)
#: a day: longer than any proxy or SDK timeout, so a larger value is a wrong unit or garbage
MAX_LATENCY_MS = 86_400_000.0


def latest() -> np.datetime64:
    """The latest plausible time: now (UTC) plus the clock margin."""
    return np.datetime64((datetime.now(UTC) + FUTURE_MARGIN).replace(tzinfo=None), "s")


def bad_time_reason() -> str:
    return f"implausible time: before {EARLIEST.astype(object):%Y-%m-%d} or in the future"


def latency_problems(columns) -> tuple[np.ndarray, np.ndarray]:
    """For the rows of a latency table (a dict of arrays or a DataFrame): which cannot be
    true, and why (an empty string for the rows that can)."""
    time = np.asarray(columns["time"])
    if time.dtype.kind != "M":
        time = time.astype("datetime64[ns]")
    unreadable = np.isnat(time)
    checks = [(unreadable, "unreadable timestamp"),
              (~unreadable & ((time < EARLIEST) | (time > latest())), bad_time_reason())]
    for name in ("latency_ms", "total_ms"):
        values = np.asarray(columns[name], dtype=float)
        with np.errstate(invalid="ignore"):
            wrong = ~np.isnan(values) & ~((values >= 0) & (values <= MAX_LATENCY_MS))
        checks.append((wrong, f"implausible {name.removesuffix('_ms')}: negative or longer "
                              "than a day"))
    bad = np.zeros(len(time), bool)
    why = np.full(len(time), "", dtype=object)
    for mask, reason in checks:
        why[mask & ~bad] = reason
        bad |= mask
    return bad, why


def plausible_time(value: pd.Timestamp) -> bool:
    """One timestamp (dig's WHEN, a credential's LastUpdated): NaT counts as plausible here,
    its absence is judged by the caller."""
    if pd.isna(value):
        return True
    naive = value.tz_convert("UTC").tz_localize(None) if value.tzinfo else value
    return bool(EARLIEST <= np.datetime64(naive.to_datetime64(), "s") <= latest())
