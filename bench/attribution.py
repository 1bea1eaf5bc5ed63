"""Benchmark: gap intervals and the Shapley decomposition on 10M requests per environment.

95% intervals must stay fast on 10M rows (README, "Speed"); this prints the seconds each step
takes on synthetic latencies (lognormal baseline; the candidate pays 86 ms on every request
and a 150 ms DNS miss on 6% of them).
"""

from __future__ import annotations

import time

import numpy as np

from analysis.attribution import MONTE_CARLO_N, attribute
from analysis.stats import SEED, gap_intervals

ROWS = 10_000_000


def main() -> None:
    rng = np.random.default_rng(SEED)
    baseline = rng.lognormal(np.log(20), 0.2, ROWS)
    candidate = rng.lognormal(np.log(20), 0.2, ROWS) + 86 + (rng.random(ROWS) < 0.06) * 150
    started = time.perf_counter()
    gap = gap_intervals(baseline, candidate)
    intervals_s = time.perf_counter() - started
    overheads = {"credential_refresh": np.full(MONTE_CARLO_N, 86.0),
                 "dns": (rng.random(MONTE_CARLO_N) < 0.06) * 150.0}
    started = time.perf_counter()
    parts, _ = attribute(baseline, overheads, gap, rng)
    attribute_s = time.perf_counter() - started
    print(f"attribution on {ROWS:,} rows per environment: gap intervals {intervals_s:.2f} s, "
          f"Shapley decomposition {attribute_s:.2f} s; p50 gap {gap['p50']['value']} ms "
          f"{gap['p50']['ci95']}, p50 credential refresh {parts['p50']['credential_refresh']} ms")


if __name__ == "__main__":
    main()
