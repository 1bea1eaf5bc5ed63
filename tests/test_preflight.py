import pytest

from analysis import preflight
from analysis.cli import main
from analysis.ingest.resolv import parse_resolv_conf
from analysis.models.credentials import POLICIES
from tests.conftest import EXAMPLES, FIXTURES


def test_kiam_15_minutes_with_java_v1_is_a_blocker():
    result = preflight.run("aws-java-sdk-v1", "kiam", None, None, [])
    assert result.lifetime_s == 900 and result.blocked
    finding = result.findings[0]
    assert finding["id"] == "credential-refresh-every-request"
    assert finding["added_ms_per_request"] == pytest.approx(86.0)
    assert "--session-refresh" in finding["fix"]


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
    assert "tries 5 names" in finding["evidence"]
    assert finding["added_ms_per_request"] == pytest.approx(5 * preflight.DEFAULT_QUERY_MS)


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


def test_failed_credential_fetches_leave_the_lifetime_to_the_provider_default(example_copy):
    folder = example_copy("search-api")
    for old in (folder / "k8s" / "credentials").iterdir():
        old.unlink()
    (folder / "k8s" / "credentials" / "pod.txt").write_text(
        "$ curl -X PUT http://169.254.169.254/latest/api/token -m 1\n"
        "curl: (28) Operation timed out after 1000 milliseconds with 0 bytes received\n")
    result = preflight.preflight_folder(folder)
    assert result.lifetime_s == preflight.DEFAULT_LIFETIME_S["kiam"]
    assert any(f["id"] == "credential-refresh-every-request" for f in result.findings)
