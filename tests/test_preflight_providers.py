"""In preflight and service.yaml: each provider's mechanism, the IMDSv2 hop
limit (`--hop-limit`, `--imds-v2`, provider_settings.hop_limit / imds_v2) and Java v2's
2.17.159-2.17.163 releases."""

import json

import pytest

from analysis import preflight
from analysis.cli import main
from analysis.errors import ConfigError
from analysis.models.credentials import POLICIES
from analysis.service import load_config


def _run(capsys, *args: str) -> tuple[int, dict]:
    code = main(["preflight", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_a_pod_on_the_nodes_imds_with_hop_limit_1_waits_java_v1s_timeouts(capsys):
    code, out = _run(capsys, "--sdk", "aws-java-sdk-v1", "--provider", "instance-profile",
                     "--hop-limit", "1", "--rate", "1")
    (hop,) = [f for f in out["findings"] if f["id"] == "imds-hop-limit"]
    # refreshed hourly (REFRESH_THRESHOLD), each refresh 2 PUTs x 5 s: 10 s / 3600 requests
    assert hop["added_ms_per_request"] == pytest.approx(10_000 / 3600, abs=0.1)
    assert "model: aws-java-sdk-v1 waits 2 x 1 x 5 s per refresh" in hop["evidence"]
    assert "--http-put-response-hop-limit 2" in hop["fix"] and code == 0
    # hop limit 2, or KIAM answering at the metadata address: no symptom
    for args in (("--provider", "instance-profile", "--hop-limit", "2"),
                 ("--provider", "kiam", "--hop-limit", "1", "--session-duration", "6h")):
        _, out = _run(capsys, "--sdk", "aws-java-sdk-v1", *args)
        assert "imds-hop-limit" not in {f["id"] for f in out["findings"]}


def test_a_hop_limit_in_a_storm_is_a_blocker(capsys):
    # short-lived credentials read from the node's IMDS: every request refreshes, each waits 1 s
    code, out = _run(capsys, "--sdk", "botocore", "--sdk-version", "1.24.0", "--provider",
                     "instance-profile", "--hop-limit", "1", "--lifetime", "15m")
    hop = {f["id"]: f for f in out["findings"]}["imds-hop-limit"]
    assert hop["severity"] == "blocker" and hop["added_ms_per_request"] == 1000 and code == 1


def test_java_v1_with_imdsv2_makes_four_calls_a_refresh(capsys):
    _, out = _run(capsys, "--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--imds-v2")
    assert "(2 metadata calls + 2 token PUTs, ~88 ms, estimated)" in out["findings"][0]["evidence"]
    _, out = _run(capsys, "--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--no-imds-v2")
    assert "(2 metadata calls, ~86 ms, estimated)" in out["findings"][0]["evidence"]


@pytest.mark.parametrize("version, flagged", [("2.17.160", True), ("2.17.164", False)])
def test_java_v2_releases_that_returned_expired_credentials_are_flagged(version, flagged,
                                                                       capsys):
    _, out = _run(capsys, "--sdk", "aws-java-sdk-v2", "--sdk-version", version,
                  "--provider", "kiam")
    found = {f["id"]: f for f in out["findings"]}
    assert ("java-v2-expired-credentials" in found) is flagged
    if flagged:
        assert "2.17.164" in found["java-v2-expired-credentials"]["fix"]


@pytest.mark.parametrize("sdk", sorted(POLICIES))
def test_pod_identitys_default_is_fine_with_every_sdk(sdk):
    result = preflight.check(sdk, "pod-identity", None, None, [])
    assert not result.blocked and result.added_ms < 1


def test_short_irsa_sessions_storm_in_botocore_and_the_fix_is_irsas(capsys):
    # 15-minute STS sessions against botocore's 15-minute advisory window: every call refreshes,
    # one STS call each (no expiry extension: that is the IMDS fetcher's alone)
    code, out = _run(capsys, "--sdk", "botocore", "--provider", "irsa", "--lifetime", "15m")
    (finding,) = out["findings"]
    assert finding["id"] == "credential-refresh-every-request" and code == 1
    assert "(1 STS call, ~20 ms, estimated)" in finding["evidence"]
    assert "DurationSeconds" in finding["fix"] and "kiam" not in finding["fix"]


def _yaml(tmp_path, settings: str):
    (tmp_path / "service.yaml").write_text(f"sdk: botocore\nprovider_settings:\n{settings}")
    return load_config(tmp_path)


def test_service_yaml_names_the_hop_limit_and_imdsv2(tmp_path):
    settings = _yaml(tmp_path, "  hop_limit: 1\n  imds_v2: true\n").provider_settings
    assert (settings.hop_limit, settings.imds_v2) == (1, True)


@pytest.mark.parametrize("settings, said", [
    ("  hop_limit: 0\n", "whole number from 1 to 64"),
    ("  hop_limit: 1.5\n", "whole number from 1 to 64"),
    ("  imds_v2: yes please\n", "line 3: provider_settings.imds_v2: expected true or false"),
])
def test_impossible_imds_settings_are_refused_with_their_line(tmp_path, settings, said):
    with pytest.raises(ConfigError, match=said):
        _yaml(tmp_path, settings)


def test_aws_calls_per_request_scales_a_storm_and_zero_clears_it(capsys, example_copy):
    """Java v1 + KIAM's 15-min credentials: every AWS call refreshes. Two calls a request pay
    two fetches (and the lock sees twice the rate); none on the request path pays nothing."""
    kiam = ("--sdk", "aws-java-sdk-v1", "--provider", "kiam", "--rate", "1")
    code, one = _run(capsys, *kiam)
    [storm] = [f for f in one["findings"] if f["id"] == "credential-refresh-every-request"]
    assert code == 1
    code, two = _run(capsys, *kiam, "--aws-calls-per-request", "2")
    [storm2] = [f for f in two["findings"] if f["id"] == "credential-refresh-every-request"]
    assert storm2["added_ms_per_request"] > 2 * storm["added_ms_per_request"] * 0.99
    assert "2 AWS calls per request" in storm2["evidence"] and code == 1
    code, none = _run(capsys, *kiam, "--aws-calls-per-request", "0")
    assert code == 0 and [f["id"] for f in none["findings"]] == ["credential-refresh-off-path"]
    # folder mode reads it from service.yaml
    folder = example_copy("search-api")
    yaml = folder / "service.yaml"
    yaml.write_text(yaml.read_text() + "aws_calls_per_request: 0\n")
    assert "credential-refresh-every-request" not in {
        f.id for f in preflight.preflight_folder(folder).findings}
    with pytest.raises(SystemExit):
        main(["preflight", *kiam, "--aws-calls-per-request", "-1"])
