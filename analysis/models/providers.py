"""How each credential provider reaches the SDK, and each SDK's refresh policy for it.

The refresh policy depends on (sdk, provider), not on the SDK alone: behind the instance
metadata address (EC2, KIAM, kube2iam) every SDK uses its IMDS provider; with IRSA it calls
STS AssumeRoleWithWebIdentity itself through its web-identity provider; with EKS Pod Identity
it reads the container-credentials endpoint. Each row names the file it was read from; the
same table, with those paths, is in docs/method.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.errors import ConfigError


@dataclass(frozen=True)
class RefreshPolicy:
    sdk: str
    refresh_before_expiry_s: float   # refresh when less than this is left
    max_age_s: float | None          # refresh at least this often, whatever is left
    in_request_path: bool            # does a request thread wait for the refresh
    calls_per_refresh: int           # HTTP calls one refresh makes (IMDS: see models/imds.py)
    source: str
    #: from this version on, an expiry inside the window is pushed ahead instead of refreshed
    defers_short_expiry_from: tuple[int, ...] | None = None
    #: concurrent refreshes queue on one lock, each fetching again (analysis/models/lock_queue.py)
    serialises_refreshes: bool = False
    #: Java v2's IMDS provider: one caller refreshes early, at now + max(half the life left,
    #: 5 min) (prefetch_interval_s)
    prefetch_half_life: bool = False
    provider: str = "imds"           # imds | irsa | pod-identity: which table the row is from
    #: (low, high) s from now a deferred expiry is pushed to; None: botocore's
    short_expiry_extension_s: tuple[int, int] | None = None
    #: from this version on, a refresh inside the window runs in the background: a caller
    #: waits only for credentials that have already expired
    background_refresh_from: tuple[int, ...] | None = None
    #: where the push of a short expiry is documented (preflight's `<sdk>-short-expiry`)
    short_expiry_source: str | None = None

    def defers_short_expiry(self, version: str | None) -> bool:
        """Unknown versions are taken to be current ones."""
        return _from_version(self.defers_short_expiry_from, version)

    def extension_s(self) -> tuple[int, int]:
        """Where a deferred expiry goes: this many seconds from now, uniformly."""
        return self.short_expiry_extension_s or BOTOCORE_EXTENSION_S

    def waits_for_refresh(self, version: str | None) -> bool:
        """Does a request wait for a refresh inside the window (unknown version: current)?"""
        return self.in_request_path and not _from_version(self.background_refresh_from, version)


#: botocore >= 1.25, botocore/utils.py InstanceMetadataFetcher._evaluate_expiration: a fetched
#: credential that expires within ec2_credential_refresh_window + randint(120, 600) s is given
#: that much time from now as its expiry instead. The window is 600 s in utils.py, but the
#: default credential chain (botocore/credentials.py create_credential_resolver) passes
#: _DEFAULT_ADVISORY_REFRESH_TIMEOUT, 900 s. Read in botocore 1.44.8's source and measured
#: against it (tests/collector/test_botocore.py): the first reading, 600 s, predicted 78
#: fetches where botocore made 20.
BOTOCORE_EXTENSION_S = (900 + 120, 900 + 600)


def _from_version(first: tuple[int, ...] | None, version: str | None) -> bool:
    """Is `version` at or after `first`? Unknown versions are taken to be current ones."""
    if first is None:
        return False
    parsed = version_tuple(version)
    return not parsed or parsed >= first


def version_tuple(version: str | None) -> tuple[int, ...]:
    """'2.17.160' -> (2, 17, 160); () when no version is given."""
    return tuple(int(p) for p in (version or "").split(".")[:3] if p.isdigit())


#: The IMDS rows: what every SDK does behind 169.254.169.254 (EC2, KIAM, kube2iam).
POLICIES = {p.sdk: p for p in (
    RefreshPolicy("aws-java-sdk-v1", 15 * 60, 60 * 60, True, 2,
                  "aws/aws-sdk-java aws-java-sdk-core/.../auth/EC2CredentialsFetcher.java "
                  "(EXPIRATION_THRESHOLD 15 min, REFRESH_THRESHOLD 60 min); "
                  ".../auth/BaseCredentialsFetcher.java (fetchCredentials is synchronized and "
                  "re-checks needsToLoadCredentials inside the lock; issue 2302)",
                  serialises_refreshes=True),
    RefreshPolicy("aws-java-sdk-v2", 1, None, True, 3,
                  "aws/aws-sdk-java-v2 core/auth/.../InstanceProfileCredentialsProvider.java "
                  "(staleTime = expiry - 1 s; prefetchTime = now + max(half the time left, "
                  "5 min); one caller blocks)", prefetch_half_life=True),
    RefreshPolicy("botocore", 15 * 60, None, True, 3,
                  "boto/botocore botocore/credentials.py "
                  "(_DEFAULT_ADVISORY_REFRESH_TIMEOUT 15 min, mandatory 10 min); >= 1.25 "
                  "rewrites an expiry within 10 + U[2, 10] min (PR #2664)", (1, 25),
                  short_expiry_source="boto/botocore PR #2664; signed with an expired key: "
                                      "issue #2670"),
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
                  "found by make conformance)", (2, 1090), short_expiry_extension_s=(900, 1199),
                  short_expiry_source="aws-sdk-js lib/credentials/ec2_metadata_credentials.js "
                                      "extendExpirationIfExpired; found by make conformance"),
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

#: IRSA: each SDK's web-identity provider calls STS AssumeRoleWithWebIdentity (one call).
WEB_IDENTITY = {p.sdk: p for p in (
    RefreshPolicy("aws-java-sdk-v1", 5 * 60, None, False, 1,
                  "aws/aws-sdk-java aws-java-sdk-sts/.../auth/"
                  "STSAssumeRoleWithWebIdentitySessionCredentialsProvider.java (RefreshableTask: "
                  "ShouldDoAsyncSessionRefresh.java, async refresh when < 5 min left; "
                  "ShouldDoBlockingSessionRefresh.java, blocking only when < 1 min left)",
                  provider="irsa"),
    RefreshPolicy("aws-java-sdk-v2", 5 * 60, None, True, 1,
                  "aws/aws-sdk-java-v2 services/sts/.../auth/StsCredentialsProvider.java "
                  "(DEFAULT_PREFETCH_TIME 5 min, one caller blocks; DEFAULT_STALE_TIME 1 min) "
                  "under StsWebIdentityTokenFileCredentialsProvider", provider="irsa"),
    RefreshPolicy("botocore", 15 * 60, None, True, 1,
                  "boto/botocore botocore/credentials.py (AssumeRoleWithWebIdentityProvider: "
                  "DeferredRefreshableCredentials, advisory 15 min / mandatory 10 min; "
                  "CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS 15 min; no expiry "
                  "extension, that is InstanceMetadataFetcher's alone)", provider="irsa"),
    RefreshPolicy("aws-sdk-go", 0, None, True, 1,
                  "aws/aws-sdk-go aws/credentials/stscreds/web_identity_provider.go "
                  "(NewWebIdentityCredentials leaves ExpiryWindow 0: refresh at expiry)",
                  provider="irsa"),
    RefreshPolicy("aws-sdk-go-v2", 0, None, True, 1,
                  "aws/aws-sdk-go-v2 config/resolve_credentials.go (assumeWebIdentity sets no "
                  "ExpiryWindow on the CredentialsCache, aws/credential_cache.go)",
                  provider="irsa"),
    RefreshPolicy("aws-sdk-js", 15, None, True, 1,
                  "aws/aws-sdk-js lib/credentials/token_file_web_identity_credentials.js "
                  "(an AWS.Credentials: expiryWindow 15 s, lib/credentials.js)", provider="irsa"),
    RefreshPolicy("aws-sdk-js-v3", 5 * 60, None, True, 1,
                  "aws/aws-sdk-js-v3 packages/credential-provider-web-identity/src/"
                  "fromTokenFile.ts under credential-provider-node defaultProvider.ts (memoize: "
                  "refresh when < 300 000 ms left; >= 3.920.0 src/runtime/memoize-chain.ts "
                  "refreshes in the background, as for IMDS)", provider="irsa",
                  background_refresh_from=(3, 920)),
    RefreshPolicy("aws-sdk-net", 15 * 60, None, True, 1,
                  "aws/aws-sdk-net AssumeRoleWithWebIdentityCredentials.cs "
                  "(RefreshingAWSCredentials, PreemptExpiryTime 15 min since Core 3.7.202, "
                  "issue 2498; not re-read)", provider="irsa"),
)}

#: EKS Pod Identity: each SDK's container-credentials provider (one GET to the agent).
CONTAINER = {p.sdk: p for p in (
    RefreshPolicy("aws-java-sdk-v1", 15 * 60, 60 * 60, True, 1,
                  "aws/aws-sdk-java aws-java-sdk-core/.../auth/ContainerCredentialsFetcher.java "
                  "(a BaseCredentialsFetcher: 15 min / 60 min, synchronized)",
                  serialises_refreshes=True, provider="pod-identity"),
    RefreshPolicy("aws-java-sdk-v2", 15 * 60, 60 * 60, True, 1,
                  "aws/aws-sdk-java-v2 core/auth/.../ContainerCredentialsProvider.java "
                  "(prefetchTime = min(now + 1 h, expiry - 15 min), staleTime = expiry - 1 min; "
                  "one caller blocks)", provider="pod-identity"),
    RefreshPolicy("botocore", 15 * 60, None, True, 1,
                  "boto/botocore botocore/credentials.py (ContainerProvider: "
                  "RefreshableCredentials, advisory 15 min / mandatory 10 min; no expiry "
                  "extension)", provider="pod-identity"),
    RefreshPolicy("aws-sdk-go", 5 * 60, None, True, 1,
                  "aws/aws-sdk-go aws/defaults/defaults.go (endpointcreds provider, "
                  "ExpiryWindow 5 min)", provider="pod-identity"),
    RefreshPolicy("aws-sdk-go-v2", 5 * 60, None, True, 1,
                  "aws/aws-sdk-go-v2 config/resolve_credentials.go (resolveHTTPCredProvider: "
                  "ExpiryWindow 5 min)", provider="pod-identity"),
    RefreshPolicy("aws-sdk-js", 15, None, True, 1,
                  "aws/aws-sdk-js lib/credentials/remote_credentials.js (an AWS.Credentials: "
                  "expiryWindow 15 s)", provider="pod-identity"),
    RefreshPolicy("aws-sdk-js-v3", 5 * 60, None, True, 1,
                  "aws/aws-sdk-js-v3 packages/credential-provider-node/src/defaultProvider.ts "
                  "(memoize: refresh when < 300 000 ms left) over fromContainerMetadata; "
                  ">= 3.920.0 src/runtime/memoize-chain.ts refreshes in the background)",
                  provider="pod-identity", background_refresh_from=(3, 920)),
    RefreshPolicy("aws-sdk-net", 15 * 60, None, True, 1,
                  "aws/aws-sdk-net GenericContainerCredentials.cs / ECSTaskCredentials.cs "
                  "(RefreshingAWSCredentials, PreemptExpiryTime 15 min since Core 3.7.202; "
                  "not re-read)", provider="pod-identity"),
)}

TABLES = {"irsa": WEB_IDENTITY, "pod-identity": CONTAINER}


def refresh_policy(sdk: str | None, provider: str | None = None) -> RefreshPolicy | None:
    """The refresh policy of an SDK with a provider; None when no SDK was named. Providers
    that answer at the metadata address (EC2, KIAM, kube2iam, or none named) use the IMDS row."""
    if sdk is None:
        return None
    if sdk not in POLICIES:
        raise ConfigError(f"sdk {sdk!r} is not known; expected one of {sorted(POLICIES)}")
    return TABLES.get(provider or "", POLICIES)[sdk]


@dataclass(frozen=True)
class Mechanism:
    """How one provider hands credentials to the SDK, and what one call costs."""

    what: str
    call: str           # what one call of a refresh is, for a sentence
    call_ms: float      # one call, when the evidence has no timings
    source: str
    #: the lifetime of the credentials it hands out by default; None: from its settings
    #: (KIAM --session-duration, kube2iam twice --iam-role-session-ttl: credentials.py)
    default_lifetime_s: float | None = None


#: call_ms: KIAM/kube2iam proxy the call agent -> server -> STS cache; the migration this tool
#: was built for measured two calls at ~86 ms (docs/method.md), so ~43 ms a call. EC2's
#: IMDS answers on the host in about a millisecond, the Pod Identity agent on the node in
#: about two. IRSA is one HTTPS call to the regional STS endpoint with no proxy hop: tens of
#: ms (an estimate; a refresh an hour apart rarely reuses a connection, so it pays TLS).
#: default_lifetime_s: IRSA uses STS's default DurationSeconds of 1 h (STS
#: AssumeRoleWithWebIdentity API reference); EC2 about 6 h (observed ~6.5 h, boto/botocore
#: issue #2670) and Pod Identity about 6 h (the lifetime aws/eks-pod-identity-agent's tests
#: use; not re-read). docs/method.md, "One refresh policy".
MECHANISMS = {
    "kiam": Mechanism("the kiam agent at the metadata address (agent -> server -> STS cache)",
                      "metadata call", 43.0, "uswitch/kiam pkg/aws/metadata/"),
    "kube2iam": Mechanism("kube2iam at the metadata address (its own STS cache)",
                          "metadata call", 43.0, "jtblin/kube2iam server/server.go"),
    "irsa": Mechanism("STS AssumeRoleWithWebIdentity over HTTPS with the projected token",
                      "STS call", 20.0, "aws/amazon-eks-pod-identity-webhook README.md", 3600.0),
    "pod-identity": Mechanism("the container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_"
                              "FULL_URI, 169.254.170.23) served by eks-pod-identity-agent",
                              "container-endpoint call", 2.0,
                              "aws/eks-pod-identity-agent cmd/server.go", 21600.0),
    "instance-profile": Mechanism("the EC2 instance metadata service (IMDS)", "metadata call",
                                  1.0, "EC2 user guide, instance metadata", 21600.0),
}
#: credential_provider values service.yaml and `preflight --provider` accept (docs/method.md)
CREDENTIAL_PROVIDERS = tuple(MECHANISMS)
DEFAULT_CALL_MS = 43.0

#: eks-pod-identity-agent --max-credential-retention-before-renewal (cmd/server.go, 3h): its
#: cache renews a credential after min(its lifetime, this) (internal/credsretriever/
#: refreshing_cache.go getCacheTtls), so a served credential keeps lifetime - 3 h or more.
POD_IDENTITY_RENEWAL_S = 3 * 3600


def call_ms(provider: str | None) -> float:
    """One call of a refresh through this provider, estimated."""
    found = MECHANISMS.get(provider or "")
    return found.call_ms if found else DEFAULT_CALL_MS


def call_word(provider: str | None) -> str:
    found = MECHANISMS.get(provider or "")
    return found.call if found else "metadata call"


#: aws-sdk-java-v2 2.17.159 (2022-03-29, PR #2989, "Improve resilience of instance profile
#: credentials provider to short-term outages") deferred the refresh of credentials with less
#: than 15 min left by up to 15 min and let expired ones be used; 2.17.164 (2022-04-05,
#: PR #3147, "Refresh IMDS credentials more aggressively") fixed it (issue #3142). Read in
#: aws/aws-sdk-java-v2 changelogs/2.17.x-CHANGELOG.md.
JAVA_V2_EXPIRED_RANGE = ((2, 17, 159), (2, 17, 164))


def java_v2_returns_expired(sdk: str | None, version: str | None, provider: str | None) -> bool:
    """Is this a Java v2 release whose IMDS provider hands out expired credentials?"""
    low, high = JAVA_V2_EXPIRED_RANGE
    parsed = version_tuple(version)
    return (sdk == "aws-java-sdk-v2" and provider not in TABLES and len(parsed) == 3
            and low <= parsed < high)


def java_v2_finding(version: str) -> tuple[str, str]:
    """(evidence, fix) for a Java v2 release in JAVA_V2_EXPIRED_RANGE."""
    return (f"aws-java-sdk-v2 {version} is one of 2.17.159-2.17.163: its "
            "InstanceProfileCredentialsProvider defers the refresh of credentials with less "
            "than 15 min left by up to 15 min and keeps using them after they expire "
            "(aws/aws-sdk-java-v2 issue #3142; changelogs/2.17.x-CHANGELOG.md), so short-lived "
            "credentials (KIAM, kube2iam) sign requests that fail with ExpiredToken.",
            "Upgrade aws-sdk-java-v2 to 2.17.164 or later (PR #3147, \"Refresh IMDS "
            "credentials more aggressively\").")


def prefetch_interval_s(remaining_s: float) -> float:
    """Java v2 InstanceProfileCredentialsProvider: credentials fetched with `remaining_s` left
    are refreshed by one caller at now + max(remaining / 2, 5 min), and by every caller at the
    stale time, expiry - 1 s, when that comes first (prefetchTime, staleTime)."""
    return max(0.0, min(max(remaining_s / 2, 300.0), remaining_s - 1.0))
