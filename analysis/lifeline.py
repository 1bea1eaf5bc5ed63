"""Processes the tool starts die with it, even when it is SIGKILLed.

A process-pool worker whose parent is gone waits on its call queue forever: it holds the
queue's write end itself, so it never sees end-of-file. A Jupyter kernel polls its parent
(ipykernel's ParentPollerUnix), but one whose parent died while it was starting takes its new
parent for the original one and lives on wherever orphans go to a subreaper (systemd --user,
container inits). On Linux both get PR_SET_PDEATHSIG; elsewhere a worker polls for its parent.
The multiprocessing resource tracker exits when the last process holding its pipe does.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

#: <linux/prctl.h>
PR_SET_PDEATHSIG = 1
#: how often a worker without PR_SET_PDEATHSIG (not Linux) looks for its parent, in seconds
POLL_S = 1.0


def _prctl() -> Callable | None:
    """libc's prctl on Linux, resolved before any fork (a child only calls it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as `parent` (the fleet process) is gone."""
    # The death signal fires when the *thread* that started the worker ends: the pool is fed
    # only from fleet's thread, which outlives it.
    prctl = _prctl()
    if prctl and prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
        if os.getppid() != parent:  # it died before the signal was armed
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent,), daemon=True, name="lifeline").start()


def child_options() -> dict:
    """Popen options for a child (a kernel) SIGKILLed when this process dies (Linux)."""
    prctl, parent, kill = _prctl(), os.getpid(), int(signal.SIGKILL)
    if prctl is None:
        return {}

    def arm() -> None:  # runs in the child between fork and exec: no imports, no locks
        prctl(PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return {"preexec_fn": arm}
