"""Access logs as `kubectl logs` and container runtimes print them: a prefix before each line.

`kubectl logs --timestamps` puts an RFC 3339 time before each line, `kubectl logs --prefix`
(and `kubectl logs -l ...` over several pods) a `[pod/name/container] `, the container runtime's
own log files (/var/log/containers, CRI format) `<time> stdout F `, `docker compose logs` a
`name  | `, and stern `<pod> <container> `. When no format recognises a file's first lines,
these prefixes are stripped (vectorized, RE2) and detection is tried again; the format is then
named with the prefix it came with ("ingress-nginx (kubectl --timestamps)").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from analysis.ingest.reading import parse_by_lines
from analysis.ingest.rows import Parsed

if TYPE_CHECKING:  # registry.py imports this module
    from analysis.ingest.registry import Format

_RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"
#: (name, RE2 pattern of the prefix, replacement), tried alone and the first two combined
PREFIXES: list[tuple[str, str, str]] = [
    ("kubectl --prefix", r"^\[[a-z]+/[^\] ]+\] ", ""),
    ("CRI container log", rf"^{_RFC3339} (?:stdout|stderr) [FP] ", ""),
    ("kubectl --timestamps", rf"^{_RFC3339} ", ""),
    ("docker compose logs", r"^[\w.-]+\s+\| ", ""),
    ("stern", r"^[\w.-]+ [\w.-]+ (\{)", r"\1"),  # only before a JSON line
    ("Ambassador", r"^ACCESS (\[)", r"\1"),      # Ambassador's Envoy prefixes its lines
]
#: Docker's json-file driver (/var/lib/docker/containers/*/*-json.log): each line a JSON
#: object whose `log` holds the line, quotes escaped; the JSON escapes of a log line's own
#: characters (\\, \u0026...) beyond the quote are rare there and left as they are
DOCKER_JSON = [
    ("docker json-file log",
     r'^\{"log":"(.*)\\n","stream":"(?:stdout|stderr)","time":"[^"]*"\}$', r"\1"),
    ("docker json-file log", r'\\"', '"'),
]
#: the prefixed lines needed among the sample's for a prefix to be taken
MIN_SHARE = 0.5


#: Filebeat / Elastic exports: the line is the JSON `message` (with other keys after it)
FILEBEAT_JSON = [
    ("JSON message", r'^\{"message":"((?:[^"\\]|\\.)*)",.*\}$', r"\1"),
    ("JSON message", r'\\"', '"'),
]


def unwrap_each(lines: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Every known wrapper undone on the lines that have it, line by line: for files that mix
    wrapped and plain lines (each pattern is anchored, or applies inside a wrapper only)."""
    for chain in ([FILEBEAT_JSON[0]], [DOCKER_JSON[0]], [FILEBEAT_JSON[1]],
                  [p for p in PREFIXES if p[0] not in ("stern", "docker compose logs")]):
        lines = strip(lines, chain)
    return lines


def _chains() -> list[list[tuple[str, str, str]]]:
    single = [[p] for p in PREFIXES]
    return single + [[PREFIXES[0], p] for p in PREFIXES[1:3]] + [DOCKER_JSON]


def strip(lines: pa.Array | pa.ChunkedArray, chain) -> pa.Array | pa.ChunkedArray:
    """The lines with each prefix of the chain removed (or wrapper undone) where it stands:
    an anchored pattern (a prefix) once per line, any other (an escape) everywhere."""
    for _, pattern, replacement in chain:
        lines = pc.replace_substring_regex(lines, pattern, replacement,
                                           max_replacements=1 if pattern.startswith("^")
                                           else None)
    return lines


def unprefixed_samples(sample: list[str]):
    """(chain, the sample with it stripped) for each prefix chain that most sample lines
    carry, in the order they are tried (registry.py ranks the formats on each)."""
    column = pa.array(sample, pa.string())
    for chain in _chains():
        _, first, _ = chain[0]
        if pc.mean(pc.match_substring_regex(column, first)).as_py() < MIN_SHARE:
            continue
        yield chain, strip(column, chain).to_pylist()


class Prefixed:
    """A registered format whose lines came with a prefix."""

    def __init__(self, fmt: Format, chain):
        self.fmt, self.chain, self.kind = fmt, chain, fmt.kind
        self.latency_field = getattr(fmt, "latency_field", "")
        names = dict.fromkeys(name for name, _, _ in chain)  # in order, each once
        self.name = f"{fmt.name} ({' + '.join(names)})"

    def detect(self, sample: list[str]) -> float:
        return self.fmt.detect(strip(pa.array(sample, pa.string()), self.chain).to_pylist())

    def parse(self, path: Path, options: dict | None = None) -> Parsed:
        return parse_by_lines(self.fmt, path, options, lambda lines: strip(lines, self.chain))
