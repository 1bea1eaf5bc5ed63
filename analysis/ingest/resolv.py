"""resolv.conf -> nameservers, search list and options (man 5 resolv.conf)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import EvidenceError
from analysis.files import check_inside
from analysis.ingest.base import clip, read_text

#: glibc defaults when resolv.conf does not set them (man 5 resolv.conf).
DEFAULT_NDOTS, DEFAULT_TIMEOUT_S, DEFAULT_ATTEMPTS = 1, 5, 2
FLAG_OPTIONS = {"rotate", "single-request", "single-request-reopen", "use-vc", "edns0",
                "trust-ad", "no-tld-query", "inet6", "no-aaaa"}
NUMERIC_OPTIONS = {"ndots", "timeout", "attempts"}


#: glibc reads at most a few KB of it; a larger one is not a resolv.conf (/dev/zero once was)
MAX_RESOLV_BYTES = 64 * 1024


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
    text = read_text(path, MAX_RESOLV_BYTES, "resolv.conf").splitlines()
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
                    raise EvidenceError(path, f"unknown resolver option {clip(option, 60)!r}",
                                        line=number)
        elif directive in ("sortlist", "lookup", "family"):
            continue
        else:
            raise EvidenceError(path, f"expected nameserver/search/domain/options, got "
                                f"{clip(raw.strip(), 60)!r}", line=number)
    return ResolvConf(str(path), tuple(nameservers), tuple(search), numbers["ndots"],
                      numbers["timeout"], numbers["attempts"], frozenset(flags), len(text))


def env_resolv_conf(env_dir: Path, service_folder: Path) -> ResolvConf | None:
    """An environment's resolv.conf when there is one (a link is followed only inside the
    service folder; a FIFO or device where it belongs is an error, not "missing")."""
    path = env_dir / "resolv.conf"
    if not os.path.lexists(path):
        return None
    check_inside(path, service_folder)
    return parse_resolv_conf(path)
