"""Benchmark: a fleet of 24 simulated services with --jobs 1 and --jobs 2.

The services cycle through the three examples with their own seeds (`latency-gap simulate
--fleet 24`). Each run is the real command with --force, from a fresh process, into its own
reports folder; the wall times and the speedup are printed. Target: speedup >= 1.7 on 2 cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "fleet"
SERVICES = 24
BIN = Path(sys.executable).parent


def run(jobs: int) -> float:
    reports = OUT / f"reports-jobs{jobs}"
    shutil.rmtree(reports, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([str(BIN / "latency-gap"), "fleet", "--data-dir", str(OUT / "data"),
                    "--reports-dir", str(reports), "--jobs", str(jobs), "--force"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    shutil.rmtree(OUT / "data", ignore_errors=True)
    subprocess.run([str(BIN / "latency-gap"), "simulate", "--fleet", str(SERVICES), "--out",
                    str(OUT / "data")], check=True, stderr=subprocess.DEVNULL)
    one, two = run(1), run(2)
    print(f"fleet: {SERVICES} services, --jobs 1 {one:.1f} s ({one / SERVICES:.2f} s/service), "
          f"--jobs 2 {two:.1f} s; speedup {one / two:.2f} (target >= 1.7)")


if __name__ == "__main__":
    main()
