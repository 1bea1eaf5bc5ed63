"""Generic CSV and JSON-lines latency logs: a timestamp column and a latency column.

The latency's unit comes from the column's name (`latency_ms`, `duration_seconds`, ...), from
a name whose unit is fixed by the proxy that writes it (nginx `request_time` is seconds, Envoy
`duration` is ms), or from `latency_unit` in service.yaml. Anything else is an error: a unit
is never guessed. A backend column (`upstream_*`, `target_*`, `backend_*`) is preferred as
`latency_ms`, and a plain latency/duration column is then kept as `total_ms`.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from analysis.errors import EvidenceError
from analysis.ingest import other_lines
from analysis.ingest.csvfile import read_csv
from analysis.ingest.latency import finish, naive_utc
from analysis.ingest.plausible import latency_problems
from analysis.ingest.reading import parse_by_lines, sample_lines
from analysis.ingest.registry import register
from analysis.ingest.rows import Parsed, no_skipped, rejections, skipped, sorted_rejections

TIME_NAMES = ("time", "timestamp", "@timestamp", "ts", "start_time", "datetime", "date")
LATENCY_WORDS = ("latency", "duration", "response_time", "elapsed", "service_time",
                 "processing_time", "request_time")
BACKEND_WORDS = ("upstream", "target", "backend")
STATUS_NAMES = ("status", "status_code", "response_code", "code", "elb_status_code")
#: ms per unit, for units named by a column suffix or by latency_unit in service.yaml
UNITS = {"ms": 1.0, "millis": 1.0, "milliseconds": 1.0, "s": 1000.0, "sec": 1000.0,
         "secs": 1000.0, "seconds": 1000.0, "us": 1e-3, "micros": 1e-3, "microseconds": 1e-3,
         "ns": 1e-6}
#: Names whose unit is fixed by the software that writes them.
KNOWN_UNITS = {
    "request_time": "s", "upstream_response_time": "s",                   # nginx variables
    "duration": "ms", "upstream_service_time": "ms",                      # Envoy operators
    "x_envoy_upstream_service_time": "ms",     # Envoy Gateway's default JSON access log
    "request_processing_time": "s", "target_processing_time": "s",        # AWS ALB fields
    "response_processing_time": "s",
}
_SUFFIX = re.compile(r"[_.\-]?(" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")$")
_NUMBER = r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$"


def _key(name: str) -> str:
    """A column name as matched: lower case, '-' as '_' (Envoy Gateway's JSON keys are the
    header names: `x-envoy-upstream-service-time`)."""
    return name.lower().replace("-", "_")


def _unit(name: str, default: str | None, path: Path) -> float:
    lowered = _key(name)
    if lowered in KNOWN_UNITS:
        return UNITS[KNOWN_UNITS[lowered]]
    suffix = _SUFFIX.search(lowered)
    if suffix and lowered != suffix.group(1):
        return UNITS[suffix.group(1)]
    if default:
        return UNITS[default]
    raise EvidenceError(path, f"column {name!r} does not say its unit: rename it (e.g. "
                        f"{name}_ms or {name}_s) or set latency_unit: ms|s|us in service.yaml")


def pick_columns(names: list[str], path: Path, latency_unit: str | None = None) -> dict:
    """Which columns hold the time, backend latency, total and status, with their units."""
    lowered = {_key(n): n for n in names}
    time = next((lowered[n] for n in TIME_NAMES if n in lowered), None)
    timed = [n for n in names if any(w in _key(n) for w in LATENCY_WORDS)]
    # the backend's own time whenever the format has one: a proxy's total is not the backend
    backend = [n for n in timed if any(w in _key(n) for w in BACKEND_WORDS)]
    if time is None or not timed:
        raise EvidenceError(path, f"needs a time column ({', '.join(TIME_NAMES)}) and a latency "
                            f"column (a name with {', '.join(LATENCY_WORDS)}); found {names}")
    latency = backend[0] if backend else timed[0]
    total = next((n for n in timed if n not in backend), None) if backend else None
    status = next((lowered[n] for n in STATUS_NAMES if n in lowered), None)
    return {"time": time, "latency": (latency, _unit(latency, latency_unit, path)),
            "total": (total, _unit(total, latency_unit, path)) if total else None,
            "status": status}


def described(chosen: dict) -> str:
    """Which column the backend time came from, with its unit: `duration (ms)`."""
    name, scale = chosen["latency"]
    unit = {1.0: "ms", 1000.0: "s", 1e-3: "us", 1e-6: "ns"}.get(scale, f"x{scale:g} ms")
    return f"{name} ({unit})"


def _numbers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Float values and which rows hold one ('-' and empty count as no value, not an error)."""
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    empty = pc.fill_null(pc.or_(pc.equal(text, ""), pc.equal(text, "-")), True)
    number = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    floats = pc.cast(pc.if_else(number, text, pa.scalar(None, pa.string())), pa.float64())
    return floats.to_numpy(zero_copy_only=False), np.asarray(pc.or_(number, empty))


def _times(values: pa.Array) -> np.ndarray:
    """ISO 8601 strings, or epoch seconds / milliseconds as numbers, row by row."""
    floats, _ = _numbers(values)
    epoch = ~np.isnan(floats)
    seconds = np.where(floats > 1e11, floats / 1e3, floats)  # epoch ms vs epoch s
    # 2001-09-09 .. 2099: anything else is no access-log time (and 1e30 would overflow)
    plausible = epoch & (seconds >= 1e9) & (seconds < 4.1e9)
    stamps = np.where(plausible, seconds * 1e9, 0).astype("int64").view("datetime64[ns]")
    stamps[epoch & ~plausible] = np.datetime64("NaT")
    if epoch.all():
        return stamps
    text = pc.cast(values, pa.string()).to_pandas()
    iso = naive_utc(pd.to_datetime(text.where(~epoch), format="ISO8601", errors="coerce",
                                   utc=True))
    return np.where(epoch, stamps, iso)


def _table(columns: dict[str, pa.Array], chosen: dict, numbers: np.ndarray,
           path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    latency_name, latency_scale = chosen["latency"]
    latency, latency_ok = _numbers(columns[latency_name])
    time = _times(columns[chosen["time"]])
    ok = latency_ok & ~np.isnat(time)
    frame = pd.DataFrame({"time": time, "latency_ms": latency * latency_scale})
    if chosen["total"]:
        total, total_ok = _numbers(columns[chosen["total"][0]])
        frame["total_ms"] = total * chosen["total"][1]
        ok &= total_ok
    else:
        frame["total_ms"] = frame["latency_ms"]
    if chosen["status"]:
        status, status_ok = _numbers(columns[chosen["status"]])
        frame["status"] = np.nan_to_num(status, nan=0).astype(np.int16)
        ok &= status_ok
    else:
        frame["status"] = np.int16(0)
    frame["attempts"] = np.where(np.isnan(frame["latency_ms"]), 0, 1).astype(np.int16)
    frame["line"] = numbers
    reason = (f"needs a time in {chosen['time']!r} and numbers in "
              f"{', '.join(c for c in (latency_name, chosen['status']) if c)}")
    implausible, why = latency_problems(frame)
    reasons = np.where(ok, why, reason)
    ok &= ~implausible
    keep = pa.array(~ok)
    shown = [pc.filter(pc.cast(a, pa.string()), keep).to_pylist() for a in columns.values()]
    texts = [", ".join(f"{k}={v}" for k, v in zip(columns, row, strict=True))
             for row in zip(*shown, strict=True)]
    bad = rejections(path, numbers[~ok], "", texts).assign(reason=reasons[~ok])
    return frame[ok], bad


@register
class CsvLog:
    """A CSV file with a header: a time column and a latency column (see pick_columns)."""

    kind = "latency"
    name = "csv"
    #: any file with the right columns: below every format with a layout of its own
    priority = 20

    def detect(self, sample: list[str]) -> float:
        header = next(csv.reader(sample[:1]))
        if len(header) < 2:
            return 0.0
        lowered = [h.lower() for h in header]
        has_time = any(n in lowered for n in TIME_NAMES)
        has_latency = any(w in h for h in lowered for w in LATENCY_WORDS)
        return 0.9 if has_time and has_latency else 0.0

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        names = next(csv.reader(sample_lines(path, 1)))
        chosen = pick_columns(names, path, (options or {}).get("latency_unit"))
        wanted = [c for c in (chosen["time"], chosen["latency"][0], chosen["status"],
                              chosen["total"] and chosen["total"][0]) if c]
        rows = read_csv(path, names, wanted)
        frame, bad = _table(rows.columns, chosen, rows.numbers, path)
        return Parsed(finish(frame, path), rows.lines, sorted_rejections(bad, rows.rejected),
                      rows.skipped, described(chosen))


@register
class JsonLines:
    """One JSON object per line with a time key and a latency key (see pick_columns)."""

    kind = "latency"
    name = "json-lines"
    #: 1.0 on any `{...}` line: below every format with a JSON layout of its own
    priority = 10

    def detect(self, sample: list[str]) -> float:
        # a Docker json-file line wraps another log's line: prefixes.py unwraps it
        return sum(s.lstrip().startswith("{") and s.rstrip().endswith("}")
                   and not _DOCKER_WRAPPER.match(s) for s in sample) / len(sample)

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        return parse_by_lines(self, path, options)

    def parse_column(self, path: Path, lines: pa.Array | pa.ChunkedArray, numbers: np.ndarray,
                     options: dict | None = None) -> Parsed:
        """JSON objects from an Arrow column of lines: one pyarrow JSON read of them all, or
        line by line when one is not JSON (or a key changes type) to find which."""
        blank = np.asarray(pc.equal(pc.utf8_trim_whitespace(lines), ""))
        blank_lines = skipped(path, numbers[blank], other_lines.BLANK)
        kept = lines.filter(pa.array(~blank))
        numbers_kept = numbers[~blank]
        try:
            table = pa_json.read_json(pa.BufferReader(_joined(kept)))
            columns = {n: table.column(n).combine_chunks() for n in table.column_names}
            bad_json, other = rejections(path, [], "", []), no_skipped()
        except pa.ArrowInvalid:
            columns, bad_json, numbers_kept, other = _json_line_by_line(
                path, kept.to_pylist(), numbers_kept)
        chosen = pick_columns(list(columns), path, (options or {}).get("latency_unit"))
        frame, bad = _table(columns, chosen, numbers_kept, path)
        return Parsed(finish(frame, path), len(numbers), sorted_rejections(bad, bad_json),
                      pd.concat([blank_lines, other], ignore_index=True).sort_values("line"),
                      described(chosen))


def _joined(lines: pa.Array | pa.ChunkedArray) -> pa.Buffer:
    """The lines as one newline-separated text (Arrow joins them; no Python loop)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    whole = pa.LargeListArray.from_arrays(pa.array([0, len(lines)], pa.int64()),
                                          lines.cast(pa.large_string()))
    return pc.binary_join(whole, pa.scalar("\n", pa.large_string()))[0].as_buffer()


_DOCKER_WRAPPER = re.compile(r'^\{"log":".*","stream":"(?:stdout|stderr)"')


def _json_line_by_line(path: Path, texts: list[str], numbers: np.ndarray):
    rows, kept, bad = [], [], []
    for number, text in zip(numbers, texts, strict=True):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            rows.append({k: None if v is None else str(v) for k, v in value.items()})
            kept.append(number)
        else:
            bad.append((number, text))
    if not rows:
        raise EvidenceError(path, "no line is a JSON object")
    frame = pd.DataFrame(rows)
    columns = {c: pa.array(frame[c].astype(object).where(frame[c].notna(), None), pa.string())
               for c in frame.columns}
    # klog, nginx error-log or Envoy lines among the JSON ones (kubectl logs): skipped
    whats = other_lines.classify(pa.array([t for _, t in bad], pa.string()),
                                 json_is_record=True)
    other = [(n, t, w) for (n, t), w in zip(bad, whats, strict=True) if w is not None]
    bad = [(n, t) for (n, t), w in zip(bad, whats, strict=True) if w is None]
    return (columns, rejections(path, [n for n, _ in bad], "not a JSON object",
                                [t for _, t in bad]), np.array(kept, dtype=np.int64),
            skipped(path, [n for n, _, _ in other], [w for _, _, w in other]))

