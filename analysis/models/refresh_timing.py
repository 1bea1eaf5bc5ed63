"""When an SDK refreshes its credentials, from configuration alone: the provider's lifetime and
floor, the policy's threshold and the request rate (no evidence tables, so no pandas: preflight
imports this without them). analysis/models/credentials.py applies it to the documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis import durations
from analysis.models import providers
from analysis.models.providers import BOTOCORE_EXTENSION_S, RefreshPolicy

if TYPE_CHECKING:  # service.py reads the SDK table from providers.py: no import back at run time
    from analysis.service import ProviderSettings


#: kiam-server --session-refresh and --session-duration defaults (uswitch/kiam
#: cmd/kiam/server.go); kube2iam --iam-role-session-ttl default (jtblin/kube2iam
#: server/server.go), STS asked for twice that (iam/iam.go).
KIAM_SESSION_REFRESH_S = 5 * 60
KIAM_SESSION_DURATION_S = 15 * 60
KUBE2IAM_SESSION_TTL_S = 15 * 60


def _setting(settings: ProviderSettings | None, name: str) -> float | None:
    return getattr(settings, name, None)


def served_lifetime_s(provider: str | None, settings: ProviderSettings | None = None
                      ) -> float | None:
    """How long the provider's credentials live, from its settings or its defaults."""
    if provider == "kiam":
        return _setting(settings, "session_duration") or KIAM_SESSION_DURATION_S
    if provider == "kube2iam":
        return 2 * (_setting(settings, "session_ttl") or KUBE2IAM_SESSION_TTL_S)
    mechanism = providers.MECHANISMS.get(provider or "")  # the others' lifetime by default
    return mechanism.default_lifetime_s if mechanism else None


def policy(sdk: str | None, provider: str | None = None) -> RefreshPolicy | None:
    """The refresh policy of an SDK key from service.yaml with a provider (IMDS when none is
    named); None when no SDK was named (analysis/models/providers.py)."""
    return providers.refresh_policy(sdk, provider)


def min_served_remaining_s(provider: str | None, lifetime_s: float,
                           settings: ProviderSettings | None = None) -> float:
    """The least time left on credentials the provider hands out before it fetches new ones,
    as its configuration implies (served_floor reads it from the documents instead).

    KIAM caches a session for duration - refresh and so renews it --session-refresh (default
    5 min) before expiry (uswitch/kiam cmd/kiam/server.go, pkg/aws/sts/cache.go); kube2iam
    caches for --iam-role-session-ttl and asks STS for twice that (jtblin/kube2iam iam/iam.go),
    so lifetime - ttl is always left; EC2's IMDS rotates instance-profile credentials about
    hourly; eks-pod-identity-agent renews after min(lifetime, 3 h) and drops credentials with
    less than 15 s left (providers.POD_IDENTITY_RENEWAL_S). IRSA credentials come from STS to
    the SDK itself: the whole lifetime is left.
    """
    ttl = _setting(settings, "session_ttl")
    if provider == "kiam":
        return _setting(settings, "session_refresh") or KIAM_SESSION_REFRESH_S
    if provider == "kube2iam":
        return max(0.0, lifetime_s - ttl) if ttl else lifetime_s / 2
    if provider in (None, "instance-profile"):
        return max(0.0, lifetime_s - 3600)
    if provider == "pod-identity":
        return max(15.0, lifetime_s - providers.POD_IDENTITY_RENEWAL_S)
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
    if provider == "pod-identity":
        return ("configuration: eks-pod-identity-agent renews after its "
                "--max-credential-retention-before-renewal of 3h")
    if provider == "irsa":
        return "configuration: IRSA credentials come from STS whole"
    return f"configuration: {provider or 'instance-profile'}"


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
    floor = floor_s if floor_s is not None else \
        min_served_remaining_s(provider, lifetime_s, settings)
    if not sdk_policy.waits_for_refresh(sdk_version):  # refreshed in the background
        return 0.0, sdk_policy.max_age_s or max(0.0, lifetime_s - sdk_policy.
                                                refresh_before_expiry_s), 0.0
    if sdk_policy.prefetch_half_life and floor >= sdk_policy.refresh_before_expiry_s:
        # Java v2 IMDS: one caller refreshes early, every prefetch interval (no storm)
        interval = mean_prefetch_interval_s(floor, lifetime_s)
        return 0.0, interval, 1.0 / max(rate_per_s * interval, 1.0)
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


def mean_prefetch_interval_s(floor_s: float, lifetime_s: float) -> float:
    """Java v2's mean time between early refreshes when a fetch finds between floor_s and
    lifetime_s left (uniformly: the provider hands out credentials at every age in between)."""
    import numpy as np  # only Java v2 over IMDS: the mean as it always was computed

    left = np.linspace(max(floor_s, 1.0), max(lifetime_s, floor_s, 1.0), 201)
    return float(np.mean([providers.prefetch_interval_s(r) for r in left]))




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
