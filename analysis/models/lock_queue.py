"""Requests queueing on an SDK's credential lock while every call refreshes (a storm).

aws-sdk-java v1's BaseCredentialsFetcher.fetchCredentials is `synchronized` and re-checks
needsToLoadCredentials inside the lock; with credentials inside the 15-min threshold that is
still true, so concurrent request threads fetch one after another (aws/aws-sdk-java issue
2302). During a storm the lock is a single server: requests arrive at the request rate
(Poisson) and each holds it for one fetch, S. That is an M/D/1 queue (M/G/1 with measured,
varying fetch times).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy only for sample_wait: preflight's LockQueue needs none
    import numpy as np

    from analysis.models.credentials import RefreshEstimate

#: A saturated queue grows without bound; its cost is reported after this much load, as
#: the mean wait of the requests that arrived in it.
SATURATED_HORIZON_S = 60.0


@dataclass(frozen=True)
class LockQueue:
    """One lock served in `fetch_ms`, with requests arriving at `rate_per_s`."""

    rate_per_s: float
    fetch_ms: float

    @property
    def rho(self) -> float:
        return self.rate_per_s * self.fetch_ms / 1000.0

    @property
    def saturated(self) -> bool:
        return self.rho >= 1.0

    @property
    def capacity_per_s(self) -> float:
        return 1000.0 / self.fetch_ms if self.fetch_ms > 0 else math.inf

    def mean_wait_ms(self) -> float:
        """Pollaczek-Khinchine mean wait for M/D/1: Wq = lambda S^2 / (2 (1 - rho)).

        Kleinrock, Queueing Systems vol. 1 (1975), eq. 5.73 with E[S^2] = S^2. Saturated: the
        mean wait of the requests arriving in the first SATURATED_HORIZON_S seconds (the wait
        grows by (rho - 1) seconds each second, so half of that over the horizon).
        """
        if self.saturated:
            return (self.rho - 1.0) * SATURATED_HORIZON_S / 2 * 1000.0
        s = self.fetch_ms / 1000.0
        return self.rate_per_s * s * s / (2 * (1 - self.rho)) * 1000.0

    def wait_quantile_ms(self, q: float = 0.99) -> float:
        """The q-quantile of the wait: the Cramer-Lundberg tail P(W > t) ~ C exp(-theta t).

        For M/G/1, theta solves lambda (E[exp(theta S)] - 1) = theta and
        C = (1 - rho) / (lambda E[S exp(theta S)] - 1) (Asmussen, Applied Probability and
        Queues, 2nd ed. 2003, XIII.5); with a deterministic S both are closed forms. P(W > 0)
        = rho, so a quantile below 1 - rho is no wait. Checked against the simulator's
        discrete-event lock (tests/models/test_lock_queue.py).
        """
        if self.saturated:
            return math.inf
        if self.rho <= 1.0 - q:
            return 0.0
        lam, s = self.rate_per_s, self.fetch_ms / 1000.0
        low, high = 1e-9, 1.0
        while lam * (math.exp(high * s) - 1) <= high:  # bracket the positive root
            high *= 2
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (mid, high) if lam * (math.exp(mid * s) - 1) <= mid else (low, mid)
        theta = (low + high) / 2
        c = (1 - self.rho) / (lam * s * math.exp(theta * s) - 1)
        return max(0.0, math.log(c / (1 - q)) / theta) * 1000.0

    def sentence(self) -> str:
        """What the queue does, for a finding."""
        said = (f"concurrent requests queue on the SDK's synchronized credential fetcher "
                f"(aws/aws-sdk-java issue 2302): at {self.rate_per_s:.3g} req/s a ~"
                f"{self.fetch_ms:.0f} ms fetch keeps the lock busy {self.rho:.0%} of the time")
        if self.saturated:
            return (f"{said}; saturated: the lock serves at most 1/S = "
                    f"{self.capacity_per_s:.1f} req/s, so the queue grows without bound "
                    f"(after {SATURATED_HORIZON_S:.0f} s a request waits "
                    f"~{2 * self.mean_wait_ms() / 1000:.1f} s)")
        return (f"{said}, a mean wait of ~{self.mean_wait_ms():.0f} ms and "
                f"~{self.wait_quantile_ms():.0f} ms at p99 (M/D/1) before the fetch")


def sample_wait(rate_per_s: float, fetch_ms: np.ndarray, rng: np.random.Generator,
                horizon: int | None = None) -> np.ndarray:
    """Each request's wait for the lock: Poisson arrivals, FIFO, request k holds it
    fetch_ms[k] (Lindley's recursion W[k+1] = max(0, W[k] + S[k] - A[k+1])).

    `horizon`: run the queue over this many arrivals and resample to len(fetch_ms); a
    saturated queue has no steady state, so its waits depend on how long it ran.
    """
    import numpy as np

    n = len(fetch_ms)
    steps = min(n, horizon) if horizon else n
    gaps_ms = rng.exponential(1000.0 / rate_per_s, steps)
    service = fetch_ms[:steps]
    wait = np.zeros(steps)
    for k in range(1, steps):
        wait[k] = max(0.0, wait[k - 1] + service[k - 1] - gaps_ms[k])
    if steps == n:
        return wait
    picked = rng.integers(0, steps, n)
    return wait[picked]


def storm_queue(est: RefreshEstimate | None, rate_per_s: float) -> LockQueue | None:
    """The lock queue during an estimate's storms; None when its SDK does not serialise
    refreshes or no storm is predicted."""
    if est is None or not est.serialised or est.storm <= 0 or rate_per_s * est.aws_calls <= 0:
        return None
    return LockQueue(rate_per_s * est.aws_calls, est.cost_ms)  # each AWS call takes the lock
