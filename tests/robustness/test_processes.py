"""`kill -9` of a fleet run leaves nothing behind: its pool workers, the multiprocessing
resource tracker and the Jupyter kernels the workers started all end with it."""

import json
import shutil
import subprocess
import sys

import pytest

from analysis import config
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY

#: Runs the fleet as a child of a subreaper, so every descendant it leaves (workers, kernels,
#: the resource tracker) is re-parented here instead of to init and can be counted; waits for
#: a kernel to start, SIGKILLs the fleet, then reaps for up to SURVIVE_S seconds. Whatever is
#: still alive then is reported, and killed so the test leaks nothing.
HARNESS = r"""
import ctypes, json, os, subprocess, sys, time
import psutil

SURVIVE_S = 30
ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
fleet = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
me = psutil.Process()

def descendants():
    found = []
    for process in me.children(recursive=True):
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                found.append((process, " ".join(process.cmdline())))
        except psutil.Error:
            pass
    return found

deadline, kernels = time.monotonic() + 180, []
while time.monotonic() < deadline and not kernels and fleet.poll() is None:
    kernels = [c for _, c in descendants() if "ipykernel" in c]
    time.sleep(0.2)
before = [c for _, c in descendants()]
fleet.kill()
fleet.wait()
deadline = time.monotonic() + SURVIVE_S
while time.monotonic() < deadline:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:  # no child left, zombie or alive
        break
    time.sleep(0.2)
survivors = descendants()
for process, _ in survivors:
    process.kill()
print(json.dumps({"kernels": kernels, "before": before, "survivors": [c for _, c in survivors]}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux subreaper counts them")
def test_kill_9_of_a_fleet_run_leaves_no_process_behind(tmp_path):
    data = tmp_path / "data"
    for name in ("search-api", "payments-api"):
        shutil.copytree(EXAMPLES / name, data / name)
    fleet = [sys.executable, "-m", "analysis.cli", "fleet", "--jobs", "2", "--data-dir",
             str(data), "--reports-dir", str(tmp_path / "reports")]
    run = subprocess.run([sys.executable, "-c", HARNESS, *fleet], cwd=config.PROJECT_ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["kernels"], f"no kernel started before the kill: {seen['before']}"
    assert any("multiprocessing" in c for c in seen["before"]), seen["before"]  # workers
    assert seen["survivors"] == [], "still alive after the fleet was SIGKILLed"
    TALLY["faults"] += 1
