"""Credential refresh: how often an SDK fetches credentials, given their lifetime.

The refresh policies, one per (sdk, provider), live in analysis/models/providers.py, each row
citing the SDK file it was read from (docs/method.md has the same tables); IMDSv2's token PUTs
and the hop limit in analysis/models/imds.py. This module turns a policy, the credential
documents and the request rate into who waits for a refresh and what it costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import durations
from analysis.models import imds, providers
from analysis.models.providers import (  # noqa: F401 - re-exported: the table's old home
    POLICIES,
    RefreshPolicy,
)
from analysis.models.refresh_timing import (  # noqa: F401 - re-exported: their old home
    _setting,
    configured_floor,
    mean_prefetch_interval_s,
    min_served_remaining_s,
    policy,
    refresh_share,
    served_lifetime_s,
)
from analysis.words import plural

if TYPE_CHECKING:  # service.py reads the SDK table from providers.py: no import back at run time
    from analysis.service import ProviderSettings


@dataclass(frozen=True)
class RefreshEstimate:
    """How one environment's SDK refreshes credentials."""

    env: str
    lifetime_s: float             # median observed lifetime (Expiration - LastUpdated)
    documents: int
    refresh_interval_s: float     # 0: every request refreshes
    share_of_requests: float      # share of requests that wait for a refresh
    cost_ms: float                # one refresh, in ms (mean)
    cost_is_estimate: bool
    calls_per_refresh: int = 2
    call_ms: np.ndarray = field(default_factory=lambda: np.empty(0))  # measured calls
    storm: float = 0.0            # share of time every request refreshes
    floor_s: float = 0.0          # least time left on served credentials
    floor_source: str = ""        # where floor_s came from: the documents or configuration
    overruled: str = ""           # why the evidence overruled the prediction (share set to 0)
    predicted_ms: float = 0.0     # what the configuration predicted per request, before that
    serialised: bool = False      # concurrent refreshes queue on one lock (lock_queue.py)
    token_puts: int = 0           # IMDSv2 token PUTs per refresh that get an answer
    put_ms: float = 0.0           # one such PUT
    hop_ms: float = 0.0           # per refresh: token PUTs that time out (models/imds.py)
    hop_source: str = ""          # what decided hop_ms: recorded PUTs or the SDK's timeout
    call_word: str = "metadata call"  # what one call is (STS call, container-endpoint call)
    #: AWS SDK calls a request makes (service.yaml aws_calls_per_request): in a storm each
    #: one refreshes, so a request pays that many refreshes (and lock waits)
    aws_calls: float = 1.0

    def mean_ms(self) -> float:
        """What refreshing adds per request on average, lock waits aside: a storm's requests
        pay one refresh per AWS call, the others one refresh per interval."""
        return (self.storm * self.aws_calls + self.share_of_requests - self.storm) * self.cost_ms


def aws_calls(mean: float, rng: np.random.Generator, n: int) -> np.ndarray:
    """How many AWS calls each of n requests makes, for a mean of `mean` per request: the
    whole part always, one more with the probability of the fraction (1.5: 1 or 2 calls)."""
    whole = np.floor(mean)
    return whole + (rng.random(n) < mean - whole)


def sample_cost(est: RefreshEstimate, rng: np.random.Generator, n: int) -> np.ndarray:
    """The cost of n refreshes: measured calls resampled, or the estimate for each."""
    if len(est.call_ms):
        fixed = est.token_puts * est.put_ms + est.hop_ms
        return rng.choice(est.call_ms, size=(n, est.calls_per_refresh)).sum(axis=1) + fixed
    return np.full(n, est.cost_ms)


def served(credentials: pd.DataFrame, env: str) -> pd.DataFrame:
    """The credentials an environment was served: its Success documents, never the failed
    fetches (an agent's error, a token PUT that timed out), which have no lifetime."""
    return credentials[(credentials["env"] == env) & (credentials["code"] == "Success")]


def distinct_credentials(credentials: pd.DataFrame, env: str) -> int:
    """How many distinct credentials (key and expiry) an environment's documents show: a
    provider serves one credential in many documents until it renews it."""
    docs = served(credentials, env)
    if docs.empty or not {"key_id", "expiration"} <= set(docs.columns):
        return 0
    return int(len(docs.dropna(subset=["key_id"]).drop_duplicates(["key_id", "expiration"])))


def failed_fetches(credentials: pd.DataFrame, env: str) -> pd.DataFrame:
    """An environment's credential fetches that got no credential (code other than Success)."""
    return credentials[(credentials["env"] == env) & (credentials["code"] != "Success")]


def refresh_estimate(env: str, credentials: pd.DataFrame, sdk_policy: RefreshPolicy,
                     rate_per_s: float, provider: str | None,
                     metadata_calls: pd.DataFrame | None = None,
                     sdk_version: str | None = None,
                     settings: ProviderSettings | None = None) -> RefreshEstimate | None:
    """Refresh interval, share of requests that pay it, and its cost for one environment.

    `provider` is what serves credentials in that environment (the baseline EC2 side is the
    instance profile; the candidate's comes from service.yaml). With timed metadata calls
    for the environment the cost is measured; otherwise it is the provider's estimate. IRSA
    and Pod Identity documents rarely show a lifetime (STS's answer is not captured; a
    container document has no LastUpdated): their configured lifetime stands in.
    """
    docs = served(credentials, env).dropna(subset=["lifetime_s"])
    lifetime = float(docs["lifetime_s"].median()) if len(docs) else \
        (served_lifetime_s(provider, settings) if provider in providers.TABLES else None)
    if lifetime is None:  # failed fetches and documents without LastUpdated: no lifetime known
        return None
    # evidence beats configuration: when the documents show how much life the provider
    # leaves on what it serves, that decides; the configuration only when they cannot
    read = served_floor(served(credentials, env))
    floor, source = read if read else (min_served_remaining_s(provider, lifetime, settings),
                                       configured_floor(provider, settings))
    storm, interval, share = refresh_share(sdk_policy, lifetime, provider, rate_per_s,
                                           sdk_version, floor_s=floor)
    calls, puts = _timed_calls(metadata_calls, env)
    call_ms = float(calls.mean()) if len(calls) else providers.call_ms(provider)
    gets, token_puts, put_ms, hop = sdk_policy.calls_per_refresh, 0, 0.0, None
    if sdk_policy.provider == "imds":
        gets, token_puts = imds.calls_per_refresh(sdk_policy.sdk, _setting(settings, "imds_v2"),
                                                  sdk_policy.calls_per_refresh)
        put_ms = float(puts.mean()) if len(puts) else imds.TOKEN_PUT_MS
        hop = hop_limit(sdk_policy.sdk, credentials, metadata_calls, env, provider, settings)
    if hop is not None:  # the PUTs get no answer: their wait instead of their cost
        token_puts = 0
    hop_ms = hop.per_refresh_ms if hop else 0.0
    return RefreshEstimate(env, lifetime, len(docs), interval, share,
                           gets * call_ms + token_puts * put_ms + hop_ms, not len(calls),
                           gets, calls, storm, floor, source,
                           serialised=sdk_policy.serialises_refreshes, token_puts=token_puts,
                           put_ms=put_ms, hop_ms=hop_ms, hop_source=hop.source if hop else "",
                           call_word=providers.call_word(provider))


def _timed_calls(metadata_calls: pd.DataFrame | None, env: str) -> tuple[np.ndarray, np.ndarray]:
    """(answered credential calls, answered token PUTs) of an environment, in ms."""
    if metadata_calls is None or metadata_calls.empty:
        return np.empty(0), np.empty(0)
    answered = metadata_calls[(metadata_calls["env"] == env)
                              & metadata_calls["status"].between(200, 399)]  # 0: no answer
    if "path" in answered.columns:
        token = answered["path"].astype(str).str.contains(imds.TOKEN_PATH, regex=False)
    else:
        token = pd.Series(False, index=answered.index)
    return (answered.loc[~token, "duration_ms"].to_numpy(dtype=float),
            answered.loc[token, "duration_ms"].to_numpy(dtype=float))


def hop_limit(sdk: str, credentials: pd.DataFrame, metadata_calls: pd.DataFrame | None,
              env: str, provider: str | None, settings: ProviderSettings | None
              ) -> imds.HopLimitCost | None:
    """What token PUTs without an answer add per refresh, or None when they are answered.

    Evidence beats configuration: recorded token PUTs that timed out (timed metadata calls,
    or fetches the credentials evidence shows as TokenPutTimeout) show the symptom whatever
    the configured hop limit says; without them the configured hop limit (1, from a pod
    reaching the node's IMDS) predicts it. The SDK's own timeout says how long
    (imds.hop_limit_cost)."""
    measured = imds.timed_out_puts(metadata_calls, env)
    failed = failed_fetches(credentials, env)
    recorded = int((failed["code"] == imds.TOKEN_PUT_TIMEOUT).sum())
    if not (len(measured) or recorded) and \
            not imds.hop_limit_blocks(provider, _setting(settings, "hop_limit")):
        return None
    return imds.hop_limit_cost(sdk, measured, recorded)


def served_floor(docs: pd.DataFrame) -> tuple[float, str] | None:
    """The least time left on served credentials, read from the documents: when a new key
    was issued, how long the previous one still had (its Expiration against the new one's
    LastUpdated: the provider renews then), the median over renewals; without a renewal, the
    least time left at a fetch (an upper bound). None when the documents cannot show it."""
    if docs.empty or not {"key_id", "last_updated", "expiration"} <= set(docs.columns):
        return None
    keys = docs.dropna(subset=["key_id"]).groupby("key_id").agg(
        issued=("last_updated", "min"), expires=("expiration", "max")).sort_values("issued")
    leads = (keys["expires"].shift(1) - keys["issued"]).dt.total_seconds().dropna()
    leads = leads[leads > 0]
    if len(leads):
        renewals = plural(len(leads), "renewal")
        left = "each with a median" if len(leads) > 1 else "with"
        return float(leads.median()), (f"credential documents: {renewals}, {left} "
                                       f"{durations.span(leads.median())} left")
    remaining = docs.get("remaining_s", pd.Series(dtype=float)).dropna()
    if len(remaining):
        fetches = plural(len(remaining), "fetch", "fetches")
        return float(remaining.min()), (f"the least left over {fetches} of the credential "
                                        "documents; no renewal seen")
    return None


def refresh_moments(credentials: pd.DataFrame, env: str,
                    sdk_policy: RefreshPolicy) -> pd.DataFrame:
    """When the SDK is predicted to refresh each distinct credential an environment served.

    One row per credential (key fingerprint and expiry): issued (LastUpdated), expires,
    window_from = expiry minus the SDK's threshold (from then on every call refreshes), and
    refresh_at = the first predicted refresh: window_from, or issue time plus the SDK's maximum
    age when that comes first. every_request: the credential was inside the window when issued,
    so while it is served every request refreshes.
    """
    docs = served(credentials, env)
    # a table with no credential at all reads back untyped: its times must still be times
    docs = docs.assign(**{column: pd.to_datetime(docs[column], utc=True)
                          for column in ("last_updated", "expiration")})
    docs = docs.dropna(subset=["last_updated", "expiration"])  # issue time unknown: no bar
    distinct = docs.groupby(["key_id", "expiration"], as_index=False)["last_updated"].min()
    window = distinct["expiration"] - pd.Timedelta(seconds=sdk_policy.refresh_before_expiry_s)
    refresh_at = window
    if sdk_policy.max_age_s is not None:
        aged = distinct["last_updated"] + pd.Timedelta(seconds=sdk_policy.max_age_s)
        refresh_at = window.where(window <= aged, aged)
    return distinct.assign(window_from=window, refresh_at=refresh_at,
                           every_request=window <= distinct["last_updated"]) \
        .sort_values("last_updated", ignore_index=True)
