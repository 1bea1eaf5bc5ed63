"""Domain exceptions: each carries what a user needs to find and fix the problem."""

from __future__ import annotations

from pathlib import Path

from analysis.redaction import redact


class LatencyGapError(Exception):
    """Base class for every error the tool reports to its user. Its message is redacted
    when it is made: messages quote evidence, and they reach logs, notebooks and fleet.json."""

    def __init__(self, *args):
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class ServiceError(LatencyGapError):
    """A service name that is not allowed or not found."""


class ConfigError(LatencyGapError):
    """A service.yaml or a parameter that is not valid."""


class EvidenceError(LatencyGapError):
    """Evidence that is missing or cannot be read."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class NotebookError(LatencyGapError):
    """A notebook cell failed while building a report."""

    def __init__(self, service: str, notebook: str, cell: str | None, detail: str,
                 kept: Path | None, last_good: str):
        """`cell` None: the cell raised one of the tool's own errors (evidence, service.yaml),
        whose message says all a user needs; the cell that happened to raise it does not."""
        self.service, self.notebook, self.cell, self.kept = service, notebook, cell, kept
        where = f"the executed notebook ({notebook}) is kept in {kept}" if kept else \
            f"the executed notebook ({notebook}) could not be kept"
        failed = f"notebook {notebook}, {cell} failed: " if cell else ""
        super().__init__(f"service {service!r}: {failed}{detail}\n  {where}; {last_good}")


class PublishError(LatencyGapError):
    """Rendering or moving a finished report into place failed (disk full, permissions)."""

    def __init__(self, service: str, step: str, detail: str, kept: Path | None,
                 last_good: str):
        self.service, self.step, self.kept = service, step, kept
        where = f"the built files are kept in {kept}; " if kept else ""
        super().__init__(f"service {service!r}: {step} failed: {detail}\n  {where}{last_good}")
