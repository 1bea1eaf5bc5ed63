"""IMDSv2: the token PUTs a refresh makes, and what a pod pays when their answers are dropped.

IMDSv2 asks for a session token (PUT /latest/api/token) before reading credentials. The
instance's HttpPutResponseHopLimit (default 1) caps how many hops that PUT's answer travels;
from a pod's network namespace it is one hop too far, so the PUT gets no answer and the SDK
waits its timeout before it reads credentials with IMDSv1 (or fails). Only a pod that reaches
the node's IMDS itself (provider `instance-profile`) pays it: KIAM and kube2iam answer at the
metadata address and make their own PUTs on the host network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only timed_out_puts makes a table: preflight's flags need no pandas
    import pandas as pd

TOKEN_PATH = "/latest/api/token"
#: a recorded fetch whose token PUT timed out (analysis/ingest/curl_transcript.py TIMEOUT)
TOKEN_PUT_TIMEOUT = "TokenPutTimeout"
#: A token PUT that works costs about an IMDS call, a millisecond: KIAM's agent passes paths it
#: does not handle itself, the token PUT among them, straight to the node's IMDS
#: (uswitch/kiam pkg/aws/metadata/server.go: a reverse proxy for "/{path:.*}"), not through
#: kiam-server as it does credentials.
TOKEN_PUT_MS = 1.0


@dataclass(frozen=True)
class ImdsClient:
    """One SDK's IMDS client: calls per refresh, and what it does when the PUT gets no answer."""

    gets: int                  # GETs per refresh: the role listing and the role's credentials
    token_puts: int            # token PUTs per refresh when IMDSv2 works (0: token cached)
    puts_when_failing: int     # token PUTs tried per refresh when each one times out
    put_timeout_s: float       # how long one PUT attempt waits
    put_attempts: int          # attempts of each PUT
    remembers_failure: bool    # after a failed PUT, IMDSv1 from then on (a one-time cost)
    source: str

    def penalty_s(self) -> float:
        """Time lost per refresh when every token PUT times out (0 when it is remembered)."""
        if self.remembers_failure:
            return 0.0
        return self.puts_when_failing * self.put_attempts * self.put_timeout_s

    def one_time_s(self) -> float:
        return self.put_attempts * self.put_timeout_s if self.remembers_failure else 0.0


CLIENTS = {
    "aws-java-sdk-v1": ImdsClient(
        2, 2, 2, 5.0, 1, False,
        "aws/aws-sdk-java aws-java-sdk-core/.../internal/InstanceMetadataServiceResourceFetcher"
        ".java (readResource calls getToken before every GET, NO_RETRY; a SocketTimeoutException"
        " means 'token unsupported': IMDSv1), .../internal/ConnectionUtils.java (connect 2 s, "
        "read 5 s): ~10 s a refresh, as aws/aws-sdk-java issue 2171 reports"),
    "aws-java-sdk-v2": ImdsClient(
        2, 1, 1, 1.0, 1, False,
        "aws/aws-sdk-java-v2 core/auth/.../InstanceProfileCredentialsProvider.java (a token "
        "per refresh; 'Ignoring non-fatal exception while attempting to load metadata token', "
        "IMDSv1 follows: issue 4071's log); .../internal/Ec2MetadataServiceTimeoutResolver.java "
        "(AWS_METADATA_SERVICE_TIMEOUT, 1 s by default per Ec2MetadataServiceTimeoutResolverTest"
        ".java)"),
    "botocore": ImdsClient(
        2, 1, 1, 1.0, 1, False,
        "boto/botocore botocore/utils.py (IMDSFetcher._fetch_metadata_token: ReadTimeoutError "
        "-> None -> IMDSv1; DEFAULT_METADATA_SERVICE_TIMEOUT 1 s, AWS_METADATA_SERVICE_TIMEOUT; "
        "1 attempt, AWS_METADATA_SERVICE_NUM_ATTEMPTS); a new token each refresh"),
    "aws-sdk-go": ImdsClient(
        2, 0, 2, 1.0, 3, False,
        "aws/aws-sdk-go aws/ec2metadata/token_provider.go (fetchTokenHandler: the token is "
        "disabled only on 403/404/405, so after a timeout every call tries the PUT again; read "
        "in the source), aws/ec2metadata/service.go (1 s client timeout and MaxRetries 2 in "
        "current releases, 5 s in older ones, issue 2980; not re-read)"),
    "aws-sdk-go-v2": ImdsClient(
        2, 0, 1, 0.5, 3, True,
        "aws/aws-sdk-go-v2 feature/ec2/imds/token_provider.go (disabled after a send error or "
        "timeout), api_client.go (500 ms response timeout, 3 attempts); not re-read"),
    "aws-sdk-js": ImdsClient(
        2, 1, 1, 1.0, 4, True,
        "aws/aws-sdk-js lib/credentials/ec2_metadata_credentials.js (1 s timeout, maxRetries 3; "
        "a failed token fetch is remembered); not re-read"),
    "aws-sdk-js-v3": ImdsClient(
        2, 1, 1, 1.0, 1, True,
        "@smithy/credential-provider-imds fromInstanceMetadata (disableFetchToken after a "
        "TimeoutError; 1 s timeout, 0 retries); not re-read"),
    "aws-sdk-net": ImdsClient(
        2, 0, 0, 0.0, 0, True,
        "aws/aws-sdk-net: its IMDSv2 fallback was not read; not modelled"),
}


def calls_per_refresh(sdk: str, imds_v2: bool | None, default: int) -> tuple[int, int]:
    """(GETs, token PUTs) one IMDS refresh makes. imds_v2 None: the policy table's count
    (`default`, Java v1's two GETs as the seed case measured); True: each SDK's IMDSv2 count
    (Java v1: a PUT before every GET, 4 calls); False: IMDSv1, GETs only."""
    client = CLIENTS.get(sdk)
    gets = client.gets if client else 2
    if imds_v2 is None:
        return gets, max(0, default - gets)
    return gets, (client.token_puts if client and imds_v2 else 0)


def hop_limit_blocks(provider: str | None, hop_limit: float | None) -> bool:
    """Does the configuration put a pod one hop too far from the IMDS token PUT's answer?"""
    return provider in (None, "instance-profile") and hop_limit is not None and hop_limit < 2


def timed_out_puts(metadata_calls: pd.DataFrame | None, env: str) -> pd.Series:
    """Durations (ms) of an environment's recorded token PUTs that got no answer."""
    import pandas as pd

    if metadata_calls is None or metadata_calls.empty or \
            not {"method", "path"} <= set(metadata_calls.columns):
        return pd.Series(dtype=float)
    mine = metadata_calls[(metadata_calls["env"] == env) & (metadata_calls["status"] == 0)
                          & (metadata_calls["method"].astype(str).str.upper() == "PUT")
                          & metadata_calls["path"].astype(str).str.contains(TOKEN_PATH,
                                                                           regex=False)]
    return mine["duration_ms"].astype(float)


@dataclass(frozen=True)
class HopLimitCost:
    per_refresh_ms: float      # added to every refresh
    one_time_ms: float         # paid once by SDKs that remember the failure
    source: str                # what decided it: measured PUTs or the SDK's timeout


def hop_limit_cost(sdk: str, measured_ms: pd.Series | None = None,
                   recorded: int = 0) -> HopLimitCost:
    """What unanswered token PUTs add per refresh.

    Whether the PUTs go unanswered is the evidence's to say (`recorded` fetches that timed out
    on the PUT, `measured_ms` the waits of timed-out PUTs the collector timed): it beats the
    configured hop limit. How long the SDK waits for each is its own timeout, which the
    table knows for most SDKs: a recorded wait is the recording client's timeout (curl -m,
    `latency-gap collect --timeout`), so it stands in only where the table does not know it.
    """
    client = CLIENTS.get(sdk)
    seen = len(measured_ms) if measured_ms is not None else 0
    said = ""
    if seen or recorded:
        parts = [f"{seen} timed token PUTs (a median {float(measured_ms.median()):.0f} ms "
                 "each, the recording client's timeout)" if seen else "",
                 f"{recorded} captured fetches" if recorded else ""]
        said = f"evidence: {' and '.join(p for p in parts if p)} got no answer to the PUT; "
    if client is None or client.put_attempts == 0:
        if seen:
            wait = float(measured_ms.median())
            return HopLimitCost(wait, 0.0, f"{said}measured: {sdk}'s own timeout is not in "
                                f"the table, so the recorded wait, {wait:.0f} ms per refresh")
        return HopLimitCost(0.0, 0.0, f"{said}{sdk}: IMDSv2 fallback not modelled")
    how = (f"{sdk} remembers the failed PUT and uses IMDSv1 from then on: "
           f"~{client.one_time_s():g} s once" if client.remembers_failure else
           f"{sdk} waits {client.puts_when_failing} x {client.put_attempts} x "
           f"{client.put_timeout_s:g} s per refresh, then IMDSv1")
    return HopLimitCost(client.penalty_s() * 1000, client.one_time_s() * 1000,
                        f"{said}model: {how} ({client.source.split(' (')[0]})")


#: HOP_LIMIT_FIX as a command to paste, once per node (or MetadataOptions in the launch template)
HOP_LIMIT_CODE = ("aws ec2 modify-instance-metadata-options --instance-id <node-instance-id> "
                  "\\\n  --http-put-response-hop-limit 2 --http-endpoint enabled")
#: what to change so the token PUT's answer reaches the pod
HOP_LIMIT_FIX = ("Set the node's instance metadata HttpPutResponseHopLimit to 2 (aws ec2 "
                 "modify-instance-metadata-options --http-put-response-hop-limit 2, or the "
                 "launch template's MetadataOptions) so the token PUT's answer reaches the pod, "
                 "or give the pod its own role with IRSA or EKS Pod Identity (neither goes "
                 "through IMDS).")
