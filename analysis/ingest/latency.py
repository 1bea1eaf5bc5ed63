"""Access logs -> one row per request: time, backend latency, proxy total, status.

Tidy columns: `time` (UTC), `latency_ms` (the backend's time: nginx `$upstream_response_time`,
ALB `target_processing_time`; NaN when no backend answered), `total_ms` (the proxy's whole
time), `status` (the status the client got), `attempts` (upstreams tried), `source_file`, `line`.
The backend time is the one compared, so a different proxy in front of each environment does
not count as a gap (docs/formats.md).

Parsing is vectorized with pyarrow: RE2 regular expressions over whole Arrow columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.base import Parsed, read_lines, register, rejections

KIND = "latency"
COLUMNS = ["time", "latency_ms", "total_ms", "status", "attempts", "source_file", "line"]

# nginx lists several upstreams as "a, b" (retries) or "a : b" (internal redirects).
_LIST = r"[^ ,]+(?:(?:, | : )[^ ,]+)*"
_LIST_SEP = r", | : "


class RegexLogFormat:
    """A log format with one regular expression per line and named groups."""

    kind = KIND
    name = ""
    pattern = ""

    def detect(self, sample: list[str]) -> float:
        regex = re.compile(self.pattern)
        return sum(bool(regex.match(line)) for line in sample) / len(sample)

    def parse(self, path: Path) -> Parsed:
        lines, numbers, unreadable = read_lines(path)
        total_lines = len(numbers) + len(unreadable)
        groups = pc.extract_regex(lines, self.pattern).combine_chunks()
        matched = np.asarray(groups.is_valid())
        table = pd.DataFrame(self.columns(groups.filter(pa.array(matched))))
        table["source_file"] = str(path)
        table["line"] = numbers[matched]
        bad_time = table["time"].isna().to_numpy()
        nomatch = np.flatnonzero(~matched)
        rejected = pd.concat([
            unreadable,
            rejections(path, numbers[nomatch], f"not a {self.name} line",
                       lines.take(pa.array(nomatch)).to_pylist()),
            rejections(path, table["line"][bad_time], "unreadable timestamp",
                       lines.take(pa.array(np.flatnonzero(matched)[bad_time])).to_pylist()),
        ], ignore_index=True).sort_values("line", kind="stable").reset_index(drop=True)
        table = table[~bad_time].reset_index(drop=True)[COLUMNS]
        return Parsed(table, total_lines, rejected)

    def columns(self, groups: pa.StructArray) -> dict:
        raise NotImplementedError


def _seconds_list_sum_ms(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Sum an nginx list of seconds ('0.010, 0.020', '-') in ms, and count the attempts."""
    lists = pc.split_pattern_regex(values, _LIST_SEP)
    flat = pc.list_flatten(lists)
    parents = np.asarray(pc.list_parent_indices(lists))
    seconds = pc.cast(pc.if_else(pc.equal(flat, "-"), pa.scalar(None, pa.string()), flat),
                      pa.float64())
    answered = np.asarray(seconds.is_valid())
    vals = np.nan_to_num(np.asarray(seconds.to_numpy(zero_copy_only=False), dtype=float))
    n = len(values)
    total = np.bincount(parents, weights=vals, minlength=n)
    counted = np.bincount(parents, weights=answered, minlength=n)
    attempts = np.bincount(parents, minlength=n)
    return np.where(counted > 0, total * 1000.0, np.nan), attempts


@register
class IngressNginx(RegexLogFormat):
    """ingress-nginx default `log-format-upstream` (kubernetes/ingress-nginx config.go)."""

    name = "ingress-nginx"
    pattern = (
        r"^(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "
        r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<body_bytes_sent>\d+) '
        r'"(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" '
        r"(?P<request_length>\d+) (?P<request_time>\d+(?:\.\d+)?) "
        r"\[(?P<upstream_name>[^\]]*)\] \[(?P<alt_upstream_name>[^\]]*)\] "
        rf"(?P<upstream_addr>{_LIST}) (?P<upstream_response_length>{_LIST}) "
        rf"(?P<upstream_response_time>{_LIST}) (?P<upstream_status>{_LIST}) (?P<req_id>\S+)$"
    )

    def columns(self, groups: pa.StructArray) -> dict:
        latency, attempts = _seconds_list_sum_ms(groups.field("upstream_response_time"))
        time = pd.to_datetime(
            groups.field("time_local").to_pandas(), format="%d/%b/%Y:%H:%M:%S %z",
            errors="coerce", utc=True,
        )
        return {
            "time": time,
            "latency_ms": latency,
            "total_ms": pc.cast(groups.field("request_time"), pa.float64()).to_numpy() * 1000.0,
            "status": pc.cast(groups.field("status"), pa.int16()).to_numpy(),
            "attempts": attempts,
        }


_SECONDS = r"-?\d+(?:\.\d+)?"


@register
class AwsAlb(RegexLogFormat):
    """AWS Application Load Balancer access log (fields documented in the ALB user guide)."""

    name = "aws-alb"
    pattern = (
        r"^(?P<type>https?|h2|grpcs|wss?) (?P<time>\d{4}-\d\d-\d\dT\S+Z) (?P<elb>\S+) "
        r"(?P<client>\S+) (?P<target>\S+) "
        rf"(?P<request_processing_time>{_SECONDS}) (?P<target_processing_time>{_SECONDS}) "
        rf"(?P<response_processing_time>{_SECONDS}) "
        r"(?P<elb_status_code>\d{3}|-) (?P<target_status_code>\d{3}|-) "
        r'(?P<received_bytes>-?\d+) (?P<sent_bytes>-?\d+) "(?P<request>[^"]*)" '
        r'"(?P<user_agent>[^"]*)"(?: .*)?$'
    )

    def columns(self, groups: pa.StructArray) -> dict:
        def seconds(field: str) -> np.ndarray:
            values = pc.cast(groups.field(field), pa.float64()).to_numpy()
            return np.where(values < 0, np.nan, values * 1000.0)  # -1: not dispatched / no answer

        target = seconds("target_processing_time")
        total = seconds("request_processing_time") + target + seconds("response_processing_time")
        status = groups.field("elb_status_code")
        return {
            "time": pd.to_datetime(groups.field("time").to_pandas(), format="ISO8601",
                                   errors="coerce", utc=True),
            "latency_ms": target,
            "total_ms": total,
            "status": pc.cast(pc.if_else(pc.equal(status, "-"), None, status), pa.int16())
            .to_numpy(zero_copy_only=False),
            "attempts": np.where(np.isnan(target), 0, 1),
        }
