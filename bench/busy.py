"""Benchmark: a busy service. `make report` on 2M requests per environment beside
`latency-gap inspect` of both latency logs, with the peak memory of everything the report
runs (the pipeline and the notebook kernel, summed while they run); `--requests 10000000`
checks that a day of a busy service completes.

The service is search-api (data/search-api: service.yaml, dig, credentials, resolv.conf) with
its latency logs replaced by generated ones of the same formats and hour: a gzipped ALB log on
EC2, an ingress-nginx log on Kubernetes, the candidate paying search-api's credential refresh
and DNS misses. Generated vectorised (numpy, pyarrow) into bench/out/busy/ (git-ignored) once
and reused. Targets (issue 17): report <= 3x inspect; peak RSS < 1.2 GB at 2M per environment;
10M per environment completes under 4 GB.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "busy"
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "data" / "search-api"
START = np.datetime64("2026-11-24T10:00:00", "us")
HOUR_US = 3600 * 10**6
CHUNK = 500_000


def _text(values) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _seconds(ms: np.ndarray) -> pa.Array:
    """Milliseconds as the logs print seconds: 0.021"""
    ms = ms.astype(np.int64)
    return pc.binary_join_element_wise(_text(ms // 1000),
                                       pc.utf8_lpad(_text(ms % 1000), 3, "0"), ".")


def _write_lines(handle, lines: pa.Array) -> None:
    """One pyarrow string array as lines, without a Python string per line."""
    joined = pc.binary_join_element_wise(lines, "", "\n").combine_chunks() \
        if isinstance(lines, pa.ChunkedArray) else pc.binary_join_element_wise(lines, "", "\n")
    offsets = np.frombuffer(joined.buffers()[1], np.int32, len(joined) + 1, joined.offset * 4)
    handle.write(memoryview(joined.buffers()[2])[offsets[0]:offsets[-1]])


def _requests(rng: np.random.Generator, n: int, candidate: bool) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times (µs since START, sorted) and backend times (ms): search-api's 20 ms
    baseline; the candidate adds two metadata calls per request (credential refresh) and,
    on one request in 50, a DNS search-list walk (3 local names and 2 forwarded)."""
    arrivals = np.sort(rng.integers(0, HOUR_US, n))
    backend = 20.0 * np.exp(rng.normal(0.0, 0.18, n))
    if candidate:
        backend += 42.0 * np.exp(rng.normal(0.0, 0.25, n)) + 42.0 * np.exp(rng.normal(0, 0.25, n))
        miss = rng.random(n) < 0.02
        backend += miss * (rng.uniform(20, 45, n) + rng.uniform(20, 45, n)
                           + rng.uniform(0.5, 1.5, n) * 3)
    return arrivals, np.maximum(np.round(backend), 1)


def _alb(index: np.ndarray, arrivals: np.ndarray, backend: np.ndarray, rng) -> pa.Array:
    start = pa.array((START + arrivals.astype("timedelta64[us]")).astype("datetime64[s]"))
    end = pa.array((START + (arrivals + ((backend + 4) * 1000).astype(np.int64))
                    .astype("timedelta64[us]")).astype("datetime64[s]"))
    fmt = "%Y-%m-%dT%H:%M:%S"
    stamp = [pc.binary_join_element_wise(pc.strftime(t, format=fmt),
                                         pc.utf8_lpad(_text(v.astype(np.int64) % 10**6), 6, "0"),
                                         ".") for t, v in ((end, arrivals + (backend + 4) * 1000),
                                                           (start, arrivals))]
    status = np.where(rng.random(len(index)) < 0.01, 502, 200)
    ident = _text(index)
    return pc.binary_join_element_wise(
        "https", pc.binary_join_element_wise(stamp[0], "Z", ""),
        "app/search-api/50dc6c495c0c9188",
        pc.binary_join_element_wise("203.0.113.", _text(index % 250 + 1), ":",
                                    _text(40000 + index % 20000), ""),
        "10.0.1.17:8080 0.002", _seconds(backend), "0.002", _text(status), _text(status),
        "312", _text(rng.integers(300, 4000, len(index))),
        pc.binary_join_element_wise(
            '"GET https://search-api.example.com:443/v1/items?id=', ident,
            ' HTTP/1.1" "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/search-api/"
            '6d0ecf831eec9f09 "Root=1-6743', pc.utf8_lpad(ident, 8, "0"),
            '-36d228ad5d99923122bbe354" "search-api.example.com" "-" 0 ', stamp[1],
            'Z "forward" "-" "-" "10.0.1.17:8080" "', _text(status), '" "-" "-" TID_',
            pc.utf8_lpad(ident, 32, "0"), ""),
        " ")


def _nginx(index: np.ndarray, arrivals: np.ndarray, backend: np.ndarray, rng) -> pa.Array:
    end = pa.array((START + (arrivals + ((backend + 2) * 1000).astype(np.int64))
                    .astype("timedelta64[us]")).astype("datetime64[s]"))
    status = np.where(rng.random(len(index)) < 0.01, 504, 200)
    size = _text(rng.integers(300, 4000, len(index)))
    return pc.binary_join_element_wise(
        pc.binary_join_element_wise("10.0.3.", _text(index % 250 + 1), ""), "- -",
        pc.strftime(end, format="[%d/%b/%Y:%H:%M:%S +0000]"),
        pc.binary_join_element_wise('"GET /v1/items?id=', _text(index), ' HTTP/1.1"', ""),
        _text(status), size, '"-" "okhttp/4.12.0" 312', _seconds(backend + 2),
        "[search-api-search-api-8080] [] 10.1.22.7:8080", size, _seconds(backend),
        _text(status), pc.utf8_lpad(_text(index), 32, "0"), " ")


def generate(requests: int) -> Path:
    """bench/out/busy/<n>/search-api: search-api with `requests` per environment."""
    folder = OUT / str(requests) / "search-api"
    if (folder / ".complete").is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("*.log", "*.log.gz"))
    for env, candidate in (("ec2", False), ("k8s", True)):
        rng = np.random.default_rng(17 + candidate)
        arrivals, backend = _requests(rng, requests, candidate)
        target = folder / env / "latency" / ("alb.log.gz" if env == "ec2" else "ingress-nginx.log")
        opened = gzip.open(target, "wb", compresslevel=1) if env == "ec2" else open(target, "wb")
        with opened as handle:
            for at in range(0, requests, CHUNK):
                part = slice(at, min(at + CHUNK, requests))
                index = np.arange(part.start, part.stop)
                line = (_alb if env == "ec2" else _nginx)(index, arrivals[part], backend[part], rng)
                _write_lines(handle, line)
    (folder / ".complete").touch()
    return folder


def watched(command: list[str], cwd: Path = ROOT, codes=(0,)) -> tuple[float, float]:
    """Run a command; its wall seconds and the peak of the summed RSS of its process tree
    (the pipeline and the kernel it starts), sampled every 50 ms."""
    peak = [0]
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def poll() -> None:
        while process.poll() is None:
            try:
                tree = [process, *process.children(recursive=True)]
                total = 0
                for member in tree:
                    try:
                        total += member.memory_info().rss
                    except psutil.Error:
                        pass
                peak[0] = max(peak[0], total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, err = process.communicate()
    took = time.perf_counter() - started
    watcher.join()
    if process.returncode not in codes:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{err.decode()[-2000:]}")
    return took, peak[0] / 2**20


def measure(requests: int, runs: int) -> None:
    folder = generate(requests)
    logs = sorted(folder.glob("*/latency/*"))
    reports = OUT / "reports" / str(requests)
    reports.parent.mkdir(parents=True, exist_ok=True)
    inspect = [[str(BIN / "latency-gap"), "inspect", str(log)] for log in logs]
    report = ["make", "--no-print-directory", "report", "SERVICE=search-api",
              f"DATA_DIR={folder.parent}", f"REPORTS_DIR={reports}"]
    verdict = [str(BIN / "latency-gap"), "verdict", "search-api", "--data-dir",
               str(folder.parent), "--json"]
    rows = {"inspect": [], "verdict": [], "report": []}
    for _ in range(runs):  # in turn, so a drift of the machine's speed touches all three
        rows["inspect"].append(sum(watched(c)[0] for c in inspect))
        rows["verdict"].append(watched(verdict, codes=(0, 2)))
        rows["report"].append(watched(report))
    inspect_s = statistics.median(rows["inspect"])
    verdict_s = statistics.median(t for t, _ in rows["verdict"])
    report_s = statistics.median(t for t, _ in rows["report"])
    peak = max(m for _, m in rows["report"])
    print(f"busy service, {requests:,} requests per environment ({runs} runs, medians):")
    print(f"  inspect both logs {inspect_s:.2f} s (runs "
          f"{', '.join(f'{x:.2f}' for x in rows['inspect'])})")
    print(f"  verdict {verdict_s:.2f} s, peak RSS "
          f"{max(m for _, m in rows['verdict']):.0f} MB")
    print(f"  report {report_s:.2f} s (runs {', '.join(f'{t:.2f}' for t, _ in rows['report'])})"
          f", peak RSS of pipeline + kernel {peak:.0f} MB")
    print(f"  report / inspect {report_s / inspect_s:.2f} (target <= 3); "
          f"peak {peak / 1024:.2f} GB (target < {1.2 if requests <= 2_000_000 else 4} GB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000_000,
                        help="requests per environment (default 2M)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    measure(args.requests, args.runs)


if __name__ == "__main__":
    main()
