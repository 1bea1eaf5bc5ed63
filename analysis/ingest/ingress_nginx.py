"""ingress-nginx's default access log (`log-format-upstream`) -> the latency table
(latency.py). The backend's time is `$upstream_response_time`; nginx lists several upstreams
as "a, b" (retries) or "a : b" (internal redirects), summed here."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.field_format import FieldLogFormat
from analysis.ingest.latency import parse_split_times, parse_times
from analysis.ingest.registry import register

# nginx lists several upstreams as "a, b" (retries) or "a : b" (internal redirects).
UPSTREAM_LIST = r"[^ ,]+(?:(?:, | : )[^ ,]+)*"
SECONDS_LIST = r"(?:\d+(?:\.\d+)?|-)(?:(?:, | : )(?:\d+(?:\.\d+)?|-))*"
_LIST_SEP = r", | : "


def seconds_list_sum_ms(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
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
    answered_count = np.bincount(parents, weights=answered, minlength=n).astype(np.int16)
    return np.where(answered_count > 0, total * 1000.0, np.nan), answered_count


_NUMBER = r"^\d+(?:\.\d+)?$"


def gave_up(upstream_status: pa.Array) -> pa.Array:
    """nginx gave up on the backend: the last upstream's status is one nginx writes itself,
    502 (no connection, reset) or 504 (timed out). Its $upstream_response_time is then nginx's
    waiting, not an answer: counted as no backend answer, as ALB's -1 is, so both
    environments count failures the same way (docs/formats.md, ingress-nginx)."""
    last = pc.utf8_trim_whitespace(upstream_status)
    listed = pc.match_substring(upstream_status, " ")  # "a, b" or "a : b"; few rows if any
    if pc.any(listed).as_py():  # the regex only where it can change something: 0.3 s/5M rows
        last = pc.if_else(listed, pc.utf8_trim_whitespace(pc.replace_substring_regex(
            upstream_status, r"^.*[,:] ", "")), last)
    return pc.fill_null(pc.is_in(last, pa.array(["502", "504"])), False)


@register
class IngressNginx(FieldLogFormat):
    """ingress-nginx default `log-format-upstream` (kubernetes/ingress-nginx config.go)."""

    name = "ingress-nginx"
    priority = 100  # detection ties: docs/formats.md, "Detection"
    latency_field = "$upstream_response_time (s)"
    #: kubernetes/ingress-nginx internal/ingress/controller/config/config.go, logFormatUpstream
    #: (the default since commit 9af574a2, 2019-09-12); custom.py compiles the same parser
    log_format = (
        '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
        '"$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] '
        "[$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length "
        "$upstream_response_time $upstream_status $req_id")
    field_count = 19
    fields = {
        1: ("separator", r"^-$"),
        3: ("time", None),
        4: ("time zone", None),
        6: ("status", r"^\d{3}$"),
        11: ("request time", _NUMBER),
        12: ("upstream name", r"^\[.*\]$"),
        16: ("upstream response time", r"^(?:\d+(?:\.\d+)?|-)$"),
        17: ("upstream status", None),
    }

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        upstream = fields[16]
        tried = pc.not_equal(upstream, "-")
        answered = pc.and_(tried, pc.invert(gave_up(fields[17])))
        seconds = pc.cast(pc.if_else(answered, upstream, pa.scalar(None, pa.string())),
                          pa.float64())
        return {
            "time": parse_split_times(fields[3], fields[4], "[%d/%b/%Y:%H:%M:%S %z]"),
            "latency_ms": pc.multiply(seconds, 1000.0).to_numpy(zero_copy_only=False),
            "total_ms": pc.multiply(pc.cast(fields[11], pa.float64()), 1000.0).to_numpy(),
            "status": pc.cast(fields[6], pa.int16()).to_numpy(),
            "attempts": np.asarray(tried, dtype=np.int16),
        }
    pattern = (
        r"^(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] "
        r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<body_bytes_sent>\d+) '
        r'"(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" '
        r"(?P<request_length>\d+) (?P<request_time>\d+(?:\.\d+)?) "
        r"\[(?P<upstream_name>[^\]]*)\] \[(?P<alt_upstream_name>[^\]]*)\] "
        rf"(?P<upstream_addr>{UPSTREAM_LIST}) "
        rf"(?P<upstream_response_length>{UPSTREAM_LIST}) "
        rf"(?P<upstream_response_time>{SECONDS_LIST}) (?P<upstream_status>{UPSTREAM_LIST}) "
        r"(?P<req_id>\S+)$"
    )

    def columns(self, groups: pa.StructArray) -> dict:
        latency, attempts = seconds_list_sum_ms(groups.field("upstream_response_time"))
        latency[np.asarray(gave_up(groups.field("upstream_status")))] = np.nan
        return {
            "time": parse_times(groups.field("time_local"), "%d/%b/%Y:%H:%M:%S %z"),
            "latency_ms": latency,
            "total_ms": pc.cast(groups.field("request_time"), pa.float64()).to_numpy() * 1000.0,
            "status": pc.cast(groups.field("status"), pa.int16()).to_numpy(),
            "attempts": attempts,
        }
