import json

import pytest

from analysis import preflight
from analysis.cli import main
from analysis.ingest.resolv import parse_resolv_conf
from analysis.models import credentials as cred_model
from analysis.models.credentials import POLICIES
from tests.conftest import EXAMPLES, FIXTURES


def test_kiam_15_minutes_with_java_v1_is_a_blocker():
    result = preflight.run("aws-java-sdk-v1", "kiam", None, None, [])
    assert result.lifetime_s == 900 and result.blocked
    finding = result.findings[0]
    assert finding["id"] == "credential-refresh-every-request"
    # 86 ms of fetch plus the lock wait at 1 req/s: 1 x 0.086^2 / (2 x 0.914) s = 4 ms
    assert finding["added_ms_per_request"] == pytest.approx(90.0, abs=0.2)
    assert "--session-refresh" in finding["fix"]


def test_java_v1_requests_queue_on_the_credential_lock(capsys):
    """Issue 14: Java v1's fetcher is synchronized; at 8 req/s the wait nearly doubles the
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
    result = preflight.run("botocore", "kiam", None, None, [], rate_per_s=8,
                           sdk_version="1.24.0")
    # two GETs through kiam (43 ms each) and the token PUT, which kiam's agent passes straight
    # to the node's IMDS (~1 ms): no wait for a lock on top
    assert result.findings[0]["added_ms_per_request"] == pytest.approx(2 * 43.0 + 1.0)
    assert "lock" not in result.findings[0]["evidence"]


@pytest.mark.parametrize("version, blocked, finding", [
    ("1.24.96", True, "credential-refresh-every-request"),
    ("1.25.0", False, "botocore-short-expiry"),
    ("1.35.2", False, "botocore-short-expiry"),
])
def test_botocore_with_kiam_depends_on_the_version(version, blocked, finding):
    result = preflight.run("botocore", "kiam", None, None, [], sdk_version=version)
    assert result.blocked is blocked
    assert [f["id"] for f in result.findings] == [finding]


@pytest.mark.parametrize("sdk", sorted(POLICIES))
def test_irsa_default_lifetime_is_fine_with_every_sdk(sdk):
    assert preflight.run(sdk, "irsa", None, None, []).findings == []


def test_ndots_expansion_is_found_from_resolv_conf_and_names():
    conf = parse_resolv_conf(FIXTURES / "resolv-k8s.conf")
    result = preflight.run(None, None, None, conf, ["catalog.example.com", "db.local."],
                           cache_ttl_s=0)
    [finding] = result.findings
    assert "queries 5 names" in finding["evidence"]
    assert finding["added_ms_per_request"] == pytest.approx(5 * preflight.DEFAULT_QUERY_MS)


POD_CONF = ("search shop.svc.cluster.local svc.cluster.local cluster.local "
            "eu-west-1.compute.internal\nnameserver 172.20.0.10\noptions ndots:5\n")


@pytest.mark.parametrize("name, code, tried", [
    ("es.search", 0, "es.search: 2 (es.search.shop.svc.cluster.local., "
                     "es.search.svc.cluster.local.)"),
    ("elastic.example.com.", 0, "elastic.example.com.: 1 (elastic.example.com.)"),
    ("elastic.example.com", 1, "elastic.example.com: 5 (elastic.example.com.shop.svc"),
])
def test_issue_15_in_cluster_names_walk_to_their_answer(tmp_path, capsys, name, code, tried):
    """Issue 15: an in-cluster name stops at the search entry that answers; an external one
    walks the whole list and then the literal name; the names tried are listed."""
    (tmp_path / "pod.conf").write_text(POD_CONF)
    assert main(["preflight", "--resolv", str(tmp_path / "pod.conf"), "--names", name,
                 "--cache-ttl", "0", "--dns-ms", "30"]) == code
    out = capsys.readouterr().out
    assert tried in out and "30.0 ms (given with --dns-ms)" in out
    if code:
        assert f"Use {name}. (trailing dot)" in out
    elif name == "es.search":   # its fix keeps it resolving: never "es.search."
        assert "es.search.svc.cluster.local. (trailing dot" in out and "Use es.search." not in out


def test_the_query_time_says_where_it_comes_from(tmp_path, capsys, example_copy):
    (tmp_path / "pod.conf").write_text(POD_CONF)
    main(["preflight", "--resolv", str(tmp_path / "pod.conf"), "--names", "es.search"])
    assert "2.0 ms (assumed: no dig evidence; give --dns-ms)" in capsys.readouterr().out
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
    """Issue 14: the KIAM fix (--session-refresh=20m --session-duration=60m) clears the blocker;
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


def test_measured_query_time_counts_timeouts_and_leaves_whole_lookups_out(example_copy):
    """As the DNS model: a timed-out dig costs tries x timeout; getaddrinfo lookups (search
    list included) are not the time of one query."""
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
                 if f["id"] == "dns-search-expansion"]
    assert "~3000.0 ms each (dig)" in finding["evidence"]


def test_failed_credential_fetches_leave_the_lifetime_to_the_provider_default(example_copy):
    folder = example_copy("search-api")
    for old in (folder / "k8s" / "credentials").iterdir():
        old.unlink()
    (folder / "k8s" / "credentials" / "pod.txt").write_text(
        "$ curl -X PUT http://169.254.169.254/latest/api/token -m 1\n"
        "curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received\n")
    result = preflight.preflight_folder(folder)
    assert result.lifetime_s == cred_model.served_lifetime_s("kiam")
    assert any(f["id"] == "credential-refresh-every-request" for f in result.findings)
