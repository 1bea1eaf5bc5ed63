"""AWS ALB access logs exported from Athena as CSV (a query's "Download results").

The columns are named as in AWS's CREATE TABLE for ALB access logs (Athena User Guide, "Query
Application Load Balancer logs", docs.aws.amazon.com/athena/latest/ug/
create-alb-access-logs-table.html; awsdocs/amazon-athena-user-guide
doc_source/application-load-balancer-logs.md): type, time, elb, client_ip, client_port,
target_ip, target_port, request_processing_time, target_processing_time,
response_processing_time, elb_status_code, target_status_code, ... Athena quotes every value
("https","2026-11-24T10:00:00.482184Z") and writes a NULL as nothing. The values are the ALB
log's, so they are read as the aws-alb format reads them (aws_alb.py `alb_columns`): seconds,
-1 for "no answer". A query may select fewer columns: `time` and `target_processing_time` are
needed; without the request and response times `total_ms` is the target's time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.errors import EvidenceError
from analysis.ingest.aws_alb import alb_columns
from analysis.ingest.csvfile import read_csv
from analysis.ingest.latency import finish, naive_utc
from analysis.ingest.plausible import latency_problems
from analysis.ingest.reading import sample_lines
from analysis.ingest.registry import register
from analysis.ingest.rows import Parsed, rejections, sorted_rejections

REQUIRED = ("time", "target_processing_time")
#: names only an ALB table has: with the two above, the file is an export of ALB logs
ALB_NAMES = ("elb", "request_processing_time", "response_processing_time", "elb_status_code",
             "target_status_code", "target_group_arn")
SECONDS = ("request_processing_time", "target_processing_time", "response_processing_time")
#: a DOUBLE as Athena prints it: 0.02, -1.0, 1.0E-3
_SECONDS = r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$"
_STATUS = r"^(?:\d{3}|-|)$"
#: the ALB log's `time` (what Arrow's cast reads: at most microseconds)
_LOG_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z$"


def _by_name(names: list[str]) -> dict[str, str]:
    """Lower-case column name -> the name in the file."""
    return {n.strip().lower(): n for n in names}


@register
class AthenaAlbCsv:
    """ALB access logs as Athena's CSV results: a header with the documented column names."""

    kind = "latency"
    name = "aws-alb-athena-csv"
    priority = 90  # detection ties: docs/formats.md, "Detection"

    def detect(self, sample: list[str]) -> float:
        header = _by_name(next(csv.reader(sample[:1]), []))
        # above the generic csv format's 0.9: the same header is also a CSV with a time and
        # a latency column, but only this format knows -1 and the three ALB times
        return 1.0 if all(n in header for n in REQUIRED) and header.keys() & set(ALB_NAMES) \
            else 0.0

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        names = next(csv.reader(sample_lines(path, 1)), [])
        header = _by_name(names)
        if not all(n in header for n in REQUIRED):
            raise EvidenceError(path, "an Athena export of ALB logs needs the columns time and "
                                f"target_processing_time; the header's {len(names)} columns do "
                                "not include both", line=1)
        wanted = [header[n] for n in ("time", *SECONDS, "elb_status_code") if n in header]
        rows = read_csv(path, names, wanted)
        values = {n: rows.columns[header[n]] for n in ("time", *SECONDS, "elb_status_code")
                  if n in header}
        frame, bad = _table(values, rows.numbers, path)
        return Parsed(finish(frame, path), rows.lines, sorted_rejections(bad, rows.rejected),
                      rows.skipped)


def _table(values: dict[str, pa.Array], numbers: np.ndarray, path: Path
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed rows and rejections: every check runs over whole columns."""
    text = {n: pc.fill_null(pc.utf8_trim_whitespace(a), "") for n, a in values.items()}
    time = _times(text["time"])
    checks = [(~np.isnat(time), "time is not an ISO 8601 time")]
    checks += [(_matches(text[n], _SECONDS), f"{n} is not a number of seconds")
               for n in SECONDS if n in text]
    if "elb_status_code" in text:
        checks.append((_matches(text["elb_status_code"], _STATUS),
                       "elb_status_code is not a status code"))
    ok = np.ones(len(time), bool)
    reasons = np.full(len(time), "", dtype=object)
    for passed, reason in checks:
        reasons[ok & ~passed] = reason
        ok &= passed
    keep = pa.array(ok)
    kept = {n: pc.filter(a, keep) for n, a in text.items()}
    target = kept["target_processing_time"]
    status = kept.get("elb_status_code", pa.array(["-"] * len(target), pa.string()))
    columns = alb_columns(time[ok], kept.get("request_processing_time", target), target,
                           kept.get("response_processing_time", target),
                           pc.if_else(pc.equal(status, ""), "-", status))
    if not all(n in kept for n in SECONDS):
        columns["total_ms"] = columns["latency_ms"]
    frame = pd.DataFrame(columns)
    frame["line"] = numbers[ok]
    implausible, why = latency_problems(frame)
    reasons[np.flatnonzero(ok)[implausible]] = why[implausible]
    ok[np.flatnonzero(ok)[implausible]] = False
    shown = [pc.filter(a, pa.array(~ok)).to_pylist() for a in values.values()]
    texts = [", ".join(f"{n}={v}" for n, v in zip(values, row, strict=True))
             for row in zip(*shown, strict=True)]
    return frame[~implausible], rejections(path, numbers[~ok], "", texts) \
        .assign(reason=reasons[~ok])


def _matches(values: pa.Array, pattern: str) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.match_substring_regex(values, pattern), False))


def _times(values: pa.Array) -> np.ndarray:
    """ISO 8601 times: the log's own `time` string (2026-11-24T10:00:00.482184Z) cast by Arrow,
    anything else (a TIMESTAMP a query made of it: 2026-11-24 10:00:00.482 UTC) parsed once per
    distinct value."""
    own = _matches(values, _LOG_TIME)
    times = np.full(len(values), np.datetime64("NaT"), "datetime64[us]")
    times[own] = pc.cast(values.filter(pa.array(own)), pa.timestamp("us", tz="UTC")) \
        .to_numpy(zero_copy_only=False)
    if not own.all():
        encoded = pc.dictionary_encode(values.filter(pa.array(~own)))
        distinct = encoded.dictionary.to_pandas().str.removesuffix(" UTC")
        parsed = naive_utc(pd.to_datetime(distinct, format="ISO8601", errors="coerce",
                                          utc=True))
        times[~own] = parsed[np.asarray(encoded.indices)]
    return times
