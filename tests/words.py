"""Raw values in a report's text: what a reader should never see (issue 18, "Words, not
variables"). Used by the report tests and the browser test."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: elements whose text is not prose: code to paste, scripts, styles
NOT_PROSE = {"script", "style", "code", "pre"}
#: names a reader types or reads in their own logs and service.yaml: allowed as written
USER_NAMES = {
    # log fields (docs/formats.md)
    "upstream_response_time", "request_time", "target_processing_time",
    "request_processing_time", "response_processing_time", "upstream_connect_time",
    # service.yaml keys (README, "Evidence layout")
    "aws_calls_per_request", "cache_ttl_s", "lookups_per_request", "credential_provider",
    "provider_settings", "hop_limit", "sdk_version", "session_duration", "session_refresh",
    "session_ttl", "p50_ms", "p99_ms",
}
#: words ending in s that are singular after "1"
SINGULAR_S = {"ms", "s", "is", "was", "has", "this", "less", "process", "class", "status",
              "access", "address", "alias", "bus", "dns", "imds", "kiam", "previous",
              "its", "plus", "minus", "gas", "lens", "focus", "analysis", "basis", "axis"}

_CHECKS = [
    # "None needed.", "None of them": English; a None anywhere else is a value
    ("None", re.compile(r"\bNone\b(?! (?:of|needed)\b)")),
    ("nan", re.compile(r"\b(?:nan|NaN|NaT|inf)\b")),
    ("unrounded number", re.compile(r"\b\d+\.\d{4,}\b")),
    ("less than 0", re.compile(r"\bless than 0\b")),
    ("one with a plural", re.compile(r"(?<![\d.,/])\b1 ([a-z]+s)\b")),
    ("snake_case", re.compile(r"(?<![$\w])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b")),
]


class _Prose(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in NOT_PROSE:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in NOT_PROSE and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def prose(html: str) -> str:
    """The text a reader reads: everything but code, scripts and styles."""
    parser = _Prose()
    parser.feed(html)
    return " ".join(parser.parts)


def raw_values(html: str) -> list[str]:
    """Every raw value in the report's prose, as 'kind: text around it'."""
    text = re.sub(r"\s+", " ", prose(html))
    found = []
    for kind, pattern in _CHECKS:
        for match in pattern.finditer(text):
            word = match.group(match.lastindex or 0)
            if kind == "snake_case" and word in USER_NAMES:
                continue
            if kind == "one with a plural" and word.lower() in SINGULAR_S:
                continue
            found.append(f"{kind}: ...{text[max(0, match.start() - 40):match.end() + 40]}...")
    return found
