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
    distinct = pd.to_datetime(encoded.dictionary.to_pandas(), format=fmt, errors="coerce",
                              utc=True)
    return naive_utc(distinct)[np.asarray(encoded.indices)]


def parse_split_times(first: pa.Array, second: pa.Array, fmt: str) -> np.ndarray:
    """parse_times of `first + " " + second` (nginx's "[26/Nov/2026:10:00:00" and "+0000]",
    two fields to the CSV reader). A log has one time zone as a rule: then only the distinct
    first halves are joined and parsed, not every row (0.05 s instead of 0.3 s on 5M rows)."""
    zones = pc.unique(second)
    if len(zones) != 1:
        return parse_times(pc.binary_join_element_wise(first, second, " "), fmt)
    encoded = pc.dictionary_encode(first)
    distinct = pc.binary_join_element_wise(encoded.dictionary, zones[0], " ")
    parsed = pd.to_datetime(distinct.to_pandas(), format=fmt, errors="coerce", utc=True)
    return naive_utc(parsed)[np.asarray(encoded.indices)]


def naive_utc(times) -> np.ndarray:
    """datetime64[ns] in UTC without a zone: cheap to index and concatenate."""
    return pd.DatetimeIndex(times).tz_convert("UTC").tz_localize(None).to_numpy()


