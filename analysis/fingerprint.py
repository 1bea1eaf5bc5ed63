"""Evidence fingerprints: which bytes a report was made from.

A file's fingerprint is the SHA-256 of its content; a service's is the SHA-256 of the sorted
list of its files' relative paths and fingerprints, so renaming, adding, removing or editing
any file changes it. Reports show it in their footer and summary.json carries it, so a report
can be matched to its evidence, and a fleet run can tell a service whose evidence is unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def evidence_files(folder: Path) -> dict[str, str]:
    """{relative path: SHA-256} of every file under a service's evidence folder."""
    return {path.relative_to(folder).as_posix(): file_digest(path)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def combine(files: dict[str, str]) -> str:
    listing = "".join(f"{name}\0{digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(listing.encode()).hexdigest()


def evidence_fingerprint(folder: Path) -> str:
    """One SHA-256 for everything under a service's evidence folder."""
    return combine(evidence_files(folder))


def tool_fingerprint() -> str:
    """The tool's version and the SHA-256 of its code, notebooks and templates: a report made
    by a different tool (a new release, or a local edit in a checkout) is not reused."""
    from analysis import __version__, config

    package = Path(__file__).resolve().parent
    files = {f"analysis/{path.relative_to(package).as_posix()}": file_digest(path)
             for path in sorted(package.rglob("*"))
             if path.suffix in (".py", ".j2", ".json", ".css")}  # not __pycache__/*.pyc
    files.update({f"notebooks/{path.name}": file_digest(path)
                  for path in sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))})
    return f"{__version__}+{combine(files)[:16]}"
