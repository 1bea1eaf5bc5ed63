import json

import pytest

from analysis import preflight
from analysis.cli import main
from analysis.ingest.resolv import parse_resolv_conf
from analysis.models import credentials as cred_model
from analysis.models.credentials import POLICIES
from tests.conftest import EXAMPLES, FIXTURES


def test_kiam_15_minutes_with_java_v1_is_a_blocker():
    result = preflight.check("aws-java-sdk-v1", "kiam", None, None, [])
    assert result.lifetime_s == 900 and result.blocked
    finding = result.findings[0]
    assert finding.id == "credential-refresh-every-request"
    # 86 ms of fetch plus the lock wait at 1 req/s: 1 x 0.086^2 / (2 x 0.914) s = 4 ms
    assert finding.added_ms_per_request == pytest.approx(90.0, abs=0.2)
    assert "--session-refresh" in finding.fix


def test_java_v1_requests_queue_on_the_credential_lock(capsys):
    """Java v1's fetcher is synchronized; at 8 req/s the wait nearly doubles the
    cost (M/D/1), at 15 req/s (above 1 / 86 ms) the lock saturates."""
    assert main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--rate", "8",
                 "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["added_ms_per_request"] == pytest.approx(86 + 94.8, abs=1)
    assert "mean wait of ~95 ms" in out["findings"][0]["evidence"]
    assert main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--rate", "15",
                 "--json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert finding["severity"] == "blocker" and finding["id"] == "credential-lock-saturated"
    assert "saturated: the lock serves at most 1/S = 11.6 req/s" in finding["evidence"]
    assert main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--rate", "15",
                 "--session-duration", "60m", "--session-refresh", "20m", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


def test_sdks_that_do_not_serialise_refreshes_pay_no_lock_wait():
    result = preflight.check("botocore", "kiam", None, None, [], rate_per_s=8,
                             sdk_version="1.24.0")
    # two GETs through kiam (43 ms each) and the token PUT, which kiam's agent passes straight
    # to the node's IMDS (~1 ms): no wait for a lock on top
    assert result.findings[0].added_ms_per_request == pytest.approx(2 * 43.0 + 1.0)
    assert "lock" not in result.findings[0].evidence


@pytest.mark.parametrize("version, blocked, finding", [
    ("1.24.96", True, "credential-refresh-every-request"),
    ("1.25.0", False, "botocore-short-expiry"),
    ("1.35.2", False, "botocore-short-expiry"),
])
def test_botocore_with_kiam_depends_on_the_version(version, blocked, finding):
    result = preflight.check("botocore", "kiam", None, None, [], sdk_version=version)
    assert result.blocked is blocked
    assert [f.id for f in result.findings] == [finding]


def test_a_pushed_short_expiry_is_named_after_the_sdk_that_pushes_it():
    """JS v2 (>= 2.1090.0) pushes an expiry inside its 15 s window ahead as botocore does
    inside its 15 min one: each finding names its own SDK, window, release and source."""
    [js] = preflight.check("aws-sdk-js", "kiam", 10, None, [], sdk_version="2.1693.0").findings
    assert js.id == "aws-sdk-js-short-expiry"
    assert "aws-sdk-js's 15 s refresh window" in js.evidence and "(>= 2.1090," in js.evidence
    assert "botocore" not in js.evidence + js.fix and "before 2.1090 " in js.fix
    [boto] = preflight.check("botocore", "kiam", None, None, [], sdk_version="1.35.2").findings
    assert "botocore's 15 min refresh window" in boto.evidence and "PR #2664" in boto.evidence


@pytest.mark.parametrize("sdk", sorted(POLICIES))
def test_irsa_default_lifetime_is_fine_with_every_sdk(sdk):
    assert preflight.check(sdk, "irsa", None, None, []).findings == []


def test_ndots_expansion_is_found_from_resolv_conf_and_names():
    conf = parse_resolv_conf(FIXTURES / "resolv-k8s.conf")
    result = preflight.check(None, None, None, conf, ["catalog.example.com", "db.local."],
                             cache_ttl_s=0)
    [finding] = result.findings
    assert "queries 5 names" in finding.evidence
    # per-name cost: 3 names CoreDNS answers itself (assumed 1 ms), 2 forwarded (assumed 2 ms)
    assert finding.added_ms_per_request == \
        pytest.approx(3 * 1.0 + 2 * preflight.DEFAULT_QUERY_MS)


POD_CONF = ("search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal\n"
            "nameserver 10.100.0.10\noptions ndots:5\n")   # a pod's: ndots:5, 4 search domains


@pytest.mark.parametrize("name, args, code, tried", [
    ("es.search", ["--cache-ttl", "0", "--dns-ms", "30"], 0,
     "es.search: 2 (es.search.shop.svc.cluster.local., es.search.svc.cluster.local.)"),
    ("elastic.example.com.", [], 0, "elastic.example.com.: 1 (elastic.example.com.)"),
    ("elastic.example.com", ["--lookups-per-request", "2", "--cache-ttl", "10", "--rate", "0.5",
                             "--dns-ms", "30", "--budget-p50", "10", "--budget-p99", "50"], 1,
     "elastic.example.com: 5 (elastic.example.com.shop.svc"),
])
def test_each_name_of_a_walk_costs_what_its_resolver_makes_it_cost(tmp_path, capsys, name,
                                                                    args, code, tried):
    """An in-cluster name walks 2 names CoreDNS answers itself (cheap: within budget even
    with no cache); the trailing dot queries one name; an external name behind a 10 s cache
    misses 1 request in 6 at 0.5 req/s: nothing at p50, a whole 5-name walk (3 x 1 ms local
    + 2 x 30 ms forwarded) at p99, over its 50 ms budget."""
    (tmp_path / "pod.conf").write_text(POD_CONF)
    assert main(["preflight", "--resolv", str(tmp_path / "pod.conf"), "--names", name,
                 *args]) == code
    out = capsys.readouterr().out
    assert tried in out
    if code:
        assert "p50 0.0 ms (budget 10 ms: within); p99 63.0 ms (budget 50 ms: OVER)" in out
        assert "BLOCKED; DNS is over the p99 budget (63.0 ms > 50 ms)" in out
        assert f"Use {name}. (trailing dot)" in out
    elif name == "es.search":   # its fix keeps it resolving: never "es.search."
        assert "30.0 ms per forwarded query (given with --dns-ms)" in out
        assert "es.search.svc.cluster.local. (trailing dot" in out and "Use es.search." not in out


def test_p50_and_p99_are_judged_each_against_its_budget_in_json(tmp_path, capsys):
    (tmp_path / "pod.conf").write_text(POD_CONF)
    base = ["preflight", "--resolv", str(tmp_path / "pod.conf"), "--names",
            "elastic.example.com", "--dns-ms", "30", "--json"]
    assert main([*base, "--cache-ttl", "10", "--rate", "0.5"]) == 1
    dns = json.loads(capsys.readouterr().out)["dns"]
    assert dns["failed_budgets"] == ["p99"] and dns["source"] == "model"
    assert dns["p99"] == {"predicted_ms": 63.0, "budget_ms": 50.0, "verdict": "over budget"}
    assert dns["p50"]["verdict"] == "within budget"
    assert dns["names"]["elastic.example.com"]["cost_ms"] == [1.0, 1.0, 1.0, 30.0, 30.0]
    # a looser p99 budget passes; no cache puts every request over the p50 budget too
    assert main([*base, "--cache-ttl", "10", "--rate", "0.5", "--budget-p99", "70"]) == 0
    capsys.readouterr()
    assert main([*base, "--cache-ttl", "0"]) == 1
    assert json.loads(capsys.readouterr().out)["dns"]["failed_budgets"] == ["p50", "p99"]
    # a single forwarded query per request at 30 ms, no cache: over the p50 budget on its own
    assert main([*base[:4], "elastic.example.com.", *base[5:], "--cache-ttl", "0"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [f["id"] for f in out["findings"]] == ["dns-slow-resolver"]


def test_folder_mode_takes_budgets_from_service_yaml_and_the_rate_from_the_logs(example_copy):
    folder = example_copy("search-api")   # 10/50 ms budgets, 30 s cache, 2 lookups
    result = preflight.preflight_folder(folder)
    assert result.rate_source == "logs (k8s)" and result.rate_per_s == pytest.approx(0.5, abs=0.05)
    [cred] = [f for f in result.findings if f.id == "credential-refresh-every-request"]
    assert "~88 ms, measured: the timed metadata calls" in cred.evidence
    assert result.dns.budget_ms == {"p50": 10, "p99": 50}
    (folder / "service.yaml").write_text((folder / "service.yaml").read_text()
                                         .replace("p99_ms: 50", "p99_ms: 500"))
    assert preflight.preflight_folder(folder).dns.budget_ms["p99"] == 500
    loose = preflight.preflight_folder(folder, budget_p99=900)
    assert loose.dns.budget_ms["p99"] == 900


def test_the_query_time_says_where_it_comes_from(tmp_path, capsys, example_copy):
    (tmp_path / "pod.conf").write_text(POD_CONF)
    main(["preflight", "--resolv", str(tmp_path / "pod.conf"), "--names", "es.search"])
    assert "2.0 ms per forwarded query (assumed: no dig evidence; give --dns-ms)" \
        in capsys.readouterr().out
    folder = example_copy("search-api")   # dig samples in k8s/dig: they decide
    result = preflight.preflight_folder(folder, dns_ms=30.0)
    assert result.query_source == "dig, not --dns-ms" and result.query_ms != 30.0
    assert "--dns-ms not used" in preflight.render(result)


def test_a_folder_without_latency_logs(tmp_path, capsys):
    folder = tmp_path / "new-api"
    (folder / "k8s").mkdir(parents=True)
    (folder / "service.yaml").write_text(
        "sdk: aws-java-sdk-v1\ncredential_provider: kiam\n"
        "dns: {names: [elastic.example.com], cache_ttl_s: 0}\n")
    (folder / "k8s" / "resolv.conf").write_text(
        (EXAMPLES / "search-api" / "k8s" / "resolv.conf").read_text())
    assert main(["preflight", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "credential-refresh-every-request" in out and "dns-search-expansion" in out
    assert main(["preflight", "--sdk", "aws-java-sdk-v2", "--provider", "irsa"]) == 0


@pytest.mark.parametrize("args, code", [
    (["--session-duration", "60m", "--session-refresh", "20m"], 0),   # the fix the tool advises
    (["--lifetime", "15m"], 1),
    (["--lifetime", "900"], 1),
    (["--lifetime", "900s"], 1),
    (["--lifetime", "1h"], 1),     # KIAM's default refresh (5 min) still storms 60-min credentials
    (["--session-duration", "1h", "--session-refresh", "900s"], 0),   # at the threshold: none left
    (["--session-duration", "1h", "--session-refresh", "5m"], 1),     # under it: storms
])
def test_kiam_settings_are_options_and_durations_read_as_people_write_them(args, code, capsys):
    """The KIAM fix (--session-refresh=20m --session-duration=60m) clears the blocker;
    durations accept 900, 900s, 15m, 1h."""
    assert main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam",
                     *args]) == code, capsys.readouterr().out


@pytest.mark.parametrize("args, said", [
    (["--lifetime", "15"], "give a unit: 15m or 900s"),
    (["--session-duration", "10m"], "kiam-server refuses it"),
    (["--session-duration", "20m", "--session-refresh", "30m"], "shorter than session_duration"),
])
def test_impossible_kiam_settings_and_unitless_minutes_are_refused(args, said, capsys):
    try:
        code = main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam", *args])
    except SystemExit as exc:
        code = exc.code
    assert code in (1, 2) and said in capsys.readouterr().err


def test_measured_query_time_leaves_timeout_stalls_and_whole_lookups_out(example_copy):
    """As the DNS model: a timed-out dig is a stall, counted at its rate, not a query time;
    getaddrinfo lookups (search list included) are not the time of one query."""
    folder = example_copy("listings-api")

    def answer(name, ms, server="10.96.0.10#53(10.96.0.10)", banner="9.18.28"):
        return (f"; <<>> DiG {banner} <<>> {name}\n;; ->>HEADER<<- opcode: QUERY, status: "
                f"NOERROR, id: 1\n;; Query time: {ms} msec\n;; SERVER: {server}\n\n")

    lost = "; <<>> DiG 9.11.3 <<>> +time=1 x.example\n;; connection timed out; no servers " \
           "could be reached\n\n"
    (folder / "k8s" / "dig" / "dig.txt").write_text(
        answer("x.example", 10) * 3 + lost * 4
        + answer("x.example", 500, "getaddrinfo", "latency-gap-collect") * 4)
    [finding] = [f for f in preflight.preflight_folder(folder).findings
                 if f.id == "dns-search-expansion"]
    assert "catalog.example.com 10.0 ms forwarded" in finding.evidence
    assert "forwarded query time measured: median of the dig lookups" in finding.evidence


def test_failed_credential_fetches_leave_the_lifetime_to_the_provider_default(example_copy):
    folder = example_copy("search-api")
    for old in (folder / "k8s" / "credentials").iterdir():
        old.unlink()
    (folder / "k8s" / "credentials" / "pod.txt").write_text(
        "$ curl -X PUT http://169.254.169.254/latest/api/token -m 1\n"
        "curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received\n")
    result = preflight.preflight_folder(folder)
    assert result.lifetime_s == cred_model.served_lifetime_s("kiam")
    assert any(f.id == "credential-refresh-every-request" for f in result.findings)
