"""Every path the tool uses comes from here; notebooks and scripts never rebuild paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: The notebooks a report runs, in order; the last one is rendered as report.html.
NOTEBOOKS = ("01_evidence.ipynb", "02_comparison.ipynb")
REPORT_NOTEBOOK = NOTEBOOKS[-1]

#: Name of the Jupyter kernel `make setup` registers for the project's venv.
KERNEL_NAME = os.environ.get("LATENCY_GAP_KERNEL", "latency-gap")


def _resolve(value: str | os.PathLike, name: str) -> Path:
    """The real path of a folder setting; a symbolic link loop is an error naming it."""
    from analysis.errors import ConfigError

    try:
        return Path(value).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: "Symlink loop" (Python < 3.13)
        raise ConfigError(f"{name} {value}: cannot be resolved ({exc})") from None


def data_dir(value: str | os.PathLike | None = None) -> Path:
    """The evidence folder: the argument, else $DATA_DIR, else data/ in the project."""
    return _resolve(value or os.environ.get("DATA_DIR") or PROJECT_ROOT / "data", "DATA_DIR")


def reports_dir(value: str | os.PathLike | None = None) -> Path:
    """The output folder: the argument, else $REPORTS_DIR, else reports/ in the project."""
    return _resolve(value or os.environ.get("REPORTS_DIR") or PROJECT_ROOT / "reports",
                    "REPORTS_DIR")


def check_apart(data: Path, reports: Path) -> None:
    """The tool writes under REPORTS_DIR and never under DATA_DIR: neither may hold the other
    (`make clean` removes reports/, and evidence is never modified)."""
    from analysis.errors import ConfigError

    if data == reports or data in reports.parents or reports in data.parents:
        raise ConfigError(f"REPORTS_DIR {reports} and DATA_DIR {data} must be separate "
                          "folders, neither inside the other: the tool writes reports and "
                          "never touches evidence")


#: what the tool writes directly under REPORTS_DIR besides one folder per service
WRITTEN = (".staging", ".failed", "index.html", "fleet.json", "history.duckdb")


def prepare_reports(data: Path, reports: Path, *names: str) -> None:
    """Make sure the tool can write under REPORTS_DIR and that nothing it writes there can
    land under DATA_DIR, whatever links exist (a `.failed` linked into the evidence once
    received a failed run): a one-line error naming the path, never a traceback."""
    from analysis.errors import ConfigError
    from analysis.files import resolved

    check_apart(data, reports)
    if reports.exists() and not reports.is_dir():
        raise ConfigError(f"REPORTS_DIR {reports} is a file; expected a folder")
    if not reports.parent.is_dir():
        raise ConfigError(f"REPORTS_DIR {reports}: its parent folder {reports.parent} does not "
                          "exist; create it or choose another REPORTS_DIR")
    try:
        reports.mkdir(exist_ok=True)
        tempfile.TemporaryFile(dir=reports).close()
    except OSError as exc:
        raise ConfigError(f"REPORTS_DIR {reports}: cannot write there "
                          f"({exc.strerror or exc})") from None
    for name in (*WRITTEN, *names):
        target = resolved(reports / name, ConfigError)
        if target == data or data in target.parents:
            raise ConfigError(f"{reports / name} leads to {target}, inside DATA_DIR {data}: "
                              "the tool never writes evidence; remove that link")


def service_reports(reports: Path, service: str) -> Path:
    """Where one service's published report lives."""
    return reports / service

