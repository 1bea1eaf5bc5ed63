"""The formats of each kind of evidence, and picking the one a file is written in.

Each format is a small object registered under its name for one kind of evidence, with
`detect(sample) -> float` (share of sample lines that look like it), `parse(path) -> Parsed`
and a `priority`. Adding a format touches one module (papermill's registry pattern).

Detection takes the format with the highest share of the file's first lines; on equal shares
the one with the higher `priority` wins (docs/formats.md, "Detection"), never the one imported
first. Two formats of one kind cannot share a priority, so every tie has one winner. JSON lines
score 1.0 on any `{...}` line, for one: a format that reads a JSON layout of its own must rank
above it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from analysis.errors import EvidenceError
from analysis.ingest import other_lines, prefixes
from analysis.ingest.reading import check_encoding, sample_lines
from analysis.ingest.rows import Parsed, clip, redact_table
from analysis.redaction import redact

#: the share of the sample a format must read for a file to be taken as written in it
MIN_SCORE = 0.5


class Format(Protocol):
    name: str
    kind: str
    #: detection ties go to the higher priority; unique within a kind
    priority: int

    def detect(self, sample: list[str]) -> float: ...

    def parse(self, path: Path, options: dict | None = None) -> Parsed: ...


REGISTRY: dict[str, dict[str, Format]] = {}


def add(fmt: Format) -> Format:
    """Make a format known for its kind of evidence; its priority must be its own."""
    formats = REGISTRY.setdefault(fmt.kind, {})
    same = [other.name for other in formats.values()
            if other.priority == fmt.priority and other.name != fmt.name]
    if same:
        raise ValueError(f"{fmt.kind} format {fmt.name!r} has priority {fmt.priority}, as "
                         f"{same[0]!r} has: a detection tie between them would have no winner")
    formats[fmt.name] = fmt
    return fmt


def register(cls: type) -> type:
    """Class decorator: make a format known for its kind of evidence."""
    add(cls())
    return cls


def rank(formats: dict[str, Format], sample: list[str]) -> list[tuple[Format, float]]:
    """The formats with the share of the sample each reads, best first: by share, then by
    priority (not by the order they were registered in)."""
    scored = [(fmt, fmt.detect(sample)) for fmt in formats.values()]
    return sorted(scored, key=lambda pair: (pair[1], pair[0].priority), reverse=True)


def detect(kind: str, path: Path, forced: str | Format | None = None) -> Format:
    """The registered format of `kind` that best matches the file's first lines; `forced`
    names one, or is a format compiled from a format string in service.yaml (custom.py)."""
    formats = REGISTRY.get(kind, {})
    try:
        check_encoding(path)
    except (OSError, EOFError) as exc:
        raise EvidenceError(path, f"cannot be read: {exc}") from None
    if forced is not None and not isinstance(forced, str):
        return forced
    if forced:
        if forced not in formats:
            raise EvidenceError(path, f"format {forced!r} is not a {kind} format {sorted(formats)}")
        return formats[forced]
    sample = sample_lines(path)
    if not sample:
        raise EvidenceError(path, f"is empty; expected {kind} evidence")
    if kind == "latency":
        sample = other_lines.records_only(sample)
    best, score = rank(formats, sample)[0]
    if score < MIN_SCORE and kind == "latency":
        if prefixed := _detect_prefixed(sample, formats):
            return prefixed
    if score < MIN_SCORE:
        closest = f"it looks most like {best.name} ({score:.0%} of its first lines match)" \
            if score > 0 else f"tried {', '.join(sorted(formats))}"
        shown = "; ".join(repr(clip(redact(line), 120)) for line in sample[:3])
        raise EvidenceError(path, f"not a known {kind} format: {closest}; first lines: {shown}")
    return best


def _detect_prefixed(sample: list[str], formats: dict[str, Format]) -> Format | None:
    """A line format wrapped in the prefix that hides it (prefixes.py), when stripping one
    makes it recognisable; ranked as detect() ranks."""
    line_formats = {name: fmt for name, fmt in formats.items() if hasattr(fmt, "parse_column")}
    if not line_formats:
        return None
    for chain, stripped in prefixes.unprefixed_samples(sample):
        best, score = rank(line_formats, stripped)[0]
        if score >= MIN_SCORE:
            return prefixes.Prefixed(best, chain)
    return None


def parse_file(kind: str, path: Path, forced: str | Format | None = None,
               options: dict | None = None) -> tuple[Format, Parsed]:
    """Detect a file's format and parse it; every text that comes out is redacted."""
    fmt = detect(kind, path, forced)
    return fmt, parse_with(fmt, path, options)


def parse_with(fmt: Format, path: Path, options: dict | None = None) -> Parsed:
    """Parse a file in a known format; every text that comes out is redacted."""
    parsed = fmt.parse(path, options)
    parsed.latency_field = parsed.latency_field or getattr(fmt, "latency_field", "")
    redact_table(parsed.table)
    return parsed
