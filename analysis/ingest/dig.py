"""`dig` output -> one row per lookup: name, status, query time, tries, total time, server, time.

Reads answers concatenated (`dig NAME` in a loop), grep'd `;; Query time: N msec` lines and
terminal transcripts (prompts, command lines, other commands' output: skipped and counted).
One dig invocation is one lookup per name it asks for, however many tries it took; `total_ms`
is what it cost (each timed-out try's timeout, plus the answered try's query time). Columns:
`name`, `status` (TIMEOUT: no answer), `query_time_ms`, `timeout_ms`, `tries`, `total_ms`,
`server`, `time` (UTC), `source_file`, `line`. dig files are small: a line loop is fine here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd

from analysis.errors import EvidenceError
from analysis.ingest import transcript
from analysis.ingest.plausible import bad_time_reason, plausible_time
from analysis.ingest.reading import read_text
from analysis.ingest.registry import register
from analysis.ingest.rows import Parsed, rejections, skipped

KIND = "dig"
COLUMNS = ["name", "status", "query_time_ms", "timeout_ms", "tries", "total_ms", "server",
           "time", "source_file", "line"]
TIMEOUT, UNREACHABLE = "TIMEOUT", "UNREACHABLE"
#: dig's (and BIND nslookup's) defaults without +time/+tries: 5 s per try, 3 tries (BIND 9
#: bin/dig/dighost.c UDP_TIMEOUT and `tries`); resolv.conf's timeout/attempts change them
DEFAULT_TIMEOUT_MS, DEFAULT_TRIES = 5000.0, 3
#: the limits dig accepts (dighost.c MAXTIMEOUT 0xffff s, MAXTRIES 0xff)
_MAX_TIMEOUT_S, _MAX_TRIES = 0xFFFF, 0xFF
#: `latency-gap collect` makes one try per query (collector/collect.py: udp_query, +tries=1)
_COLLECTOR = "latency-gap-collect"
_DNS_TOOLS = frozenset({"dig", "nslookup", "host", "drill", "kdig", "delv", "getent"})

_QUERY_TIME = re.compile(r"^(?:[^;\s]+:)?;; Query time: (\d+) (msec|usec)\s*$")
_BANNER = re.compile(r"^; <<>> DiG (\S+) <<>> ?(.*)$")
_HEADER = re.compile(r"^;; ->>HEADER<<- opcode: \w+, status: (\w+), id: \d+")
_QUESTION = re.compile(r"^;([^;\s]\S*)\s+(?:IN|CH|HS)\s+\S+\s*$")
_SERVER = re.compile(r"^;; SERVER: (\S+?)(?:#\d+)?(?:\(.*\))?(?: \(\w+\))?\s*$")
_WHEN = re.compile(r"^;; WHEN: (.+?)\s*$")
_DATE = re.compile(r"^(\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d)(?: (\S+))? (\d{4})$")
_FAILED_TRY = re.compile(r"^;; communications error(?: to \S+)?: (.*)$")
_GAVE_UP = re.compile(r"^;; (?:connection timed out; )?no servers could be reached")
_PLUS_TIME = re.compile(r"\+time=(\d+(?:\.\d+)?)")
_TOOL_ERROR = re.compile(r"^(dig|nslookup|host): ")  # dig: couldn't get address for 'ns1'
#: dig options followed by a value (dig(1)); `-q` is followed by the name itself
_WITH_VALUE = {"-b", "-c", "-f", "-k", "-p", "-t", "-x", "-y"}
#: query types and classes a dig command line may name beside the name
_TYPES = {"A", "AAAA", "ANY", "AXFR", "IXFR", "CAA", "CNAME", "DNSKEY", "DS", "HINFO", "HTTPS",
          "MX", "NAPTR", "NS", "PTR", "RRSIG", "SOA", "SRV", "SVCB", "TLSA", "TXT", "IN", "CH"}
_RECORD = re.compile(r"^\S+\s+\d+\s+(?:IN|CH|HS)\s+\S+\s+\S.*$")
_OTHER = re.compile(r"^(;.*|\s*)$")  # comments, section headers, blank lines
_SHORT = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*|\S+\.)$")

#: UTC offsets (hours) of the zone names `%Z` prints that mean one offset in today's IANA tz
#: database (tests/ingest/test_dig.py checks them against it); AMBIGUOUS ones mean several
ZONES = {"UTC": 0, "GMT": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MET": 1,
         "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "IDT": 3, "WAT": 1, "CAT": 2, "SAST": 2,
         "EAT": 3, "PKT": 5, "WIB": 7, "WITA": 8, "WIT": 9, "HKT": 8, "JST": 9, "KST": 9,
         "AWST": 8, "ACST": 9.5, "ACDT": 10.5, "AEST": 10, "AEDT": 11, "ChST": 10, "NZST": 12,
         "NZDT": 13, "SST": -11, "HST": -10, "HDT": -9, "AKST": -9, "AKDT": -8, "PDT": -7,
         "MST": -7, "MDT": -6, "EST": -5, "EDT": -4, "AST": -4, "ADT": -3, "NST": -3.5,
         "NDT": -2.5}
AMBIGUOUS = {"CST": "US Central -6, China +8, Cuba -5", "CDT": "US Central -5, Cuba -4",
             "PST": "US Pacific -8, Philippines +8", "IST": "India +5:30, Ireland +1, Israel +2"}
_NUMERIC_ZONE = re.compile(r"^([+-])(\d\d)(\d\d)?$")  # what tzdata prints for zones unnamed


def when(text: str) -> tuple[pd.Timestamp, str | None]:
    """dig's `;; WHEN:` date in UTC, or NaT and why the time is left out."""
    m = _DATE.match(" ".join(text.split()))
    try:
        local = datetime.strptime(f"{m.group(1)} {m.group(3)}", "%a %b %d %H:%M:%S %Y")
    except (AttributeError, ValueError):  # no match, or not an English date
        return pd.NaT, "WHEN not in dig's date format: time left out"
    zone = m.group(2) or "UTC"  # dig without a zone name printed is taken as UTC, as before
    if numeric := _NUMERIC_ZONE.match(zone):
        hours = int(numeric.group(2)) + int(numeric.group(3) or 0) / 60
        offset = hours if numeric.group(1) == "+" else -hours
    elif zone in ZONES:
        offset = ZONES[zone]
    elif zone in AMBIGUOUS:
        return pd.NaT, (f"WHEN in time zone {zone}, which names several ({AMBIGUOUS[zone]}): "
                        "time left out (run `TZ=UTC dig ...`)")
    else:
        name = zone if re.fullmatch(r"[A-Za-z]{1,6}", zone) else "?"
        return pd.NaT, f"WHEN in unknown time zone {name}: time left out (run `TZ=UTC dig ...`)"
    return pd.Timestamp(local.replace(tzinfo=timezone(timedelta(hours=offset)))) \
        .tz_convert("UTC"), None


@dataclass
class Invocation:
    """One run of dig (or nslookup), as its banner or the command line typed shows it."""

    program: str | None = None   # None: output with no command line or banner seen yet
    names: list[str] = field(default_factory=list)
    timeout_ms: float = DEFAULT_TIMEOUT_MS
    tries: int = DEFAULT_TRIES
    short: bool = False          # +short: answers carry no timing
    banner: bool = False
    start: int | None = None     # the line that began it
    results: int = 0             # rows (or error messages) it printed

    def name(self, question: str | None) -> str | None:
        """The next row's name: the k-th of `dig NAME1 NAME2`, else the question section's."""
        if self.results < len(self.names):
            return self.names[self.results]
        return question or (self.names[-1] if self.names else None)


def _abbreviates(key: str, option: str, shortest: int) -> bool:
    """dig takes any long enough start of an option's name (+ti=2 is +timeout=2)."""
    return len(key) >= shortest and option.startswith(key)


def invocation(program: str, args: list[str], start: int, version: str = "") -> Invocation:
    """An invocation from dig's or nslookup's arguments: names, +time, +tries, +short."""
    call = Invocation(program, start=start, tries=1 if version == _COLLECTOR else DEFAULT_TRIES)
    skip = False
    for word in args:
        key, _, value = word.lstrip("+-").lower().partition("=")
        if skip:
            skip = False
        elif word.startswith(("+", "-")) and value.replace(".", "", 1).isdigit():
            number = float(value)
            if _abbreviates(key, "timeout", 2) or (program == "nslookup" and key == "t"):
                if number <= _MAX_TIMEOUT_S:
                    call.timeout_ms = max(number, 1.0) * 1000  # dig takes +time=0 as 1 s
            elif _abbreviates(key, "tries", 3) and number <= _MAX_TRIES:
                call.tries = max(int(number), 1)
            elif (_abbreviates(key, "retry", 3) or _abbreviates(key, "retries", 3)) \
                    and number < _MAX_TRIES:
                # dig +retry=N is N tries after the first; nslookup -retry=N is N tries
                call.tries = int(number) + (program == "dig")
        elif word == "+short":
            call.short = True
        elif program == "dig" and word in _WITH_VALUE:
            skip = True
        elif word.upper() in _TYPES:  # dig TXT name, dig name AAAA, dig @ns axfr zone
            continue
        elif not word.startswith(("+", "@", "-")) and word:
            call.names.append(word)
    if program == "nslookup":  # nslookup NAME [SERVER]: the second word is the server
        call.names = call.names[:1]
    return call


class _Reader:
    """Walks a dig file line by line; one instance per file."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: list[dict] = []
        self.bad: dict[int, str] = {}                # line -> why it is rejected
        self.skipped: dict[int, str] = {}            # line -> what
        self.call = Invocation()
        self.failed: list[tuple[int, bool]] = []     # tries without an answer: (line, timed out)
        self.status: str | None = None
        self.question: str | None = None
        self.records = 0

    def read(self, number: int, text: str) -> None:
        if m := _QUERY_TIME.match(text):
            self.answered(float(m.group(1)) / (1000.0 if m.group(2) == "usec" else 1.0), number)
        elif m := _BANNER.match(text):
            self.banner(m.group(1), m.group(2), number)
        elif m := _FAILED_TRY.match(text):
            self.failed.append((number, "timed out" in m.group(1)))
        elif _GAVE_UP.match(text):
            self.gave_up(number, _PLUS_TIME.search(text))
        elif m := _HEADER.match(text):
            self.status = m.group(1)
        elif m := _QUESTION.match(text):
            self.question = m.group(1).rstrip(".")
        elif m := _SERVER.match(text):
            if self.rows:
                self.rows[-1]["server"] = m.group(1)
        elif m := _WHEN.match(text):
            self.when(m.group(1), number)
        elif _OTHER.match(text) or _RECORD.match(text):
            self.records += bool(_RECORD.match(text))
            if not text.strip() and self.call.program not in (None, "dig"):
                self.skipped[number] = "blank line"
        else:
            self.other(number, text)

    def other(self, number: int, text: str) -> None:
        """A line that is no dig output: a prompt, a command line, another program's output."""
        what = transcript.what_is(text)
        if what in (transcript.PROMPT, transcript.COMMAND):
            self.close()
            self.call = self.command(text, number) if what == transcript.COMMAND \
                else Invocation()
            self.skipped[number] = what
        elif what is not None:
            self.skipped[number] = what
        elif m := _TOOL_ERROR.match(text):
            self.skipped[number] = f"{m.group(1)} error message (no timing)"
            self.call.results += 1
        elif self.call.program not in (None, "dig"):
            program = self.call.program
            self.skipped[number] = f"{program} output (no timing)" if program in _DNS_TOOLS \
                else "output of another command"
        elif _SHORT.match(text.strip()) and (self.call.short or self.call.program == "dig"
                                             and not self.call.banner):  # +short in ~/.digrc
            raise EvidenceError(self.path, "a `dig +short` answer (+short on the command line "
                                "or in ~/.digrc): +short prints no timing, so its lookups "
                                "cannot be measured; capture `dig NAME` without +short",
                                line=number)
        else:
            self.bad[number] = "not a dig output line"

    @staticmethod
    def command(text: str, number: int) -> Invocation:
        """What a command line runs: dig or nslookup (whose output is read), another DNS
        tool or another command (whose output is skipped)."""
        ran = transcript.invoked(text, _DNS_TOOLS)
        if ran and ran[0] in ("dig", "nslookup"):
            return invocation(*ran, number)
        return Invocation(ran[0] if ran else "another command", start=number)

    def banner(self, version: str, args: str, number: int) -> None:
        if self.call.banner:  # the next invocation; failed tries printed before it are its own
            self.close(keep_failed=True)
            self.call = Invocation()
        call = invocation("dig", args.split(), number, version)
        if self.call.program == "dig":  # the command line typed for it: the banner decides
            call.start, call.short = self.call.start, call.short or self.call.short
        call.banner, self.call = True, call

    def answered(self, ms: float, number: int) -> None:
        timed_out = sum(t for _, t in self.failed)
        self.add(self.status, ms, len(self.failed) + 1, ms + timed_out * self.call.timeout_ms,
                 timed_out, number)

    def gave_up(self, number: int, plus_time: re.Match | None) -> None:
        """No answer at all: every try failed (one line per try since dig 9.18.6, else +tries
        or dig's default, all timed out)."""
        if plus_time and float(plus_time.group(1)) <= _MAX_TIMEOUT_S:  # latency-gap collect
            self.call.timeout_ms = float(plus_time.group(1)) * 1000
        tries = len(self.failed) or self.call.tries
        timed_out = sum(t for _, t in self.failed) if self.failed else tries
        total = timed_out * self.call.timeout_ms if timed_out else None
        self.add(TIMEOUT if timed_out else UNREACHABLE, None, tries, total, timed_out, number)

    def add(self, status, ms, tries: int, total, timed_out: int, number: int) -> None:
        self.rows.append({
            "name": self.call.name(self.question), "status": status, "query_time_ms": ms,
            "timeout_ms": self.call.timeout_ms if timed_out else None, "tries": tries,
            "total_ms": total, "server": None, "time": pd.NaT, "source_file": str(self.path),
            "line": number})
        self.call.results += 1
        self.failed, self.status, self.question = [], None, None

    def when(self, text: str, number: int) -> None:
        time, note = when(text)
        if note:
            self.skipped[number] = note
        elif not plausible_time(time):
            self.bad[number] = bad_time_reason()
        elif self.rows:
            self.rows[-1]["time"] = time

    def close(self, keep_failed: bool = False) -> None:
        """The invocation ends: tries that failed with no verdict line are a lookup that got
        no answer; a dig that printed no result at all is a rejected line."""
        if self.failed and not keep_failed:
            self.gave_up(self.failed[-1][0], None)
        elif self.call.program == "dig" and not self.call.results and self.call.start:
            self.skipped.pop(self.call.start, None)
            self.bad[self.call.start] = ("dig printed no result (no ';; Query time', no "
                                         "timeout): interrupted or cut off?")


@register
class DigText:
    """dig's text output, whole answers, grep'd Query time lines or a terminal transcript."""

    kind = KIND
    name = "dig"
    priority = 100  # the only dig format

    def detect(self, sample: list[str]) -> float:
        timing = [s for s in sample if _QUERY_TIME.match(s) or _BANNER.match(s)
                  or _FAILED_TRY.match(s) or _GAVE_UP.match(s)]
        if not timing:  # `dig +short`, `+noall +answer`: claim it, so parse() can say why not
            return 0.5 if all(_SHORT.match(s.strip()) or _RECORD.match(s)
                              or transcript.what_is(s) for s in sample) else 0.0
        known = [s for s in sample if _OTHER.match(s) or _RECORD.match(s) or _QUERY_TIME.match(s)
                 or transcript.what_is(s)]
        return len(known) / len(sample)

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        lines = read_text(path).splitlines()
        reader = _Reader(path)
        for number, text in enumerate(lines, start=1):
            reader.read(number, text)
        reader.close()
        if not reader.rows:
            raise self.no_timing(path, lines, reader)
        table = pd.DataFrame(reader.rows, columns=COLUMNS)
        table["time"] = pd.to_datetime(table["time"], utc=True)
        table = table.astype({"query_time_ms": float, "timeout_ms": float, "tries": "int64",
                              "total_ms": float})
        bad = sorted(reader.bad.items())
        rejected = rejections(path, [n for n, _ in bad], "", [lines[n - 1] for n, _ in bad])
        rejected["reason"] = [reason for _, reason in bad]
        notes = sorted(reader.skipped.items())
        return Parsed(table, len(lines), rejected,
                      skipped(path, [n for n, _ in notes], [w for _, w in notes]))

    @staticmethod
    def no_timing(path: Path, lines: list[str], reader: _Reader) -> EvidenceError:
        """Why a file gave no lookup, and what to capture instead."""
        rest = [t for n, t in enumerate(lines, 1) if t.strip() and n not in reader.skipped]
        if rest and all(_SHORT.match(t.strip()) for t in rest):
            return EvidenceError(path, "looks like `dig +short` output, which has no timing; "
                                 "capture `dig NAME` (full answers, without +short) instead")
        if reader.records:
            return EvidenceError(path, "answer records without ';; Query time' (as `dig +noall "
                                 "+answer` prints them) have no timing; capture `dig NAME`, or "
                                 "add +stats (`dig +noall +answer +stats NAME`)")
        return EvidenceError(path, "no ';; Query time' lines: not dig timing output")
