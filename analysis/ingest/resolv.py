"""resolv.conf as glibc reads it: nameservers, search list and options (man 5 resolv.conf).

The rules are glibc's resolv/res_init.c (res_vinit_1 reads the lines, res_setoptions the
options; read at bminor/glibc 04e750e, 2.42.9000): a keyword counts only at the very start of
a line and followed by a blank, what glibc does not understand is ignored, numbers are
clamped. What glibc ignores, clamps or reads otherwise than it looks is listed in
`ResolvConf.ignored`, one entry per finding, so nothing in the file goes unaccounted for.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import EvidenceError
from analysis.files import check_inside
from analysis.ingest.reading import read_text
from analysis.ingest.rows import clip
from analysis.redaction import redact

#: glibc's defaults: RES_TIMEOUT 5 and RES_DFLRETRY 2 (resolv/resolv.h), ndots 1
#: (res_init.c resolv_conf_parser_init)
DEFAULT_NDOTS, DEFAULT_TIMEOUT_S, DEFAULT_ATTEMPTS = 1, 5, 2
#: res_setoptions clamps to RES_MAXNDOTS 15, RES_MAXRETRANS 30 and RES_MAXRETRY 5 (resolv.h)
MAXIMUM = {"ndots": (15, "RES_MAXNDOTS"), "timeout": (30, "RES_MAXRETRANS"),
           "attempts": (5, "RES_MAXRETRY")}
#: res_send.c tries only the first MAXNS nameservers (resolv/bits/types/res_state.h)
MAXNS = 3
#: MAXDNSRCH (res_state.h): glibc before 2.26 used only 6 search domains, and only as many as
#: fit in res_state's 256-byte defdname (each with its NUL); 2.26 lifted both (NEWS, bug
#: 19569): res_query.c walks the whole list (__resolv_context_search_list), and only the
#: legacy _res copy is still truncated (resolv_conf.c)
MAXDNSRCH, SEARCH_BYTES = 6, 256
#: res_setoptions' flag table in its order: an option is the first name it starts with
FLAG_OPTIONS = ("rotate", "edns0", "single-request-reopen", "single-request", "no_tld_query",
                "no-tld-query", "no-reload", "use-vc", "trust-ad", "no-aaaa", "strict-error")
#: options glibc used to know (NEWS): now ignored like any unknown option
REMOVED_OPTIONS = {"inet6": "2.30", "ip6-dotint": "2.25", "no-ip6-dotint": "2.25",
                   "ip6-bytestring": "2.25"}
DIRECTIVES = ("domain", "search", "nameserver", "sortlist", "options")
#: glibc reads at most a few KB of it; a larger one is not a resolv.conf (/dev/zero once was)
MAX_RESOLV_BYTES = 64 * 1024
_BLANKS = re.compile(r"[ \t]+")
_STRTOL = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


@dataclass(frozen=True)
class ResolvConf:
    source_file: str
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    ndots: int = DEFAULT_NDOTS
    timeout_s: int = DEFAULT_TIMEOUT_S
    attempts: int = DEFAULT_ATTEMPTS
    flags: frozenset[str] = field(default_factory=frozenset)
    lines: int = 0
    #: options glibc does not know, as written (a newer glibc's, musl's, a typo): kept to be seen
    unknown_options: tuple[str, ...] = ()
    #: "line N: what glibc ignored or reads otherwise than it looks", in line order
    ignored: tuple[str, ...] = ()


@dataclass
class _Reading:
    nameservers: list[tuple[int, str]] = field(default_factory=list)
    search: tuple[int, list[str]] = (0, [])
    numbers: dict[str, int] = field(default_factory=lambda: {
        "ndots": DEFAULT_NDOTS, "timeout": DEFAULT_TIMEOUT_S, "attempts": DEFAULT_ATTEMPTS})
    flags: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    ignored: list[tuple[int, str]] = field(default_factory=list)
    foreign: list[int] = field(default_factory=list)  # lines that are no directive at all

    def note(self, line: int, text: str) -> None:
        self.ignored.append((line, redact(f"line {line}: {text}")))


def parse_resolv_conf(path: Path) -> ResolvConf:
    """Read one resolv.conf as glibc would; a file that is mostly not one is an error."""
    lines = read_text(path, MAX_RESOLV_BYTES, "resolv.conf").split("\n")
    if lines[-1] == "":
        lines.pop()
    reading, content = _Reading(), 0
    for number, raw in enumerate(lines, start=1):
        if raw.strip() and raw.lstrip()[0] not in "#;":  # comments and blank lines
            content += 1
            _read_line(reading, number, raw)
    if reading.foreign and len(reading.foreign) * 2 > content:
        raise EvidenceError(path, f"does not look like a resolv.conf: {len(reading.foreign)} "
                            f"of {content} lines are no resolv.conf directive; expected lines "
                            f"starting with {', '.join(DIRECTIVES)}", line=reading.foreign[0])
    for number, address in reading.nameservers[MAXNS:]:
        reading.note(number, f"nameserver {address} is ignored: glibc uses only the first "
                     f"{MAXNS} (MAXNS)")
    line, search = reading.search
    if len(search) > MAXDNSRCH:
        reading.note(line, f"{len(search)} search domains: glibc before 2.26 uses only the "
                     f"first {MAXDNSRCH} (MAXDNSRCH), later versions all of them")
    size = sum(len(domain) + 1 for domain in search)
    if size > SEARCH_BYTES:
        reading.note(line, f"the search list takes {size} bytes: glibc before 2.26 uses only "
                     f"the domains that fit in {SEARCH_BYTES} (res_state defdname), later "
                     "versions all of them")
    numbers = reading.numbers
    return ResolvConf(str(path), tuple(a for _, a in reading.nameservers[:MAXNS]),
                      tuple(search), numbers["ndots"], numbers["timeout"],
                      numbers["attempts"], frozenset(reading.flags), len(lines),
                      tuple(reading.unknown),
                      tuple(text for _, text in sorted(reading.ignored, key=lambda n: n[0])))


def _read_line(reading: _Reading, number: int, raw: str) -> None:
    keyword = _BLANKS.split(raw.strip(" \t"), 1)[0]
    if keyword not in DIRECTIVES:
        reading.foreign.append(number)
        reading.note(number, f"unknown directive {clip(keyword, 30)!r} (glibc ignores the "
                     "line)")
    elif raw[0] in " \t":
        reading.note(number, f"{keyword!r} is indented: glibc reads a directive only at the "
                     "start of a line and ignores this one")
    elif not raw[len(keyword):].strip(" \t"):
        reading.note(number, f"{keyword!r} without a value (glibc ignores the line)")
    elif keyword != "sortlist":  # sortlist orders answers, it costs no time
        words = _BLANKS.split(raw[len(keyword):].strip(" \t"))
        READERS[keyword](reading, number, words)


def _domain(reading: _Reading, number: int, words: list[str]) -> None:
    reading.search = (number, words[:1])
    if len(words) > 1:
        reading.note(number, f"'domain' takes one name: glibc ignores what follows "
                     f"{clip(words[0], 40)}")


def _search(reading: _Reading, number: int, words: list[str]) -> None:
    reading.search = (number, words)  # the last search or domain line wins
    comment = next((i for i, w in enumerate(words) if w[0] in "#;"), None)
    if comment is not None:
        reading.note(number, f"glibc has no comments after a search list: the "
                     f"{len(words) - comment} words from {clip(words[comment], 20)!r} on are "
                     "read as search domains")


def _nameserver(reading: _Reading, number: int, words: list[str]) -> None:
    address = _address(words[0])
    if address is None:
        reading.note(number, f"nameserver {clip(words[0], 40)!r} is not an IP address "
                     "(glibc ignores the line)")
        return
    reading.nameservers.append((number, address))
    if len(words) > 1:
        reading.note(number, f"text after nameserver {address} is ignored (glibc reads one "
                     "address per line)")


def _address(text: str) -> str | None:
    """The address glibc takes from `text` (inet_aton_exact, then inet_pton for IPv6)."""
    if re.fullmatch(r"[0-9A-Fa-fXx.]+", text):
        try:
            return socket.inet_ntoa(socket.inet_aton(text))
        except OSError:
            pass
    try:
        socket.inet_pton(socket.AF_INET6, text.split("%", 1)[0])  # %scope is kept aside
    except (OSError, ValueError):
        return None
    return text


def _options(reading: _Reading, number: int, words: list[str]) -> None:
    for word in words:
        name, colon, value = word.partition(":")
        if colon and name in MAXIMUM:
            _number(reading, number, name, value)
            continue
        bare = word[1:] if word.startswith("-") else word  # "-rotate" clears (glibc 2.41)
        flag = next((f for f in FLAG_OPTIONS if bare.startswith(f)), None)
        if flag is None:
            removed = REMOVED_OPTIONS.get(bare)
            why = f"removed in glibc {removed}" if removed else "unknown to glibc"
            reading.unknown.append(redact(clip(word, 40)))
            reading.note(number, f"option {clip(word, 40)!r} is ignored ({why})")
            continue
        if bare != flag:
            reading.note(number, f"option {clip(word, 40)!r} is read as {flag!r} (glibc "
                         "compares the start of an option only)")
        flag = "no-tld-query" if flag == "no_tld_query" else flag
        (reading.flags.discard if word.startswith("-") else reading.flags.add)(flag)


def _number(reading: _Reading, number: int, name: str, value: str) -> None:
    match = _STRTOL.match(value)  # glibc: (int) strtol (value, NULL, 10), 0 without digits
    given = max(min(int(match.group(1)), 2**63 - 1), -2**63) if match else 0
    given = (given + 2**31) % 2**32 - 2**31
    maximum, constant = MAXIMUM[name]
    used = min(given, maximum)
    why = None if re.fullmatch(r"\+?[0-9]+", value) else "not a whole number"
    if given > maximum:
        why = f"its maximum, {constant}"
    if name == "ndots" and used < 0:
        used, why = used & 0xF, "res_state.h keeps 4 bits of it"
    elif name == "timeout" and used < 1:
        used, why = 1, "res_send.c waits at least 1 s per try"
    elif name == "attempts" and used < 1:
        used, why = 0, "no query is sent: every DNS lookup fails"
    if why and value.lstrip("+") == str(used):
        reading.note(number, f"{name}:{used}: {why}")
    elif why:
        reading.note(number, f"{name}:{clip(value, 20)} is read by glibc as {name}:{used} "
                     f"({why})")
    reading.numbers[name] = used


READERS = {"domain": _domain, "search": _search, "nameserver": _nameserver,
           "options": _options}


def env_resolv_conf(env_dir: Path, service_folder: Path) -> ResolvConf | None:
    """An environment's resolv.conf when there is one (a link is followed only inside the
    service folder; a FIFO or device where it belongs is an error, not "missing")."""
    path = env_dir / "resolv.conf"
    if not os.path.lexists(path):
        return None
    check_inside(path, service_folder)
    return parse_resolv_conf(path)
