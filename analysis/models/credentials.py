"""Credential refresh: how often an SDK fetches credentials, given their lifetime.

The policy table below comes from each SDK's own source (see docs/method.md for the table
with file paths); ../shared/domain-facts.md holds the research these numbers were taken from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import durations
from analysis.errors import ConfigError

if TYPE_CHECKING:  # service.py reads the SDK table from here: no import back at run time
    from analysis.service import ProviderSettings


@dataclass(frozen=True)
class RefreshPolicy:
    sdk: str
    refresh_before_expiry_s: float   # refresh when less than this is left
    max_age_s: float | None          # refresh at least this often, whatever is left
    in_request_path: bool            # does a request thread wait for the refresh
    calls_per_refresh: int           # metadata HTTP calls one refresh makes (IMDSv1 paths)
    source: str
    #: from this version on, an expiry inside the window is pushed ahead instead of refreshed
    defers_short_expiry_from: tuple[int, ...] | None = None
    #: concurrent refreshes queue on one lock, each fetching again (analysis/models/lock_queue.py)
    serialises_refreshes: bool = False
    #: (low, high) s from now a deferred expiry is pushed to; None: botocore's (below)
    short_expiry_extension_s: tuple[int, int] | None = None
    #: from this version on, a refresh inside the window runs in the background: a caller
    #: waits only for credentials that have already expired
    background_refresh_from: tuple[int, ...] | None = None

    def defers_short_expiry(self, version: str | None) -> bool:
        """Unknown versions are taken to be current ones."""
        return _from_version(self.defers_short_expiry_from, version)

    def extension_s(self) -> tuple[int, int]:
        """Where a deferred expiry goes: this many seconds from now, uniformly."""
        return self.short_expiry_extension_s or BOTOCORE_EXTENSION_S

    def waits_for_refresh(self, version: str | None) -> bool:
        """Does a request wait for a refresh inside the window (unknown version: current)?"""
        return self.in_request_path and not _from_version(self.background_refresh_from, version)


def _from_version(first: tuple[int, ...] | None, version: str | None) -> bool:
    """Is `version` at or after `first`? Unknown versions are taken to be current ones."""
    if first is None:
        return False
    parsed = tuple(int(p) for p in (version or "").split(".")[:3] if p.isdigit())
    return not parsed or parsed >= first


POLICIES = {p.sdk: p for p in (
    RefreshPolicy("aws-java-sdk-v1", 15 * 60, 60 * 60, True, 2,
                  "aws/aws-sdk-java aws-java-sdk-core/.../auth/EC2CredentialsFetcher.java "
                  "(EXPIRATION_THRESHOLD 15 min, REFRESH_THRESHOLD 60 min); "
                  ".../auth/BaseCredentialsFetcher.java (fetchCredentials is synchronized and "
                  "re-checks needsToLoadCredentials inside the lock; issue 2302)",
                  serialises_refreshes=True),
    RefreshPolicy("aws-java-sdk-v2", 1, None, True, 3,
                  "aws/aws-sdk-java-v2 core/auth/.../InstanceProfileCredentialsProvider.java "
                  "(stale = expiry - 1 s; prefetch jittered ahead, one caller blocks)"),
    RefreshPolicy("botocore", 15 * 60, None, True, 3,
                  "boto/botocore botocore/credentials.py "
                  "(_DEFAULT_ADVISORY_REFRESH_TIMEOUT 15 min, mandatory 10 min); >= 1.25 "
                  "rewrites an expiry within 10 + U[2, 10] min (PR #2664)", (1, 25)),
    RefreshPolicy("aws-sdk-go", 5 * 60, None, True, 2,
                  "aws/aws-sdk-go aws/credentials/ec2rolecreds/ec2_role_provider.go "
                  "(ExpiryWindow 5 min set in aws/defaults/defaults.go)"),
    RefreshPolicy("aws-sdk-go-v2", 0, 60 * 60, True, 2,
                  "aws/aws-sdk-go-v2 config/resolve_credentials.go (CredentialsCache without "
                  "ExpiryWindow for EC2 role credentials); credentials/ec2rolecreds/provider.go "
                  "(Retrieve caps Expires at now + 1 hour)"),
    RefreshPolicy("aws-sdk-js", 15, None, True, 3,
                  "aws/aws-sdk-js lib/credentials.js (expiryWindow 15 s); "
                  "lib/credentials/ec2_metadata_credentials.js (extendExpirationIfExpired, "
                  ">= 2.1090.0: an expiry within the window becomes now + 15 min + U[0, 5 min); "
                  "found by make conformance)", (2, 1090), short_expiry_extension_s=(900, 1199)),
    RefreshPolicy("aws-sdk-js-v3", 5 * 60, None, True, 3,
                  "aws/aws-sdk-js-v3 packages/credential-provider-node/src/defaultProvider.ts "
                  "(memoize: refresh when < 300 000 ms left); src/runtime/memoize-chain.ts "
                  "(@aws-sdk/credential-provider-node >= 3.920.0: inside the window the refresh "
                  "runs in the background, a caller waits only once expired; found by make "
                  "conformance)", background_refresh_from=(3, 920)),
    RefreshPolicy("aws-sdk-net", 0, 2 * 60, False, 2,
                  "aws/aws-sdk-net .../DefaultInstanceProfileAWSCredentials.cs "
                  "(background timer every 2 min)"),
)}

#: One metadata call through each provider, in ms, when the evidence has no call timings.
#: KIAM/kube2iam proxy the call agent -> server -> STS cache; the migration this tool was
#: built for measured two calls at ~86 ms in total (../shared/DESIGN.md), so ~43 ms a call.
#: On EC2 the IMDS answers on the host in about a millisecond.
METADATA_CALL_MS_ESTIMATE = {
    "kiam": 43.0, "kube2iam": 43.0, "instance-profile": 1.0, "irsa": 20.0,
    "pod-identity": 2.0,
}
DEFAULT_METADATA_CALL_MS = 43.0
#: kiam-server --session-refresh and --session-duration defaults (uswitch/kiam
#: cmd/kiam/server.go); kube2iam --iam-role-session-ttl default (jtblin/kube2iam
#: server/server.go), STS asked for twice that (iam/iam.go).
KIAM_SESSION_REFRESH_S = 5 * 60
KIAM_SESSION_DURATION_S = 15 * 60
KUBE2IAM_SESSION_TTL_S = 15 * 60
#: Credential lifetime each provider hands out by default (../shared/domain-facts.md, table 2):
#: IRSA uses STS's default DurationSeconds of 1 h; Pod Identity and EC2 about 6 h.
DEFAULT_LIFETIME_S = {"irsa": 3600.0, "pod-identity": 21600.0, "instance-profile": 21600.0}


def _setting(settings: ProviderSettings | None, name: str) -> float | None:
    return getattr(settings, name, None)


def served_lifetime_s(provider: str | None, settings: ProviderSettings | None = None
                      ) -> float | None:
    """How long the provider's credentials live, from its settings or its defaults."""
    if provider == "kiam":
        return _setting(settings, "session_duration") or KIAM_SESSION_DURATION_S
    if provider == "kube2iam":
        return 2 * (_setting(settings, "session_ttl") or KUBE2IAM_SESSION_TTL_S)
    return DEFAULT_LIFETIME_S.get(provider or "")


def policy(sdk: str | None) -> RefreshPolicy | None:
    """The refresh policy of an SDK key from service.yaml; None when no SDK was named."""
    if sdk is None:
        return None
    if sdk not in POLICIES:
        raise ConfigError(f"sdk {sdk!r} is not known; expected one of {sorted(POLICIES)}")
    return POLICIES[sdk]


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


def sample_cost(est: RefreshEstimate, rng: np.random.Generator, n: int) -> np.ndarray:
    """The cost of n refreshes: measured calls resampled, or the estimate for each."""
    if len(est.call_ms):
        return rng.choice(est.call_ms, size=(n, est.calls_per_refresh)).sum(axis=1)
    return np.full(n, est.cost_ms)


def served(credentials: pd.DataFrame, env: str) -> pd.DataFrame:
    """The credentials an environment was served: its Success documents, never the failed
    fetches (an agent's error, a token PUT that timed out), which have no lifetime."""
    return credentials[(credentials["env"] == env) & (credentials["code"] == "Success")]


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
    for the environment the cost is measured; otherwise it is the provider's estimate.
    """
    docs = served(credentials, env).dropna(subset=["lifetime_s"])
    if docs.empty:  # failed fetches and documents without LastUpdated: no lifetime known
        return None
    lifetime = float(docs["lifetime_s"].median())
    # evidence beats configuration: when the documents show how much life the provider
    # leaves on what it serves, that decides; the configuration only when they cannot
    read = served_floor(docs)
    floor, source = read if read else (min_served_remaining_s(provider, lifetime, settings),
                                       configured_floor(provider, settings))
    storm, interval, share = refresh_share(sdk_policy, lifetime, provider, rate_per_s,
                                           sdk_version, floor_s=floor)
    calls = np.empty(0)
    if metadata_calls is not None and not metadata_calls.empty:
        answered = metadata_calls["status"].between(200, 399)  # 0: no answer in time
        mine = metadata_calls[(metadata_calls["env"] == env) & answered]
        calls = mine["duration_ms"].to_numpy(dtype=float)
    call_ms = float(calls.mean()) if len(calls) else \
        METADATA_CALL_MS_ESTIMATE.get(provider or "", DEFAULT_METADATA_CALL_MS)
    return RefreshEstimate(env, lifetime, len(docs), interval, share,
                           sdk_policy.calls_per_refresh * call_ms, not len(calls),
                           sdk_policy.calls_per_refresh, calls, storm, floor, source,
                           serialised=sdk_policy.serialises_refreshes)


def min_served_remaining_s(provider: str | None, lifetime_s: float,
                           settings: ProviderSettings | None = None) -> float:
    """The least time left on credentials the provider hands out before it fetches new ones,
    as its configuration implies (served_floor reads it from the documents instead).

    KIAM caches a session for duration - refresh and so renews it --session-refresh (default
    5 min) before expiry (uswitch/kiam cmd/kiam/server.go, pkg/aws/sts/cache.go); kube2iam
    caches for --iam-role-session-ttl and asks STS for twice that (jtblin/kube2iam iam/iam.go),
    so lifetime - ttl is always left; EC2's IMDS rotates instance-profile credentials about
    hourly. IRSA and Pod Identity credentials reach the SDK fresh: the whole lifetime is left.
    """
    ttl = _setting(settings, "session_ttl")
    if provider == "kiam":
        return _setting(settings, "session_refresh") or KIAM_SESSION_REFRESH_S
    if provider == "kube2iam":
        return max(0.0, lifetime_s - ttl) if ttl else lifetime_s / 2
    if provider in (None, "instance-profile"):
        return max(0.0, lifetime_s - 3600)
    return lifetime_s


def configured_floor(provider: str | None, settings: ProviderSettings | None) -> str:
    """Where the configuration's floor comes from, for a sentence."""
    if provider == "kiam":
        given = _setting(settings, "session_refresh")
        return (f"configuration: kiam --session-refresh {durations.minutes(given)}" if given
                else "configuration: kiam's default --session-refresh of 5 min")
    if provider == "kube2iam":
        ttl = _setting(settings, "session_ttl")
        return "configuration: kube2iam --iam-role-session-ttl" + \
            (f" {durations.minutes(ttl)}" if ttl else " default of 15 min")
    return f"configuration: {provider or 'instance-profile'}"


def served_floor(docs: pd.DataFrame) -> tuple[float, str] | None:
    """The least time left on served credentials, read from the documents: when a new key
    was issued, how long the previous one still had (its Expiration against the new one's
    LastUpdated: the provider renews then), the median over renewals; without a renewal, the
    least time left at a fetch (an upper bound). None when the documents cannot show it."""
    if not {"key_id", "last_updated", "expiration"} <= set(docs.columns):
        return None
    keys = docs.dropna(subset=["key_id"]).groupby("key_id").agg(
        issued=("last_updated", "min"), expires=("expiration", "max")).sort_values("issued")
    leads = (keys["expires"].shift(1) - keys["issued"]).dt.total_seconds().dropna()
    leads = leads[leads > 0]
    if len(leads):
        return float(leads.median()), (f"credential documents: {len(leads)} renewals, each "
                                       f"with a median {durations.minutes(leads.median())} left")
    remaining = docs.get("remaining_s", pd.Series(dtype=float)).dropna()
    if len(remaining):
        return float(remaining.min()), (f"credential documents: the least time left at "
                                        f"{len(remaining)} fetches (no renewal seen)")
    return None


def refresh_share(sdk_policy: RefreshPolicy, lifetime_s: float, provider: str | None,
                  rate_per_s: float, sdk_version: str | None = None,
                  deferral: bool = True, floor_s: float | None = None,
                  settings: ProviderSettings | None = None) -> tuple[float, float, float]:
    """(storm, interval_s, share): the share of time the SDK refreshes on every request, the
    refresh interval otherwise, and the share of requests that wait for a refresh.

    Served credentials keep between min_served_remaining_s and the full lifetime. While less
    than the SDK's threshold is left the SDK refreshes on every call (a "storm"); that lasts
    (threshold - min remaining) of every (lifetime - min remaining) seconds. SDKs that push
    a short expiry ahead instead (botocore >= 1.25) have no storm; deferral=False asks what
    the SDK would do without that rule.
    """
    if not sdk_policy.waits_for_refresh(sdk_version):
        return 0.0, sdk_policy.max_age_s or 0.0, 0.0
    floor = floor_s if floor_s is not None else \
        min_served_remaining_s(provider, lifetime_s, settings)
    threshold = sdk_policy.refresh_before_expiry_s
    if lifetime_s <= threshold:
        storm = 1.0
    elif floor >= threshold:
        storm = 0.0
    else:
        storm = (threshold - floor) / (lifetime_s - floor)
    interval = max(0.0, lifetime_s - threshold)
    if sdk_policy.max_age_s is not None:
        interval = min(interval, sdk_policy.max_age_s)
    calm = 1.0 / max(rate_per_s * interval, 1.0) if interval > 0 else 1.0
    if deferral and sdk_policy.defers_short_expiry(sdk_version) and storm > 0:
        # botocore >= 1.25: inside the window a fetch pushes the expiry ahead instead, so
        # what would be a storm is a refresh every `cycle` seconds of `fetches` fetches
        fetches, cycle = botocore_deferral_cycle(threshold, sdk_policy.extension_s())
        deferred = min(1.0, fetches / max(rate_per_s * cycle, 1e-9))
        return 0.0, (cycle if storm >= 1.0 else interval), \
            storm * deferred + (1.0 - storm) * calm
    return storm, (0.0 if storm >= 1.0 else interval), storm + (1.0 - storm) * calm


#: botocore >= 1.25, botocore/utils.py InstanceMetadataFetcher._evaluate_expiration: a fetched
#: credential that expires within ec2_credential_refresh_window + randint(120, 600) s is given
#: that much time from now as its expiry instead. The window is 600 s in utils.py, but the
#: default credential chain (botocore/credentials.py create_credential_resolver) passes
#: _DEFAULT_ADVISORY_REFRESH_TIMEOUT, 900 s. Read in botocore 1.44.8's source and measured
#: against it (tests/collector/test_botocore.py): the first reading, 600 s, predicted 78
#: fetches where botocore made 20.
BOTOCORE_EXTENSION_S = (900 + 120, 900 + 600)


def botocore_deferral_cycle(threshold_s: float, extension_s: tuple[int, int] = BOTOCORE_EXTENSION_S
                            ) -> tuple[float, float]:
    """(fetches per refresh, seconds between refreshes) while botocore is served credentials
    with less than its threshold left.

    Each fetch draws an extension uniformly from BOTOCORE_EXTENSION_S. One that is not above
    the threshold leaves the credential inside the window, so the next call fetches again:
    fetches per refresh are geometric, 1 / P(extension > threshold). The good draw lasts
    (extension - threshold) seconds before the next refresh.
    """
    low, high = extension_s
    good = [e - threshold_s for e in range(int(low), int(high) + 1) if e > threshold_s]
    if not good:
        return float("inf"), 0.0
    return (high - low + 1) / len(good), sum(good) / len(good)


def credential_fix(provider: str | None, sdk: str, threshold_s: float) -> str:
    """What to change so served credentials always keep more than the SDK's threshold."""
    minutes = int(np.ceil(threshold_s / 60))
    if provider == "kiam":
        return (f"Set kiam-server --session-refresh above {minutes} min (e.g. "
                f"--session-refresh={minutes + 5}m --session-duration=60m) so served credentials "
                f"always keep more than {sdk}'s {minutes}-minute threshold, or move the service "
                "to IRSA or EKS Pod Identity.")
    if provider == "kube2iam":
        return (f"Raise kube2iam --iam-role-session-ttl above {minutes} min so served "
                f"credentials keep more than {sdk}'s {minutes}-minute threshold, or move to IRSA "
                "or EKS Pod Identity.")
    return (f"Serve credentials that keep more than {minutes} min ({sdk}'s refresh threshold) "
            "whenever they are handed out: 60 min or more, renewed well before expiry.")


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
