"""Envoy and Istio text access logs -> the latency table (columns in latency.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.field_format import FieldLogFormat
from analysis.ingest.latency import naive_utc
from analysis.ingest.registry import register

_ENVOY_TIME = r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\]$"


TCP_ENTRY = "Envoy TCP proxy entry (not an HTTP request)"


class _EnvoyText(FieldLogFormat):
    """Shared by Envoy's and Istio's text formats: a start time, DURATION and upstream time.

    A TCP proxy's entry has `"- - -"` where the request stands: a connection, not a request;
    it is skipped (counted), never taken as a request without a backend answer."""

    not_request_field = (1, r"^- - -$", TCP_ENTRY)
    not_request = (r'^\[[^\]]+\] "- - -" ', TCP_ENTRY)

    time_field = duration_field = upstream_field = status_field = 0
    latency_field = "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% (ms)"

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        stamp = pc.utf8_slice_codeunits(fields[self.time_field], 1, -1)
        return _envoy_columns(
            pc.cast(stamp, pa.timestamp("us", tz="UTC")).to_numpy(zero_copy_only=False),
            fields[self.upstream_field], fields[self.duration_field], fields[self.status_field])

    def columns(self, groups: pa.StructArray) -> dict:
        time = pd.to_datetime(groups.field("start_time").to_pandas(), format="ISO8601",
                              errors="coerce", utc=True)
        return _envoy_columns(naive_utc(time), groups.field("upstream_service_time"),
                              groups.field("duration"), groups.field("response_code"))


def _envoy_columns(time, upstream: pa.Array, duration: pa.Array, status: pa.Array) -> dict:
    answered = pc.not_equal(upstream, "-")
    latency = pc.cast(pc.if_else(answered, upstream, pa.scalar(None, pa.string())), pa.float64())
    return {
        "time": time,
        "latency_ms": latency.to_numpy(zero_copy_only=False),
        "total_ms": pc.cast(duration, pa.float64()).to_numpy(),
        "status": pc.cast(status, pa.int16()).to_numpy(),
        "attempts": np.asarray(answered, dtype=np.int16),
    }


_ENVOY_HEAD = (r'^\[(?P<start_time>[^\]]+)\] "(?P<request>[^"]*)" (?P<response_code>\d+) '
               r"(?P<response_flags>\S+) ")
_ENVOY_TAIL = (r'(?P<bytes_received>\d+) (?P<bytes_sent>\d+) (?P<duration>\d+) '
               r'(?P<upstream_service_time>\d+|-) "(?P<x_forwarded_for>[^"]*)" '
               r'"(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)" "(?P<authority>[^"]*)" '
               r'"(?P<upstream_host>[^"]*)"')


@register
class Envoy(_EnvoyText):
    """Envoy's default access log format (envoyproxy/envoy docs, access_log/usage.rst).

    `%DURATION%` is the whole request in ms (total_ms); `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%`
    the upstream's time in ms (latency_ms), `-` when no upstream answered.
    """

    name = "envoy"
    priority = 85  # detection ties: docs/formats.md, "Detection"
    #: Envoy's default format (docs, configuration/observability/access_log/usage.rst)
    log_format = (
        '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
        "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
        '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
        '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n')
    field_count = 13
    time_field, status_field, duration_field, upstream_field = 0, 2, 6, 7
    fields = {0: ("start time", _ENVOY_TIME), 2: ("response code", r"^\d+$"),
              6: ("duration", r"^\d+$"), 7: ("upstream service time", r"^(?:\d+|-)$")}
    pattern = _ENVOY_HEAD + _ENVOY_TAIL + "$"


@register
class Istio(_EnvoyText):
    """Istio's default text access log (Istio >= 1.8: details, termination, failure reason,
    then Envoy's fields and the cluster, addresses, SNI and route)."""

    name = "istio"
    priority = 80
    field_count = 22
    time_field, status_field, duration_field, upstream_field = 0, 2, 9, 10
    fields = {0: ("start time", _ENVOY_TIME), 2: ("response code", r"^\d+$"),
              9: ("duration", r"^\d+$"), 10: ("upstream service time", r"^(?:\d+|-)$")}
    pattern = (_ENVOY_HEAD + r'(?P<response_code_details>\S+) '
               r'(?P<connection_termination_details>\S+) '
               r'"(?P<upstream_transport_failure_reason>[^"]*)" ' + _ENVOY_TAIL +
               r" (?P<upstream_cluster>\S+) (?P<upstream_local_address>\S+) "
               r"(?P<downstream_local_address>\S+) (?P<downstream_remote_address>\S+) "
               r"(?P<requested_server_name>\S+) (?P<route_name>\S+)$")
