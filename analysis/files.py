"""Reading a file the tool did not write: only regular files, inside their folder, bounded.

A FIFO named service.yaml hung every command, a resolv.conf linked to /dev/zero filled the
machine's memory, and a service.yaml linked to /etc/shadow had its entries printed. Every
small file (service.yaml, resolv.conf, dig and credential files) is read through here: the
path is resolved (a symlink loop is an error, not a traceback), must stay inside the folder
it belongs to, must be a regular file when opened (checked on the open descriptor, and opened
non-blocking so a FIFO cannot hang the check), and is read up to a size bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from analysis.errors import EvidenceError, LatencyGapError

_TYPES = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


def resolved(path: Path, error: type[LatencyGapError] = EvidenceError) -> Path:
    """The real path; a symbolic link loop or an unreadable link is an error naming the path."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: "Symlink loop" (Python < 3.13)
        raise _error(error, path, f"cannot be resolved: {_reason(exc)}") from None


def check_inside(path: Path, folder: Path, error: type[LatencyGapError] = EvidenceError) -> None:
    """A file that leads outside its folder (a link to /etc/shadow, say) is an error."""
    real, home = resolved(path, error), resolved(folder, error)
    if real != home and home not in real.parents:
        raise _error(error, path, f"leads to {real}, outside the service folder {home}; copy "
                     "the file in instead of linking it")


def not_regular(mode: int) -> str:
    """What to say of a path that is not a regular file."""
    found = _TYPES.get(stat.S_IFMT(mode), "something else")
    return f"expected a file, found {found}; copy the content in as a regular file"


def read_bounded(path: Path, limit: int, error: type[LatencyGapError] = EvidenceError,
                 what: str = "file of this kind") -> bytes:
    """The bytes of a regular file of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _error(error, path, f"cannot be read: {_reason(exc)}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _error(error, path, not_regular(mode))
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _error(error, path, f"is larger than {_size(limit)}: a {what} is at most "
                     f"{_size(limit)}; is this the right file?")
    return data


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit >> 10} KB"


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _error(error: type[LatencyGapError], path: Path, message: str) -> LatencyGapError:
    return error(path, message) if error is EvidenceError else error(f"{path}: {message}")
