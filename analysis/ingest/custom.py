"""Custom access-log formats: an nginx `log_format` string (ingress-nginx `log-format-upstream`)
or an Envoy `access_log` format string from service.yaml, compiled to a parser.

A string whose fields are separated by spaces, each quoted whole or not at all, compiles to a
FieldLogFormat (pyarrow's CSV reader, the fast path); any other to a RegexLogFormat with an RE2
expression generated from the string. Either way parsing stays vectorized and the table is
latency.py's. The variables read are in `format_string.py`; docs/formats.md, "Custom formats".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.field_format import FieldLogFormat
from analysis.ingest.format_string import (
    DIALECTS,
    FormatStringError,
    Var,
    escape,
    required,
    tokenize,
    value_pattern,
)
from analysis.ingest.ingress_nginx import gave_up, seconds_list_sum_ms
from analysis.ingest.latency import parse_times
from analysis.ingest.regex_format import RegexLogFormat

__all__ = ["DIALECTS", "FormatStringError", "compile_format"]


def compile_format(dialect: str, template: str) -> RegexLogFormat:
    """The parser for a format string: a FieldLogFormat when its fields allow, else a regex."""
    if dialect not in DIALECTS:
        raise FormatStringError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    tokens = tokenize(dialect, template)
    first: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if isinstance(token, Var) and token.role:
            first.setdefault(token.role, i)
    for roles, message in required(dialect):
        if not roles & set(first):
            raise FormatStringError(message)
    # a second time or latency variable is read as an opaque field: the first one counts
    tokens = [t if not isinstance(t, Var) or first.get(t.role) == i else replace(t, role=None)
              for i, t in enumerate(tokens)]
    layout = _layout(tokens)
    if layout is None:
        return CustomRegexFormat(dialect, template, tokens)
    return CustomFieldFormat(dialect, template, tokens, *layout)


class _Custom:
    """What both parsers of a compiled format share: its name, string, and how values are read."""

    kind = "latency"

    def __init__(self, dialect: str, template: str, tokens: list):
        self.name = f"custom-{dialect}"
        self.dialect, self.template = dialect, template
        self.vars = {t.role: t for t in tokens if isinstance(t, Var) and t.role}
        self.pattern = _regex(tokens)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dialect}: {self.template!r})"

    @property
    def latency_field(self) -> str:
        """The variable the backend time is read from, with its unit (shown by inspect)."""
        var = self.vars.get("upstream") or self.vars["total"]
        unit = {1000.0: "s", 1.0: "ms"}.get(var.unit_ms, f"x{var.unit_ms:g} ms")
        said = f"{var.text} ({unit})"
        return said if "upstream" in self.vars else f"{said}, the proxy's total: no backend time"

    def columns(self, groups: pa.StructArray) -> dict:
        """The regex path: one named group per variable read."""
        values = {role: groups.field(role) for role in self.vars}
        lists = self.vars.get("upstream") is not None and self.vars["upstream"].item is not None
        return self.latency_columns(values, lists)

    def latency_columns(self, values: dict[str, pa.Array], lists: bool,
                        time_format: str | None = None) -> dict:
        """latency.py's columns from the text of each variable read (`lists`: the upstream
        time may list several upstreams, as nginx logs retries)."""
        n = len(values["time"])
        total = _ms(values["total"], self.vars["total"].unit_ms) if "total" in values else \
            np.full(n, np.nan)
        if "upstream" not in values:  # no backend time logged: the proxy's total stands in
            latency, attempts = total.copy(), (~np.isnan(total)).astype(np.int16)
        elif lists:
            latency, attempts = seconds_list_sum_ms(values["upstream"])
        else:
            latency, attempts = _answered_ms(values["upstream"], self.vars["upstream"].unit_ms)
        if "upstream_status" in values:  # nginx gave up: no backend answer, as ALB's -1
            latency = np.where(np.asarray(gave_up(values["upstream_status"])), np.nan, latency)
        status = pc.cast(values["status"], pa.int16()).to_numpy(zero_copy_only=False) \
            if "status" in values else np.zeros(n, np.int16)
        return {"time": self._times(values["time"], time_format), "latency_ms": latency,
                "total_ms": total, "status": status, "attempts": attempts}

    def _times(self, values: pa.Array, time_format: str | None) -> np.ndarray:
        method, fmt = self.vars["time"].time
        if method == "epoch":
            seconds = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
            # beyond year 5000 a cast to int64 would wrap: NaT, rejected as unreadable
            micros = np.where(seconds < 1e11, np.round(seconds * 1e6), np.nan)
            return micros.astype("datetime64[us]")
        if method == "cast":  # distinct to the millisecond: a cast beats parsing each once
            try:
                return pc.cast(values, pa.timestamp("us", tz="UTC")).to_numpy(zero_copy_only=False)
            except pa.ArrowInvalid:  # a date that cannot be (Feb 30): NaT, rejected per line
                fmt = "ISO8601"
        return parse_times(values, time_format or fmt)


def _ms(values: pa.Array, unit_ms: float) -> np.ndarray:
    return pc.multiply(pc.cast(values, pa.float64()), unit_ms).to_numpy(zero_copy_only=False)


def _answered_ms(values: pa.Array, unit_ms: float) -> tuple[np.ndarray, np.ndarray]:
    """One upstream time per line in ms, and 1 attempt; `-` (no upstream answered): NaN, 0."""
    answered = pc.not_equal(values, "-")
    time = pc.if_else(answered, values, pa.scalar(None, pa.string()))
    return _ms(time, unit_ms), np.asarray(answered, dtype=np.int16)


class CustomRegexFormat(_Custom, RegexLogFormat):
    """A compiled format read line by line with its RE2 expression (vectorized)."""


@dataclass(frozen=True)
class _Read:
    """Where a variable's value is on the fast path: fields first..last, literal around it."""

    first: int
    last: int
    prefix: str
    suffix: str
    quoted: bool


class CustomFieldFormat(_Custom, FieldLogFormat):
    """A compiled format read with pyarrow's CSV reader; irregular rows take the regex."""

    def __init__(self, dialect: str, template: str, tokens: list, field_count: int,
                 fields: dict[int, tuple[str, str | None]], reads: dict[str, _Read]):
        super().__init__(dialect, template, tokens)
        self.field_count, self.fields, self.reads = field_count, fields, reads

    def typed(self, fields: dict[int, pa.Array]) -> dict:
        values, time_format = {}, None
        for role, read in self.reads.items():
            parts = [fields[i] for i in range(read.first, read.last + 1)]
            value = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, " ")
            method, fmt = self.vars[role].time
            if role == "time" and method == "strptime" and fmt != "ISO8601":
                # the literal goes into the format: parsed once per distinct value, not sliced
                time_format = _percent(read.prefix) + fmt + _percent(read.suffix)
            elif read.prefix or read.suffix:
                value = pc.utf8_slice_codeunits(value, len(read.prefix),
                                                -len(read.suffix) if read.suffix else None)
            values[role] = value
        upstream = self.reads.get("upstream")
        lists = upstream is not None and upstream.quoted and self.vars["upstream"].item is not None
        return self.latency_columns(values, lists, time_format)


def _percent(literal: str) -> str:
    return literal.replace("%", "%%")


def _regex(tokens: list) -> str:
    """The RE2 expression (Python re reads it too) of a whole line, one group per role."""
    parts, quoted = ["^"], False
    for i, token in enumerate(tokens):
        if isinstance(token, str):
            parts.append(escape(token))
            quoted ^= token.count('"') % 2 == 1
            continue
        body = value_pattern(tokens, i, quoted)
        parts.append(f"(?P<{token.role}>{body})" if token.role else f"(?:{body})")
    return "".join(parts) + "$"


def _layout(tokens: list) -> tuple[int, dict, dict] | None:
    """Fields of a regular line (count, fields to check, where each role is), or None when the
    string is not space-separated fields quoted whole, which pyarrow's CSV reader needs."""
    fields: list[list] = [[]]  # per field: literal characters and (token index, part)
    quoted, state = [False], "open"  # state of the current field: open, in quotes, closed
    for i, token in enumerate(tokens):
        if isinstance(token, Var):
            if state == "closed" or (state == "open" and token.spaces is None):
                return None
            fields[-1].append((i, 0))
            for part in range(1, (token.spaces if state == "open" else 0) + 1):
                fields.append([(i, part)])  # a value with spaces, `$time_local`: more fields
                quoted.append(False)
            continue
        for char in token:
            if state == "quotes":
                state = "closed" if char == '"' else state
                if state == "quotes":
                    fields[-1].append(char)
            elif char == " ":
                fields.append([])
                quoted.append(False)
                state = "open"
            elif state == "closed" or (char == '"' and fields[-1]):
                return None  # text after a closing quote, or a quote inside a field
            elif char == '"':
                quoted[-1], state = True, "quotes"
            else:
                fields[-1].append(char)
    if state == "quotes":
        return None
    checks: dict[int, tuple[str, str | None]] = {}
    reads: dict[str, dict] = {}
    for index, (pieces, whole) in enumerate(zip(fields, quoted, strict=True)):
        places = [p for p in pieces if isinstance(p, tuple)]
        typed = [p for p in places if tokens[p[0]].role]
        literal = any(isinstance(p, str) for p in pieces)
        if typed and (len(places) > 1 or (whole and literal)):
            return None  # a value to read shares its field: only the regex can split it
        if typed:
            at, (token, part) = pieces.index(typed[0]), typed[0]
            var = tokens[token]
            before = "".join(p for p in pieces[:at] if isinstance(p, str))
            after = "".join(p for p in pieces[at + 1:] if isinstance(p, str))
            read = reads.setdefault(var.role, {"first": index, "prefix": before, "quoted": whole})
            read.update(last=index, suffix=after if part == var.spaces or whole else "")
        # each checked field costs a column: the values read and the bare literals (`-`)
        # pin the layout; `[$proxy_upstream_name]` would cost 10% more for little (bench/)
        if typed or (literal and not places and not whole):
            checks[index] = (_name(tokens, pieces), _field_pattern(tokens, pieces, whole))
    return len(fields), checks, {role: _Read(**read) for role, read in reads.items()}


def _name(tokens: list, pieces: list) -> str:
    return "".join(p if isinstance(p, str) else tokens[p[0]].text if p[1] == 0 else "…"
                   for p in pieces)


def _field_pattern(tokens: list, pieces: list, quoted: bool) -> str | None:
    """What a field must match; None where reading the value checks it (a time parsed with
    errors coerced to NaT, so the line is rejected as an unreadable timestamp)."""
    out = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(escape(piece))
            continue
        var = tokens[piece[0]]
        if var.role == "time" and var.time[0] == "strptime":
            return None
        whole = var.pattern if quoted or var.item is None else var.item
        out.append(f"(?:{whole})" if whole else value_pattern(tokens, piece[0], quoted))
    return "^" + "".join(out) + "$"
