"""What each captured request waited for, as the attribution draws it: measured beats modelled.

Where an environment has packet captures (`<env>/pcap/`), its per-request DNS and credential
(metadata) time is drawn from its captured requests instead of the models
(analysis/attribution.py): one captured request per simulated request, its DNS and its
metadata time together (so a request that waited on both keeps both). Only unambiguous
requests are drawn (analysis/capture/attribution.py): an ambiguous one's own waits are not all
known; they are left out and counted. A capture is a sample of the logged period: what it saw
stands for every request of the environment (docs/method.md, "Measured from packet captures").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MODEL_SOURCE", "Measured", "measured", "source"]

#: what the report and summary.json say of a cause the model predicts (no capture)
MODEL_SOURCE = "model"


@dataclass(frozen=True)
class Measured:
    """One environment's captured requests, as the attribution draws them."""

    env: str
    dns_ms: np.ndarray        # per unambiguous request: time waiting on DNS (union, ms)
    metadata_ms: np.ndarray   # per unambiguous request: time waiting on metadata calls (ms)
    dns_queries: np.ndarray   # per unambiguous request: DNS queries it made
    metadata_calls: np.ndarray  # per unambiguous request: metadata calls it made
    requests: int             # every captured request with a response
    ambiguous: int            # left out: their windows overlapped another's exchanges

    @property
    def used(self) -> int:
        return len(self.dns_ms)

    @property
    def source(self) -> str:
        """How the report and summary.json name it."""
        left = f", {self.ambiguous} ambiguous left out" if self.ambiguous else ""
        return f"measured from packet capture: {self.used} requests{left}"

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(dns_ms, metadata_ms) of n requests, each pair drawn from one captured request."""
        picks = rng.integers(0, self.used, size=n)
        return self.dns_ms[picks], self.metadata_ms[picks]


def measured(requests: pd.DataFrame, env: str) -> Measured | None:
    """An environment's captured requests (Evidence.capture_requests), or None when it has
    no capture or no unambiguous request with a response."""
    if requests is None or requests.empty:
        return None
    mine = requests[(requests["env"] == env) & requests["total_ms"].notna()]
    clear = mine[~mine["ambiguous"].astype(bool)]
    if clear.empty:
        return None
    return Measured(env, clear["dns_ms"].to_numpy(float), clear["metadata_ms"].to_numpy(float),
                    clear["dns_queries"].to_numpy(int), clear["metadata_calls"].to_numpy(int),
                    requests=len(mine), ambiguous=len(mine) - len(clear))


def source(found: Measured | None) -> str:
    """'measured from packet capture: N requests' or 'model'."""
    return found.source if found is not None else MODEL_SOURCE
