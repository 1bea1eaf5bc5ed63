"""Every path the tool uses comes from here; notebooks and scripts never rebuild paths."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: The notebooks a report runs, in order; the last one is rendered as report.html.
NOTEBOOKS = ("01_evidence.ipynb", "02_comparison.ipynb")
REPORT_NOTEBOOK = NOTEBOOKS[-1]

#: Name of the Jupyter kernel `make setup` registers for the project's venv.
KERNEL_NAME = os.environ.get("LATENCY_GAP_KERNEL", "latency-gap")


def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The evidence folder: the argument, else $DATA_DIR, else data/ in the project."""
    return Path(value or os.environ.get("DATA_DIR") or PROJECT_ROOT / "data").resolve()


def reports_dir(value: str | os.PathLike | None = None) -> Path:
    """The output folder: the argument, else $REPORTS_DIR, else reports/ in the project."""
    return Path(value or os.environ.get("REPORTS_DIR") or PROJECT_ROOT / "reports").resolve()


def check_apart(data: Path, reports: Path) -> None:
    """The tool writes under REPORTS_DIR and never under DATA_DIR: neither may hold the other
    (`make clean` removes reports/, and evidence is never modified)."""
    from analysis.errors import ConfigError

    if data == reports or data in reports.parents or reports in data.parents:
        raise ConfigError(f"REPORTS_DIR {reports} and DATA_DIR {data} must be separate "
                          "folders, neither inside the other: the tool writes reports and "
                          "never touches evidence")


def service_reports(reports: Path, service: str) -> Path:
    """Where one service's published report lives."""
    return reports / service


def tables_dir(reports: Path, service: str) -> Path:
    """Tidy tables written by the evidence notebook, read by the comparison notebook."""
    return service_reports(reports, service) / "tables"
