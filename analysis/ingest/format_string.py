"""Format strings, split into literal text and variables: nginx `log_format` variables
(`$status`, `${status}`) and Envoy command operators (`%DURATION%`, `%START_TIME(%s.%3f)%`).

Each variable the latency table needs has a role (time, total, upstream, status), the RE2
pattern of its values and its unit; any other is an opaque field whose pattern comes from
where it stands (inside quotes, before a bracket...). custom.py compiles the parsers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis.ingest.ingress_nginx import SECONDS_LIST, UPSTREAM_LIST

DIALECTS = ("nginx", "envoy")
_SECONDS = r"\d+(?:\.\d+)?"


class FormatStringError(ValueError):
    """A format string that cannot be compiled; the message says what to change."""


@dataclass(frozen=True)
class Var:
    """One variable of a format string and how its values look."""

    text: str                   # as written: `$request_time`, `%DURATION%`
    role: str | None = None     # time, total, upstream, status; None: a field not read
    pattern: str | None = None  # RE2 of a value; None: whatever its place in the line allows
    item: str | None = None     # one value of a list (nginx upstream variables)
    spaces: int | None = 0      # spaces inside a value of a regular line; None: any number
    unit_ms: float = 1.0        # ms per unit of a latency
    time: tuple[str, str] = ("", "")  # how a time is read: (strptime | cast | epoch, format)


def _nginx(name: str, text: str) -> Var:
    """nginx variables (nginx.org ngx_http_log_module, ngx_http_upstream_module)."""
    known = {
        # "%02d/%s/%d:%02d:%02d:%02d %c%02i%02i" in ngx_times.c: one space inside
        "time_local": Var(text, "time", r"\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}",
                          spaces=1, time=("strptime", "%d/%b/%Y:%H:%M:%S %z")),
        "time_iso8601": Var(text, "time", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:\d\d|Z)",
                            time=("strptime", "ISO8601")),
        "msec": Var(text, "time", r"\d+\.\d+", time=("epoch", "")),  # seconds, ms resolution
        "request_time": Var(text, "total", _SECONDS, unit_ms=1000.0),
        "upstream_response_time": Var(text, "upstream", SECONDS_LIST, rf"{_SECONDS}|-",
                                      unit_ms=1000.0),
        "status": Var(text, "status", r"\d{3}"),
        # the last upstream's status tells nginx's own 502/504 (no answer) from a backend's
        "upstream_status": Var(text, "upstream_status", UPSTREAM_LIST, item=r"[^ ,]+"),
    }
    if name in known:
        return known[name]
    if name.startswith("upstream_"):  # one value per upstream tried, as the response time
        return Var(text, pattern=UPSTREAM_LIST, item=r"[^ ,]+")
    if name == "request" or name.startswith(("http_", "sent_http_", "cookie_", "arg_")):
        return Var(text, spaces=None)  # request line and headers: spaces inside
    return Var(text)


def _envoy(name: str, arg: str | None, text: str) -> Var:
    """Envoy command operators (envoyproxy/envoy docs, configuration/observability/access_log)."""
    header = (arg or "").split("?")[0].upper()
    if name == "START_TIME":
        return _start_time(arg, text) if arg else Var(
            text, "time", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z", time=("cast", ""))
    if name == "DURATION":
        return Var(text, "total", r"\d+")
    if name == "RESP" and header == "X-ENVOY-UPSTREAM-SERVICE-TIME":
        return Var(text, "upstream", r"\d+|-")
    if name == "RESPONSE_CODE":
        return Var(text, "status", r"\d{1,3}")  # 0 when no response was sent
    if name in ("REQ", "RESP", "TRAILER", "DYNAMIC_METADATA", "FILTER_STATE") and \
            header not in _NO_SPACES:
        return Var(text, spaces=None)  # a header (User-Agent...) may hold spaces
    return Var(text)


#: request headers whose values have no spaces: HTTP's pseudo-headers, paths, ids
_NO_SPACES = {":METHOD", ":SCHEME", ":AUTHORITY", ":PATH", "X-ENVOY-ORIGINAL-PATH",
              "X-REQUEST-ID", "HOST"}


#: strftime directives START_TIME accepts that pandas can parse back, as RE2
_DIRECTIVES = {"Y": r"\d{4}", "y": r"\d\d", "m": r"\d\d", "d": r"\d\d", "H": r"\d\d",
               "M": r"\d\d", "S": r"\d\d", "b": r"[A-Za-z]{3}", "j": r"\d{3}",
               "z": r"(?:[+-]\d\d:?\d\d|Z)", "f": r"\d+", "%": "%"}


def _start_time(arg: str, text: str) -> Var:
    """`%START_TIME(format)%`: strftime plus Envoy's %s (epoch) and %1f..%9f (fraction)."""
    spec = arg.replace("%T", "%H:%M:%S").replace("%F", "%Y-%m-%d")
    if re.fullmatch(r"%s(?:\.%\d?f)?", spec):
        return Var(text, "time", r"\d+(?:\.\d+)?", time=("epoch", ""))
    pattern, python, at = [], [], 0
    for m in re.finditer(r"%(\d?)(.)", spec):
        if m.group(2) not in _DIRECTIVES or (m.group(1) and m.group(2) != "f"):
            raise FormatStringError(f"{text}: %{m.group(1)}{m.group(2)} cannot be read back; "
                                    f"use %Y %m %d %H %M %S %f %z %b %j %T %F or %s")
        pattern += [escape(spec[at:m.start()]), _DIRECTIVES[m.group(2)]]
        python += [spec[at:m.start()], f"%{m.group(2)}"]
        at = m.end()
    if "%" in spec[at:]:
        raise FormatStringError(f"{text}: a '%' at the end that starts no directive")
    pattern.append(escape(spec[at:]))
    python.append(spec[at:])
    return Var(text, "time", "".join(pattern), spaces=spec.count(" "),
               time=("strptime", "".join(python)))


_NGINX_VAR = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
_ENVOY_OP = re.compile(r"%([A-Z][A-Z0-9_]*)(?:\(([^)]*)\))?(?::\d+)?%")


def tokenize(dialect: str, template: str) -> list[str | Var]:
    """Literal text (str) and variables (Var) of a format string, in order."""
    if not isinstance(template, str) or not template.strip():
        raise FormatStringError("expected a format string")
    if template.lstrip().startswith("{"):  # escape=json values hold \" that no regex splits
        raise FormatStringError("a JSON format: leave it out of formats:, JSON lines are read "
                                "by the json-lines format, found from the content")
    # Envoy's format strings end with a newline, written "\n" in YAML
    text = template.removesuffix("\n").removesuffix("\\n")
    regex, marker = (_NGINX_VAR, "$") if dialect == "nginx" else (_ENVOY_OP, "%")
    tokens: list[str | Var] = []
    at = 0
    for m in [*regex.finditer(text), None]:
        literal = text[at:m.start() if m else len(text)]
        if marker in literal:
            where = at + literal.index(marker)
            what = "an nginx variable" if marker == "$" else "a command operator"
            raise FormatStringError(f"character {where + 1}: {text[where:where + 12]!r} is not "
                                    f"{what}")
        if literal:
            tokens.append(literal)
        if m:
            tokens.append(_nginx(m.group(1) or m.group(2), m.group(0)) if dialect == "nginx"
                          else _envoy(m.group(1), m.group(2), m.group(0)))
            at = m.end()
    return tokens


def required(dialect: str) -> list[tuple[set[str], str]]:
    """The roles a format string must have, and the error when it has none of them."""
    if dialect == "nginx":
        return [({"time"}, "no time variable: add $time_local, $time_iso8601 or $msec"),
                ({"upstream", "total"}, "no latency variable: add $upstream_response_time "
                 "(the backend's time) or $request_time")]
    return [({"time"}, "no time operator: add %START_TIME%"),
            ({"upstream", "total"}, "no latency operator: add "
             "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% (the upstream's time) or %DURATION%")]


def escape(literal: str) -> str:
    """Literal text as RE2 (and Python re): only the metacharacters escaped."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", literal)


def value_pattern(tokens: list, i: int, quoted: bool) -> str:
    """RE2 for the value of tokens[i]: its own pattern, else what its place allows."""
    var = tokens[i]
    if var.pattern:
        return var.pattern
    if quoted:
        return r'[^"]*'
    after = tokens[i + 1] if i + 1 < len(tokens) and isinstance(tokens[i + 1], str) else ""
    if after[:1] and after[0] != " ":  # `[$proxy_upstream_name]`: up to the bracket
        return rf"[^{re.escape(after[0])}]*"
    return ".*?" if var.spaces is None else r"\S*"
