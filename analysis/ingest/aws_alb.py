"""The AWS Application Load Balancer access log -> the latency table (latency.py). The
backend's time is `target_processing_time`, in seconds; -1 means no answer from the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.field_format import FieldLogFormat
from analysis.ingest.latency import naive_utc
from analysis.ingest.registry import register

_SECONDS = r"-?\d+(?:\.\d+)?"


def _ms(values: pa.Array) -> np.ndarray:
    """ALB seconds to ms; -1 (not dispatched, or no answer from the target) becomes NaN, any
    other negative stays and is rejected as implausible."""
    seconds = pc.cast(values, pa.float64()).to_numpy()
    return np.where(seconds == -1, np.nan, seconds * 1000.0)


def alb_columns(time, request_s, target_s, response_s, status) -> dict:
    target = _ms(target_s)
    return {
        "time": time,
        "latency_ms": target,
        "total_ms": _ms(request_s) + target + _ms(response_s),
        "status": pc.cast(pc.if_else(pc.equal(status, "-"), None, status), pa.int16())
        .to_numpy(zero_copy_only=False),
        "attempts": np.where(np.isnan(target), 0, 1).astype(np.int16),
    }


@register
class AwsAlb(FieldLogFormat):
    """AWS Application Load Balancer access log (fields documented in the ALB user guide)."""

    name = "aws-alb"
    priority = 95
    latency_field = "target_processing_time (s)"
    fields = {
        0: ("entry type", r"^(?:https?|h2|grpcs|wss?)$"),
        1: ("time", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$"),  # cast needs it valid
        5: ("request processing time", r"^-?\d+(?:\.\d+)?$"),
        6: ("target processing time", r"^-?\d+(?:\.\d+)?$"),
        7: ("response processing time", r"^-?\d+(?:\.\d+)?$"),
        8: ("status", r"^(?:\d{3}|-)$"),
    }

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        time = pc.cast(fields[1], pa.timestamp("us", tz="UTC")).to_numpy(zero_copy_only=False)
        return alb_columns(time, fields[5], fields[6], fields[7], fields[8])
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
        time = pd.to_datetime(groups.field("time").to_pandas(), format="ISO8601",
                              errors="coerce", utc=True)
        return alb_columns(naive_utc(time), *(groups.field(f) for f in (
            "request_processing_time", "target_processing_time", "response_processing_time",
            "elb_status_code")))
