"""Domain exceptions: each carries what a user needs to find and fix the problem."""

from __future__ import annotations

from pathlib import Path


class LatencyGapError(Exception):
    """Base class for every error the tool reports to its user."""


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

    def __init__(self, service: str, notebook: str, cell: str, detail: str, kept: Path | None,
                 last_good: str):
        self.service, self.notebook, self.cell, self.kept = service, notebook, cell, kept
        where = f"the executed notebook is kept in {kept}" if kept else \
            "the executed notebook could not be kept"
        super().__init__(
            f"service {service!r}: notebook {notebook}, {cell} failed: {detail}\n"
            f"  {where}; {last_good}"
        )


class PublishError(LatencyGapError):
    """Rendering or moving a finished report into place failed (disk full, permissions)."""

    def __init__(self, service: str, step: str, detail: str, kept: Path | None,
                 last_good: str):
        self.service, self.step, self.kept = service, step, kept
        where = f"the built files are kept in {kept}; " if kept else ""
        super().__init__(f"service {service!r}: {step} failed: {detail}\n  {where}{last_good}")
