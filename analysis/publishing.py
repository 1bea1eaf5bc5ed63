"""Where a report is built and how it moves into place, safe against crashes and other runs.

Each run builds in its own REPORTS_DIR/.staging/<service>-<id>/ while holding
.staging/<service>-<id>.lock; an entry whose lock nobody holds was left by a killed run and is
removed. reports/<service>/ is replaced in two renames (the old report aside, the new one in)
under the service's lock (REPORTS_DIR/.locks/<service>.lock), so two runs of one service never
race. A run killed between the renames leaves the old report in .<service>.old-<id>: the next
run of the service puts it back when the report is missing, and removes it otherwise. The
locks are flocks: the kernel releases them when their holder dies.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

STAGING = ".staging"
FAILED = ".failed"
LOCKS = ".locks"
LOCK_SUFFIX = ".lock"


class NotPublished(Exception):
    """The new report could not move in; `last_good` says where the last good report is."""

    def __init__(self, cause: OSError, last_good: str):
        super().__init__(str(cause))
        self.cause, self.last_good = cause, last_good


@contextmanager
def service_lock(reports: Path, service: str) -> Iterator[None]:
    """Hold the service's lock: one run at a time moves files in or out of its report."""
    folder = reports / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / f"{service}{LOCK_SUFFIX}"):
        yield


def leftovers(reports: Path, service: str) -> list[Path]:
    """Old reports a killed run left aside (.<service>.old-<id>), the last moved last."""
    pattern = re.compile(rf"\.{re.escape(service)}\.old-[0-9a-f]{{8}}")
    found = [p for p in reports.glob(f".{service}.old-*") if pattern.fullmatch(p.name)]
    return sorted(found, key=lambda p: p.lstat().st_ctime)  # a rename sets ctime


def _recover_locked(reports: Path, service: str) -> str | None:
    final, olds = reports / service, leftovers(reports, service)
    done = None
    if olds and not final.exists():
        restored = olds.pop()
        os.replace(restored, final)
        done = f"put back the last good report {final}, left in {restored.name} by a killed run"
    for old in olds:
        shutil.rmtree(old)
    if olds and not done:
        done = f"removed {len(olds)} old report(s) a killed run left beside {final}"
    return done


def recover(reports: Path, service: str) -> str | None:
    """Put back (or remove) what a run killed while publishing left; None when nothing."""
    if not leftovers(reports, service):
        return None
    with service_lock(reports, service):
        return _recover_locked(reports, service)


def publish(built: Path, reports: Path, service: str) -> Path:
    """Move a finished report into reports/<service>/, replacing the last one."""
    final = reports / service
    with service_lock(reports, service):
        _recover_locked(reports, service)
        old = reports / f".{service}.old-{uuid.uuid4().hex[:8]}"
        had_old = final.exists()
        if had_old:
            os.replace(final, old)
        try:
            os.replace(built, final)
        except OSError as exc:
            if not had_old:
                raise NotPublished(exc, "there was no earlier report") from None
            try:
                os.replace(old, final)
            except OSError:
                raise NotPublished(exc, f"the last good report is in {old}; the next run of "
                                   f"{service} puts it back") from None
            raise NotPublished(exc, f"the last good report was put back in {final}") from None
        shutil.rmtree(old, ignore_errors=True)  # a leftover is removed by the next run
    return final


def last_good(reports: Path, service: str) -> str:
    """Where the last good report is, for an error raised before publishing began."""
    final = reports / service
    if final.exists():
        return f"the last good report {final} was not touched"
    olds = leftovers(reports, service)
    if olds:
        return f"the last good report is in {olds[-1]}; the next run of {service} puts it back"
    return "there was no earlier report"


def keep_failed(built: Path, reports: Path, service: str) -> Path | None:
    """Move a failed run's files to .failed/<service>/; None when that fails too."""
    kept = reports / FAILED / service
    try:
        with service_lock(reports, service):
            shutil.rmtree(kept, ignore_errors=True)
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(built, kept)
    except OSError:
        return None
    return kept


def clean_stale(reports: Path) -> list[str]:
    """Remove .staging/ entries that no live run owns (nobody holds their lock)."""
    root, removed = reports / STAGING, []
    if not root.is_dir():
        return removed
    for entry in sorted(root.iterdir()):
        name = entry.name.removesuffix(LOCK_SUFFIX)
        lock_path = root / f"{name}{LOCK_SUFFIX}"
        if entry == lock_path and (root / name).exists():
            continue  # judged with its folder
        lock = FileLock(lock_path, timeout=0)
        try:
            lock.acquire()
        except (Timeout, OSError):
            continue  # a live run's (or not ours to judge)
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)  # what is left, the next run tries
            elif entry != lock_path:
                entry.unlink(missing_ok=True)
            lock_path.unlink(missing_ok=True)
            removed.append(name)
        except OSError:
            pass  # the next run tries again
        finally:
            lock.release()
    return removed


@contextmanager
def staging(reports: Path, service: str) -> Iterator[Path]:
    """A new folder under .staging/, owned by this run (its lock held) until the block ends."""
    root = reports / STAGING
    root.mkdir(parents=True, exist_ok=True)
    name = f"{service}-{uuid.uuid4().hex[:8]}"
    lock = FileLock(root / f"{name}{LOCK_SUFFIX}", timeout=0)
    lock.acquire()  # before the folder exists: a folder is never seen without its owner
    folder = root / name
    try:
        folder.mkdir()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        (root / f"{name}{LOCK_SUFFIX}").unlink(missing_ok=True)
        lock.release()
