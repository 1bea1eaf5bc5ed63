"""What the credential findings say about the provider's mechanism: how one refresh is made and
what it costs, what to change on each provider, IMDSv2's hop limit, and SDK releases known to
hand out expired credentials. Shared by the report's findings and preflight."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from analysis.finding import Finding, snippet
from analysis.models import imds, providers

if TYPE_CHECKING:
    from analysis.attribution import Analysis
    from analysis.models.credentials import RefreshEstimate
    from analysis.models.providers import RefreshPolicy
    from analysis.service import ServiceConfig


def cost_words(est: RefreshEstimate) -> str:
    """One refresh, in words: '2 metadata calls + 2 token PUTs, ~88 ms, estimated'."""
    calls = f"{est.calls_per_refresh} {est.call_word}{'s' if est.calls_per_refresh != 1 else ''}"
    if est.token_puts:
        calls += f" + {est.token_puts} IMDSv2 token PUT{'s' if est.token_puts != 1 else ''}"
    if est.hop_ms:
        calls += f" + ~{est.hop_ms:.0f} ms of token PUTs without an answer"
    return f"{calls}, ~{est.cost_ms:.0f} ms" + (", estimated" if est.cost_is_estimate
                                                else ", measured")


def how(policy: RefreshPolicy, provider: str | None) -> str:
    """How the SDK refreshes through this provider, for a sentence."""
    mechanism = providers.MECHANISMS.get(provider or "")
    through = f" through {mechanism.what}" if mechanism and policy.provider != "imds" else ""
    if not policy.in_request_path:
        return f"refreshes in the background{through}"
    if policy.prefetch_half_life:
        return ("refreshes early, one caller blocking, at now + max(half the time left, 5 min), "
                "and makes every caller wait")
    return f"refreshes{through}"


def credential_fix(provider: str | None, sdk: str, threshold_s: float) -> str:
    """What to change so served credentials always keep more than the SDK's threshold."""
    minutes = math.ceil(threshold_s / 60)
    if provider == "kiam":
        return (f"Set kiam-server --session-refresh above {minutes} min (e.g. "
                f"--session-refresh={minutes + 5}m --session-duration=60m) so served credentials "
                f"always keep more than {sdk}'s {minutes}-minute threshold, or move the service "
                "to IRSA or EKS Pod Identity.")
    if provider == "kube2iam":
        return (f"Raise kube2iam --iam-role-session-ttl above {minutes} min so served "
                f"credentials keep more than {sdk}'s {minutes}-minute threshold, or move to IRSA "
                "or EKS Pod Identity.")
    if provider == "irsa":
        return (f"Let {sdk} ask STS for sessions longer than {minutes} min: do not set a short "
                "DurationSeconds / role session duration (STS's default is 1 h) and keep the "
                "role's MaxSessionDuration at 1 h or more.")
    if provider == "pod-identity":
        return (f"Keep eks-pod-identity-agent's --max-credential-retention-before-renewal "
                f"(default 3h) more than {minutes} min below the credential lifetime, so served "
                f"credentials keep more than {sdk}'s {minutes}-minute threshold.")
    return (f"Serve credentials that keep more than {minutes} min ({sdk}'s refresh threshold) "
            "whenever they are handed out: 60 min or more, renewed well before expiry.")


def credential_fix_code(provider: str | None, threshold_s: float) -> list[dict]:
    """credential_fix() as flags to paste, for the providers a flag fixes (kiam-server's
    session flags, kube2iam's session TTL); none for the others (a role or SDK setting)."""
    minutes = math.ceil(threshold_s / 60)
    if provider == "kiam":
        return [snippet("kiam-server flags (the kiam-server container's args)", "shell",
                        f"--session-duration=60m\n--session-refresh={minutes + 5}m")]
    if provider == "kube2iam":
        return [snippet("kube2iam flag (the kube2iam DaemonSet's args)", "shell",
                        f"--iam-role-session-ttl={max(60, 4 * minutes)}m")]
    return []


def hop_limit_code() -> list[dict]:
    """imds.HOP_LIMIT_FIX as a command to paste."""
    return [snippet("AWS CLI, once per node (or MetadataOptions in the launch template)",
                    "shell", imds.HOP_LIMIT_CODE)]


def periodic_fix(policy: RefreshPolicy, est: RefreshEstimate) -> str:
    if est.hop_ms:
        return ("Most of each refresh is token PUTs waiting for no answer: " +
                imds.HOP_LIMIT_FIX[0].lower() + imds.HOP_LIMIT_FIX[1:])
    if policy.prefetch_half_life:
        return ("Nothing needed unless the tail matters: one request per early refresh waits; "
                "InstanceProfileCredentialsProvider.builder().asyncCredentialUpdateEnabled(true) "
                "refreshes in the background instead.")
    return ("Nothing needed unless the tail matters; an SDK that refreshes in the background "
            "removes it.")


def nothing_to_capture(analysis: Analysis, config: ServiceConfig, env: str, kind: str) -> bool:
    """IRSA leaves nothing at a metadata address to capture: no credential documents in the
    candidate is then no gap in the evidence (its configured lifetime stands in)."""
    return kind == "credentials" and env == analysis.candidate and \
        config.credential_provider == "irsa"


def for_candidate(analysis: Analysis, config: ServiceConfig, fetches: list[Finding],
                  finding: Callable[..., Finding]) -> list[Finding]:
    """The hop-limit cost (added to a recorded `imds-hop-limit`, or a finding of its own when
    only the configuration predicts it) and a Java v2 release that returns expired
    credentials. `finding` builds a finding (analysis/findings.py _finding)."""
    found = []
    est = analysis.refresh.get(analysis.candidate)
    if est is not None and est.hop_source:
        per = (f"each refresh waits ~{est.hop_ms:.0f} ms for token PUTs that get no answer, "
               "then reads credentials with IMDSv1" if est.hop_ms else
               "the SDK pays the timeout once and uses IMDSv1 from then on")
        cost = (f"{per} ({est.hop_source}); {est.share_of_requests:.2%} of requests wait for "
                "a refresh")
        recorded = next((f for f in fetches if f.id == "imds-hop-limit"), None)
        hops = config.provider_settings.hop_limit
        if recorded is not None:
            recorded.evidence += f" Its cost: {cost}."
        elif est.hop_source.startswith("evidence"):  # timed PUTs only, no captured fetch
            found.append(finding(
                "imds-hop-limit", "warning",
                f"{analysis.candidate}'s timed IMDSv2 token PUTs got no answer (the hop-limit "
                f"symptom, whatever hop_limit says): {cost}.", imds.HOP_LIMIT_FIX,
                code=hop_limit_code()))
        else:
            found.append(finding(
                "imds-hop-limit", "warning",
                f"configuration: hop_limit {hops or 1:g} and the pod reads the node's IMDS "
                f"({config.credential_provider or 'no credential_provider named'}), so its "
                f"IMDSv2 token PUTs get no answer (no failed fetch recorded): {cost}.",
                imds.HOP_LIMIT_FIX, code=hop_limit_code()))
    if providers.java_v2_returns_expired(config.sdk, config.sdk_version,
                                         config.credential_provider):
        evidence, fix = providers.java_v2_finding(config.sdk_version or "")
        found.append(finding("java-v2-expired-credentials", "warning", evidence, fix))
    return found
