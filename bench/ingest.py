"""Benchmark: ingest a 5M-line realistic ingress-nginx log through the project's real paths.

The log (bench/nginx_log.py) is shaped on published ingress-nginx samples: ~250-byte lines,
long user agents with spaces, query strings, IPv6 clients, retries ("a, b") and internal
redirects ("a : b"), 499/502/504, no upstream (`- - - -`). Printed, each in a fresh process:
- the parse path (detection, checks, typed columns, line accounting): lines/s, peak RSS;
- where its time goes, step by step (reading and splitting, UTF-8, field checks, timestamps,
  numbers, plausibility, irregular lines and line accounting);
- DuckDB's CSV reader splitting the same file on spaces and counting rows: a floor;
- whole-process `latency-gap inspect FILE` against GoAccess on the same file, run in turn
  (A B A B ...) so both see the same machine; the ratio is taken pair by pair. GoAccess is
  Debian's `goaccess`, installed when missing and running as root, else skipped (said so).
With `--baseline REV` the parse and inspect of the project at git revision REV (its
`analysis/`, unpacked by `git archive` into bench/out/) run in turn with this code's, so a
shared machine's load falls on both alike: ratios new/old are printed pair by pair.
Targets (README, "Speed"): parse >= 2M lines/s; inspect >= 15x GoAccess; peak RSS < 1 GB for
5M lines and < 1.5 GB for 20M lines (`--big`, measured once).
Generated logs live in bench/out/ (git-ignored) and are reused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nginx_log import generate  # noqa: E402 - the bench folder is no package

OUT = Path(__file__).resolve().parent / "out"
BIN = Path(sys.executable).parent
TARGET_LINES_PER_S = 2.0e6
TARGET_GOACCESS_RATIO = 15
TARGET_RSS_MB = 1024
BIG_LINES, TARGET_BIG_RSS_MB = 20_000_000, 1536
#: ingress-nginx's default log-format-upstream in GoAccess's terms; the trailing fields
#: (upstream lists) are skipped, as a GoAccess user would
GOACCESS_FORMAT = '%h - %e [%d:%t %^] "%r" %s %b "%R" "%u" %^ %T [%^] [%^] %^'

MEASURE = """
import json, resource, sys, time
if len(sys.argv) > 2:  # another revision's analysis/ (--baseline), ahead of this one
    sys.path.insert(0, sys.argv[2])
from pathlib import Path
from analysis.ingest import registry, rows
path = Path(sys.argv[1])
started = time.perf_counter()
fmt = registry.detect("latency", path)
parsed = fmt.parse(path)
rows.check_rejected_share(path, fmt.name, parsed)
seconds = time.perf_counter() - started
print(json.dumps({"format": fmt.name, "lines": parsed.lines, "rows": len(parsed.table),
                  "rejected": len(parsed.rejected), "seconds": seconds,
                  "cpu": time.process_time(),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: the parse path's steps, each timed alone on the whole file (same calls as field_format.py)
PROFILE = """
import json, sys, time
from pathlib import Path
import numpy as np, pyarrow as pa, pyarrow.compute as pc
from analysis.ingest import field_format as ff, reading
from analysis.ingest.ingress_nginx import IngressNginx, gave_up
from analysis.ingest.latency import parse_split_times
from analysis.ingest.plausible import latency_problems
path, fmt, steps = Path(sys.argv[1]), IngressNginx(), {}
include = sorted(fmt.fields)
def timed(name, fn):
    started = time.perf_counter(); value = fn(); steps[name] = time.perf_counter() - started
    return value
timed("newline count (beside the reader)", lambda: reading.count_lines(path))
odd = []
def aside(row):
    odd.append((row.number, row.text)); return "skip"
batches = timed("reading and splitting (pyarrow CSV)", lambda: [
    {i: b.column(f"f{i}") for i in include}
    for b in ff._open_fields(reading.arrow_stream(path), fmt.field_count, include, aside)])
timed("UTF-8 check", lambda: [c.cast(pa.binary()).cast(pa.string()) for b in batches
                              for c in b.values()])
timed("field checks", lambda: [fmt._check(b) for b in batches])
timed("timestamp parsing", lambda: [parse_split_times(b[3], b[4], "[%d/%b/%Y:%H:%M:%S %z]")
                                     for b in batches])
timed("number parsing (latency, total, status, gave up)", lambda: [(
    pc.cast(pc.if_else(pc.not_equal(b[16], "-"), b[16], pa.scalar(None, pa.string())),
            pa.float64()), pc.cast(b[11], pa.float64()), pc.cast(b[6], pa.int16()),
    gave_up(b[17])) for b in batches])
typed = [fmt.typed(b) for b in batches]
timed("plausibility", lambda: [latency_problems(t) for t in typed])
timed(f"irregular lines ({len(odd)}) by regex, in chunks", lambda: [
    fmt._irregular(path, odd[i:i + ff.IRREGULAR_CHUNK])
    for i in range(0, len(odd), ff.IRREGULAR_CHUNK)])
print(json.dumps(steps))
"""

DUCKDB_FLOOR = """
import sys, time, duckdb
started = time.perf_counter()
path = sys.argv[1].replace("'", "''")
duckdb.sql("SET enable_progress_bar = false")
rows = duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', delim=' ', quote='\\"', "
                  "escape='', header=false, all_varchar=true, ignore_errors=true)").fetchall()[0][0]
print(rows, time.perf_counter() - started)
"""


def _python(script: str, *args: str) -> str:
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, check=True).stdout


def measure(path: Path, code: Path | None = None) -> dict:
    return json.loads(_python(MEASURE, str(path), *([str(code)] if code else [])))


def baseline_code(revision: str) -> Path:
    """The `analysis/` package of git revision `revision`, unpacked into bench/out/."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", revision],
                            capture_output=True, text=True, check=True).stdout.strip()
    folder = OUT / f"baseline-{commit}"
    if not (folder / "analysis").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(repo), "archive", commit, "analysis"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _inspect_command(code: Path | None) -> list[str]:
    if code is None:
        return [str(BIN / "latency-gap"), "inspect"]
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(code)!r}); "
            "from analysis.cli import main; sys.exit(main())", "inspect"]


def ensure_goaccess() -> str | None:
    """GoAccess from Debian, installed when missing and we may (root), as
    scripts/ensure-test-tools.sh installs the test programs."""
    if exe := shutil.which("goaccess"):
        return exe
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("goaccess: not installed and not root: 'sudo apt-get install -y goaccess' "
              "for the comparison - skipped")
        return None
    print("goaccess: installing Debian's package...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "goaccess"], env=env,
                   capture_output=True, check=False)
    exe = shutil.which("goaccess")
    if not exe:
        print("goaccess: could not be installed - comparison skipped")
    return exe


def _wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def inspect_vs_goaccess(path: Path, runs: int, baseline: Path | None = None) -> None:
    inspect = [*_inspect_command(None), str(path)]
    before = [*_inspect_command(baseline), str(path)] if baseline else None
    tiny = OUT / "ingress-nginx-3-lines.log"  # start-up: imports, detection, the summary
    with open(path, "rb") as log:
        tiny.write_bytes(b"".join(log.readline() for _ in range(3)))
    startup = statistics.median(_wall([*inspect[:-1], str(tiny)]) for _ in range(3))
    exe = ensure_goaccess()
    goaccess = [exe, str(path), "--log-format", GOACCESS_FORMAT, "--date-format", "%d/%b/%Y",
                "--time-format", "%T", "--no-global-config", "-o",
                str(OUT / "goaccess.json")] if exe else None
    ours, theirs, old = [], [], []
    for _ in range(runs):  # in turn, so all see the same machine
        ours.append(_wall(inspect))
        if before:
            old.append(_wall(before))
        if goaccess:
            theirs.append(_wall(goaccess))
    median = statistics.median(ours)
    print(f"latency-gap inspect (whole process): {median:.2f} s (median of {runs}: "
          f"{', '.join(f'{s:.2f}' for s in ours)}), of which start-up (inspect of 3 lines) "
          f"{startup:.2f} s")
    if old:
        ratios = [o / b for o, b in zip(ours, old, strict=True)]
        print(f"  baseline {baseline.name} inspect: {statistics.median(old):.2f} s "
              f"({', '.join(f'{s:.2f}' for s in old)}); new/old {statistics.median(ratios):.2f}"
              f" (pair by pair: {', '.join(f'{r:.2f}' for r in ratios)})")
        if theirs:
            ratio = statistics.median(g / b for b, g in zip(old, theirs, strict=True))
            print(f"  baseline inspect vs goaccess: {ratio:.1f}x (median pair by pair)")
    if theirs:
        ratios = [g / o for o, g in zip(ours, theirs, strict=True)]
        print(f"goaccess on the same file: {statistics.median(theirs):.1f} s "
              f"({', '.join(f'{s:.1f}' for s in theirs)}); latency-gap inspect is "
              f"{statistics.median(ratios):.1f}x faster (pair by pair: "
              f"{', '.join(f'{r:.1f}' for r in ratios)}; target >= {TARGET_GOACCESS_RATIO}x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", metavar="REV",
                        help="also run git revision REV's parse and inspect, in turn with these")
    parser.add_argument("--big", action="store_true",
                        help=f"also the {BIG_LINES // 1_000_000}M-line memory check (5 GB log)")
    args = parser.parse_args()
    path = OUT / f"ingress-nginx-realistic-{args.lines}.log"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.lines)
        print(f"generated {path} ({path.stat().st_size / 2**20:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s")
    print(f"machine load (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    baseline = baseline_code(args.baseline) if args.baseline else None
    runs, old = [], []
    for _ in range(args.runs):  # shared machines are noisy: the median; in turn with baseline
        runs.append(measure(path))
        if baseline:
            old.append(measure(path, baseline))
    result = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    rate = result["lines"] / result["seconds"]
    peak = max(r["peak_rss_mb"] for r in runs)
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"parse {result['format']}: {result['lines']:,} lines in {result['seconds']:.2f} s "
          f"(median of {len(runs)}: {each}) = "
          f"{rate / 1e6:.2f}M lines/s (target >= {TARGET_LINES_PER_S / 1e6:.1f}M); peak RSS "
          f"{peak:.0f} MB (target < {TARGET_RSS_MB} MB); rejected {result['rejected']}; cpu "
          f"{statistics.median(r['cpu'] for r in runs):.2f} s")
    if old:
        walls = [n["seconds"] / o["seconds"] for n, o in zip(runs, old, strict=True)]
        cpus = [n["cpu"] / o["cpu"] for n, o in zip(runs, old, strict=True)]
        old_each = ", ".join(f"{o['seconds']:.2f}" for o in old)
        print(f"  baseline {baseline.name}: {statistics.median(o['seconds'] for o in old):.2f} s "
              f"({old_each}), cpu "
              f"{statistics.median(o['cpu'] for o in old):.2f} s, peak RSS "
              f"{max(o['peak_rss_mb'] for o in old):.0f} MB; new/old wall "
              f"{statistics.median(walls):.2f} ({', '.join(f'{w:.2f}' for w in walls)}), cpu "
              f"{statistics.median(cpus):.2f} ({', '.join(f'{c:.2f}' for c in cpus)})")
    steps = json.loads(_python(PROFILE, str(path)))
    print("where the time goes (each step alone, one thread, whole file):")
    for name, seconds in steps.items():
        print(f"  {name:50s} {seconds:6.2f} s")
    rows, seconds = _python(DUCKDB_FLOOR, str(path)).split()[-2:]
    print(f"duckdb read_csv (split on spaces, count rows; its own threads): {int(rows):,} rows "
          f"in {float(seconds):.2f} s = {int(rows) / float(seconds) / 1e6:.2f}M lines/s "
          "(floor to compare with)")
    inspect_vs_goaccess(path, args.runs, baseline)
    ok = rate >= TARGET_LINES_PER_S and peak < TARGET_RSS_MB
    if args.big:
        big = OUT / f"ingress-nginx-realistic-{BIG_LINES}.log"
        if not big.exists():
            generate(big, BIG_LINES)
        large = measure(big)
        print(f"parse {large['format']}: {large['lines']:,} lines in {large['seconds']:.1f} s, "
              f"peak RSS {large['peak_rss_mb']:.0f} MB (target < {TARGET_BIG_RSS_MB} MB); "
              f"rejected {large['rejected']}")
        ok = ok and large["peak_rss_mb"] < TARGET_BIG_RSS_MB
    print(f"machine load (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("ingest bench:", "PASS" if ok else "BELOW TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
