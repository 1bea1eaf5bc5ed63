"""Does the latency show the credential refresh the configuration predicts? The evidence decides.

A refresh costs its metadata calls in the request that waits for it, added to whatever else
the request does. So when every request is predicted to refresh, even the fastest requests
must be about that much slower than the baseline's; when requests refresh only while the
served credentials are inside the SDK's window (a storm), the requests made then must be that
much slower than the others. When the latency shows neither, the configuration (an SDK named
in service.yaml that is not on the request path, say) is overruled and nothing is attributed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the share of the predicted cost the latency must show to bear a prediction out
SHOWN_SHARE = 0.7
#: requests needed on each side of a storm comparison
MIN_REQUESTS = 20


def in_window(times: pd.Series, docs: pd.DataFrame, threshold_s: float) -> pd.Series:
    """For each request time: was the credential served then inside the SDK's refresh window
    (less than `threshold_s` left)? NA before the first credential seen."""
    keys = docs.dropna(subset=["key_id"]).groupby("key_id").agg(
        issued=("last_updated", "min"), expires=("expiration", "max")).sort_values("issued")
    if keys.empty:
        return pd.Series(pd.NA, index=times.index, dtype="boolean")
    issued = keys["issued"].to_numpy(dtype="datetime64[ns]")
    at = np.searchsorted(issued, times.to_numpy(dtype="datetime64[ns]"), side="right") - 1
    expires = keys["expires"].to_numpy(dtype="datetime64[ns]")[np.maximum(at, 0)]
    left = (expires - times.to_numpy(dtype="datetime64[ns]")) / np.timedelta64(1, "s")
    inside = pd.Series(left < threshold_s, index=times.index, dtype="boolean")
    inside[at < 0] = pd.NA
    return inside


def not_shown(est, latency: pd.DataFrame, credentials: pd.DataFrame, base: str, cand: str,
              threshold_s: float) -> str | None:
    """Why the candidate's latency contradicts the predicted refresh cost, or None when it
    bears it out or cannot tell."""
    if est is None or est.share_of_requests == 0 or est.cost_ms < 10:
        return None
    answered = latency.dropna(subset=["latency_ms"])
    mine = answered[answered["env"] == cand]
    if est.storm >= 1.0:
        theirs = answered.loc[answered["env"] == base, "latency_ms"]
        if len(mine) < MIN_REQUESTS or len(theirs) < MIN_REQUESTS:
            return None
        shift = mine["latency_ms"].quantile(0.05) - theirs.quantile(0.05)
        if shift >= SHOWN_SHARE * est.cost_ms:
            return None
        return (f"the fastest 5% of {cand} requests are {shift:.0f} ms slower than {base}'s, "
                f"where a refresh on every request predicts ~{est.cost_ms:.0f} ms")
    if est.storm > 0:
        docs = credentials[(credentials["env"] == cand) & (credentials["code"] == "Success")]
        inside = in_window(mine["time"], docs, threshold_s)
        during, other = mine.loc[inside.fillna(False).astype(bool), "latency_ms"], \
            mine.loc[(~inside).fillna(False).astype(bool), "latency_ms"]
        if len(during) < MIN_REQUESTS or len(other) < MIN_REQUESTS:
            return None
        step = during.median() - other.median()
        if step >= SHOWN_SHARE * est.cost_ms:
            return None
        return (f"the {len(during)} {cand} requests made while the served credentials were "
                f"inside the SDK's window are {step:.0f} ms slower (median) than the "
                f"{len(other)} others, where a refresh on each predicts ~{est.cost_ms:.0f} ms")
    return None
