"""resolv.conf -> nameservers, search list and options (man 5 resolv.conf)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import EvidenceError
from analysis.ingest.base import read_text

#: glibc defaults when resolv.conf does not set them (man 5 resolv.conf).
DEFAULT_NDOTS, DEFAULT_TIMEOUT_S, DEFAULT_ATTEMPTS = 1, 5, 2
FLAG_OPTIONS = {"rotate", "single-request", "single-request-reopen", "use-vc", "edns0",
                "trust-ad", "no-tld-query", "inet6", "no-aaaa"}
NUMERIC_OPTIONS = {"ndots", "timeout", "attempts"}


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


def parse_resolv_conf(path: Path) -> ResolvConf:
    """Parse one resolv.conf; an unknown directive or option value names the line."""
    nameservers: list[str] = []
    search: list[str] = []
    numbers = {"ndots": DEFAULT_NDOTS, "timeout": DEFAULT_TIMEOUT_S, "attempts": DEFAULT_ATTEMPTS}
    flags: set[str] = set()
    text = read_text(path).splitlines()
    for number, raw in enumerate(text, start=1):
        words = raw.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        directive, args = words[0], words[1:]
        if directive == "nameserver" and len(args) == 1:
            nameservers.append(args[0])
        elif directive in ("search", "domain") and args:
            search = list(args)  # the last search/domain line wins
        elif directive == "options":
            for option in args:
                name, _, value = option.partition(":")
                if name in NUMERIC_OPTIONS and value.isdigit():
                    numbers[name] = int(value)
                elif name in FLAG_OPTIONS and not value:
                    flags.add(name)
                else:
                    raise EvidenceError(path, f"unknown resolver option {option!r}", line=number)
        elif directive in ("sortlist", "lookup", "family"):
            continue
        else:
            raise EvidenceError(path, f"expected nameserver/search/domain/options, got "
                                f"{raw.strip()!r}", line=number)
    return ResolvConf(str(path), tuple(nameservers), tuple(search), numbers["ndots"],
                      numbers["timeout"], numbers["attempts"], frozenset(flags), len(text))
