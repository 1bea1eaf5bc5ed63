"""Benchmark: a fleet of simulated services: the speedup of --jobs 2 over --jobs 1, the wall
time of 100 services, and an unchanged rerun of them.

The services cycle through the three examples with their own seeds (`latency-gap simulate
--fleet 100`). Each run is the real command, from a fresh process. The speedup is measured on
the first SPEEDUP services with --force, each job count into its own reports folder; then all
SERVICES are run with --jobs 2 into a fresh folder, and again with nothing changed (the skip
decision from the evidence fingerprints: no parse, no worker). Targets (issue 17): speedup
>= 1.7 on 2 cores; the unchanged rerun of 100 services < 5 s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "fleet"
SERVICES, SPEEDUP = 100, 24
BIN = Path(sys.executable).parent


def run(reports: Path, jobs: int, *extra: str, fresh: bool = True) -> float:
    if fresh:
        shutil.rmtree(reports, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([str(BIN / "latency-gap"), "fleet", "--data-dir", str(OUT / "data"),
                    "--reports-dir", str(reports), "--jobs", str(jobs), *extra],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    shutil.rmtree(OUT / "data", ignore_errors=True)
    subprocess.run([str(BIN / "latency-gap"), "simulate", "--fleet", str(SERVICES), "--out",
                    str(OUT / "data")], check=True, stderr=subprocess.DEVNULL)
    first = ",".join(sorted(p.name for p in (OUT / "data").iterdir())[:SPEEDUP])
    one = run(OUT / "reports-jobs1", 1, "--force", "--services", first)
    two = run(OUT / "reports-jobs2", 2, "--force", "--services", first)
    print(f"fleet: {SPEEDUP} services, --jobs 1 {one:.1f} s ({one / SPEEDUP:.2f} s/service), "
          f"--jobs 2 {two:.1f} s; speedup {one / two:.2f} (target >= 1.7)")
    whole = run(OUT / "reports-all", 2)
    again = run(OUT / "reports-all", 2, fresh=False)
    print(f"fleet: {SERVICES} services, --jobs 2 {whole:.1f} s ({whole / SERVICES:.2f} "
          f"s/service); unchanged rerun {again:.2f} s (target < 5 s)")


if __name__ == "__main__":
    main()
