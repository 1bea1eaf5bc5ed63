"""Lines found in access logs that are not requests and not errors: what `kubectl logs` mixes in.

A controller's log interleaves its access lines with nginx's error log, Go (klog) and JSON
application lines, Envoy's own log; a file copied from a terminal has blank lines. Such a line
is skipped and counted by what it is ("12 nginx error-log lines, not requests"), never taken
as a rejected request and never dropped in silence. Error-log lines about an upstream that
timed out are evidence of their own and get their own name.

The patterns are RE2 (pyarrow) and Python `re` alike, and run over whole Arrow columns.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BLANK = "blank line"
UPSTREAM_TIMEOUT = "nginx error-log line: upstream timed out"

_NGINX_ERROR = (r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
                r"\[(?:emerg|alert|crit|error|warn|notice|info|debug)\]")
#: (what, pattern), first match wins: the specific before the general
KINDS: list[tuple[str, str]] = [
    (BLANK, r"^\s*$"),
    (UPSTREAM_TIMEOUT, _NGINX_ERROR + r".*upstream timed out"),
    ("nginx error-log line", _NGINX_ERROR),
    ("Go (klog) log line", r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\]"),
    ("Envoy log line", r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[\w+\]"),
    ("shell prompt and command line", r"^(?:\S*[#$%>] +)?(?:sudo +)?(?:kubectl|docker|stern|"
                                      r"crictl|oc|tail|cat|zcat|less|grep|curl) "),
    ("kubectl message", r"^(?:Defaulted container |Found \d+ pods, using |error: )"),
    ("logfmt log line", r'^(?:time|ts|level)="?[^ ]+ .*\b(?:level|msg)='),
    ("controller banner line", r"^(?:-{10,}|NGINX Ingress controller|\s+(?:Release|Build|"
                               r"Repository|nginx version):)"),
    ("JSON log line without a request", r"^\s*\{.*\}\s*$"),
]
_PYTHON = [(what, re.compile(pattern)) for what, pattern in KINDS]


def classify(lines: pa.Array | pa.ChunkedArray, json_is_record: bool = False) -> np.ndarray:
    """What each line is (an object array; None where it is none of the known kinds)."""
    whats = np.full(len(lines), None, dtype=object)
    for what, pattern in KINDS:
        if json_is_record and what.startswith("JSON"):
            continue
        hit = np.asarray(pc.fill_null(pc.match_substring_regex(lines, pattern), False))
        whats[hit & (whats == None)] = what  # noqa: E711 - elementwise on an object array
    return whats


def what_is(line: str, json_is_record: bool = False) -> str | None:
    """The same for one line (the CSV reader's callback for an irregular row)."""
    return next((what for what, regex in _PYTHON if regex.match(line)
                 and not (json_is_record and what.startswith("JSON"))), None)


def records_only(sample: list[str]) -> list[str]:
    """A sample for format detection without the lines that are no access-log line at all
    (a controller's error-log and klog lines must not outvote its access lines)."""
    return [line for line in sample if what_is(line, json_is_record=True) is None] or sample
