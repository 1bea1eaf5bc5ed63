"""What-if overrides (`--set KEY=VALUE`): set into service.yaml's document for one run,
validated like it, named as `--set` in errors, never written to data/."""

import json

import pytest

from analysis import cli
from analysis.errors import ConfigError
from analysis.service import load_config, parse_overrides
from tests.conftest import EXAMPLES, tree_digest


def test_overrides_are_yaml_scalars_in_dotted_sections():
    assert parse_overrides(["budget.p99_ms=100", "dns.cache_ttl_s=0", "sdk=botocore",
                            "provider_settings.imds_v2=true", "dns.names=[a.example, b]",
                            "budget.p99_ms=120"]) == {
        "budget.p99_ms": 120, "dns.cache_ttl_s": 0, "sdk": "botocore",
        "provider_settings.imds_v2": True, "dns.names": ["a.example", "b"]}


@pytest.mark.parametrize("pair", ["budget", "=1", "budget..p99_ms=1", "budget={p99_ms: 1}"])
def test_a_malformed_override_is_refused(pair):
    with pytest.raises(ConfigError, match="--set"):
        parse_overrides([pair])


def test_overrides_change_only_what_they_name(example_copy):
    folder = example_copy("search-api")
    before, text = load_config(folder), (folder / "service.yaml").read_bytes()
    after = load_config(folder, parse_overrides([
        "budget.p99_ms=100", "dns.cache_ttl_s=60", "provider_settings.session_refresh=20m"]))
    assert after.budget.p99_ms == 100 and after.budget.p50_ms == before.budget.p50_ms
    assert after.dns.cache_ttl_s == 60 and after.dns.names == before.dns.names
    assert after.provider_settings.session_refresh == 1200  # a duration, as in the file
    assert after.sdk == before.sdk
    assert (folder / "service.yaml").read_bytes() == text


def test_overrides_apply_without_a_service_yaml(tmp_path):
    assert load_config(tmp_path, {"budget.p50_ms": 5}).budget.p50_ms == 5


@pytest.mark.parametrize(("pair", "message"), [
    ("no.such.key=1", r"--set no\.such\.key: unknown key"),
    ("budget.p95_ms=1", r"--set budget\.p95_ms: unknown key"),
    ("budget.p99_ms=fast", r"--set budget\.p99_ms: expected a number, got 'fast'"),
    ("sdk=aws-java-sdk-v9", r"--set sdk: unknown sdk 'aws-java-sdk-v9'"),
    ("sdk.version=1", r"--set sdk\.version: sdk is not a section"),
    ("provider_settings.session_refresh=soon", r"--set provider_settings\.session_refresh"),
])
def test_a_bad_override_is_an_error_naming_its_key(pair, message):
    with pytest.raises(ConfigError, match=message):
        load_config(EXAMPLES / "search-api", parse_overrides([pair]))


def test_an_error_in_the_file_still_names_the_file_and_line(example_copy):
    folder = example_copy("search-api")
    (folder / "service.yaml").write_text("name: search-api\nbudget:\n  p50_ms: fast\n")
    with pytest.raises(ConfigError, match=r"service\.yaml, line 3: budget\.p50_ms"):
        load_config(folder, {"budget.p99_ms": 100})


def _verdict(capsys, *args):
    code = cli.main(["verdict", "search-api", "--data-dir", str(EXAMPLES), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_larger_budget_makes_search_api_ready_and_is_recorded(capsys):
    before = tree_digest(EXAMPLES / "search-api")
    code, out, _ = _verdict(capsys, "--json", "--set", "budget.p50_ms=1000",
                            "--set", "budget.p99_ms=5000")
    summary = json.loads(out)
    assert code == cli.EXIT_READY and summary["verdict"]["ready"]
    assert summary["what_if"] == {"budget.p50_ms": 1000, "budget.p99_ms": 5000}
    assert summary["verdict"]["by_quantile"]["p99"]["budget_ms"] == 5000
    assert tree_digest(EXAMPLES / "search-api") == before, "data/ is never written"


def test_an_unknown_key_stops_the_verdict(capsys):
    code, out, err = _verdict(capsys, "--set", "no.such.key=1")
    assert code == 1 and not out
    assert "--set no.such.key: unknown key" in err


def test_preflight_takes_overrides_in_folder_mode(capsys):
    folder = str(EXAMPLES / "search-api")
    cli.main(["preflight", folder, "--json"])
    plain = json.loads(capsys.readouterr().out)
    cli.main(["preflight", folder, "--json", "--set", "sdk=aws-java-sdk-v2"])
    what_if = json.loads(capsys.readouterr().out)
    assert plain["sdk"] == "aws-java-sdk-v1" and plain["what_if"] == {}
    assert what_if["sdk"] == "aws-java-sdk-v2" and what_if["what_if"] == {
        "sdk": "aws-java-sdk-v2"}
    ids = {f["id"] for f in plain["findings"]} - {f["id"] for f in what_if["findings"]}
    assert "credential-refresh-every-request" in ids  # Java v2 does not refresh every call
    assert cli.main(["preflight", "--set", "sdk=botocore"]) == 1
    assert "give the service folder" in capsys.readouterr().err
