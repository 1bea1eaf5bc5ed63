"""The bundled examples: made by the simulator (or, orders-api, from real captures by
scripts/capture-example), small, and judged right by the library."""

import filecmp
import shutil

import pytest

from analysis import attribution, findings, simulate
from analysis.capture.evidence import inspect_capture
from analysis.ingest import load_evidence
from analysis.service import load_config
from tests.conftest import EXAMPLES, tree_digest

SIMULATED = {"search-api": "credential_refresh", "listings-api": "dns",
             "payments-api": "none"}
#: made from packet captures on loopback (scripts/capture-example, tests/test_capture_example.py)
CAPTURED = {"orders-api": "both"}
EXPECTED = {**SIMULATED, **CAPTURED}


def test_every_example_folder_has_a_story_here():
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()) == sorted(EXPECTED)


def test_committed_examples_are_exactly_what_the_simulator_writes(tmp_path):
    simulate.write_examples(tmp_path)
    for service in SIMULATED:
        diff = filecmp.dircmp(tmp_path / service, EXAMPLES / service)
        stack, mismatched = [diff], []
        while stack:
            d = stack.pop()
            mismatched += d.left_only + d.right_only
            _, bad, errors = filecmp.cmpfiles(d.left, d.right, d.common_files, shallow=False)
            mismatched += bad + errors
            stack += d.subdirs.values()
        assert not mismatched, f"{service}: run `make simulate` ({mismatched})"


def test_examples_stay_under_3_mb():
    size = sum(p.stat().st_size for p in EXAMPLES.rglob("*") if p.is_file())
    assert size < 3 * 1024 * 1024
    captured = sum(p.stat().st_size for p in (EXAMPLES / "orders-api").rglob("*")
                   if p.is_file())
    assert captured < 1.5 * 1024 * 1024


def test_the_simulator_never_touches_a_captured_example(tmp_path):
    """`latency-gap simulate --force` rewrites its own examples, and only them."""
    shutil.copytree(EXAMPLES / "orders-api", tmp_path / "orders-api")
    before = tree_digest(tmp_path / "orders-api")
    simulate.simulate(tmp_path, force=True)
    assert tree_digest(tmp_path / "orders-api") == before
    assert set(simulate.SCENARIOS).isdisjoint(CAPTURED)


@pytest.mark.parametrize("service, cause", EXPECTED.items())
def test_example_verdicts(service, cause):
    config = load_config(EXAMPLES / service)
    evidence = load_evidence(EXAMPLES / service, config)
    result = attribution.analyse(evidence, config)
    assert result.verdict["cause"] == cause
    assert result.verdict["ready"] is (cause == "none")
    assert evidence.inputs["rejected"].sum() == 0
    found = findings.findings(result, config, evidence)
    if cause != "none":
        assert found[0]["severity"] == "blocker"


def test_search_api_matches_the_migration_story():
    config = load_config(EXAMPLES / "search-api")
    result = attribution.analyse(load_evidence(EXAMPLES / "search-api", config), config)
    assert 15 <= result.latency_ms["ec2"]["p50"] <= 25
    assert 100 <= result.latency_ms["k8s"]["p50"] <= 200
    p50 = result.attribution_ms["p50"]
    assert p50["credential_refresh"] == pytest.approx(result.gap_ms["p50"]["value"], abs=10)
    # DNS misses show in the tail only: a whole walk at p99, 3 names CoreDNS answers itself
    # (~1 ms) and 2 forwarded (~32 ms), not 5 x the dig median
    # (docs/method.md, "Per-name cost")
    assert result.attribution_ms["p50"]["dns"] < 5 and 35 < result.attribution_ms["p99"]["dns"] < 80
    assert result.dns["k8s"].source == "model"


def test_missing_dig_evidence_is_reported_not_ignored(example_copy):
    folder = example_copy("listings-api")
    shutil.rmtree(folder / "k8s" / "dig")
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    assert ("k8s", "dig") in evidence.missing()
    result = attribution.analyse(evidence, config)
    ids = {f["id"] for f in findings.findings(result, config, evidence)}
    assert "missing-dig-k8s" in ids
    assert result.verdict["cause"] == "inconclusive"


def test_orders_api_is_measured_from_its_captures():
    """ec2: the lookup is one A/AAAA pair and no request calls the metadata endpoint (its
    credentials live 6 h); k8s: each lookup walks 3 search domains first (8 queries, the
    last pair forwarded upstream: 15 ms) and each request refreshes its 15-minute
    credentials (token PUT, role, token PUT, document). Both causes, measured."""
    folder = EXAMPLES / "orders-api"
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    assert evidence.inputs["rejected"].sum() == 0 and not evidence.missing()
    requests = evidence.capture_requests.set_index("env")
    for env, dns, calls in (("ec2", 2, 0), ("k8s", 8, 4)):
        measured = requests.loc[env]
        assert len(measured) == 400 and not measured["ambiguous"].any()
        assert set(measured["dns_queries"]) == {dns} and set(measured["metadata_calls"]) == {calls}
    k8s = inspect_capture(next((folder / "k8s" / "pcap").iterdir()), config.capture)
    assert (k8s["requests"], k8s["dns_queries"], k8s["metadata_calls"]) == (400, 3200, 1600)
    assert k8s["dns_rcodes"] == {"NXDOMAIN": 2400, "NOERROR": 800}
    assert k8s["metadata_endpoints"] == {"IMDS": 1600} and k8s["unreadable"] == {}
    result = attribution.analyse(evidence, config)
    gap = result.gap_ms["p50"]["value"]
    found = findings.findings(result, config, evidence)
    blockers = [f["id"] for f in found if f["severity"] == "blocker"]
    assert gap > 25 and blockers == ["credential-refresh-every-request", "dns-search-expansion"]
    # every name was timed: the finding says the median mixes local and forwarded names
    # instead of "the resolver answers in a median 0 ms" beside a 16 ms forwarded name
    dns_said = next(f["evidence"] for f in found if f["id"] == "dns-search-expansion")
    assert "dig timed every name tried (80 lookups, local and forwarded together" in dns_said
    assert "the resolver answers" not in dns_said
    # a single poll session shows no renewal: said in words, the number of fetches counted
    creds_said = next(f["evidence"] for f in found if f["id"] == blockers[0])
    assert "the least left over 10 fetches of the credential documents; no renewal" in creds_said
    # what the capture measured agrees: each cause is well over a quarter of the gap (the
    # rule for `both`), and together they are the gap
    k8s_requests = requests.loc["k8s"]
    metadata, dns = k8s_requests["metadata_ms"].median(), k8s_requests["dns_ms"].median()
    assert metadata > gap / 2 and gap / 3 < dns < gap / 2
    assert 0.8 * gap < metadata + dns < 1.2 * gap


def test_no_secret_shaped_value_in_the_captured_example():
    """The emulator ran with --example-values: every key and token in the captures says
    EXAMPLE, and the collector's documents hold none at all."""
    import gzip
    import re

    for path in (EXAMPLES / "orders-api").rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        assert not re.search(rb"(AKIA|ASIA)[A-Z0-9]{16}", data), path
        # the emulator's random tokens and keys (without --example-values) are long runs of
        # URL-safe base64
        assert not re.search(rb"[A-Za-z0-9_-]{40,}", data), path
    tokens = gzip.decompress((EXAMPLES / "orders-api" / "k8s" / "pcap" / "k8s.pcap.gz")
                             .read_bytes()).count(b"EXAMPLE-imdsv2-token-")
    assert tokens == 2 * 400  # the token PUTs' answers: the snap length keeps them whole


def test_orders_api_access_logs_agree_with_its_captures():
    """The backend time each access log line gives (the service's own, kernel-stamped) is
    the time the capture shows between the request's first byte and the response's last,
    within the log's rounding to a millisecond: request by request, in order."""
    folder = EXAMPLES / "orders-api"
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    for env in ("ec2", "k8s"):
        logged = evidence.latency[evidence.latency["env"] == env].sort_values("line")
        captured = evidence.capture_requests[evidence.capture_requests["env"] == env]
        captured = captured.sort_values("start")
        difference = logged["latency_ms"].to_numpy() - captured["total_ms"].to_numpy()
        assert abs(difference).max() <= 0.6, env
