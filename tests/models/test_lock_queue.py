"""The lock-queue model (M/D/1) against the simulator's discrete-event lock."""

import numpy as np
import pytest

from analysis.models.lock_queue import LockQueue, sample_wait
from analysis.simulate import lock_waits

FETCH_MS = 86.0


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.8])
def test_mean_and_p99_wait_match_the_discrete_event_lock(rho):
    rate = rho * 1000 / FETCH_MS
    rng = np.random.default_rng(int(rho * 10))
    arrivals = np.cumsum(rng.exponential(1 / rate, 200_000))
    simulated = lock_waits(arrivals, np.full(len(arrivals), FETCH_MS))
    queue = LockQueue(rate, FETCH_MS)
    assert queue.rho == pytest.approx(rho)
    assert queue.mean_wait_ms() == pytest.approx(simulated.mean(), rel=0.2)
    assert queue.wait_quantile_ms(0.99) == pytest.approx(np.quantile(simulated, 0.99), rel=0.2)
    sampled = sample_wait(rate, np.full(100_000, FETCH_MS), np.random.default_rng(1))
    assert sampled.mean() == pytest.approx(simulated.mean(), rel=0.2)
    assert np.quantile(sampled, 0.99) == pytest.approx(np.quantile(simulated, 0.99), rel=0.2)


def test_eight_requests_a_second_wait_about_95_ms_for_an_86_ms_fetch():
    queue = LockQueue(8, FETCH_MS)
    assert not queue.saturated
    assert queue.mean_wait_ms() == pytest.approx(94.8, abs=0.5)  # 8 x 0.086^2 / (2 x 0.312)


def test_a_rate_above_one_over_the_fetch_time_saturates_the_lock():
    queue = LockQueue(15, FETCH_MS)
    assert queue.saturated and queue.wait_quantile_ms() == float("inf")
    assert "saturated: the lock serves at most 1/S = 11.6 req/s" in queue.sentence()
    # a saturated queue has no steady state: its waits grow with how long it ran
    short = sample_wait(15, np.full(1000, FETCH_MS), np.random.default_rng(0), horizon=100)
    long = sample_wait(15, np.full(1000, FETCH_MS), np.random.default_rng(0), horizon=1000)
    assert long.mean() > 5 * short.mean()


def test_below_one_percent_busy_the_p99_waits_nothing():
    assert LockQueue(0.1, FETCH_MS).wait_quantile_ms(0.99) == 0.0


def test_only_java_v1_serialises_refreshes():
    from analysis.models.credentials import POLICIES

    assert {sdk for sdk, p in POLICIES.items() if p.serialises_refreshes} == {"aws-java-sdk-v1"}
