"""The latency table: one row per request, the columns every access-log format fills.

Tidy columns: `time` (UTC), `latency_ms` (the backend's time: nginx `$upstream_response_time`,
ALB `target_processing_time`; NaN when no backend answered), `total_ms` (the proxy's whole
time), `status` (the status the client got), `attempts` (upstreams tried), `source_file`, `line`.
The backend time is the one compared, so a different proxy in front of each environment does
not count as a gap (docs/formats.md).

The formats: ingress_nginx.py, aws_alb.py, envoy.py (Envoy, Istio), legacy.py, athena.py,
tabular.py (CSV, JSON lines), custom.py (format strings from service.yaml); the parsing engine
they share: regex_format.py (a regular expression over whole Arrow columns) and
field_format.py (pyarrow's CSV reader, the fast path).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KIND = "latency"
COLUMNS = ["time", "latency_ms", "total_ms", "status", "attempts", "source_file", "line"]
#: the typed columns a format fills (before `line` and `source_file`), for an empty table
EMPTY = {"time": "datetime64[ns]", "latency_ms": float, "total_ms": float, "status": np.int16,
         "attempts": np.int16}


def finish(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    # Series.dt.tz_localize: one copy of the column; DatetimeIndex(...) made two (20M lines)
    table["time"] = table["time"].dt.tz_localize("UTC")
    table["source_file"] = pd.Categorical.from_codes(np.zeros(len(table), np.int8), [str(path)])
    return table[COLUMNS]



def parse_times(values: pa.Array, fmt: str) -> np.ndarray:
    """Parse timestamps once per distinct value: logs repeat each second many times."""
    encoded = pc.dictionary_encode(values)
    return _parse_distinct(encoded.dictionary, fmt)[np.asarray(encoded.indices)]


def parse_split_times(first: pa.Array, second: pa.Array, fmt: str) -> np.ndarray:
    """parse_times of `first + " " + second` (nginx's "[26/Nov/2026:10:00:00" and "+0000]",
    two fields to the CSV reader). A log has one time zone as a rule: then only the distinct
    first halves are joined and parsed, not every row."""
    zones = pc.unique(second)
    if len(zones) != 1:
        return parse_times(pc.binary_join_element_wise(first, second, " "), fmt)
    encoded = pc.dictionary_encode(first)
    distinct = pc.binary_join_element_wise(encoded.dictionary, zones[0], " ")
    return _parse_distinct(distinct, fmt)[np.asarray(encoded.indices)]


def _parse_distinct(values: pa.Array, fmt: str) -> np.ndarray:
    """Naive UTC times of `values` (NaT where unreadable), as pandas' to_datetime(format=fmt,
    errors="coerce", utc=True) reads them. Arrow's strptime first: the fast path parses ~100
    distinct values a batch, where pandas' fixed cost per call (~0.3 ms) was most of the time
    (0.1 s of 5M nginx lines; Arrow 0.01 s). Arrow's is kept only where formatting its result
    gives the text back (so a 31 Feb, which it rolls over to 3 Mar, a leap second, a zone other
    than UTC or a directive it does not know go to pandas, value by value): the same values as
    pandas either way."""
    try:
        parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
        exact = np.asarray(pc.fill_null(pc.equal(pc.strftime(parsed, format=fmt), values),
                                        False))
    except (pa.ArrowException, ValueError):  # a format Arrow cannot take
        parsed, exact = None, np.zeros(len(values), bool)
    if exact.all():
        return parsed.cast(pa.timestamp("us", tz="UTC")).to_numpy(zero_copy_only=False) \
            .astype("datetime64[us]")
    rest = naive_utc(pd.to_datetime(values.filter(pa.array(~exact)).to_pandas(), format=fmt,
                                    errors="coerce", utc=True))
    if not exact.any():
        return rest
    unit = np.result_type(rest.dtype, np.dtype("datetime64[us]"))
    times = np.empty(len(values), unit)
    times[exact] = parsed.filter(pa.array(exact)).cast(pa.timestamp("us", tz="UTC")) \
        .to_numpy(zero_copy_only=False).astype(unit)
    times[~exact] = rest
    return times


def naive_utc(times) -> np.ndarray:
    """datetime64[ns] in UTC without a zone: cheap to index and concatenate."""
    return pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None).to_numpy()


