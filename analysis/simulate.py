"""A deterministic simulator of the evidence a migrating team collects.

It writes the bundled example services under data/ in the real formats: ALB access logs
(gzipped) on EC2, ingress-nginx access logs on Kubernetes, dig output (whole answers and
grep'd `;; Query time` lines), IMDS credential documents as curl prints them, and resolv.conf.
The ground truth (who pays what) lives in each Scenario; the analysis has to find it again
from the files alone.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.errors import LatencyGapError

START = pd.Timestamp("2026-11-24T10:00:00Z")
K8S_SEARCH = ("{ns}.svc.cluster.local", "svc.cluster.local", "cluster.local",
              "eu-west-1.compute.internal")
DIG_VERSION = "9.18.28-1~deb12u2-Debian"


@dataclass(frozen=True)
class EnvScenario:
    """What one environment does to each request (the ground truth)."""

    resolv_conf: str
    dns_query_ms: tuple[float, float]     # per-query time range of the resolver (uniform)
    dns_first_query_ms: float | None = None   # a cold cache's first answer (EC2 local cache)
    names_tried: int = 1                  # search-list expansion: names queried per lookup
    #: of those, how many CoreDNS answers itself (under the cluster domain: no upstream), and
    #: what one of them costs (uniform); the others cost dns_query_ms
    local_names: int = 0
    dns_local_ms: tuple[float, float] = (0.5, 1.5)
    credential_lifetime_s: float = 6 * 3600
    credential_poll_s: float = 600        # how often the team curled the metadata endpoint
    renew_before_s: float = 300           # the provider renews this long before expiry
    refresh_every_request: bool = False   # does the SDK fetch credentials on each request
    refresh_lock: bool = False            # do concurrent refreshes queue on one lock (Java v1)
    aws_calls: float = 1.0                # AWS calls per request (1.5: 1 or 2), each refreshing
    metadata_call_ms: float = 1.0         # one metadata HTTP call, median
    #: periodic refreshes: every this many seconds (half of it in) the next request pays one
    refresh_interval_s: float | None = None
    calls_per_refresh: int = 2            # calls of a periodic refresh (STS, container: 1)
    hop_timeout_ms: float = 0.0           # per refresh: token PUTs waiting for no answer
    #: what the team captured: "imds" documents, "container" documents (Pod Identity: no
    #: LastUpdated, the fetch time in FetchedAt), or "none" (IRSA: no endpoint to curl)
    credential_style: str = "imds"
    token_put_timeouts: bool = False      # the captures show token PUTs timing out
    dig_style: str = "answers"            # "answers", "grepped" or "per-name" (each name of
                                          # the walk queried, as latency-gap collect does)
    extra_ms: float = 0.0                 # a slowdown neither cause explains (CPU limits, ...)
    dns_stall_rate: float = 0.0           # share of names queried that wait out a timeout
    dns_stall_ms: float = 5000.0          # what a stall costs (glibc's 5 s timeout)
    dig_samples: int = 120                # dig lookups in the evidence

    def __post_init__(self):
        if not 0 <= self.local_names <= self.names_tried:
            raise ValueError(f"local_names {self.local_names} must be within names_tried "
                             f"{self.names_tried}")


@dataclass(frozen=True)
class Scenario:
    name: str
    service_yaml: dict
    base_ms: float
    ec2: EnvScenario
    k8s: EnvScenario
    rate_per_s: float = 0.5
    duration_s: float = 3600
    seed: int = 0
    extra: dict = field(default_factory=dict)


def _resolv(nameserver: str, search: tuple[str, ...] = (), options: str = "") -> str:
    lines = [f"search {' '.join(search)}"] if search else []
    lines.append(f"nameserver {nameserver}")
    if options:
        lines.append(f"options {options}")
    return "\n".join(lines) + "\n"


def _k8s_search(ns: str) -> tuple[str, ...]:
    return tuple(s.format(ns=ns) for s in K8S_SEARCH)


EC2_RESOLV = _resolv("127.0.0.53", ("eu-west-1.compute.internal",), "edns0 trust-ad")

SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            name="search-api", base_ms=20.0, seed=11,
            service_yaml={
                "name": "search-api", "sdk": "aws-java-sdk-v1", "credential_provider": "kiam",
                "dns": {"names": ["elastic.example.com"], "lookups_per_request": 2,
                        "cache_ttl_s": 30},
                "budget": {"p50_ms": 10, "p99_ms": 50},
            },
            ec2=EnvScenario(EC2_RESOLV, (0, 0), dns_first_query_ms=2),
            k8s=EnvScenario(
                _resolv("172.20.0.10", _k8s_search("search"), "ndots:5"), (20, 45),
                names_tried=5, local_names=3, credential_lifetime_s=900, credential_poll_s=120,
                refresh_every_request=True, refresh_lock=True, metadata_call_ms=42.0,
                dig_style="grepped"),
        ),
        Scenario(
            name="listings-api", base_ms=25.0, seed=23,
            service_yaml={
                "name": "listings-api", "sdk": "aws-sdk-go-v2",
                "credential_provider": "kube2iam",
                "dns": {"names": ["catalog.example.com"], "lookups_per_request": 1,
                        "cache_ttl_s": 0},
                "budget": {"p50_ms": 10, "p99_ms": 50},
            },
            ec2=EnvScenario(EC2_RESOLV, (0, 1), dig_style="grepped"),
            k8s=EnvScenario(
                _resolv("172.20.0.10", _k8s_search("listings"), "ndots:5"), (6, 12),
                names_tried=5, local_names=3, credential_lifetime_s=1800,
                credential_poll_s=300),
        ),
        Scenario(
            name="payments-api", base_ms=30.0, seed=37,
            service_yaml={
                "name": "payments-api", "sdk": "aws-java-sdk-v2", "credential_provider": "kiam",
                "dns": {"names": ["ledger.example.com."], "lookups_per_request": 1},
                "budget": {"p50_ms": 10, "p99_ms": 50},
            },
            ec2=EnvScenario(EC2_RESOLV, (0, 1)),
            k8s=EnvScenario(
                _resolv("169.254.20.10", _k8s_search("payments"), "ndots:2"), (0, 1),
                credential_lifetime_s=3600, credential_poll_s=300),
        ),
    )
}


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(rng.normal(0.0, sigma, n))


def _dns_overhead(rng, arrivals_s: np.ndarray, env: EnvScenario, dns: dict) -> np.ndarray:
    """Per-request DNS time: a miss of the application's cache pays names_tried queries."""
    ttl = float(dns.get("cache_ttl_s", 30))
    lookups = int(dns.get("lookups_per_request", 1))
    names = len(dns.get("names", [])) or 1
    lo, hi = env.dns_query_ms
    forwarded = env.names_tried - env.local_names
    overhead = np.zeros(len(arrivals_s))
    for _ in range(names):
        filled = -np.inf
        for i, t in enumerate(arrivals_s):
            misses = lookups if ttl == 0 else int(t - filled >= ttl)
            if misses:
                filled = t
                overhead[i] += rng.uniform(lo, hi, misses * forwarded).sum()
                if env.local_names:
                    overhead[i] += rng.uniform(*env.dns_local_ms,
                                               misses * env.local_names).sum()
                if env.dns_stall_rate:  # a lost A/AAAA reply: the lookup waits the timeout
                    stalls = rng.binomial(misses * env.names_tried, env.dns_stall_rate)
                    overhead[i] += stalls * env.dns_stall_ms
    return overhead


def lock_waits(arrivals_s: np.ndarray, hold_ms: np.ndarray) -> np.ndarray:
    """Discrete-event simulation of one lock: each request, in arrival order, waits until the
    lock is free, then holds it for its fetch (FIFO); returns each request's wait in ms."""
    waits = np.zeros(len(arrivals_s))
    free_at = -np.inf
    for i, (arrival, hold) in enumerate(zip(arrivals_s * 1000.0, hold_ms, strict=True)):
        start = max(arrival, free_at)
        waits[i] = start - arrival
        free_at = start + hold
    return waits


def simulate_requests(scenario: Scenario, env_name: str) -> pd.DataFrame:
    """The requests one environment served: arrival, backend time, proxy total, status."""
    env: EnvScenario = getattr(scenario, env_name)
    rng = np.random.default_rng([scenario.seed, 0 if env_name == "ec2" else 1])
    gaps = rng.exponential(1.0 / scenario.rate_per_s, int(scenario.rate_per_s *
                                                          scenario.duration_s * 1.2))
    arrivals = np.cumsum(gaps)
    arrivals = arrivals[arrivals < scenario.duration_s]
    n = len(arrivals)
    base = _lognormal(rng, scenario.base_ms, 0.18, n)
    credential = np.zeros(n)
    if env.refresh_every_request:  # two metadata calls: role listing + credentials
        credential = _lognormal(rng, env.metadata_call_ms, 0.25, n) + \
            _lognormal(rng, env.metadata_call_ms, 0.25, n)
        if env.aws_calls != 1.0:  # each AWS call of a request refreshes again
            from analysis.models.credentials import aws_calls

            calls_rng = np.random.default_rng([scenario.seed, 8 if env_name == "ec2" else 9])
            calls = aws_calls(env.aws_calls, calls_rng, n)  # 1.5: 1 or 2 calls, half each
            credential = np.where(calls == 0, 0.0, credential)
            for k in range(2, int(calls.max()) + 1):
                credential = credential + (calls >= k) * (
                    _lognormal(calls_rng, env.metadata_call_ms, 0.25, n)
                    + _lognormal(calls_rng, env.metadata_call_ms, 0.25, n))
        if env.refresh_lock:
            credential = credential + lock_waits(arrivals, credential)
    elif env.refresh_interval_s:  # the first request after each refresh moment pays it
        paid = np.random.default_rng([scenario.seed, 6 if env_name == "ec2" else 7])
        due = np.arange(env.refresh_interval_s / 2, scenario.duration_s, env.refresh_interval_s)
        for i in np.unique(np.searchsorted(arrivals, due)):
            if i < n:
                credential[i] = _lognormal(paid, env.metadata_call_ms, 0.25,
                                           env.calls_per_refresh).sum() + env.hop_timeout_ms
    dns = _dns_overhead(rng, arrivals, env, scenario.service_yaml.get("dns", {}))
    backend = base + credential + dns + env.extra_ms
    proxy = rng.uniform(0.5, 3.0, n)
    return pd.DataFrame({
        "start": START + pd.to_timedelta(arrivals, unit="s"),
        # the ground truth, never written to the evidence files
        "base_ms": base, "credential_refresh_ms": credential, "dns_ms": dns,
        "extra_ms": np.full(n, env.extra_ms),
        "backend_ms": np.round(backend, 0),
        "total_ms": np.round(backend + proxy, 0),
        "status": rng.choice([200, 200, 200, 200, 200, 200, 200, 200, 200, 404], n),
        "bytes": rng.integers(300, 4000, n),
    })


def true_attribution(scenario: Scenario, env_name: str = "k8s") -> dict[str, dict[str, float]]:
    """What each cause really adds at p50/p90/p99 in the simulated candidate (Shapley values,
    as the analysis computes them, but on the per-request truth instead of a model)."""
    from analysis.attribution import shapley
    from analysis.stats import QUANTILES

    requests = simulate_requests(scenario, env_name)
    base = requests["base_ms"].to_numpy()
    parts = {"credential_refresh": requests["credential_refresh_ms"].to_numpy(),
             "dns": requests["dns_ms"].to_numpy(), "unexplained": requests["extra_ms"].to_numpy()}
    truth = {}
    for name, q in QUANTILES.items():
        q0 = np.quantile(base, q)

        def value(subset, q=q, q0=q0):
            return float(np.quantile(base + sum((parts[c] for c in subset), 0.0), q) - q0)

        truth[name] = shapley(value, tuple(parts))
    return truth


def _alb_lines(requests: pd.DataFrame, service: str) -> list[str]:
    lines = []
    for r in requests.itertuples():
        end = r.start + pd.Timedelta(milliseconds=r.total_ms)
        req_s = (r.total_ms - r.backend_ms) / 2000
        lines.append(
            f'https {end:%Y-%m-%dT%H:%M:%S.%fZ} app/{service}/50dc6c495c0c9188 '
            f'203.0.113.{r.Index % 250 + 1}:{40000 + r.Index % 20000} 10.0.1.17:8080 '
            f'{req_s:.3f} {r.backend_ms / 1000:.3f} {req_s:.3f} {r.status} {r.status} 312 '
            f'{r.bytes} "GET https://{service}.example.com:443/v1/items?id={r.Index} HTTP/1.1" '
            f'"okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
            f'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{service}/'
            f'6d0ecf831eec9f09 "Root=1-6743{r.Index:08x}-36d228ad5d99923122bbe354" '
            f'"{service}.example.com" "-" 0 {r.start:%Y-%m-%dT%H:%M:%S.%fZ} "forward" "-" "-" '
            f'"10.0.1.17:8080" "{r.status}" "-" "-" TID_{r.Index:032x}'
        )
    return lines


def _nginx_lines(requests: pd.DataFrame, service: str) -> list[str]:
    lines = []
    for r in requests.itertuples():
        end = r.start + pd.Timedelta(milliseconds=r.total_ms)
        lines.append(
            f'10.0.3.{r.Index % 250 + 1} - - [{end:%d/%b/%Y:%H:%M:%S +0000}] '
            f'"GET /v1/items?id={r.Index} HTTP/1.1" {r.status} {r.bytes} "-" "okhttp/4.12.0" '
            f'312 {r.total_ms / 1000:.3f} [{service}-{service}-8080] [] 10.1.22.7:8080 '
            f'{r.bytes} {r.backend_ms / 1000:.3f} {r.status} {r.Index:032x}'
        )
    return lines


def _dig_answer(name: str, ms: int, server: str, when: pd.Timestamp, qid: int,
                stalled: bool = False, status: str = "NOERROR") -> str:
    fqdn = name.rstrip(".") + "."
    # dig 9.16+ prints a try that timed out before the banner of the lookup it belongs to
    timed_out = f";; communications error to {server}#53: timed out\n" if stalled else ""
    return (
        f"{timed_out}\n; <<>> DiG {DIG_VERSION} <<>> {name}\n;; global options: +cmd\n"
        ";; Got answer:\n"
        f";; ->>HEADER<<- opcode: QUERY, status: {status}, id: {qid}\n"
        ";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n\n"
        ";; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n"
        f";; QUESTION SECTION:\n;{fqdn}\t\tIN\tA\n\n;; ANSWER SECTION:\n"
        f"{fqdn}\t30\tIN\tA\t10.20.30.{qid % 200 + 10}\n\n"
        f";; Query time: {ms} msec\n;; SERVER: {server}#53({server}) (UDP)\n"
        f";; WHEN: {when:%a %b %d %H:%M:%S} UTC {when:%Y}\n;; MSG SIZE  rcvd: 64\n"
    )


def _dig_text(rng, scenario: Scenario, env: EnvScenario) -> str:
    names = scenario.service_yaml["dns"]["names"]
    server = env.resolv_conf.split("nameserver ")[1].split()[0]
    lo, hi = env.dns_query_ms
    parts = []
    if env.dig_style == "per-name":
        return _per_name_dig(rng, names, server, env)
    for i in range(env.dig_samples):  # a dig every 30 s
        name = names[i % len(names)]
        ms = int(round(rng.uniform(lo, hi)))
        stalled = bool(env.dns_stall_rate) and rng.random() < env.dns_stall_rate
        if i == 0 and env.dns_first_query_ms is not None:
            ms = int(env.dns_first_query_ms)
        if env.dig_style == "grepped":  # a stall behind the server shows in the query time
            parts.append(f";; Query time: {ms + stalled * int(env.dns_stall_ms)} msec\n")
        else:
            when = START + pd.Timedelta(seconds=30 * i)
            parts.append(_dig_answer(name, ms, server, when, int(rng.integers(1, 65535)),
                                     stalled))
    return "".join(parts)


def _per_name_dig(rng, names: list[str], server: str, env: EnvScenario) -> str:
    """What latency-gap collect writes: every 30 s, each name glibc's walk queries, dug one by
    one; names under the cluster domain cost dns_local_ms, the others dns_query_ms."""
    from analysis.models.dns_cost import answered_locally
    from analysis.models.search_list import names_queried

    words = {line.split()[0]: line.split()[1:] for line in env.resolv_conf.splitlines()
             if line.split()}
    search = words.get("search", [])
    ndots = next((int(o[6:]) for o in words.get("options", []) if o.startswith("ndots:")), 1)
    parts = []
    for i in range(120):
        when = START + pd.Timedelta(seconds=30 * i)
        for name in names:
            walk = names_queried(name, search, ndots)
            for k, queried in enumerate(walk):
                local = answered_locally(queried, search)
                ms = int(round(rng.uniform(*(env.dns_local_ms if local else env.dns_query_ms))))
                status = "NOERROR" if k == len(walk) - 1 else "NXDOMAIN"
                parts.append(_dig_answer(queried.rstrip("."), ms, server, when,
                                         int(rng.integers(1, 65535)), status=status))
    return "".join(parts)


def _secret(rng, n: int) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"))
    return "".join(rng.choice(alphabet, n))


def _credential_docs(rng, env: EnvScenario) -> list[str]:
    """What `curl .../security-credentials/<role>` printed at each poll."""
    docs, issued, key = [], START - pd.Timedelta(seconds=env.credential_lifetime_s / 3), None
    for i in range(int(3600 // env.credential_poll_s) + 1):
        now = START + pd.Timedelta(seconds=i * env.credential_poll_s)
        # the provider hands out a new credential before the old one gets too short (KIAM:
        # --session-refresh, 5 min by default)
        if key is None or (issued + pd.Timedelta(seconds=env.credential_lifetime_s) - now) \
                < pd.Timedelta(seconds=env.renew_before_s):
            issued = now - pd.Timedelta(seconds=int(rng.integers(0, 60)))
            key = "ASIA" + _secret(rng, 16).upper().replace("+", "X").replace("/", "Y")
            secret, token = _secret(rng, 40), _secret(rng, 320)
        expiration = issued + pd.Timedelta(seconds=env.credential_lifetime_s)
        document = {
            "Code": "Success", "LastUpdated": f"{issued:%Y-%m-%dT%H:%M:%SZ}", "Type": "AWS-HMAC",
            "AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
            "Expiration": f"{expiration:%Y-%m-%dT%H:%M:%SZ}",
        } if env.credential_style == "imds" else {  # the container endpoint's answer
            "AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
            "AccountId": "123456789012", "Expiration": f"{expiration:%Y-%m-%dT%H:%M:%SZ}",
            "FetchedAt": f"{now:%Y-%m-%dT%H:%M:%SZ}"}
        docs.append(json.dumps(document, indent=2, separators=(",", " : ")) + "\n")
    return docs


#: a token PUT that got no answer, as a terminal shows it (the hop-limit symptom)
TOKEN_PUT_TIMEOUT = ("$ curl -s -m 1 -X PUT http://169.254.169.254/latest/api/token -H "
                     "'X-aws-ec2-metadata-token-ttl-seconds: 21600'\n"
                     "curl: (28) Connection timed out after 1001 milliseconds\n")


def _metadata_calls(scenario: Scenario, env_name: str) -> str:
    """What the collector's timed curl calls recorded: two GETs per credential poll."""
    env: EnvScenario = getattr(scenario, env_name)
    rng = np.random.default_rng([scenario.seed, 4 if env_name == "ec2" else 5])
    role = "/latest/meta-data/iam/security-credentials/"
    rows = ["time,method,path,status,duration_ms"]
    for i in range(int(3600 // env.credential_poll_s) + 1):
        when = START + pd.Timedelta(seconds=i * env.credential_poll_s)
        if env.token_put_timeouts:  # the collector's PUT waited its 1 s timeout
            rows.append(f"{when:%Y-%m-%dT%H:%M:%SZ},PUT,/latest/api/token,0,1001.0")
        for path in (role, role + f"{scenario.name}-role"):
            ms = float(_lognormal(rng, env.metadata_call_ms, 0.25, 1)[0])
            rows.append(f"{when:%Y-%m-%dT%H:%M:%SZ},GET,{path},200,{ms:.1f}")
    return "\n".join(rows) + "\n"


def _write_gzip(path: Path, text: str) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                mtime=0) as gz:
        gz.write(text.encode())


def write_service(scenario: Scenario, root: Path) -> Path:
    """Write one simulated service's evidence folder under root; returns the folder."""
    folder = root / scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "service.yaml").write_text(yaml.safe_dump(scenario.service_yaml, sort_keys=False))
    for env_name in ("ec2", "k8s"):
        env: EnvScenario = getattr(scenario, env_name)
        rng = np.random.default_rng([scenario.seed, 2 if env_name == "ec2" else 3])
        for kind in ("latency", "dig", "credentials", "metadata"):
            (folder / env_name / kind).mkdir(parents=True, exist_ok=True)
        (folder / env_name / "resolv.conf").write_text(env.resolv_conf)
        requests = simulate_requests(scenario, env_name)
        if env_name == "ec2":  # one gzipped file per load balancer node
            for node, part in enumerate((requests.iloc[::2], requests.iloc[1::2])):
                name = f"123456789012_elasticloadbalancing_eu-west-1_app.{scenario.name}" \
                       f".50dc6c495c0c9188_20261124T1000Z_10.0.0.{node + 5}_x{node}.log.gz"
                _write_gzip(folder / env_name / "latency" / name,
                            "\n".join(_alb_lines(part, scenario.name)) + "\n")
        else:
            (folder / env_name / "latency" / "ingress-nginx.log").write_text(
                "\n".join(_nginx_lines(requests, scenario.name)) + "\n")
        (folder / env_name / "dig" / "dig.txt").write_text(_dig_text(rng, scenario, env))
        if env.credential_style == "none":  # IRSA: STS answers the SDK; nothing to curl
            continue
        (folder / env_name / "metadata" / "calls.csv").write_text(
            _metadata_calls(scenario, env_name))
        docs = _credential_docs(rng, env)
        if env.token_put_timeouts:
            (folder / env_name / "credentials" / "token-put.txt").write_text(
                TOKEN_PUT_TIMEOUT * 2)
        if env_name == "ec2":  # one `curl -o` file per poll
            for i, doc in enumerate(docs):
                (folder / env_name / "credentials" / f"credentials-{i:02d}.json").write_text(doc)
        else:  # `curl` in a loop, appended to one file
            (folder / env_name / "credentials" / "credentials.json").write_text("".join(docs))
    return folder


def fleet(n: int) -> list[Scenario]:
    """n services for fleet tests and benchmarks: the examples in turn, each with its own
    name and seed (`search-api-07`), so their evidence and fingerprints differ."""
    names = sorted(SCENARIOS)
    out = []
    for i in range(n):
        base = SCENARIOS[names[i % len(names)]]
        name = f"{base.name}-{i:02d}"
        out.append(replace(base, name=name, seed=base.seed * 1000 + i,
                           service_yaml={**base.service_yaml, "name": name}))
    return out


def simulate(out: Path, names: list[str] | None = None, fleet_size: int | None = None,
             force: bool = False, say: Callable[[str], None] = lambda message: None,
             ) -> list[Path]:
    """`latency-gap simulate`: write the named examples (all without names), or `fleet_size`
    services cycling through them, under `out`; existing folders only with `force`."""
    scenarios = fleet(fleet_size) if fleet_size else \
        [SCENARIOS[n] for n in names or sorted(SCENARIOS)]
    existing = [s.name for s in scenarios if (out / s.name).exists()]
    if existing and not force:
        raise LatencyGapError(f"{', '.join(existing)} already exist under {out}; evidence is "
                              "never overwritten without --force")
    written = []
    for scenario in scenarios:
        written.append(write_service(scenario, out))
        say(f"wrote {written[-1]}")
    return written


def write_examples(root: Path, names: list[str] | None = None) -> list[Path]:
    """Write the bundled example services (all, or the named ones) under root."""
    unknown = sorted(set(names or []) - set(SCENARIOS))
    if unknown:
        raise ValueError(f"unknown example(s) {unknown}; known: {sorted(SCENARIOS)}")
    return [write_service(SCENARIOS[n], root) for n in (names or sorted(SCENARIOS))]
